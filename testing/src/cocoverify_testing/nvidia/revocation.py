"""TEST ONLY. OCSP responses (RFC 6960) and RIM files for the fake NVIDIA PKI.

``ocsp_response`` answers for one certificate of a :class:`FakeNvidiaPki` chain, signed by its
issuer or by a delegated responder that the issuer certified (id-kp-OCSPSigning). ECDSA
signatures are deterministic (RFC 6979) so that generated vectors are reproducible: the
response is built by ``cryptography`` and re-signed here. ``build_rim`` writes a SWID
``SoftwareIdentity`` RIM in NVIDIA's layout with the given measurements (with an XML-DSig
``Signature`` element that carries no valid signature: cocoverify does not verify it).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from cocoverify_testing.der import der_enum, der_octets, der_oid, der_seq, tlv
from cocoverify_testing.nvidia.pki import NOW, FakeNvidiaPki
from cocoverify_testing.pki import LEAF_KEY_USAGE, CertSpec, ec_key, issue, name, serial_from_label

__all__ = [
    "OCSP_STATUSES",
    "build_rim",
    "ocsp_response",
    "responder_certificate",
    "unsuccessful_response",
]

OCSP_STATUSES = {
    "good": ocsp.OCSPCertStatus.GOOD,
    "revoked": ocsp.OCSPCertStatus.REVOKED,
    "unknown": ocsp.OCSPCertStatus.UNKNOWN,
}
_ISSUER = {"leaf": "brom", "brom": "ica", "ica": "identity", "identity": "root"}
_BASIC = "1.3.6.1.5.5.7.48.1.1"  # id-pkix-ocsp-basic
_ECDSA_SHA384 = "1.2.840.10045.4.3.3"


def responder_certificate(
    pki: FakeNvidiaPki,
    issuer: str,
    *,
    ocsp_signing: bool = True,
    not_after: _dt.datetime | None = None,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A delegated OCSP responder certified by ``issuer`` (role), and its key."""
    key = ec_key(f"nvidia-{pki.label}-{issuer}-ocsp", "P-384")
    eku = (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]),) if ocsp_signing else ()
    spec = CertSpec(
        subject=name(CN=f"Fake NVIDIA OCSP Responder ({issuer})", O="NVIDIA"),
        public_key=key.public_key(),
        serial=serial_from_label(f"nvidia-{pki.label}-{issuer}-ocsp"),
        not_before=NOW - _dt.timedelta(days=30),
        not_after=not_after or NOW + _dt.timedelta(days=365),
        key_usage=LEAF_KEY_USAGE,
        extensions=eku,
    )
    return issue(spec, issuer=pki.subject(issuer), issuer_key=pki.key(issuer)), key


def ocsp_response(
    pki: FakeNvidiaPki,
    role: str = "brom",
    status: str = "good",
    *,
    delegated: bool = False,
    signer: ec.EllipticCurvePrivateKey | None = None,
    responder: x509.Certificate | None = None,
    this_update: _dt.datetime | None = None,
    next_update: _dt.datetime | None = None,
    omit_next_update: bool = False,
    nonce: bytes | None = None,
    forged_by: ec.EllipticCurvePrivateKey | None = None,
) -> bytes:
    """DER OCSPResponse about ``role``'s certificate; defaults: good, signed by the issuer,
    thisUpdate a day before :data:`NOW`, nextUpdate a week after. ``forged_by`` signs it with
    another key than the responder's."""
    issuer = _ISSUER[role]
    cert, issuer_cert = pki.certificates[role], pki.certificates[issuer]
    this = this_update or NOW - _dt.timedelta(days=1)
    nxt = None if omit_next_update else (next_update or NOW + _dt.timedelta(days=7))
    revoked = status == "revoked"
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=cert,
        issuer=issuer_cert,
        algorithm=hashes.SHA1(),
        cert_status=OCSP_STATUSES[status],
        this_update=this,
        next_update=nxt,
        revocation_time=this - _dt.timedelta(days=10) if revoked else None,
        revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
    )
    certs: list[x509.Certificate] = []
    if delegated or responder is not None:
        if responder is None:
            responder, key = responder_certificate(pki, issuer)
            signer = signer or key
        certs = [responder]
        b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, responder).certificates(certs)
        assert signer is not None, "a given responder needs its signer key"
    else:
        b = b.responder_id(ocsp.OCSPResponderEncoding.NAME, issuer_cert)
        signer = signer or pki.key(issuer)
    if nonce is not None:
        b = b.add_extension(x509.OCSPNonce(nonce), critical=False)
    built = b.sign(signer, hashes.SHA384())
    return _resign(built, forged_by or signer, certs, produced_at=this)


def _resign(
    built: ocsp.OCSPResponse,
    key: ec.EllipticCurvePrivateKey,
    certs: Sequence[x509.Certificate],
    *,
    produced_at: _dt.datetime,
) -> bytes:
    """The same response with ``producedAt`` fixed (the builder writes the wall clock) and a
    deterministic ECDSA signature (RFC 6960 §4.2.1 layout)."""
    fmt = "%Y%m%d%H%M%SZ"
    now = b"\x18\x0f" + built.produced_at_utc.strftime(fmt).encode()
    fixed = b"\x18\x0f" + produced_at.strftime(fmt).encode()
    tbs = built.tbs_response_bytes.replace(now, fixed, 1)
    sig = key.sign(tbs, ec.ECDSA(hashes.SHA384(), deterministic_signing=True))
    parts = [tbs, der_seq(der_oid(_ECDSA_SHA384)), tlv(0x03, b"\x00" + sig)]
    if certs:
        parts.append(tlv(0xA0, der_seq(*(c.public_bytes(Encoding.DER) for c in certs))))
    basic = der_seq(*parts)
    return der_seq(der_enum(0), tlv(0xA0, der_seq(der_oid(_BASIC), der_octets(basic))))


def unsuccessful_response() -> bytes:
    """``tryLater`` (status 3): no response bytes."""
    return ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.TRY_LATER
    ).public_bytes(Encoding.DER)


_NS = (
    'xmlns="http://standards.iso.org/iso/19770/-2/2015/schema.xsd" '
    'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
    'xmlns:SHA384="http://www.w3.org/2001/04/xmldsig-more#sha384"'
)


def build_rim(
    version: str,
    measurements: Mapping[int, Sequence[bytes]],
    *,
    inactive: Sequence[int] = (),
    tag_id: str = "FAKE_NVIDIA_RIM",
    name: str = "GH100",
) -> bytes:
    """A RIM whose ``Payload`` lists ``measurements`` (RIM index -> alternatives)."""
    rows = []
    for index in sorted(measurements):
        values = measurements[index]
        hashes_ = " ".join(f'SHA384:Hash{i}="{v.hex()}"' for i, v in enumerate(values))
        active = "False" if index in inactive else "True"
        rows.append(
            f'    <Resource type="Measurement" index="{index}" active="{active}" '
            f'alternatives="{len(values)}" name="Measurement_{index}" size="48" {hashes_}/>'
        )
    body = "\n".join(rows)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<SoftwareIdentity {_NS} '
        f"name={quoteattr(name)} tagId={quoteattr(tag_id)} version={quoteattr(version)} "
        f'corpus="true">\n  <Meta product={quoteattr(name)}/>\n'
        f'  <Entity name="NVIDIA (TEST ONLY)" regid="nvidia.com" role="softwareCreator"/>\n'
        f"  <Payload>\n{body}\n  </Payload>\n"
        f"  <ds:Signature><ds:SignatureValue>not a signature</ds:SignatureValue></ds:Signature>\n"
        f"</SoftwareIdentity>\n"
    ).encode()
