"""SPDM request/response parsing: frozen views, every field, offsets in errors, opaque data
decoded as trustee decodes it."""

from __future__ import annotations

import dataclasses

import pytest

from cocoverify.errors import MalformedEvidence, UnsupportedEvidence
from cocoverify.tee.nvidia.parse import OpaqueField, decode_opaque, looks_like, parse_report
from cocoverify_testing.nvidia import FakeNvidiaPki, ReportSpec, build_report

PKI = FakeNvidiaPki()
REPORT = build_report(PKI)


def test_views_are_frozen_and_complete() -> None:
    r = parse_report(REPORT)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.request.nonce = b""  # type: ignore[misc]
    assert r.request.version == 0x11 and r.request.param2 == 0xFF
    assert len(r.response.blocks) == 64 and r.response.blocks[0].offset == 37 + 8
    assert len(r.signed) == len(REPORT) - 96 and r.trailing == 0
    assert r.opaque_value(20) == PKI.fwid


@pytest.mark.parametrize("cut", [38, 45, 60, len(REPORT) - 200, len(REPORT) - 1])
def test_truncation_names_field_and_offset(cut: int) -> None:
    with pytest.raises(MalformedEvidence) as info:
        parse_report(REPORT[:cut])
    assert info.value.offset is not None and info.value.offset <= cut  # type: ignore[attr-defined]


def test_unsupported_version() -> None:
    with pytest.raises(UnsupportedEvidence):
        parse_report(build_report(PKI, ReportSpec(version=0x12, response_version=0x12)))


def test_record_length_mismatch_is_trailing_data() -> None:
    data = bytearray(REPORT)
    data[37 + 5] += 1  # record length one larger than the blocks
    with pytest.raises(MalformedEvidence):
        parse_report(bytes(data))


@pytest.mark.parametrize(
    ("type_", "value", "expected"),
    [
        (3, b"550.90.07\0\0", ("driver_version", "550.90.07")),
        (
            6,
            bytes.fromhex("009f009601000000"),
            ("vbios_version", "96.00.9f.00.01"),
        ),
        (
            12,
            (1).to_bytes(4, "little") + (130).to_bytes(4, "little"),
            ("measurement_count", {"1": 1, "2": 130}),
        ),
        (22, bytes(range(16)), ("switch_pdi", ["0001020304050607", "08090a0b0c0d0e0f"])),
        (34, (3).to_bytes(4, "little"), ("opaque_data_version", 3)),
        (36, (2).to_bytes(4, "little"), ("feature_flag", "PPCIE")),
        (36, (9).to_bytes(4, "little"), ("feature_flag", "unknown")),
        (20, bytes(48), ("fwid", "00" * 48)),
    ],
)
def test_opaque_decoding(type_: int, value: bytes, expected: tuple[str, object]) -> None:
    assert decode_opaque(OpaqueField(type_, value, 0)) == expected


def test_looks_like_never_raises() -> None:
    for data in (b"", b"\x11", b"\x11\xe0" + bytes(100), REPORT[:45], bytes(200)):
        looks_like(data)
    assert looks_like(REPORT)
