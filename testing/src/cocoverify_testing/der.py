"""TEST ONLY. A tiny DER writer (ITU-T X.690 §8, §10) for hand-made certificate extensions.

Used for values that ``cryptography`` cannot build itself: the Intel SGX extension of PCK
certificates and the AMD KDS extensions of VCEK/VLEK certificates.
"""

from __future__ import annotations

__all__ = [
    "der_bool",
    "der_enum",
    "der_ia5",
    "der_int",
    "der_octets",
    "der_oid",
    "der_seq",
    "tlv",
]


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def tlv(tag: int, content: bytes) -> bytes:
    """One tag-length-value with a definite, minimal length."""
    return bytes([tag]) + _der_len(len(content)) + content


def der_oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER."""
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def _int_content(n: int) -> bytes:
    return n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)


def der_int(n: int) -> bytes:
    """INTEGER (minimal two's complement)."""
    return tlv(0x02, _int_content(n))


def der_enum(n: int) -> bytes:
    """ENUMERATED."""
    return tlv(0x0A, _int_content(n))


def der_octets(data: bytes) -> bytes:
    """OCTET STRING."""
    return tlv(0x04, data)


def der_bool(value: bool) -> bytes:
    """BOOLEAN (DER: 0xFF for true)."""
    return tlv(0x01, b"\xff" if value else b"\x00")


def der_ia5(text: str) -> bytes:
    """IA5String."""
    return tlv(0x16, text.encode("ascii"))


def der_seq(*items: bytes) -> bytes:
    """SEQUENCE of already encoded items."""
    return tlv(0x30, b"".join(items))
