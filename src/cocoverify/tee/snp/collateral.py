"""The certificates and CRLs an SEV-SNP report is checked against, and where they come from.

Three places, in this order: the extended report's certificate table (GHCB spec §4.1.8.1;
each GUID names a role), the caller's collateral (``Collateral.certificates`` / ``.crls``;
a file named after a role must hold it), and, when neither holds a VCEK/VLEK, an online
source asked for the VEK of this chip and REPORTED_TCB (KDS, VCEK spec AMD 57230). Every
certificate and CRL is decoded in full here, so later steps never meet a lazy parse error.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509

from cocoverify._core.x509 import PARSE_ERRORS
from cocoverify.collateral.requests import amd_request
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import (
    ChainInvalid,
    CollateralInvalid,
    CollateralUnavailable,
    MalformedEvidence,
    Reason,
)
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
from cocoverify.tee.snp.tcb import SPL_NAMES, TcbVersion, report_product

if TYPE_CHECKING:
    from cocoverify.collateral import Collateral

__all__ = [
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


def _fetch(source: CollateralSource, report: SnpReport, at: _dt.datetime) -> Collateral:
    """VCEK/VLEK chain and CRL from the source, for the product named by CPUID (v3+): the
    KDS request names the chip (hwID = CHIP_ID) and REPORTED_TCB's SPLs (VCEK spec)."""
    product = report_product(report)
    if product is None:
        raise CollateralUnavailable(
            "report v2 carries no CPUID: the product, hence the VCEK "
            "to fetch, is unknown; supply the certificates",
            reason=Reason.COLLATERAL_MISSING,
        )
    tcb = TcbVersion.decode(report.reported_tcb, product).components()
    key_type = "vlek" if report.signing_key == SigningKey.VLEK else "vcek"
    request = amd_request(
        product=product,
        hwid=report.chip_id,
        reported_tcb={SPL_NAMES[k]: v for k, v in tcb.items()},
        key_type=key_type,
    )
    return source.fetch(request, at=at)


def gather(
    report: SnpReport,
    table: CertTable | None,
    collateral: Collateral,
    *,
    source: CollateralSource | None,
    at: _dt.datetime,
) -> SnpCollateral:
    """Certificates and CRLs from the table, then the collateral, then (no VCEK/VLEK so
    far and a source given) the online source."""
    facts = gather_facts(report, table, collateral, source=source, at=at)
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
) -> SnpFacts:
    """:func:`gather` as content records."""
    certs: list[CertInfo] = []
    crls: list[CrlInfo] = []
    unknown: list[str] = []
    if table is not None:
        certs, crls, unknown = table_facts(table)
    supplied_certs, supplied_crls = _decoded_collateral(collateral, "supplied")
    certs += supplied_certs
    crls += supplied_crls
    _check_labels(collateral, supplied_certs)
    if source is not None and not any(c.role in ("vcek", "vlek") for c in certs):
        fetched_certs, fetched_crls = _decoded_collateral(_fetch(source, report, at), "fetched")
        certs += fetched_certs
        crls += fetched_crls
    return SnpFacts(tuple(certs), tuple(crls), unknown)
