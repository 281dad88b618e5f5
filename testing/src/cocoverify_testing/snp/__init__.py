"""TEST ONLY. Fake AMD SEV-SNP authorities, a report builder and the project's SNP vectors.

* :mod:`.pki`: :class:`FakeAmdPKI` (ARK -> ASK/ASVK -> VCEK/VLEK, ARK CRLs; RSA keys from
  ``keys/amd-*.pem``), :data:`DEFAULT_TCB`, :func:`default_chip_id`.
* :mod:`.report`: :class:`SnpReportBuilder` (1184-byte reports; each setter returns a new
  builder), :func:`cert_table` (extended-report certificate blobs), :func:`tamper`.
* :mod:`.catalogue`: :func:`generate_vectors` writes one vector per defect for
  ``vectors/generate.py``.
* :mod:`.salts`: the recorded RSA-PSS salts that make regeneration byte-for-byte.

Nothing here is trusted by the default store.
"""

from __future__ import annotations

from cocoverify_testing.snp.catalogue import generate_vectors
from cocoverify_testing.snp.pki import (
    DEFAULT_TCB,
    EPOCH,
    VECTOR_TIME,
    FakeAmdPKI,
    amd_name,
    amd_rsa_key,
    default_chip_id,
    hwid_length,
    vcek_with_mgf1,
)
from cocoverify_testing.snp.report import SnpReportBuilder, cert_table, encode_tcb_for, tamper

#: The old private name, still imported by tests.
_amd_name = amd_name

__all__ = [
    "DEFAULT_TCB",
    "EPOCH",
    "VECTOR_TIME",
    "FakeAmdPKI",
    "SnpReportBuilder",
    "amd_name",
    "amd_rsa_key",
    "cert_table",
    "default_chip_id",
    "encode_tcb_for",
    "generate_vectors",
    "hwid_length",
    "tamper",
    "vcek_with_mgf1",
]
