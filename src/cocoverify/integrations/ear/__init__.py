"""EAR attestation results: AR4SI trust vectors, unsigned claims and ES256/ES384 JWTs.

A verification outcome (an accepted :class:`~cocoverify.result.VerificationResult`, or the
:class:`~cocoverify.errors.CocoverifyError` of a rejection) becomes an EAT Attestation Result
shaped like trustee's AS token (``attestation-service/src/ear_token``)::

    claims = to_ear(result)                       # unsigned: a JSON-ready dict
    token = sign_ear(claims, private_key, "ES256")  # JWS compact, signer's jwk in the header
    claims = verify_ear(token, public_key, at=now)  # alg allow-list, signature, iat/exp

* :mod:`.vector` -- AR4SI tiers and the trust vector of an outcome (draft-ietf-rats-ar4si);
* :mod:`.token` -- the unsigned EAR claims and trustee's annotated evidence;
* :mod:`.jws` -- signing and the strict verifier (RFC 7515, RFC 7518 §3.4).

The trust-vector mapping is documented in docs/ear.md. Signing and verification use
``cryptography`` only; no JOSE dependency.
"""

from __future__ import annotations

from cocoverify.integrations.ear.jws import public_jwk, sign_ear, verify_ear
from cocoverify.integrations.ear.token import (
    PROFILE,
    TRUSTEE_PROFILE,
    VERAISON_PROFILE,
    annotated_evidence,
    to_composite_ear,
    to_ear,
)
from cocoverify.integrations.ear.vector import (
    APPROVED_CONFIG,
    APPROVED_RUNTIME,
    CLAIM_NAMES,
    CONTRAINDICATED_HARDWARE,
    CONTRAINDICATED_RUNTIME,
    CRYPTO_VALIDATION_FAILED,
    ENCRYPTED_MEMORY_RUNTIME,
    GENUINE_HARDWARE,
    NO_CLAIM,
    TRUSTWORTHY_INSTANCE,
    UNEXPECTED_EVIDENCE,
    UNRECOGNIZED_HARDWARE,
    UNRECOGNIZED_INSTANCE,
    UNSAFE_CONFIG,
    UNSAFE_HARDWARE,
    UNSUPPORTABLE_CONFIG,
    UNTRUSTWORTHY_INSTANCE,
    VERIFIER_MALFUNCTION,
    VISIBLE_MEMORY_RUNTIME,
    ear_status,
    tier,
    trust_vector,
)

__all__ = [
    "APPROVED_CONFIG",
    "APPROVED_RUNTIME",
    "CLAIM_NAMES",
    "CONTRAINDICATED_HARDWARE",
    "CONTRAINDICATED_RUNTIME",
    "CRYPTO_VALIDATION_FAILED",
    "ENCRYPTED_MEMORY_RUNTIME",
    "GENUINE_HARDWARE",
    "NO_CLAIM",
    "PROFILE",
    "TRUSTEE_PROFILE",
    "TRUSTWORTHY_INSTANCE",
    "UNEXPECTED_EVIDENCE",
    "UNRECOGNIZED_HARDWARE",
    "UNRECOGNIZED_INSTANCE",
    "UNSAFE_CONFIG",
    "UNSAFE_HARDWARE",
    "UNSUPPORTABLE_CONFIG",
    "UNTRUSTWORTHY_INSTANCE",
    "VERAISON_PROFILE",
    "VERIFIER_MALFUNCTION",
    "VISIBLE_MEMORY_RUNTIME",
    "annotated_evidence",
    "ear_status",
    "public_jwk",
    "sign_ear",
    "tier",
    "to_composite_ear",
    "to_ear",
    "trust_vector",
    "verify_ear",
]
