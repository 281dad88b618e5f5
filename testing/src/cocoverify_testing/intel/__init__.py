"""TEST ONLY. A fake Intel DCAP PKI, signed collateral and SGX/TDX quote builders.

Everything is deterministic (fixed keys from :func:`cocoverify_testing.pki.ec_key`,
RFC 6979 ECDSA, fixed serials and times around :data:`NOW`), so regenerating gives
byte-identical files. Shapes mirror the real Intel artefacts (the real collateral in
``shared/vectors/intel``): subject DNs, PEM chains leaf first, DER CRLs with CRL Number +
AKI, compact PCS JSON bodies whose signature covers the exact text of the signed member.

* :mod:`.pck`: the PCK leaf (:class:`PckSpec`) and its SGX extension (:class:`SgxExtension`).
* :mod:`.collateral`: TCB Info (:class:`TcbInfo`), QE Identity (:class:`QeIdentity`) and
  the default TCB levels.
* :mod:`.pki`: :class:`FakeIntelPKI`: root, PCK Platform/Processor CA, TCB Signing, CRLs,
  PCK leaves and signed collateral bodies.
* :mod:`.layout`: the quote's field tables (:class:`Field`, ``*_FIELDS``).
* :mod:`.quotes`: :class:`QuoteBuilder`: SGX v3, TDX v4, v5 (body types 1/2/3).
* :mod:`.catalogue`: :func:`generate_vectors` (``vectors/intel``) and :func:`write_samples`.

Never trust anything produced here: the keys are derived from public labels.
"""

from __future__ import annotations

from cocoverify_testing.der import der_bool, der_enum, der_int, der_octets, der_oid, der_seq
from cocoverify_testing.intel.catalogue import (
    ACCEPT_ALL_POLICY,
    AT,
    generate_vectors,
    write_samples,
)
from cocoverify_testing.intel.collateral import (
    ALL_TCB_STATUSES,
    QE_MRSIGNER,
    SGX_LEVELS,
    SGX_PLATFORM_TCB,
    TD_QE_MRSIGNER,
    TDX_LEVELS,
    TDX_MODULE_IDENTITIES,
    TDX_TEE_TCB_SVN,
    EnclaveTcbLevel,
    QeIdentity,
    TcbInfo,
    TcbLevel,
    TdxModuleIdentity,
    add_space,
    sgx_qe_identity,
    sgx_tcb_info,
    td_qe_identity,
    tdx_tcb_info,
)
from cocoverify_testing.intel.layout import (
    BODY_SIZES,
    HEADER_FIELDS,
    INTEL_QE_VENDOR_ID,
    SGX_ATTR_DEBUG,
    SGX_REPORT_FIELDS,
    TD10_FIELDS,
    TD15_FIELDS,
    TD_ATTR_DEBUG,
    TD_ATTR_SEPT_VE_DISABLE,
    BuiltQuote,
    Field,
)
from cocoverify_testing.intel.pck import (
    SGX_EXTENSION_OID,
    SGX_FMSPC,
    TDX_FMSPC,
    PckSpec,
    SgxExtension,
    sgx_pck,
    tdx_pck,
)
from cocoverify_testing.intel.pki import (
    NOW,
    PCK_NAME,
    PLATFORM_CA_NAME,
    PROCESSOR_CA_NAME,
    ROOT_NAME,
    TCB_SIGNING_NAME,
    CertKnobs,
    CrlKnobs,
    FakeIntelPKI,
)
from cocoverify_testing.intel.quotes import QuoteBuilder

__all__ = [
    "ACCEPT_ALL_POLICY",
    "ALL_TCB_STATUSES",
    "AT",
    "BODY_SIZES",
    "HEADER_FIELDS",
    "INTEL_QE_VENDOR_ID",
    "NOW",
    "PCK_NAME",
    "PLATFORM_CA_NAME",
    "PROCESSOR_CA_NAME",
    "QE_MRSIGNER",
    "ROOT_NAME",
    "SGX_ATTR_DEBUG",
    "SGX_EXTENSION_OID",
    "SGX_FMSPC",
    "SGX_LEVELS",
    "SGX_PLATFORM_TCB",
    "SGX_REPORT_FIELDS",
    "TCB_SIGNING_NAME",
    "TD10_FIELDS",
    "TD15_FIELDS",
    "TDX_FMSPC",
    "TDX_LEVELS",
    "TDX_MODULE_IDENTITIES",
    "TDX_TEE_TCB_SVN",
    "TD_ATTR_DEBUG",
    "TD_ATTR_SEPT_VE_DISABLE",
    "TD_QE_MRSIGNER",
    "BuiltQuote",
    "CertKnobs",
    "CrlKnobs",
    "EnclaveTcbLevel",
    "FakeIntelPKI",
    "Field",
    "PckSpec",
    "QeIdentity",
    "QuoteBuilder",
    "SgxExtension",
    "TcbInfo",
    "TcbLevel",
    "TdxModuleIdentity",
    "add_space",
    "der_bool",
    "der_enum",
    "der_int",
    "der_octets",
    "der_oid",
    "der_seq",
    "generate_vectors",
    "sgx_pck",
    "sgx_qe_identity",
    "sgx_tcb_info",
    "td_qe_identity",
    "tdx_pck",
    "tdx_tcb_info",
    "write_samples",
]
