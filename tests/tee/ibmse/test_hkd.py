"""IBM Secure Execution host-key documents against the fake IBM PKI (s390-tools ``pv``
``verify.rs`` / ``verify/helper.rs``): the good chain, then one defect per case."""

from __future__ import annotations

import base64
import datetime as _dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify import CollateralInvalid, ConfigurationError, Reason, TrustStore, ibmse
from cocoverify.tee.ibmse.hkd import bundled_root, is_ibm_signing_certificate
from cocoverify.trust import IBM_SE_ROOT_SHA256, fingerprint
from cocoverify_testing.ibmse import HOSTS, NOW, FakeIbmPki, ibm_signing_name
from cocoverify_testing.pki import ec_key, name

PKI = FakeIbmPki()
HDR = (Path(__file__).parent / "kat" / "secure_guest.hdr").read_bytes()
DAY = _dt.timedelta(days=1)


def _request(
    pki: FakeIbmPki = PKI, *, hosts: tuple[str, ...] = HOSTS, at: _dt.datetime = NOW, **kw: object
) -> ibmse.SeRequest:
    args: dict[str, object] = {
        "se_header": HDR,
        "certificates": pki.certificates(),
        "crls": pki.crls(),
        "trust": pki.trust(),
        "at": at,
    }
    args.update(kw)
    return ibmse.make_request([pki.hkd(h) for h in hosts], **args)  # type: ignore[arg-type]


def _reason(pki: FakeIbmPki = PKI, **kw: object) -> Reason:
    with pytest.raises(CollateralInvalid) as err:
        _request(pki, **kw)  # type: ignore[arg-type]
    assert err.value.exit_code == 4
    return err.value.reason


def test_good_request() -> None:
    req = _request()
    assert len(req.arcb) == 48 + 16 + 160 + 80 * len(HOSTS) + 80 + 16
    assert req.challenge["measurement_size"] == 64 and req.challenge["additional_size"] == 64
    assert len(req.secret.host_key_hashes) == len(HOSTS)


def test_bundled_root_is_pinned() -> None:
    assert fingerprint(bundled_root()) == IBM_SE_ROOT_SHA256
    assert TrustStore.default().is_ibmse_root(bundled_root())
    assert is_ibm_signing_certificate(PKI.certificate("signing"))
    assert not is_ibm_signing_certificate(PKI.certificate("inter"))


def test_default_trust_does_not_pin_the_fake_root() -> None:
    assert _reason(trust=TrustStore.default()) is Reason.COLLATERAL_CHAIN_INVALID


def test_armonk_signing_certificate_with_poughkeepsie_crl() -> None:
    """s390-tools' quirk: IBM's CRL names Poughkeepsie where the certificate says Armonk."""
    armonk = PKI.with_("signing", subject=ibm_signing_name("Armonk"))
    pki = armonk.crl_("signing", issuer=ibm_signing_name("Poughkeepsie"))
    assert _request(pki).secret


DEFECTS: dict[str, tuple[FakeIbmPki, Reason]] = {
    # its authority key id names the other key: refused before the signature (pv Akid)
    "hkd signed by another key": (
        FakeIbmPki(signer={HOSTS[0]: "inter"}),
        Reason.COLLATERAL_CHAIN_INVALID,
    ),
    "hkd expired": (PKI.with_(HOSTS[0], not_after=NOW - DAY), Reason.COLLATERAL_EXPIRED),
    "hkd not yet valid": (
        PKI.with_(HOSTS[0], not_before=NOW + DAY),
        Reason.COLLATERAL_NOT_YET_VALID,
    ),
    "hkd revoked": (PKI.revoke(HOSTS[0]), Reason.CERTIFICATE_REVOKED),
    "hkd not P-521": (
        PKI.with_(HOSTS[0], public_key=ec_key("ibmse-p384-host", "P-384").public_key()),
        Reason.UNSUPPORTED_KEY_TYPE,
    ),
    "IBM CRL expired": (PKI.crl_("signing", next_update=NOW - DAY), Reason.CRL_EXPIRED),
    "IBM CRL not yet valid": (
        PKI.crl_("signing", this_update=NOW + DAY, next_update=NOW + 2 * DAY),
        Reason.CRL_NOT_YET_VALID,
    ),
    "IBM CRL by another key": (PKI.crl_("signing", signer="inter"), Reason.CRL_INVALID),
    "IBM CRL of another issuer": (
        PKI.crl_("signing", issuer=name(CN="someone else")),
        Reason.CRL_MISSING,
    ),
    "signing certificate revoked": (PKI.revoke("signing"), Reason.CERTIFICATE_REVOKED),
    "intermediate revoked": (PKI.revoke("inter"), Reason.CERTIFICATE_REVOKED),
    "intermediate CRL stale": (PKI.crl_("inter", next_update=NOW - DAY), Reason.CRL_EXPIRED),
    "root CRL by another key": (PKI.crl_("root", signer="inter"), Reason.CRL_INVALID),
    "signing certificate expired": (
        PKI.with_("signing", not_after=NOW - DAY),
        Reason.COLLATERAL_EXPIRED,
    ),
    "intermediate not yet valid": (
        PKI.with_("inter", not_before=NOW + DAY),
        Reason.COLLATERAL_NOT_YET_VALID,
    ),
    "intermediate not a CA": (PKI.with_("inter", ca=False), Reason.COLLATERAL_CHAIN_INVALID),
    "signing certificate with a wrong subject": (
        PKI.with_("signing", subject=ibm_signing_name(unit="IBM Z Host Key Signing")),
        Reason.COLLATERAL_CHAIN_INVALID,
    ),
    "signing certificate signed by the root directly": (
        FakeIbmPki(signer={"signing": "root"}),
        Reason.COLLATERAL_CHAIN_INVALID,
    ),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_one_defect(defect: str) -> None:
    pki, reason = DEFECTS[defect]
    assert _reason(pki, trust=pki.trust()) is reason


def test_hkd_signature_flipped() -> None:
    der = PKI.hkd().public_bytes(Encoding.DER)
    flipped = der[:-1] + bytes([der[-1] ^ 1])
    with pytest.raises(CollateralInvalid) as err:
        ibmse.make_request(
            [flipped, PKI.hkd(HOSTS[1])],
            se_header=HDR,
            certificates=PKI.certificates(),
            crls=PKI.crls(),
            trust=PKI.trust(),
            at=NOW,
        )
    assert err.value.reason is Reason.COLLATERAL_SIGNATURE_INVALID


def test_signature_algorithm_is_the_certificates() -> None:
    """A SHA-256 signature by the IBM key verifies as well (RSA PKCS#1 v1.5 either way)."""
    assert _request(PKI.with_(HOSTS[0], hash_alg=hashes.SHA256())).secret


def test_missing_crls() -> None:
    crls = PKI.crls()
    assert _reason(crls=crls[:2]) is Reason.CRL_MISSING  # no IBM CRL: HKD revocation unknown
    assert _reason(crls=crls[1:]) is Reason.CRL_MISSING  # no root CRL for the intermediate


def test_missing_or_extra_signing_certificates() -> None:
    certs = PKI.certificates()
    assert _reason(certificates=certs[1:]) is Reason.COLLATERAL_CHAIN_INVALID
    twice = [*certs, FakeIbmPki(label="other").certificate("signing")]
    assert _reason(certificates=twice) is Reason.COLLATERAL_CHAIN_INVALID
    assert _reason(certificates=[certs[0], certs[2]]) is Reason.COLLATERAL_CHAIN_INVALID


def test_time_is_an_input() -> None:
    assert _request(at=NOW + 29 * DAY).secret
    assert _reason(at=NOW + 31 * DAY) is Reason.CRL_EXPIRED


def test_skip_verification_as_trustee_allows() -> None:
    req = _request(FakeIbmPki(signer={HOSTS[0]: "inter"}), unsafe_skip_hkd_verification=True)
    assert req.secret


def test_arguments() -> None:
    with pytest.raises(ConfigurationError):
        _request(image_hdr_tags=bytes(208))  # both header and tags
    with pytest.raises(ConfigurationError):
        ibmse.make_request([], image_hdr_tags=bytes(208), unsafe_skip_hkd_verification=True)
    with pytest.raises(CollateralInvalid):
        ibmse.make_request([b"not a certificate"], image_hdr_tags=bytes(208))
    req = ibmse.make_request(
        [PKI.hkd()], image_hdr_tags=bytes(208), unsafe_skip_hkd_verification=True
    )
    assert base64.b64decode(req.challenge["image_hdr_tags"]) == bytes(208)
    assert req.challenge["encr_measurement_key"] == "" == req.challenge["encr_request_nonce"]
