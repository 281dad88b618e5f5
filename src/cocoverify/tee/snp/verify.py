"""SEV-SNP authentication: product, VCEK/VLEK chain to a pinned ARK, CRL, binding, signature.

Steps follow amd.md §6.3: (1) decide the product and select the ARK pinned for it;
(2)-(4) ARK -> ASK/ASVK -> VCEK/VLEK with RSASSA-PSS SHA-384 (salt 48), names and key
types checked; (5) every certificate valid at ``at``; (6) CRL when supplied; (7) the report
signature; (8) the VCEK/VLEK extensions bound to the report (§7).

Certificates are recognised by content (subject CN), never by file name or order: a set
that contains the genuine ASK and ARK of the product verifies whatever files they came in.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

import cocoverify._core.der as der
from cocoverify._core.signatures import verify_ecdsa_raw
from cocoverify._core.x509 import check_crl, signed_by, verify_chain
from cocoverify.errors import (
    ChainInvalid,
    CocoverifyError,
    CollateralInvalid,
    CollateralUnavailable,
    Reason,
    Revoked,
    SignatureInvalid,
    UnsupportedEvidence,
)
from cocoverify.tee.snp.parse import PRODUCTS, SigningKey, SnpReport, TcbVersion
from cocoverify.trust import TrustStore, fingerprint

__all__ = [
    "AmdChain",
    "VekExtensions",
    "authenticate_report",
    "cert_role",
    "chain_candidates",
    "check_binding",
    "check_revocation",
    "parse_vek_extensions",
    "select_vek",
    "vek_candidates",
    "verify_chain_roles",
    "verify_report_signature",
    "verify_vek_chain",
]

_T = TypeVar("_T")
_R = TypeVar("_R")
_Pair = tuple[x509.Certificate, x509.Certificate]

#: KDS certificate extension OIDs (amd.md §7).
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

#: hwID length per product (amd.md §7): 64 bytes, 8 on Turin.
HWID_SIZE = {"Milan": 64, "Genoa": 64, "Turin": 8}
KIND_NAMES = {SigningKey.VCEK: "VCEK", SigningKey.VLEK: "VLEK"}


# --- roles by content ----------------------------------------------------------------------


def _cn(n: x509.Name) -> str:
    attrs = n.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = attrs[0].value if attrs else ""
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def cert_role(cert: x509.Certificate) -> tuple[str | None, str | None]:
    """(role, product) from the subject CN (amd.md §6.1): ark/ask/asvk carry the product;
    vcek/vlek return (role, None); anything else (None, None)."""
    cn = _cn(cert.subject)
    if cn == "SEV-VCEK":
        return "vcek", None
    if cn == "SEV-VLEK":
        return "vlek", None
    if cn.startswith("ARK-"):
        return "ark", cn[4:]
    if cn.startswith("SEV-VLEK-"):
        return "asvk", cn[9:]
    if cn.startswith("SEV-"):
        return "ask", cn[4:]
    return None, None


def _issuer_product(vek: x509.Certificate) -> tuple[str | None, str | None]:
    """(intermediate role, product) named by a VCEK/VLEK's issuer CN."""
    cn = _cn(vek.issuer)
    if cn.startswith("SEV-VLEK-"):
        return "asvk", cn[9:]
    if cn.startswith("SEV-") and cn not in ("SEV-VCEK", "SEV-VLEK"):
        return "ask", cn[4:]
    return None, None


# --- KDS extensions ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VekExtensions:
    """The KDS extensions of a VCEK or VLEK (amd.md §7); absent ones are None."""

    struct_version: int | None
    product_name: str | None
    bl_spl: int | None
    tee_spl: int | None
    snp_spl: int | None
    ucode_spl: int | None
    fmc_spl: int | None
    hwid: bytes | None
    csp_id: str | None


def _profile(message: str) -> ChainInvalid:
    return ChainInvalid(message, reason=Reason.CERTIFICATE_PROFILE_INVALID)


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
            raise _profile(f"extension {oid}: {exc}") from None
        if end != len(raw[oid]) or tlv.tag != der.TAG_INTEGER or value < 0:
            raise _profile(f"extension {oid}: not a non-negative INTEGER")
        return value

    def ia5(oid: str) -> str | None:
        if oid not in raw:
            return None
        try:
            tlv, end = der.parse_tlv(raw[oid])
        except ValueError as exc:
            raise _profile(f"extension {oid}: {exc}") from None
        if tlv.tag != 0x16 or end != len(raw[oid]):
            raise _profile(f"extension {oid}: not an IA5String")
        try:
            return tlv.value.decode("ascii")
        except UnicodeDecodeError:
            raise _profile(f"extension {oid}: not ASCII") from None

    hwid = raw.get(OID_HWID)
    # amd.md §7: raw bytes without a tag; an OCTET STRING wrapper is also accepted
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


# --- chain ---------------------------------------------------------------------------------


def _is_amd_pss(item: x509.Certificate | x509.CertificateRevocationList) -> bool:
    """amd.md §6.1: RSASSA-PSS, SHA-384, MGF1-SHA-384, salt 48 for every AMD signature."""
    try:
        params = item.signature_algorithm_parameters
        digest = item.signature_hash_algorithm
        oid = item.signature_algorithm_oid
    except (UnsupportedAlgorithm, ValueError):
        return False
    if oid != SignatureAlgorithmOID.RSASSA_PSS or not isinstance(digest, hashes.SHA384):
        return False
    if not isinstance(params, padding.PSS) or getattr(params, "_salt_length", None) != 48:
        return False
    # the mask generation hash is a separate parameter: MGF1 over SHA-256 also verifies
    mgf_hash = getattr(params.mgf, "_algorithm", None)
    return isinstance(params.mgf, padding.MGF1) and isinstance(mgf_hash, hashes.SHA384)


def _strict_signature_bits(item: x509.Certificate | x509.CertificateRevocationList) -> bool:
    """The outer signatureValue BIT STRING declares 0 unused bits (X.690 §11.2; an RSA
    signature is whole octets). ``cryptography`` ignores the count, which lets the unsigned
    outer encoding change without the signature check noticing."""
    try:
        outer, _ = der.parse_tlv(item.public_bytes(Encoding.DER))
        parts = der.parse_tlvs(outer.value)
    except ValueError:
        return False
    return len(parts) == 3 and parts[2].tag == 0x03 and parts[2].value[:1] == b"\x00"


def _check_pss(cert: x509.Certificate, what: str) -> None:
    if not _is_amd_pss(cert):
        raise _profile(f"{what} is not signed with RSASSA-PSS SHA-384 MGF1-SHA-384 salt 48")
    if not _strict_signature_bits(cert):
        raise _profile(f"{what}: the signature BIT STRING declares unused bits")


#: The only extensions an AMD certificate may mark critical (amd.md §6.1; RFC 5280 §4.2:
#: a certificate with an unrecognised critical extension must be rejected).
_CRITICAL_OK = frozenset({ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE})


def _check_extensions(cert: x509.Certificate, what: str, *, issuer: bool) -> None:
    """No unknown critical extension; a KeyUsage, when present, allows the role's use
    (keyCertSign for the ARK and ASK/ASVK, digitalSignature for a VCEK/VLEK; RFC 5280
    §4.2.1.3). Real VCEKs/VLEKs carry no KeyUsage."""
    for ext in cert.extensions:
        if ext.critical and ext.oid not in _CRITICAL_OK:
            raise _profile(f"{what} has an unrecognised critical extension {ext.oid.dotted_string}")
        if isinstance(ext.value, x509.KeyUsage):
            ok = ext.value.key_cert_sign if issuer else ext.value.digital_signature
            if not ok:
                use = "keyCertSign" if issuer else "digitalSignature"
                raise _profile(f"{what} KeyUsage does not allow {use}")


def verify_chain_roles(
    vek: x509.Certificate,
    intermediate: x509.Certificate,
    ark: x509.Certificate,
    *,
    product: str,
    trust: TrustStore,
    at: _dt.datetime,
) -> None:
    """Verify VEK -> ASK/ASVK -> ARK with each certificate in its stated role.

    amd.md §6.3 steps 1-5: the ARK is pinned for ``product`` by fingerprint (an ARK pinned
    for another product is product_mismatch, any other untrusted_root), signatures and
    issuer names chain, the profile (PSS, P-384 leaf, CNs) holds, and all are valid at ``at``.
    """
    role, _ = cert_role(vek)
    kind = {"vcek": "VCEK", "vlek": "VLEK"}.get(role or "")
    if kind is None:
        raise _profile(f"leaf CN {_cn(vek.subject)!r} is neither SEV-VCEK nor SEV-VLEK")
    pinned = trust.amd_arks.get(product, frozenset())
    if fingerprint(ark) not in pinned:
        other = trust.amd_product_for_ark(ark)
        if other is not None:
            raise ChainInvalid(
                f"the supplied ARK is pinned for {other}, not {product}",
                reason=Reason.PRODUCT_MISMATCH,
            )
        raise ChainInvalid(
            f"ARK (sha256 {fingerprint(ark)}) is not the pinned ARK of {product}",
            reason=Reason.UNTRUSTED_ROOT,
        )
    want_inter = f"SEV-{product}" if kind == "VCEK" else f"SEV-VLEK-{product}"
    if _cn(intermediate.subject) != want_inter:
        inter_role, inter_product = cert_role(intermediate)
        wrong_kind = inter_product == product and inter_role in ("ask", "asvk")
        raise ChainInvalid(
            f"{kind} intermediate CN is {_cn(intermediate.subject)!r}, want {want_inter!r}",
            reason=Reason.KEY_TYPE_MISMATCH if wrong_kind else Reason.PRODUCT_MISMATCH,
        )
    names = (kind, "ASK" if kind == "VCEK" else "ASVK", "ARK")
    verify_chain((vek, intermediate, ark), pinned=pinned, at=at, names=names)
    for cert, what in zip((vek, intermediate, ark), names, strict=True):
        _check_pss(cert, what)
        _check_extensions(cert, what, issuer=cert is not vek)
    key = vek.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        raise _profile(f"{kind} key is not EC P-384")


def _first_ok(attempt: Callable[[_T], _R], candidates: Sequence[_T]) -> _R:
    """The result of the first candidate that passes every check, else the first failure.

    Acceptance must not depend on the order of the collateral: an expired VCEK next to its
    re-issued twin, or two pinned ARKs, must not hide the valid path.
    """
    first: CocoverifyError | None = None
    for candidate in candidates:
        try:
            return attempt(candidate)
        except CocoverifyError as exc:
            first = first or exc
    if first is None:  # callers always pass at least one candidate
        raise ChainInvalid("no certificate path to verify", reason=Reason.CHAIN_INVALID)
    raise first


def select_vek(
    certs: Sequence[x509.Certificate], kind: int, report: SnpReport | None = None
) -> x509.Certificate:
    """The preferred VCEK or VLEK for ``report`` (the first of :func:`vek_candidates`)."""
    return vek_candidates(certs, kind, report)[0]


def vek_candidates(
    certs: Sequence[x509.Certificate], kind: int, report: SnpReport | None = None
) -> list[x509.Certificate]:
    """The VCEKs or VLEKs to try for ``report`` (amd.md §5: SIGNING_KEY names the kind).

    Those whose key verifies the report signature come first, in supplied order. None of
    the right kind but one of the other: key_type_mismatch. None: collateral missing.
    """
    want = KIND_NAMES[kind].lower()
    other = "vlek" if want == "vcek" else "vcek"
    same = [c for c in certs if cert_role(c)[0] == want]
    if not same:
        if any(cert_role(c)[0] == other for c in certs):
            raise ChainInvalid(
                f"the report is signed by a {want.upper()} but only a {other.upper()} was supplied",
                reason=Reason.KEY_TYPE_MISMATCH,
            )
        raise CollateralUnavailable(
            f"no {want.upper()} certificate supplied (give it as collateral or in the "
            "extended report's certificate table)",
            reason=Reason.COLLATERAL_MISSING,
        )
    if report is not None and len(same) > 1:
        same.sort(key=lambda c: not _signature_ok(report, c))
    return same


def verify_vek_chain(
    vek: x509.Certificate,
    certs: Iterable[x509.Certificate],
    *,
    product: str,
    trust: TrustStore,
    at: _dt.datetime,
) -> tuple[x509.Certificate, x509.Certificate]:
    """Find the intermediate and the pinned ARK of ``product`` among ``certs`` and verify.

    Returns (intermediate, ark). A set whose intermediates or ARK are only another
    product's is product_mismatch; an ARK-shaped root that is not pinned, untrusted_root;
    nothing suitable at all, collateral_missing.
    """

    def attempt(pair: _Pair) -> _Pair:
        verify_chain_roles(vek, pair[0], pair[1], product=product, trust=trust, at=at)
        return pair

    return _first_ok(attempt, chain_candidates(vek, certs, product=product, trust=trust))


def chain_candidates(
    vek: x509.Certificate,
    certs: Iterable[x509.Certificate],
    *,
    product: str,
    trust: TrustStore,
) -> list[_Pair]:
    """(intermediate, pinned ARK) pairs of ``product`` that link ``vek``; if none links,
    the first pair (its verification names the broken link). Raises when a role is
    missing or only another product's (see :func:`verify_vek_chain`)."""
    pool = list(certs)
    role, _ = cert_role(vek)
    inter_role = "ask" if role == "vcek" else "asvk"
    issuer_role, issuer_product = _issuer_product(vek)
    if issuer_role != inter_role:
        raise ChainInvalid(
            f"{(role or '?').upper()} is issued by {_cn(vek.issuer)!r}",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    if issuer_product != product:
        raise ChainInvalid(
            f"{(role or '?').upper()} is issued for {issuer_product}, the report is {product}",
            reason=Reason.PRODUCT_MISMATCH,
        )
    inters = [c for c in pool if cert_role(c) == (inter_role, product)]
    if not inters:
        if any(cert_role(c)[0] == inter_role for c in pool):
            raise ChainInvalid(
                f"no {inter_role.upper()} of {product} supplied, only another product's",
                reason=Reason.PRODUCT_MISMATCH,
            )
        raise CollateralUnavailable(
            f"no {inter_role.upper()} (SEV-{product}) certificate supplied",
            reason=Reason.COLLATERAL_MISSING,
        )
    pinned = trust.amd_arks.get(product, frozenset())
    arks = [c for c in pool if fingerprint(c) in pinned]
    if not arks:
        for c in pool:
            other = trust.amd_product_for_ark(c)
            if other is not None and other != product:
                raise ChainInvalid(
                    f"the supplied ARK is {other}'s, the report is {product}",
                    reason=Reason.PRODUCT_MISMATCH,
                )
        shaped = [c for c in pool if cert_role(c)[0] == "ark"]
        if shaped:
            raise ChainInvalid(
                f"ARK (sha256 {fingerprint(shaped[0])}) is not the pinned ARK of {product}",
                reason=Reason.UNTRUSTED_ROOT,
            )
        raise CollateralUnavailable(
            f"the ARK of {product} was not supplied", reason=Reason.COLLATERAL_MISSING
        )
    # several intermediates (re-issued ASKs) or pinned ARKs: every pair that links
    linked = [(i, a) for a in arks for i in inters if signed_by(vek, i) and signed_by(i, a)]
    return linked or [(inters[0], arks[0])]


# --- revocation ----------------------------------------------------------------------------


def _serial(cert: x509.Certificate) -> int:
    """The serial read from the TBS bytes (VCEKs have serial 0, which cryptography warns
    about when asked through ``serial_number``; amd.md §6.1)."""
    tbs, _ = der.parse_tlv(cert.tbs_certificate_bytes)
    items = der.parse_tlvs(tbs.value)
    idx = 1 if items and items[0].tag == 0xA0 else 0
    return der.parse_int(items[idx])


@dataclass(frozen=True, slots=True)
class CrlCheck:
    """Which CRLs were applied."""

    checked: bool
    this_update: _dt.datetime | None = None
    next_update: _dt.datetime | None = None
    count: int = 0


def _check_crl_profile(crl: x509.CertificateRevocationList, ark: x509.Certificate) -> None:
    """amd.md §6.4: the ARK signs its CRLs with RSASSA-PSS SHA-384 (MGF1-SHA-384, salt 48);
    the ARK's KeyUsage allows cRLSign; no unrecognised critical CRL extension (RFC 5280
    §5.2: such a CRL, e.g. a delta CRL, must not be used). AMD's CRLs carry only AKI and
    CRL Number."""
    what = f"CRL of {_cn(ark.subject)}"
    if not (_is_amd_pss(crl) and _strict_signature_bits(crl)):
        raise CollateralInvalid(
            f"{what} is not signed with RSASSA-PSS SHA-384 MGF1-SHA-384 salt 48",
            reason=Reason.CRL_INVALID,
        )
    for ext in crl.extensions:
        if ext.critical and ext.oid not in (
            ExtensionOID.CRL_NUMBER,
            ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ):
            raise CollateralInvalid(
                f"{what} has an unrecognised critical extension {ext.oid.dotted_string}",
                reason=Reason.CRL_INVALID,
            )
    try:
        usage = ark.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.crl_sign:
        raise CollateralInvalid(
            f"{_cn(ark.subject)} KeyUsage does not allow cRLSign", reason=Reason.CRL_INVALID
        )


def check_revocation(
    crls: Iterable[x509.CertificateRevocationList],
    *,
    ark: x509.Certificate,
    intermediate: x509.Certificate,
    vek: x509.Certificate,
    at: _dt.datetime,
    require: bool,
) -> CrlCheck:
    """amd.md §6.4: every supplied CRL issued by this ARK must verify under it and be
    current at ``at``; the ASK/ASVK (and the VEK) must not be listed. CRLs of other issuers
    are ignored. ``require``: no applicable CRL is collateral missing (crl_missing)."""
    applied = [c for c in crls if c.issuer == ark.subject]
    if not applied:
        if require:
            raise CollateralUnavailable(
                f"the policy requires a CRL and none issued by {_cn(ark.subject)} was supplied",
                reason=Reason.CRL_MISSING,
            )
        return CrlCheck(checked=False)
    for crl in applied:
        _check_crl_profile(crl, ark)
        check_crl(crl, ark, at, what=f"CRL of {_cn(ark.subject)}")
        for cert, what in ((intermediate, _cn(intermediate.subject)), (vek, _cn(vek.subject))):
            try:
                serial = _serial(cert)
            except ValueError:
                raise _profile(f"{what}: serial number cannot be decoded") from None
            if crl.get_revoked_certificate_by_serial_number(serial) is not None:
                raise Revoked(
                    f"{what} (serial {serial:#x}) is revoked", reason=Reason.CERTIFICATE_REVOKED
                )
    latest = max(applied, key=lambda c: c.last_update_utc)
    return CrlCheck(
        checked=True,
        this_update=latest.last_update_utc,
        next_update=latest.next_update_utc,
        count=len(applied),
    )


# --- report binding and signature -----------------------------------------------------------


def check_binding(ext: VekExtensions, report: SnpReport, *, product: str, kind: str) -> None:
    """amd.md §7: productName line, REPORTED_TCB == certificate SPLs (fmc on Turin), and for
    a VCEK the hwID == CHIP_ID (Turin: first 8 bytes, rest zero) unless CHIP_ID is masked."""
    if ext.product_name is None:
        raise _profile(f"{kind} has no productName extension")
    line = ext.product_name.split("-", 1)[0]
    if line != product:
        raise ChainInvalid(
            f"{kind} productName is {ext.product_name!r}, the report is {product}",
            reason=Reason.PRODUCT_MISMATCH,
        )
    tcb = TcbVersion.decode(report.reported_tcb, product)
    spl = {
        "bootloader": ext.bl_spl,
        "tee": ext.tee_spl,
        "snp": ext.snp_spl,
        "microcode": ext.ucode_spl,
    }
    if product == "Turin":
        spl = {"fmc": ext.fmc_spl, **spl}
    for component, value in tcb.components().items():
        cert_value = spl[component]
        if cert_value is None:
            raise _profile(f"{kind} has no {component} SPL extension")
        if cert_value != value:
            raise ChainInvalid(
                f"REPORTED_TCB {component} is {value}, the {kind} says {cert_value}",
                reason=Reason.TCB_MISMATCH,
            )
    # amd.md §3 (gsg validateTcb): the certified TCB never exceeds CURRENT_TCB; firmware
    # cannot report a TCB newer than the one it runs, component by component
    current = TcbVersion.decode(report.current_tcb, product).components()
    for component, value in tcb.components().items():
        if value > current[component]:
            raise ChainInvalid(
                f"REPORTED_TCB {component} {value} is above CURRENT_TCB {current[component]}",
                reason=Reason.TCB_MISMATCH,
            )
    if kind != "VCEK":
        return
    if ext.hwid is None:
        raise _profile("VCEK has no hwID extension")
    size = HWID_SIZE[product]
    if len(ext.hwid) != size:
        raise _profile(f"VCEK hwID is {len(ext.hwid)} bytes, {product} uses {size}")
    if report.chip_id_masked:
        return  # MASK_CHIP_ID: nothing to compare (amd.md §2.3)
    if any(report.chip_id[size:]) or report.chip_id[:size] != ext.hwid:
        raise ChainInvalid("CHIP_ID differs from the VCEK hwID", reason=Reason.CHIP_ID_MISMATCH)


def _signature_ok(report: SnpReport, vek: x509.Certificate) -> bool:
    key = vek.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP384R1):
        return False
    return verify_ecdsa_raw(
        key, report.signature[:144], report.signed_bytes(), hashes.SHA384(), little_endian=True
    )


def verify_report_signature(report: SnpReport, vek: x509.Certificate) -> None:
    """amd.md §5: ECDSA P-384 SHA-384 over bytes 0x000..0x29F, r and s little-endian."""
    if not _signature_ok(report, vek):
        raise SignatureInvalid(
            "the report signature does not verify under the VCEK/VLEK",
            reason=Reason.SIGNATURE_INVALID,
        )


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


def report_product(report: SnpReport) -> str | None:
    """The product from CPUID (v3+); None for v2. Unknown CPUID is unsupported_product."""
    from cocoverify.tee.snp.tcb import product_from_cpuid

    if report.cpuid_fam_id is None or report.cpuid_mod_id is None:
        return None
    product = product_from_cpuid(report.cpuid_fam_id, report.cpuid_mod_id)
    if product is None:
        raise UnsupportedEvidence(
            f"CPUID family {report.cpuid_fam_id:#x} model {report.cpuid_mod_id:#x} is not a "
            f"supported product ({', '.join(PRODUCTS)})",
            reason=Reason.UNSUPPORTED_PRODUCT,
        )
    return product


def authenticate_report(
    report: SnpReport,
    certs: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    *,
    trust: TrustStore,
    at: _dt.datetime,
    require_crl: bool = False,
) -> AmdChain:
    """amd.md §6.3 end to end; raises AuthenticityError / CollateralError / EvidenceError."""
    if report.signing_key == SigningKey.NONE:
        raise SignatureInvalid(
            "the report is unsigned (SIGNING_KEY = none)", reason=Reason.SIGNATURE_INVALID
        )
    # step 1: the product, from CPUID where present, else from the VEK's issuer (§4)
    cpuid_product = report_product(report)
    kind = KIND_NAMES[report.signing_key]

    def with_vek(vek: x509.Certificate) -> AmdChain:
        _, issuer_product = _issuer_product(vek)
        product = cpuid_product or issuer_product
        if product is None or product not in PRODUCTS:
            raise UnsupportedEvidence(
                f"cannot tell the product: {kind} issuer is {_cn(vek.issuer)!r}",
                reason=Reason.UNSUPPORTED_PRODUCT,
            )

        def with_chain(pair: _Pair) -> AmdChain:
            inter, ark = pair
            # steps 2-5
            verify_chain_roles(vek, inter, ark, product=product, trust=trust, at=at)
            ext = parse_vek_extensions(vek)
            # step 6
            crl = check_revocation(
                crls, ark=ark, intermediate=inter, vek=vek, at=at, require=require_crl
            )
            # step 7, then step 8
            verify_report_signature(report, vek)
            check_binding(ext, report, product=product, kind=kind)
            return AmdChain(product, kind, vek, inter, ark, ext, crl)

        pairs = chain_candidates(vek, certs, product=product, trust=trust)
        return _first_ok(with_chain, pairs)

    # every candidate path is verified in full; the first that passes is the result
    return _first_ok(with_vek, vek_candidates(certs, report.signing_key, report))
