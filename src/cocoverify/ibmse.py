"""IBM Secure Execution, both steps: make the attestation request, verify the response.

The protocol of Confidential Containers' trustee ``se`` verifier (docs/ibmse.md):

1. :func:`make_request` verifies the host-key documents of the IBM Z machines the guest may
   run on (IBM's signing chain to the pinned root, CRLs, at a given time), builds an ARCB
   that only those machines' Ultravisors can open, and returns trustee's challenge JSON plus
   the request's secret (measurement key and nonce).
2. The guest asks its Ultravisor to answer the ARCB and returns trustee's response JSON.
3. :func:`verify_response` (or :func:`cocoverify.verify` with the secret in the collateral)
   recomputes the HMAC-SHA512 measurement with the secret and returns the result.

Keep the secret (``request.secret``; ``to_json()`` for storage) and give it back, or give
the challenge a ``wrap_key`` (an RSA public key) and keep only its private key, as trustee
does: see :mod:`cocoverify.tee.ibmse.secret` for what the second mode costs.

This module sits above :mod:`cocoverify.api`; the checks themselves are in
``cocoverify.tee.ibmse``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cocoverify._core.x509 import PARSE_ERRORS, load_certificates
from cocoverify.api import as_time, verify
from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, ConfigurationError, MalformedEvidence, Reason
from cocoverify.policy import Policy
from cocoverify.result import VerificationResult
from cocoverify.tee.ibmse.hkd import verify_host_key_document, verify_signing_chain
from cocoverify.tee.ibmse.parse import BootHdrTags, boot_hdr_tags_from_header
from cocoverify.tee.ibmse.request import ArcbParts, SeRequest, host_key_hash, new_request
from cocoverify.tee.ibmse.secret import RequestSecret, UnwrapKey
from cocoverify.trust import TrustStore

__all__ = [
    "BootHdrTags",
    "RequestSecret",
    "SeRequest",
    "UnwrapKey",
    "host_key_hash",
    "load_crls",
    "make_request",
    "secret_collateral",
    "verify_response",
]

CertLike = bytes | x509.Certificate
CrlLike = bytes | x509.CertificateRevocationList


def _certs(items: Iterable[CertLike], what: str) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for item in items:
        if isinstance(item, x509.Certificate):
            out.append(item)
            continue
        try:
            out.extend(load_certificates(item, what=what))
        except MalformedEvidence as exc:  # a collateral file here, not evidence
            raise CollateralInvalid(f"{what}: {exc}", reason=Reason.COLLATERAL_MALFORMED) from None
    return out


def load_crls(items: Iterable[CrlLike]) -> list[x509.CertificateRevocationList]:
    """CRLs given as objects, PEM (one or more) or DER."""
    out: list[x509.CertificateRevocationList] = []
    for item in items:
        if isinstance(item, x509.CertificateRevocationList):
            out.append(item)
            continue
        try:
            if b"-----BEGIN X509 CRL-----" in item:
                blocks = item.split(b"-----END X509 CRL-----")[:-1]
                out.extend(x509.load_pem_x509_crl(b + b"-----END X509 CRL-----") for b in blocks)
            else:
                out.append(x509.load_der_x509_crl(item))
        except PARSE_ERRORS as exc:
            raise CollateralInvalid(
                f"not a CRL ({exc})", reason=Reason.COLLATERAL_MALFORMED
            ) from None
    return out


def make_request(
    host_key_documents: Iterable[CertLike],
    *,
    se_header: bytes | None = None,
    image_hdr_tags: bytes | BootHdrTags | None = None,
    certificates: Iterable[CertLike] = (),
    crls: Iterable[CrlLike] = (),
    trust: TrustStore | None = None,
    at: _dt.datetime | str | None = None,
    wrap_key: rsa.RSAPublicKey | None = None,
    unsafe_skip_hkd_verification: bool = False,
    _parts: ArcbParts | None = None,
) -> SeRequest:
    """An attestation request for the machines of ``host_key_documents``.

    ``certificates``: IBM's host-key signing certificate and the intermediate(s) (the root,
    DigiCert Trusted Root G4, is bundled and pinned; give it to pin another through
    ``trust``). ``crls``: for every certificate of that chain and for the host-key documents.
    ``se_header`` (``hdr.bin``) or ``image_hdr_tags`` (208 bytes): the image the guest boots.
    ``at``: the verification time of the host-key documents (default now).
    ``unsafe_skip_hkd_verification``: trustee's ``SE_SKIP_CERTS_VERIFICATION``.
    Raises CollateralInvalid (exit 4) naming the first failing check.
    """
    if (se_header is None) == (image_hdr_tags is None):
        raise ConfigurationError(
            "give the SE header or the image header tags (one of them)",
            reason=Reason.INVALID_ARGUMENT,
        )
    if se_header is not None:
        tags = boot_hdr_tags_from_header(se_header)
    elif isinstance(image_hdr_tags, BootHdrTags):
        tags = image_hdr_tags
    else:
        assert image_hdr_tags is not None
        tags = BootHdrTags.from_bytes(image_hdr_tags)
    hkds = _certs(host_key_documents, "host-key document")
    if not hkds:
        raise ConfigurationError("no host-key document", reason=Reason.INVALID_ARGUMENT)
    when = as_time(at)
    keys: list[ec.EllipticCurvePublicKey] = []
    if unsafe_skip_hkd_verification:
        for hkd in hkds:
            key = hkd.public_key()
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise CollateralInvalid(
                    "host-key document: not an EC key", reason=Reason.UNSUPPORTED_KEY_TYPE
                )
            keys.append(key)
    else:
        crl_list = load_crls(crls)
        signing = verify_signing_chain(
            _certs(certificates, "IBM certificate"),
            crl_list,
            trust=trust or TrustStore.default(),
            at=when,
        )
        keys = [verify_host_key_document(h, signing, crl_list, at=when) for h in hkds]
    return new_request(keys, tags, wrap_key=wrap_key, parts=_parts)


def secret_collateral(
    secret: RequestSecret | Iterable[RequestSecret] | None = None,
    unwrap_key: rsa.RSAPrivateKey | None = None,
) -> Collateral:
    """Collateral carrying kept secrets and/or the RSA key that unwraps trustee-style ones."""
    docs: list[Any] = []
    if isinstance(secret, RequestSecret):
        docs.append(secret)
    elif secret is not None:
        docs.extend(secret)
    if unwrap_key is not None:
        docs.append(UnwrapKey(unwrap_key))
    return Collateral(documents=tuple(docs), sources=("ibmse request secret",))


def verify_response(
    response: bytes | str,
    *,
    secret: RequestSecret | Iterable[RequestSecret] | None = None,
    unwrap_key: rsa.RSAPrivateKey | None = None,
    expected_report_data: bytes | str | None = None,
    policy: Policy | None = None,
    at: _dt.datetime | str | None = None,
) -> VerificationResult:
    """:func:`cocoverify.verify` of a response with its request's secret."""
    return verify(
        response,
        collateral=secret_collateral(secret, unwrap_key),
        expected_report_data=expected_report_data,
        policy=policy,
        at=at,
    )
