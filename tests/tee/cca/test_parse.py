"""Arm CCA container: tag 907 CMW / legacy 399 collections into the token view."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from cocoverify import EvidenceError, Reason
from cocoverify.tee.cca.parse import looks_like, parse_token
from cocoverify_testing.cca import CcaTokenBuilder, collection

B = CcaTokenBuilder()


def _reason(fn: Any, *args: Any) -> tuple[Reason, str | None]:
    with pytest.raises(EvidenceError) as err:
        fn(*args)
    return err.value.reason, getattr(err.value, "field", None)


def test_token_views_are_frozen() -> None:
    token = parse_token(B.sign())
    with pytest.raises(AttributeError):
        token.container = "x"  # type: ignore[misc]
    assert token.container == "cmw-907"
    assert token.platform_claims.lifecycle_state == "secured"
    assert token.realm_claims.rak.encoding == "cose_key"


def test_unknown_collection_entries_are_tolerated_and_reported() -> None:
    pf, rl = B.sign_parts()
    data = cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf], 44241: [263, rl], 44242: b"dev"}))
    assert parse_token(data).extra_entries == (44242,)


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],  # collection is not a map
        {b"k": b"v"},  # key type
        {True: b"v"},  # bool key (== 1 in Python)
    ],
)
def test_bad_collection_shapes(body: Any) -> None:
    assert _reason(parse_token, cbor2.dumps(cbor2.CBORTag(907, body)))[0] is Reason.MALFORMED


def test_legacy_entry_must_be_non_empty_bstr() -> None:
    pf, _ = B.sign_parts()
    data = cbor2.dumps(cbor2.CBORTag(399, {44234: pf, 44241: b""}))
    assert _reason(parse_token, data) == (Reason.MALFORMED, "container.realm")


def test_collection_helper_round_trip() -> None:
    pf, rl = B.sign_parts()
    assert parse_token(collection(pf, rl, container="collection-399")).container == (
        "collection-399"
    )


@pytest.mark.parametrize(
    ("data", "cca"),
    [
        (b"\xd9\x03\x8b\xa0", True),  # tag 907
        (b"\xd9\x01\x8f\xa0", True),  # tag 399
        (b"\xd2\x84", True),  # tag 18: a COSE_Sign1 (rejected later, named as such)
        (b"\x84\x40", True),  # an untagged COSE_Sign1 array
        (b"\xa0", False),
        (b"", False),
    ],
)
def test_looks_like(data: bytes, cca: bool) -> None:
    assert looks_like(data) is cca
