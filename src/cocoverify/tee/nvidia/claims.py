"""The one place NVIDIA GPU claims are built.

trustee's local-mode keys first (``deps/verifier/src/nvidia/mod.rs``; tee class ``gpu``):
``arch``, ``uuid``, ``measurements`` (block index as a decimal string -> hex of the DMTF value)
and ``config`` (the opaque data, decoded as trustee decodes it). Then our own:
``measurement_blocks`` (every block with its specification and value type), ``nonce`` (the
request nonce), ``responder_nonce`` and ``spdm_version``. Names: docs/nvidia.md "Claims".
"""

from __future__ import annotations

from typing import Any

from cocoverify.tee.nvidia.parse import SpdmReport, decode_opaque

__all__ = ["TRUSTEE_KEYS", "report_claims"]

#: the keys trustee's claims carry, in its order
TRUSTEE_KEYS = ("arch", "uuid", "measurements", "config")


def report_claims(report: SpdmReport, *, arch: str, uuid: str) -> dict[str, Any]:
    """trustee's claims for one device plus every measurement block."""
    blocks = report.response.blocks
    return {
        "arch": arch,
        "uuid": uuid,
        "measurements": {str(b.index): b.value.hex() for b in blocks},
        "config": dict(decode_opaque(f) for f in report.response.opaque),
        "measurement_blocks": [
            {
                "index": b.index,
                "specification": b.specification,
                "value_type": b.value_type & 0x7F,
                "raw_bitstream": b.raw_bitstream,
                "value": b.value,
            }
            for b in blocks
        ],
        "nonce": report.request.nonce,
        "responder_nonce": report.response.nonce,
        "spdm_version": f"{report.request.version >> 4}.{report.request.version & 0xF}",
    }
