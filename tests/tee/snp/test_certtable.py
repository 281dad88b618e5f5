"""The extended report's certificate table (GHCB spec §4.1.8.1): entries, bounds, GUIDs, overlap."""

from __future__ import annotations

import uuid

import pytest

from cocoverify import verify
from cocoverify.errors import MalformedEvidence, Reason
from cocoverify.tee.snp.certtable import (
    CERT_TABLE_ENTRY_SIZE,
    CertTable,
    CertTableEntry,
    parse_cert_table,
)
from cocoverify_testing.snp import cert_table

from _shared.snp import AT, REPORT, TRUST, VCEK, der_of


def test_cert_table_round_trip() -> None:
    blob = cert_table(vcek=b"\x30vcek", ask=b"\x30ask", ark=b"\x30ark")
    table = parse_cert_table(blob)
    assert [e.role for e in table.entries] == ["vcek", "ask", "ark"]
    assert table.get("ask") == CertTableEntry(table.entries[1].guid, "ask", b"\x30ask")
    assert table.get("vlek") is None
    assert table.to_bytes() == blob


def test_cert_table_unknown_guid_is_kept() -> None:
    blob = CertTable(
        (CertTableEntry("ecae0c0f-9502-43b1-afa2-0ae2e0d565b6", None, b"x"),)
    ).to_bytes()
    assert parse_cert_table(blob).entries[0].role is None


def test_cert_table_without_terminator() -> None:
    blob = cert_table(vcek=b"abc")
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(blob[: CERT_TABLE_ENTRY_SIZE + 10])
    assert exc.value.reason is Reason.TRUNCATED


def test_cert_table_blob_past_end() -> None:
    blob = cert_table(vcek=b"abcdef")
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(blob[:-1])
    assert exc.value.reason is Reason.TRUNCATED
    assert exc.value.field == "cert_table.length"


def test_cert_table_empty() -> None:
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(bytes(CERT_TABLE_ENTRY_SIZE))
    assert exc.value.reason is Reason.MALFORMED


def test_cert_table_offset_into_table() -> None:
    blob = bytearray(cert_table(vcek=b"abcdef"))
    blob[16:20] = (8).to_bytes(4, "little")
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(bytes(blob))
    assert exc.value.field == "cert_table.offset"


def test_cert_table_duplicate_guid() -> None:
    guid = "63da758d-e664-4564-adc5-f4b93be8accd"
    blob = CertTable((CertTableEntry(guid, "vcek", b"a"), CertTableEntry(guid, "vcek", b"b")))
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(blob.to_bytes())
    assert exc.value.field == "cert_table.guid"


# --- hostile tables: overlapping blobs multiplied memory ------------------------------------------


def _table(entries: list[tuple[bytes, int, int]], blob: bytes) -> bytes:
    head = b"".join(g + o.to_bytes(4, "little") + n.to_bytes(4, "little") for g, o, n in entries)
    return head + bytes(24) + blob


def test_overlapping_table_blobs_are_rejected() -> None:
    count, size = 200, 1 << 16
    start = (count + 1) * 24
    # every entry (unknown GUIDs) points at the same 64 KiB: parsed, this copied 12.8 MiB
    hostile = _table([(uuid.uuid4().bytes, start, size) for _ in range(count)], bytes(size))
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(hostile)
    assert exc.value.reason is Reason.MALFORMED and exc.value.field == "cert_table.offset"
    with pytest.raises(MalformedEvidence):
        verify(REPORT + hostile, trust=TRUST, at=AT)
    # two real entries sharing bytes
    vcek = der_of(VCEK)
    g1, g2 = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd"), uuid.uuid4()
    start = 3 * 24
    overlap = _table([(g1.bytes, start, len(vcek)), (g2.bytes, start + 10, 20)], vcek)
    with pytest.raises(MalformedEvidence) as exc:
        parse_cert_table(overlap)
    assert exc.value.reason is Reason.MALFORMED
    # adjacent blobs and empty entries are fine
    ok = _table([(g1.bytes, start, len(vcek)), (g2.bytes, start + len(vcek), 0)], vcek)
    assert len(parse_cert_table(ok).entries) == 2
