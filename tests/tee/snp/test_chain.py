"""The VEK -> ASK/ASVK -> ARK chain on the fake AMD PKI: roles, pinning, profile, candidates."""

from __future__ import annotations

import datetime as _dt
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import verify
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.errors import (
    ChainInvalid,
    CollateralInvalid,
    CollateralUnavailable,
    PolicyRejected,
    Reason,
    Revoked,
)
from cocoverify.policy import Policy
from cocoverify.tee.snp.chain import verify_chain_roles, verify_vek_chain
from cocoverify.trust import TrustStore
from cocoverify_testing.pki import CA_KEY_USAGE, CertSpec, ec_key, issue
from cocoverify_testing.snp import EPOCH, amd_rsa_key

from _shared import require_shared, shared_manifest
from _shared.snp import AT, MB, REPORT, TRUST, VCEK, G, M, der_of, rejects, verify_with


def test_real_trust_store_rejects_fake_chain() -> None:
    rep = MB.sign(M)
    with pytest.raises(ChainInvalid) as exc:
        verify(rep, collateral=Collateral(chains=((M.vcek_for(rep), M.ask, M.ark),)), at=AT)
    assert exc.value.reason is Reason.UNTRUSTED_ROOT


def test_vcek_issued_by_an_asvk_is_key_type_mismatch() -> None:
    rep = MB.sign(M)
    good = M.vcek_for(rep)
    spec = CertSpec(
        subject=good.subject,
        public_key=M.vcek_key.public_key(),
        serial=1,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=2030),
        unrecognized=[
            e.value for e in good.extensions if isinstance(e.value, x509.UnrecognizedExtension)
        ],
        rsa_pss=True,
    )
    bad = issue(spec, issuer=M.asvk.subject, issuer_key=amd_rsa_key("milan-asvk"))
    rejects(ChainInvalid, Reason.KEY_TYPE_MISMATCH, rep, bad, M.asvk, M.ark)


def test_only_another_products_ask() -> None:
    rep = MB.sign(M)
    rejects(ChainInvalid, Reason.PRODUCT_MISMATCH, rep, M.vcek_for(rep), G.ask, M.ark)


def test_no_ark_is_collateral_missing() -> None:
    rep = MB.sign(M)
    rejects(CollateralUnavailable, Reason.COLLATERAL_MISSING, rep, M.vcek_for(rep), M.ask)


def test_several_asks_prefer_the_issuer() -> None:
    rep = MB.sign(M)
    rogue_ask = M.with_(ask_signer="rogue").ask
    assert verify_with(rep, M.vcek_for(rep), rogue_ask, M.ask, M.ark).accepted


def test_roles_leaf_must_be_a_vcek_or_vlek() -> None:
    with pytest.raises(ChainInvalid) as exc:
        verify_chain_roles(M.ask, M.ask, M.ark, product="Milan", trust=TRUST, at=AT)
    assert exc.value.reason is Reason.CERTIFICATE_PROFILE_INVALID


def test_roles_ark_of_another_product() -> None:
    with pytest.raises(ChainInvalid) as exc:
        verify_chain_roles(M.vcek(), M.ask, G.ark, product="Milan", trust=TRUST, at=AT)
    assert exc.value.reason is Reason.PRODUCT_MISMATCH


@pytest.mark.parametrize(
    ("inter", "reason"),
    [(M.asvk, Reason.KEY_TYPE_MISMATCH), (G.ask, Reason.PRODUCT_MISMATCH)],
)
def test_roles_intermediate_name(inter: x509.Certificate, reason: Reason) -> None:
    with pytest.raises(ChainInvalid) as exc:
        verify_chain_roles(M.vcek(), inter, M.ark, product="Milan", trust=TRUST, at=AT)
    assert exc.value.reason is reason


def test_vek_key_must_be_p384() -> None:
    rep = MB.sign(M)
    p256 = M.vcek_for(rep, key=ec_key("p256-vcek", "P-256"))
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, rep, p256, M.ask, M.ark)


def test_chain_with_pinned_ark_verifies_directly() -> None:
    inter, ark = verify_vek_chain(M.vlek(), [M.ark, M.asvk], product="Milan", trust=TRUST, at=AT)
    assert (inter, ark) == (M.asvk, M.ark)


def test_validity_boundaries() -> None:
    rep = MB.sign(M)
    nb = EPOCH + _dt.timedelta(days=10)
    vcek = M.vcek_for(rep, validity=(nb, nb + _dt.timedelta(days=5)))
    coll = Collateral(chains=((vcek, M.ask, M.ark),))
    assert verify(rep, collateral=coll, trust=TRUST, at=nb).accepted
    with pytest.raises(ChainInvalid) as exc:
        verify(rep, collateral=coll, trust=TRUST, at=nb - _dt.timedelta(seconds=1))
    assert exc.value.reason is Reason.CERTIFICATE_NOT_YET_VALID


# --- certificate profile: PSS parameters, critical extensions, KeyUsage, signature bits -----------


_SHA384 = hashes.SHA384()


def _resign_vcek(
    *,
    mgf_hash: hashes.HashAlgorithm = _SHA384,
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = (),
) -> x509.Certificate:
    """VCEK with the KDS extensions of ``VCEK``, signed by the genuine (fake) ASK key."""
    b = (
        x509.CertificateBuilder()
        .subject_name(VCEK.subject)
        .issuer_name(M.ask.subject)
        .public_key(M.vcek_key.public_key())
        .serial_number(1)
        .not_valid_before(EPOCH)
        .not_valid_after(EPOCH.replace(year=EPOCH.year + 7))
    )
    for ext in VCEK.extensions:
        b = b.add_extension(ext.value, ext.critical)
    for value, critical in extra:
        b = b.add_extension(value, critical)
    pad = padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=48)
    return b.sign(amd_rsa_key("milan-ask"), hashes.SHA384(), rsa_padding=pad)


def test_vcek_signed_with_mgf1_sha256_is_rejected() -> None:
    vcek = _resign_vcek(mgf_hash=hashes.SHA256())
    assert vcek.signature_hash_algorithm is not None
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, vcek, M.ask, M.ark)


def test_unrecognised_critical_extension_is_rejected() -> None:
    ext = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    vcek = _resign_vcek(extra=((ext, True),))
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, vcek, M.ask, M.ark)
    # the same extension, not critical, is ignored
    assert verify_with(REPORT, _resign_vcek(extra=((ext, False),)), M.ask, M.ark).accepted


def test_ask_whose_key_usage_forbids_cert_sign_is_rejected() -> None:
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    spec = CertSpec(
        subject=M.ask.subject,
        public_key=amd_rsa_key("milan-ask").public_key(),
        serial=0x010001,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        path_length=0,
        key_usage=usage,
        rsa_pss=True,
    )
    ask = issue(spec, issuer=M.ark.subject, issuer_key=M.ark_key)
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, VCEK, ask, M.ark)


def _with_unused_bits(make: Any) -> bytes:
    """DER of ``make()`` with the signature BIT STRING claiming 1 unused bit; PSS is
    randomised, so retry until the signature's last bit is 0 (cryptography then loads it)."""
    for _ in range(64):
        der = der_of(make())
        if der[-1] & 1 == 0:
            marker = der.rindex(b"\x03\x82\x02\x01\x00")
            return der[: marker + 4] + b"\x01" + der[marker + 5 :]
    raise AssertionError("no signature ending in a zero bit")


def test_signature_bit_string_with_unused_bits_is_rejected() -> None:
    vcek = x509.load_der_x509_certificate(_with_unused_bits(lambda: M.vcek_for(REPORT)))
    rejects(ChainInvalid, Reason.CERTIFICATE_PROFILE_INVALID, REPORT, vcek, M.ask, M.ark)
    crl = x509.load_der_x509_crl(_with_unused_bits(M.crl))
    rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def test_real_vcek_with_unused_signature_bits_is_rejected() -> None:
    base = require_shared("amd")
    cases = {c["id"]: c for c in (shared_manifest("amd") or {}).get("cases", [])}
    c = cases["openpcc-azure-genoa-v3-vcek"]
    folder = base / c["dir"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0
        chain = load_collateral([folder / c["files"][r] for r in ("ask", "ark")])
        vcek = load_collateral([folder / c["files"]["vcek"]]).certificates[0]
        der = der_of(vcek)
        marker = der.rindex(b"\x03\x82\x02\x01\x00")
        assert der[-1] & 1 == 0  # this genuine signature happens to end in a zero bit
        bad = x509.load_der_x509_certificate(der[: marker + 4] + b"\x01" + der[marker + 5 :])
        assert bad.signature == vcek.signature  # cryptography ignores the count
        data = Path(folder / c["files"]["report"]).read_bytes()
        ok = verify(
            data, collateral=chain + Collateral(chains=((vcek,),)), at=c["verification_time"]
        )
        assert ok.accepted
        with pytest.raises(ChainInvalid) as exc:
            verify(data, collateral=chain + Collateral(chains=((bad,),)), at=c["verification_time"])
    assert exc.value.reason is Reason.CERTIFICATE_PROFILE_INVALID


# --- candidate paths: acceptance never depends on collateral order --------------------------------


_PAST = (EPOCH - _dt.timedelta(days=800), EPOCH + _dt.timedelta(days=300))


def test_expired_vcek_next_to_its_reissued_twin() -> None:
    old = M.vcek_for(REPORT, validity=_PAST)  # same key, same TCB: a re-issued VCEK (§6.1)
    assert verify_with(REPORT, VCEK, old, M.ask, M.ark).accepted
    assert verify_with(REPORT, old, VCEK, M.ask, M.ark).accepted
    rejects(ChainInvalid, Reason.CERTIFICATE_EXPIRED, REPORT, old, M.ask, M.ark)


def test_two_pinned_arks_in_either_order() -> None:
    other = M.with_(ark_label="rogue").ark  # also pinned, signs nothing here
    trust = TrustStore.from_certificates(amd={"Milan": [other, M.ark]})
    assert verify_with(REPORT, VCEK, M.ask, other, M.ark, trust=trust).accepted
    assert verify_with(REPORT, VCEK, M.ask, M.ark, other, trust=trust).accepted


def _reissued_ask() -> x509.Certificate:
    spec = CertSpec(
        subject=M.ask.subject,
        public_key=amd_rsa_key("milan-ask").public_key(),
        serial=0x010002,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        path_length=0,
        key_usage=CA_KEY_USAGE,
        rsa_pss=True,
    )
    return issue(spec, issuer=M.ark.subject, issuer_key=M.ark_key)


def test_revoked_ask_next_to_a_reissued_ask() -> None:
    spec = CertSpec(
        subject=M.ask.subject,
        public_key=amd_rsa_key("milan-ask").public_key(),
        serial=0x010002,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        path_length=0,
        key_usage=CA_KEY_USAGE,
        rsa_pss=True,
    )
    reissued = issue(spec, issuer=M.ark.subject, issuer_key=M.ark_key)
    crl = M.crl(revoked=[0x010001])  # the first ASK, as Genoa's real CRL revokes 0x020001
    assert verify_with(REPORT, VCEK, M.ask, reissued, M.ark, crl).accepted
    assert verify_with(REPORT, VCEK, reissued, M.ask, M.ark, crl).accepted
    rejects(Revoked, Reason.CERTIFICATE_REVOKED, REPORT, VCEK, M.ask, M.ark, crl)


def test_first_failure_is_reported_when_no_path_verifies() -> None:
    old = M.vcek_for(REPORT, validity=_PAST)
    rogue = M.vcek_for(REPORT, signer="rogue")  # same key, not signed by the ASK
    rejects(ChainInvalid, Reason.CHAIN_INVALID, REPORT, rogue, old, M.ask, M.ark)
    rejects(ChainInvalid, Reason.CERTIFICATE_EXPIRED, REPORT, old, rogue, M.ask, M.ark)


def test_policy_default_still_applies_after_selection() -> None:
    rep = MB.set(policy=0xB0000).sign(M)  # DEBUG
    with pytest.raises(PolicyRejected) as exc:
        verify_with(rep, M.vcek_for(rep, validity=_PAST), M.vcek_for(rep), M.ask, M.ark)
    assert exc.value.reason is Reason.DEBUG_ENABLED
    coll = Collateral(chains=((M.vcek_for(rep), M.ask, M.ark),))
    res = verify(
        rep,
        collateral=coll,
        trust=TRUST,
        at=AT,
        policy=Policy.from_dict({"unsafe_allow_debug": True}),
    )
    assert res.accepted


_OTHER_ARK = M.with_(ark_label="rogue").ark


_DECOY_TRUST = TrustStore.from_certificates(amd={"Milan": [_OTHER_ARK, M.ark], "Genoa": [G.ark]})


_POOL = (
    VCEK,  # the valid path: VCEK, re-issued ASK, ARK
    _reissued_ask(),
    M.ark,
    M.vcek_for(REPORT, validity=_PAST),  # expired twin
    M.vcek_for(REPORT, signer="rogue"),  # same key, not signed by the ASK
    M.ask,  # revoked by the CRL below
    _OTHER_ARK,  # pinned, signs nothing here
    G.ask,  # another product's chain
    G.ark,
    M.vlek(),  # the other key kind
)


_CRL = M.crl(revoked=[0x010001])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.permutations(range(len(_POOL))))
def test_any_order_of_decoys_is_accepted(order: list[int]) -> None:
    items = [_POOL[i] for i in order]
    res = verify_with(REPORT, *items, _CRL, trust=_DECOY_TRUST)
    assert res.accepted and res.collateral["revocation_checked"] is True
