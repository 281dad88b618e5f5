"""Arm CCA claims and warnings as the result reports them (cocoverify.tee.cca.claims)."""

from __future__ import annotations

from typing import Any

import cbor2

import cocoverify
from cocoverify import Collateral
from cocoverify.result import to_jsonable
from cocoverify.tee.cca import describe
from cocoverify.tee.cca.claims import token_claims
from cocoverify.tee.cca.parse import parse_token
from cocoverify_testing.cca import CcaTokenBuilder

AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
TOKEN = B.sign()
CPAK = B.platform.cpak.public_key()


def _verify(data: bytes = TOKEN, **kwargs: Any) -> cocoverify.VerificationResult:
    kwargs.setdefault("collateral", Collateral(public_keys=(CPAK,)))
    return cocoverify.verify(data, at=AT, **kwargs)


def test_claim_names_and_order() -> None:
    claims = token_claims(parse_token(TOKEN))
    assert list(claims) == ["container", "platform", "realm"]
    assert list(claims["platform"])[:3] == ["alg", "profile", "challenge"]
    assert list(claims["realm"])[:3] == ["alg", "profile", "rak_encoding"]
    assert list(claims["platform"]["sw_components"][1]) == [
        "type",
        "measurement",
        "version",
        "signer_id",
        "hash_algo",
    ]


def test_show_describes_the_same_claims_unverified() -> None:
    out = describe(TOKEN)
    assert out["verified"] is False
    assert out["claims"] == to_jsonable(token_claims(parse_token(TOKEN)))


def test_warning_when_measurement_sizes_do_not_match_hash_algo() -> None:
    token = B.with_realm_claim(44238, bytes(64)).sign()
    assert any("initial_measurement" in w for w in _verify(token).warnings)


def test_extra_collection_entries_are_reported() -> None:
    pf, rl = B.sign_parts()
    data = cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf], 44241: [263, rl], 9: b"x"}))
    assert any("ignored" in w for w in _verify(data).warnings)


# --- regression: unknown collection keys are unsigned, attacker-chosen text that was copied
# verbatim (control characters, any length) into result warnings and CLI output.


def test_unsigned_collection_keys_are_escaped_and_bounded_in_warnings() -> None:
    b = CcaTokenBuilder()
    pf, rl = b.sign_parts()
    entries: dict[Any, Any] = {44234: [263, pf], 44241: [263, rl]}
    entries["\x1b[2J\x1b[31mACCEPTED\r\n" + "x" * 5000] = 1
    for i in range(50):
        entries[100 + i] = i
    data = cbor2.dumps(cbor2.CBORTag(907, entries))
    result = _verify(data, collateral=Collateral(public_keys=(b.platform.cpak.public_key(),)))
    (warning,) = [w for w in result.warnings if "ignored" in w]
    assert warning.isprintable()
    assert len(warning) < 600
    assert "51" in warning  # the count is still reported
