"""Run a call on each backend in turn (docs/native.md "Selecting the backend"); used by the
fuzz targets and the mutation sweep. Not collected by pytest."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import cocoverify._backend as backend_mod
from cocoverify import CocoverifyError
from cocoverify._backend import native_error

#: Both backends when the native core imports; CI requires it (COCOVERIFY_REQUIRE_NATIVE).
BACKENDS = ("python", "native") if native_error() is None else ("python",)
if len(BACKENDS) == 1 and os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
    raise RuntimeError(f"COCOVERIFY_REQUIRE_NATIVE is set: {native_error()}")
_NATIVE = backend_mod._native_module() if "native" in BACKENDS else None


@contextmanager
def selected(name: str) -> Iterator[None]:
    """Parsers and the quote signature check of ``name`` for the duration."""
    saved = backend_mod.BACKEND, backend_mod._NATIVE
    backend_mod.BACKEND = name
    backend_mod._NATIVE = _NATIVE if name == "native" else None
    try:
        yield
    finally:
        backend_mod.BACKEND, backend_mod._NATIVE = saved


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    """``call()``'s value, or the identity of the CocoverifyError it raised."""
    try:
        return ("ok", call())
    except CocoverifyError as exc:
        return (
            "error",
            type(exc).__name__,
            exc.reason,
            getattr(exc, "field", None),
            getattr(exc, "offset", None),
            str(exc),
        )


def same_on_both(call: Callable[[], Any], what: str, data: bytes) -> tuple[Any, ...]:
    """``call`` on each backend; AssertionError (a finding) when they differ."""
    results = []
    for name in BACKENDS:
        with selected(name):
            results.append(outcome(call))
    if len(results) == 2 and results[0] != results[1]:
        raise AssertionError(
            f"{what}: python and native disagree on {data[:32].hex()}...: "
            f"{results[0]!r:.300} != {results[1]!r:.300}"
        )
    return results[0]
