"""Arm CCA pipeline: the steps in order, the appraisal fields, lone platform tokens."""

from __future__ import annotations

from typing import Any

import pytest

import cocoverify
from cocoverify import Collateral, CollateralUnavailable, PolicyRejected, Reason, SignatureInvalid
from cocoverify.tee.cca.pipeline import verify_platform_token
from cocoverify_testing.cca import CcaTokenBuilder

AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
TOKEN = B.sign()
CPAK = B.platform.cpak.public_key()


def _verify(data: bytes = TOKEN, **kwargs: Any) -> cocoverify.VerificationResult:
    kwargs.setdefault("collateral", Collateral(public_keys=(CPAK,)))
    return cocoverify.verify(data, at=AT, **kwargs)


def test_appraisal_fields() -> None:
    result = _verify()
    claims = result.claims
    assert result.tee == "cca" and result.tcb_status is None
    assert claims["container"] == "cmw-907"
    assert claims["platform"]["alg"] == "ES384" and claims["realm"]["alg"] == "ES384"
    assert claims["realm"]["challenge"] == B.challenge
    assert claims["platform"]["sw_components"][1]["type"] == "RMM"
    assert result.collateral["cpak"]["bound"] is False
    assert result.warnings == ()
    out = result.to_dict()
    assert out["claims"]["platform"]["instance_id"] == B.platform.instance_id.hex()


def test_nonce_is_the_realm_challenge() -> None:
    assert _verify(expected_report_data=B.challenge).accepted
    with pytest.raises(PolicyRejected):  # a prefix is zero-padded, so it does not match
        _verify(expected_report_data=B.challenge[:32].hex())
    with pytest.raises(PolicyRejected) as err:
        _verify(expected_report_data=bytes(64))
    assert err.value.reason is Reason.REPORT_DATA_MISMATCH
    short = B.with_challenge(b"\x07" * 16 + bytes(48)).sign()
    assert _verify(short, expected_report_data=b"\x07" * 16).accepted


def test_init_data_is_the_personalization_value() -> None:
    rpv = B.realm_claims()[44235]
    assert _verify(expected_init_data=rpv).accepted
    with pytest.raises(PolicyRejected) as err:
        _verify(expected_init_data=b"\x01" * 64)
    assert err.value.reason is Reason.INIT_DATA_MISMATCH


def test_platform_signature_is_checked_before_the_realm() -> None:
    token = B.with_signature_defect("platform", "bitflip").with_signature_defect("realm", "zero")
    with pytest.raises(SignatureInvalid) as err:
        _verify(token.sign())
    assert "platform" in str(err.value)


def test_lone_platform_token_api() -> None:
    pf, _ = B.sign_parts()
    claims = verify_platform_token(pf, collateral=Collateral(public_keys=(CPAK,)))
    assert claims["instance_id"] == B.platform.instance_id and claims["alg"] == "ES384"
    bad, _ = B.with_signature_defect("platform", "bitflip").sign_parts()
    with pytest.raises(SignatureInvalid):
        verify_platform_token(bad, collateral=Collateral(public_keys=(CPAK,)))
    with pytest.raises(CollateralUnavailable):
        verify_platform_token(pf, collateral=Collateral())
