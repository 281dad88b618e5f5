"""AMD SEV-SNP attestation reports v2-v5 (amd.md): parse, verify (VCEK/VLEK chains to the
pinned ARK, CRLs), TCB, claims, policy and the pipeline that runs them in order."""

from __future__ import annotations

from typing import Any

from cocoverify.result import to_jsonable
from cocoverify.tee.snp.parse import looks_like
from cocoverify.tee.snp.pipeline import appraise_report, split_evidence
from cocoverify.tee.snp.policy import SnpPolicy
from cocoverify.tee.snp.tcb import product_from_cpuid, report_claims

__all__ = ["POLICY_SECTIONS", "appraise_report", "describe", "detect"]

POLICY_SECTIONS = {"snp": SnpPolicy}


def detect(data: bytes) -> str | None:
    """``"snp"`` when the bytes start like an SNP report (VERSION 2..5), else None."""
    return "snp" if looks_like(data) else None


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``)."""
    report, _table = split_evidence(data)
    fam, model = getattr(report, "cpuid_fam_id", None), getattr(report, "cpuid_mod_id", None)
    product = product_from_cpuid(fam, model) if fam is not None and model is not None else None
    # v2 reports carry no CPUID: TCB fields are decoded with the Milan/Genoa layout
    claims = report_claims(report, product or "Milan")
    return {"kind": "snp", "verified": False, "product": product, "claims": to_jsonable(claims)}
