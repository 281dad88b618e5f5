"""AWS Nitro Enclaves: the certificate chain to the pinned AWS root and the COSE signature.

NSM attestation_process §3.2.3-3.2.4: the path is ``certificate <- cabundle[n-1] <- ... <-
cabundle[0]``, where ``cabundle[0]`` is the root (§3.2.3). The root must be a pinned
AWS Nitro Enclaves root (a look-alike with the same subject is not); each link is an
ECDSA-SHA384 signature by the next certificate; CA certificates carry a critical
basicConstraints with CA=true, keyCertSign, and a pathLenConstraint (when present) that
the path honours; the leaf has digitalSignature and a P-384 key; every certificate, the root
included, is valid at the verification time (§3.2.3.1). There is no CRL (§3.2.4). The
document signature is ES384 over ``Sig_structure`` with the leaf key (RFC 9052 §4.4,
RFC 9053 §2.1), checked by the backend's ``ecdsa_verify``.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Sequence
from importlib import resources
from typing import TypeVar

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import SignatureAlgorithmOID

from cocoverify._backend import ecdsa_verify
from cocoverify._core.x509 import PARSE_ERRORS, check_validity, fingerprint, force_parse, signed_by
from cocoverify.errors import ChainInvalid, MalformedEvidence, Reason, SignatureInvalid
from cocoverify.tee.nitro.parse import NitroDocument
from cocoverify.trust import TrustStore

__all__ = ["aws_root", "load_chain", "verify_chain", "verify_signature"]

_ROOT_FILE = "aws_nitro_enclaves_root_g1.der"
_E = TypeVar("_E", bound=x509.ExtensionType)


@functools.cache
def aws_root() -> x509.Certificate:
    """The bundled AWS Nitro Enclaves Root-G1 (its fingerprint is pinned in ``trust``)."""
    der = resources.files("cocoverify.tee.nitro").joinpath("_data", _ROOT_FILE).read_bytes()
    return x509.load_der_x509_certificate(der)


@functools.lru_cache(maxsize=256)
def _certificate(der: bytes) -> x509.Certificate:
    """A certificate, every field decoded now; cached by its DER (256 entries, about 1 KB each:
    the roots and intermediates repeat across documents, leaves do not)."""
    cert = x509.load_der_x509_certificate(der)
    force_parse(cert)
    return cert


def load_chain(leaf: bytes, cabundle: Sequence[bytes]) -> tuple[x509.Certificate, ...]:
    """``(leaf, cabundle[n-1], ..., cabundle[0])``: the path leaf first, root last."""
    named = [("certificate", leaf)]
    named += [(f"cabundle[{i}]", der) for i, der in reversed(list(enumerate(cabundle)))]
    out = []
    for name, der in named:
        try:
            out.append(_certificate(der))
        except PARSE_ERRORS as exc:
            raise MalformedEvidence(
                f"not a DER certificate ({exc})",
                field=f"payload.{name}",
                reason=Reason.MALFORMED_CERTIFICATE,
            ) from None
    return tuple(out)


def _names(count: int) -> list[str]:
    """Labels for the path positions (leaf first): certificate, cabundle[n-1], ..., [0]."""
    return ["certificate", *(f"cabundle[{i}]" for i in range(count - 2, -1, -1))]


def _ext(cert: x509.Certificate, cls: type[_E]) -> x509.Extension[_E] | None:
    try:
        return cert.extensions.get_extension_for_class(cls)
    except x509.ExtensionNotFound:
        return None


@functools.lru_cache(maxsize=512)
def _profile_defect(cert: x509.Certificate, below: int | None) -> str | None:
    """What breaks NSM §3.2.3.2-3.2.3.3 for one certificate, or None. ``below`` = CA
    certificates under a CA in this path, None for the leaf. A pure function of the
    certificate (compared by DER) and its position, so memoised (512 entries)."""
    if cert.signature_algorithm_oid != SignatureAlgorithmOID.ECDSA_WITH_SHA384:
        return (
            f"signature algorithm {cert.signature_algorithm_oid.dotted_string}, "
            "expected ecdsa-with-SHA384"
        )
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        return "key is not EC P-384"
    for ext in cert.extensions:
        if ext.critical and isinstance(ext.value, x509.UnrecognizedExtension):
            return f"unrecognised critical extension {ext.oid.dotted_string}"
    bc = _ext(cert, x509.BasicConstraints)
    ku = _ext(cert, x509.KeyUsage)
    if below is None:
        if bc is not None and bc.value.ca:
            return "the signing certificate is a CA certificate"
        if ku is None or not ku.value.digital_signature:
            return "keyUsage lacks digitalSignature"
        return None
    if bc is None or not bc.critical or not bc.value.ca:
        return "not a CA certificate (critical basicConstraints CA=true)"
    if bc.value.path_length is not None and bc.value.path_length < below:
        return f"pathLenConstraint {bc.value.path_length}, but {below} CA certificate(s) follow"
    if ku is None or not ku.value.key_cert_sign:
        return "keyUsage lacks keyCertSign"
    return None


def verify_chain(
    chain: Sequence[x509.Certificate], *, trust: TrustStore, at: _dt.datetime
) -> x509.Certificate:
    """Steps 4-6 of docs/nitro.md on ``chain`` (leaf first, root last); returns the leaf.

    4. the root (``cabundle[0]``) is pinned by fingerprint: a look-alike root is untrusted;
    5. every link signed by the next certificate, the root self-signed, profiles as above;
    6. every certificate valid at ``at``.
    """
    names = _names(len(chain))
    root = chain[-1]
    if not trust.is_nitro_root(root):
        raise ChainInvalid(
            f"cabundle[0] is not a pinned AWS Nitro Enclaves root (sha256 {fingerprint(root)}, "
            f"subject {root.subject.rfc4514_string()})",
            reason=Reason.UNTRUSTED_ROOT,
        )
    if not signed_by(root, root):
        raise ChainInvalid("cabundle[0] is not self-signed", reason=Reason.CHAIN_INVALID)
    for i in range(len(chain) - 1):
        if not signed_by(chain[i], chain[i + 1]):
            raise ChainInvalid(
                f"{names[i]} is not signed by {names[i + 1]}", reason=Reason.CHAIN_INVALID
            )
    for i, cert in enumerate(chain):
        defect = _profile_defect(cert, None if i == 0 else i - 1)
        if defect is not None:
            raise ChainInvalid(f"{names[i]}: {defect}", reason=Reason.CERTIFICATE_PROFILE_INVALID)
    for i, cert in enumerate(chain):
        check_validity(cert, at, what=names[i])
    return chain[0]


def verify_signature(document: NitroDocument, leaf: x509.Certificate) -> None:
    """Step 7: ES384 over Sig_structure with the leaf key (raw r || s)."""
    key = leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)  # checked by the profile (step 5)
    point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]
    if not ecdsa_verify(point, document.to_be_signed(), document.signature):
        raise SignatureInvalid(
            "COSE_Sign1 signature does not verify with the document's certificate",
            reason=Reason.SIGNATURE_INVALID,
        )
