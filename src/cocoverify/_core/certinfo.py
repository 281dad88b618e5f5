"""Certificate and CRL summaries for people (``cocoverify show``): nothing is verified here."""

from __future__ import annotations

import warnings
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from cocoverify._core.x509 import PARSE_ERRORS, common_name

__all__ = ["certificate_summary", "crl_summary", "key_summary", "load_der_summary"]


def key_summary(key: Any) -> str:
    """``EC secp384r1``, ``RSA 4096``, ``Ed25519``... for a public key."""
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}"
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519"
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448"
    return type(key).__name__


def certificate_summary(cert: x509.Certificate) -> dict[str, Any]:
    """Subject, issuer, validity, serial, SHA-256 fingerprint and key of ``cert``; a field
    ``cryptography`` cannot decode (it decodes lazily) gives a one-line note instead."""
    try:
        return _summary(cert)
    except PARSE_ERRORS as exc:
        return {"subject_cn": f"(a certificate whose fields cannot be decoded: {exc})"}


def load_der_summary(der: bytes, what: str) -> dict[str, Any]:
    """The summary of a DER certificate, or a note saying it is not one (``show``)."""
    try:
        return certificate_summary(x509.load_der_x509_certificate(der))
    except PARSE_ERRORS:
        return {"subject_cn": f"({what}, not a DER certificate, {len(der)} bytes)"}


def _summary(cert: x509.Certificate) -> dict[str, Any]:
    try:
        with warnings.catch_warnings():  # real VCEKs carry serial 0 (KDS spec): shown as is
            warnings.simplefilter("ignore")
            serial = format(cert.serial_number, "x")
    except ValueError:  # a serial cryptography refuses to read: show the certificate anyway
        serial = "unreadable"
    try:
        key = key_summary(cert.public_key())
    except (ValueError, TypeError):
        key = "unsupported"
    return {
        "subject_cn": common_name(cert.subject),
        "subject": cert.subject.rfc4514_string(),
        "issuer_cn": common_name(cert.issuer),
        "issuer": cert.issuer.rfc4514_string(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "serial": serial,
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "key": key,
        "self_signed": cert.issuer == cert.subject,
    }


def crl_summary(crl: x509.CertificateRevocationList) -> dict[str, Any]:
    """Issuer, thisUpdate / nextUpdate and the number of revoked serials of ``crl``."""
    nxt = crl.next_update_utc
    return {
        "issuer_cn": common_name(crl.issuer),
        "issuer": crl.issuer.rfc4514_string(),
        "this_update": crl.last_update_utc.isoformat(),
        "next_update": nxt.isoformat() if nxt is not None else None,
        "revoked_serials": len(crl),
    }
