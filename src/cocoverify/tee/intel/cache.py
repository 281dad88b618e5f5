"""Bounded, thread-safe memo tables for the Intel pipeline (the tables and their sizes are
listed in ``prepared.py``).

Every table maps content (bytes, digests, integers) to the result of a pure function of that
content: a parse, a signature check, a plan (``_core.x509``). Nothing that depends on the
verification time or on the pinned roots is stored; the plans' ``check`` methods do that on
every call. Values are immutable. A read is one ``dict.get`` (atomic); writes take a lock
and drop the oldest entries beyond ``maxsize``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["Memo"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Memo(Generic[K, V]):
    """At most ``maxsize`` entries, oldest dropped first; safe to share between threads."""

    __slots__ = ("_data", "_lock", "maxsize", "name")

    def __init__(self, name: str, maxsize: int) -> None:
        self.name = name
        self.maxsize = maxsize
        self._data: dict[K, V] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value stored for ``key``, or None."""
        return self._data.get(key)

    def put(self, key: K, value: V) -> V:
        """Store ``value`` unless another thread stored one first; return the stored one."""
        with self._lock:
            data = self._data
            current = data.get(key)
            if current is not None:
                return current
            while len(data) >= self.maxsize:
                del data[next(iter(data))]
            data[key] = value
            return value

    def set(self, key: K, value: V) -> None:
        """Store ``value`` for ``key``, replacing what was there."""
        with self._lock:
            data = self._data
            if key not in data:
                while len(data) >= self.maxsize:
                    del data[next(iter(data))]
            data[key] = value

    def get_or_build(self, key: K, build: Callable[[], V]) -> V:
        """The value for ``key``, built (outside the lock) and stored when absent."""
        value = self._data.get(key)
        if value is None:
            value = self.put(key, build())
        return value

    def clear(self) -> None:
        """Drop every entry (tests)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
