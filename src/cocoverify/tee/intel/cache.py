"""Bounded, thread-safe memo tables for the Intel pipeline (docs/performance.md, "Caches").

Every table maps content (bytes, digests, integers) to the result of a pure function of that
content: a parse, a signature check, a plan (``_core.x509``). Nothing that depends on the
verification time or on the pinned roots is stored; the plans' ``check`` methods do that on
every call. A table holds at most ``maxsize`` entries and drops the least recently used one
beyond that; a lock guards each read and write (the values are immutable).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LruCache"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruCache(Generic[K, V]):
    """A least-recently-used map of at most ``maxsize`` entries, safe to share."""

    __slots__ = ("_data", "_lock", "maxsize", "name")

    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self.maxsize = maxsize
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value stored for ``key``, or None."""
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> V:
        """Store ``value`` unless another thread stored one first; return the stored one."""
        with self._lock:
            current = self._data.get(key)
            if current is not None:
                return current
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)
            return value

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        """The value for ``key``, built (outside the lock) and stored when absent."""
        value = self.get(key)
        if value is None:
            value = self.put(key, build())
        return value

    def clear(self) -> None:
        """Drop every entry (tests)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
