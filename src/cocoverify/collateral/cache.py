"""A thread-safe cache in front of a collateral source (docs/collateral-sources.md).

Entries are keyed by the normalised request (vendor, TEE, FMSPC, CA / product, key type,
hwid, TCB), never by ``at``. An entry serves a request at time ``at`` while

* it is younger than ``max_age`` (wall clock, injectable ``clock``), and
* ``at`` is before the earliest ``nextUpdate`` of its items (TCB Info, QE Identity, TCB
  evaluation numbers, CRLs). An entry already past it is still served for
  ``min_refetch`` after it was fetched, so a source that serves stale collateral is not
  asked again on every request (the pipeline rejects stale collateral anyway).

Misses are single-flight: concurrent requests for one key share one fetch (and its
error). ``negative_ttl`` > 0 also remembers CollateralUnavailable for that long (useful
against rate limits). ``stale_if_error`` serves the last copy held (memory or disk, however
old) when the inner source cannot answer (CollateralUnavailable: server down, 404, 429,
timeout, or an offline source); the pipeline still checks its dates, so a stale copy is
rejected as expired rather than accepted. ``directory`` adds an on-disk cache that
survives restarts; its files are read like any collateral file (content-recognised,
verified by the pipeline) and an unreadable or mismatching file is a miss. Use one
directory per source configuration.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from cocoverify._core.x509 import force_parse
from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import CollateralRequest, check_at
from cocoverify.collateral.source import CollateralSource, SourceBase
from cocoverify.errors import CollateralError, CollateralUnavailable, ConfigurationError, Reason

__all__ = ["CacheStats", "CachingSource", "earliest_next_update"]

_FORMAT = "cocoverify-collateral-cache/1"
_NEVER = _dt.datetime.min.replace(tzinfo=_dt.UTC)
_DER = serialization.Encoding.DER


@dataclass(frozen=True, slots=True)
class CacheStats:
    """Counters: ``hits`` (memory), ``disk_hits``, ``misses`` (led a fetch), ``joined``
    (waited for another thread's fetch), ``fetches`` (calls to the inner source),
    ``errors`` (failed fetches), ``evictions``, ``entries`` (now in memory), ``stale`` (an
    old copy served because the fetch failed: ``stale_if_error``)."""

    hits: int = 0
    disk_hits: int = 0
    misses: int = 0
    joined: int = 0
    fetches: int = 0
    errors: int = 0
    evictions: int = 0
    entries: int = 0
    stale: int = 0


def _json_next_update(body: bytes, member: str) -> _dt.datetime:
    try:
        text = json.loads(body)[member]["nextUpdate"]
        t = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return _NEVER  # unreadable: treat as stale (the pipeline reports the defect)
    return t.astimezone(_dt.UTC) if t.tzinfo else _NEVER


def earliest_next_update(c: Collateral) -> _dt.datetime | None:
    """The earliest ``nextUpdate`` of the items of ``c`` (None: no dated item)."""
    times = [_json_next_update(b, "tcbInfo") for b in c.tcb_infos]
    times += [_json_next_update(b, "enclaveIdentity") for b in c.qe_identities]
    times += [_json_next_update(b, "tcbEvaluationDataNumbers") for b in c.tcb_evaluation_numbers]
    times += [crl.next_update_utc or _NEVER for crl in c.crls]
    return min(times) if times else None


@dataclass(slots=True)
class _Entry:
    value: Collateral | None
    error: CollateralUnavailable | None
    fetched: float
    expires: _dt.datetime | None


@dataclass(slots=True)
class _Flight:
    done: threading.Event = field(default_factory=threading.Event)
    value: Collateral | None = None
    error: BaseException | None = None


class CachingSource(SourceBase):
    """Caches the answers of ``inner`` (see the module docstring). Safe to share between
    threads (one lock; fetches run outside it)."""

    def __init__(
        self,
        inner: CollateralSource,
        *,
        max_entries: int = 1024,
        max_age: _dt.timedelta = _dt.timedelta(hours=24),
        min_refetch: _dt.timedelta = _dt.timedelta(minutes=1),
        negative_ttl: _dt.timedelta = _dt.timedelta(0),
        directory: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.time,
        stale_if_error: bool = False,
    ) -> None:
        if max_entries < 1 or max_age <= _dt.timedelta(0):
            raise ConfigurationError(
                "CachingSource: max_entries >= 1 and a positive max_age",
                reason=Reason.INVALID_ARGUMENT,
            )
        self.inner = inner
        self.max_entries = max_entries
        self.max_age = max_age.total_seconds()
        self.min_refetch = min_refetch.total_seconds()
        self.negative_ttl = negative_ttl.total_seconds()
        self.directory = Path(directory) if directory is not None else None
        self.stale_if_error = stale_if_error
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, ...], _Entry] = OrderedDict()
        self._flights: dict[tuple[str, ...], _Flight] = {}
        self._n: dict[str, int] = dict.fromkeys(
            ("hits", "disk_hits", "misses", "joined", "fetches", "errors", "evictions", "stale"), 0
        )

    # --- the protocol ------------------------------------------------------------------------

    def fetch(self, request: CollateralRequest, *, at: _dt.datetime) -> Collateral:
        """Cached ``inner.fetch(request)``."""
        at = check_at(at)
        return self._get(request.key, at, lambda: self.inner.fetch(request, at=at))

    # --- bookkeeping -------------------------------------------------------------------------

    @property
    def stats(self) -> CacheStats:
        """A snapshot of the counters."""
        with self._lock:
            return CacheStats(**self._n, entries=len(self._entries))

    def clear(self) -> None:
        """Forget every in-memory entry (the disk cache stays)."""
        with self._lock:
            self._entries.clear()

    def _fresh(self, e: _Entry, at: _dt.datetime, now: float) -> bool:
        age = now - e.fetched
        if e.error is not None:
            return age < self.negative_ttl
        if age > self.max_age or age < 0:
            return False
        if e.expires is None or at < e.expires:
            return True
        return age < self.min_refetch

    def _store(self, key: tuple[str, ...], entry: _Entry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self._n["evictions"] += 1

    def _get(
        self, key: tuple[str, ...], at: _dt.datetime, fetch: Callable[[], Collateral]
    ) -> Collateral:
        with self._lock:
            entry = self._entries.get(key)
            held = entry.value if entry is not None else None
            if entry is not None and self._fresh(entry, at, self._clock()):
                self._entries.move_to_end(key)
                self._n["hits"] += 1
                if entry.error is not None:
                    raise entry.error
                assert entry.value is not None
                return entry.value
            flight = self._flights.get(key)
            leader = flight is None
            if flight is None:
                flight = self._flights[key] = _Flight()
                self._n["misses"] += 1
            else:
                self._n["joined"] += 1
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.value is not None
            return flight.value
        try:
            flight.value = self._lead(key, at, fetch, held)
            return flight.value
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    def _lead(
        self,
        key: tuple[str, ...],
        at: _dt.datetime,
        fetch: Callable[[], Collateral],
        held: Collateral | None = None,
    ) -> Collateral:
        disk = self._disk_load(key)
        if disk is not None and self._fresh(disk, at, self._clock()):
            with self._lock:
                self._n["disk_hits"] += 1
                self._store(key, disk)
            assert disk.value is not None
            return disk.value
        with self._lock:
            self._n["fetches"] += 1
        try:
            value = fetch()
        except CollateralUnavailable as exc:
            old = disk.value if disk is not None else held
            with self._lock:
                self._n["errors"] += 1
                if self.stale_if_error and old is not None:
                    self._n["stale"] += 1
                    return old  # verified by the pipeline like any file (dates included)
                if self.negative_ttl > 0:
                    self._store(key, _Entry(None, exc, self._clock(), None))
            raise
        except CollateralError:
            with self._lock:
                self._n["errors"] += 1
            raise
        entry = _Entry(value, None, self._clock(), earliest_next_update(value))
        with self._lock:
            self._store(key, entry)
        self._disk_save(key, entry)
        return value

    # --- disk --------------------------------------------------------------------------------

    def _path(self, key: tuple[str, ...]) -> Path | None:
        if self.directory is None:
            return None
        digest = hashlib.sha256(json.dumps(list(key)).encode()).hexdigest()
        return self.directory / f"{digest}.json"

    def _disk_save(self, key: tuple[str, ...], entry: _Entry) -> None:
        path = self._path(key)
        if path is None or entry.value is None:
            return
        doc = {
            "format": _FORMAT,
            "key": list(key),
            "fetched": entry.fetched,
            "collateral": _dump(entry.value),
        }
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(doc, fh)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            pass  # a cache that cannot write is only slower

    def _disk_load(self, key: tuple[str, ...]) -> _Entry | None:
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            doc = json.loads(path.read_bytes())
            if doc.get("format") != _FORMAT or doc.get("key") != list(key):
                return None
            value = _load(doc["collateral"])
            fetched = float(doc["fetched"])
        except (OSError, ValueError, KeyError, TypeError, UnsupportedAlgorithm, CollateralError):
            return None
        return _Entry(value, None, fetched, earliest_next_update(value))


# --- serialising Collateral (raw bytes kept: signed bodies are never re-serialised) ------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _dump(c: Collateral) -> dict[str, Any]:
    return {
        "chains": [[_b64(cert.public_bytes(_DER)) for cert in chain] for chain in c.chains],
        "crls": [_b64(crl.public_bytes(_DER)) for crl in c.crls],
        "tcb_infos": [_b64(b) for b in c.tcb_infos],
        "qe_identities": [_b64(b) for b in c.qe_identities],
        "tcb_evaluation_numbers": [_b64(b) for b in c.tcb_evaluation_numbers],
        "public_keys": [
            _b64(k.public_bytes(_DER, serialization.PublicFormat.SubjectPublicKeyInfo))
            for k in c.public_keys
        ],
        "documents": list(c.documents),
        "sources": list(c.sources),
    }


def _load(d: Mapping[str, Any]) -> Collateral:
    def raw(name: str) -> tuple[bytes, ...]:
        return tuple(base64.b64decode(x, validate=True) for x in d[name])

    chains = tuple(
        tuple(x509.load_der_x509_certificate(base64.b64decode(x, validate=True)) for x in chain)
        for chain in d["chains"]
    )
    crls = tuple(x509.load_der_x509_crl(b) for b in raw("crls"))
    for chain in chains:
        for cert in chain:
            force_parse(cert)
    for crl in crls:
        force_parse(crl)
    return Collateral(
        chains=chains,
        crls=crls,
        tcb_infos=raw("tcb_infos"),
        qe_identities=raw("qe_identities"),
        tcb_evaluation_numbers=raw("tcb_evaluation_numbers"),
        public_keys=tuple(serialization.load_der_public_key(b) for b in raw("public_keys")),
        documents=tuple(d["documents"]),
        sources=tuple(str(s) for s in d["sources"]),
    )
