"""TEST ONLY. A fake NVIDIA GPU device PKI and SPDM measurement-report builder."""

from cocoverify_testing.nvidia.pki import NOW, FakeNvidiaPki
from cocoverify_testing.nvidia.report import NEGATIVES, ReportSpec, build_report, evidence_json

__all__ = ["NEGATIVES", "NOW", "FakeNvidiaPki", "ReportSpec", "build_report", "evidence_json"]
