"""Arm CCA signatures: the platform token with a CPAK, the realm token with its RAK, binding.

Arm RMM specification §A7.2.3: the platform token is signed with the CPAK, the realm token
with the RAK it carries (claim 44237, §A7.2.3.1), and the platform challenge is the hash of
that RAK claim. COSE_Sign1 itself (ES256/ES384/ES512, raw r||s, Sig_structure with empty
external AAD) is :mod:`cocoverify._core.cose`. Keys whose curve does not match the COSE alg
are never used.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric import ec

import cocoverify._backend as _backend
from cocoverify._core.cose import ALGORITHMS, CoseSign1, verify_sign1
from cocoverify._core.signatures import ec_public_key_from_raw
from cocoverify.errors import AuthenticityError, MalformedEvidence, Reason, SignatureInvalid
from cocoverify.tee.cca.collateral import CpakCandidate
from cocoverify.tee.cca.realm import HASH_ALGORITHMS, RealmClaims, RealmKey

__all__ = [
    "check_binding",
    "check_realm_signature",
    "point_verifies",
    "rak_public_key",
    "verify_platform",
    "verify_realm",
]


def point_verifies(sign1: CoseSign1, point: bytes, curve: str | None, tbs: bytes) -> bool:
    """:func:`cocoverify._core.cose.sign1_verifies` for a raw X||Y ``point`` on ``curve``
    and the Sig_structure ``tbs``, through ``cocoverify._backend.ecdsa_verify`` (ECDSA with
    the alg's hash, RFC 9053 §2.1); an off-curve point does not verify."""
    _, alg_curve, size = ALGORITHMS[sign1.alg]
    if curve != alg_curve or len(sign1.signature) != 2 * size or len(point) != 2 * size:
        return False
    return _backend.ecdsa_verify(point, tbs, sign1.signature)


def verify_platform(
    sign1: CoseSign1, candidates: Sequence[CpakCandidate], tbs: bytes | None = None
) -> CpakCandidate:
    """The first candidate CPAK on the alg's curve that verifies the platform token
    (``tbs``: its Sig_structure, when already built)."""
    curve = ALGORITHMS[sign1.alg][1]
    usable = [c for c in candidates if c.curve == curve]
    if not usable:
        raise SignatureInvalid(
            f"platform token is {sign1.alg_name} but no supplied CPAK is on {curve}",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    message = sign1.to_be_signed() if tbs is None else tbs
    for cand in usable:
        if point_verifies(sign1, cand.point, cand.curve, message):
            return cand
    raise SignatureInvalid(
        f"platform token signature does not verify with any of {len(usable)} supplied CPAK(s)"
    )


def rak_public_key(rak: RealmKey) -> ec.EllipticCurvePublicKey:
    """The RAK as a key; an off-curve point is malformed evidence."""
    try:
        return ec_public_key_from_raw(rak.x + rak.y)
    except ValueError:
        raise MalformedEvidence(
            "realm public key is not a point on its curve", field="realm.public_key"
        ) from None


def verify_realm(realm: CoseSign1, claims: RealmClaims) -> ec.EllipticCurvePublicKey:
    """Verify the realm token with the RAK it carries (RMM §A7.2.3.1)."""
    key = rak_public_key(claims.rak)
    if claims.rak.alg is not None and claims.rak.alg != realm.alg:
        raise SignatureInvalid(
            f"realm token alg {realm.alg_name} differs from the RAK's COSE_Key alg",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    verify_sign1(realm, key, "realm")
    return key


def check_realm_signature(realm: CoseSign1, claims: RealmClaims) -> None:
    """:func:`verify_realm` on the raw RAK point: the same checks, errors and order (RAK on
    its curve, COSE_Key alg, curve of the alg, signature), the point's on-curve check only
    run when the signature does not verify (a verifying point is on its curve)."""
    rak = claims.rak
    if (rak.alg is None or rak.alg == realm.alg) and point_verifies(
        realm, rak.x + rak.y, rak.curve, realm.to_be_signed()
    ):
        return
    verify_realm(realm, claims)  # raises the error verify_realm raises
    raise SignatureInvalid("realm token signature does not verify")  # pragma: no cover


def check_binding(platform_challenge: bytes, claims: RealmClaims) -> None:
    """platform challenge == H(RAK claim bytes as carried), H named by realm claim 44240.

    RMM §A7.2.3: the hash input is the byte string of claim 44237 (COSE_Key encoding or raw
    point), never a re-encoding; compared in constant time.
    """
    name = claims.public_key_hash_algo_id
    size = HASH_ALGORITHMS[name]
    digest = hashlib.new(name.replace("-", ""), claims.public_key).digest()
    if len(platform_challenge) != size or not hmac.compare_digest(digest, platform_challenge):
        raise AuthenticityError(
            f"platform challenge is not {name}(realm public key): the realm token is not "
            "bound to this platform token",
            reason=Reason.BINDING_INVALID,
        )
