"""Trustee's ``Verifier::evaluate`` over :func:`cocoverify.verify`: bindings and acceptance.

Two acceptance modes (docs/trustee.md "Acceptance"):

* default -- cocoverify's whole policy applies (fail closed: ``UpToDate`` only, debug
  rejected, SEPT_VE_DISABLE required, ...), plus trustee's own hard checks (SNP VMPL 0, CCA
  report data required).
* ``trustee_semantics=True`` -- the drop-in mode: like trustee, the non-terminal TCB statuses,
  the debug bit, SEPT_VE_DISABLE, a non-zero MRSERVICETD and the SNP MIGRATE_MA bit are
  *returned as claims* for the caller's Rego to judge instead of rejected. Bad signatures,
  chains, revocation, collateral, a TCB level that does not match, Revoked, the bindings and
  any measurement the caller's policy pins still reject.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Mapping
from typing import Any

from cocoverify.api import error_for, verify
from cocoverify.collateral import Collateral
from cocoverify.errors import ConfigurationError, PolicyRejected, Reason, UnsupportedEvidence
from cocoverify.hazmat import detect, parse_quote
from cocoverify.integrations.trustee.claims import claims_for, intel_supplemental
from cocoverify.integrations.trustee.eventlog import parse_ccel
from cocoverify.integrations.trustee.evidence import TrusteeEvidence, parse_evidence
from cocoverify.policy import Policy
from cocoverify.result import RuleVerdict, VerificationResult
from cocoverify.trust import TrustStore
from cocoverify.wrappers.azure.parse import detect as azure_kind
from cocoverify.wrappers.azure.parse import parse_evidence as parse_azure

__all__ = ["INIT_DATA_FIELD", "evaluate", "verify_evidence"]

#: Size of the field each TEE's init-data hash is compared with (trustee ``regularize_data``).
#: For az-*-vtpm the hash h is checked as PCR8 == SHA-256(0^32 || h) (az_snp_vtpm/mod.rs).
INIT_DATA_FIELD = {
    "tdx": 48, "sgx": 64, "snp": 32, "cca": 64, "az-snp-vtpm": 32, "az-tdx-vtpm": 32,
}  # fmt: skip

#: The registry's name for evidence a trustee tee string names differently.
_SPEC_TEE = {"ibmse": "se"}

#: Rules trustee leaves to the caller's Rego (waived with ``trustee_semantics=True``).
_WAIVABLE = ("tcb_status", "debug", "sept_ve_disable", "mr_service_td", "migrate_ma")
_TERMINAL_STATUSES = frozenset({"Revoked"})


def _check_kind(tee: str, data: bytes) -> None:
    """The bytes must be evidence of the TEE the caller named (trustee rejects SGX as tdx)."""
    kind = detect(data).name
    if tee in ("tdx", "sgx"):
        actual = parse_quote(data).tee if kind == "intel" else kind
    elif kind == "azure":
        actual = azure_kind(data) or kind  # the one spec serves both az-* kinds
    else:
        actual = _SPEC_TEE.get(kind, kind)
    if actual != tee:
        raise UnsupportedEvidence(
            f"evidence for tee {tee!r} is {actual} evidence", reason=Reason.UNSUPPORTED_TEE_TYPE
        )


def _reject(result: VerificationResult, verdict: RuleVerdict) -> PolicyRejected:
    """``result`` with one more failed rule, as the error ``verify()`` would have raised."""
    assert verdict.reason is not None
    rejected = dataclasses.replace(
        result, accepted=False, reason=verdict.reason, policy=(*result.policy, verdict)
    )
    return error_for(rejected)


def _waivable(v: RuleVerdict, result: VerificationResult, policy: Policy) -> bool:
    if v.rule == "tcb_status":
        return (
            v.reason is Reason.TCB_STATUS_REJECTED and result.tcb_status not in _TERMINAL_STATUSES
        )
    if v.rule == "mr_service_td":
        return policy.tdx.mr_service_td is None  # the default all-zero rule, not a caller pin
    return v.rule in _WAIVABLE


def _returned_as_claims(exc: PolicyRejected, policy: Policy) -> VerificationResult:
    """The drop-in mode: the rejected result with the waivable rules passed as claims.

    Raises ``exc`` again when nothing it failed on is waivable, and the error ``verify()``
    raises for the rules that remain when some are not.
    """
    res = exc.result
    if res is None:
        raise exc
    failed = res.failed_rules()
    waived = [v.rule for v in failed if _waivable(v, res, policy)]
    if not waived:
        raise exc
    verdicts = tuple(
        dataclasses.replace(v, passed=True, message=f"returned as a claim: {v.message}")
        if not v.passed and _waivable(v, res, policy)
        else v
        for v in res.policy
    )
    remaining = [v for v in verdicts if not v.passed]
    result = dataclasses.replace(
        res,
        accepted=not remaining,
        reason=(remaining[0].reason or Reason.POLICY_REJECTED) if remaining else None,
        policy=verdicts,
        warnings=(*res.warnings, f"trustee_semantics: returned as claims, not rejected: {waived}"),
    )
    if remaining:
        raise error_for(result) from None
    return result


def verify_evidence(
    tee: str,
    evidence: Mapping[str, Any] | bytes | str | TrusteeEvidence,
    expected_report_data: bytes | None = None,
    expected_init_data_hash: bytes | None = None,
    *,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
    policy: Policy | None = None,
    at: _dt.datetime | str | None = None,
    trustee_semantics: bool = False,
) -> VerificationResult:
    """Verify trustee-shaped evidence; the accepted :class:`VerificationResult` or an error.

    Bindings (docs/trustee.md "Binding rules"): report data is zero-padded to the field and a
    longer value rejected; the init-data hash is zero-padded or, like trustee, truncated to
    the field (MRCONFIGID 48, CONFIGID 64, HOST_DATA 32 bytes), except for CCA where it must
    equal the realm personalization value exactly. CCA requires report data. Azure vTPM
    (az-*) requires report data equal to the TPM quote nonce exactly and checks the init-data
    hash on PCR8; ``se`` and ``nvidia`` refuse an init-data hash (no field binds it).
    """
    ev = evidence if isinstance(evidence, TrusteeEvidence) else parse_evidence(tee, evidence)
    if ev.tee != tee:
        raise ConfigurationError("evidence parsed for another tee", reason=Reason.INVALID_ARGUMENT)
    _check_kind(tee, ev.data)
    for name, value in (
        ("expected_report_data", expected_report_data),
        ("expected_init_data_hash", expected_init_data_hash),
    ):
        if value is not None and not isinstance(value, bytes):
            raise ConfigurationError(f"{name}: expected bytes", reason=Reason.INVALID_ARGUMENT)
    if tee == "cca" and expected_report_data is None:
        # trustee cca/mod.rs: "CCA verifier must provide report data field!"
        raise ConfigurationError(
            "cca: expected report data (the realm challenge) is required",
            reason=Reason.INVALID_ARGUMENT,
        )
    if tee.startswith("az-") and expected_report_data is None:
        # az_snp_vtpm/mod.rs, az_tdx_vtpm/mod.rs: "unexpected empty report data"
        raise ConfigurationError(
            f"{tee}: expected report data (the TPM quote nonce) is required",
            reason=Reason.INVALID_ARGUMENT,
        )
    if expected_init_data_hash is not None and tee not in INIT_DATA_FIELD:
        # trustee ignores it with a warning (se, nvidia); refused here: nothing could bind it
        raise ConfigurationError(
            f"{tee}: the evidence has no init-data field to bind an init-data hash to",
            reason=Reason.INVALID_ARGUMENT,
        )
    if tee == "nvidia" and expected_report_data is not None:
        # nvidia/mod.rs regularize_data(report_data, 32): KBS's 48-byte digest is cut to the nonce
        expected_report_data = expected_report_data[:32]
    pol = policy if policy is not None else Policy.default()
    if tee == "snp" and pol.snp.vmpl is None:
        # trustee snp/mod.rs: "VMPL must be 0" is a hard check
        pol = pol.replace(snp=dataclasses.replace(pol.snp, vmpl=frozenset({0})))
    init = expected_init_data_hash
    cca_init_length = tee == "cca" and init is not None and len(init) != INIT_DATA_FIELD["cca"]
    if init is not None and tee != "cca":
        init = init[: INIT_DATA_FIELD[tee]]  # regularize_data: truncate a longer digest
    if init is not None and tee.startswith("az-"):
        # no init-data field: the Azure section checks PCR8 == SHA-256(0^32 || h) for
        # h = the hash zero-padded to 32 bytes (regularize_data), within the caller's own list
        pol = _azure_init_data(pol, tee, init.ljust(INIT_DATA_FIELD[tee], b"\x00"))
        init = None
    coll = (collateral if collateral is not None else Collateral()) + ev.collateral
    try:
        result = verify(
            ev.data,
            policy=pol,
            collateral=coll,
            trust=trust,
            at=at,
            expected_report_data=expected_report_data,
            expected_init_data=None if cca_init_length else init,
            # tdx/mod.rs replays the CCEL into RTMR0..3; verify() does it before the policy
            # stage, so a log that is not the quote's is event_log_mismatch (exit 3) here too
            event_log=ev.cc_eventlog,
        )
    except PolicyRejected as exc:
        if not trustee_semantics:
            raise
        result = _returned_as_claims(exc, pol)
    if cca_init_length:
        assert init is not None
        raise _reject(
            result,
            RuleVerdict(
                "init_data",
                False,
                f"init data hash of {len(init)} bytes cannot equal the 64-byte realm "
                "personalization value (compared exactly for CCA)",
                reason=Reason.INIT_DATA_MISMATCH,
                expected=init,
            ),
        )
    if tee.startswith("az-"):
        assert expected_report_data is not None
        _exact_nonce(result, expected_report_data)
    if ev.warnings:
        result = dataclasses.replace(result, warnings=(*result.warnings, *ev.warnings))
    return result


def _azure_init_data(pol: Policy, tee: str, h: bytes) -> Policy:
    section = pol.section(tee)
    allowed = frozenset({h})
    if section.init_data is not None:
        allowed &= section.init_data  # both must hold: the caller's list and trustee's hash
    return pol.replace(**{tee: dataclasses.replace(section, init_data=allowed)})


def _exact_nonce(result: VerificationResult, expected: bytes) -> None:
    """az-*: the TPM quote's extraData must equal the report data exactly (trustee
    ``verify_nonce``), not the zero-padded match of cocoverify's binding rule."""
    extra = result.claims["azure"]["tpm_quote"]["extra_data"]
    if extra != expected:
        raise _reject(
            result,
            RuleVerdict(
                "report_data",
                False,
                f"the TPM quote nonce is {extra.hex()}, expected exactly {expected.hex()}",
                reason=Reason.REPORT_DATA_MISMATCH,
                expected=expected,
                actual=extra,
            ),
        )


def evaluate(
    tee: str,
    evidence: Mapping[str, Any] | bytes | str,
    expected_report_data: bytes | None = None,
    expected_init_data_hash: bytes | None = None,
    *,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
    policy: Policy | None = None,
    at: _dt.datetime | str | None = None,
    trustee_semantics: bool = False,
) -> list[tuple[dict[str, Any], str]]:
    """Trustee's ``Verifier::evaluate``: ``[(claims, "cpu")]`` or a CocoverifyError.

    ``at`` is the verification time (default now); ``policy`` defaults to the secure default;
    ``trustee_semantics=True`` is the drop-in mode (module docstring). Every failure raises;
    there is never a partial result (trustee ``deps/verifier/src/lib.rs``).
    """
    ev = parse_evidence(tee, evidence)
    result = verify_evidence(
        tee,
        ev,
        expected_report_data,
        expected_init_data_hash,
        collateral=collateral,
        trust=trust,
        policy=policy,
        at=at,
        trustee_semantics=trustee_semantics,
    )
    claims = claims_for(result)
    if ev.cc_eventlog is not None:
        # tdx/claims.rs: the parsed log, once it replayed to the quote's RTMRs
        claims["uefi_event_logs"] = parse_ccel(ev.cc_eventlog)
    if tee in ("tdx", "sgx", "az-tdx-vtpm"):
        quote, quoted = ev.data, result
        if tee == "az-tdx-vtpm":
            # az_tdx_vtpm/mod.rs: the DCAP supplemental claims of the TD quote, flattened
            quote = parse_azure(ev.data).td_quote or b""
            hw = result.claims["hardware"]
            quoted = dataclasses.replace(result, tee=hw["tee"], claims=hw["claims"])
        claims.update(
            intel_supplemental(
                quote,
                quoted,
                collateral=collateral if collateral is not None else Collateral(),
                trust=trust if trust is not None else TrustStore.default(),
            )
        )
    if tee == "se":
        # se/ibmse.rs: report_data is ReportData::to_hex() of the value as given ("" if none)
        claims["report_data"] = expected_report_data.hex() if expected_report_data else ""
    return [(claims, "cpu")]
