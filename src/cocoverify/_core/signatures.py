"""Signature helpers shared by every vendor: raw r||s ECDSA, hashing by curve."""

from __future__ import annotations

from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["ec_public_key_from_raw", "verify_ecdsa_raw"]

_CURVES: dict[int, ec.EllipticCurve] = {64: ec.SECP256R1(), 96: ec.SECP384R1(), 132: ec.SECP521R1()}


def ec_public_key_from_raw(raw_xy: bytes) -> ec.EllipticCurvePublicKey:
    """A public key from raw X||Y (no 0x04 prefix). Raises ValueError if off-curve."""
    curve = _CURVES.get(len(raw_xy))
    if curve is None:
        raise ValueError(f"raw EC point of {len(raw_xy)} bytes")
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + raw_xy)


def verify_ecdsa_raw(
    key: ec.EllipticCurvePublicKey,
    signature: bytes,
    message: bytes,
    algorithm: hashes.HashAlgorithm,
    *,
    little_endian: bool = False,
) -> bool:
    """Verify a fixed-width r||s ECDSA signature; False on any mismatch."""
    if len(signature) % 2:
        return False
    half = len(signature) // 2
    order: Literal["little", "big"] = "little" if little_endian else "big"
    r = int.from_bytes(signature[:half], order)
    s = int.from_bytes(signature[half:], order)
    if r == 0 or s == 0:
        return False
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(algorithm))
    except (InvalidSignature, ValueError):
        return False
    return True
