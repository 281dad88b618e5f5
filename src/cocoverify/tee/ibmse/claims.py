"""The one place IBM Secure Execution claims are built: trustee's ``SeAttestationClaims``
(``deps/verifier/src/se/ibmse.rs``) plus the whole user data; bytes stay bytes.

``result.to_jsonable`` writes bytes as lower-case hex, as trustee's ``serde_with::hex``
does. ``report_data`` is the first 64 bytes of the user data, which a trustee expected
report data must equal (trustee emits the expected value itself: the same bytes whenever its
check passed). Names: docs/ibmse.md "Claims".
"""

from __future__ import annotations

from typing import Any

from cocoverify.tee.ibmse.parse import SeResponse
from cocoverify.tee.ibmse.verify import AdditionalData

__all__ = ["ATTESTATION_VERSION", "REPORT_DATA_SIZE", "response_claims"]

ATTESTATION_VERSION = 0x0100  # pv AttestationVersion::One; trustee's `version` claim (256)
REPORT_DATA_SIZE = 64  # trustee SE_REPORT_DATA_SIZE


def response_claims(response: SeResponse, additional: AdditionalData | None) -> dict[str, Any]:
    """``cuid``, ``report_data``, ``version``, ``image_phkh``, ``attestation_phkh``, ``tag``,
    ``user_data`` (PHKHs None when the additional data was not read)."""
    return {
        "cuid": response.cuid,
        "report_data": response.user_data[:REPORT_DATA_SIZE],
        "version": ATTESTATION_VERSION,
        "image_phkh": additional.image_phkh if additional else None,
        "attestation_phkh": additional.attestation_phkh if additional else None,
        "tag": response.image_hdr_tags.tag,
        "user_data": response.user_data,
    }
