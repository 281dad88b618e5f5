"""Parser backend selection (docs/native.md, "Selecting the backend").

Chosen by ``COCOVERIFY_BACKEND``: ``auto`` (default), ``python`` or ``native``. ``auto`` uses
the native C core (``cocoverify._native``, built with cffi) when it imports, and otherwise
Python, saying so in a debug log line; ``native`` raises ConfigurationError when the
extension is missing. The native core only parses (``NATIVE_FEATURES``); everything else,
and all X.509 and signature checks (through ``cryptography``), is the same Python code
whatever the backend, so only parsing has to agree between backends.
"""

from __future__ import annotations

import logging
import os

from cocoverify._backend.crypto import ecdsa_verify_python
from cocoverify.errors import ConfigurationError, Reason

__all__ = [
    "BACKEND",
    "FEATURES",
    "NATIVE_ABI_VERSION",
    "NATIVE_FEATURES",
    "PYTHON_FEATURES",
    "backend",
    "backend_for",
    "ecdsa_verify",
    "native_error",
    "select_backend",
]

log = logging.getLogger("cocoverify.backend")

#: ``cv_abi_version()`` this wrapper was written for (csrc/cv_ffi.h).
NATIVE_ABI_VERSION = 1
#: What each backend parses. The native core grows one format at a time.
PYTHON_FEATURES = frozenset({"intel-quote", "snp-report", "cca-token"})
NATIVE_FEATURES = frozenset({"intel-quote"})


def _probe_native() -> str | None:
    """None when ``cocoverify._native`` imports and speaks our ABI, else why not."""
    try:
        # optional: the wrapper imports the extension cocoverify._native, absent when not built
        from cocoverify._backend import _native
    except ImportError as exc:
        return f"{type(exc).__name__}: {exc}"
    abi = int(_native.lib.cv_abi_version())
    if abi != NATIVE_ABI_VERSION:
        return f"cocoverify._native ABI {abi}, expected {NATIVE_ABI_VERSION} (stale build?)"
    return None


_NATIVE_ERROR = _probe_native()


def native_error() -> str | None:
    """Why the native backend is unavailable (the import error), or None when it is."""
    return _NATIVE_ERROR


def select_backend(requested: str | None = None) -> str:
    """The backend to use for ``requested`` (default: the environment variable)."""
    want = (requested or os.environ.get("COCOVERIFY_BACKEND", "auto")).lower()
    if want not in ("auto", "python", "native"):
        raise ConfigurationError(
            f"COCOVERIFY_BACKEND={want!r}: use auto, python or native",
            reason=Reason.INVALID_CONFIGURATION,
        )
    if want == "python":
        return "python"
    err = native_error()
    if err is None:
        return "native"
    if want == "native":
        raise ConfigurationError(
            f"COCOVERIFY_BACKEND=native: the native parsers are not available ({err})",
            reason=Reason.INVALID_CONFIGURATION,
        )
    log.debug("cocoverify: native parsers unavailable (%s), using the Python backend", err)
    return "python"


BACKEND = select_backend()
#: What the selected backend parses.
FEATURES = NATIVE_FEATURES if BACKEND == "native" else PYTHON_FEATURES


def backend_for(feature: str) -> str:
    """The backend that parses ``feature`` (e.g. ``"intel-quote"``) in this process."""
    return "native" if BACKEND == "native" and feature in NATIVE_FEATURES else "python"


def backend() -> str:
    """The backend in use in this process: ``"native"`` or ``"python"``."""
    return BACKEND


def ecdsa_verify(
    point: bytes, message: bytes, signature: bytes, *, little_endian: bool = False
) -> bool:
    """The evidence signature check of the selected backend (see ``_backend.crypto``)."""
    return ecdsa_verify_python(point, message, signature, little_endian=little_endian)
