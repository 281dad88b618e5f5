"""The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1), decoded strictly
(QVL ``AttestationParsers`` ``ParserUtils.h``, ``X509/*.cpp``); the C twin is
``csrc/cv_sgxext.c``, chosen by the backend."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509

import cocoverify._core.der as der
from cocoverify import _backend
from cocoverify._core.x509 import (
    common_name,
)
from cocoverify.errors import (
    ChainInvalid,
    Reason,
)

__all__ = ["SGX_EXT_OID", "PckInfo", "parse_pck_extension"]

SGX_EXT_OID = "1.2.840.113741.1.13.1"


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


def parse_pck_extension(cert: x509.Certificate, *, issuer_cn: str | None = None) -> PckInfo:
    """Decode OID 1.2.840.113741.1.13.1 (QVL ``ParserUtils.h``: 5 or 7 entries).

    ``issuer_cn``: ``common_name(cert.issuer)`` when the caller has it (``pckleaf.py`` reads
    it from the issuer name's bytes), else read from ``cert``."""
    try:
        ext = cert.extensions.get_extension_for_oid(x509.ObjectIdentifier(SGX_EXT_OID))
    except x509.ExtensionNotFound:
        raise ChainInvalid(
            "PCK certificate has no Intel SGX extension", reason=Reason.CERTIFICATE_PROFILE_INVALID
        ) from None
    raw = ext.value.value if isinstance(ext.value, x509.UnrecognizedExtension) else b""
    if issuer_cn is None:
        issuer_cn = common_name(cert.issuer)
    try:
        return _decode_sgx_extension(raw, issuer_cn)
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


def _issuing_ca(issuer_cn: str) -> str:
    return (
        "platform" if "Platform" in issuer_cn else "processor" if "Processor" in issuer_cn else ""
    )


def _decode_sgx_extension(raw: bytes, issuer: str | x509.Certificate) -> PckInfo:
    """``issuer``: the issuer CN, or the certificate to read it from (tests)."""
    issuer_cn = issuer if isinstance(issuer, str) else common_name(issuer.issuer)
    if _backend.backend_for("sgx-extension") == "native":
        # the same walk in C (csrc/cv_sgxext.c): the same values and messages (docs/native.md)
        from cocoverify._backend import _native_sgxext

        return PckInfo(*_native_sgxext.parse_sgx_extension(raw), ca=_issuing_ca(issuer_cn))
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
            f"entries {sorted(entries)} are neither the 5 nor the 7 of the "
            "Intel SGX PCK Certificate Profile"
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
    ca = _issuing_ca(issuer_cn)
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
