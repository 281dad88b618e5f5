"""The per-evidence signature check, behind the backend seam (docs/native.md).

``ecdsa_verify`` is the one call every pipeline's hot path makes for the evidence signature
(DCAP quote and QE report, SNP report, CCA tokens). The Python implementation goes through
``cryptography`` with the public keys cached by their bytes; the native backend replaces it
with one C call into libcrypto that runs with the GIL released. Both return the same answer
for every input: True only for a valid signature, False for anything else (a bad signature,
a point off the curve, r or s out of range, a wrong length).
"""

from __future__ import annotations

import functools
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

__all__ = ["CURVE_HASH", "ecdsa_verify_python"]

#: Raw X||Y point length -> (curve, hash of the ECDSA variant used with it).
CURVE_HASH: dict[int, tuple[ec.EllipticCurve, type[hashes.HashAlgorithm]]] = {
    64: (ec.SECP256R1(), hashes.SHA256),
    96: (ec.SECP384R1(), hashes.SHA384),
    132: (ec.SECP521R1(), hashes.SHA512),
}


@functools.lru_cache(maxsize=1024)
def _key(point: bytes) -> ec.EllipticCurvePublicKey | None:
    curve = CURVE_HASH[len(point)][0]
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(curve, b"\x04" + point)
    except ValueError:
        return None


def ecdsa_verify_python(
    point: bytes, message: bytes, signature: bytes, *, little_endian: bool = False
) -> bool:
    """ECDSA over the curve ``len(point)`` names (raw X||Y: 64 P-256/SHA-256, 96
    P-384/SHA-384, 132 P-521/SHA-512); ``signature`` is r||s of twice the coordinate size,
    big-endian unless ``little_endian`` (AMD's layout). False on any failure."""
    if len(point) not in CURVE_HASH or len(signature) != len(point):
        return False
    key = _key(bytes(point))
    if key is None:
        return False
    half = len(signature) // 2
    order: Literal["little", "big"] = "little" if little_endian else "big"
    r = int.from_bytes(signature[:half], order)
    s = int.from_bytes(signature[half:], order)
    if r == 0 or s == 0:
        return False
    try:
        key.verify(encode_dss_signature(r, s), message, ec.ECDSA(CURVE_HASH[len(point)][1]()))
    except (InvalidSignature, ValueError):
        return False
    return True
