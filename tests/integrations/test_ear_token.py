"""Unsigned EAR claims: the shape of trustee's AS token, options, annotated evidence."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

import cocoverify
from cocoverify import ear
from cocoverify.errors import ConfigurationError, PolicyRejected, Reason, SignatureInvalid
from cocoverify.result import RuleVerdict
from integrations._fixtures import AT, P256, T, intel_case_folder, synthetic_result

# --- the claims -------------------------------------------------------------------------------


def test_policy_rejection_uses_its_result() -> None:
    res = synthetic_result(
        policy=(RuleVerdict("tcb_status", False, reason=Reason.TCB_STATUS_REJECTED),),
        tcb_status="OutOfDate",
        accepted=False,
    )
    err = PolicyRejected("no", reason=Reason.TCB_STATUS_REJECTED, result=res)
    claims = ear.to_ear(err)
    sub = claims["submods"]["cpu0"]
    assert sub["ear.trustworthiness-vector"]["hardware"] == 96
    assert sub["ear.status"] == "contraindicated"
    assert sub["cocoverify.result"]["accepted"] is False
    assert sub["cocoverify.result"]["reason"] == "tcb_status_rejected"


def test_to_ear_shape() -> None:
    claims = ear.to_ear(synthetic_result())
    assert claims["eat_profile"] == ear.PROFILE
    assert claims["iat"] == T and claims["exp"] == T + 300
    assert claims["iss"] == "cocoverify"
    assert set(claims["ear.verifier-id"]) == {"developer", "build"}
    sub = claims["submods"]["cpu0"]
    assert sub["ear.status"] == "affirming"
    assert sub["ear.appraisal-policy-id"] == "default"  # broker.rs: policy_ids[0]
    ae = sub["ear.veraison.annotated-evidence"]
    assert set(ae) == {"sgx", "report_data", "init_data", "runtime_data_claims", "init_data_claims"}
    assert ae["report_data"] == "01" * 64
    assert ae["init_data"] == "00" * 64
    assert "report_data" not in ae["sgx"]
    json.dumps(claims)  # JSON-ready


def test_to_ear_options() -> None:
    claims = ear.to_ear(
        synthetic_result(),
        iat=1000,
        ttl=dt.timedelta(minutes=1),
        profile=ear.TRUSTEE_PROFILE,
        issuer="CoCo-Attestation-Service",
        trust_claims={"hardware": 97},
    )
    assert claims["eat_profile"] == "tag:github.com,2024:confidential-containers/Trustee"
    assert (claims["iat"], claims["exp"], claims["iss"]) == (1000, 1060, "CoCo-Attestation-Service")
    sub = claims["submods"]["cpu0"]
    assert sub["ear.trustworthiness-vector"]["hardware"] == 97
    assert sub["ear.trustworthiness-vector"]["instance-identity"] == 0
    assert sub["ear.status"] == "contraindicated"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"trust_claims": {"bogus": 2}},
        {"ttl": dt.timedelta(0)},
        {"iat": dt.datetime(2025, 1, 1)},  # naive
    ],
)
def test_to_ear_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        ear.to_ear(synthetic_result(), **kwargs)


def test_to_ear_error_needs_iat() -> None:
    with pytest.raises(ConfigurationError):
        ear.to_ear(SignatureInvalid("x"))
    claims = ear.to_ear(SignatureInvalid("x"), iat=AT)
    assert claims["submods"]["cpu0"]["ear.status"] == "contraindicated"
    assert "ear.veraison.annotated-evidence" not in claims["submods"]["cpu0"]


@pytest.mark.parametrize("value", ["2", 2.7, True, 300])
def test_to_ear_trust_claims_must_be_small_integers(value: Any) -> None:
    with pytest.raises(ConfigurationError):
        ear.to_ear(synthetic_result(policy=()), trust_claims={"hardware": value})


# --- a real quote -----------------------------------------------------------------------------


def test_real_tdx_quote_to_signed_ear() -> None:
    folder, case = intel_case_folder("tdx-v4-dcapqvl-sample")
    result = cocoverify.verify(
        (folder / "tdx_quote").read_bytes(), collateral=[folder], at=case["verify_at"]
    )
    claims = ear.to_ear(result, profile=ear.TRUSTEE_PROFILE)
    sub = claims["submods"]["cpu0"]
    assert sub["ear.status"] == "affirming"
    assert sub["ear.trustworthiness-vector"]["hardware"] == 2
    ae = sub["ear.veraison.annotated-evidence"]
    assert ae["report_data"] == result.claims["report_data"].hex()
    token = ear.sign_ear(claims, P256)
    assert ear.verify_ear(token, P256.public_key(), at=result.verified_at) == claims
