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
from dataclasses import dataclass
from typing import Generic, NoReturn, TypeVar

from cocoverify.errors import CocoverifyError, Reason

__all__ = ["Failure", "Lru", "ObjectMemo", "Outcome", "Rerun", "capture", "outcome"]

_K = TypeVar("_K")
_O = TypeVar("_O")
_V = TypeVar("_V")
_R = TypeVar("_R")


@dataclass(frozen=True, slots=True)
class Failure:
    """A cached static check's error: raised as a new exception each time (an exception
    object is never shared between calls or threads)."""

    kind: type[CocoverifyError]
    message: str
    reason: Reason

    def check(self) -> NoReturn:
        """Raise a fresh exception equal to the one first raised."""
        raise self.kind(self.message, reason=self.reason)


@dataclass(frozen=True, slots=True)
class Rerun:
    """A cached static check whose error cannot be rebuilt from its message and reason:
    the check (a pure function of immutable objects) runs again and raises again."""

    fn: Callable[[], object]

    def check(self) -> None:
        """Run the check again."""
        self.fn()


#: A static check's cached outcome: None (passed), or how to raise its error again.
Outcome = Failure | Rerun | None


def _replayable(exc: Exception) -> bool:
    # only errors whose constructor is (message, reason=...) can be rebuilt exactly
    return (
        isinstance(exc, CocoverifyError)
        and type(exc).__init__ is CocoverifyError.__init__
        and not exc.details
        and exc.result is None
    )


def capture(fn: Callable[[], _R]) -> _R | Failure | Rerun:
    """``fn()``, or how to raise its error again."""
    try:
        return fn()
    except Exception as exc:
        if _replayable(exc):
            assert isinstance(exc, CocoverifyError)
            return Failure(type(exc), str(exc.args[0]), exc.reason)
        return Rerun(fn)


def outcome(fn: Callable[[], object]) -> Outcome:
    """:func:`capture` for a check that returns nothing."""
    result = capture(fn)
    return result if isinstance(result, Failure | Rerun) else None


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


_MISS = object()


class Lru(Generic[_K, _V]):
    """A bounded (``maxsize`` entries, least recently used evicted), thread-safe map from
    content keys to values made once; concurrent misses may both make the value (pure)."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._data: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_make(self, key: _K, make: Callable[[], _V]) -> _V:
        """The value of ``key``, made by ``make()`` on a miss (an exception stores nothing)."""
        with self._lock:
            value = self._data.get(key, _MISS)
            if value is not _MISS:
                self._data.move_to_end(key)
                return value  # type: ignore[return-value]
        made = make()
        with self._lock:
            self._data[key] = made
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)
        return made

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget every entry (tests)."""
        with self._lock:
            self._data.clear()
