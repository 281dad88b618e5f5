"""NVIDIA GPU reports: the device certificate chain, revocation, FWID and the report signature.

The chain is given leaf first, root last (trustee ``cert_chain.rs``): the last certificate
must be a pinned NVIDIA device root (by SHA-256 fingerprint; trustee compares SHA-1), every
link is signed by the next one with matching names, every certificate is valid at the
verification time. The leaf carries the TCG DICE TcbInfo extension (2.23.133.5.4.1), whose
last 48 bytes are the FWID the report's opaque data must repeat. The report signature is
ECDSA P-384 / SHA-384 over every byte before it, with the leaf key (trustee ``report.rs``;
DSP0274 §10.11), checked by the backend's ``ecdsa_verify``. CRLs given as collateral are
applied to every non-root certificate (OCSP responses: :mod:`.ocsp`); without either,
nothing is checked for revocation.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hmac
from collections.abc import Iterable, Sequence
from importlib import resources

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cocoverify._backend import ecdsa_verify
from cocoverify._core.x509 import (
    check_crl,
    fingerprint,
    force_parse,
    load_certificates,
    raise_if_revoked,
    verify_chain,
)
from cocoverify.errors import (
    ChainInvalid,
    MalformedEvidence,
    Reason,
    SignatureInvalid,
)
from cocoverify.tee.nvidia.parse import OPAQUE_FWID, SpdmReport
from cocoverify.trust import TrustStore

__all__ = [
    "FWID_OID",
    "chain_names",
    "device_root",
    "leaf_fwid",
    "load_chain",
    "verify_device_chain",
    "verify_fwid",
    "verify_revocation",
    "verify_signature",
]

_ROOT_FILE = "nvidia_device_root.der"
#: TCG DICE TcbInfo (TCG DICE Attestation Architecture §6.1.1)
FWID_OID = x509.ObjectIdentifier("2.23.133.5.4.1")
FWID_SIZE = 48


@functools.cache
def device_root() -> x509.Certificate:
    """The bundled NVIDIA Device Identity CA (its fingerprint is pinned in ``trust``)."""
    der = resources.files("cocoverify.tee.nvidia").joinpath("_data", _ROOT_FILE).read_bytes()
    return x509.load_der_x509_certificate(der)


@functools.lru_cache(maxsize=256)
def _chain_from_text(data: bytes) -> tuple[x509.Certificate, ...]:
    """PEM (or DER) certificates, every field decoded; cached by content (256 chains of
    about 5 KB: devices repeat across reports)."""
    certs = tuple(load_certificates(data, what="nvidia certificate chain"))
    for cert in certs:
        force_parse(cert)
    return certs


def load_chain(data: bytes) -> tuple[x509.Certificate, ...]:
    """The chain from its PEM text (leaf first); MalformedEvidence if it holds none."""
    chain = _chain_from_text(bytes(data))
    if not chain:
        raise MalformedEvidence(
            "nvidia certificate chain: no certificate",
            field="certificate",
            reason=Reason.MALFORMED_CERTIFICATE,
        )
    return chain


def chain_names(count: int) -> list[str]:
    """How errors and records name the chain's certificates, leaf first."""
    return ["device certificate", *(f"chain[{i}]" for i in range(1, count - 1)), "root"]


def leaf_fwid(leaf: x509.Certificate) -> bytes:
    """The last 48 bytes of the leaf's TcbInfo extension (trustee ``cert_chain.rs``)."""
    try:
        ext = leaf.extensions.get_extension_for_oid(FWID_OID)
    except x509.ExtensionNotFound:
        raise ChainInvalid(
            "the device certificate has no FWID (TcbInfo 2.23.133.5.4.1) extension",
            reason=Reason.CERTIFICATE_PROFILE_INVALID,
        ) from None
    value = ext.value
    raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
    if len(raw) < FWID_SIZE:
        raise ChainInvalid(
            f"the device certificate's TcbInfo extension has {len(raw)} bytes, under 48",
            reason=Reason.CERTIFICATE_PROFILE_INVALID,
        )
    return raw[-FWID_SIZE:]


def verify_device_chain(
    chain: Sequence[x509.Certificate], *, trust: TrustStore, at: _dt.datetime
) -> x509.Certificate:
    """Steps 2-4 of docs/nvidia.md; returns the leaf.

    2. at least the device certificate and the root; the root pinned by fingerprint;
    3. every link signed by the next certificate (names match), valid at ``at``;
    4. the leaf carries an FWID.
    """
    if len(chain) < 2:
        raise ChainInvalid(
            f"the certificate chain has {len(chain)} certificate(s); it needs at least the "
            "device certificate and the root",
            reason=Reason.CHAIN_INVALID,
        )
    verify_chain(
        chain,
        pinned=trust.nvidia_roots,
        at=at,
        names=chain_names(len(chain)),
        require_ca_flags=False,
    )
    key = chain[0].public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise ChainInvalid(
            "the device certificate's key is not EC P-384",
            reason=Reason.CERTIFICATE_PROFILE_INVALID,
        )
    leaf_fwid(chain[0])
    return chain[0]


def verify_revocation(
    chain: Sequence[x509.Certificate],
    crls: Iterable[x509.CertificateRevocationList],
    *,
    at: _dt.datetime,
) -> list[str]:
    """Step 5: each CRL whose issuer is a chain certificate must be signed by it and current
    at ``at``; a listed serial is a rejection. Returns the certificate checked by each CRL
    that applied (one name per CRL)."""
    names = chain_names(len(chain))
    checked = []
    for crl in crls:
        for i in range(1, len(chain)):
            issuer = chain[i]
            if crl.issuer != issuer.subject:
                continue
            check_crl(crl, issuer, at, what=f"CRL of {names[i]}")
            raise_if_revoked(crl, chain[i - 1], what=names[i - 1])
            checked.append(names[i - 1])
    return checked


def verify_signature(report: SpdmReport, leaf: x509.Certificate) -> None:
    """Step 6: ECDSA P-384 / SHA-384 over request || response without the signature."""
    key = leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)  # checked in step 3
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]
    if not ecdsa_verify(point, report.signed, report.response.signature):
        raise SignatureInvalid(
            "the report signature does not verify with the device certificate",
            reason=Reason.SIGNATURE_INVALID,
        )


def verify_fwid(report: SpdmReport, leaf: x509.Certificate) -> bytes:
    """Step 7: the report's FWID (opaque type 20) equals the device certificate's."""
    cert_fwid = leaf_fwid(leaf)
    reported = report.opaque_value(OPAQUE_FWID)
    if reported is None or not hmac.compare_digest(reported, cert_fwid):
        shown = "absent" if reported is None else reported.hex()
        raise ChainInvalid(
            f"FWID mismatch: device certificate {cert_fwid.hex()}, report {shown}",
            reason=Reason.BINDING_INVALID,
        )
    return cert_fwid


def root_fingerprint(chain: Sequence[x509.Certificate]) -> str:
    """SHA-256 of the chain's root (for the appraisal's collateral record)."""
    return fingerprint(chain[-1])
