"""``verify_many`` on a real Dask cluster (batch/cluster.py): a ``distributed.LocalCluster``
with two worker processes on 127.0.0.1; records equal the local executor's, in input order."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from cocoverify import TrustStore
from cocoverify.batch import BatchConfig, BatchItem, InlineExecutor, verify_many
from cocoverify.batch.cluster import is_dask_client

from _shared import PROJECT_VECTORS

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


def _project_items() -> list[BatchItem]:
    manifest = json.loads((PROJECT_VECTORS / "manifest.json").read_text())
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
    return items


def test_results_equal_the_local_executor_in_input_order(client: Any) -> None:
    items = [*_project_items(), BatchItem("inline-garbage", data=b"\x00" * 9), "missing.bin"]
    local = list(verify_many(items, executor=InlineExecutor()))
    on_dask = list(verify_many(items, executor=client))
    assert [r["path"] for r in on_dask] == [
        i.path if isinstance(i, BatchItem) else i for i in items
    ]
    assert on_dask == local
    assert any(r["accepted"] for r in local) and any(not r["accepted"] for r in local)
    # and again with a small window and explicit chunks: the same
    assert list(verify_many(items, executor=client, window=2, chunksize=7)) == local


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
