"""Caching helpers of the CCA pipeline: a bounded thread-safe LRU, static failures replayed as
fresh errors, and content keys of collateral (public keys and JSON documents).

Every cache of :mod:`cocoverify.tee.cca` is keyed by content. A public key's content is its
curve and raw point; :class:`KeyMemo` remembers it for key objects already seen (it holds
them, so ``held is key`` means the same immutable object, hence the same content) and
compares the point of any other. A JSON document's content is a hashable copy of it that
keeps every type (a tuple is not a list); documents holding anything but JSON types get no
key, and then nothing about them is cached.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, NoReturn, TypeVar

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cocoverify.errors import CocoverifyError, Reason

__all__ = ["Failure", "KeyMemo", "Lru", "Rerun", "capture", "document_key", "ec_point"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_R = TypeVar("_R")
_MISS = object()


@dataclass(frozen=True, slots=True)
class Failure:
    """A cached check's error, raised as a new exception each time."""

    kind: type[CocoverifyError]
    message: str
    reason: Reason

    def check(self) -> NoReturn:
        """Raise a fresh exception equal to the one first raised."""
        raise self.kind(self.message, reason=self.reason)


@dataclass(frozen=True, slots=True)
class Rerun:
    """A cached check whose error cannot be rebuilt from message and reason: it runs again
    (a pure function of immutable inputs) and raises again."""

    fn: Callable[[], object]

    def check(self) -> None:
        """Run the check again."""
        self.fn()


def capture(fn: Callable[[], _R]) -> _R | Failure | Rerun:
    """``fn()``, or how to raise its error again."""
    try:
        return fn()
    except Exception as exc:
        if (
            isinstance(exc, CocoverifyError)
            and type(exc).__init__ is CocoverifyError.__init__
            and not exc.details
            and exc.result is None
        ):
            return Failure(type(exc), str(exc.args[0]), exc.reason)
        return Rerun(fn)


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


def ec_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """Raw X||Y of an EC public key."""
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]


class KeyMemo:
    """Curve name and raw point of EC public key objects: bounded (``per_curve`` objects
    for each curve, least recently seen dropped), thread-safe."""

    def __init__(self, per_curve: int) -> None:
        self._per_curve = per_curve
        self._held: dict[str, list[tuple[ec.EllipticCurvePublicKey, bytes]]] = {}
        self._lock = threading.Lock()

    def point(self, key: ec.EllipticCurvePublicKey) -> bytes:
        """``key``'s raw X||Y (computed once per key object)."""
        name = key.curve.name
        with self._lock:
            held = self._held.get(name, [])
            for obj, point in held:
                if obj is key:
                    return point
        point = ec_point(key)
        with self._lock:
            held = self._held.setdefault(name, [])
            held.insert(0, (key, point))
            del held[self._per_curve :]
        return point

    def clear(self) -> None:
        """Forget every key (tests)."""
        with self._lock:
            self._held.clear()


_JSON_SCALARS = (str, int, float, bool, type(None))


def document_key(doc: Any, depth: int = 0) -> Hashable | None:
    """A hashable copy of a JSON document that keeps each value's type, or None when it
    holds anything else (or nests deeper than 64)."""
    t = type(doc)
    if t in _JSON_SCALARS:
        return (t.__name__, doc)
    if depth > 64:
        return None
    if t is list:
        items = tuple(document_key(v, depth + 1) for v in doc)
        return None if None in items else ("list", items)
    if t is dict:
        pairs = []
        for k, v in doc.items():
            vk = document_key(v, depth + 1)
            if type(k) is not str or vk is None:
                return None
            pairs.append((k, vk))
        return ("dict", tuple(pairs))
    return None
