"""Verify many pieces of evidence on every core, results in input order (docs/batch.md).

    from cocoverify.batch import BatchConfig, verify_many
    config = BatchConfig.create(collateral=["collateral/"], at="2025-07-04T10:28:44Z")
    for record in verify_many(["q1.bin", "q2.bin"], config=config):
        print(record["path"], record["accepted"], record["reason"])

``verify_many`` runs on a ``ProcessPoolExecutor`` sized to the cores by default (workers die
with their parent), on any :class:`concurrent.futures.Executor`, or on a Dask cluster given
its ``distributed.Client`` (Dask is an optional extra). Items travel in chunks of many paths
per task; the config is small and picklable: collateral paths, the policy as JSON text, trust
fingerprints and the time as text. Each record is a JSON-ready dict; one bad file never
stops the batch.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Final

from cocoverify.batch.cluster import client_executor, is_dask_client
from cocoverify.batch.config import (
    COLLATERAL_SUFFIX,
    KEY_CLAIMS,
    BatchConfig,
    BatchItem,
    InlineExecutor,
    Skipped,
)
from cocoverify.batch.inputs import clean_path, expand_inputs, looks_like_evidence
from cocoverify.batch.jsonl import record_line
from cocoverify.batch.lifetime import worker_init
from cocoverify.batch.manifest import MANIFEST_KEYS, manifest_item, parse_manifest, read_manifest
from cocoverify.batch.platform import platform_facts
from cocoverify.batch.record import record_for
from cocoverify.batch.worker import (
    SLIM_KEYS,
    Stamp,
    _internal_error,
    _verify_chunk,
    _verify_item,
    _verify_item_line,
    collateral_stamp,
    preload,
)

__all__ = [
    "CHUNK_MAX",
    "COLLATERAL_SUFFIX",
    "KEY_CLAIMS",
    "MANIFEST_KEYS",
    "SLIM_KEYS",
    "BatchConfig",
    "BatchItem",
    "InlineExecutor",
    "ItemLike",
    "Skipped",
    "batch_exit_code",
    "clean_path",
    "collateral_stamp",
    "expand_inputs",
    "looks_like_evidence",
    "manifest_item",
    "parse_manifest",
    "platform_facts",
    "preload",
    "read_manifest",
    "record_exit_code",
    "record_for",
    "record_line",
    "verify_many",
    "verify_many_lines",
]

#: Items per task, at most, when tasks go to other processes or machines. One task's round
#: trip costs the parent ~0.3-0.5 ms here (pickling, pipes, three threads waking), so 256
#: items (~30 ms of warm verifies) bring it to a few microseconds per item.
CHUNK_MAX: Final = 256

_Chunk = tuple[list[str], "Future[list[Any]]"]


def _in_process(executor: Executor) -> bool:
    """Executors that run tasks in this process: nothing to amortise, so chunks of one."""
    return isinstance(executor, InlineExecutor | ThreadPoolExecutor)


def _chunks(
    stream: Iterator[BatchItem], *, fixed: int | None, workers: int, lookahead: int
) -> Iterator[tuple[BatchItem, ...]]:
    """``fixed`` items per chunk, or guided: ``CHUNK_MAX`` while the end of the stream is
    more than ``lookahead`` items away, then each chunk takes its share of what is left
    (``ceil(left / (2 * workers))``), so a short batch still reaches every worker and the
    workers finish together."""
    if fixed is not None:
        while chunk := tuple(itertools.islice(stream, fixed)):  # itertools.batched: 3.12
            yield chunk
        return
    buf: deque[BatchItem] = deque()
    exhausted = False
    while True:
        while not exhausted and len(buf) < lookahead:
            item = next(stream, None)
            if item is None:
                exhausted = True
            else:
                buf.append(item)
        if not buf:
            return
        size = CHUNK_MAX
        if exhausted:
            size = max(1, min(CHUNK_MAX, -(-len(buf) // (2 * workers))))
        yield tuple(buf.popleft() for _ in range(size))


#: What ``verify_many`` takes as an item: a manifest line may come as its decoded dict.
ItemLike = BatchItem | str | os.PathLike[str] | Mapping[str, Any]


def _as_item(raw: ItemLike) -> BatchItem:
    if isinstance(raw, BatchItem):
        return raw
    if isinstance(raw, Mapping):
        return manifest_item(dict(raw))  # validated like a manifest line (docs/batch.md)
    return BatchItem(path=os.fspath(raw))


def verify_many(
    items: Iterable[ItemLike],
    *,
    config: BatchConfig | None = None,
    executor: Executor | Any | None = None,
    max_workers: int | None = None,
    window: int | None = None,
    chunksize: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Verify every item on ``executor``; yield one record per item, in input order.

    An item is a :class:`BatchItem`, a path, or a manifest line as a dict (``path``, ``at``,
    ``report_data``, ``collateral``, ``id``; relative paths from the working directory;
    a bad one raises ``ConfigurationError`` when reached). ``read_manifest`` reads a file.

    ``executor``: None for a ``ProcessPoolExecutor`` with ``max_workers`` (default: the CPU
    count) whose workers die with this process, shut down when the iterator is exhausted or
    closed; any ``concurrent.futures.Executor``; or a ``distributed.Client`` (a Dask
    cluster). Items go out ``chunksize`` per task (default: up to :data:`CHUNK_MAX`, one for
    executors that run in this process). At most ``window`` tasks (default 4 per worker or
    cluster thread) are in flight, so memory stays flat on huge batches. Closing the
    iterator cancels the tasks not yet started.
    """
    return _verify_many(items, config, executor, max_workers, window, chunksize, False, False)


def verify_many_lines(
    items: Iterable[ItemLike],
    *,
    config: BatchConfig | None = None,
    executor: Executor | Any | None = None,
    max_workers: int | None = None,
    window: int | None = None,
    chunksize: int | None = None,
    slim: bool = False,
) -> Iterator[tuple[dict[str, Any], str]]:
    """:func:`verify_many`, yielding (record, JSON line) pairs: the line is what
    :func:`~cocoverify.batch.jsonl.record_line` writes for the record, built by the worker
    alongside the record (``cocoverify batch`` writes these). ``slim``: the record holds only
    ``SLIM_KEYS`` (path, skipped, accepted, tee, exit_code, reason, error) when it comes
    from another process; the line is whole."""
    return _verify_many(items, config, executor, max_workers, window, chunksize, True, slim)


def _verify_many(
    items: Iterable[ItemLike],
    config: BatchConfig | None,
    executor: Executor | Any | None,
    max_workers: int | None,
    window: int | None,
    chunksize: int | None,
    lines: bool,
    slim: bool,
) -> Iterator[Any]:
    if chunksize is not None and chunksize < 1:
        raise ValueError("chunksize must be >= 1")
    cfg = config if config is not None else BatchConfig.create()
    own = executor is None
    workers = max_workers or os.cpu_count() or 1
    ex: Executor | None = None
    if is_dask_client(executor):
        ex, workers = client_executor(executor)
    elif executor is not None:
        ex = executor
        workers = max_workers or getattr(executor, "_max_workers", None) or workers
    limit = max(1, window if window is not None else 4 * workers)
    stamps: dict[BatchConfig, Stamp] = {}  # shared collateral state, once per config
    base = collateral_stamp(cfg.collateral)

    def stamp_for(c: BatchConfig | None) -> Stamp:
        if c is None:
            return base  # most items: no dict lookup, no hashing of the config
        if c not in stamps:
            stamps[c] = collateral_stamp(c.collateral)
        return stamps[c]

    if type(ex) is InlineExecutor:  # exactly: a subclass may count or wrap its tasks
        one = _verify_item_line if lines else _verify_item
        yield from (one(i, cfg, stamp_for(i.config)) for i in map(_as_item, items))
        return

    fixed = chunksize
    if fixed is None and ex is not None and _in_process(ex):
        fixed = 1
    chunks = _chunks(
        map(_as_item, items), fixed=fixed, workers=workers, lookahead=limit * CHUNK_MAX
    )
    pending: deque[_Chunk] = deque()
    try:
        for batch in chunks:
            if ex is None or (own and _broken(ex)):
                # created here, from the thread that forks the workers; a pool broken by a
                # worker that died (e.g. killed) is replaced, so only the chunks in flight
                # then fail (exit_code 1 records, redone by --resume), not the rest
                if ex is not None:
                    ex.shutdown(wait=False, cancel_futures=True)
                ex = _own_pool(workers)
            paths = [item.path for item in batch]
            try:
                wire = [item.wire() for item in batch]
                chunk_stamps = [stamp_for(i.config) for i in batch]
                fut = ex.submit(_verify_chunk, wire, cfg, chunk_stamps, lines, slim)
            except Exception as exc:  # e.g. a pool already broken, a cluster unreachable
                fut = Future()
                fut.set_exception(exc)
            pending.append((paths, fut))
            while len(pending) >= limit:
                yield from _collect(*pending.popleft(), lines)
        while pending:
            yield from _collect(*pending.popleft(), lines)
    finally:
        for _, fut in pending:
            fut.cancel()
        if own and ex is not None:
            ex.shutdown(wait=True, cancel_futures=True)


def _broken(executor: Executor) -> bool:
    return bool(getattr(executor, "_broken", False))  # ProcessPoolExecutor after a lost worker


def _own_pool(workers: int) -> ProcessPoolExecutor:
    # the death signal follows the forking thread: ask for it only from the main thread
    main = threading.current_thread() is threading.main_thread()
    return ProcessPoolExecutor(
        max_workers=workers, initializer=worker_init, initargs=(os.getpid(), main)
    )


def _collect(paths: list[str], fut: Future[list[Any]], lines: bool) -> Iterator[Any]:
    try:
        records = fut.result()
    except Exception as exc:  # a broken worker, an unpicklable item, a lost cluster node
        records = [_internal_error(path, exc) for path in paths]
    else:
        if len(records) == len(paths):
            yield from records
            return
        # never from our worker; fail closed on anything else
        records = [_internal_error(p, RuntimeError("chunk result of wrong length")) for p in paths]
    yield from ((r, record_line(r)) for r in records) if lines else records


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
