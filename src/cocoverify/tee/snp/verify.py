"""SEV-SNP authentication: the VCEK/VLEK that signed the report, its chain to the pinned ARK,
the CRL, the report signature and the VCEK/VLEK extensions bound to the report.

Steps as docs/snp.md numbers them ("Order of checks"): (2) the product, from CPUID or the
VEK's issuer; (3) VCEK/VLEK selection by SIGNING_KEY; (4) the chain (:mod:`.chain`);
(5) the CRL (:mod:`.revocation`); (6) the report signature (SEV-SNP ABI §7.3, ECDSA P-384
SHA-384); (7) the binding of the KDS extensions to the report (VCEK spec, AMD 57230).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import cocoverify._backend as _backend
import cocoverify._core.der as der
from cocoverify.errors import (
    ChainInvalid,
    Reason,
    SignatureInvalid,
)
from cocoverify.tee.snp.chain import (
    cert_role,
    missing_role,
    profile_error,
)
from cocoverify.tee.snp.parse import SIG_COMPONENT_SIZE, SIG_USED_SIZE, SigningKey, SnpReport
from cocoverify.tee.snp.revocation import CrlCheck
from cocoverify.tee.snp.tcb import SPL_NAMES, TcbVersion, first_above

__all__ = [
    "KIND_NAMES",
    "AmdChain",
    "VekExtensions",
    "check_binding",
    "parse_vek_extensions",
    "report_signature_error",
    "report_signature_ok",
    "select_vek",
    "vek_candidates",
    "vek_point",
    "verify_report_signature",
]

_Pair = tuple[x509.Certificate, x509.Certificate]

#: KDS certificate extension OIDs (VCEK spec, AMD 57230).
_OID = "1.3.6.1.4.1.3704.1."
OID_STRUCT_VERSION = _OID + "1"
OID_PRODUCT_NAME = _OID + "2"
OID_BL_SPL = _OID + "3.1"
OID_TEE_SPL = _OID + "3.2"
OID_SNP_SPL = _OID + "3.3"
OID_UCODE_SPL = _OID + "3.8"
OID_FMC_SPL = _OID + "3.9"
OID_HWID = _OID + "4"
OID_CSP_ID = _OID + "5"

#: hwID length per product (VCEK spec): 64 bytes, 8 on Turin.
HWID_SIZE = {"Milan": 64, "Genoa": 64, "Turin": 8}
KIND_NAMES = {SigningKey.VCEK: "VCEK", SigningKey.VLEK: "VLEK"}


# --- KDS extensions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VekExtensions:
    """The KDS extensions of a VCEK or VLEK (VCEK spec); absent ones are None."""

    struct_version: int | None
    product_name: str | None
    bl_spl: int | None
    tee_spl: int | None
    snp_spl: int | None
    ucode_spl: int | None
    fmc_spl: int | None
    hwid: bytes | None
    csp_id: str | None


def parse_vek_extensions(cert: x509.Certificate) -> VekExtensions:
    """Decode the KDS extensions; ChainInvalid(certificate_profile_invalid) on bad encodings."""
    raw: dict[str, bytes] = {}
    for ext in cert.extensions:
        if ext.oid.dotted_string.startswith(_OID) and isinstance(
            ext.value, x509.UnrecognizedExtension
        ):
            raw[ext.oid.dotted_string] = ext.value.value

    def integer(oid: str) -> int | None:
        if oid not in raw:
            return None
        try:
            tlv, end = der.parse_tlv(raw[oid])
            value = der.parse_int(tlv)
        except ValueError as exc:
            raise profile_error(f"extension {oid}: {exc}") from None
        if end != len(raw[oid]) or tlv.tag != der.TAG_INTEGER or value < 0:
            raise profile_error(f"extension {oid}: not a non-negative INTEGER")
        return value

    def ia5(oid: str) -> str | None:
        if oid not in raw:
            return None
        try:
            tlv, end = der.parse_tlv(raw[oid])
        except ValueError as exc:
            raise profile_error(f"extension {oid}: {exc}") from None
        if tlv.tag != 0x16 or end != len(raw[oid]):
            raise profile_error(f"extension {oid}: not an IA5String")
        try:
            return tlv.value.decode("ascii")
        except UnicodeDecodeError:
            raise profile_error(f"extension {oid}: not ASCII") from None

    hwid = raw.get(OID_HWID)
    # raw bytes without a tag (as KDS ships them); an OCTET STRING wrapper is also accepted
    if (
        hwid is not None
        and len(hwid) in (2 + 8, 2 + 64)
        and hwid[0] == der.TAG_OCTET_STRING
        and hwid[1] == len(hwid) - 2
    ):
        hwid = hwid[2:]
    return VekExtensions(
        struct_version=integer(OID_STRUCT_VERSION),
        product_name=ia5(OID_PRODUCT_NAME),
        bl_spl=integer(OID_BL_SPL),
        tee_spl=integer(OID_TEE_SPL),
        snp_spl=integer(OID_SNP_SPL),
        ucode_spl=integer(OID_UCODE_SPL),
        fmc_spl=integer(OID_FMC_SPL),
        hwid=hwid,
        csp_id=ia5(OID_CSP_ID),
    )


# --- selecting the VCEK/VLEK ---------------------------------------------------------------


def select_vek(
    certs: Sequence[x509.Certificate], kind: int, report: SnpReport | None = None
) -> x509.Certificate:
    """The preferred VCEK or VLEK for ``report`` (the first of :func:`vek_candidates`)."""
    return vek_candidates(certs, kind, report)[0]


def vek_candidates(
    certs: Sequence[x509.Certificate], kind: int, report: SnpReport | None = None
) -> list[x509.Certificate]:
    """The VCEKs or VLEKs to try for ``report`` (SIGNING_KEY names the kind).

    Those whose key verifies the report signature come first, in supplied order. None of
    the right kind but one of the other: key_type_mismatch. None: collateral missing.
    """
    want = KIND_NAMES[kind].lower()
    other = "vlek" if want == "vcek" else "vcek"
    same = [c for c in certs if cert_role(c)[0] == want]
    if not same:
        raise missing_role(
            any(cert_role(c)[0] == other for c in certs),
            f"the report is signed by a {want.upper()} but only a {other.upper()} was supplied",
            Reason.KEY_TYPE_MISMATCH,
            f"no {want.upper()} certificate supplied (give it as collateral or in the "
            "extended report's certificate table)",
        )
    if report is not None and len(same) > 1:
        same.sort(key=lambda c: not _signature_ok(report, c))
    return same


# --- report signature and binding -----------------------------------------------------------


def vek_point(vek: x509.Certificate) -> bytes | None:
    """The raw X||Y of a VCEK/VLEK's EC P-384 key, else None (no report verifies)."""
    key = vek.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        return None
    return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]


def report_signature_ok(point: bytes | None, signature: bytes, signed: bytes) -> bool:
    """ECDSA P-384 SHA-384 of ``signed`` (report bytes 0x000..0x29F) under ``point``.

    ``signature`` is the report's SIGNATURE field: R and S as 72-byte little-endian integers
    of which 48 bytes are used (the parser checks the rest is zero).
    """
    if point is None:
        return False
    rs = (
        signature[:SIG_USED_SIZE]
        + signature[SIG_COMPONENT_SIZE : SIG_COMPONENT_SIZE + SIG_USED_SIZE]
    )
    return _backend.ecdsa_verify(point, signed, rs, little_endian=True)


def _signature_ok(report: SnpReport, vek: x509.Certificate) -> bool:
    return report_signature_ok(vek_point(vek), report.signature, report.signed_bytes())


def verify_report_signature(report: SnpReport, vek: x509.Certificate) -> None:
    """ECDSA P-384 SHA-384 over bytes 0x000..0x29F, r and s little-endian (SEV-SNP ABI §7.3,
    ATTESTATION_REPORT SIGNATURE)."""
    if not _signature_ok(report, vek):
        raise report_signature_error()


def report_signature_error() -> SignatureInvalid:
    """signature_invalid: the report signature does not verify."""
    return SignatureInvalid(
        "the report signature does not verify under the VCEK/VLEK",
        reason=Reason.SIGNATURE_INVALID,
    )


@functools.lru_cache(maxsize=1024)
def tcb_components(raw: bytes, product: str) -> Mapping[str, int]:
    """``TcbVersion.decode(raw, product).components()``, read-only and memoised by value
    (bounded: 1024 TCB values)."""
    return MappingProxyType(TcbVersion.decode(raw, product).components())


def check_binding(ext: VekExtensions, report: SnpReport, *, product: str, kind: str) -> None:
    """productName line, REPORTED_TCB == certificate SPLs (fmc on Turin), and for a VCEK
    the hwID == CHIP_ID (Turin: first 8 bytes, rest zero) unless CHIP_ID is masked."""
    if ext.product_name is None:
        raise profile_error(f"{kind} has no productName extension")
    line = ext.product_name.split("-", 1)[0]
    if line != product:
        raise ChainInvalid(
            f"{kind} productName is {ext.product_name!r}, the report is {product}",
            reason=Reason.PRODUCT_MISMATCH,
        )
    tcb = tcb_components(report.reported_tcb, product)
    for component, value in tcb.items():
        cert_value = getattr(ext, SPL_NAMES[component])
        if cert_value is None:
            raise profile_error(f"{kind} has no {component} SPL extension")
        if cert_value != value:
            raise ChainInvalid(
                f"REPORTED_TCB {component} is {value}, the {kind} says {cert_value}",
                reason=Reason.TCB_MISMATCH,
            )
    # the certified TCB never exceeds CURRENT_TCB (go-sev-guest validateTcb): firmware
    # cannot report a TCB newer than the one it runs, component by component
    current = tcb_components(report.current_tcb, product)
    above = first_above(tcb, current)
    if above is not None:
        raise ChainInvalid(
            f"REPORTED_TCB {above} {tcb[above]} is above CURRENT_TCB {current[above]}",
            reason=Reason.TCB_MISMATCH,
        )
    if kind != "VCEK":
        return
    if ext.hwid is None:
        raise profile_error("VCEK has no hwID extension")
    size = HWID_SIZE[product]
    if len(ext.hwid) != size:
        raise profile_error(f"VCEK hwID is {len(ext.hwid)} bytes, {product} uses {size}")
    if report.chip_id_masked:
        return  # MASK_CHIP_ID: nothing to compare
    if any(report.chip_id[size:]) or report.chip_id[:size] != ext.hwid:
        raise ChainInvalid("CHIP_ID differs from the VCEK hwID", reason=Reason.CHIP_ID_MISMATCH)


# --- all together --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AmdChain:
    """What authentication established."""

    product: str
    kind: str
    vek: x509.Certificate
    intermediate: x509.Certificate
    ark: x509.Certificate
    extensions: VekExtensions
    crl: CrlCheck
    #: SHA-256 of the DER of (vek, intermediate, ark), when known
    fingerprints: tuple[str, str, str] | None = None
