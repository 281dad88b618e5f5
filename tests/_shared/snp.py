"""Helpers of the SEV-SNP tests (tests/tee/snp): the TEST-ONLY fake AMD PKIs of each product
(``cocoverify_testing.snp``), a trust store pinning their ARKs, a signed Milan report with its
VCEK, and verification with loose certificates and CRLs as collateral."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify import verify
from cocoverify.collateral import Collateral
from cocoverify.errors import Reason
from cocoverify.policy import Policy
from cocoverify.trust import TrustStore
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, SnpReportBuilder

__all__ = [
    "AT",
    "MB",
    "REPORT",
    "TB",
    "TRUST",
    "VCEK",
    "G",
    "M",
    "T",
    "der_of",
    "rejects",
    "verify_with",
]

AT = VECTOR_TIME
M = FakeAmdPKI("Milan")
G = FakeAmdPKI("Genoa")
T = FakeAmdPKI("Turin")
TRUST = TrustStore.from_certificates(amd={"Milan": [M.ark], "Genoa": [G.ark], "Turin": [T.ark]})
MB = SnpReportBuilder.for_product("Milan")
TB = SnpReportBuilder.for_product("Turin")
REPORT = MB.sign(M)
VCEK = M.vcek_for(REPORT)

# the SNP tests assert reasons; the policy engine's log lines would only add noise
logging.getLogger("cocoverify.policy").setLevel(logging.ERROR)


def der_of(item: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    """The DER encoding of a certificate or CRL."""
    return item.public_bytes(Encoding.DER)


def verify_with(
    report: bytes, *items: Any, trust: TrustStore = TRUST, policy: Policy | None = None
) -> Any:
    """``verify`` with each certificate and CRL in ``items`` given as loose collateral."""
    certs = tuple(i for i in items if isinstance(i, x509.Certificate))
    crls = tuple(i for i in items if isinstance(i, x509.CertificateRevocationList))
    coll = Collateral(chains=tuple((c,) for c in certs), crls=crls)
    return verify(report, collateral=coll, trust=trust, at=AT, policy=policy)


def rejects(cls: type[Exception], reason: Reason, report: bytes, *items: Any, **kw: Any) -> None:
    """:func:`verify_with` raises ``cls`` with ``reason``."""
    with pytest.raises(cls) as exc:
        verify_with(report, *items, **kw)
    assert exc.value.reason is reason  # type: ignore[attr-defined]
