"""Arm CCA property tests: arbitrary and mutated tokens only raise cocoverify errors."""

from __future__ import annotations

import contextlib
from typing import Any

import cbor2
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import CocoverifyError, Collateral
from cocoverify.tee.cca.platform import validate_platform_claims
from cocoverify.tee.cca.realm import validate_realm_claims
from cocoverify_testing.cca import CcaTokenBuilder

B = CcaTokenBuilder()
TOKEN = B.sign()
PLATFORM, REALM = B.sign_parts()
COLL = Collateral(public_keys=(B.platform.cpak.public_key(),))
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(data: bytes) -> None:
    with contextlib.suppress(CocoverifyError):
        cocoverify.verify(data, collateral=COLL, at="2026-01-01T00:00:00Z")


@SETTINGS
@given(st.binary(max_size=512))
def test_arbitrary_bytes(data: bytes) -> None:
    if data:
        _run(b"\xd9\x03\x8b" + data)
        _run(data)


@SETTINGS
@given(st.data())
def test_mutated_token(data: st.DataObject) -> None:
    buf = bytearray(TOKEN)
    for _ in range(data.draw(st.integers(1, 4))):
        op = data.draw(st.sampled_from(["flip", "set", "cut", "insert", "delete"]))
        pos = data.draw(st.integers(0, len(buf) - 1))
        if op == "flip":
            buf[pos] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set":
            buf[pos] = data.draw(st.integers(0, 255))
        elif op == "cut":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del buf[pos : pos + data.draw(st.integers(1, 8))]
        if not buf:
            return
    _run(bytes(buf))


_leaf = st.one_of(
    st.integers(-(2**64), 2**64 - 1),
    st.binary(max_size=70),
    st.text(max_size=10),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
)
_cbor: Any = st.recursive(
    _leaf,
    lambda kids: st.one_of(
        st.lists(kids, max_size=5),
        st.dictionaries(st.one_of(st.integers(-3, 70000), st.text(max_size=3)), kids, max_size=5),
        st.builds(cbor2.CBORTag, st.sampled_from([18, 263, 399, 907, 1]), kids),
    ),
    max_leaves=20,
)


@SETTINGS
@given(_cbor, _cbor)
def test_structured_collections(platform: Any, realm: Any) -> None:
    for tag in (907, 399):
        body: dict[int, Any] = {
            44234: [263, cbor2.dumps(platform)],
            44241: [263, cbor2.dumps(realm)],
        }
        if tag == 399:
            body = {44234: cbor2.dumps(platform), 44241: cbor2.dumps(realm)}
        _run(cbor2.dumps(cbor2.CBORTag(tag, body)))
        _run(cbor2.dumps(cbor2.CBORTag(tag, {44234: platform, 44241: realm})))


@SETTINGS
@given(st.dictionaries(st.sampled_from([10, 256, 265, 2395, 2399, 44235, 44237, 44239]), _cbor))
def test_claim_overrides(overrides: dict[int, Any]) -> None:
    b = B
    for key, value in overrides.items():
        b = b.with_platform_claim(key, value).with_realm_claim(key, value)
    _run(b.sign())
    for fn, claims in (
        (validate_platform_claims, b.platform_claims()),
        (validate_realm_claims, b.realm_claims()),
    ):
        with contextlib.suppress(CocoverifyError):
            fn(claims)
