"""Certificate chains to pinned roots, validity at a given time, and CRLs.

Shared by every vendor. Errors distinguish the evidence's own chain (authenticity, exit 3)
from a collateral signer's chain (collateral, exit 4) through ``collateral=True``.

Each check comes in two halves so that a verifier can do the static half once: a *plan*
(``plan_chain``, ``plan_crl``, ``validity``) holds what depends on the certificates or the CRL
alone (signatures, names, extensions, dates as microseconds since the epoch), and its
``check`` does what depends on the pinned roots and the verification time, on every call.
``verify_chain``, ``check_crl`` and ``check_validity`` are plan + check in one step.
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID, NameOID

from cocoverify._core.x509load import (
    load_der_certificate,
    load_pem_certificate,
    serial_zero_allowed,
)
from cocoverify.errors import (
    ChainInvalid,
    CocoverifyError,
    CollateralInvalid,
    MalformedEvidence,
    Reason,
    Revoked,
)

__all__ = [
    "CertificateReuse",
    "ChainPlan",
    "CrlPlan",
    "Validity",
    "check_crl",
    "check_validity",
    "common_name",
    "epoch_us",
    "fingerprint",
    "fresh",
    "is_ca",
    "is_revoked",
    "load_certificates",
    "load_der_certificate",
    "load_pem_certificate",
    "pem_blocks",
    "plan_chain",
    "plan_crl",
    "revoked_serials",
    "serial_zero_allowed",
    "signature_valid",
    "signed_by",
    "validity",
    "verify_chain",
]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MICROSECOND = _dt.timedelta(microseconds=1)


def epoch_us(t: _dt.datetime) -> int:
    """An aware datetime as whole microseconds since 1970-01-01 UTC (exact, so comparing two
    of them is comparing the datetimes)."""
    return (t - _EPOCH) // _MICROSECOND


def fresh(error: CocoverifyError) -> CocoverifyError:
    """A new exception equal to ``error`` (a template kept in a plan): same type, message,
    reason and details, no traceback, so a shared template is never raised itself."""
    return copy.copy(error)


def common_name(name: x509.Name) -> str:
    """The first common name (CN) of ``name``, or ""."""
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, lower-case hex."""
    return cert.fingerprint(_SHA256).hex()


_SHA256 = hashes.SHA256()


_PEM_CERT = re.compile(
    rb"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL
)
_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


_WHITESPACE = frozenset(b" \t\n\r\f\v")  # what \s matches in a bytes pattern


def pem_blocks(data: bytes) -> list[bytes]:
    r"""The PEM certificate blocks of ``data``: exactly what ``_PEM_CERT.finditer`` matches,
    found with ``find``.

    The pattern's greedy ``\s*`` takes the whitespace after the BEGIN line, ``(.+?)`` at least
    one byte more, then the first END line; only when there is none does ``\s*`` give one
    whitespace byte back (an END line right after the whitespace).
    """
    out = []
    pos = 0
    while (begin := data.find(_BEGIN, pos)) >= 0:
        start = begin + len(_BEGIN)
        content = start
        while content < len(data) and data[content] in _WHITESPACE:
            content += 1
        end = data.find(_END, content + 1)
        if end < 0 and content > start:
            end = content if data.startswith(_END, content) else -1
        if end < 0:
            break
        pos = end + len(_END)
        out.append(data[begin:pos])
    return out


class CertificateReuse(Protocol):
    """Certificates loaded and checked before, by the exact bytes they were read from."""

    def get(self, block: bytes) -> x509.Certificate | None:
        """The certificate read from ``block`` before, or None."""

    def add(self, block: bytes, cert: x509.Certificate) -> None:
        """``cert`` was read from ``block`` and passed ``force_parse``."""


def load_certificates(
    data: bytes,
    *,
    what: str = "certificate",
    zero_padding: bool = False,
    reuse: CertificateReuse | None = None,
) -> tuple[x509.Certificate, ...]:
    """Every certificate in ``data``: concatenated PEM, or concatenated DER.

    ``zero_padding``: DER certificates may be followed by zero bytes only (NUL padding,
    as a quote's certification data may carry). Raises MalformedEvidence
    (MALFORMED_CERTIFICATE) on anything else.

    ``reuse`` gives, for a PEM block or DER certificate byte for byte equal to one read
    before, the certificate read then (the same bytes decode the same way: no check that
    could fail is skipped), and is told of each certificate read and checked here.
    """
    try:
        if _BEGIN in data:
            blocks = pem_blocks(data)
            loaded = [_load(b, load_pem_certificate, reuse) for b in blocks]
        else:
            loaded = _load_der_sequence(data, zero_padding=zero_padding, reuse=reuse)
        for block, cert, known in loaded:
            if not known:
                force_parse(cert)
                if reuse is not None:
                    reuse.add(block, cert)
        return tuple(cert for _, cert, _ in loaded)
    except PARSE_ERRORS as exc:
        raise MalformedEvidence(
            f"{what}: not a certificate ({exc})", reason=Reason.MALFORMED_CERTIFICATE
        ) from None


def _load(
    block: bytes, load: Callable[[bytes], x509.Certificate], reuse: CertificateReuse | None
) -> tuple[bytes, x509.Certificate, bool]:
    known = reuse.get(block) if reuse is not None else None
    if known is not None:
        return block, known, True
    return block, load(block), False


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
        with serial_zero_allowed():  # a VCEK's serial is 0
            _ = item.serial_number
        _ = item.tbs_certificate_bytes
    else:
        _ = item.last_update_utc, item.next_update_utc, item.tbs_certlist_bytes
        for revoked in item:
            _ = revoked.serial_number


def _load_der_sequence(
    data: bytes, *, zero_padding: bool = False, reuse: CertificateReuse | None = None
) -> list[tuple[bytes, x509.Certificate, bool]]:
    certs: list[tuple[bytes, x509.Certificate, bool]] = []
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
        certs.append(_load(data[pos:end], load_der_certificate, reuse))
        pos = end
    if not certs:
        raise ValueError("empty")
    return certs


def _fail(
    collateral: bool, message: str, reason: Reason, collateral_reason: Reason | None = None
) -> CocoverifyError:
    if collateral:
        return CollateralInvalid(
            message, reason=collateral_reason or Reason.COLLATERAL_CHAIN_INVALID
        )
    return ChainInvalid(message, reason=reason)


@dataclass(frozen=True, slots=True)
class Validity:
    """A certificate's notBefore / notAfter as microseconds since the epoch, with what the
    errors ``check`` raises name (RFC 5280 §4.1.2.5)."""

    not_before: int
    not_after: int
    what: str
    not_before_time: _dt.datetime
    not_after_time: _dt.datetime
    collateral: bool

    def check(self, at_us: int) -> None:
        """notBefore <= at <= notAfter, ``at`` in microseconds since the epoch."""
        if at_us < self.not_before:
            raise _fail(
                self.collateral,
                f"{self.what} not valid before {self.not_before_time.isoformat()}",
                Reason.CERTIFICATE_NOT_YET_VALID,
                Reason.COLLATERAL_NOT_YET_VALID,
            )
        if at_us > self.not_after:
            error = _fail(
                self.collateral,
                f"{self.what} expired at {self.not_after_time.isoformat()}",
                Reason.CERTIFICATE_EXPIRED,
                Reason.COLLATERAL_EXPIRED,
            )
            error.details["valid_from"] = self.not_before_time
            raise error


def validity(cert: x509.Certificate, *, what: str, collateral: bool = False) -> Validity:
    """``cert``'s validity window, for ``Validity.check``."""
    nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
    return Validity(epoch_us(nb), epoch_us(na), what, nb, na, collateral)


def check_validity(
    cert: x509.Certificate, at: _dt.datetime, *, what: str, collateral: bool = False
) -> None:
    """notBefore <= at <= notAfter (RFC 5280 §4.1.2.5)."""
    validity(cert, what=what, collateral=collateral).check(epoch_us(at))


def signature_valid(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """Issuer name matches and the signature verifies (ECDSA, RSA PKCS#1 v1.5, RSA-PSS)."""
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


#: ``signature_valid`` memoised (4096 links): a pure function of the two certificates (hashed
#: and compared by DER), so a long-lived verifier checks each link of its collateral once.
signed_by = functools.lru_cache(maxsize=4096)(signature_valid)


def is_ca(cert: x509.Certificate) -> bool:
    """Basic Constraints says CA (RFC 5280 §4.2.1.9)."""
    return _is_ca(cert)


def _is_ca(cert: x509.Certificate) -> bool:
    # by OID: the same extension as by class (a basicConstraints extension is decoded as
    # BasicConstraints or refused when the extensions are read), without ABC isinstance
    try:
        bc = cert.extensions.get_extension_for_oid(ExtensionOID.BASIC_CONSTRAINTS).value
    except x509.ExtensionNotFound:
        return False
    return bool(bc.ca)  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ChainPlan:
    """``verify_chain`` split: the links, CA flags and dates of one chain, checked once;
    ``check`` adds the pinned root and the verification time."""

    root_fingerprint: str
    root_label: str
    collateral: bool
    #: the first defect after the pin check (not self-signed, a link, a CA flag), or None
    error: CocoverifyError | None
    windows: tuple[Validity, ...]

    def check(self, pinned: frozenset[str], at_us: int) -> None:
        """The checks of ``verify_chain``, in its order, at ``at_us`` (microseconds)."""
        if self.root_fingerprint not in pinned:
            raise _fail(
                self.collateral,
                f"{self.root_label} is not a pinned root (sha256 {self.root_fingerprint})",
                Reason.UNTRUSTED_ROOT,
            )
        if self.error is not None:
            raise fresh(self.error)
        for window in self.windows:
            window.check(at_us)


def plan_chain(
    chain: Sequence[x509.Certificate],
    *,
    names: Sequence[str],
    collateral: bool = False,
    require_ca_flags: bool = True,
    signed: Callable[[x509.Certificate, x509.Certificate], bool] = signed_by,
    root_fingerprint: str | None = None,
) -> ChainPlan:
    """The static half of ``verify_chain`` (raises at once for a chain of fewer than two).

    ``signed`` checks one link: the memoised ``signed_by`` by default; callers that cache
    the plan itself pass ``signature_valid`` so that no certificate is kept by the memo.
    ``root_fingerprint``: ``fingerprint`` of the root when the caller has it already.
    """
    if len(chain) < 2:
        raise _fail(collateral, f"chain of {len(chain)} certificate(s)", Reason.CHAIN_INVALID)
    labels = [names[i] if i < len(names) else f"certificate {i}" for i in range(len(chain))]
    root = chain[-1]
    error: CocoverifyError | None = None
    if not signed(root, root):
        error = _fail(collateral, f"{labels[-1]} is not self-signed", Reason.CHAIN_INVALID)
    for i in range(len(chain) - 1):
        if error is not None:
            break
        child, parent = chain[i], chain[i + 1]
        if not signed(child, parent):
            error = _fail(
                collateral, f"{labels[i]} is not signed by {labels[i + 1]}", Reason.CHAIN_INVALID
            )
        elif require_ca_flags and not _is_ca(parent):
            error = _fail(
                collateral,
                f"{labels[i + 1]} is not a CA certificate",
                Reason.CERTIFICATE_PROFILE_INVALID,
            )
    return ChainPlan(
        root_fingerprint=root_fingerprint or fingerprint(root),
        root_label=labels[-1],
        collateral=collateral,
        error=error,
        windows=tuple(
            validity(c, what=labels[i], collateral=collateral) for i, c in enumerate(chain)
        ),
    )


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
    plan = plan_chain(chain, names=names, collateral=collateral, require_ca_flags=require_ca_flags)
    plan.check(pinned, epoch_us(at))


@dataclass(frozen=True, slots=True)
class CrlPlan:
    """``check_crl`` split: issuer, signature and extensions checked once; ``check`` adds
    thisUpdate / nextUpdate against the verification time."""

    crl: x509.CertificateRevocationList
    #: the first static defect (issuer, signature, extensions), or None
    error: CocoverifyError | None
    this_update: int
    next_update: int | None
    what: str
    this_update_text: str
    next_update_text: str

    def check(self, at_us: int) -> None:
        """The checks of ``check_crl``, in its order, at ``at_us`` (microseconds)."""
        if self.error is not None:
            raise fresh(self.error)
        if at_us < self.this_update:
            raise CollateralInvalid(
                f"{self.what}: not valid before {self.this_update_text}",
                reason=Reason.CRL_NOT_YET_VALID,
            )
        if self.next_update is None or at_us > self.next_update:
            raise CollateralInvalid(
                f"{self.what}: stale (nextUpdate {self.next_update_text})",
                reason=Reason.CRL_EXPIRED,
                valid_from=self.crl.last_update_utc,
            )


def _crl_error(
    crl: x509.CertificateRevocationList,
    issuer: x509.Certificate,
    what: str,
    require_extensions: bool,
) -> CollateralInvalid | None:
    if crl.issuer != issuer.subject:
        return CollateralInvalid(
            f"{what}: issuer is not {issuer.subject.rfc4514_string()}", reason=Reason.CRL_INVALID
        )
    if not _crl_signed_by(crl, issuer):
        return CollateralInvalid(f"{what}: signature does not verify", reason=Reason.CRL_INVALID)
    if require_extensions:
        for oid in (ExtensionOID.CRL_NUMBER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER):
            try:
                crl.extensions.get_extension_for_oid(oid)
            except x509.ExtensionNotFound:
                return CollateralInvalid(f"{what}: missing {oid._name}", reason=Reason.CRL_INVALID)
    return None


def plan_crl(
    crl: x509.CertificateRevocationList,
    issuer: x509.Certificate,
    *,
    what: str,
    require_extensions: bool = False,
) -> CrlPlan:
    """The static half of ``check_crl``."""
    lu, nu = crl.last_update_utc, crl.next_update_utc
    return CrlPlan(
        crl=crl,
        error=_crl_error(crl, issuer, what, require_extensions),
        this_update=epoch_us(lu),
        next_update=epoch_us(nu) if nu is not None else None,
        what=what,
        this_update_text=lu.isoformat(),
        next_update_text=nu.isoformat() if nu else "absent",
    )


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
    plan_crl(crl, issuer, what=what, require_extensions=require_extensions).check(epoch_us(at))


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


def revoked_serials(crl: x509.CertificateRevocationList) -> frozenset[int]:
    """The serial numbers a CRL lists, for look-ups by serial (RFC 5280 §6.3.3 (i))."""
    return frozenset(entry.serial_number for entry in crl)


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
