"""trustee's ``az-snp-vtpm`` / ``az-tdx-vtpm`` through the trustee adapter, on trustee's own
Azure evidence (../shared/vectors/azure): ``evaluate`` gives trustee's claims key for key,
value for value and JSON type for type (the keys of trustee's ``parse_tee_evidence_az`` /
``extend_claim`` and, for TDX, the flattened TDX and DCAP supplemental claims), the values the
manifest's peer tests assert, and trustee's default CPU policy runs unchanged on them.

The SNP side needs the ASK/ARK of ../amd/trustee-azure-milan-v3-vcek-a; the TD quote side the
DCAP collateral of ../intel/tdx-v4-trustee-azure, whose TCB is OutOfDate at the vectors' time
(trustee returns it as the ``tcb_status`` claim: ``trustee_semantics=True``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import warnings
from typing import Any

import pytest

import cocoverify
from cocoverify import (
    Collateral,
    ConfigurationError,
    PolicyRejected,
    Reason,
    UnsupportedEvidence,
    ear,
    kbs,
    load_collateral,
    rego,
    trustee,
)
from cocoverify.result import VerificationResult
from integrations._fixtures import P256

from _shared import require_shared, shared_manifest

pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")

_MANIFEST = shared_manifest("azure")
_CASES = {c["id"]: c for c in (_MANIFEST or {}).get("cases", [])}
_FULL = [i for i, c in _CASES.items() if c["kind"] in ("az-snp-vtpm", "az-tdx-vtpm")] or ["none"]
_INTEL_FILES = (
    "intel_root_ca_crl.der",
    "pck_crl_issuer_chain.pem",
    "tcb_info_issuer_chain.pem",
    "qe_identity_issuer_chain.pem",
    "tcb_info.json",
    "identity.json",
    "pck_crl.der",
)

#: trustee az_snp_vtpm ``parse_tee_evidence_az`` + ``extend_claim`` (shared docs azure.md §5)
AZ_SNP_KEYS = {
    "policy_abi_major", "policy_abi_minor", "policy_smt_allowed", "policy_migrate_ma",
    "policy_debug_allowed", "policy_single_socket", "reported_tcb_bootloader",
    "reported_tcb_tee", "reported_tcb_snp", "reported_tcb_microcode", "platform_tsme_enabled",
    "platform_smt_enabled", "measurement", "report_data", "init_data", "tpm",
}  # fmt: skip
_DECIMAL = ("policy_abi_major", "policy_abi_minor", "reported_tcb_bootloader",
            "reported_tcb_tee", "reported_tcb_snp", "reported_tcb_microcode")  # fmt: skip
_FLAGS = ("policy_smt_allowed", "policy_migrate_ma", "policy_debug_allowed",
          "policy_single_socket", "platform_tsme_enabled", "platform_smt_enabled")  # fmt: skip
POLICY = "as_ear_default_policy_cpu.rego"
RESOURCE = "default/key/1"


def _case(case_id: str) -> tuple[str, dict[str, Any], Collateral]:
    if case_id == "none":
        pytest.skip("real vectors not available: ../shared/vectors/azure is absent")
    base = require_shared("azure")
    case = _CASES[case_id]
    vectors = base.parent
    if case["kind"] == "az-snp-vtpm":
        amd = vectors / "amd" / "trustee-azure-milan-v3-vcek-a"
        files = [amd / "ask.pem", amd / "ark.pem"]
    else:
        intel = vectors / "intel" / "tdx-v4-trustee-azure"
        files = [intel / f for f in _INTEL_FILES] + [vectors / "intel" / "IntelSGXRootCA.der"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coll = load_collateral(files)
    text = (base / case_id / case["files"]["evidence"]).read_text()
    return text, case, coll


def _nonce(case: dict[str, Any]) -> bytes:
    return bytes.fromhex(case["inputs"]["expected_report_data_hex"])


def _evaluate(case_id: str, **kw: Any) -> tuple[dict[str, Any], str]:
    text, case, coll = _case(case_id)
    kw.setdefault("trustee_semantics", True)
    [(claims, tee_class)] = trustee.evaluate(
        case["kind"], text, _nonce(case), None, collateral=coll, at=case["at"], **kw
    )
    return claims, tee_class


def _result(case_id: str) -> tuple[VerificationResult, dict[str, Any]]:
    text, case, coll = _case(case_id)
    result = trustee.verify_evidence(
        case["kind"], text, _nonce(case), collateral=coll, at=case["at"], trustee_semantics=True
    )
    return result, case


@pytest.mark.parametrize("case_id", _FULL)
def test_evaluate_gives_the_claims_trustee_asserts(case_id: str) -> None:
    claims, tee_class = _evaluate(case_id)
    case = _CASES[case_id]
    assert tee_class == "cpu"
    assert json.loads(json.dumps(claims)) == claims  # plain JSON types, nothing else
    for key, want in case["expected"]["peer_claims_asserted"].items():
        got: Any = claims
        for part in key.split("."):
            got = got[part]
        assert got == want, key
    own = case["expected"]["own_checks"]
    assert claims["init_data"] == own["pcr08"]  # hex of PCR8, overwriting the hardware's
    assert claims["tpm"] == {f"pcr{i:02d}": claims["tpm"][f"pcr{i:02d}"] for i in range(24)}
    assert all(isinstance(v, str) and len(v) == 64 for v in claims["tpm"].values())


@pytest.mark.parametrize("case_id", [i for i in _FULL if i.startswith("trustee-az-snp")])
def test_az_snp_claims_are_trustees_strings(case_id: str) -> None:
    claims, _ = _evaluate(case_id)
    assert set(claims) == AZ_SNP_KEYS
    for key in _DECIMAL:
        assert isinstance(claims[key], str) and claims[key].isdigit(), key
    for key in _FLAGS:
        assert claims[key] in ("true", "false"), key
    result, _ = _result(case_id)
    hw = result.claims["hardware"]["claims"]
    # value for value: trustee's to_string() of the SNP fields, base64 of MEASUREMENT
    assert claims["measurement"] == base64.b64encode(hw["measurement"]).decode()
    assert claims["reported_tcb_microcode"] == str(hw["reported_tcb"]["microcode"])
    assert claims["policy_smt_allowed"] == ("true" if hw["policy"]["smt"] else "false")
    # the Azure wrapper's own trustee keys (a second builder) agree value for value
    assert {k: v for k, v in claims.items() if k != "tpm"} == {
        k: result.claims[k] for k in AZ_SNP_KEYS - {"tpm"}
    }
    assert claims["tpm"] == dict(result.claims["tpm"])
    assert claims == trustee.claims_for(result)


@pytest.mark.parametrize("case_id", [i for i in _FULL if i.startswith("trustee-az-tdx")])
def test_az_tdx_claims_are_the_flattened_tdx_claims(case_id: str) -> None:
    claims, _ = _evaluate(case_id)
    _, case, coll = _case(case_id)
    intel = require_shared("intel") / "tdx-v4-trustee-azure"
    quote = (intel / "td-quote.bin").read_bytes()
    # the same TD quote through trustee's tdx verifier: every key but extend_claim's
    [(tdx, _)] = trustee.evaluate(
        "tdx", {"quote": base64.b64encode(quote).decode()}, None, None,
        collateral=coll, at=case["at"], trustee_semantics=True,
    )  # fmt: skip
    tpm_keys = {"tpm", "report_data", "init_data"}
    assert {k: v for k, v in claims.items() if k not in tpm_keys} == {
        k: v for k, v in tdx.items() if k not in tpm_keys
    }
    assert "uefi_event_logs" not in claims
    # trustee_interface.md §4 tdx keys, and the supplemental claims evaluate adds
    assert set(claims["quote"]) == {"header", "body"}  # a v4 quote: no type/size
    assert set(claims["quote"]["header"]) == {
        "version", "att_key_type", "tee_type", "reserved", "vendor_id", "user_data"
    }  # fmt: skip
    assert set(claims["td_attributes"]) == {
        "debug", "septve_disable", "protection_keys", "key_locker", "perfmon"
    }  # fmt: skip
    for key in ("tcb_status", "advisory_ids", "collateral_expiration_status", "tcb_date",
                "root_key_id", "pck_crl_num", "root_ca_crl_num", "earliest_issue_date",
                "latest_issue_date", "earliest_expiration_date", "tcb_eval_num",
                "platform_provider_id", "sgx_type", "tcb_status_current"):  # fmt: skip
        assert key in claims, key
    assert claims["tcb_status"] == "OutOfDate"
    assert (
        claims["quote"]["body"]["report_data"]
        == (case["expected"]["own_checks"]["td_quote_report_data"])
    )
    assert claims["report_data"] == case["inputs"]["expected_report_data_hex"]
    # claims_for on the result: the same claims without the collateral-item ones
    result, _ = _result(case_id)
    base = trustee.claims_for(result)
    assert base == {k: v for k, v in claims.items() if k in base}
    assert set(claims) - set(base) == {
        "root_key_id", "pck_crl_num", "root_ca_crl_num", "earliest_issue_date",
        "latest_issue_date", "earliest_expiration_date",
    }  # fmt: skip


@pytest.mark.parametrize("case_id", ["trustee-az-snp-vtpm-v2", "trustee-az-tdx-vtpm-v1"])
def test_az_bindings_as_trustee(case_id: str) -> None:
    text, case, coll = _case(case_id)
    tee = case["kind"]
    nonce = _nonce(case)
    kw: dict[str, Any] = {"collateral": coll, "at": case["at"], "trustee_semantics": True}
    with pytest.raises(ConfigurationError):  # "unexpected empty report data"
        trustee.evaluate(tee, text, None, None, **kw)
    with pytest.raises(PolicyRejected) as exc:  # trustee compares the nonce exactly
        trustee.evaluate(tee, text, nonce + b"\0", None, **kw)
    assert exc.value.reason is Reason.REPORT_DATA_MISMATCH
    with pytest.raises(PolicyRejected) as exc:
        trustee.evaluate(tee, text, nonce[::-1], None, **kw)
    assert exc.value.reason is Reason.REPORT_DATA_MISMATCH
    # init data: PCR8 must be SHA-256(0^32 || h); these VMs' PCR8 is zero
    with pytest.raises(PolicyRejected) as exc:
        trustee.evaluate(tee, text, nonce, bytes(32), **kw)
    assert exc.value.reason is Reason.INIT_DATA_MISMATCH
    other = "az-tdx-vtpm" if tee == "az-snp-vtpm" else "az-snp-vtpm"
    with pytest.raises(UnsupportedEvidence):
        trustee.evaluate(other, text, nonce, None, **kw)
    with pytest.raises(cocoverify.CocoverifyError):
        trustee.evaluate("snp", text, nonce, None, **kw)


def test_az_init_data_refusal_is_the_pcr8_rule_alone() -> None:
    # trustee test_verify_init_data: h = 8505e4e2...7781 gives PCR8 bddaccb9...dfdd; no
    # vector has that PCR8, so the check is shown on the policy rule the adapter sets
    result, case = _result("trustee-az-snp-vtpm-v2")
    text, _, coll = _case("trustee-az-snp-vtpm-v2")
    pcr8 = result.claims["azure"]["pcrs"]["8"]
    h = bytes(32)
    assert hashlib.sha256(bytes(32) + h).digest() != pcr8
    with pytest.raises(PolicyRejected) as exc:
        trustee.verify_evidence("az-snp-vtpm", text, _nonce(case), h, collateral=coll,
                                at=case["at"])  # fmt: skip
    failed = exc.value.result.failed_rules() if exc.value.result else []
    assert [v.rule for v in failed] == ["init_data"]


# --- trustee's default CPU policy, unchanged, on these claims ----------------------------------


def _policy(name: str) -> str:
    return (require_shared("trustee-policies") / name).read_text()


def _appraise(
    result: VerificationResult, rv: dict[str, Any], claims: dict[str, Any] | None = None
) -> tuple[rego.RegoDecision, dict[str, Any]]:
    pytest.importorskip("regopy", reason="the optional Rego engine (cocoverify[rego]) is absent")
    decision = rego.evaluate_policy(result, _policy(POLICY), reference_values=rv, claims=claims)
    claims_ear = ear.to_ear(result, decision=decision, profile=ear.TRUSTEE_PROFILE)
    token = ear.sign_ear(claims_ear, P256)
    return decision, ear.verify_ear(token, P256.public_key(), at=result.verified_at)


def _kbs(ear_claims: dict[str, Any]) -> bool:
    return kbs.resource_allowed(ear_claims, _policy("kbs_affirming.rego"), RESOURCE)


def _az_snp_reference_values(c: dict[str, Any]) -> dict[str, Any]:
    """Every id the policy's az-snp-vtpm rules query, with the evidence's own values."""
    return {
        "measurement": [c["measurement"]],
        "snp_pcr11": [c["tpm"]["pcr11"]],
        "tcb_bootloader": [c["reported_tcb_bootloader"]],
        "tcb_microcode": [c["reported_tcb_microcode"]],
        "tcb_snp": [c["reported_tcb_snp"]],
        "tcb_tee": [c["reported_tcb_tee"]],
        "smt_enabled": [c["platform_smt_enabled"]],
        "tsme_enabled": [c["platform_tsme_enabled"]],
        "abi_major": [c["policy_abi_major"]],
        "abi_minor": [c["policy_abi_minor"]],
        "single_socket": [c["policy_single_socket"]],
        "smt_allowed": [c["policy_smt_allowed"]],
    }


def _az_tdx_reference_values(c: dict[str, Any]) -> dict[str, Any]:
    body = c["quote"]["body"]
    return {"tdx_pcr11": [c["tpm"]["pcr11"]], "mr_td": [body["mr_td"]], "xfam": [body["xfam"]]}


def _vector(decision: rego.RegoDecision) -> tuple[int, int, int]:
    tv = decision.trust_vector
    assert tv is not None
    return tv["executables"], tv["hardware"], tv["configuration"]


@pytest.mark.parametrize("case_id", [i for i in _FULL if i.startswith("trustee-az-snp")])
def test_default_cpu_policy_az_snp(case_id: str) -> None:
    result, _ = _result(case_id)
    rv = _az_snp_reference_values(trustee.claims_for(result))
    decision, ear_claims = _appraise(result, rv)
    assert _vector(decision) == (3, 2, 2)
    assert decision.status == "affirming" and decision.allowed
    assert ear_claims["submods"]["cpu0"]["ear.status"] == "affirming" and _kbs(ear_claims)
    assert set(ear_claims["submods"]["cpu0"]["ear.veraison.annotated-evidence"]) == {
        "az-snp-vtpm", "report_data", "init_data", "runtime_data_claims", "init_data_claims"
    }  # fmt: skip
    # one wrong value each: the measurement (executables), a TCB (hardware), a flag (config)
    for key, want in (("measurement", (33, 2, 2)), ("tcb_snp", (3, 97, 2)),
                      ("smt_allowed", (3, 2, 36))):  # fmt: skip
        wrong = {**rv, key: ["0"]}
        decision, ear_claims = _appraise(result, wrong)
        assert _vector(decision) == want, key
        assert decision.status != "affirming" and not _kbs(ear_claims)
    # trustee's strings: an integer reference value never matches "24"
    decision, _ = _appraise(result, {**rv, "tcb_snp": [int(rv["tcb_snp"][0])]})
    assert _vector(decision)[1] == 97


@pytest.mark.parametrize("case_id", [i for i in _FULL if i.startswith("trustee-az-tdx")])
def test_default_cpu_policy_az_tdx(case_id: str) -> None:
    result, _ = _result(case_id)
    claims, _ = _evaluate(case_id)
    rv = _az_tdx_reference_values(claims)
    decision, ear_claims = _appraise(result, rv, claims)
    # the TD quote's TCB is OutOfDate: the hardware rule needs UpToDate, as trustee's would
    assert _vector(decision) == (3, 97, 2)
    assert decision.status == "contraindicated" and not _kbs(ear_claims)
    # every other condition of that rule holds (tee_type, vendor_id, mr_td): with the status
    # claim alone changed it is met
    up = {**claims, "tcb_status": "UpToDate"}
    decision, ear_claims = _appraise(result, rv, up)
    assert _vector(decision) == (3, 2, 2)
    assert decision.status == "affirming" and _kbs(ear_claims)
    decision, ear_claims = _appraise(result, {**rv, "mr_td": ["00" * 48]}, up)
    assert _vector(decision) == (3, 97, 2) and not _kbs(ear_claims)
    decision, _ = _appraise(result, {**rv, "tdx_pcr11": ["11" * 32]}, up)  # PCR11 is zero
    assert _vector(decision) == (33, 2, 2)
