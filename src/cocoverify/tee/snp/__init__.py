"""AMD SEV-SNP attestation reports v2-v5 (docs/snp.md): parse, certificate table, collateral,
chain to the pinned ARK, CRL, report signature and binding, TCB, claims, policy and the
pipeline that runs them in order."""

from __future__ import annotations

from typing import Any

from cocoverify.result import to_jsonable
from cocoverify.tee.snp.claims import report_claims
from cocoverify.tee.snp.parse import looks_like, split_evidence
from cocoverify.tee.snp.pipeline import appraise_report
from cocoverify.tee.snp.policy import SnpPolicy
from cocoverify.tee.snp.tcb import product_from_cpuid

__all__ = ["POLICY_SECTIONS", "appraise_report", "describe", "detect"]

POLICY_SECTIONS = {"snp": SnpPolicy}


def detect(data: bytes) -> str | None:
    """``"snp"`` when the bytes start like an SNP report (VERSION 2..5), else None."""
    return "snp" if looks_like(data) else None


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``)."""
    report, _table = split_evidence(data)
    fam, model = report.cpuid_fam_id, report.cpuid_mod_id
    product = product_from_cpuid(fam, model) if fam is not None and model is not None else None
    # v2 reports carry no CPUID: TCB fields are decoded with the Milan/Genoa layout
    claims = report_claims(report, product or "Milan")
    return {"kind": "snp", "verified": False, "product": product, "claims": to_jsonable(claims)}
