"""A fleet of sample evidence for the batch tests: the project's sample quotes (vectors/sample)
with their collateral, and the collateral roles of the real vectors' manifests."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cocoverify import TrustStore
from cocoverify._core.x509 import load_certificates
from cocoverify.batch import BatchConfig, BatchItem

from _shared import PROJECT_VECTORS

__all__ = [
    "AMD_ROLES",
    "CCA_AT",
    "INTEL_ROLES",
    "SAMPLE",
    "SAMPLE_AT",
    "SAMPLE_ROOT",
    "project_items",
    "sample_copy",
    "sample_trust",
]

SAMPLE = PROJECT_VECTORS / "sample"
SAMPLE_AT = "2025-06-01T00:00:00Z"
SAMPLE_ROOT = SAMPLE / "trust" / "intel_root_ca.pem"
INTEL_ROLES = ("tcb_info", "qe_identity", "pck_crl", "root_ca_crl", "pck_crl_issuer_chain",
               "tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_cert_chain")  # fmt: skip
AMD_ROLES = ("vcek", "vlek", "ask", "asvk", "ark", "crl")
CCA_AT = "2026-01-01T00:00:00Z"


def sample_copy(tmp_path: Path) -> Path:
    """Project sample quotes, each with a ``<file>.collateral/`` sibling (our own files)."""
    root = tmp_path / "fleet"
    for tee in ("sgx", "tdx"):
        d = root / tee
        d.mkdir(parents=True)
        shutil.copy(SAMPLE / tee / "quote.bin", d / "quote.bin")
        shutil.copytree(SAMPLE / tee / "collateral", d / "quote.bin.collateral")
    return root


def sample_trust() -> TrustStore:
    """Trust in the sample quotes' own root CA."""
    return TrustStore.from_root_certificates(load_certificates(SAMPLE_ROOT.read_bytes()))


def project_items() -> tuple[list[dict[str, Any]], list[BatchItem]]:
    """The project manifest's cases and one item per case with its own config (time,
    policy, trust store, collateral); skips when vectors/manifest.json is not generated."""
    manifest_path = PROJECT_VECTORS / "manifest.json"
    if not manifest_path.is_file():
        pytest.skip("vectors/manifest.json not generated")
    cases: list[dict[str, Any]] = json.loads(manifest_path.read_text())["cases"]
    items = []
    for case in cases:
        trust = TrustStore(**case["trust"]) if case.get("trust") else None
        cfg = BatchConfig.create(
            at=case["at"],
            policy=case.get("policy"),
            trust=trust,
            collateral=[str(PROJECT_VECTORS / c) for c in case["collateral"]],
        )
        items.append(BatchItem(str(PROJECT_VECTORS / case["evidence"]), config=cfg))
    return cases, items
