"""Self-tests of the generic TEST-ONLY helpers: cocoverify_testing.pki, .der and .manifest."""

from __future__ import annotations

import datetime as _dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from cocoverify import Reason
from cocoverify_testing import der
from cocoverify_testing.manifest import EXIT_CODES, exit_code
from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    CertSpec,
    ec_key,
    fill,
    iso,
    issue,
    make_crl,
    name,
    pss_message_id,
    pss_signing_run,
    record_pss_salts,
    serial_from_label,
    sign_rsa_pss,
    utc,
    with_pss_signature,
)
from cocoverify_testing.snp import amd_rsa_key

ROGUE = amd_rsa_key("rogue")
T0 = _dt.datetime(2024, 1, 1, tzinfo=_dt.UTC)


def _pss(salt_length: int = 48, mgf: hashes.HashAlgorithm | None = None) -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(mgf or hashes.SHA384()), salt_length=salt_length)


def _ca(label: str, *, pss: bool = True) -> x509.Certificate:
    spec = CertSpec(
        subject=name(CN=label),
        public_key=ROGUE.public_key(),
        serial=serial_from_label(label),
        not_before=T0,
        not_after=T0.replace(year=2030),
        ca=True,
        key_usage=CA_KEY_USAGE,
        rsa_pss=pss,
    )
    return issue(spec, issuer=spec.subject, issuer_key=ROGUE)


# --- deterministic values -------------------------------------------------------------------


def test_fill_serial_and_times_are_fixed_functions_of_their_input() -> None:
    assert fill("x") == fill("x", 32) and len(fill("x", 100)) == 100
    assert fill("x", 100)[:32] == fill("x") != fill("y")
    serial = serial_from_label("intel-root")
    assert serial == serial_from_label("intel-root") and 0 < serial < 2**159
    assert utc("2025-06-01T00:00:00Z") == _dt.datetime(2025, 6, 1, tzinfo=_dt.UTC)
    assert iso(utc("2025-06-01T10:20:30Z")) == "2025-06-01T10:20:30Z"


@pytest.mark.parametrize(("curve", "order_bits"), [("P-256", 256), ("P-384", 384), ("P-521", 521)])
def test_ec_key_is_fixed_per_label_on_every_curve(curve: str, order_bits: int) -> None:
    key = ec_key("label", curve)
    assert key.curve.key_size == order_bits
    assert key.private_numbers() == ec_key("label", curve).private_numbers()
    assert key.private_numbers() != ec_key("other", curve).private_numbers()
    sig = key.sign(b"m", ec.ECDSA(hashes.SHA256()))
    key.public_key().verify(sig, b"m", ec.ECDSA(hashes.SHA256()))


# --- DER writer (X.690) -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "020100"), (1, "020101"), (127, "02017f"), (128, "02020080"), (209, "020200d1")],
)
def test_der_int_is_minimal_twos_complement(value: int, encoded: str) -> None:
    assert der.der_int(value).hex() == encoded


def test_der_writer_shapes() -> None:
    assert der.der_oid("1.2.840.113741.1.13.1").hex() == "06092a864886f84d010d01"
    assert der.der_bool(True).hex() == "0101ff" and der.der_bool(False).hex() == "010100"
    assert der.der_enum(1).hex() == "0a0101"
    assert der.der_ia5("Milan-B0") == b"\x16\x08Milan-B0"
    assert der.der_seq(der.der_int(1), der.der_octets(b"")).hex() == "3005020101" + "0400"
    long = der.der_octets(bytes(200))
    assert long[:3].hex() == "0481c8" and len(long) == 203


# --- RSA-PSS with reproducible salts (RFC 8017 §8.1) -----------------------------------------


def test_sign_rsa_pss_verifies_and_is_reproducible() -> None:
    sig = sign_rsa_pss(ROGUE, b"message", hashes.SHA384())
    ROGUE.public_key().verify(sig, b"message", _pss(), hashes.SHA384())
    assert sig == sign_rsa_pss(ROGUE, b"message", hashes.SHA384())
    other_mgf = sign_rsa_pss(ROGUE, b"message", hashes.SHA384(), mgf_algorithm=hashes.SHA256())
    ROGUE.public_key().verify(other_mgf, b"message", _pss(mgf=hashes.SHA256()), hashes.SHA384())


def test_recorded_salts_are_taken_in_signing_order_inside_a_run() -> None:
    digest = hashes.Hash(hashes.SHA384())
    digest.update(b"recorded")
    mid = pss_message_id(ROGUE.public_key(), digest.finalize())
    record_pss_salts({mid: ["11" * 48, "22" * 48]})
    outside = sign_rsa_pss(ROGUE, b"recorded", hashes.SHA384())
    with pss_signing_run():
        first = sign_rsa_pss(ROGUE, b"recorded", hashes.SHA384())
        second = sign_rsa_pss(ROGUE, b"recorded", hashes.SHA384())
        third = sign_rsa_pss(ROGUE, b"recorded", hashes.SHA384())  # past the list: the last
    assert outside == first != second == third
    with pss_signing_run():
        assert sign_rsa_pss(ROGUE, b"recorded", hashes.SHA384()) == first  # a new run
    for sig in (first, second):
        ROGUE.public_key().verify(sig, b"recorded", _pss(), hashes.SHA384())


def test_pss_certificates_are_random_outside_a_run_and_reproducible_inside() -> None:
    assert _ca("outside").signature != _ca("outside").signature  # as RSA-PSS normally is
    with pss_signing_run():
        a = _ca("inside")
    with pss_signing_run():
        b = _ca("inside")
    assert a == b and a.signature == b.signature
    a.verify_directly_issued_by(a)
    assert _ca("pkcs1", pss=False) == _ca("pkcs1", pss=False)  # PKCS#1 v1.5 is deterministic


def test_with_pss_signature_keeps_everything_but_the_signature() -> None:
    cert = _ca("resigned")
    again = with_pss_signature(cert, ROGUE, hashes.SHA384())
    assert again.tbs_certificate_bytes == cert.tbs_certificate_bytes
    assert again.signature_algorithm_parameters == cert.signature_algorithm_parameters
    again.verify_directly_issued_by(cert)
    crl = make_crl(
        issuer=cert.subject,
        issuer_key=ROGUE,
        this_update=T0,
        next_update=T0.replace(year=2025),
        rsa_pss=True,
    )
    crl_again = with_pss_signature(crl, ROGUE, hashes.SHA384())
    assert crl_again.tbs_certlist_bytes == crl.tbs_certlist_bytes
    assert crl_again.is_signature_valid(ROGUE.public_key())


# --- manifest exit codes ----------------------------------------------------------------------


def test_exit_codes_name_real_reasons_in_their_error_class() -> None:
    reasons = {r.value for r in Reason}
    assert set(EXIT_CODES) - {"accept"} <= reasons
    assert exit_code("accept") == 0
    assert exit_code("truncated") == 2
    assert exit_code("certificate_revoked") == 3
    assert exit_code("crl_invalid") == 4
    assert exit_code("tcb_status_rejected") == 5
    with pytest.raises(KeyError):
        exit_code("no_such_reason")
