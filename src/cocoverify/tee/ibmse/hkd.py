"""IBM Secure Execution host-key documents (HKD), verified as s390-tools ``pv`` verifies them.

``verify.rs`` ``CertVerifier::new`` and ``verify``, ``verify/helper.rs``:

1. Among the given certificates exactly one is the IBM Z host-key signing certificate
   (subject C=US, ST=New York, L=Poughkeepsie or Armonk, O and CN "International Business
   Machines Corporation", OU ending in "Key Signing Service", six attributes); the others
   are intermediates.
2. The signing certificate chains through at most two intermediates to a root pinned by
   fingerprint (``TrustStore.ibmse_roots``: DigiCert Trusted Root G4, bundled); every
   certificate of that chain is valid at the time, issuers are CAs, and every non-root
   certificate is checked against a current CRL of its issuer (OpenSSL ``CRL_CHECK_ALL``).
3. The HKD: an EC P-521 key (the ARCB's ECDH curve), valid at the time, its authority key
   identifier (when present) the signing certificate's subject key identifier, signed by the
   signing key.
4. At least one current CRL issued by the signing certificate (names compared as s390-tools
   does: the same attributes in any order, Armonk read as Poughkeepsie), whose authority key
   identifier (when present) matches and whose signature verifies; the HKD's serial is listed
   in none of them.

Failures are collateral errors (exit 4): the HKDs and IBM's certificates are the request's
collateral. CRLs are never fetched: give them (s390-tools' offline mode).
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Sequence
from importlib import resources

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID

from cocoverify._core.x509 import fingerprint, signed_by
from cocoverify.errors import CollateralInvalid, Reason
from cocoverify.trust import TrustStore

__all__ = [
    "bundled_root",
    "is_ibm_signing_certificate",
    "verify_host_key_document",
    "verify_signing_chain",
]

_ROOT_FILE = "digicert_trusted_root_g4.der"
IBM = "International Business Machines Corporation"
LOCALITIES = ("Poughkeepsie", "Armonk")
MAX_INTERMEDIATES = 2  # pv helper.rs SECURITY_CHAIN_MAX_LEN


@functools.cache
def bundled_root() -> x509.Certificate:
    """DigiCert Trusted Root G4 (its fingerprint is pinned in ``trust``)."""
    der = resources.files("cocoverify.tee.ibmse").joinpath("_data", _ROOT_FILE).read_bytes()
    return x509.load_der_x509_certificate(der)


def _bad(message: str, reason: Reason = Reason.COLLATERAL_CHAIN_INVALID) -> CollateralInvalid:
    return CollateralInvalid(message, reason=reason)


def _values(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def is_ibm_signing_certificate(cert: x509.Certificate) -> bool:
    """pv helper.rs ``is_ibm_signing_cert``: IBM's six-attribute signing subject."""
    subject = cert.subject
    if len(list(subject)) != 6:
        return False
    units = _values(subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    return (
        _values(subject, NameOID.COUNTRY_NAME)[:1] == ["US"]
        and _values(subject, NameOID.STATE_OR_PROVINCE_NAME)[:1] == ["New York"]
        and _values(subject, NameOID.LOCALITY_NAME)[:1] in (["Poughkeepsie"], ["Armonk"])
        and _values(subject, NameOID.ORGANIZATION_NAME)[:1] == [IBM]
        and _values(subject, NameOID.COMMON_NAME)[:1] == [IBM]
        and bool(units)
        and units[0].endswith("Key Signing Service")
    )


def _name_key(name: x509.Name) -> tuple[tuple[str, str], ...]:
    """The attributes as a sorted tuple, Armonk read as Poughkeepsie (pv ``quirk_crls``)."""
    out = []
    for attr in name:
        value = str(attr.value)
        if attr.oid == NameOID.LOCALITY_NAME and value == "Armonk":
            value = "Poughkeepsie"
        out.append((attr.oid.dotted_string, value))
    return tuple(sorted(out))


def _ski(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def _aki(item: x509.Certificate | x509.CertificateRevocationList) -> bytes | None:
    try:
        ext = item.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except x509.ExtensionNotFound:
        return None
    return ext.value.key_identifier


def _akid_matches(
    item: x509.Certificate | x509.CertificateRevocationList, issuer: x509.Certificate
) -> bool:
    """pv ``AkidExtension::check``: no AKID, or its key id is the issuer's SKID."""
    aki = _aki(item)
    return aki is None or aki == _ski(issuer)


def _signature_ok(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """The signature alone (the HKD's issuer name is not compared, as in pv ``X509::verify``)."""
    key = issuer.public_key()
    hash_alg = cert.signature_hash_algorithm
    params = cert.signature_algorithm_parameters
    try:
        if (
            isinstance(key, rsa.RSAPublicKey)
            and isinstance(params, padding.PKCS1v15 | padding.PSS)
            and hash_alg is not None
        ):
            key.verify(cert.signature, cert.tbs_certificate_bytes, params, hash_alg)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(params, ec.ECDSA):
            key.verify(cert.signature, cert.tbs_certificate_bytes, params)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def _crl_signature_ok(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    key = issuer.public_key()
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return False
    try:
        return bool(crl.is_signature_valid(key))
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return False


def _valid(cert: x509.Certificate, at: _dt.datetime, what: str) -> None:
    if at < cert.not_valid_before_utc:
        raise _bad(
            f"{what} not valid before {cert.not_valid_before_utc.isoformat()}",
            Reason.COLLATERAL_NOT_YET_VALID,
        )
    if at > cert.not_valid_after_utc:
        raise _bad(
            f"{what} expired at {cert.not_valid_after_utc.isoformat()}", Reason.COLLATERAL_EXPIRED
        )


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _current_crls(
    subject: x509.Certificate,
    issuer: x509.Certificate,
    crls: Sequence[x509.CertificateRevocationList],
    at: _dt.datetime,
    what: str,
) -> list[x509.CertificateRevocationList]:
    """The CRLs of ``issuer`` that verify and are current at ``at``; raises when none is."""
    issued = [c for c in crls if _name_key(c.issuer) == _name_key(issuer.subject)]
    usable, why = [], Reason.CRL_MISSING
    for crl in issued:
        if not _akid_matches(crl, issuer) or not _crl_signature_ok(crl, issuer):
            why = Reason.CRL_INVALID
            continue
        if at < crl.last_update_utc:
            why = Reason.CRL_NOT_YET_VALID
            continue
        if crl.next_update_utc is None or at > crl.next_update_utc:
            why = Reason.CRL_EXPIRED
            continue
        usable.append(crl)
    if not usable:
        detail = {
            Reason.CRL_MISSING: "no CRL issued by",
            Reason.CRL_INVALID: "no CRL with a valid signature of",
            Reason.CRL_NOT_YET_VALID: "no CRL yet valid from",
            Reason.CRL_EXPIRED: "no current CRL of",
        }[why]
        raise _bad(f"{what}: {detail} {issuer.subject.rfc4514_string()}", why)
    for crl in usable:
        if crl.get_revoked_certificate_by_serial_number(subject.serial_number) is not None:
            raise _bad(
                f"{what} (serial {subject.serial_number:x}) is revoked", Reason.CERTIFICATE_REVOKED
            )
    return usable


def verify_signing_chain(
    certificates: Sequence[x509.Certificate],
    crls: Sequence[x509.CertificateRevocationList],
    *,
    trust: TrustStore,
    at: _dt.datetime,
) -> x509.Certificate:
    """Steps 1-2: the IBM Z host-key signing certificate, chained to a pinned root."""
    signing = [c for c in certificates if is_ibm_signing_certificate(c)]
    if len(signing) != 1:
        what = "no" if not signing else f"{len(signing)}"
        raise _bad(f"{what} IBM Z host-key signing certificate(s) among the certificates given")
    pool = [c for c in certificates if not is_ibm_signing_certificate(c)] + [bundled_root()]
    path = [signing[0]]
    while not signed_by(path[-1], path[-1]):
        if len(path) > MAX_INTERMEDIATES + 1:
            raise _bad(f"the signing chain is longer than {MAX_INTERMEDIATES} intermediates")
        issuer = next((c for c in pool if c not in path and signed_by(path[-1], c)), None)
        if issuer is None:
            raise _bad(
                f"no issuer given for {path[-1].subject.rfc4514_string()} (the signing chain "
                "does not reach a root)"
            )
        path.append(issuer)
    root = path[-1]
    if fingerprint(root) not in trust.ibmse_roots:
        raise _bad(f"the signing chain ends at an unpinned root (sha256 {fingerprint(root)})")
    for i, cert in enumerate(path):
        what = "IBM Z signing certificate" if i == 0 else f"signing chain certificate {i}"
        _valid(cert, at, what)
        if i > 0 and not _is_ca(cert):
            raise _bad(f"{what} is not a CA", Reason.COLLATERAL_CHAIN_INVALID)
    for i in range(len(path) - 1):
        what = "IBM Z signing certificate" if i == 0 else f"signing chain certificate {i}"
        _current_crls(path[i], path[i + 1], crls, at, what)
    return signing[0]


def verify_host_key_document(
    hkd: x509.Certificate,
    signing: x509.Certificate,
    crls: Sequence[x509.CertificateRevocationList],
    *,
    at: _dt.datetime,
) -> ec.EllipticCurvePublicKey:
    """Steps 3-4 for one HKD; returns its host key."""
    key = hkd.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP521R1):
        raise _bad("host-key document: the key is not EC P-521", Reason.UNSUPPORTED_KEY_TYPE)
    _valid(hkd, at, "host-key document")
    if not _akid_matches(hkd, signing):
        raise _bad("host-key document: authority key id is not the signing certificate's")
    if not _signature_ok(hkd, signing):
        raise _bad(
            "host-key document is not signed by the IBM Z signing key",
            Reason.COLLATERAL_SIGNATURE_INVALID,
        )
    _current_crls(hkd, signing, crls, at, "host-key document")
    return key
