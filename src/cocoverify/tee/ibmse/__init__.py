"""IBM Secure Execution (docs/ibmse.md), as Confidential Containers' trustee ``se`` verifier
uses it: the attestation request (ARCB to verified host keys) and the response (an
HMAC-SHA512 measurement under the request's key), claims, policy and the pipeline."""

from __future__ import annotations

from typing import Any

from cocoverify.result import to_jsonable
from cocoverify.tee.ibmse.parse import looks_like, parse_response
from cocoverify.tee.ibmse.pipeline import appraise_response
from cocoverify.tee.ibmse.policy import SePolicy

__all__ = ["POLICY_SECTIONS", "SePolicy", "appraise_response", "describe", "detect"]

POLICY_SECTIONS = {"se": SePolicy}


def detect(data: bytes) -> str | None:
    """``"se"`` for JSON text naming the response's fields, else None."""
    return "se" if looks_like(data) else None


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``); the measurement key is not
    needed and the PHKHs are shown as the additional data carries them."""
    response = parse_response(data)
    add = response.additional_data
    return {
        "kind": "se",
        "verified": False,
        "claims": to_jsonable(
            {
                "cuid": response.cuid,
                "user_data": response.user_data,
                "tag": response.image_hdr_tags.tag,
                "image_phkh": add[:32] if len(add) >= 32 else None,
                "attestation_phkh": add[32:64] if len(add) >= 64 else None,
            }
        ),
        "image_hdr_tags": to_jsonable(
            {
                "pld": response.image_hdr_tags.pld,
                "ald": response.image_hdr_tags.ald,
                "tld": response.image_hdr_tags.tld,
            }
        ),
        "measurement_key_wrapped": bool(response.encr_measurement_key),
        "identifiers": {
            "cuid": response.cuid.hex(),
            "collateral": "the request's secret (measurement key and nonce), or the RSA key "
            "that wrapped it",
        },
        "signature": {
            "measurement": "HMAC-SHA512 under the request's measurement key (IBM SE "
            "attestation, checked by verify only)",
            "measurement_key_in_response": bool(response.encr_measurement_key),
        },
    }
