"""``verify_many`` on a real Dask cluster (batch/cluster.py): a ``distributed.LocalCluster``
with two worker processes on 127.0.0.1; records equal the local executor's, in input order."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from cocoverify.batch import (
    BatchConfig,
    BatchItem,
    InlineExecutor,
    read_manifest,
    verify_many,
    verify_many_lines,
    worker,
)
from cocoverify.batch.cluster import is_dask_client
from cocoverify.batch.jsonl import ENCODER

from _shared.batch import SAMPLE, SAMPLE_AT, project_items, sample_trust

distributed = pytest.importorskip(
    "distributed", reason="Dask's distributed is not installed (pip install 'cocoverify[dask]')"
)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            protocol="tcp",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_results_equal_the_local_executor_in_input_order(client: Any) -> None:
    items = [*project_items()[1], BatchItem("inline-garbage", data=b"\x00" * 9), "missing.bin"]
    local = list(verify_many(items, executor=InlineExecutor()))
    on_dask = list(verify_many(items, executor=client))
    assert [r["path"] for r in on_dask] == [
        i.path if isinstance(i, BatchItem) else i for i in items
    ]
    assert on_dask == local
    assert any(r["accepted"] for r in local) and any(not r["accepted"] for r in local)
    # and again with a small window and explicit chunks: the same
    assert list(verify_many(items, executor=client, window=2, chunksize=7)) == local
    # with the JSON lines built on the Dask workers: byte for byte the encoder's
    pairs = list(verify_many_lines(items, executor=client, chunksize=5))
    assert [r for r, _ in pairs] == local
    assert [line for _, line in pairs] == [ENCODER.encode(r) for r in local]


def test_client_is_recognised_without_importing_distributed(client: Any) -> None:
    assert is_dask_client(client)
    assert not is_dask_client(client.get_executor())
    with ThreadPoolExecutor(1) as pool:
        assert not is_dask_client(pool)
    assert not is_dask_client(None)


def test_is_dask_client_never_imports_distributed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "distributed" or m.startswith("distributed.")]:
        monkeypatch.delitem(sys.modules, name)
    assert not is_dask_client(object())
    assert "distributed" not in sys.modules


def _cache_misses() -> tuple[int, int]:
    """On a Dask worker: its own caches' misses."""
    return (
        worker._cached_item_collateral.cache_info().misses,
        worker._cached_item_verifier.cache_info().misses,
    )


def _cache_clear() -> None:
    worker._cached_item_collateral.cache_clear()
    worker._cached_item_verifier.cache_clear()


def test_manifest_items_on_dask(client: Any, tmp_path: Path) -> None:
    # one manifest, evidence captured at different times, two collateral folders shared by
    # many lines: the same records as in this process, each folder loaded once per worker
    shutil.copytree(SAMPLE / "sgx" / "collateral", tmp_path / "a")
    shutil.copytree(SAMPLE / "sgx" / "collateral", tmp_path / "b")
    lines = []
    for i in range(30):
        shutil.copy(SAMPLE / "sgx" / "quote.bin", tmp_path / f"{i}.bin")
        at = [SAMPLE_AT, "2025-06-10T00:00:00Z", "2025-07-01T00:00:00Z"][i % 3]
        lines.append({"path": f"{i}.bin", "at": at, "collateral": "ab"[i % 2], "id": f"n{i}"})
    (tmp_path / "m.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    items = read_manifest(str(tmp_path / "m.jsonl"))
    cfg = BatchConfig.create(at=SAMPLE_AT, trust=sample_trust())
    local = list(verify_many(items, config=cfg, executor=InlineExecutor()))
    assert [r["exit_code"] for r in local] == [0, 0, 4] * 10
    client.run(_cache_clear)
    assert list(verify_many(items, config=cfg, executor=client, chunksize=4)) == local
    per_worker = list(client.run(_cache_misses).values())
    assert sum(m[0] for m in per_worker) >= 2  # the folders were loaded on the workers ...
    for misses in per_worker:
        assert misses[0] <= 2 and misses[1] <= 2  # ... at most once per folder per worker
