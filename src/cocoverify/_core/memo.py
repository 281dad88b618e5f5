"""Building blocks of the content-keyed caches: a bounded thread-safe LRU, and a static check's
failure kept so that it can be raised again as a fresh exception (never a shared object).

Used by the TEE packages' caches; what is cached and under which content key is decided
there (see each package's module docstrings).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, NoReturn, TypeVar

from cocoverify.errors import CocoverifyError, Reason

__all__ = ["Failure", "Lru", "Outcome", "Rerun", "capture", "outcome"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_R = TypeVar("_R")
_MISS = object()


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

    def get(self, key: _K) -> _V | None:
        """The value of ``key``, or None."""
        with self._lock:
            value = self._data.get(key, _MISS)
            if value is _MISS:
                return None
            self._data.move_to_end(key)
            return value  # type: ignore[return-value]

    def put(self, key: _K, value: _V) -> None:
        """Store ``value`` under ``key``."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self._maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget every entry (tests)."""
        with self._lock:
            self._data.clear()
