"""What an SEV-SNP report needs fetched: one :class:`AmdRequest` (KDS specification, "Get
VCEK"): the product, the hardware ID (CHIP_ID; Turin: its first 8 bytes), REPORTED_TCB's
SPLs and the signing key type (KEY_INFO.SIGNING_KEY: VCEK or VLEK).

The product comes from CPUID (report v3+, SEV-SNP ABI "ATTESTATION_REPORT"); a v2 report
carries none, so it is taken from a VCEK/VLEK's issuer (``SEV-<product>``: VCEK
specification) in the extended report's certificate table or the supplied collateral, else
from the explicit ``product`` option. Nothing is verified here: the pipeline verifies what
is fetched like any supplied file.
"""

from __future__ import annotations

from cryptography import x509

from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import AMD_PRODUCTS, AmdRequest, amd_request
from cocoverify.errors import (
    CollateralUnavailable,
    ConfigurationError,
    Reason,
    SignatureInvalid,
)
from cocoverify.tee.snp.chain import cert_role, issuer_product
from cocoverify.tee.snp.collateral import table_collateral
from cocoverify.tee.snp.parse import SigningKey, split_evidence
from cocoverify.tee.snp.tcb import SPL_NAMES, TcbVersion, report_product

__all__ = ["collateral_requests"]


def _product_from_certificates(certs: list[x509.Certificate], key_type: str) -> str | None:
    """The one product named by a VEK's issuer or an ASK/ASVK subject among ``certs``."""
    found: set[str] = set()
    for cert in certs:
        role, product = cert_role(cert)
        if role == key_type:
            product = issuer_product(cert)[1]
        elif role not in ("ask", "asvk"):
            continue
        if product in AMD_PRODUCTS:
            found.add(product)
    if len(found) > 1:
        raise ConfigurationError(
            f"the supplied AMD certificates name several products ({', '.join(sorted(found))}): "
            "say which with the product option",
            reason=Reason.INVALID_ARGUMENT,
        )
    return next(iter(found), None)


def collateral_requests(
    data: bytes, *, collateral: Collateral | None = None, product: str | None = None
) -> tuple[AmdRequest, ...]:
    """The AMD collateral ``data`` (an SNP report, optionally with its certificate table)
    needs. ``product`` (Milan, Genoa, Turin) is required for a v2 report without a VCEK,
    VLEK or ASK to name it; for v3+ it must agree with CPUID."""
    report, table = split_evidence(data)
    if report.signing_key == SigningKey.VLEK:
        key_type = "vlek"
    elif report.signing_key == SigningKey.VCEK:
        key_type = "vcek"
    else:
        raise SignatureInvalid(
            "the report is unsigned (SIGNING_KEY = none): there is nothing to fetch",
            reason=Reason.SIGNATURE_INVALID,
        )
    if product is not None and product not in AMD_PRODUCTS:
        raise ConfigurationError(
            f"product: one of {', '.join(AMD_PRODUCTS)}, not {product!r}",
            reason=Reason.INVALID_ARGUMENT,
        )
    named = report_product(report)
    if named is not None and product is not None and product != named:
        raise ConfigurationError(
            f"product {product} given, but the report's CPUID names {named}",
            reason=Reason.INVALID_ARGUMENT,
        )
    if named is None and product is None:
        certs = list(table_collateral(table)[0]) if table is not None else []
        certs += list(collateral.certificates) if collateral is not None else []
        named = _product_from_certificates(certs, key_type)
    named = named or product
    if named is None:
        raise CollateralUnavailable(
            "report v2 carries no CPUID: the product (Milan, Genoa, Turin) is unknown; "
            "supply the VCEK or name the product",
            reason=Reason.COLLATERAL_MISSING,
        )
    tcb = TcbVersion.decode(report.reported_tcb, named).components()
    return (
        amd_request(
            product=named,
            hwid=report.chip_id,
            reported_tcb={SPL_NAMES[k]: v for k, v in tcb.items()},
            key_type=key_type,
        ),
    )
