"""Verify many pieces of evidence on every core, results in input order (docs/batch.md).

    from cocoverify.batch import BatchConfig, verify_many
    config = BatchConfig.create(collateral=["collateral/"], at="2025-07-04T10:28:44Z")
    for record in verify_many(["q1.bin", "q2.bin"], config=config):
        print(record["path"], record["accepted"], record["reason"])

``verify_many`` takes any :class:`concurrent.futures.Executor`: a ``ProcessPoolExecutor``
sized to the cores by default, or e.g. ``dask.distributed.Client.get_executor()`` to scale out
(Dask is not a dependency). Work items and the config are small and picklable: paths (or
bytes), collateral paths, the policy as JSON text, trust fingerprints and the time as text.
Each record is a JSON-ready dict; one bad file never stops the batch.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from cocoverify.batch.config import (
    COLLATERAL_SUFFIX,
    KEY_CLAIMS,
    BatchConfig,
    BatchItem,
    InlineExecutor,
    Skipped,
)
from cocoverify.batch.inputs import clean_path, expand_inputs, looks_like_evidence
from cocoverify.batch.worker import (
    Stamp,
    _internal_error,
    _verify_item,
    collateral_stamp,
    record_for,
)

__all__ = [
    "COLLATERAL_SUFFIX",
    "KEY_CLAIMS",
    "BatchConfig",
    "BatchItem",
    "InlineExecutor",
    "Skipped",
    "batch_exit_code",
    "clean_path",
    "collateral_stamp",
    "expand_inputs",
    "looks_like_evidence",
    "record_exit_code",
    "record_for",
    "verify_many",
]


def verify_many(
    items: Iterable[BatchItem | str | os.PathLike[str]],
    *,
    config: BatchConfig | None = None,
    executor: Executor | None = None,
    max_workers: int | None = None,
    window: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Verify every item on ``executor``; yield one record per item, in input order.

    ``executor`` None: a ``ProcessPoolExecutor`` with ``max_workers`` (default: the CPU
    count), shut down when the iterator is exhausted or closed. At most ``window`` tasks
    (default 4 per worker) are in flight, so memory stays flat on huge batches.
    """
    cfg = config if config is not None else BatchConfig.create()
    workers = max_workers or os.cpu_count() or 1
    own = executor is None
    ex: Executor = ProcessPoolExecutor(max_workers=workers) if executor is None else executor
    limit = max(1, window if window is not None else 4 * workers)
    pending: deque[tuple[str, Future[dict[str, Any]]]] = deque()
    stamps: dict[BatchConfig, Stamp] = {}  # shared collateral state, once per config

    def stamp_for(c: BatchConfig) -> Stamp:
        if c not in stamps:
            stamps[c] = collateral_stamp(c.collateral)
        return stamps[c]

    def collect(path: str, fut: Future[dict[str, Any]]) -> dict[str, Any]:
        try:
            return fut.result()
        except Exception as exc:  # a broken worker, an unpicklable item
            return _internal_error(path, exc)

    try:
        for raw in items:
            item = raw if isinstance(raw, BatchItem) else BatchItem(path=os.fspath(raw))
            try:
                fut = ex.submit(_verify_item, item, cfg, stamp_for(item.config or cfg))
            except Exception as exc:  # e.g. a pool already broken
                fut = Future()
                fut.set_exception(exc)
            pending.append((item.path, fut))
            while len(pending) >= limit:
                yield collect(*pending.popleft())
        while pending:
            yield collect(*pending.popleft())
    finally:
        if own:
            for _, fut in pending:
                fut.cancel()
            ex.shutdown(wait=True, cancel_futures=True)


def record_exit_code(record: Mapping[str, Any]) -> int:
    """One record's exit code: 0 only for ``accepted: true`` with ``exit_code`` 0; a code
    outside 1..5, or a record that is not accepted yet says 0, counts as 1 (fail closed)."""
    code = record.get("exit_code")
    if type(code) is not int or not 0 <= code <= 5:
        return 1
    if code == 0:
        return 0 if record.get("accepted") is True else 1
    return code


def batch_exit_code(records: Iterable[Mapping[str, Any]]) -> int:
    """0 when every verified record was accepted, else the smallest non-zero exit code seen.

    The CLI's classes are ordered by priority: 1 (tool/read error) > 2 (evidence) >
    3 (authenticity) > 4 (collateral) > 5 (policy). Skipped inputs do not count.
    """
    codes = {record_exit_code(r) for r in records if "skipped" not in r}
    codes.discard(0)
    return min(codes) if codes else 0
