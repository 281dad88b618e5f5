"""Arm CCA platform keys (CPAK): which supplied keys may verify a token.

docs/cca.md "Platform keys". The regression tests below each name the defect they guard.
Their attacks assume an attacker who holds one CPAK that the verifier trusts (a
compromised or merely different platform) and tries to have its tokens accepted under
another platform's identity.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import (
    Collateral,
    CollateralInvalid,
    CollateralUnavailable,
    Reason,
    SignatureInvalid,
)
from cocoverify.tee.cca.collateral import cpak_candidates, key_from_jwk
from cocoverify.tee.cca.parse import parse_token
from cocoverify_testing.cca import CcaTokenBuilder, FakeCcaPlatform
from cocoverify_testing.pki import ec_key

AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
TOKEN = B.sign()
CPAK = B.platform.cpak.public_key()
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


# --- key forms and selection -----------------------------------------------------------------


def test_no_cpak_is_collateral_missing() -> None:
    with pytest.raises(CollateralUnavailable) as err:
        _verify(TOKEN, Collateral())
    assert err.value.reason is Reason.COLLATERAL_MISSING


def test_non_ec_keys_are_not_candidates() -> None:
    rsa_pub = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
    with pytest.raises(CollateralUnavailable):
        _verify(TOKEN, Collateral(public_keys=(rsa_pub, k1)))


def test_each_unbound_key_is_tried() -> None:
    other = ec_key("someone-else", "P-384").public_key()
    result = _verify(TOKEN, Collateral(public_keys=(other, CPAK)))
    assert result.collateral["cpak"]["source"] == "public key #1"


def test_bound_trust_anchor_wins_over_unbound_keys() -> None:
    wrong = FakeCcaPlatform(label="wrong").cpak_jwk()
    store = B.platform.ta_store()
    coll = Collateral(documents=(wrong, store))
    token = parse_token(TOKEN)
    cands = cpak_candidates(coll, token.platform_claims)
    assert [c.bound for c in cands] == [True]
    assert _verify(TOKEN, coll).collateral["cpak"]["bound"] is True
    # a store entry for this instance but with a wrong key must not fall back to others
    bad_store = FakeCcaPlatform(label="wrong").ta_store(B.platform.instance_id)
    bad_store[0]["implementation-id"] = B.platform.implementation_id.hex()
    with pytest.raises(SignatureInvalid):
        _verify(TOKEN, Collateral(public_keys=(CPAK,), documents=(bad_store,)))


def test_trust_anchor_with_other_implementation_id_is_ignored() -> None:
    store = B.platform.ta_store()
    store[0]["implementation-id"] = "00" * 32
    with pytest.raises(CollateralUnavailable):
        _verify(TOKEN, Collateral(documents=(store,)))


def test_trust_anchor_ids_may_be_base64() -> None:
    store = B.platform.ta_store()
    store[0]["instance-id"] = base64.b64encode(B.platform.instance_id).decode()
    del store[0]["implementation-id"]
    assert _verify(TOKEN, Collateral(documents=(store,))).accepted


def test_jwk_set_and_bad_store_entries() -> None:
    assert _verify(TOKEN, Collateral(documents=({"keys": [B.platform.cpak_jwk()]},))).accepted
    store = B.platform.ta_store()
    store[0]["pkey"] = "not a jwk"
    with pytest.raises(CollateralInvalid) as err:
        _verify(TOKEN, Collateral(documents=(store,)))
    assert err.value.reason is Reason.COLLATERAL_MALFORMED


@pytest.mark.parametrize(
    ("change", "error"),
    [
        # a JWK of a type no CPAK has is skipped (see the regressions below): then no key at all
        ({"kty": "RSA"}, CollateralUnavailable),
        ({"crv": "P-192"}, CollateralUnavailable),
        # a broken EC key on a CPAK curve is broken collateral
        ({"x": 5}, CollateralInvalid),
        ({"x": "!!"}, CollateralInvalid),
        ({"y": "AAAA"}, CollateralInvalid),
    ],
)
def test_unusable_jwk(change: dict[str, Any], error: type[Exception]) -> None:
    jwk = {**B.platform.cpak_jwk(), **change}
    with pytest.raises(ValueError):
        key_from_jwk(jwk)
    with pytest.raises(error):
        _verify(TOKEN, Collateral(documents=(jwk,)))


def test_other_json_documents_are_ignored() -> None:
    coll = Collateral(public_keys=(CPAK,), documents=({"platform": []}, [1, 2], "x"))
    assert _verify(TOKEN, coll).accepted


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
def test_cpak_curves_with_pem_jwk_and_store(curve: str, tmp_path: Path) -> None:
    b = CcaTokenBuilder(platform=FakeCcaPlatform(curve))
    (tmp_path / "k.pem").write_bytes(b.platform.cpak_pem())
    (tmp_path / "k.json").write_text(json.dumps(b.platform.cpak_jwk()))
    (tmp_path / "ta.json").write_text(json.dumps(b.platform.ta_store()))
    token = b.sign()
    for name in ("k.pem", "k.json", "ta.json"):
        assert cocoverify.verify(token, collateral=[tmp_path / name], at=AT).accepted


def test_jwk_kid_binds_a_key_to_the_token() -> None:
    wrong = FakeCcaPlatform(label="wrong").cpak_jwk()
    right = B.platform.cpak_jwk()
    token = B.with_headers("platform", {1: -35}, {4: b"iak-7"}).sign()
    # the JWK named by the COSE kid is the only one tried, even if another would verify
    named_wrong = Collateral(documents=({"keys": [{**wrong, "kid": "iak-7"}, right]},))
    with pytest.raises(SignatureInvalid):
        _verify(token, named_wrong)
    named_right = Collateral(documents=({"keys": [wrong, {**right, "kid": "iak-7"}]},))
    # selected by the (unauthenticated) COSE kid, but not bound to the instance
    assert not _verify(token, named_right).collateral["cpak"]["bound"]
    # a kid naming the instance-id binds too; an unrelated kid leaves the key unbound
    by_instance = {**right, "kid": B.platform.instance_id.hex()}
    assert _verify(TOKEN, Collateral(documents=(by_instance,))).collateral["cpak"]["bound"]
    other_kid = {**right, "kid": "something-else"}
    assert not _verify(TOKEN, Collateral(documents=(other_kid,))).collateral["cpak"]["bound"]


# --- regression: an (unauthenticated) COSE kid promoted a key next to the instance's
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


# --- regression: a trust-anchor entry for the token's instance-id with another
# implementation-id was skipped, and the search fell back to unbound keys.


def test_implementation_id_change_does_not_escape_the_trust_anchor() -> None:
    coll = Collateral(public_keys=(ATTACKER.cpak.public_key(),), documents=(VICTIM.ta_store(),))
    # control: with the victim's implementation-id only the victim's key is tried
    with pytest.raises(SignatureInvalid):
        _verify(_impersonating(), coll)
    with pytest.raises(CollateralUnavailable) as err:
        _verify(_impersonating(same_impl=False), coll)
    assert err.value.reason is Reason.COLLATERAL_MISSING


# --- regression: a JWK whose kid names another platform's instance-id was tried as an
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


# --- regression: a well-formed JWK of a type CCA does not use (RSA, OKP, an EC curve other
# than P-256/384/521) made every CCA verification with that collateral fail.


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


# --- regression: a store entry for the instance without a ``pkey`` member was not
# recognised as a trust anchor, so the search fell back to unbound keys.


def test_store_entry_without_pkey_is_malformed_not_skipped() -> None:
    store = VICTIM.ta_store()
    del store[0]["pkey"]
    coll = Collateral(public_keys=(ATTACKER.cpak.public_key(),), documents=(store,))
    with pytest.raises(CollateralInvalid) as err:
        _verify(_impersonating(), coll)
    assert err.value.reason is Reason.COLLATERAL_MALFORMED


# --- regression: a JWK restricted to other uses (RFC 7517 §4.2 "use", §4.3 "key_ops") was
# still trusted to verify platform signatures.


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


@settings(max_examples=120, deadline=None, derandomize=True)
@given(
    names=st.lists(st.sampled_from(sorted(_ITEMS)), min_size=1, max_size=6),
    kid=st.sampled_from(sorted(_ATTACK_TOKENS, key=lambda k: k or b"")),
)
def test_keys_for_one_instance_never_sign_for_a_pinned_other(
    names: list[str], kid: bytes | None
) -> None:
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
