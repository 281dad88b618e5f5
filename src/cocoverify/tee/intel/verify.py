"""Authenticate a quote (QVL ``QuoteVerifier.cpp``, ``PckCrlVerifier.cpp``).

* the quote signature, the QE report signature and binding, the QE vendor ID, after the PCK
  chain (``pck.py``) is verified;
* the Root CA CRL and PCK CRL (signature, issuer, extensions, validity) and revocation.

The signatures of TCB Info and QE Identity are checked in ``collateral.py``.

The quote signature is checked on every call (``cocoverify._backend.ecdsa_verify``). A QE
report signature that verified is remembered in ``QE_REPORTS`` (the leaf point, the report
and its signature, 512 bytes: 1024 entries); a failed one is checked again each time. A
``CrlChoice`` (the CRLs of one issuer, their static checks done, their revoked serials as a
set) is built once per collateral set and issuer (``prepared.py``); ``pick`` compares the
verification time.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from cocoverify import _backend
from cocoverify._core.signatures import ec_public_key_from_raw, verify_ecdsa_raw
from cocoverify._core.x509 import CrlPlan, common_name, epoch_us, fresh, plan_crl, revoked_serials
from cocoverify.collateral import Collateral
from cocoverify.errors import (
    CollateralInvalid,
    CollateralUnavailable,
    Reason,
    Revoked,
    SignatureInvalid,
)
from cocoverify.tee.intel.cache import Memo
from cocoverify.tee.intel.parse import INTEL_QE_VENDOR_ID, Quote
from cocoverify.tee.intel.pck import PckChain, PckPlan, plan_pck_chain
from cocoverify.trust import TrustStore

__all__ = [
    "QE_REPORTS",
    "CrlCandidate",
    "CrlChoice",
    "authenticate_quote",
    "check_quote_signatures",
    "crl_choice",
    "other_issuers",
    "pick_crls",
    "verify_crls",
]

_SHA256 = hashes.SHA256()

#: (P-256 leaf point, QE report, QE report signature) that verified: 1024 entries.
QE_REPORTS: Memo[bytes, bool] = Memo("intel-qe-reports", 1024)


def _on_p256(point: bytes) -> bool:
    try:
        ec_public_key_from_raw(point)
    except ValueError:
        return False
    return True


def _qe_report_signed(quote: Quote, plan: PckPlan) -> bool:
    raw, signature = quote.qe_report.raw, quote.qe_report_signature
    if plan.leaf_key is not None:  # an EC leaf key on another curve (not Intel's profile)
        return verify_ecdsa_raw(plan.leaf_key, signature, raw, _SHA256)
    point = plan.leaf_point
    if point is None:
        return False
    key = point + raw + signature
    if QE_REPORTS.get(key):
        return True
    if not _backend.ecdsa_verify(point, raw, signature):
        return False
    QE_REPORTS.put(key, True)
    return True


def check_quote_signatures(
    quote: Quote, plan: PckPlan, *, quote_signature_valid: bool | None = None
) -> None:
    """The three signature checks and the QE vendor ID, after the PCK chain (QVL
    ``QuoteVerifier::verify``; ``QuoteVerifier.cpp``).

    ``quote_signature_valid``: the quote signature's result when the parser already checked
    it (one native call); None checks it here.
    """
    # 1. quote signature by the attestation key over header + body
    if quote_signature_valid is None:
        quote_signature_valid = _backend.ecdsa_verify(
            quote.attestation_key, quote.signed_region, quote.signature
        )
    if not quote_signature_valid:
        if not _on_p256(quote.attestation_key):
            raise SignatureInvalid(
                "attestation key is not a P-256 point", reason=Reason.SIGNATURE_INVALID
            )
        raise SignatureInvalid(
            "quote signature does not verify with the attestation key",
            reason=Reason.SIGNATURE_INVALID,
        )
    # 2. QE report signature by the PCK leaf key
    if not _qe_report_signed(quote, plan):
        raise SignatureInvalid(
            "QE report signature does not verify with the PCK key",
            reason=Reason.QE_REPORT_SIGNATURE_INVALID,
        )
    # 3. QE report data = SHA-256(attestation key || QE auth data) || 32 zero bytes
    #    (QVL QuoteVerifier.cpp 4.1.2.4.13)
    expected = hashlib.sha256(quote.attestation_key + quote.qe_auth_data).digest() + bytes(32)
    if not hmac.compare_digest(expected, quote.qe_report.report_data):
        raise SignatureInvalid(
            "QE report data does not bind the attestation key",
            reason=Reason.QE_REPORT_DATA_MISMATCH,
        )
    # QE vendor ID (QVL Quote::validate): only Intel's QE is supported
    if quote.header.qe_vendor_id != INTEL_QE_VENDOR_ID:
        raise SignatureInvalid(
            f"QE vendor ID {quote.header.qe_vendor_id.hex()} is not Intel's",
            reason=Reason.QE_VENDOR_ID_UNKNOWN,
        )


def authenticate_quote(
    quote: Quote, chain: Sequence[x509.Certificate], *, trust: TrustStore, at: _dt.datetime
) -> PckChain:
    """PCK chain to the pinned root, then the three signature checks and the QE vendor ID
    (QVL ``QuoteVerifier::verify``; ``QuoteVerifier.cpp``)."""
    plan = plan_pck_chain(chain)
    info = plan.check(trust.intel_roots, epoch_us(at))
    check_quote_signatures(quote, plan)
    leaf, inter, root = chain
    return PckChain(leaf=leaf, intermediate=inter, root=root, info=info)


# --- CRLs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CrlCandidate:
    """One CRL of an issuer: its position in the collateral, its plan, its revoked serials."""

    index: int
    plan: CrlPlan
    revoked: frozenset[int]

    @property
    def crl(self) -> x509.CertificateRevocationList:
        """The CRL itself."""
        return self.plan.crl


@dataclass(frozen=True, slots=True)
class CrlChoice:
    """The CRLs one CA issued, newest first, their static checks done."""

    #: no CRL of this issuer was supplied
    missing: CollateralUnavailable | None
    candidates: tuple[CrlCandidate, ...]

    def pick(self, at_us: int) -> CrlCandidate:
        """The newest CRL current at ``at_us``; the newest one's defect when none is."""
        if self.missing is not None:
            raise fresh(self.missing)
        first_error: CollateralInvalid | None = None
        for candidate in self.candidates:
            try:
                candidate.plan.check(at_us)
            except CollateralInvalid as exc:
                first_error = first_error or exc
                continue
            return candidate
        assert first_error is not None
        raise first_error


def crl_choice(
    crls: Sequence[x509.CertificateRevocationList], issuer: x509.Certificate, what: str
) -> CrlChoice:
    """The CRLs of ``crls`` issued by ``issuer``, newest first (CRL Number and Authority Key
    Identifier required, as QVL ``PckCrlVerifier.cpp`` does)."""
    mine = [(i, c) for i, c in enumerate(crls) if c.issuer == issuer.subject]
    if not mine:
        missing = CollateralUnavailable(
            f"no {what} issued by {issuer.subject.rfc4514_string()}", reason=Reason.CRL_MISSING
        )
        return CrlChoice(missing, ())
    # Prefer a CRL current at `at`, newest first; report the newest one's defect otherwise.
    mine.sort(key=lambda ic: ic[1].last_update_utc, reverse=True)
    return CrlChoice(
        None,
        tuple(
            CrlCandidate(
                i, plan_crl(c, issuer, what=what, require_extensions=True), revoked_serials(c)
            )
            for i, c in mine
        ),
    )


def pick_crls(
    root: CrlChoice,
    pck: CrlChoice,
    *,
    other_issuers: bool,
    leaf_issuer_cn: str,
    intermediate_serial: int,
    leaf_serial: int,
    at_us: int,
) -> tuple[CrlCandidate, CrlCandidate]:
    """Root CA CRL and PCK CRL current at ``at_us``, then revocation of the PCK CA and leaf.

    ``other_issuers``: the collateral holds a CRL not issued by the root.
    """
    root_crl = root.pick(at_us)
    if pck.missing is not None and other_issuers:
        # QVL: a PCK CRL whose issuer is not the leaf's issuer -> INVALID_PCK_CRL
        raise CollateralInvalid(
            f"the PCK CRL supplied is not issued by the PCK leaf's issuer ({leaf_issuer_cn})",
            reason=Reason.CRL_INVALID,
        )
    pck_crl = pck.pick(at_us)
    for crl, serial, what in (
        (root_crl, intermediate_serial, "PCK CA certificate"),
        (pck_crl, leaf_serial, "PCK certificate"),
    ):
        if serial in crl.revoked:
            raise Revoked(
                f"{what} (serial {serial:x}) is revoked", reason=Reason.CERTIFICATE_REVOKED
            )
    return root_crl, pck_crl


def other_issuers(crls: Sequence[x509.CertificateRevocationList], root: x509.Certificate) -> bool:
    """Whether ``crls`` holds a CRL that ``root`` did not issue."""
    return any(c.issuer != root.subject for c in crls)


def verify_crls(
    pck: PckChain,
    collateral: Collateral,
    at: _dt.datetime,
) -> tuple[x509.CertificateRevocationList, x509.CertificateRevocationList]:
    """Root CA CRL and PCK CRL verified and applied (QVL ``PckCrlVerifier.cpp``). Returns both."""
    crls = collateral.crls
    root_crl, pck_crl = pick_crls(
        crl_choice(crls, pck.root, "Root CA CRL"),
        crl_choice(crls, pck.intermediate, "PCK CRL"),
        other_issuers=other_issuers(crls, pck.root),
        leaf_issuer_cn=common_name(pck.leaf.issuer),
        intermediate_serial=pck.intermediate.serial_number,
        leaf_serial=pck.leaf.serial_number,
        at_us=epoch_us(at),
    )
    return root_crl.crl, pck_crl.crl
