"""IBM Secure Execution: the attestation measurement (HMAC-SHA512) and the additional data.

s390-tools ``pv`` ``uvattest/attest.rs`` (``AttestationItems::new``): the Ultravisor computes
HMAC-SHA512, keyed with the request's measurement key, over

    PLD (64) | ALD (64) | TLD (64) | SE-header tag (16) | CUID (16)
    | user-data length (u16 BE) | 0 (u16) | additional-data length (u32 BE)
    | user data | nonce (16, when requested) | additional data

and the verifier recomputes it (trustee ``SeVerifierImpl::evaluate``). The additional data
is read as ``uvattest/additional.rs`` ``from_slice`` reads it for the request's flags.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cocoverify.errors import (
    AuthenticityError,
    CollateralUnavailable,
    MalformedEvidence,
    Reason,
    SignatureInvalid,
)
from cocoverify.tee.ibmse.parse import BootHdrTags, SeResponse
from cocoverify.tee.ibmse.secret import (
    MEASUREMENT_KEY_SIZE,
    NONCE_SIZE,
    RequestSecret,
    UnwrapKey,
    unwrap,
)

__all__ = [
    "AdditionalData",
    "authenticate",
    "check_request_binding",
    "measurement",
    "measurement_items",
    "split_additional",
]

PHKH_SIZE = 32  # pv additional.rs PHKH_SIZE


def measurement_items(
    tags: BootHdrTags,
    cuid: bytes,
    user_data: bytes,
    nonce: bytes | None,
    additional: bytes,
) -> bytes:
    """The bytes the measurement covers (pv ``AttestationItems::new``)."""
    return b"".join(
        (
            tags.to_bytes(),
            cuid,
            len(user_data).to_bytes(2, "big"),
            b"\x00\x00",
            len(additional).to_bytes(4, "big"),
            user_data,
            nonce or b"",
            additional,
        )
    )


def measurement(
    key: bytes,
    tags: BootHdrTags,
    cuid: bytes,
    user_data: bytes,
    nonce: bytes | None,
    additional: bytes,
) -> bytes:
    """HMAC-SHA512 over :func:`measurement_items` (pv ``AttestationMeasurement::calculate``)."""
    items = measurement_items(tags, cuid, user_data, nonce, additional)
    return hmac.new(key, items, hashlib.sha512).digest()


@dataclass(frozen=True, slots=True)
class AdditionalData:
    """The additional data for the flags image PHKH + attestation PHKH (trustee's request)."""

    image_phkh: bytes
    attestation_phkh: bytes
    unrecognized: bytes


def split_additional(data: bytes) -> AdditionalData:
    """Image PHKH (32) then attestation PHKH (32), the rest unrecognised (pv ``from_slice``).

    Missing either is what trustee reports as "Failed to get image_public_host_key_hash" /
    "... attestation_public_host_key_hash".
    """
    if len(data) < PHKH_SIZE:
        raise MalformedEvidence(
            "additional data lacks the image public host-key hash", field="additional_data"
        )
    if len(data) < 2 * PHKH_SIZE:
        raise MalformedEvidence(
            "additional data lacks the attestation public host-key hash",
            field="additional_data",
        )
    return AdditionalData(data[:PHKH_SIZE], data[PHKH_SIZE : 2 * PHKH_SIZE], data[2 * PHKH_SIZE :])


def _candidates(
    response: SeResponse, kept: list[RequestSecret], keys: list[UnwrapKey]
) -> list[tuple[str, RequestSecret]]:
    out = [("kept", s) for s in kept]
    for key in keys:
        meas_key = unwrap(key, response.encr_measurement_key, MEASUREMENT_KEY_SIZE)
        nonce = unwrap(key, response.encr_request_nonce, NONCE_SIZE)
        if meas_key is not None and nonce is not None:
            out.append(("wrapped", RequestSecret(meas_key, nonce)))
    return out


def authenticate(
    response: SeResponse, kept: list[RequestSecret], keys: list[UnwrapKey]
) -> tuple[str, RequestSecret]:
    """The secret whose measurement matches the response, and how it was obtained.

    Kept secrets are tried first, then what the unwrap keys unwrap from the response. No
    secret at all: CollateralUnavailable; none unwraps: AuthenticityError (binding_invalid,
    trustee's "Failed to decrypt measurement key"); none matches: SignatureInvalid (trustee's
    "Failed to verify the measurement"). Every comparison is constant-time.
    """
    if not kept and not keys:
        raise CollateralUnavailable(
            "an IBM SE response is verified with its request's measurement key: give the "
            "request secret or the RSA key that wrapped it (docs/ibmse.md)",
            reason=Reason.COLLATERAL_MISSING,
        )
    candidates = _candidates(response, kept, keys)
    if not candidates:
        raise AuthenticityError(
            "the wrapped measurement key and nonce do not unwrap with any given RSA key: "
            "the response does not answer a request of this verifier",
            reason=Reason.BINDING_INVALID,
        )
    for how, secret in candidates:
        expected = measurement(
            secret.measurement_key,
            response.image_hdr_tags,
            response.cuid,
            response.user_data,
            secret.nonce,
            response.additional_data,
        )
        if hmac.compare_digest(expected, response.measurement):
            return how, secret
    raise SignatureInvalid(
        f"the measurement does not verify with any of {len(candidates)} request secret(s)",
        reason=Reason.SIGNATURE_INVALID,
    )


def check_request_binding(
    response: SeResponse, secret: RequestSecret, attestation_phkh: bytes
) -> None:
    """What a kept secret also pins: the SE-header tags the challenge carried, and that the
    request was opened by one of the host keys it was encrypted to."""
    tags = secret.image_hdr_tags
    if tags is not None and not hmac.compare_digest(tags, response.image_hdr_tags.to_bytes()):
        raise AuthenticityError(
            "image_hdr_tags differ from the ones the request carried",
            reason=Reason.BINDING_INVALID,
        )
    hashes = secret.host_key_hashes
    if hashes and not any(hmac.compare_digest(h, attestation_phkh) for h in hashes):
        raise AuthenticityError(
            "the request was opened by a host key it was not encrypted to",
            reason=Reason.BINDING_INVALID,
        )
