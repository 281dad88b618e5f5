"""The one place AWS Nitro claims are built: the document's own field names (NSM
attestation_process §2.2), one ``pcr<i>`` claim per PCR; bytes stay bytes.

``result.to_jsonable`` turns bytes into lower-case hex; absent optional fields are None.
The names are listed in docs/nitro.md "Claims".
"""

from __future__ import annotations

from typing import Any

from cocoverify.tee.nitro.parse import NitroPayload

__all__ = ["DEBUG_PCRS", "document_claims", "is_debug"]

#: PCRs that a debug-mode enclave reports as all zero (PCR0 image, PCR1 kernel, PCR2 application).
DEBUG_PCRS = (0, 1, 2)


def document_claims(doc: NitroPayload) -> dict[str, Any]:
    """``module_id``, ``timestamp`` (ms), ``digest``, ``pcr0``..``pcrN``, ``public_key``,
    ``user_data``, ``nonce``."""
    return {
        "module_id": doc.module_id,
        "timestamp": doc.timestamp,
        "digest": doc.digest,
        **{f"pcr{index}": value for index, value in doc.pcrs.items()},
        "public_key": doc.public_key,
        "user_data": doc.user_data,
        "nonce": doc.nonce,
    }


def is_debug(doc: NitroPayload) -> bool:
    """Debug mode: PCR0, PCR1 and PCR2 all zero (a missing one counts as zero). Nothing else
    in the document says so."""
    return not any(any(doc.pcrs.get(i, b"")) for i in DEBUG_PCRS)
