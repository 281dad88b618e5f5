"""Strict CBOR: the bounded header scanner and the decoder (cocoverify._core.cbor)."""

from __future__ import annotations

from typing import Any

import pytest

from cocoverify import EvidenceError, MalformedEvidence, Reason
from cocoverify._core.cbor import check_cbor, decode_cbor


def _reason(fn: Any, *args: Any) -> Reason:
    with pytest.raises(EvidenceError) as err:
        fn(*args)
    return err.value.reason


@pytest.mark.parametrize(
    ("hex_", "reason"),
    [
        ("1817", Reason.MALFORMED),  # 23 in two bytes
        ("1900ff", Reason.MALFORMED),  # 255 in three bytes
        ("1a0000ffff", Reason.MALFORMED),  # 65535 in five bytes
        ("1b00000000ffffffff", Reason.MALFORMED),  # 2^32-1 in nine bytes
        ("5801ff", Reason.MALFORMED),  # 1-byte bstr with a 1-byte length
        ("f810", Reason.MALFORMED),  # simple value 16 in two bytes
        ("1c", Reason.MALFORMED),  # reserved additional information 28
        ("5f41ff41ffff", Reason.MALFORMED),  # indefinite bstr
        ("9f01ff", Reason.MALFORMED),  # indefinite array
        ("bf0101ff", Reason.MALFORMED),  # indefinite map
        ("ff", Reason.MALFORMED),  # lone break
        ("a201010101", Reason.MALFORMED),  # duplicate key 1
        ("c101", Reason.MALFORMED),  # a tag where none is allowed
        ("0101", Reason.TRAILING_DATA),
        ("43aabb", Reason.TRUNCATED),
        ("83010203"[:6], Reason.TRUNCATED),
        ("a3", Reason.TRUNCATED),
        ("19ff", Reason.TRUNCATED),
        ("", Reason.TRUNCATED),
    ],
)
def test_scanner_rejects(hex_: str, reason: Reason) -> None:
    assert _reason(check_cbor, bytes.fromhex(hex_), "x") is reason


@pytest.mark.parametrize(
    "hex_", ["00", "17", "1818", "19ffff", "a20102030a", "f4", "f6", "f93c00", "fb3ff0000000000000"]
)
def test_scanner_accepts_preferred_encodings(hex_: str) -> None:
    check_cbor(bytes.fromhex(hex_), "x")


def test_scanner_depth_limit() -> None:
    check_cbor(b"\x81" * 16 + b"\x00", "x")
    assert _reason(check_cbor, b"\x81" * 17 + b"\x00", "x") is Reason.MALFORMED


def test_scanner_allows_only_named_tags() -> None:
    check_cbor(bytes.fromhex("d24100"), "x", tags=frozenset({18}))
    with pytest.raises(MalformedEvidence):
        check_cbor(bytes.fromhex("d14100"), "x", tags=frozenset({18}))


def test_scanner_names_the_offset_of_a_duplicate_key() -> None:
    with pytest.raises(MalformedEvidence) as err:
        check_cbor(bytes.fromhex("a2010a010b"), "realm.payload")
    assert err.value.field == "realm.payload" and err.value.offset == 3


@pytest.mark.parametrize(
    "hex_",
    [
        "62c328",  # invalid UTF-8
        "a201f6f93c00f6",  # 1 and 1.0: distinct bytes, equal keys after decoding
    ],
)
def test_decoder_errors_become_malformed(hex_: str) -> None:
    assert _reason(decode_cbor, bytes.fromhex(hex_), "x") is Reason.MALFORMED


def test_decode_requires_bytes() -> None:
    assert _reason(decode_cbor, "a0", "x") is Reason.MALFORMED
