"""EARs as JWS compact tokens (RFC 7515) signed with ES256 / ES384 (RFC 7518 §3.4).

:func:`sign_ear` writes what trustee's AS writes (``alg`` plus the signer's ``jwk`` in the
header, trustee ``attestation-service/src/ear_token/broker.rs``); :func:`verify_ear` is the
strict reader: an algorithm allow-list, the signature, the times and the claim shape.
``cryptography`` only; base64url and JWKs come from :mod:`cocoverify._core.jose`.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from cocoverify._core.jose import b64url_decode, b64url_encode, ec_jwk, ec_key_from_jwk
from cocoverify._core.json import loads_strict
from cocoverify.errors import (
    AuthenticityError,
    ConfigurationError,
    MalformedEvidence,
    Reason,
    SignatureInvalid,
    UnsupportedEvidence,
)
from cocoverify.integrations.ear.token import VERAISON_PROFILE, epoch_seconds
from cocoverify.integrations.ear.vector import CLAIM_NAMES, STATUSES, TIERS, ear_status
from cocoverify.result import to_jsonable

__all__ = ["public_jwk", "sign_ear", "verify_ear"]

#: alg -> (curve, digest, coordinate size) (RFC 7518 §3.4).
_ALGS: Final[Mapping[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int]]] = {
    "ES256": (ec.SECP256R1, hashes.SHA256(), 32),
    "ES384": (ec.SECP384R1, hashes.SHA384(), 48),
}
#: The JWK curves an EAR key may be on (RFC 7518 §6.2.1.1).
_JWK_CURVES: Final = ("P-256", "P-384")


def _malformed(message: str, field: str | None = None) -> MalformedEvidence:
    return MalformedEvidence(message, field=field, reason=Reason.EAR_MALFORMED)


def _unb64u(text: str, what: str) -> bytes:
    """Strict base64url (RFC 7515 §2): no padding, canonical trailing bits."""
    try:
        return b64url_decode(text)
    except ValueError as exc:
        raise _malformed(f"EAR {what}: {exc}", what) from None


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    try:
        value = loads_strict(raw.decode("utf-8"))
    except ValueError as exc:  # also UnicodeDecodeError
        raise _malformed(f"EAR {what}: not a JSON object ({exc})", what) from None
    if not isinstance(value, dict):
        raise _malformed(f"EAR {what}: not a JSON object", what)
    return value


def _alg_params(alg: str) -> tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int]:
    params = _ALGS.get(alg)
    if params is None:
        raise ConfigurationError(
            f"EAR alg {alg!r}: only ES256 and ES384", reason=Reason.INVALID_ARGUMENT
        )
    return params


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """RFC 7518 §6.2 EC public JWK of a P-256 or P-384 key."""
    if key.curve.name not in ("secp256r1", "secp384r1"):
        raise ConfigurationError(
            f"EAR key: curve {key.curve.name} unsupported", reason=Reason.INVALID_ARGUMENT
        )
    return ec_jwk(key)


def sign_ear(
    claims: Mapping[str, Any],
    key: ec.EllipticCurvePrivateKey,
    alg: str = "ES256",
    *,
    embed_jwk: bool = True,
    kid: str | None = None,
) -> str:
    """JWS compact serialisation of ``claims`` (as trustee: ``alg`` plus the signer's ``jwk``).

    ES256 needs a P-256 key, ES384 a P-384 key; the signature is raw r||s (RFC 7518 §3.4).
    """
    curve, digest, size = _alg_params(alg)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, curve):
        raise ConfigurationError(
            f"EAR {alg}: key is not on the right curve", reason=Reason.INVALID_ARGUMENT
        )
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None and not isinstance(kid, str):
        raise ConfigurationError("EAR kid: expected text", reason=Reason.INVALID_ARGUMENT)
    if kid is not None:
        header["kid"] = kid
    if embed_jwk:
        header["jwk"] = public_jwk(key.public_key())
    try:
        payload = json.dumps(to_jsonable(claims), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # NaN/infinity or a value JSON cannot carry
        raise ConfigurationError(
            f"EAR claims are not JSON ({exc})", reason=Reason.INVALID_ARGUMENT
        ) from None
    signing_input = (
        b64url_encode(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + b64url_encode(payload.encode())
    )
    # RFC 6979 deterministic ECDSA: the same claims and key give the same token
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(digest, deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url_encode(r.to_bytes(size, "big") + s.to_bytes(size, "big"))


def _jwk_key(jwk: Any) -> ec.EllipticCurvePublicKey:
    """The header's ``jwk`` (RFC 7515 §4.1.3) as an EC P-256/P-384 key."""
    if not isinstance(jwk, dict):
        raise _malformed("EAR header jwk: not an EC P-256/P-384 key", "jwk")
    try:
        return ec_key_from_jwk(jwk, curves=_JWK_CURVES)
    except ValueError as exc:
        raise _malformed(f"EAR header jwk: {exc}", "jwk") from None


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _malformed(f"EAR claim {name}: missing or not an integer", name)
    return value


def _check_draft_claims(claims: Mapping[str, Any]) -> None:
    """The EAR draft's own claims, for its profile (draft-fv-rats-ear "EAR Claims"; as
    veraison/ear checks them): ``ear.verifier-id`` is exactly ``{build, developer}`` text,
    and the Veraison extensions of each appraisal are what its libraries can read."""
    vid = claims.get("ear.verifier-id")
    if (
        not isinstance(vid, dict)
        or set(vid) != {"build", "developer"}
        or not all(isinstance(v, str) and v for v in vid.values())
    ):
        raise _malformed("EAR: ear.verifier-id must be {build, developer}", "ear.verifier-id")
    for name, sub in claims["submods"].items():
        if not isinstance(sub.get("ear.appraisal-policy-id", ""), str):
            raise _malformed(f"EAR submod {name}: appraisal-policy-id", f"submods.{name}")
        for ext in ("ear.veraison.annotated-evidence", "ear.veraison.policy-claims"):
            if not isinstance(sub.get(ext, {}), dict):
                raise _malformed(f"EAR submod {name}: {ext} is not an object", f"submods.{name}")


def _check_shape(claims: Mapping[str, Any]) -> None:
    if not isinstance(claims.get("eat_profile"), str):
        raise _malformed("EAR: eat_profile missing", "eat_profile")
    submods = claims.get("submods")
    if not isinstance(submods, dict) or not submods:
        raise _malformed("EAR: submods missing or empty", "submods")
    for name, sub in submods.items():
        if not isinstance(sub, dict) or sub.get("ear.status") not in STATUSES:
            raise _malformed(f"EAR submod {name}: ear.status missing or unknown", f"submods.{name}")
        vector = sub.get("ear.trustworthiness-vector", {})
        if not isinstance(vector, dict) or any(
            k not in CLAIM_NAMES
            or not isinstance(v, int)
            or isinstance(v, bool)
            or not -128 <= v <= 127
            for k, v in vector.items()
        ):
            raise _malformed(f"EAR submod {name}: bad trustworthiness vector", f"submods.{name}")
        # the status is the worst tier of the vector or worse, never better
        # (draft-ietf-rats-ar4si §2.3; rust-ear update_status_from_trust_vector): "affirming"
        # over a contraindicated claim is a contradiction a relying party reading only
        # ear.status would miss
        if TIERS.index(sub["ear.status"]) < TIERS.index(ear_status(vector)):
            raise _malformed(
                f"EAR submod {name}: ear.status {sub['ear.status']!r} is better than its "
                f"vector ({ear_status(vector)})",
                f"submods.{name}",
            )


def verify_ear(
    token: str | bytes,
    key: ec.EllipticCurvePublicKey | None,
    *,
    at: _dt.datetime | int,
    algorithms: tuple[str, ...] = ("ES256", "ES384"),
    allow_embedded_jwk: bool = False,
    leeway: int = 0,
    profile: str | None = None,
) -> dict[str, Any]:
    """Verify an EAR JWT and return its claims; raise a CocoverifyError otherwise.

    Steps (docs/ear.md): (1) three base64url parts, JSON objects, no ``crit``; (2) ``alg``
    in ``algorithms`` (never ``none``/HMAC) and matching the key's curve; (3) ECDSA over
    the signing input with ``key`` (the header ``jwk`` only when ``allow_embedded_jwk``
    and no key is given); (4) ``iat <= at + leeway < exp + leeway`` (and ``nbf``);
    (5) claim shape: ``eat_profile`` (equal to ``profile`` if given), ``submods`` with valid
    ``ear.status`` and vectors; with :data:`VERAISON_PROFILE` also the draft's
    ``ear.verifier-id`` and the Veraison extensions' types.
    """
    at_s = epoch_seconds(at)
    if not isinstance(leeway, int) or isinstance(leeway, bool) or leeway < 0:
        raise ConfigurationError(
            "verify_ear: leeway must be a non-negative integer", reason=Reason.INVALID_ARGUMENT
        )
    for allowed in algorithms:
        _alg_params(allowed)
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise _malformed("EAR: not ASCII") from None
    if not isinstance(token, str) or not token.isascii():
        raise _malformed("EAR: not ASCII text")
    # (1) JWS compact serialisation (RFC 7515 §7.1)
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise _malformed("EAR: not a JWS compact serialisation (3 parts)")
    header = _json_object(_unb64u(parts[0], "header"), "header")
    # (2) the algorithm: an allow-list, no extensions (RFC 7515 §4.1.11), the key's curve
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise UnsupportedEvidence(
            f"EAR alg {alg!r} not allowed (allowed: {list(algorithms)})",
            reason=Reason.EAR_ALGORITHM_REJECTED,
        )
    if "crit" in header:
        raise UnsupportedEvidence(
            "EAR header: crit extensions are not understood", reason=Reason.EAR_ALGORITHM_REJECTED
        )
    curve, digest, size = _ALGS[alg]
    if key is None:
        if not allow_embedded_jwk:
            raise ConfigurationError(
                "verify_ear: give the signer's public key (or allow_embedded_jwk=True)",
                reason=Reason.INVALID_ARGUMENT,
            )
        key = _jwk_key(header.get("jwk"))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
        raise UnsupportedEvidence(
            f"EAR alg {alg} does not match the key's curve", reason=Reason.EAR_ALGORITHM_REJECTED
        )
    # (3) the signature, raw r||s (RFC 7518 §3.4)
    payload = _unb64u(parts[1], "payload")  # strict base64url before it is signed over
    sig = _unb64u(parts[2], "signature")
    if len(sig) != 2 * size:
        raise SignatureInvalid(
            f"EAR signature: {len(sig)} bytes, want {2 * size}", reason=Reason.EAR_SIGNATURE_INVALID
        )
    r, s = int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
    try:
        key.verify(
            encode_dss_signature(r, s), f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(digest)
        )
    except InvalidSignature:
        raise SignatureInvalid(
            "EAR signature does not verify", reason=Reason.EAR_SIGNATURE_INVALID
        ) from None
    # (4) the times (RFC 7519 §4.1.4, §4.1.5, §4.1.6)
    claims = _json_object(payload, "payload")
    iat = _int_claim(claims, "iat")
    exp = _int_claim(claims, "exp")
    if iat > at_s + leeway:
        raise AuthenticityError(
            f"EAR issued in the future (iat {iat} > {at_s})", reason=Reason.EAR_NOT_YET_VALID
        )
    if "nbf" in claims and _int_claim(claims, "nbf") > at_s + leeway:
        raise AuthenticityError("EAR not yet valid (nbf)", reason=Reason.EAR_NOT_YET_VALID)
    if at_s >= exp + leeway:
        raise AuthenticityError(f"EAR expired (exp {exp} <= {at_s})", reason=Reason.EAR_EXPIRED)
    # (5) the claim shape
    _check_shape(claims)
    if claims["eat_profile"] == VERAISON_PROFILE:
        _check_draft_claims(claims)
    if profile is not None and claims["eat_profile"] != profile:
        raise UnsupportedEvidence(
            f"EAR eat_profile {claims['eat_profile']!r}, want {profile!r}",
            reason=Reason.UNSUPPORTED_PROFILE,
        )
    return claims
