"""Authenticate Intel quotes and collateral (intel.md §1-§5; QVL QuoteVerifier, PckCertVerifier).

* the PCK chain (leaf, Platform/Processor CA, root) to the pinned Intel SGX Root CA;
* the quote signature, the QE report signature and the QE report binding (§2.6);
* the Root CA CRL and PCK CRL (signature, issuer, extensions, validity) and revocation (§3);
* PCS-signed JSON (TCB Info, QE Identity): signature over the exact served text, by the TCB
  Signing certificate chained to the pinned root (§5.1).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

import cocoverify._core.der as der
from cocoverify._core.signatures import ec_public_key_from_raw, verify_ecdsa_raw
from cocoverify._core.x509 import (
    check_crl,
    load_certificates,
    raise_if_revoked,
    signed_by,
    verify_chain,
)
from cocoverify.collateral import Collateral
from cocoverify.errors import (
    ChainInvalid,
    CollateralInvalid,
    CollateralUnavailable,
    MalformedEvidence,
    Reason,
    SignatureInvalid,
)
from cocoverify.tee.intel.parse import INTEL_QE_VENDOR_ID, Quote
from cocoverify.trust import TrustStore

__all__ = [
    "PckChain",
    "PckInfo",
    "SignedJson",
    "authenticate_quote",
    "load_signed_json",
    "order_chain",
    "parse_pck_extension",
    "pck_chain_for",
    "verify_crls",
    "verify_signed_json",
]

SGX_EXT_OID = "1.2.840.113741.1.13.1"
_SHA256 = hashes.SHA256()


@dataclass(frozen=True, slots=True)
class PckInfo:
    """Facts from the PCK leaf's Intel SGX extension (intel.md §4)."""

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


def _cn(cert: x509.Certificate | x509.CertificateRevocationList, issuer: bool = False) -> str:
    n = cert.issuer if issuer or isinstance(cert, x509.CertificateRevocationList) else cert.subject
    attrs = n.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def order_chain(certs: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """Leaf first, following issuer links (files list roots first or last; §2.5 (b))."""
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


def parse_pck_extension(cert: x509.Certificate) -> PckInfo:
    """Decode OID 1.2.840.113741.1.13.1 (intel.md §4; QVL requires 5 or 7 entries)."""
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
    """SEQUENCE OF SEQUENCE {OID, value} -> [(oid, value)], OIDs unique (intel.md §4)."""
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


def _decode_sgx_extension(raw: bytes, cert: x509.Certificate) -> PckInfo:
    top, end = der.parse_tlv(raw)
    if end != len(raw):
        raise ValueError("not a single SEQUENCE")
    entries = dict(_pairs(top, "SGX extension"))
    base = SGX_EXT_OID
    mandatory = {f"{base}.{i}" for i in (1, 2, 3, 4, 5)}
    platform = mandatory | {f"{base}.6", f"{base}.7"}
    # QVL: 5 entries (Processor CA) or 7 (Platform CA), no others
    if set(entries) not in (mandatory, platform):
        raise ValueError(f"entries {sorted(entries)} are neither the 5 nor the 7 of intel.md §4")

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
    issuer_cn = _cn(cert, issuer=True)
    ca = "platform" if "Platform" in issuer_cn else "processor" if "Processor" in issuer_cn else ""
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


#: Type-5 PEM text as Intel's QE writes it (RFC 7468 strict form): BEGIN line, base64 lines,
#: END line, each ended by LF (or CRLF; the last one may be missing), then NUL padding only.
_PEM_STRICT = re.compile(
    rb"(?:-----BEGIN CERTIFICATE-----\r?\n(?:[A-Za-z0-9+/]{1,76}={0,2}\r?\n)+"
    rb"-----END CERTIFICATE-----(?:\r?\n|(?=\x00)|\Z))+\x00*"
)


def _cert_data_certificates(quote: Quote) -> tuple[x509.Certificate, ...]:
    """Certificates of type 4/5 certification data, read strictly (intel.md §2.5).

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
    return "SGX PCK Certificate" in _cn(cert)


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


def authenticate_quote(
    quote: Quote, chain: Sequence[x509.Certificate], *, trust: TrustStore, at: _dt.datetime
) -> PckChain:
    """PCK chain to the pinned root, then the three signature checks (intel.md §2.6, §3)."""
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
    # QVL PckCertVerifier: CN phrases (X509Constants.cpp)
    if "SGX PCK Certificate" not in _cn(leaf) or "CA" not in _cn(inter):
        raise ChainInvalid(
            "PCK chain certificates do not have Intel's PCK profile",
            reason=Reason.CERTIFICATE_PROFILE_INVALID,
        )
    info = parse_pck_extension(leaf)
    # 1. quote signature by the attestation key over header + body
    try:
        att_key = ec_public_key_from_raw(quote.attestation_key)
    except ValueError:
        raise SignatureInvalid(
            "attestation key is not a P-256 point", reason=Reason.SIGNATURE_INVALID
        ) from None
    if not verify_ecdsa_raw(att_key, quote.signature, quote.signed_region, _SHA256):
        raise SignatureInvalid(
            "quote signature does not verify with the attestation key",
            reason=Reason.SIGNATURE_INVALID,
        )
    # 2. QE report signature by the PCK leaf key
    pck_key = leaf.public_key()
    if not isinstance(pck_key, ec.EllipticCurvePublicKey) or not verify_ecdsa_raw(
        pck_key, quote.qe_report_signature, quote.qe_report.raw, _SHA256
    ):
        raise SignatureInvalid(
            "QE report signature does not verify with the PCK key",
            reason=Reason.QE_REPORT_SIGNATURE_INVALID,
        )
    # 3. QE report data = SHA-256(attestation key || QE auth data) || 32 zero bytes
    expected = hashlib.sha256(quote.attestation_key + quote.qe_auth_data).digest() + bytes(32)
    if not hmac.compare_digest(expected, quote.qe_report.report_data):
        raise SignatureInvalid(
            "QE report data does not bind the attestation key",
            reason=Reason.QE_REPORT_DATA_MISMATCH,
        )
    # QE vendor ID (QVL Quote::validate): only Intel's QE is supported
    if quote.header.qe_vendor_id != INTEL_QE_VENDOR_ID:
        raise SignatureInvalid(
            f"QE vendor ID {quote.header.qe_vendor_id.hex()} is not Intel's",
            reason=Reason.QE_VENDOR_ID_UNKNOWN,
        )
    return PckChain(leaf=leaf, intermediate=inter, root=root, info=info)


def _pick_crl(
    crls: Sequence[x509.CertificateRevocationList],
    issuer: x509.Certificate,
    at: _dt.datetime,
    what: str,
) -> x509.CertificateRevocationList:
    candidates = [c for c in crls if c.issuer == issuer.subject]
    if not candidates:
        raise CollateralUnavailable(
            f"no {what} issued by {issuer.subject.rfc4514_string()}", reason=Reason.CRL_MISSING
        )
    # Prefer a CRL current at `at`, newest first; report the newest one's defect otherwise.
    candidates.sort(key=lambda c: c.last_update_utc, reverse=True)
    first_error: CollateralInvalid | None = None
    for crl in candidates:
        try:
            check_crl(crl, issuer, at, what=what, require_extensions=True)
            return crl
        except CollateralInvalid as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def verify_crls(
    pck: PckChain,
    collateral: Collateral,
    at: _dt.datetime,
) -> tuple[x509.CertificateRevocationList, x509.CertificateRevocationList]:
    """Root CA CRL and PCK CRL verified and applied (intel.md §3). Returns both."""
    root_crl = _pick_crl(collateral.crls, pck.root, at, "Root CA CRL")
    try:
        pck_crl = _pick_crl(collateral.crls, pck.intermediate, at, "PCK CRL")
    except CollateralUnavailable:
        others = [c for c in collateral.crls if c.issuer != pck.root.subject]
        if others:
            # QVL: a PCK CRL whose issuer is not the leaf's issuer -> INVALID_PCK_CRL
            raise CollateralInvalid(
                "the PCK CRL supplied is not issued by the PCK leaf's "
                f"issuer ({_cn(pck.leaf, issuer=True)})",
                reason=Reason.CRL_INVALID,
            ) from None
        raise
    raise_if_revoked(root_crl, pck.intermediate, what="PCK CA certificate")
    raise_if_revoked(pck_crl, pck.leaf, what="PCK certificate")
    return root_crl, pck_crl


@dataclass(frozen=True, slots=True)
class SignedJson:
    """A PCS response body: the parsed inner object and the exact signed text (§5.1)."""

    member: str
    body: dict[str, Any]
    signed_text: bytes
    signature: bytes


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate member {k!r}")
        out[k] = v
    return out


_SIG_HEX = re.compile(r"[0-9A-Fa-f]{128}")


@functools.lru_cache(maxsize=256)
def load_signed_json(raw: bytes, member: str) -> SignedJson:
    """Split ``{"<member>": {...}, "signature": "<hex>"}`` keeping the member's exact text.

    Memoised by the raw bytes (pure); callers must treat ``body`` as read-only.
    """
    try:
        text = raw.decode("utf-8")
        doc = json.loads(text, object_pairs_hook=_no_duplicates)
        if not isinstance(doc, dict) or not isinstance(doc.get(member), dict):
            raise ValueError(f"no {member} object")
        sig_hex = doc.get("signature")
        # raw r||s, 128 hex digits exactly (bytes.fromhex would also take spaces)
        if not isinstance(sig_hex, str) or _SIG_HEX.fullmatch(sig_hex) is None:
            raise ValueError("signature is not 128 hex digits")
        signature = bytes.fromhex(sig_hex)
        span = _member_span(text, member)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CollateralInvalid(
            f"{member}: malformed ({exc})", reason=Reason.COLLATERAL_MALFORMED
        ) from None
    return SignedJson(
        member=member,
        body=doc[member],
        signed_text=text[span[0] : span[1]].encode("utf-8"),
        signature=signature,
    )


def _member_span(text: str, member: str) -> tuple[int, int]:
    """Character span of a top-level member's value, using the stdlib scanner."""
    decoder = json.JSONDecoder()
    ws = " \t\n\r"
    pos = 0
    while text[pos] in ws:
        pos += 1
    if text[pos] != "{":
        raise ValueError("not an object")
    pos += 1
    while True:
        while text[pos] in ws:
            pos += 1
        key, pos = decoder.raw_decode(text, pos)
        while text[pos] in ws:
            pos += 1
        if text[pos] != ":":
            raise ValueError("expected ':'")
        pos += 1
        while text[pos] in ws:
            pos += 1
        start = pos
        _, pos = decoder.raw_decode(text, pos)
        if key == member:
            return start, pos
        while text[pos] in ws:
            pos += 1
        if text[pos] != ",":
            raise ValueError(f"member {member!r} not found")
        pos += 1


@functools.lru_cache(maxsize=256)
def _signs(cert: x509.Certificate, signature: bytes, text: bytes) -> bool:
    """Memoised: ``cert``'s key verifies the raw r||s ``signature`` over ``text``."""
    key = cert.public_key()
    return isinstance(key, ec.EllipticCurvePublicKey) and verify_ecdsa_raw(
        key, signature, text, _SHA256
    )


def verify_signed_json(
    signed: SignedJson,
    *,
    collateral: Collateral,
    pck: PckChain,
    root_crl: x509.CertificateRevocationList,
    trust: TrustStore,
    at: _dt.datetime,
) -> x509.Certificate:
    """Signature by a TCB Signing certificate chained to the pinned root (§1, §5.1).

    Intel re-issues the TCB Signing certificate with the same key (2018-2025 and 2025-2032
    generations), so several supplied certificates may verify the signature: the first whose
    chain is valid at ``at`` and not revoked is used; if none is, the first one's defect is
    reported. File order therefore cannot make a valid document fail.
    """
    signers = [c for c in collateral.certificates if "TCB Signing" in _cn(c)]
    if not signers:
        raise CollateralUnavailable(
            f"no TCB Signing certificate for the {signed.member}", reason=Reason.COLLATERAL_MISSING
        )
    verifying = [c for c in signers if _signs(c, signed.signature, signed.signed_text)]
    if not verifying:
        raise CollateralInvalid(
            f"{signed.member} signature does not verify", reason=Reason.COLLATERAL_SIGNATURE_INVALID
        )
    first_error: CollateralInvalid | None = None
    for signer in verifying:
        try:
            _check_tcb_signer(
                signer, collateral=collateral, pck=pck, root_crl=root_crl, trust=trust, at=at
            )
        except CollateralInvalid as exc:
            first_error = first_error or exc
            continue
        return signer
    assert first_error is not None
    raise first_error


def _check_tcb_signer(
    signer: x509.Certificate,
    *,
    collateral: Collateral,
    pck: PckChain,
    root_crl: x509.CertificateRevocationList,
    trust: TrustStore,
    at: _dt.datetime,
) -> None:
    """(signer, root) chain to the pinned root, valid at ``at``; signer not on the Root CA CRL."""
    roots = [
        c
        for c in (*collateral.certificates, pck.root)
        if c.subject == signer.issuer and signed_by(signer, c)
    ]
    root = next((c for c in roots if trust.is_intel_root(c)), roots[0] if roots else None)
    if root is None:
        raise CollateralInvalid(
            "TCB Signing certificate: no issuer certificate supplied",
            reason=Reason.COLLATERAL_CHAIN_INVALID,
        )
    verify_chain(
        (signer, root),
        pinned=trust.intel_roots,
        at=at,
        names=("TCB Signing certificate", "root CA certificate"),
        collateral=True,
    )
    # One root for everything (QVL trusts one root): the Root CA CRL checked here is the PCK
    # root's, so a signer under another pinned root would escape its own root's CRL.
    if root != pck.root:
        raise CollateralInvalid(
            "TCB Signing certificate chains to another root than the PCK chain",
            reason=Reason.COLLATERAL_CHAIN_INVALID,
        )
    if root_crl.get_revoked_certificate_by_serial_number(signer.serial_number) is not None:
        raise CollateralInvalid(
            "TCB Signing certificate is revoked", reason=Reason.COLLATERAL_CHAIN_INVALID
        )
