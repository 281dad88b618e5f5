"""JOSE building blocks: base64url (RFC 7515 §2) and EC public JWKs (RFC 7518 §6.2)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["CURVES", "b64url_decode", "b64url_encode", "ec_jwk", "ec_key_from_jwk"]

#: JWK ``crv`` names (RFC 7518 §6.2.1.1) and their curves.
CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, strict: bool = True) -> bytes:
    """base64url to bytes; ValueError when not base64url.

    ``strict`` (JWS, RFC 7515 §2): no padding, only the URL-safe alphabet, and the canonical
    encoding (no stray trailing bits). Lenient: padding and non-canonical bits are accepted,
    as JWKs found in trust-anchor stores are written.
    """
    if not isinstance(text, str):
        raise ValueError("not text")
    if strict and (not text or any(c not in _ALPHABET for c in text) or len(text) % 4 == 1):
        raise ValueError("not base64url")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None
    if strict and b64url_encode(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


def ec_key_from_jwk(
    jwk: Mapping[str, Any], *, curves: tuple[str, ...] = tuple(CURVES), strict: bool = True
) -> ec.EllipticCurvePublicKey:
    """The EC public key of a JWK (``kty`` EC, ``crv`` in ``curves``); ValueError otherwise."""
    if jwk.get("kty") != "EC":
        raise ValueError(f"JWK kty {jwk.get('kty')!r}, expected EC")
    crv = jwk.get("crv")
    if not isinstance(crv, str) or crv not in curves or crv not in CURVES:
        raise ValueError(f"JWK crv {crv!r} not {'/'.join(curves)}")
    size = (CURVES[crv].key_size + 7) // 8
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise ValueError("JWK x/y missing")
    xb, yb = b64url_decode(x, strict=strict), b64url_decode(y, strict=strict)
    if len(xb) != size or len(yb) != size:
        raise ValueError("JWK coordinates have the wrong length")
    # off the curve: cryptography's ValueError as it is (CCA collateral errors quote its text)
    return ec.EllipticCurvePublicKey.from_encoded_point(CURVES[crv], b"\x04" + xb + yb)


def ec_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """The public JWK of an EC key on one of :data:`CURVES`."""
    names = {c.name: n for n, c in CURVES.items()}
    crv = names.get(key.curve.name)
    if crv is None:
        raise ValueError(f"curve {key.curve.name} has no JWK name")
    size = (key.curve.key_size + 7) // 8
    nums = key.public_numbers()
    return {
        "kty": "EC",
        "crv": crv,
        "x": b64url_encode(nums.x.to_bytes(size, "big")),
        "y": b64url_encode(nums.y.to_bytes(size, "big")),
    }
