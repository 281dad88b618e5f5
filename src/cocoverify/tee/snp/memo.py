"""Caching helpers of the SNP pipeline: static failures replayed as fresh errors, and a
bounded, thread-safe memo from certificate / CRL objects to their content.

Every cache of :mod:`cocoverify.tee.snp` is keyed by content: DER bytes, SHA-256 digests of
DER, the pinned fingerprints of the trust store. ``ObjectMemo`` finds the content record of a
``cryptography`` object without re-encoding it on every call: it buckets records by the
object's signature bytes and holds the objects it has seen, so ``held is obj`` (same
immutable object, kept alive by the memo, hence equal content) skips the DER comparison; any
other object is compared by its DER. Nothing depending on the verification time is cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from cocoverify._core.memo import Failure, Lru, Outcome, Rerun, capture, outcome

__all__ = ["Failure", "Lru", "ObjectMemo", "Outcome", "Rerun", "capture", "outcome"]

_K = TypeVar("_K")
_O = TypeVar("_O")
_V = TypeVar("_V")
_R = TypeVar("_R")


class ObjectMemo(Generic[_O, _V]):
    """Content record of immutable objects, bounded (``maxsize`` signature buckets of at
    most ``per_bucket`` objects each, least recently used evicted) and thread-safe.

    ``signature(obj)`` gives the bucket (cheap, not trusted alone); the SHA-256 of
    ``der(obj)`` is the content compared for any object the bucket does not hold, after
    ``admit(obj)`` (which may raise: nothing is then stored) ran on it.
    """

    def __init__(
        self,
        signature: Callable[[_O], bytes],
        der: Callable[[_O], bytes],
        *,
        admit: Callable[[_O], object],
        maxsize: int,
        per_bucket: int = 4,
    ) -> None:
        self._signature = signature
        self._der = der
        self._admit = admit
        self._maxsize = maxsize
        self._per_bucket = per_bucket
        self._buckets: OrderedDict[bytes, tuple[tuple[_O, bytes, _V], ...]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, obj: _O) -> _V | None:
        """The record of an object held by the memo (identity only), else None."""
        with self._lock:
            bucket = self._buckets.get(self._signature(obj))
        if bucket is not None:
            for held, _, value in bucket:
                if held is obj:
                    return value
        return None

    def lookup(self, obj: _O, make: Callable[[_O, bytes], _V]) -> _V:
        """The record of ``obj``: held object, or same DER as one held, else ``make(obj,
        der)``. Each object not held yet is admitted first."""
        sig = self._signature(obj)
        with self._lock:
            bucket = self._buckets.get(sig)
            if bucket is not None:
                self._buckets.move_to_end(sig)
        if bucket is not None:
            for held, _, value in bucket:
                if held is obj:
                    return value
        self._admit(obj)
        der = self._der(obj)
        digest = hashlib.sha256(der).digest()
        same = [known for _, held, known in bucket or () if held == digest]
        value = same[0] if same else make(obj, der)
        with self._lock:
            current = self._buckets.get(sig, ())
            if not any(held is obj for held, _, _ in current):
                self._buckets[sig] = ((obj, digest, value), *current)[: self._per_bucket]
            self._buckets.move_to_end(sig)
            while len(self._buckets) > self._maxsize:
                self._buckets.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every record (tests)."""
        with self._lock:
            self._buckets.clear()
