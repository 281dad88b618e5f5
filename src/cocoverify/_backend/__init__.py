"""Backend selection (docs/native.md, "Selecting the backend").

Chosen by ``COCOVERIFY_BACKEND``: ``auto`` (default), ``python`` or ``native``. ``auto`` uses
the native C core (``cocoverify._native``, built with cffi, linked to libcrypto) when it
imports, and otherwise Python, saying so in a debug log line; ``native`` raises
ConfigurationError when the extension is missing. The native core parses what
``NATIVE_FEATURES`` lists and runs the per-evidence signature check (``ecdsa_verify``,
``parse_and_verify_quote``) in C with the GIL released; X.509, CRLs and collateral stay on
``cryptography`` whatever the backend. Both backends give identical results
(tests/_backend/).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from cocoverify._backend._contract import QuoteFields
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
    "crypto_version",
    "describe",
    "ecdsa_verify",
    "native_error",
    "parse_and_verify_quote",
    "parse_and_verify_quote_python",
    "select_backend",
]

log = logging.getLogger("cocoverify.backend")

#: ``cv_abi_version()`` this wrapper was written for (csrc/cv_ffi.h).
NATIVE_ABI_VERSION = 2
#: What each backend does: formats it parses, ``ecdsa-verify`` (``ecdsa_verify``) and
#: ``intel-quote-verify`` (``parse_and_verify_quote``). The native core grows one at a time.
PYTHON_FEATURES = frozenset(
    {"intel-quote", "snp-report", "sgx-extension", "cca-token"}
    | {"ecdsa-verify", "intel-quote-verify"}
)
NATIVE_FEATURES = frozenset(
    {"intel-quote", "snp-report", "sgx-extension", "ecdsa-verify", "intel-quote-verify"}
)


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
    missing = [f for f in ("cv_snp_parse", "cv_sgxext_parse") if not hasattr(_native.lib, f)]
    if missing:
        return f"cocoverify._native lacks {', '.join(missing)} (stale build?)"
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


def _native_module() -> Any:
    # optional: the wrapper of the extension, imported (and checked) by _probe_native above
    from cocoverify._backend import _native

    return _native


#: The native wrapper when the native backend is selected, else None.
_NATIVE: Any = _native_module() if BACKEND == "native" else None


def crypto_version() -> str:
    """The libcrypto the selected backend verifies signatures with: the system libcrypto the
    native core links, or the one ``cryptography`` carries."""
    if _NATIVE is not None:
        return str(_NATIVE.crypto_version())
    from cryptography.hazmat.backends.openssl.backend import backend as openssl

    return str(openssl.openssl_version_text())


def describe() -> str:
    """For ``cocoverify --version``: the backend and its libcrypto, e.g. ``native backend,
    OpenSSL 3.0.13 30 Jan 2024``."""
    return f"{BACKEND} backend, {crypto_version()}"


def ecdsa_verify(
    point: bytes, message: bytes, signature: bytes, *, little_endian: bool = False
) -> bool:
    """The evidence signature check of the selected backend: True only for a valid ECDSA
    signature. ``point`` is a raw X||Y public key (64 bytes P-256/SHA-256, 96 P-384/SHA-384,
    132 P-521/SHA-512), ``signature`` r||s of the same size, big-endian unless
    ``little_endian`` (AMD). Native: one C call into libcrypto, GIL released, keys cached by
    point bytes (``_native.KEY_CACHE_SIZE``); Python: ``crypto.ecdsa_verify_python``."""
    if _NATIVE is not None:
        return bool(_NATIVE.ecdsa_verify(point, message, signature, little_endian=little_endian))
    return ecdsa_verify_python(point, message, signature, little_endian=little_endian)


def parse_and_verify_quote_python(
    data: bytes, parse_fields: Callable[[bytes], QuoteFields]
) -> tuple[QuoteFields, bool]:
    """The pure-Python ``parse_and_verify_quote``: ``parse_fields(data)``, then
    ``ecdsa_verify_python`` of the quote signature (P-256, big-endian r||s) over
    ``data[:signed_end]`` with the attestation key in the quote."""
    f = parse_fields(data)
    ak, sig = f.attestation_key_offset, f.signature_offset
    ok = ecdsa_verify_python(
        bytes(data[ak : ak + 64]), bytes(data[: f.signed_end]), bytes(data[sig : sig + 64])
    )
    return f, ok


def parse_and_verify_quote(
    data: bytes, parse_fields: Callable[[bytes], QuoteFields]
) -> tuple[QuoteFields, bool]:
    """Parse a DCAP quote and check its quote signature, in one step.

    Returns ``(fields, signature_ok)``: the field table the selected backend's parser
    returns (or raises its ``EvidenceError``, exactly as ``parse_quote_fields``), and True
    only when the quote signature (ECDSA P-256 over SHA-256 of ``data[:fields.signed_end]``,
    raw r||s big-endian at ``fields.signature_offset``) verifies with the attestation key at
    ``fields.attestation_key_offset``. False also covers an attestation key that is not a
    P-256 point. The QE report signature, the QE report data binding and everything after
    stay with the caller.

    ``parse_fields`` is the pure-Python field parser
    (``cocoverify.tee.intel.parse._parse_fields_python``; ``_backend`` sits below ``tee`` and
    cannot import it): used by the Python backend only. The native backend does all of it in
    one C call (``cv_dcap_parse_verify``, GIL released, attestation keys cached by point
    bytes). Both give identical results for every input (tests/_backend/).
    """
    if _NATIVE is not None:
        fields, ok = _NATIVE.parse_and_verify_quote(data)
        return fields, bool(ok)
    return parse_and_verify_quote_python(data, parse_fields)
