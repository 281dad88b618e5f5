"""The trustee adapter's acceptance: trustee's hard checks, the bindings, and the drop-in mode
(``trustee_semantics=True``): which rules are returned as claims, which always reject.
"""

from __future__ import annotations

from typing import Any

import pytest

import cocoverify
from cocoverify import (
    ConfigurationError,
    Policy,
    PolicyRejected,
    Reason,
    TcbRejected,
    UnsupportedEvidence,
    trustee,
)
from cocoverify_testing.intel import SGX_PLATFORM_TCB, QuoteBuilder
from cocoverify_testing.snp import SnpReportBuilder
from integrations._fixtures import (
    AMD_PKI,
    INTEL_PKI,
    INTEL_TRUST,
    NOW,
    VECTOR_TIME,
    cca_token,
    evidence_quote,
    intel_collateral,
    real_intel_case,
    snp_cert_chain,
)

# --- trustee's hard checks and the arguments --------------------------------------------------


def test_tee_must_match_the_evidence() -> None:
    sgx = QuoteBuilder.sgx().sign(INTEL_PKI)
    with pytest.raises(UnsupportedEvidence) as ei:
        trustee.evaluate(
            "tdx",
            evidence_quote(sgx),
            None,
            None,
            collateral=intel_collateral("sgx"),
            trust=INTEL_TRUST,
            at=NOW,
        )
    assert ei.value.reason is Reason.UNSUPPORTED_TEE_TYPE
    with pytest.raises(UnsupportedEvidence) as ei:
        trustee.evaluate("az-snp-vtpm", {}, None, None)
    assert ei.value.reason is Reason.UNSUPPORTED_TEE_TYPE


@pytest.mark.parametrize("semantics", [False, True])
def test_snp_vmpl_must_be_zero(semantics: bool) -> None:
    report = SnpReportBuilder.for_product("Milan").set(vmpl=1).sign(AMD_PKI)
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate(
            "snp",
            {"attestation_report": list(report), "cert_chain": snp_cert_chain(report)},
            None,
            None,
            trust=AMD_PKI.trust_store(),
            at=VECTOR_TIME,
            trustee_semantics=semantics,
        )
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
    assert cocoverify.verify(  # plain verify leaves VMPL to the policy
        report,
        collateral=cocoverify.Collateral(
            chains=((AMD_PKI.vcek_for(report), AMD_PKI.ask, AMD_PKI.ark),)
        ),
        trust=AMD_PKI.trust_store(),
        at=VECTOR_TIME,
    ).accepted


def test_cca_requires_report_data() -> None:
    token, coll = cca_token(challenge=bytes(64))
    with pytest.raises(ConfigurationError) as ei:
        trustee.evaluate("cca", {"token": list(token)}, None, None, collateral=coll)
    assert ei.value.reason is Reason.INVALID_ARGUMENT


def test_pre_parsed_evidence_must_be_for_the_same_tee() -> None:
    parsed = trustee.parse_evidence("cca", {"token": [0xD9]})
    with pytest.raises(ConfigurationError) as ei:
        trustee.verify_evidence("tdx", parsed)
    assert ei.value.reason is Reason.INVALID_ARGUMENT


def test_expected_values_must_be_bytes() -> None:
    token, coll = cca_token(challenge=bytes(64))
    with pytest.raises(ConfigurationError) as ei:
        trustee.evaluate("cca", {"token": list(token)}, "00" * 64, None, collateral=coll)  # type: ignore[arg-type]
    assert ei.value.reason is Reason.INVALID_ARGUMENT


# --- default mode and drop-in mode on real quotes ---------------------------------------------


def test_trustee_golden_quote_is_debug_so_default_mode_rejects() -> None:
    case, quote, coll = real_intel_case("tdx-v4-trustee-q4")
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate(
            "tdx", evidence_quote(quote), None, None, collateral=coll, at=case["verify_at"]
        )
    assert ei.value.reason is Reason.DEBUG_ENABLED


def test_drop_in_mode_keeps_caller_pins_and_terminal_checks() -> None:
    case, quote, coll = real_intel_case("tdx-v4-trustee-q4")
    pinned = Policy.from_dict({"tdx": {"mr_td": ["00" * 48]}})
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate(
            "tdx",
            evidence_quote(quote),
            None,
            None,
            collateral=coll,
            at=case["verify_at"],
            policy=pinned,
            trustee_semantics=True,
        )
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
    with pytest.raises(PolicyRejected) as ei:  # bindings are never waived
        trustee.evaluate(
            "tdx",
            evidence_quote(quote),
            b"\x01",
            None,
            collateral=coll,
            at=case["verify_at"],
            trustee_semantics=True,
        )
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


def test_tcb_not_supported_is_terminal_in_drop_in_mode() -> None:
    case, quote, coll = real_intel_case("tdx-v5-trustee-q5")
    with pytest.raises(TcbRejected) as ei:
        trustee.evaluate(
            "tdx",
            evidence_quote(quote),
            None,
            None,
            collateral=coll,
            at=case["verify_at"],
            trustee_semantics=True,
        )
    assert ei.value.reason is Reason.TCB_NOT_SUPPORTED


# --- drop-in mode with built evidence: which rules are returned, which are terminal -----------


def _sgx_with_status(status: str) -> bytes:
    pki = INTEL_PKI
    return QuoteBuilder.sgx().platform_tcb(SGX_PLATFORM_TCB[status]).sign(pki)


def test_out_of_date_is_a_claim_in_drop_in_mode_only() -> None:
    kw: dict[str, Any] = {"collateral": intel_collateral("sgx"), "trust": INTEL_TRUST, "at": NOW}
    ev = evidence_quote(_sgx_with_status("OutOfDate"))
    with pytest.raises(TcbRejected) as ei:
        trustee.evaluate("sgx", ev, None, None, **kw)
    assert ei.value.reason is Reason.TCB_STATUS_REJECTED
    [(claims, _)] = trustee.evaluate("sgx", ev, None, None, trustee_semantics=True, **kw)
    assert claims["tcb_status"] == "OutOfDate" and claims["advisory_ids"]
    result = trustee.verify_evidence("sgx", ev, trustee_semantics=True, **kw)
    waived = [v for v in result.policy if v.rule == "tcb_status"]
    assert waived and waived[0].passed and result.accepted


def test_revoked_tcb_is_terminal_in_drop_in_mode() -> None:
    kw: dict[str, Any] = {"collateral": intel_collateral("sgx"), "trust": INTEL_TRUST, "at": NOW}
    with pytest.raises(TcbRejected) as ei:
        trustee.evaluate(
            "sgx",
            evidence_quote(_sgx_with_status("Revoked")),
            None,
            None,
            trustee_semantics=True,
            **kw,
        )
    assert ei.value.reason is Reason.TCB_STATUS_REJECTED
    assert ei.value.result is not None and ei.value.result.tcb_status == "Revoked"


def test_nonzero_mr_service_td_is_returned_as_claim_in_drop_in_mode() -> None:
    svc = b"\x5a" * 48
    quote = QuoteBuilder.tdx(version=5, body_type=3).mr_service_td(svc).sign(INTEL_PKI)
    kw: dict[str, Any] = {"collateral": intel_collateral("tdx"), "trust": INTEL_TRUST, "at": NOW}
    ev = evidence_quote(quote)
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate("tdx", ev, None, None, **kw)
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
    [(claims, _)] = trustee.evaluate("tdx", ev, None, None, trustee_semantics=True, **kw)
    assert claims["quote"]["body"]["mr_servicetd"] == svc.hex()
    pinned = Policy.from_dict({"tdx": {"mr_service_td": ["00" * 48]}})
    with pytest.raises(PolicyRejected) as ei:  # a caller's own pin is not waived
        trustee.evaluate("tdx", ev, None, None, trustee_semantics=True, policy=pinned, **kw)
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH


def test_snp_migration_agent_is_a_claim_in_drop_in_mode() -> None:
    report = SnpReportBuilder.for_product("Milan").set(policy=0x30000 | 1 << 18).sign(AMD_PKI)
    ev = {"attestation_report": list(report), "cert_chain": snp_cert_chain(report)}
    kw: dict[str, Any] = {"trust": AMD_PKI.trust_store(), "at": VECTOR_TIME}
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate("snp", ev, None, None, **kw)
    assert ei.value.reason is Reason.ATTRIBUTE_REJECTED
    [(claims, _)] = trustee.evaluate("snp", ev, None, None, trustee_semantics=True, **kw)
    assert claims["policy_migrate_ma"] is True
