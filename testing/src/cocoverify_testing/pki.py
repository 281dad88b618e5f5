"""TEST ONLY. Generic building blocks for fake vendor PKIs.

Deterministic: EC keys derive from a label (never use these keys for anything real), ECDSA
signatures are deterministic (RFC 6979), serials and times are given by the caller. RSA keys
are generated once per process and label (RSA-PSS signatures are randomised anyway).
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.x509.oid import NameOID

__all__ = [
    "UTC",
    "CertSpec",
    "ec_key",
    "issue",
    "make_crl",
    "name",
    "pem",
    "rsa_key",
    "sign_ecdsa_raw",
]

UTC = _dt.UTC

_CURVE_ORDER = {
    "P-256": (ec.SECP256R1(), 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "P-384": (
        ec.SECP384R1(),
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    ),
    # P-521: scalars are drawn below 2**520, which is below the group order (~2**521)
    "P-521": (ec.SECP521R1(), 2**520 + 1),
}


@functools.cache
def ec_key(label: str, curve: str = "P-256") -> ec.EllipticCurvePrivateKey:
    """A fixed EC private key derived from ``label`` (TEST ONLY)."""
    crv, order = _CURVE_ORDER[curve]
    seed = b""
    counter = 0
    while len(seed) < 80:
        seed += hashlib.sha512(f"cocoverify-test-key:{curve}:{label}:{counter}".encode()).digest()
        counter += 1
    scalar = int.from_bytes(seed, "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, crv)


@functools.cache
def rsa_key(label: str, bits: int = 4096) -> rsa.RSAPrivateKey:
    """An RSA private key, generated once per process and label (TEST ONLY)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def name(**attrs: str) -> x509.Name:
    """``name(CN="x", O="y", C="US")`` in the order given."""
    oids = {
        "CN": NameOID.COMMON_NAME,
        "O": NameOID.ORGANIZATION_NAME,
        "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "L": NameOID.LOCALITY_NAME,
        "ST": NameOID.STATE_OR_PROVINCE_NAME,
        "C": NameOID.COUNTRY_NAME,
    }
    return x509.Name([x509.NameAttribute(oids[k], v) for k, v in attrs.items()])


@dataclass(frozen=True)
class CertSpec:
    """Everything that goes into one certificate; override any field per negative case."""

    subject: x509.Name
    public_key: CertificatePublicKeyTypes
    serial: int
    not_before: _dt.datetime
    not_after: _dt.datetime
    ca: bool = False
    path_length: int | None = None
    key_usage: x509.KeyUsage | None = None
    extensions: Sequence[x509.ExtensionType] = field(default=())
    unrecognized: Sequence[x509.UnrecognizedExtension] = field(default=())
    hash_alg: hashes.SHA256 | hashes.SHA384 | hashes.SHA512 | None = None
    rsa_pss: bool = False


def _hash_for(
    key: CertificateIssuerPrivateKeyTypes,
) -> hashes.SHA256 | hashes.SHA384 | hashes.SHA512:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.key_size == 256:
            return hashes.SHA256()
        return hashes.SHA384() if key.curve.key_size == 384 else hashes.SHA512()
    return hashes.SHA384()


def issue(
    spec: CertSpec,
    *,
    issuer: x509.Name,
    issuer_key: CertificateIssuerPrivateKeyTypes,
) -> x509.Certificate:
    """Sign a certificate for ``spec`` by ``issuer``."""
    b = (
        x509.CertificateBuilder()
        .subject_name(spec.subject)
        .issuer_name(issuer)
        .public_key(spec.public_key)
        .serial_number(spec.serial)
        .not_valid_before(spec.not_before)
        .not_valid_after(spec.not_after)
        .add_extension(x509.BasicConstraints(ca=spec.ca, path_length=spec.path_length), True)
    )
    if spec.key_usage is not None:
        b = b.add_extension(spec.key_usage, critical=True)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(spec.public_key), False)
    if isinstance(issuer_key.public_key(), ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            False,
        )
    for ext in spec.extensions:
        b = b.add_extension(ext, critical=False)
    for u in spec.unrecognized:
        b = b.add_extension(u, critical=False)
    alg = spec.hash_alg or _hash_for(issuer_key)
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        pad: padding.PSS | padding.PKCS1v15 = (
            padding.PSS(mgf=padding.MGF1(alg), salt_length=alg.digest_size)
            if spec.rsa_pss
            else padding.PKCS1v15()
        )
        return b.sign(issuer_key, alg, rsa_padding=pad)
    return b.sign(issuer_key, alg, ecdsa_deterministic=True)


CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
LEAF_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def make_crl(
    *,
    issuer: x509.Name,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    this_update: _dt.datetime,
    next_update: _dt.datetime,
    revoked_serials: Iterable[int] = (),
    crl_number: int = 1,
    with_extensions: bool = True,
    rsa_pss: bool = False,
) -> x509.CertificateRevocationList:
    """A CRL signed by ``issuer_key``."""
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer)
        .last_update(this_update)
        .next_update(next_update)
    )
    if with_extensions:
        b = b.add_extension(x509.CRLNumber(crl_number), False)
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            False,
        )
    for serial in revoked_serials:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(this_update)
            .build()
        )
    alg = _hash_for(issuer_key)
    if isinstance(issuer_key, rsa.RSAPrivateKey):
        pad: padding.PSS | padding.PKCS1v15 = (
            padding.PSS(mgf=padding.MGF1(alg), salt_length=alg.digest_size)
            if rsa_pss
            else padding.PKCS1v15()
        )
        return b.sign(issuer_key, alg, rsa_padding=pad)
    return b.sign(issuer_key, alg, ecdsa_deterministic=True)


def pem(*items: x509.Certificate | x509.CertificateRevocationList) -> bytes:
    """PEM encoding of certificates / CRLs, concatenated."""
    return b"".join(i.public_bytes(serialization.Encoding.PEM) for i in items)


def sign_ecdsa_raw(
    key: ec.EllipticCurvePrivateKey,
    message: bytes,
    algorithm: hashes.HashAlgorithm | None = None,
    *,
    little_endian: bool = False,
    width: int | None = None,
) -> bytes:
    """Deterministic ECDSA, returned as fixed-width r||s (big- or little-endian)."""
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    alg = algorithm or _hash_for(key)
    der = key.sign(message, ec.ECDSA(alg, deterministic_signing=True))
    r, s = decode_dss_signature(der)
    n = width or (key.curve.key_size + 7) // 8
    order: Literal["little", "big"] = "little" if little_endian else "big"
    return r.to_bytes(n, order) + s.to_bytes(n, order)
