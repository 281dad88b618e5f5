"""The real vectors of all three vendors through ``verify_many``: every record equals what one
``verify()`` call says, inline, on a process pool and on any executor."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import cocoverify
from cocoverify._core.text import decode_text
from cocoverify.batch import BatchConfig, BatchItem, InlineExecutor, record_for, verify_many
from cocoverify.collateral import load_collateral
from cocoverify.errors import CocoverifyError
from cocoverify.registry import peek_tee

from _shared import require_shared, shared_manifest
from _shared.batch import AMD_ROLES, CCA_AT, INTEL_ROLES


def _direct(
    data: bytes, path: str, cfg: BatchConfig, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What one ``verify()`` call says, as a batch record."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coll = load_collateral(list(cfg.collateral) + list(extra))
        try:
            result = cocoverify.verify(
                data, collateral=coll, policy=cfg.policy(), trust=cfg.trust(), at=cfg.at
            )
        except CocoverifyError as exc:
            return record_for(path, exc, tee=peek_tee(decode_text(data)), collateral=coll)
        return record_for(path, result, collateral=coll)


def _intel_items() -> Iterator[tuple[BatchItem, bytes]]:
    base = require_shared("intel")
    for case in (shared_manifest("intel") or {})["cases"]:
        files = case["files"]
        if "quote" not in files:
            continue
        folder = base / case["id"]
        coll = tuple(str(folder / files[r]) for r in INTEL_ROLES if r in files)
        path = folder / files["quote"]
        cfg = BatchConfig.create(at=case["verify_at"], collateral=coll)
        yield BatchItem(str(path), config=cfg), path.read_bytes()


def _amd_items() -> Iterator[tuple[BatchItem, bytes]]:
    base = require_shared("amd")
    for case in (shared_manifest("amd") or {})["cases"]:
        files = case["files"]
        if "report" not in files:
            continue
        folder = base / case["dir"]
        coll = tuple(str(folder / files[r]) for r in AMD_ROLES if r in files)
        at = case.get("verification_time") or "2025-01-01T00:00:00Z"
        cfg = BatchConfig.create(at=at, collateral=coll)
        path = folder / files["report"]
        yield BatchItem(str(path), config=cfg), path.read_bytes()


def _cca_items() -> Iterator[tuple[BatchItem, bytes]]:
    base = require_shared("cca")
    for case in (shared_manifest("cca") or {})["cases"]:
        files = case["files"]
        if case["kind"] != "cca-token" or "token" not in files:
            continue
        role = next((r for r in ("platform_key", "platform_key_jwk", "trust_anchor_store")
                     if r in files), None)  # fmt: skip
        if role is None:
            continue
        folder = base / case["id"]
        cfg = BatchConfig.create(at=CCA_AT, collateral=[str(folder / files[role])])
        path = folder / files["token"]
        yield BatchItem(str(path), config=cfg), path.read_bytes()


@pytest.mark.parametrize("vendor", ["intel", "amd", "cca"])
def test_real_vectors_batch_equals_verify(vendor: str) -> None:
    pairs = list({"intel": _intel_items, "amd": _amd_items, "cca": _cca_items}[vendor]())
    assert pairs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0 (docs/snp.md)
        records = list(verify_many([i for i, _ in pairs], executor=InlineExecutor()))
    assert [r["path"] for r in records] == [i.path for i, _ in pairs]
    for (item, data), rec in zip(pairs, records, strict=True):
        assert item.config is not None
        expected = _direct(data, item.path, item.config)
        assert rec == expected, item.path
    # the real vectors exercise both outcomes
    assert any(r["accepted"] for r in records)
    assert any(not r["accepted"] for r in records)


def test_real_intel_vectors_on_a_process_pool() -> None:
    pairs = list(_intel_items())
    inline = list(verify_many([i for i, _ in pairs], executor=InlineExecutor()))
    pooled = list(verify_many([i for i, _ in pairs], max_workers=2, window=3))
    assert pooled == inline


def test_any_executor_works_like_dask() -> None:
    # dask.distributed.Client.get_executor() is a concurrent.futures.Executor too
    pairs = list(_intel_items())[:6]
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = list(verify_many([i for i, _ in pairs], executor=pool, window=2))
    assert threaded == list(verify_many([i for i, _ in pairs], executor=InlineExecutor()))
