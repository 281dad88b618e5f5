"""Arm CCA: COSE_Sign1 signatures, CPAK / RAK keys and the realm-platform binding.

cca.md §2 (ES256/ES384/ES512, raw r||s, Sig_structure with empty external AAD),
§4.1 (RAK encodings), §5 (binding). Keys whose curve does not match the COSE alg are
never used.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify._core.signatures import verify_ecdsa_raw
from cocoverify.errors import AuthenticityError, MalformedEvidence, Reason, SignatureInvalid
from cocoverify.tee.cca.parse import ALGORITHMS, HASH_ALGORITHMS, CoseSign1, RealmClaims, RealmKey

__all__ = [
    "check_binding",
    "curve_name",
    "jwk_is_supported",
    "key_from_jwk",
    "rak_public_key",
    "sign1_verifies",
    "verify_realm",
    "verify_sign1",
]

_CURVES: Mapping[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {
    "P-256": hashes.SHA256,
    "P-384": hashes.SHA384,
    "P-521": hashes.SHA512,
}


def curve_name(key: ec.EllipticCurvePublicKey) -> str | None:
    """``P-256`` / ``P-384`` / ``P-521`` or None for any other curve."""
    return {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(key.curve.name)


def sign1_verifies(sign1: CoseSign1, key: ec.EllipticCurvePublicKey) -> bool:
    """True when ``key`` has the alg's curve and the raw r||s signature verifies (RFC 9053 §2.1)."""
    _, curve, size = ALGORITHMS[sign1.alg]
    if curve_name(key) != curve or len(sign1.signature) != 2 * size:
        return False
    return verify_ecdsa_raw(key, sign1.signature, sign1.to_be_signed(), _HASHES[curve]())


def verify_sign1(sign1: CoseSign1, key: ec.EllipticCurvePublicKey, part: str) -> None:
    """Raise SignatureInvalid unless ``key`` verifies ``sign1``."""
    _, curve, _ = ALGORITHMS[sign1.alg]
    if curve_name(key) != curve:
        raise SignatureInvalid(
            f"{part} token is {sign1.alg_name}, the key is on {curve_name(key) or key.curve.name}",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    if not sign1_verifies(sign1, key):
        raise SignatureInvalid(f"{part} token signature does not verify")


def rak_public_key(rak: RealmKey) -> ec.EllipticCurvePublicKey:
    """The RAK as a key; an off-curve point is malformed evidence."""
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(
            _CURVES[rak.curve], b"\x04" + rak.x + rak.y
        )
    except ValueError:
        raise MalformedEvidence(
            "realm public key is not a point on its curve", field="realm.public_key"
        ) from None


def verify_realm(realm: CoseSign1, claims: RealmClaims) -> ec.EllipticCurvePublicKey:
    """Verify the realm token with the RAK it carries (cca.md §7 step 5)."""
    key = rak_public_key(claims.rak)
    if claims.rak.alg is not None and claims.rak.alg != realm.alg:
        raise SignatureInvalid(
            f"realm token alg {realm.alg_name} differs from the RAK's COSE_Key alg",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    verify_sign1(realm, key, "realm")
    return key


def check_binding(platform_challenge: bytes, claims: RealmClaims) -> None:
    """platform challenge == H(RAK claim bytes as carried), H from realm 44240 (cca.md §5)."""
    name = claims.public_key_hash_algo_id
    size = HASH_ALGORITHMS[name]
    digest = hashlib.new(name.replace("-", ""), claims.public_key).digest()
    if len(platform_challenge) != size or not hmac.compare_digest(digest, platform_challenge):
        raise AuthenticityError(
            f"platform challenge is not {name}(realm public key): the realm token is not "
            "bound to this platform token",
            reason=Reason.BINDING_INVALID,
        )


# --- CPAK from JWK (RFC 7517/7518 §6.2) -----------------------------------------------------


def _b64url(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"JWK {what} is not text")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError(f"JWK {what} is not base64url") from None


def _jwk_verifies_signatures(jwk: Mapping[str, Any]) -> bool:
    # RFC 7517 §4.2 "use" (sig), §4.3 "key_ops" (verify), when given
    if "use" in jwk and jwk["use"] != "sig":
        return False
    ops = jwk.get("key_ops")
    return ops is None or (isinstance(ops, list) and "verify" in ops)


def jwk_is_supported(jwk: Mapping[str, Any]) -> bool:
    """Could this JWK be a CPAK: ``kty`` EC on P-256/P-384/P-521, not restricted to other uses?"""
    crv = jwk.get("crv")
    return (
        jwk.get("kty") == "EC"
        and isinstance(crv, str)
        and crv in _CURVES
        and _jwk_verifies_signatures(jwk)
    )


def key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """An EC public key from a JWK; ValueError when unusable (e.g. point not on the curve)."""
    if jwk.get("kty") != "EC":
        raise ValueError(f"JWK kty {jwk.get('kty')!r}, expected EC")
    if not _jwk_verifies_signatures(jwk):
        raise ValueError("JWK use / key_ops do not allow signature verification")
    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in _CURVES:
        raise ValueError(f"JWK crv {crv!r} not P-256/P-384/P-521")
    size = (_CURVES[crv].key_size + 7) // 8
    x, y = _b64url(jwk.get("x"), "x"), _b64url(jwk.get("y"), "y")
    if len(x) != size or len(y) != size:
        raise ValueError("JWK coordinates have the wrong length")
    return ec.EllipticCurvePublicKey.from_encoded_point(_CURVES[crv], b"\x04" + x + y)
