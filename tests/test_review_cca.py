"""Arm CCA: regression tests from the adversarial review (docs/cca.md "Platform keys").

Each test names the defect it guards. The attacks assume an attacker who holds one CPAK
that the verifier trusts (a compromised or merely different platform) and tries to have
its tokens accepted under another platform's identity.
"""

from __future__ import annotations

from typing import Any

import pytest

import cocoverify
from cocoverify import (
    Collateral,
    CollateralInvalid,
    CollateralUnavailable,
    Reason,
    SignatureInvalid,
)
from cocoverify_testing.cca import CcaTokenBuilder, FakeCcaPlatform

AT = "2026-01-01T00:00:00Z"
VICTIM = FakeCcaPlatform(label="review-victim")
ATTACKER = FakeCcaPlatform(label="review-attacker")
THIRD = FakeCcaPlatform(label="review-third")
ED25519_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}


def _verify(data: bytes, collateral: Collateral) -> cocoverify.VerificationResult:
    return cocoverify.verify(data, collateral=collateral, at=AT)


def _impersonating(*, kid: bytes | None = None, same_impl: bool = True) -> bytes:
    """A token signed with the attacker's CPAK that claims the victim's instance-id."""
    b = CcaTokenBuilder(platform=ATTACKER).with_platform_claim(256, VICTIM.instance_id)
    if same_impl:
        b = b.with_platform_claim(2396, VICTIM.implementation_id)
    if kid is not None:
        b = b.with_headers("platform", {1: -35}, {4: kid})
    return b.sign()


# --- review issue 1: an (unauthenticated) COSE kid promoted a key next to the instance's
# trust anchor, so any kid-named key could sign for any instance the store pins.


def test_cose_kid_does_not_add_keys_beside_the_instance_trust_anchor() -> None:
    named = {**ATTACKER.cpak_jwk(), "kid": "attacker-key"}
    coll = Collateral(documents=(VICTIM.ta_store(), {"keys": [named]}))
    with pytest.raises(SignatureInvalid) as err:
        _verify(_impersonating(kid=b"attacker-key"), coll)
    assert err.value.reason is Reason.SIGNATURE_INVALID


def test_cose_kid_selection_is_not_reported_as_bound() -> None:
    named = {**ATTACKER.cpak_jwk(), "kid": "k-1"}
    token = CcaTokenBuilder(platform=ATTACKER).with_headers("platform", {1: -35}, {4: b"k-1"})
    result = _verify(token.sign(), Collateral(documents=({"keys": [named]},)))
    assert result.collateral["cpak"]["bound"] is False


# --- review issue 2: a trust-anchor entry for the token's instance-id with another
# implementation-id was skipped, and the search fell back to unbound keys.


def test_implementation_id_change_does_not_escape_the_trust_anchor() -> None:
    coll = Collateral(public_keys=(ATTACKER.cpak.public_key(),), documents=(VICTIM.ta_store(),))
    # control: with the victim's implementation-id only the victim's key is tried
    with pytest.raises(SignatureInvalid):
        _verify(_impersonating(), coll)
    with pytest.raises(CollateralUnavailable) as err:
        _verify(_impersonating(same_impl=False), coll)
    assert err.value.reason is Reason.COLLATERAL_MISSING


# --- review issue 3: a JWK whose kid names another platform's instance-id was tried as an
# unbound key for tokens of instances the collateral does not know.


def test_jwk_named_for_another_instance_is_never_used() -> None:
    keys = [
        {**ATTACKER.cpak_jwk(), "kid": ATTACKER.instance_id.hex()},
        {**VICTIM.cpak_jwk(), "kid": VICTIM.instance_id.hex()},
    ]
    token = CcaTokenBuilder(platform=ATTACKER).with_platform_claim(256, THIRD.instance_id).sign()
    with pytest.raises(CollateralUnavailable) as err:
        _verify(token, Collateral(documents=({"keys": keys},)))
    assert err.value.reason is Reason.COLLATERAL_MISSING
    # the kid-named key still verifies its own instance, and is bound to it
    own = CcaTokenBuilder(platform=ATTACKER).sign()
    assert _verify(own, Collateral(documents=({"keys": keys},))).collateral["cpak"]["bound"]


def test_jwk_named_for_another_instance_cannot_be_selected_by_cose_kid() -> None:
    kid = ATTACKER.instance_id.hex()
    keys = [{**ATTACKER.cpak_jwk(), "kid": kid}]
    token = (
        CcaTokenBuilder(platform=ATTACKER)
        .with_platform_claim(256, THIRD.instance_id)
        .with_headers("platform", {1: -35}, {4: kid.encode()})
        .sign()
    )
    with pytest.raises(CollateralUnavailable):
        _verify(token, Collateral(documents=({"keys": keys},)))


# --- review issue 4: a well-formed JWK of a type CCA does not use (RSA, OKP, an EC curve
# other than P-256/384/521) made every CCA verification with that collateral fail.


@pytest.mark.parametrize(
    "other",
    [
        {"kty": "RSA", "n": "AQAB", "e": "AQAB"},
        ED25519_JWK,
        {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"},
        {"kty": "oct", "k": "AAAA"},
    ],
)
def test_unrelated_jwk_beside_a_good_key_is_skipped(other: dict[str, Any]) -> None:
    b = CcaTokenBuilder()
    coll = Collateral(public_keys=(b.platform.cpak.public_key(),), documents=(other,))
    assert _verify(b.sign(), coll).accepted
    jwks = Collateral(documents=({"keys": [other, b.platform.cpak_jwk()]},))
    assert _verify(b.sign(), jwks).accepted
    # alone it is no platform key at all
    with pytest.raises(CollateralUnavailable):
        _verify(b.sign(), Collateral(documents=(other,)))


def test_broken_ec_jwk_is_still_collateral_malformed() -> None:
    b = CcaTokenBuilder()
    broken = {**b.platform.cpak_jwk(), "y": b.platform.cpak_jwk()["x"]}  # off the curve
    coll = Collateral(public_keys=(b.platform.cpak.public_key(),), documents=(broken,))
    with pytest.raises(CollateralInvalid) as err:
        _verify(b.sign(), coll)
    assert err.value.reason is Reason.COLLATERAL_MALFORMED


def test_bound_trust_anchor_of_unsupported_type_does_not_fall_back() -> None:
    b = CcaTokenBuilder()
    store = b.platform.ta_store()
    store[0]["pkey"] = {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    }
    coll = Collateral(public_keys=(b.platform.cpak.public_key(),), documents=(store,))
    with pytest.raises(CollateralInvalid) as err:
        _verify(b.sign(), coll)
    assert err.value.reason is Reason.COLLATERAL_MALFORMED


# --- review issue 5: a store entry for the instance without a ``pkey`` member was not
# recognised as a trust anchor, so the search fell back to unbound keys.


def test_store_entry_without_pkey_is_malformed_not_skipped() -> None:
    store = VICTIM.ta_store()
    del store[0]["pkey"]
    coll = Collateral(public_keys=(ATTACKER.cpak.public_key(),), documents=(store,))
    with pytest.raises(CollateralInvalid) as err:
        _verify(_impersonating(), coll)
    assert err.value.reason is Reason.COLLATERAL_MALFORMED


# --- property: whatever mix of keys the collateral holds, a key endorsed for one instance
# never authenticates a token claiming another instance the collateral pins.

_KID_NAME = b"k"
_ATTACK_TOKENS = {kid: _impersonating(kid=kid) for kid in (None, _KID_NAME)}
_ATTACK_TOKENS[ATTACKER.instance_id.hex().encode()] = _impersonating(
    kid=ATTACKER.instance_id.hex().encode()
)
_VICTIM_TOKEN = CcaTokenBuilder(platform=VICTIM).sign()


def _items() -> dict[str, Collateral]:
    other_impl = VICTIM.ta_store()
    other_impl[0]["implementation-id"] = "11" * 32
    attacker_pub = ATTACKER.cpak.public_key()
    return {
        "victim_ta": Collateral(documents=(VICTIM.ta_store(),)),
        "victim_ta_other_impl": Collateral(documents=(other_impl,)),
        "victim_jwk_kid_instance": Collateral(
            documents=({**VICTIM.cpak_jwk(), "kid": VICTIM.instance_id.hex()},)
        ),
        "attacker_pem": Collateral(public_keys=(attacker_pub,)),
        "attacker_jwk": Collateral(documents=(ATTACKER.cpak_jwk(),)),
        "attacker_jwk_kid_name": Collateral(
            documents=({"keys": [{**ATTACKER.cpak_jwk(), "kid": _KID_NAME.decode()}]},)
        ),
        "attacker_jwk_kid_instance": Collateral(
            documents=({**ATTACKER.cpak_jwk(), "kid": ATTACKER.instance_id.hex()},)
        ),
        "attacker_ta": Collateral(documents=(ATTACKER.ta_store(),)),
    }


_ITEMS = _items()
_PINS_VICTIM = {"victim_ta", "victim_ta_other_impl", "victim_jwk_kid_instance"}


def test_keys_for_one_instance_never_sign_for_a_pinned_other() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=120, deadline=None, derandomize=True)
    @given(
        names=st.lists(st.sampled_from(sorted(_ITEMS)), min_size=1, max_size=6),
        kid=st.sampled_from(sorted(_ATTACK_TOKENS, key=lambda k: k or b"")),
    )
    def check(names: list[str], kid: bytes | None) -> None:
        coll = Collateral()
        for name in names:
            coll = coll + _ITEMS[name]
        try:
            result = _verify(_ATTACK_TOKENS[kid], coll)
        except cocoverify.CocoverifyError:
            pass
        else:
            assert not _PINS_VICTIM & set(names), names
            assert result.collateral["cpak"]["bound"] is False
        if {"victim_ta", "victim_jwk_kid_instance"} & set(names):
            assert _verify(_VICTIM_TOKEN, coll).collateral["cpak"]["bound"] is True

    check()


# --- review issue 6: unknown collection keys are unsigned, attacker-chosen text that was
# copied verbatim (control characters, any length) into result warnings and CLI output.


def test_unsigned_collection_keys_are_escaped_and_bounded_in_warnings() -> None:
    import cbor2

    b = CcaTokenBuilder()
    pf, rl = b.sign_parts()
    entries: dict[Any, Any] = {44234: [263, pf], 44241: [263, rl]}
    entries["\x1b[2J\x1b[31mACCEPTED\r\n" + "x" * 5000] = 1
    for i in range(50):
        entries[100 + i] = i
    data = cbor2.dumps(cbor2.CBORTag(907, entries))
    result = _verify(data, Collateral(public_keys=(b.platform.cpak.public_key(),)))
    (warning,) = [w for w in result.warnings if "ignored" in w]
    assert warning.isprintable()
    assert len(warning) < 600
    assert "51" in warning  # the count is still reported


# --- review issue 7: a JWK restricted to other uses (RFC 7517 §4.2 "use", §4.3 "key_ops")
# was still trusted to verify platform signatures.


@pytest.mark.parametrize(
    "restriction", [{"use": "enc"}, {"key_ops": ["encrypt"]}, {"key_ops": []}, {"use": 1}]
)
def test_jwk_not_for_signature_verification_is_not_a_cpak(restriction: dict[str, Any]) -> None:
    b = CcaTokenBuilder()
    jwk = {**b.platform.cpak_jwk(), **restriction}
    with pytest.raises(CollateralUnavailable):
        _verify(b.sign(), Collateral(documents=(jwk,)))
    store = b.platform.ta_store()
    store[0]["pkey"] = jwk
    with pytest.raises(CollateralInvalid) as err:
        _verify(b.sign(), Collateral(documents=(store,)))
    assert err.value.reason is Reason.COLLATERAL_MALFORMED
    # allowed forms
    for ok in ({"use": "sig"}, {"key_ops": ["verify"]}, {"key_ops": ["sign", "verify"]}):
        assert _verify(b.sign(), Collateral(documents=({**b.platform.cpak_jwk(), **ok},)))
