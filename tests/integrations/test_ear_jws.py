"""EAR tokens: ES256/ES384 JWS signing and the strict verifier (algorithms, signature, times,
claim shape, malformed input)."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoverify import ear
from cocoverify.errors import (
    AuthenticityError,
    CocoverifyError,
    ConfigurationError,
    MalformedEvidence,
    Reason,
    SignatureInvalid,
    UnsupportedEvidence,
)
from cocoverify_testing.pki import ec_key
from integrations._fixtures import AT, P256, P384, T, jws_parts, synthetic_result

OTHER = ec_key("ear-other-p256", "P-256")


def _b64(obj: Any) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signed_raw(
    header: bytes, payload: bytes, key: ec.EllipticCurvePrivateKey = P256, alg: str = "ES256"
) -> str:
    """A correctly signed token over arbitrary header/payload bytes."""
    signing_input = _b64(header) + "." + _b64(payload)
    digest = hashes.SHA256() if alg == "ES256" else hashes.SHA384()
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(digest)))
    size = 32 if alg == "ES256" else 48
    return signing_input + "." + _b64(r.to_bytes(size, "big") + s.to_bytes(size, "big"))


def _resign(header: dict[str, Any], payload: dict[str, Any], key: Any, alg: str = "ES256") -> str:
    """A token with an arbitrary header, signed correctly (to test checks after the signature)."""
    as_json = lambda obj: json.dumps(obj, separators=(",", ":")).encode()  # noqa: E731
    return _signed_raw(as_json(header), as_json(payload), key, alg)


def _verify(token: str, **kw: Any) -> dict[str, Any]:
    return ear.verify_ear(token, P256.public_key(), at=AT, **kw)


# --- signing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "alg", "size"), [(P256, "ES256", 64), (P384, "ES384", 96)])
def test_sign_and_verify(key: Any, alg: str, size: int) -> None:
    claims = ear.to_ear(synthetic_result())
    token = ear.sign_ear(claims, key, alg)
    header, payload, sig = jws_parts(token)
    assert header["alg"] == alg and header["jwk"] == ear.public_jwk(key.public_key())
    assert len(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))) == size
    assert payload == claims
    assert ear.verify_ear(token, key.public_key(), at=AT) == claims
    assert ear.verify_ear(token.encode(), None, at=T, allow_embedded_jwk=True) == claims


def test_sign_rejects_wrong_curve_and_alg() -> None:
    claims = ear.to_ear(synthetic_result())
    with pytest.raises(ConfigurationError):
        ear.sign_ear(claims, P256, "ES384")
    with pytest.raises(ConfigurationError):
        ear.sign_ear(claims, P256, "HS256")


def test_sign_options_and_argument_checks() -> None:
    claims = ear.to_ear(synthetic_result())
    token = ear.sign_ear(claims, P256, embed_jwk=False, kid="as-key-1")
    header, _, _ = jws_parts(token)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": "as-key-1"}
    with pytest.raises(MalformedEvidence):  # nothing embedded to fall back on
        ear.verify_ear(token, None, at=T, allow_embedded_jwk=True)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, P256.public_key(), at=T, algorithms=("none",))
    with pytest.raises(MalformedEvidence) as err:
        ear.verify_ear(b"\xff.\xff.\xff", P256.public_key(), at=T)
    assert err.value.reason is Reason.EAR_MALFORMED


def test_signing_is_deterministic() -> None:
    claims = ear.to_ear(synthetic_result(policy=()))
    assert ear.sign_ear(claims, P256) == ear.sign_ear(claims, P256)  # RFC 6979


def test_signing_refuses_non_json_values() -> None:
    claims = ear.to_ear(synthetic_result(policy=()))
    claims["x"] = float("nan")
    with pytest.raises(ConfigurationError):
        ear.sign_ear(claims, P256)
    with pytest.raises(ConfigurationError):
        ear.sign_ear(ear.to_ear(synthetic_result(policy=())), P256, kid=7)  # type: ignore[arg-type]


# --- the signature and the key ----------------------------------------------------------------


def test_tampered_payload_rejected() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P256)
    h, _, s = token.split(".")
    _, payload, _ = jws_parts(token)
    payload["submods"]["cpu0"]["ear.status"] = "affirming"
    payload["submods"]["cpu0"]["ear.trustworthiness-vector"]["hardware"] = 2
    payload["exp"] += 3600
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(f"{h}.{_b64(payload)}.{s}", P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


def test_flipped_signature_bit_rejected() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P256)
    h, p, s = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    raw[10] ^= 1
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(f"{h}.{p}.{_b64(bytes(raw))}", P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


def test_wrong_key_rejected() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P256)
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(token, OTHER.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


def test_embedded_jwk_is_ignored_when_a_key_is_given() -> None:
    # an attacker re-signs with their own key and embeds it: only the caller's key counts
    forged = ear.sign_ear(ear.to_ear(synthetic_result()), OTHER)
    assert ear.verify_ear(forged, None, at=AT, allow_embedded_jwk=True)
    with pytest.raises(SignatureInvalid):
        ear.verify_ear(forged, P256.public_key(), at=AT, allow_embedded_jwk=True)


def test_no_key_without_opt_in() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P256)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, None, at=AT)


def test_signature_length_checked() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P256)
    h, p, s = token.split(".")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(f"{h}.{p}.{_b64(raw + bytes(1))}", P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


def test_bad_embedded_jwk() -> None:
    claims = ear.to_ear(synthetic_result())
    for jwk in (
        None,
        {"kty": "RSA"},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        ear.public_jwk(P256.public_key()) | {"y": ear.public_jwk(OTHER.public_key())["y"]},
    ):
        token = _resign({"alg": "ES256", "jwk": jwk}, claims, P256)
        with pytest.raises(MalformedEvidence) as err:
            ear.verify_ear(token, None, at=T, allow_embedded_jwk=True)
        assert err.value.reason is Reason.EAR_MALFORMED


# --- the algorithm ----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES512", None, 256])
def test_alg_allow_list(alg: Any) -> None:
    claims = ear.to_ear(synthetic_result())
    token = _resign({"alg": alg}, claims, P256)
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_ALGORITHM_REJECTED


def test_alg_none_unsigned_token_rejected() -> None:
    claims = ear.to_ear(synthetic_result())
    token = _b64({"alg": "none"}) + "." + _b64(claims) + "."
    with pytest.raises(CocoverifyError) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason in (Reason.EAR_ALGORITHM_REJECTED, Reason.EAR_MALFORMED)


def test_alg_must_match_key_curve() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P384, "ES384")
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_ALGORITHM_REJECTED
    with pytest.raises(UnsupportedEvidence):
        ear.verify_ear(token, P384.public_key(), at=AT, algorithms=("ES256",))


def test_crit_header_rejected() -> None:
    token = _resign({"alg": "ES256", "crit": ["exp"]}, ear.to_ear(synthetic_result()), P256)
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_ALGORITHM_REJECTED


# --- times ------------------------------------------------------------------------------------


def test_time_checks() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P256)  # iat = T, exp = T + 300
    key = P256.public_key()
    assert ear.verify_ear(token, key, at=T)
    assert ear.verify_ear(token, key, at=T + 299)
    with pytest.raises(AuthenticityError) as err:
        ear.verify_ear(token, key, at=T + 300)
    assert err.value.reason is Reason.EAR_EXPIRED
    with pytest.raises(AuthenticityError) as err:
        ear.verify_ear(token, key, at=T - 1)
    assert err.value.reason is Reason.EAR_NOT_YET_VALID
    assert ear.verify_ear(token, key, at=T - 5, leeway=10)
    assert ear.verify_ear(token, key, at=T + 305, leeway=10)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, key, at=dt.datetime(2025, 7, 4))  # naive


def test_nbf_checked() -> None:
    claims = ear.to_ear(synthetic_result()) | {"nbf": T + 100}
    token = ear.sign_ear(claims, P256)
    with pytest.raises(AuthenticityError) as err:
        ear.verify_ear(token, P256.public_key(), at=T + 50)
    assert err.value.reason is Reason.EAR_NOT_YET_VALID
    assert ear.verify_ear(token, P256.public_key(), at=T + 100)


@pytest.mark.parametrize("at", [1.5, "2025-07-04T10:28:44Z", None])
def test_time_must_be_datetime_or_int(at: Any) -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result(policy=())), P256)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, P256.public_key(), at=at)


@pytest.mark.parametrize("leeway", [-1, True, 1.5])
def test_leeway_must_be_a_non_negative_int(leeway: Any) -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result(policy=())), P256)
    with pytest.raises(ConfigurationError):
        _verify(token, leeway=leeway)


# --- claim shape and malformed tokens ---------------------------------------------------------


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.pop("iat"),
        lambda c: c.pop("exp"),
        lambda c: c.update(iat=True),
        lambda c: c.update(exp="soon"),
        lambda c: c.pop("eat_profile"),
        lambda c: c.update(submods={}),
        lambda c: c["submods"]["cpu0"].update({"ear.status": "great"}),
        lambda c: c["submods"]["cpu0"]["ear.trustworthiness-vector"].update(hardware=300),
        lambda c: c["submods"]["cpu0"]["ear.trustworthiness-vector"].update(bogus=2),
        lambda c: c["submods"]["cpu0"]["ear.trustworthiness-vector"].update(hardware=True),
    ],
)
def test_claim_shape_checked(mutate: Any) -> None:
    claims = ear.to_ear(synthetic_result())
    mutate(claims)
    token = ear.sign_ear(claims, P256)
    with pytest.raises(MalformedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=T)
    assert err.value.reason is Reason.EAR_MALFORMED


def test_profile_checked_when_asked() -> None:
    token = ear.sign_ear(ear.to_ear(synthetic_result()), P256)
    assert ear.verify_ear(token, P256.public_key(), at=T, profile=ear.PROFILE)
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=T, profile=ear.TRUSTEE_PROFILE)
    assert err.value.reason is Reason.UNSUPPORTED_PROFILE


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "!!!.e30.AA",
        _b64(b"not json") + "." + _b64({}) + ".AA",
        _b64(b"[1]") + "." + _b64({}) + ".AA",
        _b64(b'{"alg":"ES256","alg":"ES256"}') + "." + _b64({}) + ".AA",
        "eyJhbGciOiJFUzI1NiJ9=.e30.AA",  # padding is not base64url
        "eyJhbGciOiJFUzI1NiJ8.e30.AA",  # non-canonical trailing bits
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(MalformedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=T)
    assert err.value.reason is Reason.EAR_MALFORMED


def test_non_ascii_payload_segment_is_malformed() -> None:
    # was: UnicodeEncodeError (not a CocoverifyError) while building the signing input
    h, p, s = ear.sign_ear(ear.to_ear(synthetic_result(policy=())), P256).split(".")
    with pytest.raises(MalformedEvidence) as ei:
        _verify(f"{h}.\u00e9{p}.{s}")
    assert ei.value.reason is Reason.EAR_MALFORMED


def test_deeply_nested_header_is_malformed() -> None:
    # was: RecursionError escaping from the unauthenticated header
    _, p, s = ear.sign_ear(ear.to_ear(synthetic_result(policy=())), P256).split(".")
    deep = _b64(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(MalformedEvidence) as ei:
        _verify(f"{deep}.{p}.{s}")
    assert ei.value.reason is Reason.EAR_MALFORMED


def test_nan_in_signed_payload_is_malformed() -> None:
    # NaN/Infinity are not JSON (RFC 8259 §6); Python's json accepted them
    claims = ear.to_ear(synthetic_result(policy=()))
    payload = json.dumps(claims, separators=(",", ":"))[:-1] + ',"x":NaN}'
    token = _signed_raw(b'{"alg":"ES256"}', payload.encode())
    with pytest.raises(MalformedEvidence) as ei:
        _verify(token)
    assert ei.value.reason is Reason.EAR_MALFORMED


def test_status_better_than_its_vector_is_malformed() -> None:
    claims = ear.to_ear(synthetic_result(policy=()))
    claims["submods"]["cpu0"]["ear.trustworthiness-vector"]["hardware"] = 96
    assert claims["submods"]["cpu0"]["ear.status"] == "affirming"
    with pytest.raises(MalformedEvidence) as ei:
        _verify(ear.sign_ear(claims, P256))
    assert ei.value.reason is Reason.EAR_MALFORMED
    claims["submods"]["cpu0"]["ear.status"] = "contraindicated"  # consistent: accepted
    assert _verify(ear.sign_ear(claims, P256))["submods"]["cpu0"]["ear.status"] == "contraindicated"


# --- properties -------------------------------------------------------------------------------


_GOOD = ear.sign_ear(ear.to_ear(synthetic_result()), P256)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_tokens_only_raise_cocoverify_errors(data: st.DataObject) -> None:
    raw = bytearray(_GOOD.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    with contextlib.suppress(CocoverifyError):
        ear.verify_ear(bytes(raw), P256.public_key(), at=T)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_cocoverify_errors(text: str) -> None:
    with pytest.raises(CocoverifyError):
        ear.verify_ear(text, P256.public_key(), at=T)
