"""IBM Secure Execution: the Attestation Request Control Block (ARCB) and trustee's challenge.

Layout and encryption as s390-tools ``pv`` builds them (``uvattest/arcb.rs``,
``req/{header,context,keyslot,ec_coord}.rs``, ``crypto.rs``)::

    request header (48): magic 0 (8) | version 0x0100 (u32 BE) | length (u32 BE) | IV (12)
                         | reserved (4 + 7) | number of key slots (1) | reserved (4)
                         | encrypted size (u32 BE)
    plaintext flags (8, bit 0 = most significant) | measurement algorithm (u32 BE, 1 =
    HMAC-SHA512) | reserved (4)
    customer public key (160: X | Y of a fresh P-521 key, each left-padded to 80 bytes)
    one key slot (80) per host key: SHA-256(host key X | Y) (32)
                                    | AES-256-GCM(K_slot, IV 0, protection key) (32 + 16)
       K_slot = SHA-256(ECDH(customer key, host key) | 00 00 00 01)
    AES-256-GCM(protection key, IV, AAD = everything above):
       measurement key (64) | nonce (16) ; tag (16)

Only an Ultravisor holding one of the host private keys can open it. The challenge JSON is
trustee's ``SeAttestationRequest`` (``deps/verifier/src/se/ibmse.rs``).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cocoverify.errors import ConfigurationError, Reason
from cocoverify.tee.ibmse.parse import BootHdrTags
from cocoverify.tee.ibmse.secret import (
    MEASUREMENT_KEY_SIZE,
    NONCE_SIZE,
    RequestSecret,
    wrap,
)

__all__ = [
    "ARCB_VERSION",
    "FLAG_ATTEST_PHKH",
    "FLAG_IMAGE_PHKH",
    "MAI_HMAC_SHA512",
    "ArcbParts",
    "SeRequest",
    "build_arcb",
    "ec_coordinates",
    "flags_word",
    "host_key_hash",
    "keyslot",
    "new_request",
]

ARCB_VERSION = 0x0100  # pv AttestationVersion::One
MAGIC = bytes(8)  # pv AttestationMagic (all zero)
MAI_HMAC_SHA512 = 1  # pv AttestationMeasAlg::HmacSha512
FLAG_NONCE = 1  # pv AttestationFlags bits (bit 0 = most significant of the u64)
FLAG_IMAGE_PHKH = 2
FLAG_ATTEST_PHKH = 3
#: trustee requests both public host-key hashes (``generate_supplemental_challenge``)
TRUSTEE_FLAGS = (FLAG_IMAGE_PHKH, FLAG_ATTEST_PHKH)
ADDITIONAL_SIZES = {FLAG_IMAGE_PHKH: 32, FLAG_ATTEST_PHKH: 32}
COORD_SIZE = 80  # pv ECDH_PUB_KEY_COORD_POINT_SIZE
MAX_HOST_KEYS = 255  # pv: the key-slot count is one byte


def flags_word(*bits: int) -> bytes:
    """The 8-byte flags field with the given bits set (bit 0 = most significant)."""
    value = 0
    for bit in bits:
        value |= 1 << (63 - bit)
    return value.to_bytes(8, "big")


def ec_coordinates(key: ec.EllipticCurvePublicKey) -> bytes:
    """X | Y, each left-padded to 80 bytes (pv ``EcPubKeyCoord``); P-521 keys only."""
    if not isinstance(key.curve, ec.SECP521R1):
        raise ConfigurationError(
            f"IBM SE keys are EC P-521, not {key.curve.name}", reason=Reason.INVALID_ARGUMENT
        )
    numbers = key.public_numbers()
    return numbers.x.to_bytes(COORD_SIZE, "big") + numbers.y.to_bytes(COORD_SIZE, "big")


def host_key_hash(key: ec.EllipticCurvePublicKey) -> bytes:
    """SHA-256 of the host key's coordinates: the key slot's id and the PHKH claims."""
    return hashlib.sha256(ec_coordinates(key)).digest()


def keyslot(
    customer_key: ec.EllipticCurvePrivateKey,
    host_key: ec.EllipticCurvePublicKey,
    protection_key: bytes,
) -> bytes:
    """One 80-byte key slot (pv ``KeyslotV1::encrypt_to``, ``derive_aes256_gcm_key``)."""
    shared = customer_key.exchange(ec.ECDH(), host_key)
    slot_key = hashlib.sha256(shared + b"\x00\x00\x00\x01").digest()
    wrapped = AESGCM(slot_key).encrypt(bytes(12), protection_key, None)
    return host_key_hash(host_key) + wrapped


@dataclass(frozen=True, slots=True)
class ArcbParts:
    """The secrets and randomness one ARCB is built from (all random in :func:`new_request`)."""

    measurement_key: bytes
    nonce: bytes
    iv: bytes
    protection_key: bytes
    customer_key: ec.EllipticCurvePrivateKey

    @classmethod
    def random(cls) -> ArcbParts:
        """Fresh values from the operating system's CSPRNG."""
        return cls(
            measurement_key=os.urandom(MEASUREMENT_KEY_SIZE),
            nonce=os.urandom(NONCE_SIZE),
            iv=os.urandom(12),
            protection_key=os.urandom(32),
            customer_key=ec.generate_private_key(ec.SECP521R1()),
        )


def build_arcb(
    host_keys: Sequence[ec.EllipticCurvePublicKey],
    parts: ArcbParts,
    *,
    flags: Sequence[int] = TRUSTEE_FLAGS,
) -> bytes:
    """The encrypted ARCB for ``host_keys`` (pv ``AttestationRequest::encrypt``)."""
    if not 1 <= len(host_keys) <= MAX_HOST_KEYS:
        raise ConfigurationError(
            f"{len(host_keys)} host keys; an ARCB holds 1..{MAX_HOST_KEYS}",
            reason=Reason.INVALID_ARGUMENT,
        )
    if (len(parts.measurement_key), len(parts.nonce), len(parts.iv), len(parts.protection_key)) != (
        MEASUREMENT_KEY_SIZE,
        NONCE_SIZE,
        12,
        32,
    ):
        raise ConfigurationError("ARCB parts of the wrong size", reason=Reason.INVALID_ARGUMENT)
    auth = flags_word(FLAG_NONCE, *flags) + MAI_HMAC_SHA512.to_bytes(4, "big") + bytes(4)
    body = auth + ec_coordinates(parts.customer_key.public_key())
    body += b"".join(keyslot(parts.customer_key, k, parts.protection_key) for k in host_keys)
    confidential = parts.measurement_key + parts.nonce
    length = 48 + len(body) + len(confidential) + 16
    header = b"".join(
        (
            MAGIC,
            ARCB_VERSION.to_bytes(4, "big"),
            length.to_bytes(4, "big"),
            parts.iv,
            bytes(4 + 7),
            bytes([len(host_keys)]),
            bytes(4),
            len(confidential).to_bytes(4, "big"),
        )
    )
    aad = header + body
    return aad + AESGCM(parts.protection_key).encrypt(parts.iv, confidential, aad)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True, slots=True)
class SeRequest:
    """One attestation request: the ARCB, trustee's challenge JSON, and the secret to keep."""

    arcb: bytes
    challenge: dict[str, Any]
    secret: RequestSecret


def new_request(
    host_keys: Sequence[ec.EllipticCurvePublicKey],
    tags: BootHdrTags,
    *,
    wrap_key: rsa.RSAPublicKey | None = None,
    parts: ArcbParts | None = None,
) -> SeRequest:
    """An ARCB for ``host_keys`` (already verified) and the challenge around it.

    ``wrap_key``: the verifier's RSA public key; the challenge then carries the measurement
    key and nonce RSA-encrypted (PKCS#1 v1.5) to it, as trustee's does. Without it the
    ``encr_*`` fields are empty and the returned secret must be kept.
    """
    parts = parts or ArcbParts.random()
    arcb = build_arcb(host_keys, parts)
    wrapped_key = wrap(wrap_key, parts.measurement_key) if wrap_key is not None else b""
    wrapped_nonce = wrap(wrap_key, parts.nonce) if wrap_key is not None else b""
    challenge = {
        "request_blob": _b64(arcb),
        "measurement_size": MEASUREMENT_KEY_SIZE,
        "additional_size": sum(ADDITIONAL_SIZES[f] for f in TRUSTEE_FLAGS),
        "encr_measurement_key": _b64(wrapped_key),
        "encr_request_nonce": _b64(wrapped_nonce),
        "image_hdr_tags": _b64(tags.to_bytes()),
    }
    secret = RequestSecret(
        measurement_key=parts.measurement_key,
        nonce=parts.nonce,
        image_hdr_tags=tags.to_bytes(),
        host_key_hashes=tuple(host_key_hash(k) for k in host_keys),
    )
    return SeRequest(arcb=arcb, challenge=challenge, secret=secret)
