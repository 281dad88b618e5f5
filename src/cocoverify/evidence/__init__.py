"""Evidence: bytes in, frozen typed views out. Kind detection from content.

``detect()`` tells which TEE produced the bytes; each vendor module parses into immutable
views (``intel.parse_quote``, ``snp.parse_report``, ``cca.parse_token``).
"""

from __future__ import annotations

import base64
import binascii
import re

from ..errors import EvidenceError, Reason

__all__ = ["EVIDENCE_KINDS", "decode_text", "detect"]

#: The kinds ``detect`` returns; the TEE of an Intel quote is decided when parsing.
EVIDENCE_KINDS = ("intel", "snp", "cca")

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


def detect(data: bytes) -> str:
    """``"intel"``, ``"snp"`` or ``"cca"`` from the first bytes; EvidenceError otherwise."""
    if len(data) >= 8:
        u16 = int.from_bytes(data[0:2], "little")
        u32 = int.from_bytes(data[0:4], "little")
        key_type = int.from_bytes(data[2:4], "little")
        tee_type = int.from_bytes(data[4:8], "little")
        # Intel quote header: version 3..5, attestation key type != 0 (intel.md §2.1); an
        # unknown version with an Intel key type and TEE type is still an Intel quote
        if (u16 in (3, 4, 5) and key_type != 0) or (
            key_type in (2, 3) and tee_type in (0, 0x81) and u16 > 5
        ):
            return "intel"
        # SNP report: u32 VERSION 2..5 (amd.md §1)
        if 2 <= u32 <= 5:
            return "snp"
    if data[:1] in (b"\xd9", b"\xd2", b"\x84", b"\xda"):
        # CBOR tag 907 / 399 collections, or a COSE_Sign1 (tag 18) (cca.md §1.1)
        return "cca"
    if len(data) < 8:
        raise EvidenceError(
            f"evidence of {len(data)} bytes is too short to recognise", reason=Reason.UNKNOWN_FORMAT
        )
    raise EvidenceError(
        "evidence is neither an Intel quote, an SNP report nor a CCA token",
        reason=Reason.UNKNOWN_FORMAT,
    )


def peek_tee(data: bytes) -> str | None:
    """Best-effort TEE name from the first bytes, for reports about unparseable evidence."""
    try:
        kind = detect(data)
    except EvidenceError:
        return None
    if kind != "intel":
        return kind
    return "tdx" if int.from_bytes(data[4:8], "little") == 0x81 else "sgx"
