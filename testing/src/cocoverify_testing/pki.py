"""TEST ONLY. Generic building blocks for fake vendor PKIs.

Deterministic: EC keys derive from a label (never use these keys for anything real), ECDSA
signatures are deterministic (RFC 6979), RSA-PSS salts are recorded or derived (see
:func:`sign_rsa_pss`), serials and times are given by the caller. RSA keys without a fixed
key file are generated once per process and label.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as _dt
import functools
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
)
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

__all__ = [
    "CA_KEY_USAGE",
    "LEAF_KEY_USAGE",
    "UTC",
    "CertSpec",
    "ec_key",
    "fill",
    "iso",
    "issue",
    "make_crl",
    "mgf1",
    "name",
    "pem",
    "pss_message_id",
    "pss_run_token",
    "pss_signing_run",
    "record_pss_salts",
    "rsa_key",
    "serial_from_label",
    "sign_ecdsa_raw",
    "sign_rsa_pss",
    "utc",
    "with_pss_signature",
]

UTC = _dt.UTC


# --- deterministic values --------------------------------------------------------------------


def fill(label: str, n: int = 32) -> bytes:
    """``n`` deterministic filler bytes for ``label`` (measurements, ids, nonces)."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}:{i}".encode()).digest()
        i += 1
    return out[:n]


def serial_from_label(label: str) -> int:
    """A 159-bit positive certificate serial derived from a label (20-byte serials)."""
    return int.from_bytes(hashlib.sha1(label.encode()).digest(), "big") >> 1


def utc(text: str) -> _dt.datetime:
    """``2025-06-01T00:00:00Z`` as an aware datetime."""
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def iso(t: _dt.datetime) -> str:
    """An aware datetime as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- keys -----------------------------------------------------------------------------------

_CURVE_ORDER = {
    "P-256": (ec.SECP256R1(), 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551),
    "P-384": (
        ec.SECP384R1(),
        0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973,
    ),
    # SEC 2 §2.6.1
    "P-521": (
        ec.SECP521R1(),
        0x1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409,
    ),
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
    if not isinstance(issuer_key, rsa.RSAPrivateKey):
        return b.sign(issuer_key, alg, ecdsa_deterministic=True)
    cert = b.sign(issuer_key, alg, rsa_padding=_rsa_padding(alg, spec.rsa_pss))
    return with_pss_signature(cert, issuer_key, alg) if spec.rsa_pss and _run else cert


def _rsa_padding(alg: hashes.HashAlgorithm, pss: bool) -> padding.PSS | padding.PKCS1v15:
    # RSA-PSS as AMD's KDS signs: MGF1 with the same hash, salt length = hash length
    if pss:
        return padding.PSS(mgf=padding.MGF1(alg), salt_length=alg.digest_size)
    return padding.PKCS1v15()


def _key_usage(*on: str) -> x509.KeyUsage:
    flags = dict.fromkeys(
        (
            "digital_signature",
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "key_cert_sign",
            "crl_sign",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    return x509.KeyUsage(**(flags | dict.fromkeys(on, True)))


#: keyCertSign + cRLSign (RFC 5280 §4.2.1.3), for the fakes' CA certificates.
CA_KEY_USAGE = _key_usage("key_cert_sign", "crl_sign")
#: digitalSignature + nonRepudiation (RFC 5280 §4.2.1.3), for the fakes' leaf certificates.
LEAF_KEY_USAGE = _key_usage("digital_signature", "content_commitment")


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
    if not isinstance(issuer_key, rsa.RSAPrivateKey):
        return b.sign(issuer_key, alg, ecdsa_deterministic=True)
    crl = b.sign(issuer_key, alg, rsa_padding=_rsa_padding(alg, rsa_pss))
    return with_pss_signature(crl, issuer_key, alg) if rsa_pss and _run else crl


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
    alg = algorithm or _hash_for(key)
    der = key.sign(message, ec.ECDSA(alg, deterministic_signing=True))
    r, s = decode_dss_signature(der)
    n = width or (key.curve.key_size + 7) // 8
    order: Literal["little", "big"] = "little" if little_endian else "big"
    return r.to_bytes(n, order) + s.to_bytes(n, order)


# --- RSA-PSS with reproducible salts (RFC 8017 §8.1.1 RSASSA-PSS-SIGN, §9.1.1 EMSA-PSS) -----
#
# An RSA-PSS signature carries a random salt, so signing again changes the bytes. Inside
# pss_signing_run(), issue() and make_crl() re-sign every RSA-PSS certificate and CRL with a
# recorded salt (the salts of the committed vectors: cocoverify_testing.snp.salts) or, for a
# message never recorded, one derived from key and message, so a run that signs the same
# things in the same order writes the same bytes. Outside a run, salts stay random.


class _Run:
    """One pss_signing_run: how often each (key, message) was signed so far."""

    def __init__(self) -> None:
        self.counts: collections.Counter[str] = collections.Counter()


_PSS_SALTS: dict[str, tuple[bytes, ...]] = {}
_run: _Run | None = None


def pss_message_id(public_key: rsa.RSAPublicKey, digest: bytes) -> str:
    """The id under which a salt is recorded: SHA-256 of the modulus and the message hash."""
    n = public_key.public_numbers().n
    return hashlib.sha256(n.to_bytes((n.bit_length() + 7) // 8, "big") + digest).hexdigest()


def record_pss_salts(salts: Mapping[str, Sequence[str]]) -> None:
    """Salts (hex) to reuse per :func:`pss_message_id`, in the order they were signed."""
    for mid, values in salts.items():
        _PSS_SALTS[mid] = tuple(bytes.fromhex(v) for v in values)


@contextlib.contextmanager
def pss_signing_run() -> Iterator[object]:
    """Reproducible RSA-PSS inside: the n-th signature over one (key, message) takes the n-th
    recorded salt. Yields a token that caches of signed objects should key on."""
    global _run
    outer, _run = _run, _Run()
    try:
        yield _run
    finally:
        _run = outer


def pss_run_token() -> object | None:
    """The current :func:`pss_signing_run` token, None outside a run."""
    return _run


def _pss_salt(key: rsa.RSAPrivateKey, digest: bytes, length: int) -> bytes:
    mid = pss_message_id(key.public_key(), digest)
    recorded = _PSS_SALTS.get(mid, ())
    if recorded:
        i = 0
        if _run is not None:
            i = min(_run.counts[mid], len(recorded) - 1)
            _run.counts[mid] += 1
        if len(recorded[i]) == length:
            return recorded[i]
    return fill(f"cocoverify-test-pss:{mid}", length)


def mgf1(seed: bytes, length: int, hash_name: str) -> bytes:
    """MGF1 (RFC 8017 §B.2.1) with the hashlib hash ``hash_name``."""
    out = b""
    counter = 0
    while len(out) < length:
        out += hashlib.new(hash_name, seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return out[:length]


def sign_rsa_pss(
    key: rsa.RSAPrivateKey,
    message: bytes,
    algorithm: hashes.HashAlgorithm,
    *,
    mgf_algorithm: hashes.HashAlgorithm | None = None,
    salt_length: int | None = None,
) -> bytes:
    """RSASSA-PSS over ``message`` with a reproducible salt (default length: the hash's)."""
    mgf_alg = mgf_algorithm or algorithm
    digest = hashlib.new(algorithm.name, message).digest()
    slen = len(digest) if salt_length is None else salt_length
    salt = _pss_salt(key, digest, slen)
    nums = key.private_numbers()
    n = nums.public_numbers.n
    em_bits = n.bit_length() - 1
    em_len = (em_bits + 7) // 8
    h = hashlib.new(algorithm.name, bytes(8) + digest + salt).digest()
    db = bytes(em_len - slen - len(h) - 2) + b"\x01" + salt
    masked = bytearray(a ^ b for a, b in zip(db, mgf1(h, len(db), mgf_alg.name), strict=True))
    masked[0] &= 0xFF >> (8 * em_len - em_bits)
    em = int.from_bytes(bytes(masked) + h + b"\xbc", "big")
    # RSASP1 with the CRT (RFC 8017 §5.2.1)
    m1, m2 = pow(em, nums.dmp1, nums.p), pow(em, nums.dmq1, nums.q)
    s = m2 + (nums.iqmp * (m1 - m2) % nums.p) * nums.q
    sig = s.to_bytes((n.bit_length() + 7) // 8, "big")
    pss = padding.PSS(mgf=padding.MGF1(mgf_alg), salt_length=slen)
    key.public_key().verify(sig, message, pss, algorithm)  # raises if this code is wrong
    return sig


@overload
def with_pss_signature(
    item: x509.Certificate,
    key: rsa.RSAPrivateKey,
    algorithm: hashes.HashAlgorithm,
    *,
    mgf_algorithm: hashes.HashAlgorithm | None = None,
) -> x509.Certificate: ...


@overload
def with_pss_signature(
    item: x509.CertificateRevocationList,
    key: rsa.RSAPrivateKey,
    algorithm: hashes.HashAlgorithm,
    *,
    mgf_algorithm: hashes.HashAlgorithm | None = None,
) -> x509.CertificateRevocationList: ...


def with_pss_signature(
    item: x509.Certificate | x509.CertificateRevocationList,
    key: rsa.RSAPrivateKey,
    algorithm: hashes.HashAlgorithm,
    *,
    mgf_algorithm: hashes.HashAlgorithm | None = None,
) -> x509.Certificate | x509.CertificateRevocationList:
    """``item`` (a certificate or CRL that ``key`` signed with RSA-PSS, salt length = hash
    length) with its signature replaced by :func:`sign_rsa_pss` over the same TBS bytes."""
    der = item.public_bytes(serialization.Encoding.DER)
    old = item.signature
    if not der.endswith(old):
        raise ValueError("the signature is not the last field of the DER")
    if isinstance(item, x509.Certificate):
        sig = sign_rsa_pss(key, item.tbs_certificate_bytes, algorithm, mgf_algorithm=mgf_algorithm)
        return x509.load_der_x509_certificate(der[: len(der) - len(old)] + sig)
    sig = sign_rsa_pss(key, item.tbs_certlist_bytes, algorithm, mgf_algorithm=mgf_algorithm)
    return x509.load_der_x509_crl(der[: len(der) - len(old)] + sig)
