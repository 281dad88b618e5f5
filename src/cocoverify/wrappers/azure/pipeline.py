"""Azure confidential VM evidence, step by step (docs/azure.md "Checks in order").

The hardware report is appraised through ``inner`` (the registry passes a callable that
detects and appraises it with its TEE package), so this package imports no TEE package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cocoverify.errors import AuthenticityError, EvidenceError, Reason
from cocoverify.result import Appraisal
from cocoverify.wrappers.azure.claims import build_claims
from cocoverify.wrappers.azure.parse import (
    REPORT_TYPE_SNP,
    parse_evidence,
    parse_hcl,
    parse_tpm_attest,
    parse_tpm_signature,
    parse_var_data,
)
from cocoverify.wrappers.azure.verify import (
    check_pcr_digest,
    check_pcr_selection,
    check_report_data,
    verify_quote_signature,
)

__all__ = ["Inner", "appraise_evidence"]

#: appraise a hardware report (SNP report or TD quote) with the collateral files the
#: evidence carries (the VCEK, PEM or DER); returns the TEE package's Appraisal or raises
Inner = Callable[[bytes, tuple[bytes, ...]], Appraisal]


def appraise_evidence(data: bytes, *, inner: Inner) -> Appraisal:
    """Authenticated appraisal of az-snp-vtpm / az-tdx-vtpm evidence (tee = the kind)."""
    # 1. parse: evidence JSON, HCL report, var data, TPMS_ATTEST, the signature
    ev = parse_evidence(data)
    hcl = parse_hcl(ev.hcl_report)
    if hcl.kind != ev.kind:
        raise EvidenceError(
            f"{ev.kind} evidence carries an HCL report of type {hcl.report_type}",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    var = parse_var_data(hcl.var_data)
    attest = parse_tpm_attest(ev.message)
    signature = parse_tpm_signature(ev.signature)
    # 2. the hardware report through its TEE package (signature, chain, TCB)
    if hcl.report_type == REPORT_TYPE_SNP:
        hw = inner(hcl.snp_report, (ev.vcek,) if ev.vcek else ())
        expected_tee = ("snp",)
    else:
        hw = inner(ev.td_quote or b"", ())
        expected_tee = ("tdx",)
    if hw.tee not in expected_tee:
        raise EvidenceError(
            f"the hardware report is {hw.tee} evidence, expected {expected_tee[0]}",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    if hcl.report_type == REPORT_TYPE_SNP and hw.claims.get("vmpl") != 0:
        # the HCL runs at VMPL 0; a report from another VMPL is not the HCL's (trustee)
        raise AuthenticityError(
            f"the SNP report was issued at VMPL {hw.claims.get('vmpl')}, not 0",
            reason=Reason.BINDING_INVALID,
        )
    # 3. the HCL var data bound into the hardware REPORT_DATA (SHA-256, zero padded)
    check_report_data(hw.report_data or b"", hcl.var_data, expected_tee[0].upper())
    if hcl.report_type != REPORT_TYPE_SNP:
        # the TDREPORT inside the HCL report is MACed, not signed; it must agree anyway
        check_report_data(hcl.td_report[128:192], hcl.var_data, "HCL TDREPORT")
    # 4. the vTPM quote signed by HCLAkPub (RSASSA-PKCS1-v1_5, SHA-256)
    verify_quote_signature(var.ak_n, var.ak_e, attest.raw, signature)
    # 5. the PCR selection equals the PCRs supplied, and their digest is the quote's
    check_pcr_selection(attest, len(ev.pcrs))
    check_pcr_digest(attest, ev.pcrs)
    # 6. evidence v2: var-data user-data begins with the nonce (extraData)
    if ev.version >= 2:
        user = var.user_data or b""
        if user[: len(attest.extra_data)] != attest.extra_data:
            raise AuthenticityError(
                "user-data in the HCL variable data does not begin with the quote's nonce",
                reason=Reason.BINDING_INVALID,
            )
    # 7. claims; the nonce (extraData) is what the report-data binding compares
    warnings = tuple(hw.warnings)
    return replace(
        hw,
        tee=ev.kind,
        claims=build_claims(ev, hcl, var, attest, hw),
        warnings=warnings,
        report_data=attest.extra_data,
        init_data=None,
    )
