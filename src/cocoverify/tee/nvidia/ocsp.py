"""OCSP responses (RFC 6960) for the NVIDIA device chain, given offline as collateral.

NVIDIA's own verifier asks NVIDIA's OCSP service about each certificate of the device chain;
trustee's local verifier asks nothing (docs/nvidia.md "Revocation"). Offline, a response is a
collateral file (DER ``OCSPResponse``, recognised by content; carried as the collateral
document ``{"ocsp_response": <base64 DER>}``). A response applies to a chain certificate when
its CertID names it: serial number, and issuer key hash (and name hash) computed with the
CertID's hash algorithm over the next certificate of the chain (RFC 6960 §4.1.1). Every
applicable response must be

* ``successful`` (§4.2.1), signed over ``tbsResponseData`` (§4.2.1) by the issuer itself or
  by a delegated responder certificate that the issuer signed, that carries the
  id-kp-OCSPSigning extended key usage and is valid at the verification time (§4.2.2.2);
* current: ``thisUpdate <= at <= nextUpdate``; a response without ``nextUpdate`` is refused
  (fail closed: offline there is no "newer information is always available", §4.2.2.1).

Then ``good`` counts as checked, ``revoked`` is Revoked (exit 3), ``unknown`` is a collateral
error (exit 4). A nonce extension is recorded, never required (offline responses are
pre-produced). Responses naming no chain certificate are ignored (another device's).
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from cocoverify._core.x509 import PARSE_ERRORS, check_validity, signature_valid
from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, Reason, Revoked

__all__ = ["DOCUMENT_KEY", "OcspCheck", "check_ocsp", "ocsp_document", "ocsp_responses"]

#: the collateral document that carries one DER OCSPResponse (base64)
DOCUMENT_KEY = "ocsp_response"


@dataclass(frozen=True, slots=True)
class OcspCheck:
    """One certificate answered ``good`` by one response."""

    certificate: str
    responder: str
    this_update: _dt.datetime
    next_update: _dt.datetime
    nonce: bytes | None


def ocsp_document(der: bytes) -> dict[str, str]:
    """The collateral document for a DER OCSP response (for ``Collateral(documents=...)``)."""
    return {DOCUMENT_KEY: base64.b64encode(der).decode("ascii")}


def _invalid(message: str, reason: Reason = Reason.COLLATERAL_MALFORMED) -> CollateralInvalid:
    return CollateralInvalid(f"NVIDIA OCSP response: {message}", reason=reason)


def ocsp_responses(collateral: Collateral) -> list[tuple[int, ocsp.OCSPResponse]]:
    """Every OCSP response document of the collateral, parsed (number, response)."""
    out: list[tuple[int, ocsp.OCSPResponse]] = []
    for doc in collateral.documents:
        if not isinstance(doc, Mapping) or DOCUMENT_KEY not in doc:
            continue
        n = len(out)
        try:
            der = base64.b64decode(doc[DOCUMENT_KEY], validate=True)
            resp = ocsp.load_der_ocsp_response(der)
            _force(resp)
        except (binascii.Error, UnsupportedAlgorithm, *PARSE_ERRORS):
            raise _invalid(f"#{n} is not a DER OCSPResponse") from None
        out.append((n, resp))
    return out


def _force(resp: ocsp.OCSPResponse) -> None:
    """Read every field now: ``cryptography`` decodes lazily, and a damaged field must be a
    collateral error here, not an exception later."""
    if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
        return
    _ = (resp.responder_name, resp.responder_key_hash, resp.tbs_response_bytes, resp.signature)
    _ = (resp.signature_hash_algorithm, resp.produced_at_utc, list(resp.extensions))
    for cert in resp.certificates:
        _ = (cert.subject, cert.issuer, cert.public_key(), list(cert.extensions))
    for single in resp.responses:
        _ = (single.serial_number, single.issuer_key_hash, single.issuer_name_hash)
        _ = (single.hash_algorithm, single.certificate_status, single.this_update_utc)
        _ = (single.next_update_utc, single.revocation_time_utc)


def _key_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    """CertID issuerKeyHash: the hash of the issuer's subjectPublicKey BIT STRING value."""
    spki = issuer.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    h = hashes.Hash(algorithm)
    h.update(_bit_string(spki))
    return h.finalize()


def _bit_string(spki: bytes) -> bytes:
    """The subjectPublicKey bits of a DER SubjectPublicKeyInfo (skips the algorithm)."""

    def header(data: bytes, at: int) -> tuple[int, int]:
        size = data[at + 1]
        if size < 0x80:
            return at + 2, size
        n = size & 0x7F
        return at + 2 + n, int.from_bytes(data[at + 2 : at + 2 + n], "big")

    body, _ = header(spki, 0)  # SEQUENCE
    alg_body, alg_len = header(spki, body)  # AlgorithmIdentifier
    bits, bits_len = header(spki, alg_body + alg_len)  # BIT STRING
    return spki[bits + 1 : bits + bits_len]  # without the unused-bits byte


def _names_hash(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(issuer.subject.public_bytes())
    return h.finalize()


def _about(
    single: ocsp.OCSPSingleResponse, cert: x509.Certificate, issuer: x509.Certificate
) -> bool:
    if single.serial_number != cert.serial_number:
        return False
    alg = single.hash_algorithm
    return hmac.compare_digest(single.issuer_key_hash, _key_hash(issuer, alg)) and (
        hmac.compare_digest(single.issuer_name_hash, _names_hash(issuer, alg))
    )


def _signed_by(resp: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    key = signer.public_key()
    alg = resp.signature_hash_algorithm
    if alg is None:
        return False
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(alg))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(resp.signature, resp.tbs_response_bytes, padding.PKCS1v15(), alg)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _names_responder(resp: ocsp.OCSPResponse, cert: x509.Certificate) -> bool:
    if resp.responder_name is not None:
        return resp.responder_name == cert.subject
    key_hash = resp.responder_key_hash
    return key_hash is not None and hmac.compare_digest(key_hash, _key_hash(cert, hashes.SHA1()))


def _responder(
    resp: ocsp.OCSPResponse, issuer: x509.Certificate, at: _dt.datetime, where: str
) -> str:
    """Who signed the response: the issuer, or a delegated responder it certified."""
    if _names_responder(resp, issuer):
        if not _signed_by(resp, issuer):
            raise _invalid(f"{where}: the signature does not verify with the issuer's key",
                           Reason.COLLATERAL_SIGNATURE_INVALID)  # fmt: skip
        return issuer.subject.rfc4514_string()
    for cert in resp.certificates:
        if not _names_responder(resp, cert):
            continue
        if not signature_valid(cert, issuer):
            raise _invalid(f"{where}: the responder certificate is not signed by the issuer",
                           Reason.COLLATERAL_CHAIN_INVALID)  # fmt: skip
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            eku = x509.ExtendedKeyUsage([])
        if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
            raise _invalid(f"{where}: the responder certificate lacks id-kp-OCSPSigning",
                           Reason.COLLATERAL_CHAIN_INVALID)  # fmt: skip
        check_validity(cert, at, what=f"{where} responder certificate", collateral=True)
        if not _signed_by(resp, cert):
            raise _invalid(f"{where}: the signature does not verify with the responder's key",
                           Reason.COLLATERAL_SIGNATURE_INVALID)  # fmt: skip
        return cert.subject.rfc4514_string()
    raise _invalid(f"{where}: signed neither by the issuer nor by a responder it certified",
                   Reason.COLLATERAL_SIGNATURE_INVALID)  # fmt: skip


def _nonce(resp: ocsp.OCSPResponse) -> bytes | None:
    try:
        return resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None


def check_ocsp(
    chain: Sequence[x509.Certificate],
    responses: Iterable[tuple[int, ocsp.OCSPResponse]],
    names: Sequence[str],
    *,
    at: _dt.datetime,
) -> list[OcspCheck]:
    """Apply every response that names a certificate of ``chain`` (the root excluded);
    returns one record per certificate answered ``good``."""
    out: list[OcspCheck] = []
    for n, resp in responses:
        where = f"#{n}"
        if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
            # unsuccessful responses name no certificate: they answer nothing (§4.2.1)
            raise _invalid(f"{where}: status {resp.response_status.name.lower()}")
        for single in resp.responses:
            for i in range(len(chain) - 1):
                cert, issuer = chain[i], chain[i + 1]
                if _about(single, cert, issuer):
                    out.append(_apply(resp, single, issuer, names[i], f"{where} ({names[i]})", at))
    return out


def _apply(
    resp: ocsp.OCSPResponse,
    single: ocsp.OCSPSingleResponse,
    issuer: x509.Certificate,
    name: str,
    where: str,
    at: _dt.datetime,
) -> OcspCheck:
    responder = _responder(resp, issuer, at, where)
    this, nxt = single.this_update_utc, single.next_update_utc
    if at < this:
        raise _invalid(f"{where}: thisUpdate {this.isoformat()} is after {at.isoformat()}",
                       Reason.COLLATERAL_NOT_YET_VALID)  # fmt: skip
    if nxt is None:
        raise _invalid(f"{where}: no nextUpdate (cannot tell whether it is current)",
                       Reason.COLLATERAL_EXPIRED)  # fmt: skip
    if at > nxt:
        raise _invalid(f"{where}: stale, nextUpdate {nxt.isoformat()} is before {at.isoformat()}",
                       Reason.COLLATERAL_EXPIRED)  # fmt: skip
    status = single.certificate_status
    if status is ocsp.OCSPCertStatus.REVOKED:
        when = single.revocation_time_utc
        raise Revoked(
            f"{name} is revoked (OCSP {where}, since {when.isoformat() if when else '?'})",
            reason=Reason.CERTIFICATE_REVOKED,
        )
    if status is not ocsp.OCSPCertStatus.GOOD:
        raise _invalid(f"{where}: the responder does not know {name} (status unknown)",
                       Reason.COLLATERAL_MISMATCH)  # fmt: skip
    return OcspCheck(name, responder, this, nxt, _nonce(resp))
