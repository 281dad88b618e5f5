"""Azure confidential VM evidence (HCL report + vTPM quote); docs/azure.md."""

from __future__ import annotations

from typing import Any

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
        }
    )
