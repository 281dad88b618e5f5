"""TEST ONLY. A fake AWS Nitro Enclaves PKI and attestation-document builder."""

from __future__ import annotations

from cocoverify_testing.nitro.document import REMOVE, NitroDocumentBuilder, default_pcrs, mutate
from cocoverify_testing.nitro.pki import NOW, FakeNitroPki, NitroChain

__all__ = [
    "NOW",
    "REMOVE",
    "FakeNitroPki",
    "NitroChain",
    "NitroDocumentBuilder",
    "default_pcrs",
    "mutate",
]
