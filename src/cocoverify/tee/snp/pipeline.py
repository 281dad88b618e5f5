"""SEV-SNP pipeline: parse -> authenticate (amd.md §6.3) -> claims -> Appraisal.

Evidence is a 1184-byte report, optionally followed directly by the certificate blob of
an extended report (amd.md §10): ``report || cert_table``. Certificates are taken from the
table and from the collateral (``Collateral.certificates``), CRLs from both as well.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography import x509

from cocoverify._core.x509 import PARSE_ERRORS, force_parse
from cocoverify.collateral.requests import amd_request
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import (
    ChainInvalid,
    CollateralInvalid,
    CollateralUnavailable,
    MalformedEvidence,
    Reason,
)
from cocoverify.result import Appraisal, freeze
from cocoverify.tee.snp.parse import (
    CERT_TABLE_ENTRY_SIZE,
    REPORT_SIZE,
    CertTable,
    SigningKey,
    SnpReport,
    TcbVersion,
    parse_cert_table,
    parse_report,
)
from cocoverify.tee.snp.tcb import report_claims
from cocoverify.tee.snp.verify import authenticate_report, cert_role, report_product
from cocoverify.trust import TrustStore, fingerprint

if TYPE_CHECKING:
    from cocoverify.collateral import Collateral

__all__ = ["appraise_report", "split_evidence", "table_collateral"]


def split_evidence(data: bytes) -> tuple[SnpReport, CertTable | None]:
    """The report and, when bytes follow it, the extended report's certificate table."""
    # a table holds at least one entry and the terminator (amd.md §10); less is trailing data
    if len(data) < REPORT_SIZE + 2 * CERT_TABLE_ENTRY_SIZE:
        return parse_report(data), None
    report = parse_report(data[:REPORT_SIZE])
    return report, parse_cert_table(data[REPORT_SIZE:], base=REPORT_SIZE)


#: Which subject roles (authenticate.amd.cert_role) each table GUID may hold (amd.md §10).
_TABLE_ROLES = {"vcek": ("vcek",), "vlek": ("vlek",), "ask": ("ask", "asvk"), "ark": ("ark",)}


def table_collateral(
    table: CertTable,
) -> tuple[list[x509.Certificate], list[x509.CertificateRevocationList], list[str]]:
    """Certificates and CRLs of the table, each checked against its GUID's role.

    Returns (certificates, crls, unknown GUIDs). A certificate in the wrong slot (e.g. the
    ASK under the ARK GUID) is certificate_profile_invalid.
    """
    certs: list[x509.Certificate] = []
    crls: list[x509.CertificateRevocationList] = []
    unknown: list[str] = []
    for entry in table.entries:
        if entry.role is None:
            unknown.append(entry.guid)
            continue
        try:
            if entry.role == "crl":
                crls.append(_decoded(x509.load_der_x509_crl(entry.data)))
                continue
            cert = _decoded(x509.load_der_x509_certificate(entry.data))
        except PARSE_ERRORS as exc:
            raise MalformedEvidence(
                f"certificate table {entry.role} entry is not DER ({exc})",
                field=f"cert_table.{entry.role}",
                reason=Reason.MALFORMED_CERTIFICATE,
            ) from None
        role, _ = cert_role(cert)
        if role not in _TABLE_ROLES[entry.role]:
            raise ChainInvalid(
                f"certificate table {entry.role} entry holds a {role or 'foreign'} certificate",
                reason=Reason.CERTIFICATE_PROFILE_INVALID,
            )
        certs.append(cert)
    return certs, crls, unknown


X = TypeVar("X", x509.Certificate, x509.CertificateRevocationList)


def _decoded(item: X) -> X:
    """``item`` with every field decoded now (x509util.force_parse), for chaining."""
    force_parse(item)
    return item


def _check_labels(collateral: Collateral) -> None:
    """A file named after a role (ark.pem, ask.pem, vcek.der...) must hold that role.

    Swapped roots (the ASK in ark.pem, the ARK in ask.pem) are rejected even though the set
    of certificates would chain: the caller's statement of roles is contradicted.
    """
    for label, cert in collateral.labels:
        role, _ = cert_role(cert)
        if role != label:
            raise ChainInvalid(
                f"the file named as the {label.upper()} holds "
                f"{'the ' + role.upper() if role else 'a foreign'} certificate "
                f"({cert.subject.rfc4514_string()})",
                reason=Reason.CHAIN_INVALID,
            )


def _fetch(source: CollateralSource, report: SnpReport, at: _dt.datetime) -> Collateral:
    """VCEK/VLEK chain and CRL from the source, for the product named by CPUID (v3+)."""
    product = report_product(report)
    if product is None:
        raise CollateralUnavailable(
            "report v2 carries no CPUID: the product, hence the VCEK "
            "to fetch, is unknown; supply the certificates",
            reason=Reason.COLLATERAL_MISSING,
        )
    tcb = TcbVersion.decode(report.reported_tcb, product).components()
    names = {
        "bootloader": "bl_spl",
        "tee": "tee_spl",
        "snp": "snp_spl",
        "microcode": "ucode_spl",
        "fmc": "fmc_spl",
    }
    key_type = "vlek" if report.signing_key == SigningKey.VLEK else "vcek"
    request = amd_request(
        product=product,
        hwid=report.chip_id,
        reported_tcb={names[k]: v for k, v in tcb.items()},
        key_type=key_type,
    )
    return source.fetch(request, at=at)


def appraise_report(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,
    require_crl: bool = False,
) -> Appraisal:
    """Authenticated appraisal of an SNP report (tee ``"snp"``)."""
    report, table = split_evidence(data)
    certs: list[x509.Certificate] = []
    crls: list[x509.CertificateRevocationList] = []
    unknown: list[str] = []
    if table is not None:
        certs, crls, unknown = table_collateral(table)
    try:
        certs += [_decoded(cert) for cert in collateral.certificates]
        crls += [_decoded(crl) for crl in collateral.crls]
    except PARSE_ERRORS as exc:
        raise CollateralInvalid(
            f"a supplied certificate or CRL cannot be decoded ({exc})",
            reason=Reason.COLLATERAL_MALFORMED,
        ) from None
    _check_labels(collateral)
    if source is not None and not any(cert_role(c)[0] in ("vcek", "vlek") for c in certs):
        fetched = _fetch(source, report, at)
        try:
            certs += [_decoded(c) for c in fetched.certificates]
            crls += [_decoded(c) for c in fetched.crls]
        except PARSE_ERRORS as exc:
            raise CollateralInvalid(
                f"a fetched certificate or CRL cannot be decoded ({exc})",
                reason=Reason.COLLATERAL_MALFORMED,
            ) from None
    chain = authenticate_report(report, certs, crls, trust=trust, at=at, require_crl=require_crl)
    claims = report_claims(report, chain.product)
    info: dict[str, Any] = {
        "product": chain.product,
        "signing_key": chain.kind,
        "vek_sha256": fingerprint(chain.vek),
        "intermediate_sha256": fingerprint(chain.intermediate),
        "ark_sha256": fingerprint(chain.ark),
        "vek_not_after": chain.vek.not_valid_after_utc,
        "revocation_checked": chain.crl.checked,
        "cert_table": table is not None,
    }
    if chain.crl.checked:
        info["crl_this_update"] = chain.crl.this_update
        info["crl_next_update"] = chain.crl.next_update
    if unknown:
        info["cert_table_unknown_guids"] = unknown
    if chain.extensions.csp_id is not None:
        info["csp_id"] = chain.extensions.csp_id
    warnings: list[str] = []
    if not chain.crl.checked:
        warnings.append(
            "revocation not checked: no CRL issued by the ARK was supplied "
            "(set require_crl to make it mandatory)"
        )
    return Appraisal(
        tee="snp",
        claims=freeze(claims),
        collateral=freeze(info),
        warnings=tuple(warnings),
        report_data=report.report_data,
        init_data=report.host_data,
        debug=report.guest_policy.debug,
    )
