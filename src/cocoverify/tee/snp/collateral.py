"""The certificates and CRLs an SEV-SNP report is checked against, and where they come from.

Four places, in this order: the extended report's certificate table (GHCB spec §4.1.8.1;
each GUID names a role), the caller's collateral (``Collateral.certificates`` / ``.crls``;
a file named after a role must hold it), AMD's ARK, ASK and ASVK shipped with cocoverify
(:mod:`.bundled`; only for roles left empty), and an online source, asked when anything is
still missing: no VCEK/VLEK, the chain under a non-default trust store, or the CRL a policy
requires (KDS, VCEK spec AMD 57230: the VEK of this chip and REPORTED_TCB, the chain and
CRL of the product). Every certificate and CRL is decoded in full here, so later steps
never meet a lazy parse error. What is still missing is listed in :attr:`SnpFacts.missing`,
each piece with its KDS URL.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509

from cocoverify._core.x509 import PARSE_ERRORS
from cocoverify.collateral.requests import AmdRequest, amd_request
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import (
    ChainInvalid,
    CollateralInvalid,
    CollateralUnavailable,
    MalformedEvidence,
    MissingCollateral,
    Reason,
)
from cocoverify.tee.snp.bundled import fill_roles
from cocoverify.tee.snp.certtable import CertTable
from cocoverify.tee.snp.chain import cert_role
from cocoverify.tee.snp.facts import (
    CertInfo,
    CrlInfo,
    cert_info,
    cert_info_der,
    crl_info,
    crl_info_der,
    known_cert_info,
)
from cocoverify.tee.snp.parse import SigningKey, SnpReport
from cocoverify.tee.snp.tcb import PRODUCTS, SPL_NAMES, TcbVersion, report_product
from cocoverify.trust import AMD_CA_SHA256, TrustStore

if TYPE_CHECKING:
    from cocoverify.collateral import Collateral

__all__ = [
    "KDS",
    "SnpCollateral",
    "SnpFacts",
    "gather",
    "gather_facts",
    "table_collateral",
    "table_facts",
]

_Certs = list[x509.Certificate]
_Crls = list[x509.CertificateRevocationList]


@dataclass(frozen=True, slots=True)
class SnpCollateral:
    """Decoded certificates and CRLs from every place, and the table's unknown GUIDs."""

    certificates: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...]
    unknown_guids: list[str]


@dataclass(frozen=True, slots=True)
class SnpFacts:
    """:class:`SnpCollateral` as content records (:mod:`.facts`), what the pipeline uses."""

    certificates: tuple[CertInfo, ...]
    crls: tuple[CrlInfo, ...]
    unknown_guids: list[str]
    #: what no place supplied, with where to get it (empty when nothing is missing)
    missing: tuple[MissingCollateral, ...] = ()
    #: why the online source could not help, when it was asked and failed
    source_error: str = ""


#: Which subject roles (:func:`.chain.cert_role`) each table GUID may hold: the ASK GUID
#: also carries the ASVK (GHCB spec §4.1.8.1 has no ASVK GUID).
_TABLE_ROLES = {"vcek": ("vcek",), "vlek": ("vlek",), "ask": ("ask", "asvk"), "ark": ("ark",)}


def table_collateral(table: CertTable) -> tuple[_Certs, _Crls, list[str]]:
    """Certificates and CRLs of the table, each checked against its GUID's role.

    Returns (certificates, crls, unknown GUIDs). A certificate in the wrong slot (e.g. the
    ASK under the ARK GUID) is certificate_profile_invalid.
    """
    certs, crls, unknown = table_facts(table)
    return [c.cert for c in certs], [c.crl for c in crls], unknown


def table_facts(table: CertTable) -> tuple[list[CertInfo], list[CrlInfo], list[str]]:
    """:func:`table_collateral` as content records, each entry decoded once per content."""
    certs: list[CertInfo] = []
    crls: list[CrlInfo] = []
    unknown: list[str] = []
    for entry in table.entries:
        if entry.role is None:
            unknown.append(entry.guid)
            continue
        try:
            if entry.role == "crl":
                crls.append(crl_info_der(entry.data))
                continue
            cert = cert_info_der(entry.data)
        except PARSE_ERRORS as exc:
            raise MalformedEvidence(
                f"certificate table {entry.role} entry is not DER ({exc})",
                field=f"cert_table.{entry.role}",
                reason=Reason.MALFORMED_CERTIFICATE,
            ) from None
        if cert.role not in _TABLE_ROLES[entry.role]:
            raise ChainInvalid(
                f"certificate table {entry.role} entry holds a {cert.role or 'foreign'} "
                "certificate",
                reason=Reason.CERTIFICATE_PROFILE_INVALID,
            )
        certs.append(cert)
    return certs, crls, unknown


def _decoded_collateral(
    collateral: Collateral, origin: str
) -> tuple[list[CertInfo], list[CrlInfo]]:
    """The certificates and CRLs of ``collateral``, decoded; collateral_malformed if not."""
    try:
        certs = [cert_info(cert) for cert in collateral.certificates]
        crls = [crl_info(crl) for crl in collateral.crls]
    except PARSE_ERRORS as exc:
        raise CollateralInvalid(
            f"a {origin} certificate or CRL cannot be decoded ({exc})",
            reason=Reason.COLLATERAL_MALFORMED,
        ) from None
    return certs, crls


def _role(cert: x509.Certificate) -> str | None:
    known = known_cert_info(cert)
    return known.role if known is not None else cert_role(cert)[0]


def _check_labels(collateral: Collateral, decoded: Sequence[CertInfo] = ()) -> None:
    """A file named after a role (ark.pem, ask.pem, vcek.der...) must hold that role.

    Swapped roots (the ASK in ark.pem, the ARK in ask.pem) are rejected even though the set
    of certificates would chain: the caller's statement of roles is contradicted.
    ``decoded``: records of ``collateral.certificates`` (their roles are known).
    """
    if not collateral.labels:
        return
    objects = collateral.certificates if len(decoded) == len(collateral.certificates) else ()
    for label, cert in collateral.labels:
        # the records of this call's objects (all alive); any other object: by content
        known = [info for obj, info in zip(objects, decoded, strict=False) if obj is cert]
        role = known[0].role if known else _role(cert)
        if role != label:
            raise ChainInvalid(
                f"the file named as the {label.upper()} holds "
                f"{'the ' + role.upper() if role else 'a foreign'} certificate "
                f"({cert.subject.rfc4514_string()})",
                reason=Reason.CHAIN_INVALID,
            )


#: AMD Key Distribution Service (KDS specification).
KDS = "https://kdsintf.amd.com"
#: KDS query parameters in the order KDS documents them (Turin: fmcSPL first).
_KDS_QUERY = (
    ("fmc_spl", "fmcSPL"),
    ("bl_spl", "blSPL"),
    ("tee_spl", "teeSPL"),
    ("snp_spl", "snpSPL"),
    ("ucode_spl", "ucodeSPL"),
)


def _key_type(report: SnpReport) -> str:
    return "vlek" if report.signing_key == SigningKey.VLEK else "vcek"


def _reported_spl(report: SnpReport, product: str) -> dict[str, int]:
    tcb = TcbVersion.decode(report.reported_tcb, product).components()
    return {SPL_NAMES[k]: v for k, v in tcb.items()}


def _request(report: SnpReport, product: str | None) -> AmdRequest:
    """The KDS request for this report's VEK: the chip (hwID = CHIP_ID) and REPORTED_TCB's
    SPLs (VCEK spec); CollateralUnavailable when it cannot be built (no CPUID in a v2
    report, CHIP_ID masked)."""
    if product is None:
        raise CollateralUnavailable(
            "report v2 carries no CPUID: the product, hence the VCEK "
            "to fetch, is unknown; supply the certificates",
            reason=Reason.COLLATERAL_MISSING,
        )
    return amd_request(
        product=product,
        hwid=report.chip_id,
        reported_tcb=_reported_spl(report, product),
        key_type=_key_type(report),
    )


def _vcek_url(req: AmdRequest) -> str:
    """``/vcek/v1/{P}/{hwid}?blSPL=..`` (KDS specification "Get VCEK"; Turin: 8-byte hwid,
    fmcSPL first)."""
    spl = req.spl
    query = "&".join(f"{name}={spl[k]}" for k, name in _KDS_QUERY if k in spl)
    return f"{KDS}/vcek/v1/{req.product}/{req.hwid.hex()}?{query}"


def _amd_served(product: str, trust: TrustStore | None) -> bool:
    """KDS serves this product's collateral: the trust store pins AMD's ARK (not a test
    PKI's)."""
    pinned = (trust or TrustStore.default()).amd_arks.get(product, frozenset())
    return AMD_CA_SHA256.get(product, {}).get("ark") in pinned


def _vek_missing(
    report: SnpReport, product: str | None, trust: TrustStore | None
) -> MissingCollateral:
    kind = _key_type(report)
    label = kind.upper()
    if product is None:
        tcb = TcbVersion.decode(report.reported_tcb, "Milan").components()
        ids = [("product", "unknown (v2 report: Milan or Genoa)")]
        ids += [("hwid", report.chip_id.hex())] if kind == "vcek" else []
        ids += [(SPL_NAMES[k], str(v)) for k, v in tcb.items()]
        # Milan and Genoa share the TCB_VERSION layout (SEV-SNP ABI "TCB_VERSION")
        note = (
            "a v2 report names no CPUID: the product is Milan or Genoa, "
            f"{KDS}/vcek/v1/Milan/... or {KDS}/vcek/v1/Genoa/..."
        )
        return MissingCollateral(label, "snp", tuple(ids), None, note=note)
    spl = _reported_spl(report, product)
    ids = [("product", product)]
    if kind == "vlek":
        ids += [(k, str(v)) for k, v in spl.items()]
        note = "VLEKs are not served by KDS: the cloud provider supplies them with the report"
        return MissingCollateral(label, "snp", tuple(ids), None, note=note)
    hwid = report.chip_id[:8] if product == "Turin" else report.chip_id
    ids += [("hwid", hwid.hex())] + [(k, str(v)) for k, v in spl.items()]
    try:
        req = amd_request(product=product, hwid=report.chip_id, reported_tcb=spl, key_type=kind)
    except CollateralUnavailable:  # CHIP_ID masked: no VCEK can be looked up
        note = "CHIP_ID is masked (all zero): KDS cannot name this chip's VCEK"
        return MissingCollateral(label, "snp", tuple(ids), None, note=note)
    url = _vcek_url(req) if _amd_served(product, trust) else None
    return MissingCollateral(label, "snp", tuple(ids), url, req)


def _chain_missing(
    certs: Sequence[CertInfo],
    crls: Sequence[CrlInfo],
    report: SnpReport,
    products: Sequence[str],
    trust: TrustStore | None,
    require_crl: bool,
) -> list[MissingCollateral]:
    """The intermediate, ARK and (required) CRL no place supplied, per product."""
    kind = _key_type(report)
    inter = "ask" if kind == "vcek" else "asvk"
    out: list[MissingCollateral] = []
    for product in products:
        ids = (("product", product), ("key", kind.upper()))
        served = _amd_served(product, trust)
        chain_url = f"{KDS}/{kind}/v1/{product}/cert_chain" if served else None
        if not any(c.role == inter for c in certs):
            out.append(MissingCollateral(inter.upper(), "snp", ids, chain_url))
        pinned = trust.amd_arks.get(product, frozenset()) if trust is not None else frozenset()
        if not any(c.role == "ark" or c.sha256 in pinned for c in certs):
            out.append(MissingCollateral("ARK", "snp", ids, chain_url))
        ark_name = f"ARK-{product}"
        if require_crl and not any(_issuer_cn(c) == ark_name for c in crls):
            crl_url = f"{KDS}/{kind}/v1/{product}/crl" if served else None
            out.append(MissingCollateral("CRL", "snp", ids, crl_url))
    return out


def _issuer_cn(crl: CrlInfo) -> str:
    attrs = crl.crl.issuer.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def _products(report: SnpReport, certs: Sequence[CertInfo]) -> list[str]:
    """The product named by CPUID (v3+), else by the VCEK/VLEKs' issuers."""
    product = report_product(report)
    if product is not None:
        return [product]
    named = {c.issuer_product for c in certs if c.role in ("vcek", "vlek")}
    return [p for p in PRODUCTS if p in named]


def _missing(
    report: SnpReport,
    certs: Sequence[CertInfo],
    crls: Sequence[CrlInfo],
    trust: TrustStore | None,
    require_crl: bool,
) -> tuple[MissingCollateral, ...]:
    """What the certificates and CRLs gathered so far lack for this report."""
    if report.signing_key == SigningKey.NONE:
        return ()
    out: list[MissingCollateral] = []
    if not any(c.role in ("vcek", "vlek") for c in certs):
        out.append(_vek_missing(report, report_product(report), trust))
    out += _chain_missing(certs, crls, report, _products(report, certs), trust, require_crl)
    return tuple(out)


def _dedup(items: Sequence[CertInfo]) -> list[CertInfo]:
    seen: set[str] = set()
    out: list[CertInfo] = []
    for c in items:
        if c.sha256 not in seen:
            seen.add(c.sha256)
            out.append(c)
    return out


def gather(
    report: SnpReport,
    table: CertTable | None,
    collateral: Collateral,
    *,
    source: CollateralSource | None,
    at: _dt.datetime,
    trust: TrustStore | None = None,
    require_crl: bool = False,
) -> SnpCollateral:
    """Certificates and CRLs from the table, the collateral, the shipped AMD certificates
    (``trust`` given) and, when anything is still missing and a source is given, the
    online source."""
    facts = gather_facts(
        report, table, collateral, source=source, at=at, trust=trust, require_crl=require_crl
    )
    return SnpCollateral(
        tuple(c.cert for c in facts.certificates),
        tuple(c.crl for c in facts.crls),
        facts.unknown_guids,
    )


def gather_facts(
    report: SnpReport,
    table: CertTable | None,
    collateral: Collateral,
    *,
    source: CollateralSource | None,
    at: _dt.datetime,
    trust: TrustStore | None = None,
    require_crl: bool = False,
) -> SnpFacts:
    """:func:`gather` as content records, with what is still missing."""
    certs: list[CertInfo] = []
    crls: list[CrlInfo] = []
    unknown: list[str] = []
    if table is not None:
        certs, crls, unknown = table_facts(table)
    supplied_certs, supplied_crls = _decoded_collateral(collateral, "supplied")
    certs += supplied_certs
    crls += supplied_crls
    _check_labels(collateral, supplied_certs)
    kind = _key_type(report)
    if trust is not None and report.signing_key != SigningKey.NONE:
        certs += fill_roles(certs, _products(report, certs), kind, trust)
    missing = _missing(report, certs, crls, trust, require_crl)
    source_error = ""
    if source is not None and missing:
        try:
            products = _products(report, certs)
            request = _request(report, products[0] if products else None)
            fetched = source.fetch(request, at=at)
        except CollateralUnavailable as exc:
            source_error = str(exc.args[0]) if exc.args else exc.reason.value
        else:
            fetched_certs, fetched_crls = _decoded_collateral(fetched, "fetched")
            certs = _dedup([*certs, *fetched_certs])
            crls += fetched_crls
            if trust is not None:
                certs += fill_roles(certs, _products(report, certs), kind, trust)
            missing = _missing(report, certs, crls, trust, require_crl)
    return SnpFacts(tuple(certs), tuple(crls), unknown, missing, source_error)
