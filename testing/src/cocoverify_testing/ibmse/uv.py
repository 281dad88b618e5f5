"""TEST ONLY. A fake IBM Z Ultravisor: opens an ARCB with its host private key and answers
as the Retrieve Attestation Measurement call does, wrapped in trustee's response JSON.

Opening mirrors s390-tools ``pv`` ``AttestationRequest::decrypt_bin`` and the key-slot
derivation (``KeyslotV1``, ``derive_aes256_gcm_key``); the answer is
``AttestationItems`` / ``AttestationMeasurement`` (HMAC-SHA512). The guest's side
(attestation-agent) echoes the challenge's wrapped key, nonce and image tags.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cocoverify.tee.ibmse.parse import BootHdrTags
from cocoverify.tee.ibmse.request import COORD_SIZE, ec_coordinates, host_key_hash
from cocoverify.tee.ibmse.verify import measurement
from cocoverify_testing.pki import fill

__all__ = ["FakeUltravisor", "OpenedArcb", "open_arcb", "response_json"]


@dataclass(frozen=True)
class OpenedArcb:
    """What the Ultravisor learns from an ARCB."""

    flags: int
    measurement_key: bytes
    nonce: bytes | None


def open_arcb(arcb: bytes, host_key: ec.EllipticCurvePrivateKey) -> OpenedArcb:
    """Decrypt ``arcb`` with the host key (ValueError when no slot is ours or a tag fails)."""
    nks = arcb[39]
    sea = int.from_bytes(arcb[44:48], "big")
    iv = arcb[16:28]
    flags = int.from_bytes(arcb[48:56], "big")
    customer = arcb[64 : 64 + 2 * COORD_SIZE]
    slots_at = 64 + 2 * COORD_SIZE
    ours = host_key_hash(host_key.public_key())
    protection_key = None
    for i in range(nks):
        slot = arcb[slots_at + 80 * i : slots_at + 80 * (i + 1)]
        if slot[:32] != ours:
            continue
        peer = ec.EllipticCurvePublicNumbers(
            int.from_bytes(customer[:COORD_SIZE], "big"),
            int.from_bytes(customer[COORD_SIZE:], "big"),
            ec.SECP521R1(),
        ).public_key()
        slot_key = hashlib.sha256(host_key.exchange(ec.ECDH(), peer) + b"\0\0\0\1").digest()
        protection_key = AESGCM(slot_key).decrypt(bytes(12), slot[32:], None)
    if protection_key is None:
        raise ValueError("no key slot for this host key")
    aad_end = slots_at + 80 * nks
    plain = AESGCM(protection_key).decrypt(iv, arcb[aad_end:], arcb[:aad_end])
    assert len(plain) == sea
    return OpenedArcb(flags, plain[:64], plain[64:] if sea > 64 else None)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def response_json(
    *,
    measurement_value: bytes,
    additional: bytes,
    user_data: bytes,
    cuid: bytes,
    tags: BootHdrTags,
    encr_measurement_key: bytes = b"",
    encr_request_nonce: bytes = b"",
) -> dict[str, Any]:
    """trustee's ``SeAttestationResponse`` as JSON values."""
    return {
        "measurement": _b64(measurement_value),
        "additional_data": _b64(additional),
        "user_data": _b64(user_data),
        "cuid": _b64(cuid),
        "encr_measurement_key": _b64(encr_measurement_key),
        "encr_request_nonce": _b64(encr_request_nonce),
        "image_hdr_tags": _b64(tags.to_bytes()),
    }


@dataclass(frozen=True)
class FakeUltravisor:
    """One IBM Z machine (its host key) running one guest (its CUID, its image's tags and the
    host key that unpacked the image)."""

    host_key: ec.EllipticCurvePrivateKey
    tags: BootHdrTags
    cuid: bytes = field(default_factory=lambda: fill("ibmse-cuid", 16))
    image_host_key: ec.EllipticCurvePublicKey | None = None

    def answer(self, challenge: dict[str, Any], user_data: bytes) -> dict[str, Any]:
        """The guest's response to trustee's challenge: the UV measures, the guest echoes."""
        arcb = base64.b64decode(challenge["request_blob"])
        opened = open_arcb(arcb, self.host_key)
        image_key = self.image_host_key or self.host_key.public_key()
        additional = b""
        if opened.flags & (1 << (63 - 2)):
            additional += hashlib.sha256(ec_coordinates(image_key)).digest()
        if opened.flags & (1 << (63 - 3)):
            additional += host_key_hash(self.host_key.public_key())
        value = measurement(
            opened.measurement_key, self.tags, self.cuid, user_data, opened.nonce, additional
        )
        return response_json(
            measurement_value=value,
            additional=additional,
            user_data=user_data,
            cuid=self.cuid,
            tags=self.tags,
            encr_measurement_key=base64.b64decode(challenge["encr_measurement_key"]),
            encr_request_nonce=base64.b64decode(challenge["encr_request_nonce"]),
        )
