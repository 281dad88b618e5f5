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

import datetime as _dt
import functools
import glob
import hashlib
import json
import os
import re
import stat
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Final

from cocoverify._core.text import decode_text
from cocoverify.api import Verifier, as_time
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.errors import (
    CocoverifyError,
    CollateralError,
    EvidenceError,
    PolicyRejected,
    Reason,
)
from cocoverify.policy import Policy
from cocoverify.registry import detect, peek_tee
from cocoverify.result import VerificationResult, format_time, to_jsonable
from cocoverify.trust import TrustStore

__all__ = [
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

#: Claims copied into each record (when the evidence has them), as lower-case hex / ints.
KEY_CLAIMS: Final = (
    "mr_enclave",
    "mr_signer",
    "isv_prod_id",
    "isv_svn",
    "mr_td",
    "rtmr0",
    "rtmr1",
    "rtmr2",
    "rtmr3",
    "mr_config_id",
    "measurement",
    "host_data",
    "vmpl",
    "product",
    "realm_initial_measurement",
    "platform_implementation_id",
    "report_data",
)

#: Suffix of the per-evidence sibling collateral directory (``quote.bin.collateral/``).
COLLATERAL_SUFFIX: Final = ".collateral"


@dataclass(frozen=True, slots=True)
class BatchConfig:
    """Shared verification settings, picklable and hashable (plain text and tuples).

    Build it with :meth:`create`. ``policy_json`` is ``Policy.to_dict()`` as JSON (None =
    default policy); ``intel_roots``/``amd_arks`` are pinned fingerprints (both None = the
    real vendor roots); ``at`` is ISO 8601 text, fixed once for the whole batch.
    """

    at: str
    collateral: tuple[str, ...] = ()
    policy_json: str | None = None
    intel_roots: tuple[str, ...] | None = None
    amd_arks: tuple[tuple[str, tuple[str, ...]], ...] | None = None

    @classmethod
    def create(
        cls,
        *,
        collateral: Iterable[str | os.PathLike[str]] = (),
        policy: Policy | Mapping[str, Any] | None = None,
        trust: TrustStore | None = None,
        at: _dt.datetime | str | None = None,
    ) -> BatchConfig:
        """Normalise settings; ``at`` None means now (taken once, here)."""
        pol = Policy.from_dict(dict(policy)) if isinstance(policy, Mapping) else policy
        return cls(
            at=format_time(as_time(at)),
            collateral=tuple(os.fspath(p) for p in collateral),
            policy_json=None if pol is None else json.dumps(pol.to_dict(), sort_keys=True),
            intel_roots=None if trust is None else tuple(sorted(trust.intel_roots)),
            amd_arks=None
            if trust is None
            else tuple(sorted((p, tuple(sorted(fps))) for p, fps in trust.amd_arks.items())),
        )

    def policy(self) -> Policy:
        """The policy object."""
        if self.policy_json is None:
            return Policy.default()
        return Policy.from_dict(json.loads(self.policy_json))

    def trust(self) -> TrustStore:
        """The trust store."""
        if self.intel_roots is None and self.amd_arks is None:
            return TrustStore.default()
        return TrustStore(
            intel_roots=frozenset(self.intel_roots or ()),
            amd_arks={p: frozenset(fps) for p, fps in self.amd_arks or ()},
        )


@dataclass(frozen=True, slots=True)
class BatchItem:
    """One piece of evidence: read from ``path`` in the worker unless ``data`` is given.

    ``collateral`` adds paths to the config's shared collateral; ``collateral_dir`` adds the
    collateral files directly in that folder (not its sub-folders, so no other evidence
    file's ``<file>.collateral/`` or case folder leaks in); ``config`` overrides the batch
    config for this item (e.g. its own ``at``).
    """

    path: str
    data: bytes | None = None
    collateral: tuple[str, ...] = ()
    config: BatchConfig | None = None
    collateral_dir: str | None = None


@dataclass(frozen=True, slots=True)
class Skipped:
    """An input found in a folder or glob that is not evidence (recorded, not verified)."""

    path: str
    why: str = "not evidence"

    def record(self) -> dict[str, Any]:
        """The JSON line for it."""
        return {"path": self.path, "skipped": self.why}


class InlineExecutor(Executor):
    """Runs each task at submit time in this process (``--jobs 1``, tests, debugging)."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run now; the future is already done."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future


# --- worker side ---------------------------------------------------------------------------


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
    return _cached_verifier(config, collateral_stamp(config.collateral) if stamp is None else stamp)


@functools.lru_cache(maxsize=8)
def _cached_verifier(config: BatchConfig, stamp: Stamp) -> Verifier:
    # one Verifier per config (and collateral state) per process: loaded once
    del stamp  # part of the cache key only
    return Verifier(
        trust=config.trust(),
        collateral=load_collateral(config.collateral),
        policy=config.policy(),
    )


def _item_collateral(paths: tuple[str, ...]) -> Collateral:
    return _cached_item_collateral(paths, collateral_stamp(paths))


@functools.lru_cache(maxsize=64)
def _cached_item_collateral(paths: tuple[str, ...], stamp: Stamp) -> Collateral:
    del stamp  # part of the cache key only
    return load_collateral(paths)


_KNOWN_PEM: Final = re.compile(
    rb"-----BEGIN (CERTIFICATE|TRUSTED CERTIFICATE|X509 CRL|PUBLIC KEY)-"
)


def _claims_collateral(data: bytes) -> bool:
    """Content that ``load_collateral`` would recognise, so a failure to load it is an error
    (JSON, or PEM with a certificate, CRL or public key); anything else is skipped."""
    stripped = data.strip()
    if stripped[:1] in (b"{", b"["):
        try:
            json.loads(stripped)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False
        return True
    return _KNOWN_PEM.search(stripped) is not None


def _dir_collateral(folder: str) -> Collateral:
    return _cached_dir_collateral(folder, collateral_stamp([folder], flat=True))


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
        with open(full, "rb") as fh:
            data = fh.read()
        if looks_like_evidence(data):
            continue
        try:
            total = total + Collateral.from_bytes(data, source=full)
        except CollateralError:
            if _claims_collateral(data):
                raise
    return total


def record_for(
    path: str,
    outcome: VerificationResult | CocoverifyError,
    *,
    tee: str | None = None,
) -> dict[str, Any]:
    """The JSON line for one verification outcome (same facts as ``verify --format json``)."""
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    claims = {}
    if result is not None:
        claims = {k: to_jsonable(result.claims[k]) for k in KEY_CLAIMS if k in result.claims}
    accepted = isinstance(outcome, VerificationResult) and outcome.accepted
    rec: dict[str, Any] = {
        "path": path,
        "accepted": accepted,
        "tee": result.tee if result is not None else tee,
        "reason": None,
        "exit_code": 0,
        "tcb_status": result.tcb_status if result is not None else None,
        "advisory_ids": list(result.advisory_ids) if result is not None else [],
        "claims": claims if result is not None else None,
    }
    if isinstance(outcome, CocoverifyError):
        rec["reason"] = outcome.reason.value
        rec["exit_code"] = outcome.exit_code
        rec["error"] = type(outcome).__name__
        rec["message"] = str(outcome.args[0]) if outcome.args else ""
    elif not accepted:  # a result that says "not accepted" is a policy rejection, never 0
        rec["reason"] = (outcome.reason or Reason.POLICY_REJECTED).value
        rec["exit_code"] = PolicyRejected.exit_code
    if result is not None:
        rec["verified_at"] = format_time(result.verified_at)
    return rec


def _internal_error(path: str, exc: BaseException) -> dict[str, Any]:
    return {
        "path": path,
        "accepted": False,
        "tee": None,
        "reason": None,
        "exit_code": 1,
        "tcb_status": None,
        "advisory_ids": [],
        "claims": None,
        "error": type(exc).__name__,
        "message": str(exc),
    }


def _verify_item(
    item: BatchItem, config: BatchConfig, stamp: Stamp | None = None
) -> dict[str, Any]:
    """Worker entry point (module level, so it pickles); never raises.

    ``stamp``: the shared collateral's :func:`collateral_stamp`, taken once by the driver.
    """
    cfg = item.config or config
    try:
        data = item.data
        if data is None:
            with open(item.path, "rb") as fh:
                data = fh.read()
        data = decode_text(data)
        tee = peek_tee(data)
        try:
            verifier = _verifier(cfg, stamp)
            extra = _item_collateral(item.collateral) if item.collateral else None
            if item.collateral_dir is not None:
                here = _dir_collateral(item.collateral_dir)
                extra = here if extra is None else extra + here
            result = verifier.verify(data, at=cfg.at, collateral=extra)
        except CocoverifyError as exc:
            return record_for(item.path, exc, tee=tee)
        return record_for(item.path, result)
    except OSError as exc:
        return _internal_error(item.path, exc)
    except Exception as exc:  # one bad file never stops the batch
        return _internal_error(item.path, exc)


# --- driver --------------------------------------------------------------------------------


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


# --- inputs --------------------------------------------------------------------------------


def looks_like_evidence(data: bytes) -> bool:
    """Content check for files found in folders: evidence, not collateral (docs/batch.md)."""
    head = data.lstrip()[:16]
    if head[:1] in (b"{", b"[") or head.startswith(b"-----BEGIN"):
        return False  # JSON collateral / PEM certificates and keys
    try:
        detect(decode_text(data))
    except EvidenceError:
        return False
    return True


def _has_magic(path: str) -> bool:
    return glob.has_magic(path)


def _sibling_collateral(path: str) -> tuple[str, ...]:
    sibling = path + COLLATERAL_SUFFIX
    return (sibling,) if os.path.isdir(sibling) else ()


def clean_path(path: str) -> str:
    """``os.path.normpath`` unless the path has a ``..`` component.

    ``normpath`` is lexical: ``link/../q.bin`` becomes ``q.bin`` although, with ``link`` a
    symbolic link, it names another file. Such paths are kept as written, so the file
    read, the record's ``path`` and ``--resume`` all mean the file that was asked for.
    """
    parts = path.replace(os.sep, "/").split("/")
    if os.altsep:
        parts = [q for p in parts for q in p.split(os.altsep)]
    return path if ".." in parts else os.path.normpath(path)


def _walk(folder: str) -> Iterator[str]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and not d.endswith(COLLATERAL_SUFFIX)
        )
        for name in sorted(files):
            if not name.startswith("."):
                yield os.path.join(root, name)


def _in_collateral_dir(path: str) -> bool:
    parts = os.path.normpath(path).split(os.sep)
    return any(p.endswith(COLLATERAL_SUFFIX) for p in parts)


def _filtered(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return looks_like_evidence(fh.read())
    except OSError:
        return False


def expand_inputs(
    paths: Iterable[str], *, collateral_from_dir: bool = False
) -> list[BatchItem | Skipped]:
    """Files, folders (recursive, sorted) and globs to items, in the order given.

    Files named explicitly are always verified. Files found in a folder or by a glob are
    verified only when their content looks like evidence; the others become
    :class:`Skipped`. ``<file>.collateral/`` directories are collateral, never inputs.
    A path that does not exist is kept: its record says it cannot be read.
    """
    out: list[BatchItem | Skipped] = []
    seen: set[str] = set()

    def add(path: str, *, explicit: bool) -> None:
        norm = clean_path(path)
        key = os.path.realpath(norm)  # one file reached by two names is verified once
        if key in seen:
            return
        seen.add(key)
        if not explicit and not _filtered(norm):
            out.append(Skipped(norm))
            return
        folder = (os.path.dirname(norm) or ".") if collateral_from_dir else None
        out.append(BatchItem(norm, collateral=_sibling_collateral(norm), collateral_dir=folder))

    for arg in paths:
        if os.path.isdir(arg):
            for f in _walk(arg):
                add(f, explicit=False)
        elif not os.path.exists(arg) and _has_magic(arg):
            for match in sorted(glob.glob(arg, recursive=True)):
                if _in_collateral_dir(match):
                    continue
                if os.path.isdir(match):
                    for f in _walk(match):
                        add(f, explicit=False)
                else:
                    add(match, explicit=False)
        else:
            add(arg, explicit=True)
    return out


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
