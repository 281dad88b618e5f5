"""Every case of ../shared/vectors/intel/MANIFEST.json at its verify_at, and the peer probes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import (
    ChainInvalid,
    Collateral,
    CollateralError,
    PolicyRejected,
    Reason,
    SignatureInvalid,
    TcbRejected,
    load_collateral,
)

from _shared import require_shared, shared_manifest

MANIFEST = shared_manifest("intel")
CASES = MANIFEST["cases"] if MANIFEST else []
COLLATERAL_ROLES = (
    "tcb_info",
    "qe_identity",
    "pck_crl",
    "root_ca_crl",
    "pck_crl_issuer_chain",
    "tcb_info_issuer_chain",
    "qe_identity_issuer_chain",
    "pck_cert_chain",
)


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [c["id"] for c in cases]


def _paths(case: dict[str, Any], skip: tuple[str, ...] = ()) -> tuple[bytes, list[Path]]:
    base = require_shared("intel") / case["id"]
    files = case["files"]
    coll = [base / files[r] for r in COLLATERAL_ROLES if r in files and r not in skip]
    return (base / files["quote"]).read_bytes(), coll


def _run(case: dict[str, Any], **kw: Any) -> cocoverify.VerificationResult:
    quote, coll = _paths(case)
    kw.setdefault("at", case["verify_at"])
    kw.setdefault("collateral", load_collateral(coll))
    return cocoverify.verify(quote, **kw)


def _failed(exc: PolicyRejected) -> set[str]:
    assert exc.result is not None
    return {v.reason.value for v in exc.result.failed_rules() if v.reason is not None}


def _kind(case: dict[str, Any]) -> str:
    err = case.get("expected_error") or ""
    if case["kind"] == "synthetic":
        return "untrusted"
    if case["kind"] == "partial":
        return "no_window"
    if case.get("expected_status") is not None:
        return "status"
    for key, kind in (
        ("No matching TCB level", "not_supported"),
        ("Debug mode", "debug"),
        ("SEPT_VE_DISABLE", "sept"),
        ("MR service TD", "service_td"),
        ("Failed to decode TcbInfo", "status_crosscheck"),
    ):
        if key in err:
            return kind
    raise AssertionError(f"unclassified case {case['id']}: {err}")


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_real_case(case: dict[str, Any]) -> None:
    kind = _kind(case)
    cross = case["expected"]["qvl_rules_crosscheck"]
    if kind == "status":
        status, advisories = case["expected_status"], sorted(case["expected_advisory_ids"])
        if status == "UpToDate":
            r = _run(case)
            assert r.accepted and r.tcb_status == "UpToDate"
            assert sorted(r.advisory_ids) == advisories
        else:
            with pytest.raises(TcbRejected) as ei:
                _run(case)
            assert ei.value.reason is Reason.TCB_STATUS_REJECTED
            assert ei.value.result is not None
            assert ei.value.result.tcb_status == status
            assert sorted(ei.value.result.advisory_ids) == advisories
            # the same evidence passes a policy that accepts this status
            r = _run(case, policy=cocoverify.Policy(accepted_tcb_statuses=frozenset({status})))
            assert r.tcb_status == status
    elif kind == "status_crosscheck":
        with pytest.raises(PolicyRejected) as ei:
            _run(case)
        assert ei.value.result is not None
        assert ei.value.result.tcb_status == cross["status"]
        assert sorted(ei.value.result.advisory_ids) == sorted(cross["advisoryIDs_platform"])
    elif kind == "not_supported":
        with pytest.raises(TcbRejected) as ei:
            _run(case)
        assert ei.value.reason is Reason.TCB_NOT_SUPPORTED
        assert ei.value.result is not None and ei.value.result.tcb_status is None
    elif kind in ("debug", "sept", "service_td"):
        with pytest.raises(PolicyRejected) as ei:
            _run(case)
        want = {
            "debug": "debug_enabled",
            "sept": "attribute_rejected",
            "service_td": "measurement_mismatch",
        }[kind]
        assert want in _failed(ei.value)
        assert ei.value.result is not None
        assert ei.value.result.tcb_status == cross["status"]
        assert ei.value.result.claims  # authenticated: claims present
    elif kind == "untrusted":
        with pytest.raises(ChainInvalid) as ei:
            _run(case)
        assert ei.value.reason is Reason.UNTRUSTED_ROOT
    elif kind == "no_window":
        with pytest.raises(CollateralError):
            _run(case)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_real_claims(case: dict[str, Any]) -> None:
    """Claims equal the manifest's measurements (even where the policy rejects)."""
    if case["kind"] in ("synthetic", "partial"):
        pytest.skip("not authentic / no validity window: no verified claims")
    try:
        claims = _run(case).claims
    except PolicyRejected as exc:
        assert exc.result is not None
        claims = exc.result.claims
    meas = case["measurements"]
    rep = meas["report"]
    checked = 0
    for key, want in rep.items():
        name = key.replace("rt_mr", "rtmr")
        if name not in claims:
            continue
        got = claims[name]
        assert (got.hex() if isinstance(got, bytes) else got) == want, name
        checked += 1
    assert checked >= 4
    pck = meas["pck"]
    assert claims["pck"]["fmspc"].hex().upper() == pck["fmspc"]
    assert claims["pck"]["ca"] == pck["ca"]
    assert claims["pck"]["pce_svn"] == pck["pce_svn"]
    assert claims["pck"]["ppid"].hex() == pck["ppid"]
    assert claims["quote_version"] == meas["header"]["version"]


PROBE_CASES = [c for c in CASES if c["expected"].get("peer_negative")]


def _shift(case: dict[str, Any], key: str, days: int) -> dt.datetime:
    t = dt.datetime.fromisoformat(case["validity_window"][key].replace("Z", "+00:00"))
    return t + dt.timedelta(days=days)


@pytest.mark.parametrize("case", PROBE_CASES, ids=_ids(PROBE_CASES))
def test_probe_after_window(case: dict[str, Any]) -> None:
    if case["kind"] == "synthetic":
        with pytest.raises(ChainInvalid):
            _run(case, at=_shift(case, "valid_until", 1))
        return
    with pytest.raises(CollateralError) as ei:
        _run(case, at=_shift(case, "valid_until", 1))
    assert ei.value.reason in (Reason.COLLATERAL_EXPIRED, Reason.CRL_EXPIRED)


@pytest.mark.parametrize("case", PROBE_CASES, ids=_ids(PROBE_CASES))
def test_probe_before_window(case: dict[str, Any]) -> None:
    if case["kind"] == "synthetic":
        with pytest.raises(ChainInvalid):
            _run(case, at=_shift(case, "valid_from", -1))
        return
    with pytest.raises(CollateralError) as ei:
        _run(case, at=_shift(case, "valid_from", -1))
    assert ei.value.reason in (Reason.COLLATERAL_NOT_YET_VALID, Reason.CRL_NOT_YET_VALID)


@pytest.mark.parametrize("case", PROBE_CASES, ids=_ids(PROBE_CASES))
def test_probe_flipped_report_data(case: dict[str, Any]) -> None:
    quote, coll = _paths(case)
    key = next(k for k in case["expected"]["peer_negative"] if k.startswith("flip_bit0_of_byte_"))
    offset = int(key.removeprefix("flip_bit0_of_byte_").split("(")[0])
    mutated = bytearray(quote)
    mutated[offset] ^= 1
    with pytest.raises((SignatureInvalid, ChainInvalid)) as ei:
        cocoverify.verify(bytes(mutated), collateral=load_collateral(coll), at=case["verify_at"])
    if case["kind"] != "synthetic":
        assert ei.value.reason is Reason.SIGNATURE_INVALID


@pytest.mark.parametrize("case", PROBE_CASES, ids=_ids(PROBE_CASES))
def test_probe_tcb_info_with_added_space(case: dict[str, Any]) -> None:
    if case["kind"] == "synthetic":
        pytest.skip("untrusted root is reported first")
    quote, coll = _paths(case, skip=("tcb_info",))
    raw = (require_shared("intel") / case["id"] / case["files"]["tcb_info"]).read_bytes()
    i = raw.index(b'"tcbInfo":{') + len(b'"tcbInfo":{')
    spaced = raw[:i] + b" " + raw[i:]
    collateral = load_collateral(coll) + Collateral(tcb_infos=(spaced,))
    with pytest.raises(CollateralError) as ei:
        cocoverify.verify(quote, collateral=collateral, at=case["verify_at"])
    assert ei.value.reason is Reason.COLLATERAL_SIGNATURE_INVALID


SYNTHETIC = [c for c in CASES if c["kind"] == "synthetic"]


@pytest.mark.parametrize("case", SYNTHETIC, ids=_ids(SYNTHETIC))
def test_synthetic_with_its_test_root_pinned(case: dict[str, Any]) -> None:
    """Trusting the QVL sample's own test root, the rest of the pipeline runs as QVL's."""
    from cryptography import x509

    root = x509.load_der_x509_certificate(
        (require_shared("intel") / case["id"] / case["files"]["root_ca"]).read_bytes()
    )
    trust = cocoverify.TrustStore.from_certificates(intel=[root])
    cross = case["expected"]["qvl_rules_crosscheck"]["status"]
    if cross == "UpToDate":
        assert _run(case, trust=trust).tcb_status == "UpToDate"
    else:
        assert "QE_IDENTITY_MISMATCH" in cross
        with pytest.raises(cocoverify.AuthenticityError) as ei:
            _run(case, trust=trust)
        assert ei.value.reason is Reason.QE_IDENTITY_MISMATCH
