"""The differential oracle: dcap-qvl (the test extra) beside cocoverify on every real
(../shared/vectors/intel) and generated (vectors/intel) Intel quote, with the same collateral
and time (docs/security.md "Differential oracle").

Both sides report the TCB status (cocoverify with every status accepted, Revoked included,
so the status is compared rather than the policy); two errors agree whatever their text, and
dcap-qvl without a complete collateral set counts as an error. Every disagreement is in
KNOWN with the rule that makes cocoverify right; an entry that no longer disagrees fails too.
"""

from __future__ import annotations

import pytest

dcap_qvl = pytest.importorskip("dcap_qvl", reason="dcap-qvl (the test extra) not installed")

from oracle import peer  # noqa: E402

from _shared import SHARED_VECTORS  # noqa: E402

V2 = "TCB Info v2 (Intel PCS v3 API; shared docs/intel.md 5.1): dcap-qvl 0.7.0 reads v3 only"
#: case id -> (cocoverify, dcap-qvl, why cocoverify is right)
KNOWN: dict[str, tuple[str, str, str]] = {
    "intel/sgx-v3-automata-tcbinfo-v2": (
        "ok:SWHardeningNeeded",
        "error:Failed to decode TcbInfo",
        V2,
    ),
    "project/sgx.good.tcb_info_v2": ("ok:UpToDate", "error:Failed to decode TcbInfo", V2),
    "project/sgx.good.v5": (
        "ok:UpToDate",
        "error:SGX TEE quote must have version 3",
        "quote v5 with an SGX body (body type 1) is a valid SGX quote (shared docs/intel.md 2.2);"
        " dcap-qvl 0.7.0 takes SGX quotes in v3 only",
    ),
    "project/tdx.good.v5_td15": (
        "ok:UpToDate",
        "error:Failed to evaluate the current TDX TCB (TEE_TCB_SVN2)",
        "QVL reads TEE_TCB_SVN2 only in the TD relaunch check, which applies when the TDX module"
        " is OutOfDate (shared docs/intel.md 6.4); here it is UpToDate, dcap-qvl 0.7.0 evaluates"
        " SVN2 anyway and finds no level",
    ),
    "project/sgx.tcb.revoked": (
        "ok:Revoked",
        "error:TCB status is invalid: Revoked",
        "Revoked is a status for cocoverify (the default policy rejects it: tcb_status_rejected),"
        " an error for dcap-qvl (shared docs/intel.md 9): both refuse by default",
    ),
    "project/sgx.tcb.revoked.accepted": (
        "ok:Revoked",
        "error:TCB status is invalid: Revoked",
        "as project/sgx.tcb.revoked (this case's policy sets unsafe_accept_revoked)",
    ),
    "project/sgx.collateral.pceid_mismatch": (
        "error:collateral_mismatch",
        "ok:UpToDate",
        "the PCK leaf's PCE-ID must equal the TCB Info's pceId (QVL, shared docs/intel.md 6.1"
        " step 4); dcap-qvl 0.7.0 compares the FMSPC only",
    ),
}


def _cases() -> list[peer.OracleCase]:
    return list(peer.real_cases()) + list(peer.generated_cases())


CASES = _cases()


def _agree(ours: str, theirs: str) -> bool:
    if ours == theirs:
        return True
    refused = ("error:", "no-collateral")
    return ours.startswith(refused) and theirs.startswith(refused)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_status_as_dcap_qvl(case: peer.OracleCase) -> None:
    ours, theirs = peer.ours(case), peer.peer(case)
    if case.id in KNOWN:
        expected_ours, expected_theirs, why = KNOWN[case.id]
        assert (ours, theirs) == (expected_ours, expected_theirs), f"KNOWN entry stale: {why}"
        assert not _agree(ours, theirs)
    else:
        assert _agree(ours, theirs), f"cocoverify {ours} but dcap-qvl {theirs}"


def test_every_intel_vector_is_compared() -> None:
    ids = {c.id for c in CASES}
    real = (SHARED_VECTORS / "intel" / "MANIFEST.json").is_file()
    known = {k for k in KNOWN if real or k.startswith("project/")}
    assert known <= ids, sorted(known - ids)
    assert sum(i.startswith("project/") for i in ids) >= 90
    if (SHARED_VECTORS / "intel" / "MANIFEST.json").is_file():
        assert sum(i.startswith("intel/") for i in ids) >= 20


def test_the_peer_runs_to_a_status() -> None:
    """The oracle is not vacuous: dcap-qvl verifies most accepted quotes to the same status."""
    both_ok = [c for c in CASES if peer.peer(c).startswith("ok:") and peer.ours(c) == peer.peer(c)]
    assert len(both_ok) >= 20
