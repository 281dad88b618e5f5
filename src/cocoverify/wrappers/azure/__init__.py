"""Azure confidential VM evidence (HCL report + vTPM quote); docs/azure.md."""

from __future__ import annotations

from typing import Any

from cocoverify._core.certinfo import certificate_summary
from cocoverify._core.x509 import load_certificates
from cocoverify.errors import CocoverifyError
from cocoverify.wrappers.azure.parse import (
    KINDS,
    detect,
    parse_evidence,
    parse_hcl,
    parse_tpm_attest,
)
from cocoverify.wrappers.azure.pipeline import Inner, appraise_evidence
from cocoverify.wrappers.azure.policy import AzurePolicy
from cocoverify.wrappers.azure.tpm import appraise_tpm, describe_tpm, detect_tpm

__all__ = [
    "KINDS",
    "POLICY_SECTIONS",
    "TPM_POLICY_SECTIONS",
    "AzurePolicy",
    "Inner",
    "appraise_evidence",
    "appraise_tpm",
    "describe",
    "describe_tpm",
    "detect",
    "detect_tpm",
]

POLICY_SECTIONS = {kind: AzurePolicy for kind in KINDS}
#: trustee's generic tpm evidence: the same section (PCRs; it has no VM configuration)
TPM_POLICY_SECTIONS = {"tpm": AzurePolicy}


def _vcek(vcek: bytes | None) -> list[dict[str, Any]]:
    """The VCEK carried in az-snp-vtpm evidence, summarised (nothing verified)."""
    if not vcek:
        return []
    try:
        return [certificate_summary(c) for c in load_certificates(vcek, what="vcek")]
    except CocoverifyError:
        return [{"subject_cn": f"(vcek: not a certificate, {len(vcek)} bytes)"}]


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields for ``cocoverify show``; nothing verified."""
    from cocoverify.result import to_jsonable
    from cocoverify.wrappers.azure.parse import parse_var_data

    ev = parse_evidence(data)
    hcl = parse_hcl(ev.hcl_report)
    attest = parse_tpm_attest(ev.message)
    var = parse_var_data(hcl.var_data)
    return to_jsonable(  # type: ignore[no-any-return]
        {
            "kind": ev.kind,
            "evidence_version": ev.version,
            "hcl": {"version": hcl.version, "report_type": hcl.report_type},
            "vm_configuration": dict(var.vm_configuration),
            "user_data": var.user_data,
            "tpm_quote": {
                "extra_data": attest.extra_data,
                "pcr_selection": [
                    {"hash_alg": s.hash_alg, "pcrs": list(s.pcrs)} for s in attest.selections
                ],
                "pcr_digest": attest.pcr_digest,
            },
            "pcrs": [p.hex() for p in ev.pcrs],
            "identifiers": {
                "kind": ev.kind,
                "hardware": "SNP report (VCEK in the evidence)"
                if ev.td_quote is None
                else "TD quote (DCAP collateral by its FMSPC)",
                "hcl_report_type": hcl.report_type,
            },
            "header": {
                "evidence_version": ev.version,
                "hcl_version": hcl.version,
                "hcl_report_type": hcl.report_type,
                "hcl_hash_type": hcl.hash_type,
                "igvm_version": hcl.igvm_version,
            },
            "body": {
                "vm_configuration": dict(var.vm_configuration),
                "user_data": var.user_data,
                "variable_data_keys": list(var.keys),
                "pcrs": {str(i): p.hex() for i, p in enumerate(ev.pcrs)},
            },
            "signature": {
                "tpm_quote": "RSASSA-PKCS1-v1_5 SHA-256 by the attestation key in the HCL "
                "variable data",
                "tpm_signature_bytes": len(ev.signature),
                "extra_data (nonce)": attest.extra_data,
                "pcr_digest": attest.pcr_digest,
                "hcl_binding": "SHA-256 of the variable data in the hardware report's REPORT_DATA",
            },
            "certificates": _vcek(ev.vcek),
            "flags": {k: v for k, v in dict(var.vm_configuration).items() if isinstance(v, bool)},
        }
    )
