"""IBM Secure Execution pipeline: the response's checks of docs/ibmse.md, in order.

trustee ``SeVerifierImpl::evaluate`` orders them deserialize, unwrap, report data,
measurement, additional data; here the report-data comparison is the policy's binding rule
and so comes after authentication (the project's parse -> authenticate -> appraise order).
"""

from __future__ import annotations

import datetime as _dt

from cocoverify.collateral import Collateral
from cocoverify.collateral.source import CollateralSource
from cocoverify.result import Appraisal, freeze
from cocoverify.tee.ibmse.claims import REPORT_DATA_SIZE, response_claims
from cocoverify.tee.ibmse.parse import parse_response
from cocoverify.tee.ibmse.secret import secrets_in
from cocoverify.tee.ibmse.verify import authenticate, check_request_binding, split_additional
from cocoverify.trust import TrustStore

__all__ = ["appraise_response"]


def appraise_response(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,  # unused: the response carries no certificate
    at: _dt.datetime,  # unused: nothing in the response has a validity period
    source: CollateralSource | None = None,  # unused: no vendor collateral service
    require_crl: bool = False,  # unused: the host keys' CRLs are checked at request time
) -> Appraisal:
    """Verify an attestation response with the secret of its request (in ``collateral``)."""
    # 1. Deserialize SeAttestationResponse
    response = parse_response(data)
    # 2. The request secrets this verifier holds: kept ones, or RSA keys to unwrap with
    kept, keys = secrets_in(collateral.documents)
    # 3-4. Unwrap (wrapped mode), then HMAC-SHA512 over tags, CUID, user data, nonce,
    #      additional data (pv AttestationItems) against `measurement`, constant time
    how, secret = authenticate(response, kept, keys)
    # 5. Additional data for the flags {image PHKH, attestation PHKH}
    additional = split_additional(response.additional_data)
    # 6. What a kept secret pins besides: the challenge's tags, the host keys asked
    check_request_binding(response, secret, additional.attestation_phkh)
    warnings = []
    if response.ignored:
        warnings.append(f"response: ignored unknown keys {list(response.ignored)}")
    if additional.unrecognized:
        warnings.append(f"{len(additional.unrecognized)} bytes of unrecognised additional data")
    if how == "wrapped":
        warnings.append(
            "measurement key unwrapped from the response (trustee mode): its authenticity "
            "rests on the wrapping RSA public key being secret, and it can be replayed"
        )
    return Appraisal(
        tee="se",
        claims=freeze(response_claims(response, additional)),
        tcb_status=None,
        collateral=freeze({"measurement_key": how}),
        warnings=tuple(warnings),
        report_data=response.user_data[:REPORT_DATA_SIZE],
    )
