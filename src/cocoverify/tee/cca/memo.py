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
from collections.abc import Hashable
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cocoverify._core.memo import Failure, Lru, Rerun, capture

__all__ = ["Failure", "KeyMemo", "Lru", "Rerun", "capture", "document_key", "ec_point"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_R = TypeVar("_R")
_MISS = object()


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
