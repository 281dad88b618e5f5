"""EAT claim types both CCA claim sets use, with the sizes the RMM specification gives them.

Arm RMM specification §A7.2.3.1 (realm claims), §A7.2.3.2 (platform claims).
"""

from __future__ import annotations

from typing import Any

from cocoverify._core.cbor import as_bstr
from cocoverify.errors import MalformedEvidence

__all__ = ["HASH_SIZES", "ueid"]

#: Sizes of a measurement, signer-id or challenge: SHA-256, SHA-384, SHA-512 digests.
HASH_SIZES = (32, 48, 64)


def ueid(v: Any, where: str) -> bytes:
    """An EAT UEID of type RAND (RFC 9711 §4.2.1): 33 bytes, first byte 0x01."""
    raw = as_bstr(v, where, (33,))
    if raw[0] != 0x01:
        raise MalformedEvidence(f"UEID type {raw[0]:#x}, expected 0x01 (RAND)", field=where)
    return raw
