"""What the SNP pipeline needs to know about a certificate or CRL, computed once per content.

A :class:`CertInfo` / :class:`CrlInfo` holds a fully decoded object (``force_parse`` ran on
it), its DER SHA-256 and the facts every verification reads (role by subject CN, the
issuer's role and product, the raw P-384 point of a VCEK/VLEK). Records are equal when their
DER digests are, so caches keyed by them are content-keyed. Bounds: 1024 records of each
kind by DER, and 1024 signature buckets of at most 4 objects already seen
(:class:`.memo.ObjectMemo`). A record holds its decoded certificate or CRL (about 15 KB
once every field is decoded) and 0.5 KB of its own.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify._core.x509 import force_parse, load_der_certificate
from cocoverify.tee.snp.chain import cert_role, issuer_product
from cocoverify.tee.snp.memo import ObjectMemo
from cocoverify.tee.snp.verify import vek_point

__all__ = [
    "CertInfo",
    "CrlInfo",
    "cert_info",
    "cert_info_der",
    "clear_caches",
    "crl_info",
    "crl_info_der",
    "known_cert_info",
]

#: Records per kind keyed by DER bytes, and signature buckets of seen objects.
MAX_RECORDS = 1024


class _ByDigest:
    """Equality and hash by the DER SHA-256 (content), whatever object holds it."""

    __slots__ = ()
    sha256: str

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.sha256 == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)


@dataclass(frozen=True, slots=True, eq=False)
class CertInfo(_ByDigest):
    """A decoded certificate and its static facts."""

    cert: x509.Certificate
    sha256: str
    role: str | None
    product: str | None
    issuer_role: str | None
    issuer_product: str | None
    #: raw X||Y of an EC P-384 key (what signs reports), else None
    point: bytes | None


@dataclass(frozen=True, slots=True, eq=False)
class CrlInfo(_ByDigest):
    """A decoded CRL."""

    crl: x509.CertificateRevocationList
    sha256: str


def _make_cert(cert: x509.Certificate, der: bytes) -> CertInfo:
    role, product = cert_role(cert)
    inter_role, inter_product = issuer_product(cert)
    return CertInfo(
        cert=cert,
        sha256=hashlib.sha256(der).hexdigest(),
        role=role,
        product=product,
        issuer_role=inter_role,
        issuer_product=inter_product,
        point=vek_point(cert),
    )


def _make_crl(crl: x509.CertificateRevocationList, der: bytes) -> CrlInfo:
    return CrlInfo(crl=crl, sha256=hashlib.sha256(der).hexdigest())


def _der(item: Any) -> bytes:
    return bytes(item.public_bytes(Encoding.DER))


def _signature(item: Any) -> bytes:
    return bytes(item.signature)


_CERTS: ObjectMemo[x509.Certificate, CertInfo] = ObjectMemo(
    _signature, _der, admit=force_parse, maxsize=MAX_RECORDS
)
_CRLS: ObjectMemo[x509.CertificateRevocationList, CrlInfo] = ObjectMemo(
    _signature, _der, admit=force_parse, maxsize=MAX_RECORDS
)


def cert_info(cert: x509.Certificate) -> CertInfo:
    """The record of a certificate object; decodes it in full the first time (raises
    ``_core.x509.PARSE_ERRORS`` as ``force_parse`` does)."""
    return _CERTS.lookup(cert, _make_cert)


def known_cert_info(cert: x509.Certificate) -> CertInfo | None:
    """The record of a certificate object already seen, else None (nothing decoded)."""
    return _CERTS.get(cert)


def crl_info(crl: x509.CertificateRevocationList) -> CrlInfo:
    """The record of a CRL object; decodes it in full the first time."""
    return _CRLS.lookup(crl, _make_crl)


@functools.lru_cache(maxsize=MAX_RECORDS)
def cert_info_der(der: bytes) -> CertInfo:
    """The record of a DER certificate (an extended report's table entry)."""
    cert = load_der_certificate(der)
    force_parse(cert)
    return _make_cert(cert, cert.public_bytes(Encoding.DER))


@functools.lru_cache(maxsize=MAX_RECORDS)
def crl_info_der(der: bytes) -> CrlInfo:
    """The record of a DER CRL (an extended report's table entry)."""
    crl = x509.load_der_x509_crl(der)
    force_parse(crl)
    return _make_crl(crl, crl.public_bytes(Encoding.DER))


def clear_caches() -> None:
    """Forget every record (tests of cold behaviour)."""
    _CERTS.clear()
    _CRLS.clear()
    cert_info_der.cache_clear()
    crl_info_der.cache_clear()
