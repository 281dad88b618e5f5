"""AMD SEV-SNP attestation reports v2-v5 (docs/snp.md): parse, certificate table, collateral,
chain to the pinned ARK, CRL, report signature and binding, TCB, claims, policy and the
pipeline that runs them in order."""

from __future__ import annotations

from typing import Any

from cocoverify.tee.snp.describe import describe_report
from cocoverify.tee.snp.parse import looks_like
from cocoverify.tee.snp.pipeline import appraise_report
from cocoverify.tee.snp.policy import SnpPolicy

__all__ = ["POLICY_SECTIONS", "appraise_report", "describe", "detect"]

POLICY_SECTIONS = {"snp": SnpPolicy}


def detect(data: bytes) -> str | None:
    """``"snp"`` when the bytes start like an SNP report (VERSION 2..5), else None."""
    return "snp" if looks_like(data) else None


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``): ``kind``, ``verified``,
    ``product``, ``claims`` and the groups of the text view (``describe.py``)."""
    return describe_report(data)
