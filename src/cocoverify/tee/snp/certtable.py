"""The certificate table of an SEV-SNP extended report (GHCB spec §4.1.8.1, MSG_REPORT_REQ
extended guest request): 24-byte entries (GUID, offset, length) up to an all-zero entry, then
the certificate blobs. Bytes in, frozen views out; no cryptography here.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass

from cocoverify.errors import MalformedEvidence, Reason

__all__ = [
    "CERT_TABLE_ENTRY_SIZE",
    "CERT_TABLE_GUIDS",
    "CertTable",
    "CertTableEntry",
    "parse_cert_table",
]


#: GUID -> role (GHCB spec §4.1.8.1). The ASK GUID also carries the ASVK: no ASVK GUID exists.
CERT_TABLE_GUIDS = {
    "63da758d-e664-4564-adc5-f4b93be8accd": "vcek",
    "a8074bc2-a25a-483e-aae6-39c045a0b8a1": "vlek",
    "4ab7b379-bbac-4fe4-a02f-05aef327c782": "ask",
    "c0b406a4-a803-4952-9743-3fb6014cd0ae": "ark",
    "92f81bc3-5811-4d3d-97ff-d19f88dc67ea": "crl",
}
CERT_TABLE_ENTRY_SIZE = 24


@dataclass(frozen=True, slots=True)
class CertTableEntry:
    """One certificate-table entry: GUID (canonical text), its role, and the blob."""

    guid: str
    role: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class CertTable:
    """The parsed certificate blob of an extended report."""

    entries: tuple[CertTableEntry, ...]

    def get(self, role: str) -> CertTableEntry | None:
        """The entry with ``role`` (vcek, vlek, ask, ark, crl), or None."""
        for e in self.entries:
            if e.role == role:
                return e
        return None

    def to_bytes(self) -> bytes:
        """Encode: entries, an all-zero terminator, then the blobs in entry order."""
        header = (len(self.entries) + 1) * CERT_TABLE_ENTRY_SIZE
        table = bytearray()
        blobs = bytearray()
        for e in self.entries:
            offset = header + len(blobs)
            table += uuid.UUID(e.guid).bytes
            table += offset.to_bytes(4, "little") + len(e.data).to_bytes(4, "little")
            blobs += e.data
        return bytes(table) + bytes(CERT_TABLE_ENTRY_SIZE) + bytes(blobs)


def parse_cert_table(data: bytes, *, base: int = 0) -> CertTable:
    """Parse a certificate blob (GHCB spec §4.1.8.1). ``base`` shifts offsets in error messages.

    Checks: whole 24-byte entries up to an all-zero terminator; each blob lies after the
    table and inside ``data``; no GUID twice; no two blobs overlap; at least one entry.
    Bounds and GUIDs are checked while scanning, so garbage fails at its first entry, and
    non-overlap bounds the copied blobs by the input size (a hostile table of many entries
    all pointing at one large blob would otherwise copy it once per entry).
    """
    data = bytes(data)
    raw_entries: list[tuple[bytes, int, int, int]] = []
    seen_guids: set[bytes] = set()
    pos = 0
    while True:
        if pos + CERT_TABLE_ENTRY_SIZE > len(data):
            raise MalformedEvidence(
                "certificate table ends without its all-zero terminator",
                field="cert_table",
                offset=base + pos,
                reason=Reason.TRUNCATED,
            )
        entry = data[pos : pos + CERT_TABLE_ENTRY_SIZE]
        if not any(entry):
            break
        offset = int.from_bytes(entry[16:20], "little")
        length = int.from_bytes(entry[20:24], "little")
        if entry[:16] in seen_guids:
            raise MalformedEvidence(
                f"GUID {uuid.UUID(bytes=entry[:16])} appears twice",
                field="cert_table.guid",
                offset=base + pos,
                reason=Reason.MALFORMED,
            )
        seen_guids.add(entry[:16])
        if offset + length > len(data):
            raise MalformedEvidence(
                f"entry {uuid.UUID(bytes=entry[:16])} ({offset:#x}+{length:#x}) runs past the "
                f"{len(data)}-byte blob",
                field="cert_table.length",
                offset=base + pos + 20,
                reason=Reason.TRUNCATED,
            )
        raw_entries.append((entry[:16], offset, length, pos))
        pos += CERT_TABLE_ENTRY_SIZE
    table_end = pos + CERT_TABLE_ENTRY_SIZE
    if not raw_entries:
        raise MalformedEvidence(
            "certificate table is empty", field="cert_table", offset=base, reason=Reason.MALFORMED
        )
    for guid_bytes, offset, _, at in raw_entries:
        if offset < table_end:
            raise MalformedEvidence(
                f"entry {uuid.UUID(bytes=guid_bytes)} points into the table (offset {offset:#x})",
                field="cert_table.offset",
                offset=base + at + 16,
                reason=Reason.MALFORMED,
            )
    # blobs may not overlap (the table lays them out one after another); sorted by start,
    # any overlap shows between neighbours
    spans = sorted((o, o + n, at) for _, o, n, at in raw_entries if n)
    for (_, end, _), (start, _, at) in itertools.pairwise(spans):
        if start < end:
            raise MalformedEvidence(
                "certificate table blobs overlap",
                field="cert_table.offset",
                offset=base + at + 16,
                reason=Reason.MALFORMED,
            )
    entries = []
    for guid_bytes, offset, length, _ in raw_entries:
        guid = str(uuid.UUID(bytes=guid_bytes))
        entries.append(
            CertTableEntry(guid, CERT_TABLE_GUIDS.get(guid), data[offset : offset + length])
        )
    return CertTable(tuple(entries))
