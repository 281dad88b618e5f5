"""Arm CCA signatures: platform token with a CPAK, realm token with its RAK, the binding."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

import cocoverify
from cocoverify import AuthenticityError, Collateral, MalformedEvidence, Reason, SignatureInvalid
from cocoverify.tee.cca.collateral import CpakCandidate
from cocoverify.tee.cca.parse import parse_token
from cocoverify.tee.cca.platform import PLATFORM_PROFILE_LEGACY
from cocoverify.tee.cca.realm import RealmKey
from cocoverify.tee.cca.verify import check_binding, rak_public_key, verify_platform
from cocoverify_testing.cca import CcaTokenBuilder, FakeCcaPlatform
from cocoverify_testing.pki import ec_key

AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
TOKEN = B.sign()
CPAK = B.platform.cpak.public_key()


def _verify(data: bytes = TOKEN, **kwargs: Any) -> cocoverify.VerificationResult:
    kwargs.setdefault("collateral", Collateral(public_keys=(CPAK,)))
    return cocoverify.verify(data, at=AT, **kwargs)


def test_platform_signature_needs_a_key_on_the_alg_curve() -> None:
    sign1 = parse_token(TOKEN).platform  # ES384
    p256 = CpakCandidate(FakeCcaPlatform("P-256").cpak.public_key(), "p256", False)
    with pytest.raises(SignatureInvalid) as err:
        verify_platform(sign1, [p256])
    assert err.value.reason is Reason.KEY_TYPE_MISMATCH
    other = CpakCandidate(ec_key("x", "P-384").public_key(), "other", False)
    with pytest.raises(SignatureInvalid) as err:
        verify_platform(sign1, [p256, other])
    assert err.value.reason is Reason.SIGNATURE_INVALID
    right = CpakCandidate(CPAK, "right", True)
    assert verify_platform(sign1, [p256, other, right]) is right


def test_realm_signed_with_rak_of_other_curve() -> None:
    token = B.with_rak_curve("P-256").sign()  # ES256 realm, P-256 COSE_Key
    assert _verify(token).claims["realm"]["alg"] == "ES256"


def test_rak_off_the_curve_is_malformed() -> None:
    with pytest.raises(MalformedEvidence) as err:
        rak_public_key(RealmKey("cose_key", "P-384", bytes(48), bytes(48)))
    assert err.value.field == "realm.public_key"


def test_binding_hashes_the_claim_bytes_as_carried() -> None:
    token = parse_token(B.with_profiles(PLATFORM_PROFILE_LEGACY, None).sign())
    check_binding(token.platform_claims.challenge, token.realm_claims)
    with pytest.raises(AuthenticityError) as err:
        check_binding(token.platform_claims.challenge[::-1], token.realm_claims)
    assert err.value.reason is Reason.BINDING_INVALID


def test_cose_key_alg_matching_the_realm_alg_is_accepted() -> None:
    rak = B.rak_bytes()
    key = cbor2.dumps({1: 2, 3: -35, -1: 2, -2: rak[8:56], -3: rak[59:107]})
    assert _verify(B.with_rak_bytes(key).sign()).claims["realm"]["public_key"] == key
