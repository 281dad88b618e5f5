"""Trustee's own policies, unchanged, on cocoverify's claims from real evidence of each TEE.

The policies and the CCA reference values are read from ../shared/vectors/trustee-policies
exactly as trustee ships them (their SHA-256 is checked against the folder's MANIFEST.json).
Every row of that MANIFEST's ``expectations`` is a test below: the attestation service's
appraisal (``rego.evaluate_policy``: trust vector and ``ear.status``) and, where the row says
so, the KBS release decision of ``kbs_affirming.rego`` on the resulting EAR.
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import ear, kbs, load_collateral, rego, trustee
from cocoverify.result import VerificationResult
from integrations._fixtures import P256, evidence_quote, real_intel_case

from _shared import require_shared, shared_manifest

pytest.importorskip("regopy", reason="the optional Rego engine (cocoverify[rego]) is absent")

CCA_AT = "2026-01-01T00:00:00Z"
RESOURCE = "default/key/1"


def _policy(name: str) -> str:
    return (require_shared("trustee-policies") / name).read_text()


def test_policies_are_trustees_as_shipped() -> None:
    base = require_shared("trustee-policies")
    manifest = shared_manifest("trustee-policies") or {}
    for name, meta in manifest["files"].items():
        assert hashlib.sha256((base / name).read_bytes()).hexdigest() == meta["sha256"], name


# --- real evidence of each TEE, through trustee's evidence forms -------------------------------


def _snp() -> tuple[VerificationResult, dict[str, Any]]:
    # trustee's own e2e evidence.json (the sev crate's serde report), its VCEK chain
    base = require_shared("amd") / "trustee-e2e-genoa-model-a0-v3-vcek"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0
        coll = load_collateral([base / "vcek.der", base / "ask.pem", base / "ark.pem"])
        result = trustee.verify_evidence(
            "snp", (base / "evidence.json").read_text(), collateral=coll, at="2025-05-28T00:00:00Z"
        )
    return result, {}


def _snp_reference_values(c: dict[str, Any]) -> dict[str, Any]:
    """The ids trustee's default CPU policy queries for SNP, with the evidence's own values."""
    return {
        "snp_launch_measurement": [c["measurement"]],
        "snp_bootloader": [c["reported_tcb_bootloader"]],
        "snp_microcode": [c["reported_tcb_microcode"]],
        "snp_snp_svn": [c["reported_tcb_snp"]],
        "snp_tee_svn": [c["reported_tcb_tee"]],
        "snp_smt_enabled": c["platform_smt_enabled"],
        "snp_tsme_enabled": c["platform_tsme_enabled"],
        "snp_guest_abi_major": c["policy_abi_major"],
        "snp_guest_abi_minor": c["policy_abi_minor"],
        "snp_single_socket": c["policy_single_socket"],
        "snp_smt_allowed": c["policy_smt_allowed"],
    }


def _tdx() -> tuple[VerificationResult, dict[str, Any]]:
    # an UpToDate, non-debug TD quote with its collateral
    case, quote, coll = real_intel_case("tdx-v4-dcapqvl-sample")
    result = trustee.verify_evidence("tdx", evidence_quote(quote), collateral=coll,
                                     at=case["verify_at"])  # fmt: skip
    return result, {"evidence": quote, "collateral": coll}


def _tdx_reference_values(c: dict[str, Any]) -> dict[str, Any]:
    body = c["quote"]["body"]
    return {k: [body[k]] for k in ("mr_td", "rtmr_1", "rtmr_2", "xfam")}


def _cca() -> tuple[VerificationResult, dict[str, Any]]:
    # trustee's CCA example token (deps/verifier/test_data/cca), bound to its own challenge
    base = require_shared("cca") / "trustee-cca-example-token"
    token = (base / "token.cbor").read_bytes()
    coll = load_collateral([base / "platform-key.pem"])
    challenge = cocoverify.verify(token, collateral=coll, at=CCA_AT).claims["realm"]["challenge"]
    result = trustee.verify_evidence(
        "cca", {"token": list(token)}, challenge, collateral=coll, at=CCA_AT
    )
    return result, {}


def _cca_reference_values(c: dict[str, Any]) -> dict[str, Any]:
    # the RVPS id trustee's endorse-rim.sh registers (deps/verifier/test_data/cca/scripts)
    return {
        "cca.realm.cca-realm-initial-measurement": [c["realm"]["cca-realm-initial-measurement"]]
    }


def _appraise(
    policy: str, result: VerificationResult, inputs: dict[str, Any], rv: dict[str, Any]
) -> tuple[rego.RegoDecision, dict[str, Any]]:
    """The AS appraisal and the EAR it issues, signed and verified as a KBS receives it."""
    decision = rego.evaluate_policy(result, _policy(policy), reference_values=rv, **inputs)
    claims = ear.to_ear(result, decision=decision, profile=ear.TRUSTEE_PROFILE, **inputs)
    token = ear.sign_ear(claims, P256)
    return decision, ear.verify_ear(token, P256.public_key(), at=result.verified_at)


def _kbs(ear_claims: dict[str, Any], policy: str = "kbs_affirming.rego") -> bool:
    return kbs.resource_allowed(ear_claims, _policy(policy), RESOURCE)


# --- one check per MANIFEST expectation --------------------------------------------------------


def _affirming_and_released(
    decision: rego.RegoDecision, ear_claims: dict[str, Any], result: VerificationResult
) -> None:
    assert decision.status == "affirming" and decision.allowed
    assert ear_claims["submods"]["cpu0"]["ear.status"] == "affirming"
    assert _kbs(ear_claims) and _kbs(ear_claims, "kbs_default.rego")


def _not_affirming_and_denied(
    decision: rego.RegoDecision, ear_claims: dict[str, Any], result: VerificationResult
) -> None:
    assert decision.status != "affirming" and not decision.allowed
    assert ear_claims["submods"]["cpu0"]["ear.status"] != "affirming"
    assert not _kbs(ear_claims)


def _executables(value: int) -> Callable[..., None]:
    def check(
        decision: rego.RegoDecision, ear_claims: dict[str, Any], result: VerificationResult
    ) -> None:
        assert decision.trust_vector is not None
        assert decision.trust_vector["executables"] == value
        assert ear_claims["submods"]["cpu0"]["ear.trustworthiness-vector"]["executables"] == value
        want = "affirming" if value == 3 else "warning"
        assert ear.tier(value) == want

    return check


def _wrong_snp(rv: dict[str, Any]) -> dict[str, Any]:
    return {**rv, "snp_launch_measurement": ["00" * 48]}


def _wrong_tdx(rv: dict[str, Any]) -> dict[str, Any]:
    return {**rv, "mr_td": ["00" * 48]}


def _wrong_cca(rv: dict[str, Any]) -> dict[str, Any]:
    return {"cca.realm.cca-realm-initial-measurement": [base64.b64encode(bytes(64)).decode()]}


def _same(rv: dict[str, Any]) -> dict[str, Any]:
    return rv


Row = tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any], Callable[..., None]]

#: (tee, reference_values text of the MANIFEST row) -> (evidence, reference values, variation,
#: the check of the row's "expected").
ROWS: dict[tuple[str, str], Row] = {
    ("snp", "the evidence's own measurement and TCB values"): (
        _snp,
        _snp_reference_values,
        _same,
        _affirming_and_released,
    ),
    ("snp", "a different snp_launch_measurement"): (
        _snp,
        _snp_reference_values,
        _wrong_snp,
        _not_affirming_and_denied,
    ),
    (
        "tdx",
        "the evidence's own mr_td, rtmr_1, rtmr_2, xfam (and event-log digests where the "
        "log is given)",
    ): (_tdx, _tdx_reference_values, _same, _affirming_and_released),
    ("tdx", "a different mr_td"): (
        _tdx,
        _tdx_reference_values,
        _wrong_tdx,
        _not_affirming_and_denied,
    ),
    (
        "cca",
        "data.reference with the token's own realm initial measurement under "
        "cca.realm.cca-realm-initial-measurement",
    ): (_cca, _cca_reference_values, _same, _executables(3)),
    ("cca", "a different realm initial measurement"): (
        _cca,
        _cca_reference_values,
        _wrong_cca,
        _executables(33),
    ),
}


def _expectations() -> list[dict[str, Any]]:
    manifest = shared_manifest("trustee-policies")
    return manifest["expectations"] if manifest else []


def test_every_manifest_row_has_a_test() -> None:
    if shared_manifest("trustee-policies") is None:
        pytest.skip("real vectors not available: ../shared/vectors/trustee-policies is absent")
    assert {(r["tee"], r["reference_values"]) for r in _expectations()} == set(ROWS)


@pytest.mark.parametrize(
    "row", _expectations(), ids=lambda r: f"{r['tee']}-{r['reference_values'][:30]}"
)
def test_manifest_expectation(row: dict[str, Any]) -> None:
    evidence, reference, vary, check = ROWS[(row["tee"], row["reference_values"])]
    result, inputs = evidence()
    rv = vary(reference(trustee.claims_for(result)))
    decision, ear_claims = _appraise(row["policy"], result, inputs, rv)
    check(decision, ear_claims, result)


# --- facts around the rows ---------------------------------------------------------------------


def test_snp_kbs_default_policy_releases_to_any_tee() -> None:
    # kbs_default.rego only keeps the sample attester out: trustee releases on a warning too
    result, inputs = _snp()
    rv = _wrong_snp(_snp_reference_values(trustee.claims_for(result)))
    decision, ear_claims = _appraise("as_ear_default_policy_cpu.rego", result, inputs, rv)
    assert decision.status == "warning"
    assert _kbs(ear_claims, "kbs_default.rego")
    assert not kbs.resource_allowed(ear_claims, _policy("kbs_default.rego"), RESOURCE,
                                    plugin="other")  # fmt: skip


def test_check_rego_follows_trustees_kbs() -> None:
    result, _ = _snp()
    rv = _snp_reference_values(trustee.claims_for(result))
    policy = _policy("as_ear_default_policy_cpu.rego")
    assert rego.check_rego(result, policy, reference_values=rv).status == "affirming"
    with pytest.raises(cocoverify.PolicyRejected):
        rego.check_rego(result, policy, reference_values=_wrong_snp(rv))


def test_tdx_input_has_every_claim_trustee_evaluate_emits() -> None:
    result, inputs = _tdx()
    [(claims, _)] = trustee.evaluate(
        "tdx", evidence_quote(inputs["evidence"]), None, None,
        collateral=inputs["collateral"], at=result.verified_at,
    )  # fmt: skip
    inp = rego.trustee_input(result, **inputs)
    expected = {k: v for k, v in claims.items() if k not in ("report_data", "init_data")}
    assert inp["tdx"] == expected
    for key in ("root_key_id", "pck_crl_num", "root_ca_crl_num", "earliest_issue_date",
                "tcb_status_current", "tcb_date_current", "advisory_ids_current"):  # fmt: skip
        assert key in inp["tdx"], key


def test_tdx_status_and_extensions_as_trustee_issues_them() -> None:
    result, inputs = _tdx()
    rv = _tdx_reference_values(trustee.claims_for(result))
    _, ear_claims = _appraise("as_ear_default_policy_cpu.rego", result, inputs, rv)
    sub = ear_claims["submods"]["cpu0"]
    # no event log given: the Grub branch (rtmr_1/rtmr_2 only), executables 4
    assert sub["ear.trustworthiness-vector"] == {
        "instance-identity": 0, "configuration": 2, "executables": 4, "file-system": 0,
        "hardware": 2, "runtime-opaque": 0, "storage-opaque": 0, "sourced-data": 0,
    }  # fmt: skip
    assert sub["ear.appraisal-policy-id"] == "default"
    assert sub["ear.trustee.identifiers"] == {"validated": {}}
    assert set(sub["ear.veraison.annotated-evidence"]) == {
        "tdx", "report_data", "init_data", "runtime_data_claims", "init_data_claims"
    }  # fmt: skip


def test_sgx_has_no_section_in_trustees_cpu_policy() -> None:
    # the default CPU policy has no SGX rules: trustee's defaults 33/97/36 stand
    case, quote, coll = real_intel_case("sgx-v3-dcapqvl-sample")
    result = trustee.verify_evidence(
        "sgx", evidence_quote(quote), collateral=coll, at=case["verify_at"],
        trustee_semantics=True,  # its TCB status is a claim, as in trustee
    )  # fmt: skip
    decision, ear_claims = _appraise(
        "as_ear_default_policy_cpu.rego", result, {"evidence": quote, "collateral": coll}, {}
    )
    assert decision.trust_vector is not None
    assert (decision.trust_vector["executables"], decision.trust_vector["hardware"],
            decision.trust_vector["configuration"]) == (33, 97, 36)  # fmt: skip
    assert decision.status == "contraindicated" and not _kbs(ear_claims)


def test_cca_policy_never_affirms_the_status() -> None:
    # trustee's CCA policy leaves configuration at 36 (warning): affirming.rego never releases
    result, inputs = _cca()
    rv = _cca_reference_values(trustee.claims_for(result))
    decision, ear_claims = _appraise("cca_default.rego", result, inputs, rv)
    assert decision.trust_vector == {
        "instance-identity": 2, "configuration": 36, "executables": 3, "hardware": 2,
        "runtime-opaque": 2,
    }  # fmt: skip
    assert decision.status == "warning" and not _kbs(ear_claims)


def test_cca_shipped_rv_store_endorses_the_token() -> None:
    # the realm initial measurement of trustee's rvstore.json is this token's
    store = json.loads((require_shared("trustee-policies") / "cca_rvstore.json").read_text())
    result, _ = _cca()
    rim = base64.b64decode(trustee.claims_for(result)["realm"]["cca-realm-initial-measurement"])
    assert bytes.fromhex(store["realm"][0]["initial-measurement"]) == rim


# --- no input makes trustee's policies end in an internal error --------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
_TEE = st.sampled_from(["snp", "tdx", "sgx", "cca", "az-snp-vtpm", "az-tdx-vtpm", "tpm", "se"])
_IDS = st.sampled_from(["snp_launch_measurement", "rtmr_1", "mr_td", "xfam", "tdvfkernel",
                        "cca.realm.cca-realm-initial-measurement", "svn"])  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["as_ear_default_policy_cpu.rego", "cca_default.rego"]),
    _TEE,
    _JSON,
    st.dictionaries(_IDS, _JSON, max_size=4),
    _JSON,
)
def test_trustee_policies_on_any_input(
    name: str, tee: str, tee_claims: Any, rv: dict[str, Any], init_claims: Any
) -> None:
    inp = {tee: tee_claims, "report_data": "00", "init_data": "00",
           "runtime_data_claims": None, "init_data_claims": init_claims}  # fmt: skip
    try:
        value = rego.evaluate_rego(_policy(name), inp, reference_values=rv)
        decision = rego.decide(value)
    except cocoverify.ConfigurationError as exc:
        assert exc.reason in (cocoverify.Reason.INVALID_POLICY, cocoverify.Reason.INVALID_ARGUMENT)
        return
    assert decision.status in ("affirming", "warning", "contraindicated", "none")
