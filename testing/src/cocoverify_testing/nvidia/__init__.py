"""TEST ONLY. A fake NVIDIA GPU device PKI, SPDM measurement-report builder, OCSP responses
and RIM files."""

from cocoverify_testing.nvidia.pki import NOW, FakeNvidiaPki
from cocoverify_testing.nvidia.report import NEGATIVES, ReportSpec, build_report, evidence_json
from cocoverify_testing.nvidia.revocation import (
    build_rim,
    ocsp_response,
    responder_certificate,
    unsuccessful_response,
)

__all__ = [
    "NEGATIVES",
    "NOW",
    "FakeNvidiaPki",
    "ReportSpec",
    "build_report",
    "build_rim",
    "evidence_json",
    "ocsp_response",
    "responder_certificate",
    "unsuccessful_response",
]
