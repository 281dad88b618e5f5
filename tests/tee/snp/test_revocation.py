"""CRLs of the ARK: revoked serials, foreign issuers, the CRL profile (RSASSA-PSS, critical
extensions, cRLSign)."""

from __future__ import annotations

import datetime as _dt

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from cocoverify.errors import CollateralInvalid, Reason, Revoked
from cocoverify.trust import TrustStore
from cocoverify_testing.pki import CertSpec, issue
from cocoverify_testing.snp import EPOCH

from _shared.snp import AT, MB, REPORT, VCEK, G, M, rejects, verify_with


def test_revoked_vek_serial() -> None:
    rep = MB.sign(M)
    rejects(
        Revoked, Reason.CERTIFICATE_REVOKED, rep, M.vcek_for(rep), M.ask, M.ark, M.crl(revoked=[1])
    )


def test_revoked_asvk() -> None:
    rep = MB.vlek().sign(M)
    rejects(
        Revoked, Reason.CERTIFICATE_REVOKED, rep, M.vlek(), M.asvk, M.ark, M.crl(revoked=[0x010101])
    )


def test_crl_of_another_issuer_is_ignored() -> None:
    rep = MB.sign(M)
    res = verify_with(rep, M.vcek_for(rep), M.ask, M.ark, G.crl(revoked=[0x010001]))
    assert res.collateral["revocation_checked"] is False


def test_crl_window_is_reported() -> None:
    rep = MB.sign(M)
    crl = M.crl()
    res = verify_with(rep, M.vcek_for(rep), M.ask, M.ark, crl)
    assert res.collateral["revocation_checked"] is True
    assert res.collateral["crl_next_update"] == crl.next_update_utc
    assert not res.warnings


# --- the CRL profile ------------------------------------------------------------------------------


PSS48 = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


def _crl(
    *,
    pad: padding.PSS | padding.PKCS1v15 = PSS48,
    extra: tuple[tuple[x509.ExtensionType, bool], ...] = (),
    revoked: tuple[int, ...] = (),
) -> x509.CertificateRevocationList:
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(M.ark.subject)
        .last_update(AT - _dt.timedelta(days=1))
        .next_update(AT + _dt.timedelta(days=30))
    )
    for value, critical in extra:
        b = b.add_extension(value, critical)
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(AT - _dt.timedelta(days=1))
            .build()
        )
    return b.sign(M.ark_key, hashes.SHA384(), rsa_padding=pad)


def test_crl_signed_with_pkcs1_is_rejected() -> None:
    crl = _crl(pad=padding.PKCS1v15())
    rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def test_crl_with_mgf1_sha256_is_rejected() -> None:
    crl = _crl(pad=padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=48))
    rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def test_delta_crl_is_not_used_as_a_full_crl() -> None:
    crl = _crl(extra=((x509.DeltaCRLIndicator(1), True),))
    rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, M.ark, crl)


def _ark_variant(key_usage: x509.KeyUsage) -> x509.Certificate:
    """The fake Milan ARK re-issued (same key and name) with another KeyUsage."""
    spec = CertSpec(
        subject=M.ark.subject,
        public_key=M.ark_key.public_key(),
        serial=0x010000,
        not_before=EPOCH,
        not_after=EPOCH.replace(year=EPOCH.year + 25),
        ca=True,
        key_usage=key_usage,
        rsa_pss=True,
    )
    return issue(spec, issuer=spec.subject, issuer_key=M.ark_key)


_NO_CRL_SIGN = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


def test_crl_from_an_ark_without_crl_sign_is_rejected() -> None:
    ark = _ark_variant(_NO_CRL_SIGN)
    trust = TrustStore.from_certificates(amd={"Milan": [ark]})
    assert verify_with(REPORT, VCEK, M.ask, ark, trust=trust).accepted
    rejects(CollateralInvalid, Reason.CRL_INVALID, REPORT, VCEK, M.ask, ark, M.crl(), trust=trust)
