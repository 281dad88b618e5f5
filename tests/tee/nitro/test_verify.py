"""AWS Nitro chain and signature (NSM attestation_process §3.2.3-3.2.4, RFC 9052 §4.4):
one defect per case, built on the fake PKI."""

from __future__ import annotations

import datetime as _dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ObjectIdentifier

import cocoverify
from cocoverify import AuthenticityError, Reason, TrustStore
from cocoverify.tee.nitro.parse import parse_document
from cocoverify_testing.nitro import NOW, FakeNitroPki, NitroDocumentBuilder, mutate
from cocoverify_testing.pki import CA_KEY_USAGE, LEAF_KEY_USAGE, ec_key, issue

AT = "2026-01-01T00:00:00Z"
PKI = FakeNitroPki()
TRUST = PKI.trust()
B = NitroDocumentBuilder(pki=PKI)
GOOD = B.build()


def _verify(data: bytes, *, trust: TrustStore = TRUST, at: str = AT) -> Reason:
    with pytest.raises(AuthenticityError) as err:
        cocoverify.verify(data, at=at, trust=trust)
    return err.value.reason


def test_good() -> None:
    result = cocoverify.verify(GOOD, at=AT, trust=TRUST)
    assert result.accepted
    assert result.collateral["cabundle_length"] == 4


def test_default_trust_does_not_pin_the_fake_root() -> None:
    assert _verify(GOOD, trust=TrustStore.default()) is Reason.UNTRUSTED_ROOT


def test_lookalike_root_with_the_same_names() -> None:
    lookalike = FakeNitroPki(label="lookalike")
    assert lookalike.root().subject == PKI.root().subject
    data = B.with_pki(lookalike).build()
    assert _verify(data) is Reason.UNTRUSTED_ROOT
    # a chain whose cabundle[0] is the pinned root but whose next link is signed by another key
    forged = FakeNitroPki(signer={"regional": "zonal"})
    assert _verify(B.with_pki(forged).build()) is Reason.CHAIN_INVALID


def test_trust_root_pins_exactly_what_is_given() -> None:
    only = TrustStore.from_root_certificates([PKI.root()])
    assert only.nitro_roots == TRUST.nitro_roots and not only.intel_roots
    assert cocoverify.verify(GOOD, at=AT, trust=only).accepted


CRIT = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
PROFILE_DEFECTS: dict[str, FakeNitroPki] = {
    "CA without keyCertSign": PKI.with_("zonal", key_usage=LEAF_KEY_USAGE),
    "CA flag off on an intermediate": PKI.with_("instance", ca=False, path_length=None),
    "pathLen too small": PKI.with_("regional", path_length=1),
    "leaf is a CA": PKI.with_("leaf", ca=True),
    "leaf without digitalSignature": PKI.with_("leaf", key_usage=CA_KEY_USAGE),
    "leaf without keyUsage": PKI.with_("leaf", key_usage=None),
    "leaf P-256 key": PKI.with_("leaf", public_key=ec_key("nitro-p256", "P-256").public_key()),
    "intermediate SHA-256 signature": PKI.with_("zonal", hash_alg=hashes.SHA256()),
    "root SHA-512 signature": PKI.with_("root", hash_alg=hashes.SHA512()),
}


@pytest.mark.parametrize("defect", sorted(PROFILE_DEFECTS))
def test_certificate_profile(defect: str) -> None:
    pki = PROFILE_DEFECTS[defect]
    data = B.with_pki(pki).build()
    assert _verify(data, trust=pki.trust()) is Reason.CERTIFICATE_PROFILE_INVALID


def test_unrecognised_critical_extension() -> None:
    chain = PKI.chain()
    leaf_spec = PKI._spec("leaf")
    leaf = issue(leaf_spec, issuer=chain.cabundle[-1].subject, issuer_key=PKI.key("instance"))
    builder = x509.CertificateBuilder(
        issuer_name=leaf.issuer,
        subject_name=leaf.subject,
        public_key=leaf.public_key(),
        serial_number=leaf.serial_number,
        not_valid_before=leaf.not_valid_before_utc,
        not_valid_after=leaf.not_valid_after_utc,
        extensions=[*leaf.extensions, x509.Extension(CRIT.oid, True, CRIT)],
    )
    signed = builder.sign(PKI.key("instance"), hashes.SHA384())
    data = B.with_fields(certificate=signed.public_bytes(Encoding.DER)).build()
    # the builder signs with the leaf key of the PKI, which this certificate carries too
    assert _verify(data) is Reason.CERTIFICATE_PROFILE_INVALID


@pytest.mark.parametrize("role", ["root", "regional", "zonal", "instance", "leaf"])
def test_every_certificate_must_be_valid_at_the_time(role: str) -> None:
    expired = PKI.with_(role, not_after=NOW - _dt.timedelta(seconds=1))
    assert _verify(B.with_pki(expired).build(), trust=expired.trust()) is (
        Reason.CERTIFICATE_EXPIRED
    )
    future = PKI.with_(role, not_before=NOW + _dt.timedelta(seconds=1))
    assert _verify(B.with_pki(future).build(), trust=future.trust()) is (
        Reason.CERTIFICATE_NOT_YET_VALID
    )


def test_validity_bounds_are_inclusive() -> None:
    leaf = PKI.chain().leaf
    assert cocoverify.verify(GOOD, at=leaf.not_valid_after_utc, trust=TRUST).accepted
    assert cocoverify.verify(GOOD, at=leaf.not_valid_before_utc, trust=TRUST).accepted


def test_signature_defects() -> None:
    doc = parse_document(GOOD)
    # the last byte of the signature, then a byte inside the payload (module_id)
    assert _verify(mutate(GOOD, len(GOOD) - 1)) is Reason.SIGNATURE_INVALID
    offset = GOOD.index(doc.doc.module_id.encode())
    assert _verify(mutate(GOOD, offset)) is Reason.SIGNATURE_INVALID
    # signed by another key than the leaf's
    other = NitroDocumentBuilder(pki=FakeNitroPki(label="other"))
    resigned = other.with_fields(
        certificate=B.payload_map()["certificate"], cabundle=B.payload_map()["cabundle"]
    ).build()
    assert _verify(resigned) is Reason.SIGNATURE_INVALID
    # r || s of zeros
    zeroed = GOOD[:-96] + bytes(96)
    assert _verify(zeroed) is Reason.SIGNATURE_INVALID


def test_malformed_certificate_is_evidence_error() -> None:
    data = B.with_fields(certificate=b"\x30\x03\x02\x01\x01").build()
    with pytest.raises(cocoverify.EvidenceError) as err:
        cocoverify.verify(data, at=AT, trust=TRUST)
    assert err.value.reason is Reason.MALFORMED_CERTIFICATE


def test_root_missing_from_the_bundle() -> None:
    """A bundle without the root (cabundle[0] is the regional CA) is not trusted."""
    cabundle = B.payload_map()["cabundle"][1:]
    assert _verify(B.with_fields(cabundle=cabundle).build()) is Reason.UNTRUSTED_ROOT


def test_bundle_in_the_wrong_order() -> None:
    cabundle = list(reversed(B.payload_map()["cabundle"]))
    assert _verify(B.with_fields(cabundle=cabundle).build()) is Reason.UNTRUSTED_ROOT
