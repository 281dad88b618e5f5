"""NVIDIA GPU attestation reports (docs/nvidia.md): SPDM GET_MEASUREMENTS request and
response, the device chain to the pinned NVIDIA root, FWID, claims, policy and the pipeline.
Hopper and Blackwell; raw reports or trustee's ``nvidia`` evidence JSON."""

from __future__ import annotations

from typing import Any

from cocoverify._core.certinfo import certificate_summary
from cocoverify._core.x509 import load_certificates
from cocoverify.errors import CocoverifyError
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


def _describe_one(report: bytes, arch: str, uuid: str, chain_pem: bytes = b"") -> dict[str, Any]:
    parsed = parse_report(report)
    claims = report_claims(parsed, arch=arch, uuid=uuid)
    req, resp = parsed.request, parsed.response
    out: dict[str, Any] = {
        "claims": claims,
        "signed_length": len(parsed.signed),
        "trailing_bytes": parsed.trailing,
        "identifiers": {
            "arch": arch,
            "uuid": uuid,
            **{k: v for k, v in claims["config"].items() if isinstance(v, str | int)},
        },
        "header": {
            "spdm_version": claims["spdm_version"],
            "request_slot": req.slot,
            "measurement_blocks": len(resp.blocks),
        },
        "body": {
            "requester_nonce": req.nonce.hex(),
            "responder_nonce": resp.nonce.hex(),
            "measurements": claims["measurements"],
            "config": {k: v for k, v in claims["config"].items() if not isinstance(v, str | int)},
        },
        "signature": {
            "algorithm": "ECDSA P-384 with SHA-384 (device key)",
            "bytes": len(resp.signature),
        },
    }
    if chain_pem:
        try:
            certs = load_certificates(chain_pem, what="device certificate chain")
        except CocoverifyError as exc:
            out["certificates_error"] = str(exc.args[0])
        else:
            out["certificates"] = [certificate_summary(c) for c in certs]
    return out


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``): one entry per device with its
    claims and the groups of the text view."""
    if looks_like_json(data):
        devices = [
            _describe_one(d.report, d.arch, d.uuid, d.chain_pem) for d in parse_device_list(data)
        ]
    else:
        devices = [_describe_one(data, "unknown", "unknown")]
    return {"kind": "gpu", "verified": False, "devices": to_jsonable(devices)}
