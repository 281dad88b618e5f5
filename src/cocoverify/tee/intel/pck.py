"""The PCK certificate chain (QVL ``PckCertVerifier.cpp``; SGX extension: QVL
``AttestationParsers`` ``ParserUtils.h``, ``X509/*.cpp``).

* where the chain comes from: certification data type 5 (read strictly: the data is not
  signed), else the collateral (types 1-4; type 4 carries the leaf alone);
* the chain to the pinned Intel SGX Root CA, valid at ``at``, with QVL's CN profile;
* the Intel SGX extension of the leaf (OID 1.2.840.113741.1.13.1), decoded strictly.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import cocoverify._core.der as der
from cocoverify import _backend
from cocoverify._core.signatures import verify_ecdsa_raw
from cocoverify._core.x509 import load_certificates, signed_by, verify_chain
from cocoverify.collateral import Collateral
from cocoverify.errors import ChainInvalid, CollateralUnavailable, MalformedEvidence, Reason
from cocoverify.tee.intel.parse import Quote
from cocoverify.trust import TrustStore

__all__ = [
    "SGX_EXT_OID",
    "PckChain",
    "PckInfo",
    "common_name",
    "order_chain",
    "parse_pck_extension",
    "pck_chain_for",
    "verify_pck_chain",
]

SGX_EXT_OID = "1.2.840.113741.1.13.1"
_SHA256 = hashes.SHA256()


@dataclass(frozen=True, slots=True)
class PckInfo:
    """Facts from the PCK leaf's Intel SGX extension (QVL ``ParserUtils.h``)."""

    ppid: bytes
    tcb_components: tuple[int, ...]
    pce_svn: int
    cpu_svn: bytes
    pce_id: bytes
    fmspc: bytes
    sgx_type: int
    platform_instance_id: bytes | None
    dynamic_platform: bool | None
    cached_keys: bool | None
    smt_enabled: bool | None
    ca: str


@dataclass(frozen=True, slots=True)
class PckChain:
    """An authenticated PCK chain and its extension facts."""

    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate
    info: PckInfo


def common_name(
    cert: x509.Certificate | x509.CertificateRevocationList, issuer: bool = False
) -> str:
    """The first CN of the subject (of the issuer with ``issuer``, always for a CRL), or ""."""
    n = cert.issuer if issuer or isinstance(cert, x509.CertificateRevocationList) else cert.subject
    attrs = n.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def order_chain(certs: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """Leaf first, following issuer links (files list the root first or last: QVL's
    synthetic sample lists it first)."""
    if not certs:
        return ()
    leaves = [c for c in certs if c.subject not in {x.issuer for x in certs if x is not c}]
    leaf = leaves[0] if leaves else certs[0]
    out = [leaf]
    while out[-1].issuer != out[-1].subject and len(out) <= len(certs):
        parent = next((c for c in certs if c.subject == out[-1].issuer and c not in out), None)
        if parent is None:
            break
        out.append(parent)
    return tuple(out)


# --- the Intel SGX extension ------------------------------------------------------------------


def parse_pck_extension(cert: x509.Certificate) -> PckInfo:
    """Decode OID 1.2.840.113741.1.13.1 (QVL ``ParserUtils.h``: 5 or 7 entries)."""
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXT_OID))
    except x509.ExtensionNotFound:
        raise ChainInvalid(
            "PCK certificate has no Intel SGX extension", reason=Reason.CERTIFICATE_PROFILE_INVALID
        ) from None
    raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
    try:
        return _decode_sgx_extension(raw, cert)
    except (ValueError, KeyError, IndexError) as exc:
        raise ChainInvalid(
            f"PCK SGX extension: {exc}", reason=Reason.CERTIFICATE_PROFILE_INVALID
        ) from None


def _pairs(tlv: der.TLV, what: str) -> list[tuple[str, der.TLV]]:
    """SEQUENCE OF SEQUENCE {OID, value} -> [(oid, value)], OIDs unique."""
    if tlv.tag != der.TAG_SEQUENCE:
        raise ValueError(f"{what} is not a SEQUENCE")
    out: list[tuple[str, der.TLV]] = []
    for item in tlv.children():
        parts = item.children() if item.tag == der.TAG_SEQUENCE else []
        if len(parts) != 2:
            raise ValueError(f"{what}: entry is not SEQUENCE {{OID, value}}")
        oid = der.decode_oid(parts[0])
        if any(o == oid for o, _ in out):
            raise ValueError(f"{what}: duplicate entry {oid}")
        out.append((oid, parts[1]))
    return out


def _svn(tlv: der.TLV, what: str, bits: int) -> int:
    value = der.parse_int(tlv)
    if tlv.tag != der.TAG_INTEGER or not 0 <= value < 1 << bits:
        raise ValueError(f"{what}: not an INTEGER in 0..{(1 << bits) - 1}")
    return value


def _issuing_ca(cert: x509.Certificate) -> str:
    issuer_cn = common_name(cert, issuer=True)
    return (
        "platform" if "Platform" in issuer_cn else "processor" if "Processor" in issuer_cn else ""
    )


def _decode_sgx_extension(raw: bytes, cert: x509.Certificate) -> PckInfo:
    if _backend.backend_for("sgx-extension") == "native":
        # the same walk in C (csrc/cv_sgxext.c): the same values and messages (docs/native.md)
        from cocoverify._backend import _native_sgxext

        return PckInfo(*_native_sgxext.parse_sgx_extension(raw), ca=_issuing_ca(cert))
    top, end = der.parse_tlv(raw)
    if end != len(raw):
        raise ValueError("not a single SEQUENCE")
    entries = dict(_pairs(top, "SGX extension"))
    base = SGX_EXT_OID
    mandatory = {f"{base}.{i}" for i in (1, 2, 3, 4, 5)}
    platform = mandatory | {f"{base}.6", f"{base}.7"}
    # QVL: 5 entries (Processor CA) or 7 (Platform CA), no others
    if set(entries) not in (mandatory, platform):
        raise ValueError(
            f"entries {sorted(entries)} are neither the 5 nor the 7 of the Intel SGX PCK Certificate Profile"
        )

    def octets(oid: str, n: int) -> bytes:
        t = entries[oid]
        if t.tag != der.TAG_OCTET_STRING or len(t.value) != n:
            raise ValueError(f"{oid}: expected OCTET STRING of {n} bytes")
        return t.value

    # TCB: .2.1-.2.16 component SVNs, .2.17 PCESVN, .2.18 CPUSVN; exactly these 18
    tcb = dict(_pairs(entries[f"{base}.2"], "TCB"))
    if set(tcb) != {f"{base}.2.{i}" for i in range(1, 19)}:
        raise ValueError("TCB does not hold exactly the entries .2.1-.2.18")
    comps = tuple(_svn(tcb[f"{base}.2.{i}"], f"TCB component {i}", 8) for i in range(1, 17))
    pce_svn = _svn(tcb[f"{base}.2.17"], "PCESVN", 16)
    cpusvn_tlv = tcb[f"{base}.2.18"]
    if cpusvn_tlv.tag != der.TAG_OCTET_STRING or len(cpusvn_tlv.value) != 16:
        raise ValueError("CPUSVN is not a 16-byte OCTET STRING")
    sgx_type_tlv = entries[f"{base}.5"]
    sgx_type = der.parse_int(sgx_type_tlv)
    if sgx_type_tlv.tag != der.TAG_ENUMERATED or sgx_type not in (0, 1, 2):
        raise ValueError(f"SGX type {sgx_type} (ENUMERATED 0, 1 or 2)")
    instance_id = None
    flags: dict[str, bool | None] = {f"{base}.7.{i}": None for i in (1, 2, 3)}
    if f"{base}.6" in entries:
        instance_id = octets(f"{base}.6", 16)
        for oid, value in _pairs(entries[f"{base}.7"], "Configuration"):
            if oid not in flags:
                raise ValueError(f"Configuration: unknown entry {oid}")
            if value.tag != der.TAG_BOOLEAN or len(value.value) != 1:
                raise ValueError(f"{oid}: expected BOOLEAN")
            flags[oid] = value.value != b"\x00"
    ca = _issuing_ca(cert)
    return PckInfo(
        ppid=octets(f"{base}.1", 16),
        tcb_components=comps,
        pce_svn=pce_svn,
        cpu_svn=cpusvn_tlv.value,
        pce_id=octets(f"{base}.3", 2),
        fmspc=octets(f"{base}.4", 6),
        sgx_type=sgx_type,
        platform_instance_id=instance_id,
        dynamic_platform=flags[f"{base}.7.1"],
        cached_keys=flags[f"{base}.7.2"],
        smt_enabled=flags[f"{base}.7.3"],
        ca=ca,
    )


# --- where the chain comes from ---------------------------------------------------------------

#: Type-5 PEM text as Intel's QE writes it (RFC 7468 strict form): BEGIN line, base64 lines,
#: END line, each ended by LF (or CRLF; the last one may be missing), then NUL padding only.
_PEM_STRICT = re.compile(
    rb"(?:-----BEGIN CERTIFICATE-----\r?\n(?:[A-Za-z0-9+/]{1,76}={0,2}\r?\n)+"
    rb"-----END CERTIFICATE-----(?:\r?\n|(?=\x00)|\Z))+\x00*"
)


def _cert_data_certificates(quote: Quote) -> tuple[x509.Certificate, ...]:
    """Certificates of type 4/5 certification data, read strictly (QVL ``QuoteStructures.h``).

    The data is not signed, so it must hold certificates and nothing else: PEM in the form
    the QE writes, or concatenated DER (QVL's sample), each optionally NUL-padded. Any other
    byte (a changed line break, text between or after blocks) is malformed.
    """
    cert = quote.certification
    data = cert.data
    try:
        if data.startswith(b"-----BEGIN"):
            if _PEM_STRICT.fullmatch(data) is None:
                raise MalformedEvidence(
                    "PCK certificate chain: not strict PEM certificates",
                    reason=Reason.MALFORMED_CERTIFICATE,
                )
            return load_certificates(data, what="PCK certificate chain")
        return load_certificates(data, what="PCK certificate chain", zero_padding=True)
    except MalformedEvidence as exc:
        raise MalformedEvidence(
            str(exc.args[0]),
            field="certification_data.data",
            offset=cert.offset + 6,
            reason=Reason.MALFORMED_CERTIFICATE,
        ) from None


def _is_pck_leaf(cert: x509.Certificate) -> bool:
    return "SGX PCK Certificate" in common_name(cert)


def _complete(
    leaf: x509.Certificate, pool: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """``leaf`` followed by its issuers found in ``pool`` (issuer name and signature)."""
    out = [leaf]
    while out[-1].issuer != out[-1].subject and len(out) < 3:
        parent = next(
            (c for c in pool if c.subject == out[-1].issuer and signed_by(out[-1], c)), None
        )
        if parent is None:
            break
        out.append(parent)
    return tuple(out)


def pck_chain_for(quote: Quote, collateral: Collateral) -> tuple[x509.Certificate, ...]:
    """The PCK chain: certification data type 5, else from the collateral (types 1-4).

    Type 5 must carry exactly the chain's certificates (QVL: three). For types 1-4 (no
    chain in the quote; type 4 carries the leaf alone) candidate chains are the collateral's
    PCK chains and, for type 4, the quote's leaf completed from the collateral; the one whose
    leaf key verifies the QE report signature is taken, so other platforms' PCK chains in
    the collateral cannot steer the choice (the signature is checked again afterwards).
    """
    cert = quote.certification
    if cert.type == 5:
        certs = _cert_data_certificates(quote)
        ordered = order_chain(certs)
        if len(ordered) != len(certs):
            raise ChainInvalid(
                f"certification data carries {len(certs)} certificates, "
                f"{len(ordered)} of them form the PCK chain",
                reason=Reason.CHAIN_INVALID,
            )
        return ordered
    candidates: list[tuple[x509.Certificate, ...]] = []
    if cert.type == 4:
        leaves = _cert_data_certificates(quote)
        if len(leaves) != 1:
            raise MalformedEvidence(
                f"certification data type 4 holds {len(leaves)} certificates, not the PCK leaf",
                field="certification_data.data",
                offset=cert.offset + 6,
                reason=Reason.MALFORMED_CERTIFICATE,
            )
        completed = _complete(leaves[0], collateral.certificates)
        if len(completed) == 3:  # else its CA and root were not supplied
            candidates.append(completed)
    for chain in collateral.chains:
        ordered = order_chain(chain)
        if ordered and _is_pck_leaf(ordered[0]):
            candidates.append(ordered)
    if not candidates:
        raise CollateralUnavailable(
            f"certification data type {cert.type} carries no PCK chain and none was supplied",
            reason=Reason.COLLATERAL_MISSING,
        )
    for chain in candidates:
        key = chain[0].public_key()
        if isinstance(key, ec.EllipticCurvePublicKey) and verify_ecdsa_raw(
            key, quote.qe_report_signature, quote.qe_report.raw, _SHA256
        ):
            return chain
    return candidates[0]


# --- the chain to the pinned root -------------------------------------------------------------


def verify_pck_chain(
    chain: Sequence[x509.Certificate], *, trust: TrustStore, at: _dt.datetime
) -> PckChain:
    """Leaf, PCK CA and root to the pinned root, valid at ``at``; CN profile; SGX extension.

    QVL ``QuoteVerification.cpp`` (three certificates), ``PckCertVerifier.cpp`` (links, CN
    phrases of ``X509Constants.cpp``).
    """
    if len(chain) != 3:
        raise ChainInvalid(
            f"PCK chain has {len(chain)} certificates, expected 3", reason=Reason.CHAIN_INVALID
        )
    leaf, inter, root = chain
    verify_chain(
        chain,
        pinned=trust.intel_roots,
        at=at,
        names=("PCK certificate", "PCK CA certificate", "root CA certificate"),
    )
    if "SGX PCK Certificate" not in common_name(leaf) or "CA" not in common_name(inter):
        raise ChainInvalid(
            "PCK chain certificates do not have Intel's PCK profile",
            reason=Reason.CERTIFICATE_PROFILE_INVALID,
        )
    return PckChain(leaf=leaf, intermediate=inter, root=root, info=parse_pck_extension(leaf))
