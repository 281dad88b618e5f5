"""The collateral of an Intel quote (cocoverify.tee.intel.collateral): the signed-JSON envelope,
the TCB Signing certificate that signs TCB Info and QE Identity (its chain to the PCK chain's
root, its revocation), and which document a quote uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

import cocoverify
from cocoverify import Collateral, CollateralInvalid, Reason, TrustStore
from cocoverify.tee.intel.collateral import load_signed_json
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import NOW, FakeIntelPKI

from _shared.intel import PKI, built, collateral, verify

# --- the signature hex of PCS JSON accepted whitespace -----------------------------------


def test_signature_hex_must_be_exactly_128_digits() -> None:
    body = PKI.tcb_info_body(fi.sgx_tcb_info())
    i = body.index(b'"signature":"') + len(b'"signature":"')
    spaced = body[: i + 2] + b" " + body[i + 2 :]
    with pytest.raises(CollateralInvalid) as ei:
        verify(built("sgx3").data, collateral(tcb=spaced))
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED
    upper = body[:i] + body[i : i + 128].upper() + body[i + 128 :]
    assert verify(built("sgx3").data, collateral(tcb=upper)).accepted


# --- the envelope is strict JSON (RFC 8259): no duplicate names, no NaN, bounded nesting --------

_SIG = '"signature": "' + "00" * 64 + '"'


@pytest.mark.parametrize(
    "text",
    [
        '{"tcbInfo": {"version": 3, "version": 2}, ' + _SIG + "}",
        '{"tcbInfo": {"version": 3}, "tcbInfo": {"version": 2}, ' + _SIG + "}",
        '{"tcbInfo": {"tcbEvaluationDataNumber": NaN}, ' + _SIG + "}",
        '{"tcbInfo": {"levels": ' + "[" * 100_000 + "]" * 100_000 + "}, " + _SIG + "}",
    ],
    ids=["duplicate_inner_name", "duplicate_member", "nan", "deep_nesting"],
)
def test_signed_json_is_read_strictly(text: str) -> None:
    with pytest.raises(CollateralInvalid) as ei:
        load_signed_json(text.encode(), "tcbInfo")
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED


# --- one malformed document of another platform failed every quote ------------------------


def test_malformed_document_of_another_platform_is_ignored() -> None:
    future = PKI.sign_body("tcbInfo", {"id": "SGX", "version": 4, "fmspc": "AABBCCDDEEFF"})
    coll = Collateral(tcb_infos=(future,)) + collateral()
    assert verify(built("sgx3").data, coll).accepted
    with pytest.raises(CollateralInvalid) as ei:
        verify(built("sgx3").data, replace(collateral(), tcb_infos=(future,)))
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED


# --- an injected, unsigned TCB Info displaced the genuine one ----------------------------


def test_unsigned_newer_document_does_not_displace_the_genuine_one() -> None:
    newer = fi.sgx_tcb_info(issue_date=NOW - dt.timedelta(hours=1))
    forged = PKI.tcb_info_body(newer, signer="not-intel")
    genuine = PKI.tcb_info_body(fi.sgx_tcb_info())
    coll = replace(collateral(), tcb_infos=(forged, genuine))
    assert verify(built("sgx3").data, coll).accepted
    with pytest.raises(CollateralInvalid) as ei:
        verify(built("sgx3").data, replace(collateral(), tcb_infos=(forged,)))
    assert ei.value.reason is Reason.COLLATERAL_SIGNATURE_INVALID


# --- an expired twin of the TCB Signing certificate (same key) steered selection ---------

_OLD_SIGNING = PKI.but(
    tcb_signing=replace(
        PKI.tcb_signing,
        not_before=dt.datetime(2018, 5, 21, 10, 50, 10, tzinfo=dt.UTC),
        not_after=dt.datetime(2025, 5, 21, 10, 50, 10, tzinfo=dt.UTC),
    )
)


def test_expired_tcb_signing_twin_listed_first_does_not_fail_verification() -> None:
    old = _OLD_SIGNING.tcb_signing_cert
    assert old.public_key() == PKI.tcb_signing_cert.public_key()  # as Intel re-issued it
    coll = Collateral(chains=((old, PKI.root_cert),)) + collateral()
    assert verify(built("sgx3").data, coll).accepted


def test_only_an_expired_tcb_signing_certificate_is_still_rejected() -> None:
    coll = collateral(signing=(_OLD_SIGNING.tcb_signing_cert, PKI.root_cert))
    with pytest.raises(CollateralInvalid) as ei:
        verify(built("sgx3").data, coll)
    assert ei.value.reason is Reason.COLLATERAL_EXPIRED


# --- with two pinned roots, a TCB Signing cert escaped its own root's CRL ---------------


def test_tcb_signer_must_chain_to_the_pck_chains_root() -> None:
    other = FakeIntelPKI(root_key="second-intel-root")
    other = other.but(
        tcb_signing=replace(other.tcb_signing, serial=777),
        root_crl_knobs=replace(other.root_crl_knobs, revoked=(777,)),  # revoked by its root
    )
    two_roots = TrustStore(
        intel_roots=frozenset({PKI.root_fingerprint(), other.root_fingerprint()})
    )
    coll = Collateral(
        chains=((other.tcb_signing_cert, other.root_cert), (PKI.processor_ca_cert, PKI.root_cert)),
        crls=(PKI.root_crl, PKI.processor_crl, other.root_crl),
        tcb_infos=(other.tcb_info_body(fi.sgx_tcb_info()),),
        qe_identities=(other.qe_identity_body(fi.sgx_qe_identity()),),
    )
    with pytest.raises(CollateralInvalid) as ei:
        cocoverify.verify(built("sgx3").data, collateral=coll, trust=two_roots, at=NOW)
    assert ei.value.reason is Reason.COLLATERAL_CHAIN_INVALID
