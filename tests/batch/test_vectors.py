"""The project's own generated vectors (vectors/manifest.json) through ``verify_many``."""

from __future__ import annotations

import json

import pytest

from cocoverify import TrustStore
from cocoverify.batch import BatchConfig, BatchItem, verify_many

from _shared import PROJECT_VECTORS


def test_project_vectors_through_verify_many() -> None:
    manifest_path = PROJECT_VECTORS / "manifest.json"
    if not manifest_path.is_file():
        pytest.skip("vectors/manifest.json not generated")
    manifest = json.loads(manifest_path.read_text())
    items = []
    for case in manifest["cases"]:
        trust = TrustStore(**case["trust"]) if case.get("trust") else None
        cfg = BatchConfig.create(
            at=case["at"],
            policy=case.get("policy"),
            trust=trust,
            collateral=[str(PROJECT_VECTORS / c) for c in case["collateral"]],
        )
        items.append(BatchItem(str(PROJECT_VECTORS / case["evidence"]), config=cfg))
    records = list(verify_many(items, max_workers=2))
    for case, rec in zip(manifest["cases"], records, strict=True):
        if case["expected"] == "accept":
            assert rec["accepted"], case["id"]
        else:
            assert rec["reason"] == case["expected"], case["id"]
        assert rec["exit_code"] == case["exit_code"], case["id"]
