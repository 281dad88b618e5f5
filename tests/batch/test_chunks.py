"""Chunked dispatch (batch/__init__.py): many paths per task, short batches spread over the
window, chunks of one for in-process executors, a failed chunk fails only its own items."""

from __future__ import annotations

import os
import pickle
import sys
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

import pytest

from cocoverify.batch import CHUNK_MAX, BatchConfig, BatchItem, InlineExecutor, verify_many
from cocoverify.batch import worker as batch_worker

from _shared.batch import SAMPLE_AT

_CFG = BatchConfig.create(at=SAMPLE_AT)
_real_verify_item = batch_worker._verify_item


class _Recording(Executor):
    """Runs tasks now, like a remote executor would later; records each task's chunk."""

    _max_workers = 2

    def __init__(self, fail: int | None = None) -> None:
        self.chunks: list[list[str]] = []
        self.fail = fail

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.chunks.append([i if isinstance(i, str) else i.path for i in args[0]])
        fut: Future[Any] = Future()
        if len(self.chunks) == self.fail:
            fut.set_exception(OSError("worker lost"))
        else:
            fut.set_result(fn(*args, **kwargs))
        return fut


def _items(n: int) -> list[BatchItem]:
    return [BatchItem(f"x{i}", data=b"\x00" * 8) for i in range(n)]


def test_long_batches_go_in_full_chunks_then_shrink_at_the_end() -> None:
    ex = _Recording()
    n = 2 * 8 * CHUNK_MAX + 5  # more than the lookahead (window 8 x CHUNK_MAX)
    recs = list(verify_many(_items(n), config=_CFG, executor=ex))
    assert [r["path"] for r in recs] == [f"x{i}" for i in range(n)]
    assert {r["reason"] for r in recs} == {"unknown_format"}
    sizes = [len(c) for c in ex.chunks]
    assert sum(sizes) == n
    assert sizes[: n // CHUNK_MAX - 8] == [CHUNK_MAX] * (n // CHUNK_MAX - 8)
    # the tail: each chunk a quarter (2 workers x 2) of what is left, down to single items
    assert sizes == sorted(sizes, reverse=True) and sizes[-1] == 1
    left = n - sum(sizes[: n // CHUNK_MAX - 8])
    for size in sizes[n // CHUNK_MAX - 8 :]:
        assert size == min(CHUNK_MAX, -(-left // 4))
        left -= size


def test_short_batches_reach_every_worker() -> None:
    ex = _Recording()
    list(verify_many(_items(20), config=_CFG, executor=ex))
    assert [len(c) for c in ex.chunks] == [5, 4, 3, 2, 2, 1, 1, 1, 1]
    ex = _Recording()
    list(verify_many(_items(3), config=_CFG, executor=ex))
    assert [len(c) for c in ex.chunks] == [1, 1, 1]


def test_explicit_chunksize_and_in_process_executors() -> None:
    ex = _Recording()
    list(verify_many(_items(10), config=_CFG, executor=ex, chunksize=4))
    assert [len(c) for c in ex.chunks] == [4, 4, 2]
    with pytest.raises(ValueError, match="chunksize"):
        list(verify_many(_items(1), config=_CFG, executor=ex, chunksize=0))

    class Counting(InlineExecutor):
        sizes: list[int] = []

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            Counting.sizes.append(len(args[0]))
            return super().submit(fn, *args, **kwargs)

    list(verify_many(_items(10), config=_CFG, executor=Counting()))
    assert Counting.sizes == [1] * 10
    with ThreadPoolExecutor(2) as pool:
        recs = list(verify_many(_items(10), config=_CFG, executor=pool))
    assert [r["path"] for r in recs] == [f"x{i}" for i in range(10)]


def test_a_failed_chunk_fails_only_its_items() -> None:
    ex = _Recording(fail=2)
    recs = list(verify_many(_items(12), config=_CFG, executor=ex, chunksize=4))
    assert [r["exit_code"] for r in recs] == [2] * 4 + [1] * 4 + [2] * 4
    assert {r["error"] for r in recs[4:8]} == {"OSError"}
    assert [r["path"] for r in recs] == [f"x{i}" for i in range(12)]


def test_closing_the_iterator_cancels_what_did_not_start() -> None:
    futures: list[Future[Any]] = []

    class Later(Executor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            fut: Future[Any] = Future()
            futures.append(fut)
            if len(futures) == 1:
                fut.set_result(fn(*args, **kwargs))
            return fut  # the others never run

    gen = verify_many(_items(10), config=_CFG, executor=Later(), chunksize=2, window=3)
    assert next(gen)["path"] == "x0"
    gen.close()
    assert len(futures) == 3 and all(f.cancelled() for f in futures[1:])


def test_items_travel_small() -> None:
    assert BatchItem("q.bin").wire() == "q.bin"  # a bare path when that is all there is
    for item in (
        BatchItem("q.bin", data=b"x"),
        BatchItem("q.bin", collateral=("c",)),
        BatchItem("q.bin", collateral_dir="d"),
        BatchItem("q.bin", config=_CFG),
    ):
        assert item.wire() is item
        assert pickle.loads(pickle.dumps(item)) == item
    ex = _Recording()
    recs = list(verify_many(["a", BatchItem("b", data=b"\x00" * 8)], config=_CFG, executor=ex))
    assert [r["path"] for r in recs] == ["a", "b"] and recs[0]["error"] == "FileNotFoundError"


def _dies_on_crash(item: BatchItem, config: BatchConfig, stamp: Any = None) -> dict[str, Any]:
    if item.path == "crash":
        os._exit(3)  # a worker lost mid-task (a crash in native code, the OOM killer)
    return _real_verify_item(item, config, stamp)


@pytest.mark.skipif(sys.platform != "linux", reason="the forked workers inherit the patch")
def test_a_lost_worker_fails_only_the_chunks_in_flight(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_worker, "_verify_item", _dies_on_crash)
    names = [f"x{i}" for i in range(4)] + ["crash"] + [f"y{i}" for i in range(8)]
    items = [BatchItem(n, data=b"\x00" * 8) for n in names]
    recs = list(verify_many(items, config=_CFG, max_workers=1, window=2, chunksize=1))
    assert [r["path"] for r in recs] == names
    lost = [r["path"] for r in recs if r["exit_code"] == 1]
    assert "crash" in lost and len(lost) <= 2  # the crash and at most one more in flight
    assert all(r["error"] == "BrokenProcessPool" for r in recs if r["exit_code"] == 1)
    assert [r["exit_code"] for r in recs[-6:]] == [2] * 6  # a new pool verified the rest
