"""Low-level building blocks. HAZARDOUS: each does one step and proves nothing on its own.

Use :func:`cocoverify.verify` unless you are composing your own verifier and know which
checks you are responsible for.
"""

from __future__ import annotations

from cocoverify._core.text import decode_text
from cocoverify._core.x509 import check_crl, load_certificates, verify_chain
from cocoverify.registry import detect
from cocoverify.tee.intel.collateral import load_signed_json, verify_signed_json
from cocoverify.tee.intel.documents import parse_enclave_identity, parse_tcb_info
from cocoverify.tee.intel.parse import parse_quote
from cocoverify.tee.intel.pck import parse_pck_extension, pck_chain_for
from cocoverify.tee.intel.tcb import appraise_tcb
from cocoverify.tee.intel.verify import authenticate_quote, verify_crls
from cocoverify.tee.snp.certtable import CertTable, CertTableEntry
from cocoverify.tee.snp.collateral import table_collateral
from cocoverify.tee.snp.parse import SnpReport
from cocoverify.tee.snp.tcb import encode_tcb

__all__ = [
    "CertTable",
    "CertTableEntry",
    "SnpReport",
    "appraise_tcb",
    "authenticate_quote",
    "check_crl",
    "decode_text",
    "detect",
    "encode_tcb",
    "load_certificates",
    "load_signed_json",
    "parse_enclave_identity",
    "parse_pck_extension",
    "parse_quote",
    "parse_tcb_info",
    "pck_chain_for",
    "table_collateral",
    "verify_chain",
    "verify_crls",
    "verify_signed_json",
]
