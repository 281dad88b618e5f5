"""A minimal, bounded DER reader for vendor certificate extensions (X.690 §8, §10).

Only what extension values need: definite lengths, single-byte tags, INTEGER, OCTET STRING,
BOOLEAN, ENUMERATED, OBJECT IDENTIFIER, SEQUENCE. Raises ValueError on anything else; callers
map that to their own error.
"""

from __future__ import annotations

__all__ = ["TLV", "decode_oid", "parse_int", "parse_tlv", "parse_tlvs"]

TAG_BOOLEAN = 0x01
TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_OID = 0x06
TAG_ENUMERATED = 0x0A
TAG_SEQUENCE = 0x30


class TLV:
    """One DER element: tag and value bytes."""

    __slots__ = ("tag", "value")

    def __init__(self, tag: int, value: bytes) -> None:
        self.tag = tag
        self.value = value

    def children(self) -> list[TLV]:
        """The elements of a constructed value."""
        if not self.tag & 0x20:
            raise ValueError(f"tag {self.tag:#x} is not constructed")
        return parse_tlvs(self.value)


def parse_tlv(data: bytes, pos: int = 0) -> tuple[TLV, int]:
    """The element at ``pos`` and the offset after it (X.690 §8.1, DER §10.1)."""
    if pos + 2 > len(data):
        raise ValueError("truncated TLV header")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tags are not supported")
    first = data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise ValueError("bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        if length < 0x80 or data[pos] == 0:
            raise ValueError("non-minimal length encoding")
        pos += n
    end = pos + length
    if end > len(data):
        raise ValueError("truncated TLV value")
    return TLV(tag, data[pos:end]), end


def parse_tlvs(data: bytes) -> list[TLV]:
    """All consecutive elements of ``data`` (which must be consumed exactly)."""
    out = []
    pos = 0
    while pos < len(data):
        tlv, pos = parse_tlv(data, pos)
        out.append(tlv)
    return out


def parse_int(tlv: TLV) -> int:
    """INTEGER or ENUMERATED value (two's complement)."""
    if tlv.tag not in (TAG_INTEGER, TAG_ENUMERATED) or not tlv.value:
        raise ValueError(f"expected INTEGER, got tag {tlv.tag:#x}")
    return int.from_bytes(tlv.value, "big", signed=True)


def decode_oid(tlv: TLV) -> str:
    """Dotted OID text (X.690 §8.19)."""
    if tlv.tag != TAG_OID or not tlv.value:
        raise ValueError(f"expected OBJECT IDENTIFIER, got tag {tlv.tag:#x}")
    arcs: list[int] = []
    value = 0
    for b in tlv.value:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    if tlv.value[-1] & 0x80:
        raise ValueError("truncated OID")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])
