"""Authenticate a quote (QVL ``QuoteVerifier.cpp``, ``PckCrlVerifier.cpp``).

* the quote signature, the QE report signature and binding, the QE vendor ID, after the PCK
  chain (``pck.py``) is verified;
* the Root CA CRL and PCK CRL (signature, issuer, extensions, validity) and revocation.

The signatures of TCB Info and QE Identity are checked in ``collateral.py``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify._core.signatures import ec_public_key_from_raw, verify_ecdsa_raw
from cocoverify._core.x509 import check_crl, raise_if_revoked
from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, Reason, SignatureInvalid
from cocoverify.tee.intel.parse import INTEL_QE_VENDOR_ID, Quote
from cocoverify.tee.intel.pck import PckChain, common_name, verify_pck_chain
from cocoverify.trust import TrustStore

__all__ = ["authenticate_quote", "verify_crls"]

_SHA256 = hashes.SHA256()


def authenticate_quote(
    quote: Quote, chain: Sequence[x509.Certificate], *, trust: TrustStore, at: _dt.datetime
) -> PckChain:
    """PCK chain to the pinned root, then the three signature checks and the QE vendor ID
    (QVL ``QuoteVerifier::verify``; ``QuoteVerifier.cpp``)."""
    pck = verify_pck_chain(chain, trust=trust, at=at)
    # 1. quote signature by the attestation key over header + body
    try:
        att_key = ec_public_key_from_raw(quote.attestation_key)
    except ValueError:
        raise SignatureInvalid(
            "attestation key is not a P-256 point", reason=Reason.SIGNATURE_INVALID
        ) from None
    if not verify_ecdsa_raw(att_key, quote.signature, quote.signed_region, _SHA256):
        raise SignatureInvalid(
            "quote signature does not verify with the attestation key",
            reason=Reason.SIGNATURE_INVALID,
        )
    # 2. QE report signature by the PCK leaf key
    pck_key = pck.leaf.public_key()
    if not isinstance(pck_key, ec.EllipticCurvePublicKey) or not verify_ecdsa_raw(
        pck_key, quote.qe_report_signature, quote.qe_report.raw, _SHA256
    ):
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
    return pck


# --- CRLs -------------------------------------------------------------------------------------


def _pick_crl(
    crls: Sequence[x509.CertificateRevocationList],
    issuer: x509.Certificate,
    at: _dt.datetime,
    what: str,
) -> x509.CertificateRevocationList:
    candidates = [c for c in crls if c.issuer == issuer.subject]
    if not candidates:
        raise CollateralUnavailable(
            f"no {what} issued by {issuer.subject.rfc4514_string()}", reason=Reason.CRL_MISSING
        )
    # Prefer a CRL current at `at`, newest first; report the newest one's defect otherwise.
    candidates.sort(key=lambda c: c.last_update_utc, reverse=True)
    first_error: CollateralInvalid | None = None
    for crl in candidates:
        try:
            check_crl(crl, issuer, at, what=what, require_extensions=True)
            return crl
        except CollateralInvalid as exc:
            first_error = first_error or exc
    assert first_error is not None
    raise first_error


def verify_crls(
    pck: PckChain,
    collateral: Collateral,
    at: _dt.datetime,
) -> tuple[x509.CertificateRevocationList, x509.CertificateRevocationList]:
    """Root CA CRL and PCK CRL verified and applied (QVL ``PckCrlVerifier.cpp``). Returns both."""
    root_crl = _pick_crl(collateral.crls, pck.root, at, "Root CA CRL")
    try:
        pck_crl = _pick_crl(collateral.crls, pck.intermediate, at, "PCK CRL")
    except CollateralUnavailable:
        others = [c for c in collateral.crls if c.issuer != pck.root.subject]
        if others:
            # QVL: a PCK CRL whose issuer is not the leaf's issuer -> INVALID_PCK_CRL
            raise CollateralInvalid(
                "the PCK CRL supplied is not issued by the PCK leaf's "
                f"issuer ({common_name(pck.leaf, issuer=True)})",
                reason=Reason.CRL_INVALID,
            ) from None
        raise
    raise_if_revoked(root_crl, pck.intermediate, what="PCK CA certificate")
    raise_if_revoked(pck_crl, pck.leaf, what="PCK certificate")
    return root_crl, pck_crl
