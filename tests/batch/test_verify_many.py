"""The batch driver (batch/__init__.py): one bad item or a failing executor never stops the
batch, the window bounds tasks in flight, plain paths are items, the batch exit code."""

from __future__ import annotations

from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

from cocoverify import Reason
from cocoverify.batch import BatchConfig, BatchItem, InlineExecutor, batch_exit_code, verify_many

from _shared.batch import SAMPLE_AT, sample_copy, sample_trust


def test_one_bad_item_never_stops_the_batch(tmp_path: Path) -> None:
    root = sample_copy(tmp_path)
    cfg = BatchConfig.create(at=SAMPLE_AT, trust=sample_trust())
    sgx, tdx = root / "sgx" / "quote.bin", root / "tdx" / "quote.bin"
    items = [
        BatchItem(str(sgx), collateral=(f"{sgx}.collateral",)),
        BatchItem("garbage", data=b"\x00" * 7),
        BatchItem(str(tmp_path / "missing.bin")),
        BatchItem(str(tdx), collateral=(f"{tdx}.collateral",)),
    ]
    recs = list(verify_many(items, config=cfg, executor=InlineExecutor()))
    assert [r["accepted"] for r in recs] == [True, False, False, True]
    assert recs[1]["reason"] == Reason.UNKNOWN_FORMAT.value and recs[1]["exit_code"] == 2
    assert recs[2]["exit_code"] == 1 and recs[2]["error"] == "FileNotFoundError"


class _FlakyExecutor(Executor):
    """Fails to submit the second task and breaks the fourth (a lost worker)."""

    def __init__(self) -> None:
        self.n = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.n += 1
        if self.n == 2:
            raise RuntimeError("cluster unavailable")
        fut: Future[Any] = Future()
        if self.n == 4:
            fut.set_exception(OSError("worker lost"))
        else:
            fut.set_result(fn(*args, **kwargs))
        return fut


def test_executor_failures_become_records() -> None:
    cfg = BatchConfig.create(at=SAMPLE_AT)
    items = [BatchItem(f"x{i}", data=b"\x00" * 8) for i in range(5)]
    recs = list(verify_many(items, config=cfg, executor=_FlakyExecutor(), chunksize=1))
    assert [r["path"] for r in recs] == [f"x{i}" for i in range(5)]
    assert recs[1]["error"] == "RuntimeError" and recs[1]["exit_code"] == 1
    assert recs[3]["error"] == "OSError" and recs[3]["exit_code"] == 1
    assert {recs[i]["exit_code"] for i in (0, 2, 4)} == {2}


def test_window_bounds_tasks_in_flight() -> None:
    class Counting(InlineExecutor):
        submitted = 0

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            Counting.submitted += 1
            return super().submit(fn, *args, **kwargs)

    cfg = BatchConfig.create(at=SAMPLE_AT)
    gen = verify_many((BatchItem(str(i), data=b"\x00" * 8) for i in range(10)), config=cfg,
                      executor=Counting(), window=3)  # fmt: skip
    next(gen)
    assert Counting.submitted == 3
    gen.close()


def test_plain_paths_are_items(tmp_path: Path) -> None:
    f = tmp_path / "q.bin"
    f.write_bytes(b"\x00" * 8)
    (rec,) = verify_many([f], config=BatchConfig.create(at=SAMPLE_AT), executor=InlineExecutor())
    assert rec["path"] == str(f) and rec["reason"] == "unknown_format"


def test_batch_exit_code() -> None:
    ok = {"exit_code": 0, "accepted": True}
    skipped = {"path": "x", "skipped": "not evidence"}
    assert batch_exit_code([]) == 0
    assert batch_exit_code([ok, skipped]) == 0
    assert batch_exit_code([ok, {"exit_code": 5}]) == 5
    assert batch_exit_code([{"exit_code": 5}, {"exit_code": 3}, {"exit_code": 4}]) == 3
    assert batch_exit_code([{"exit_code": 5}, {"exit_code": 2}]) == 2
    assert batch_exit_code([{"exit_code": 5}, {"exit_code": 1}, {"exit_code": 2}]) == 1
