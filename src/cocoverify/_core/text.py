"""Evidence given as text: hex or base64 is decoded to bytes before detection."""

from __future__ import annotations

import base64
import binascii
import re

__all__ = ["decode_text"]

_HEX = re.compile(rb"\s*(0x)?[0-9a-fA-F\s]+")
_B64 = re.compile(rb"[A-Za-z0-9+/=_\-\s]+")


def decode_text(data: bytes) -> bytes:
    """Hex or base64 text to bytes; anything else is returned unchanged."""
    stripped = data.strip()
    if not stripped or any(b > 0x7E or (b < 0x20 and b not in b"\t\r\n") for b in stripped):
        return data
    if _HEX.fullmatch(stripped):
        compact = re.sub(rb"\s", b"", stripped)
        compact = compact[2:] if compact[:2] in (b"0x", b"0X") else compact
        if len(compact) % 2 == 0:
            try:
                return binascii.unhexlify(compact)
            except binascii.Error:
                pass
    if _B64.fullmatch(stripped):
        compact = re.sub(rb"\s", b"", stripped)
        try:
            if b"-" in compact or b"_" in compact:
                return base64.urlsafe_b64decode(compact + b"=" * (-len(compact) % 4))
            return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError):
            pass
    return data
