"""TEST ONLY. A fake IBM Secure Execution PKI (host-key documents, signing chain, CRLs) and
a fake Ultravisor that answers attestation requests."""

from __future__ import annotations

from cocoverify_testing.ibmse.pki import HOSTS, NOW, FakeIbmPki, ibm_signing_name
from cocoverify_testing.ibmse.uv import FakeUltravisor, OpenedArcb, open_arcb, response_json

__all__ = [
    "HOSTS",
    "NOW",
    "FakeIbmPki",
    "FakeUltravisor",
    "OpenedArcb",
    "ibm_signing_name",
    "open_arcb",
    "response_json",
]
