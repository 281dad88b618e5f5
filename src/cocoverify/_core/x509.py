"""Certificate chains to pinned roots, validity at a given time, and CRLs.

Shared by every vendor. Errors distinguish the evidence's own chain (authenticity, exit 3)
from a collateral signer's chain (collateral, exit 4) through ``collateral=True``.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import re
from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID

from cocoverify.errors import (
    ChainInvalid,
    CocoverifyError,
    CollateralInvalid,
    MalformedEvidence,
    Reason,
    Revoked,
)

__all__ = [
    "check_crl",
    "check_validity",
    "fingerprint",
    "is_revoked",
    "load_certificates",
    "signed_by",
    "verify_chain",
]


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, lower-case hex."""
    return hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


_PEM_CERT = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)


def load_certificates(
    data: bytes, *, what: str = "certificate", zero_padding: bool = False
) -> tuple[x509.Certificate, ...]:
    """Every certificate in ``data``: concatenated PEM, or concatenated DER.

    ``zero_padding``: DER certificates may be followed by zero bytes only (NUL padding,
    as a quote's certification data may carry). Raises MalformedEvidence
    (MALFORMED_CERTIFICATE) on anything else.
    """
    try:
        if b"-----BEGIN CERTIFICATE-----" in data:
            blocks = [m.group(0) for m in _PEM_CERT.finditer(data)]
            certs = tuple(x509.load_pem_x509_certificate(b) for b in blocks)
        else:
            certs = _load_der_sequence(data, zero_padding=zero_padding)
        for c in certs:
            force_parse(c)
        return certs
    except PARSE_ERRORS as exc:
        raise MalformedEvidence(
            f"{what}: not a certificate ({exc})", reason=Reason.MALFORMED_CERTIFICATE
        ) from None


#: What ``cryptography`` raises for malformed certificate / CRL fields.
PARSE_ERRORS = (
    ValueError,
    IndexError,
    TypeError,
    UnsupportedAlgorithm,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    x509.InvalidVersion,  # not a ValueError: an X.509 version other than v1/v3
)


def force_parse(item: x509.Certificate | x509.CertificateRevocationList) -> None:
    """Decode every field now: ``cryptography`` parses lazily and would raise later.

    Raises ValueError (or TypeError / UnsupportedAlgorithm) on a malformed field.
    """
    _ = item.issuer, item.extensions, item.signature_hash_algorithm
    _ = item.signature_algorithm_oid, item.signature_algorithm_parameters
    if isinstance(item, x509.Certificate):
        _ = item.subject, item.not_valid_before_utc, item.not_valid_after_utc, item.public_key()
        _ = item.serial_number, item.tbs_certificate_bytes
    else:
        _ = item.last_update_utc, item.next_update_utc, item.tbs_certlist_bytes
        for revoked in item:
            _ = revoked.serial_number


def _load_der_sequence(data: bytes, *, zero_padding: bool = False) -> tuple[x509.Certificate, ...]:
    certs: list[x509.Certificate] = []
    pos = 0
    while pos < len(data):
        if zero_padding and certs and not any(data[pos:]):
            break  # trailing NUL padding after the last certificate
        if data[pos] != 0x30 or pos + 2 > len(data):
            raise ValueError(f"no DER SEQUENCE at {pos}")
        first = data[pos + 1]
        if first < 0x80:
            hdr, length = 2, first
        else:
            n = first & 0x7F
            if n == 0 or n > 4 or pos + 2 + n > len(data):
                raise ValueError("bad DER length")
            hdr, length = 2 + n, int.from_bytes(data[pos + 2 : pos + 2 + n], "big")
        end = pos + hdr + length
        if end > len(data):
            raise ValueError("DER certificate truncated")
        certs.append(x509.load_der_x509_certificate(data[pos:end]))
        pos = end
    if not certs:
        raise ValueError("empty")
    return tuple(certs)


def _fail(
    collateral: bool, message: str, reason: Reason, collateral_reason: Reason | None = None
) -> CocoverifyError:
    if collateral:
        return CollateralInvalid(
            message, reason=collateral_reason or Reason.COLLATERAL_CHAIN_INVALID
        )
    return ChainInvalid(message, reason=reason)


def check_validity(
    cert: x509.Certificate, at: _dt.datetime, *, what: str, collateral: bool = False
) -> None:
    """notBefore <= at <= notAfter (RFC 5280 §4.1.2.5)."""
    if at < cert.not_valid_before_utc:
        raise _fail(
            collateral,
            f"{what} not valid before {cert.not_valid_before_utc.isoformat()}",
            Reason.CERTIFICATE_NOT_YET_VALID,
            Reason.COLLATERAL_NOT_YET_VALID,
        )
    if at > cert.not_valid_after_utc:
        raise _fail(
            collateral,
            f"{what} expired at {cert.not_valid_after_utc.isoformat()}",
            Reason.CERTIFICATE_EXPIRED,
            Reason.COLLATERAL_EXPIRED,
        )


@functools.lru_cache(maxsize=4096)
def signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Issuer name matches and the signature verifies (ECDSA, RSA PKCS#1 v1.5, RSA-PSS).

    Memoised: a pure function of the two certificates (compared by DER), so a long-lived
    verifier checks each link of its collateral chains once.
    """
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    return bool(bc.ca)


def verify_chain(
    chain: Sequence[x509.Certificate],
    *,
    pinned: frozenset[str],
    at: _dt.datetime,
    names: Sequence[str],
    collateral: bool = False,
    require_ca_flags: bool = True,
) -> None:
    """Verify ``chain`` (leaf first, root last) up to a pinned, self-signed root.

    ``names`` labels each position for error messages. Checks, in order: the root is
    pinned by fingerprint (a root that only carries the vendor's name is rejected),
    every link's issuer name and signature, CA flags on issuers, and validity at ``at``.
    """
    if len(chain) < 2:
        raise _fail(collateral, f"chain of {len(chain)} certificate(s)", Reason.CHAIN_INVALID)
    root = chain[-1]
    if fingerprint(root) not in pinned:
        raise _fail(
            collateral,
            f"{names[-1]} is not a pinned root (sha256 {fingerprint(root)})",
            Reason.UNTRUSTED_ROOT,
        )
    if not signed_by(root, root):
        raise _fail(collateral, f"{names[-1]} is not self-signed", Reason.CHAIN_INVALID)
    for i in range(len(chain) - 1):
        child, parent = chain[i], chain[i + 1]
        label = names[i] if i < len(names) else f"certificate {i}"
        plabel = names[i + 1] if i + 1 < len(names) else f"certificate {i + 1}"
        if not signed_by(child, parent):
            raise _fail(collateral, f"{label} is not signed by {plabel}", Reason.CHAIN_INVALID)
        if require_ca_flags and not _is_ca(parent):
            raise _fail(
                collateral, f"{plabel} is not a CA certificate", Reason.CERTIFICATE_PROFILE_INVALID
            )
    for i, cert in enumerate(chain):
        label = names[i] if i < len(names) else f"certificate {i}"
        check_validity(cert, at, what=label, collateral=collateral)


def check_crl(
    crl: x509.CertificateRevocationList,
    issuer: x509.Certificate,
    at: _dt.datetime,
    *,
    what: str,
    require_extensions: bool = False,
) -> None:
    """The CRL is issued and signed by ``issuer`` and current at ``at`` (RFC 5280 §6.3.3).

    ``require_extensions``: CRL Number and Authority Key Identifier must be present
    (Intel QVL PckCrlVerifier).
    """
    if crl.issuer != issuer.subject:
        raise CollateralInvalid(
            f"{what}: issuer is not {issuer.subject.rfc4514_string()}", reason=Reason.CRL_INVALID
        )
    if not _crl_signed_by(crl, issuer):
        raise CollateralInvalid(f"{what}: signature does not verify", reason=Reason.CRL_INVALID)
    if require_extensions:
        for oid in (ExtensionOID.CRL_NUMBER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER):
            try:
                crl.extensions.get_extension_for_oid(oid)
            except x509.ExtensionNotFound:
                raise CollateralInvalid(
                    f"{what}: missing {oid._name}", reason=Reason.CRL_INVALID
                ) from None
    if at < crl.last_update_utc:
        raise CollateralInvalid(
            f"{what}: not valid before {crl.last_update_utc.isoformat()}",
            reason=Reason.CRL_NOT_YET_VALID,
        )
    nu = crl.next_update_utc
    if nu is None or at > nu:
        raise CollateralInvalid(
            f"{what}: stale (nextUpdate {nu.isoformat() if nu else 'absent'})",
            reason=Reason.CRL_EXPIRED,
        )


def _crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """CRL signature check, memoised by the CRL's DER (CRL objects are not hashable)."""
    return _crl_der_signed_by(crl.public_bytes(Encoding.DER), issuer)


@functools.lru_cache(maxsize=1024)
def _crl_der_signed_by(der: bytes, issuer: x509.Certificate) -> bool:
    try:
        crl = x509.load_der_x509_crl(der)
        return bool(crl.is_signature_valid(issuer.public_key()))  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return False


def is_revoked(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> bool:
    """Serial-number match (Intel QVL, RFC 5280 §6.3.3 (i))."""
    return crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None


def raise_if_revoked(
    crl: x509.CertificateRevocationList, cert: x509.Certificate, *, what: str
) -> None:
    """Raise Revoked when ``cert``'s serial is listed."""
    if is_revoked(crl, cert):
        raise Revoked(
            f"{what} (serial {cert.serial_number:x}) is revoked", reason=Reason.CERTIFICATE_REVOKED
        )
