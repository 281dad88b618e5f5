"""NVIDIA GPU attestation reports (docs/nvidia.md): SPDM GET_MEASUREMENTS request and
response, the device chain to the pinned NVIDIA root, FWID, claims, policy and the pipeline.
Hopper and Blackwell; raw reports or trustee's ``nvidia`` evidence JSON."""

from __future__ import annotations

from typing import Any

from cocoverify.result import to_jsonable
from cocoverify.tee.nvidia.claims import report_claims
from cocoverify.tee.nvidia.evidence import looks_like_json, parse_device_list
from cocoverify.tee.nvidia.parse import looks_like, parse_report
from cocoverify.tee.nvidia.pipeline import appraise_device, appraise_report
from cocoverify.tee.nvidia.policy import GpuPolicy, load_reference_values

__all__ = [
    "POLICY_SECTIONS",
    "GpuPolicy",
    "appraise_device",
    "appraise_report",
    "describe",
    "detect",
    "load_reference_values",
]

POLICY_SECTIONS = {"gpu": GpuPolicy}


def detect(data: bytes) -> str | None:
    """``"gpu"`` for an SPDM 1.1 GET_MEASUREMENTS request followed by its MEASUREMENTS
    response, or trustee's ``device_evidence_list`` JSON; else None."""
    return "gpu" if looks_like(data) or looks_like_json(data) else None


def _describe_one(report: bytes, arch: str, uuid: str) -> dict[str, Any]:
    parsed = parse_report(report)
    return {
        "claims": report_claims(parsed, arch=arch, uuid=uuid),
        "signed_length": len(parsed.signed),
        "trailing_bytes": parsed.trailing,
    }


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``)."""
    if looks_like_json(data):
        devices = [_describe_one(d.report, d.arch, d.uuid) for d in parse_device_list(data)]
    else:
        devices = [_describe_one(data, "unknown", "unknown")]
    return {"kind": "gpu", "verified": False, "devices": to_jsonable(devices)}
