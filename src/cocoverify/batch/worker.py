"""The worker side: one record per item, collateral loaded once per worker and cached by
content stamp (docs/batch.md)."""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from typing import Any

from cocoverify._core.text import decode_text
from cocoverify.api import Verifier, as_time
from cocoverify.batch.config import BatchConfig, BatchItem, Skipped
from cocoverify.batch.inputs import evidence_bytes, looks_like_evidence
from cocoverify.batch.jsonl import record_line
from cocoverify.batch.record import record_and_line, record_for
from cocoverify.collateral import (
    Collateral,
    classify_file,
    load_collateral,
    read_collateral_file,
)
from cocoverify.errors import (
    CocoverifyError,
)
from cocoverify.registry import peek_tee
from cocoverify.result import VerificationResult

#: SHA-256 over (path, mtime_ns, size, inode) of each collateral file: part of every cache
#: key below, so replaced collateral (a new CRL, a fresh TCB Info) is never shadowed by a
#: cached copy in a long-lived worker or across ``verify_many`` calls in one process.
Stamp = str


def collateral_stamp(paths: Iterable[str], *, flat: bool = False) -> Stamp:
    """Digest of the files ``paths`` name (folders walked; ``flat``: top level only) and
    their stat; small enough to travel with every task."""
    out: list[tuple[str, int, int, int]] = []
    for path in paths:
        if os.path.isdir(path):
            if flat:
                files = [os.path.join(path, n) for n in sorted(os.listdir(path))]
            else:
                files = []
                for root, dirs, names in os.walk(path):
                    dirs.sort()
                    files += [os.path.join(root, n) for n in sorted(names)]
        else:
            files = [path]
        for name in files:
            try:
                st = os.stat(name)
            except OSError:
                out.append((name, -1, -1, -1))  # loading reports it
                continue
            if stat.S_ISREG(st.st_mode):
                out.append((name, st.st_mtime_ns, st.st_size, st.st_ino))
    return hashlib.sha256(repr(out).encode("utf-8", "surrogateescape")).hexdigest()


def _verifier(config: BatchConfig, stamp: Stamp | None = None) -> Verifier:
    global _last
    if stamp is None:
        stamp = collateral_stamp(config.collateral)
    last = _last
    if last is not None and last[0] is config and last[1] is stamp:  # the same key objects
        return last[2]
    verifier = _cached_verifier(config, stamp)
    _last = (config, stamp, verifier)
    return verifier


#: (config, stamp, Verifier) of the last :func:`_verifier` call: a batch asks for one config
#: item after item, and hashing a config (its trust pins) costs more than the identity test.
_last: tuple[BatchConfig, Stamp, Verifier] | None = None


@functools.lru_cache(maxsize=8)
def _cached_verifier(config: BatchConfig, stamp: Stamp) -> Verifier:
    # one Verifier per config (and collateral state) per process: loaded once
    del stamp  # part of the cache key only
    return Verifier(
        trust=config.trust(),
        collateral=load_collateral(config.collateral),
        policy=config.policy(),
    )


def preload(config: BatchConfig) -> None:
    """Load ``config``'s shared collateral into this process's cache now.

    Raises what loading raises (e.g. :class:`~cocoverify.errors.CollateralError`), so a
    driver can fail fast; worker processes forked afterwards inherit the loaded state.
    """
    _verifier(config)


@functools.lru_cache(maxsize=64)
def _when(at: str) -> _dt.datetime:
    return as_time(at)  # parsed once per config text, not per item


@functools.lru_cache(maxsize=64)
def _cached_item_collateral(paths: tuple[str, ...], stamp: Stamp) -> Collateral:
    del stamp  # part of the cache key only
    return load_collateral(paths)


@functools.lru_cache(maxsize=64)
def _cached_dir_collateral(folder: str, stamp: Stamp) -> Collateral:
    """The collateral files directly in ``folder`` (docs/batch.md "Collateral convention").

    Like a directory given to ``load_collateral``, but one level only: sub-folders (other
    cases, other files' ``*.collateral/``) never join this file's collateral. Evidence files
    and unrecognised files are skipped; a recognisable but broken file is an error.
    """
    del stamp  # part of the cache key only
    total = Collateral()
    for name in sorted(os.listdir(folder)):
        full = os.path.join(folder, name)
        if name.startswith(".") or not os.path.isfile(full):
            continue
        data = read_collateral_file(full)  # capped (docs/security.md "Input limits")
        if looks_like_evidence(data):
            continue
        item = classify_file(data, full)  # None: no collateral; damaged: CollateralInvalid
        if item is not None:
            total = total + item
    return total


def _internal_error(path: str, exc: BaseException, item_id: str | None = None) -> dict[str, Any]:
    head: dict[str, Any] = {"path": path} if item_id is None else {"path": path, "id": item_id}
    return {
        **head,
        "accepted": False,
        "tee": None,
        "reason": None,
        "exit_code": 1,
        "tcb_status": None,
        "advisory_ids": [],
        "claims": None,
        "platform": None,
        "error": type(exc).__name__,
        "message": str(exc),
    }


def _verify_item(
    item: BatchItem, config: BatchConfig, stamp: Stamp | None = None
) -> dict[str, Any]:
    """Worker entry point (module level, so it pickles); never raises.

    ``stamp``: the shared collateral's :func:`collateral_stamp`, taken once by the driver.
    """
    return _verify(item, config, stamp, False)[0]


def _verify_item_line(
    item: BatchItem, config: BatchConfig, stamp: Stamp | None = None
) -> tuple[dict[str, Any], str]:
    """:func:`_verify_item` and the record's JSON line (``record_line``), built together."""
    rec, line = _verify(item, config, stamp, True)
    return rec, line if line is not None else record_line(rec)


def _verify(
    item: BatchItem, config: BatchConfig, stamp: Stamp | None, line: bool
) -> tuple[dict[str, Any], str | None]:
    """The record, and with ``line`` its JSON line when built alongside (else None)."""
    cfg = item.config or config
    try:
        try:
            data = item.read()
        except OSError:
            if item.only_evidence:  # as expand_inputs(check_content=True) would skip it
                return Skipped(item.path).record(), None
            raise
        except CocoverifyError as exc:  # too large or a special file: not evidence (exit 2)
            if item.only_evidence:
                return Skipped(item.path).record(), None
            return record_for(item.path, exc, item_id=item.id), None
        if item.only_evidence:
            found = evidence_bytes(data)  # decoded as verify decodes it
            if found is None:
                return Skipped(item.path).record(), None
            data = found
        else:
            data = decode_text(data)
        verifier: Verifier | None = None
        try:
            verifier = _item_verifier(item, cfg, stamp)
            outcome: VerificationResult | CocoverifyError = verifier.verify(
                data, at=_when(item.at or cfg.at), expected_report_data=item.report_data
            )
            tee = None
        except CocoverifyError as exc:
            outcome, tee = exc, peek_tee(data)
        coll = verifier.collateral if verifier is not None else None
        if line:
            return record_and_line(item.path, outcome, tee=tee, collateral=coll, item_id=item.id)
        return record_for(item.path, outcome, tee=tee, collateral=coll, item_id=item.id), None
    except Exception as exc:  # OSError included: one bad file never stops the batch
        return _internal_error(item.path, exc, item.id), None


def _item_verifier(item: BatchItem, config: BatchConfig, stamp: Stamp | None) -> Verifier:
    """The config's Verifier, or one that also holds the item's own collateral: cached per
    (config, item collateral, their stamps), so a folder named by many items (a manifest's
    ``collateral``) is loaded once per worker, and its merged bag keeps one digest (the
    TEE packages' per-collateral caches then hit). ``at`` and ``report_data`` are per call,
    never part of the key."""
    if not item.collateral and item.collateral_dir is None:
        return _verifier(config, stamp)
    base = collateral_stamp(config.collateral) if stamp is None else stamp
    own = collateral_stamp(item.collateral) if item.collateral else ""
    folder = item.collateral_dir
    here = collateral_stamp([folder], flat=True) if folder is not None else ""
    return _cached_item_verifier(config, base, item.collateral, own, folder, here)


@functools.lru_cache(maxsize=64)
def _cached_item_verifier(
    config: BatchConfig,
    stamp: Stamp,
    paths: tuple[str, ...],
    own: Stamp,
    folder: str | None,
    here: Stamp,
) -> Verifier:
    shared = _cached_verifier(config, stamp)
    extra = _cached_item_collateral(paths, own) if paths else Collateral()
    if folder is not None:
        extra = extra + _cached_dir_collateral(folder, here)
    return Verifier(trust=shared.trust, collateral=shared.collateral + extra, policy=shared.policy)


#: The keys of a record that ``verify_many_lines(slim=True)`` hands back with its line.
SLIM_KEYS = ("path", "skipped", "accepted", "tee", "exit_code", "reason", "error")


def _verify_chunk(
    items: Sequence[BatchItem | str],
    config: BatchConfig,
    stamps: Sequence[Stamp | None],
    lines: bool = False,
    slim: bool = False,
) -> list[Any]:
    """Worker entry point for a chunk: one record per item, in order (with ``lines``, one
    (record, JSON line) pair; with ``slim`` too, the record cut to ``SLIM_KEYS``); never
    raises.

    An item is a :class:`BatchItem` or, when it has nothing but a path, the path
    (:meth:`BatchItem.wire`). ``stamps[i]``: the collateral stamp of ``items[i]``'s config
    (driver-side, once per config; the same string object repeats, so pickling it costs one
    reference).
    """
    wired = [
        (item if isinstance(item, BatchItem) else BatchItem(item), stamp)
        for item, stamp in zip(items, stamps, strict=True)
    ]
    if not lines:
        return [_verify_item(item, config, stamp) for item, stamp in wired]
    pairs = [_verify_item_line(item, config, stamp) for item, stamp in wired]
    if slim:
        # what the CLI reads of a record besides its line (exit code, summary, progress):
        # the rest of the record stays in the worker (less to pickle and unpickle)
        return [({k: r[k] for k in SLIM_KEYS if k in r}, line) for r, line in pairs]
    return pairs
