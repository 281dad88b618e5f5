"""AR4SI trust vectors: tiers, the mapping of results and errors, and that a rejection is
never affirming (docs/ear.md "AR4SI mapping")."""

from __future__ import annotations

from typing import Any

import pytest

from cocoverify import ear
from cocoverify.errors import (
    ChainInvalid,
    CocoverifyError,
    CollateralUnavailable,
    ConfigurationError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
    Revoked,
    SignatureInvalid,
)
from cocoverify.result import RuleVerdict
from integrations._fixtures import synthetic_result

# --- tiers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1, "none"), (0, "none"), (1, "none"), (2, "affirming"), (31, "affirming"),
        (32, "warning"), (95, "warning"), (96, "contraindicated"), (127, "contraindicated"),
        (-2, "affirming"), (-32, "affirming"), (-33, "warning"), (-96, "warning"),
        (-97, "contraindicated"), (-128, "contraindicated"),
    ],
)  # fmt: skip
def test_tiers(value: int, expected: str) -> None:
    assert ear.tier(value) == expected


def test_status_is_the_worst_tier() -> None:
    assert ear.ear_status({"a": 0, "b": 0}) == "none"
    assert ear.ear_status({"a": 2, "b": 0}) == "affirming"
    assert ear.ear_status({"a": 2, "b": 32}) == "warning"
    assert ear.ear_status({"a": 96, "b": 32, "c": 2}) == "contraindicated"


# --- the mapping ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "hardware", "configuration"),
    [
        ("UpToDate", 2, 2),
        ("SWHardeningNeeded", 32, 2),
        ("ConfigurationNeeded", 2, 32),
        ("ConfigurationAndSWHardeningNeeded", 32, 32),
        ("OutOfDate", 32, 2),
        ("OutOfDateConfigurationNeeded", 32, 32),
        ("TDRelaunchAdvised", 32, 2),
        ("TDRelaunchAdvisedConfigurationNeeded", 32, 32),
        ("Revoked", 96, 2),
        ("SomethingNew", 97, 2),
        (None, 2, 2),
    ],
)
def test_tcb_status_mapping(status: str | None, hardware: int, configuration: int) -> None:
    v = ear.trust_vector(synthetic_result(tcb_status=status))
    assert v["hardware"] == hardware
    assert v["configuration"] == configuration
    assert v["instance-identity"] == 2 and v["runtime-opaque"] == 2
    assert v["executables"] == 0  # no measurement pinned: no claim


def test_vector_has_trustee_claim_names_in_order() -> None:
    assert tuple(ear.trust_vector(synthetic_result())) == ear.CLAIM_NAMES


def test_debug_allowed_is_visible_memory() -> None:
    pol = (RuleVerdict("debug", True, "allowed", actual=True),)
    assert ear.trust_vector(synthetic_result(policy=pol))["runtime-opaque"] == 96


def test_measurement_rules() -> None:
    ok = (RuleVerdict("mr_enclave", True, actual=b"\x01"),)
    assert ear.trust_vector(synthetic_result(policy=ok))["executables"] == 2
    bad = (RuleVerdict("mr_enclave", False, reason=Reason.MEASUREMENT_MISMATCH),)
    v = ear.trust_vector(synthetic_result(policy=bad, accepted=False))
    assert v["executables"] == 96 and ear.ear_status(v) == "contraindicated"


@pytest.mark.parametrize(
    ("reason", "claim", "value"),
    [
        (Reason.REPORT_DATA_MISMATCH, "instance-identity", 97),
        (Reason.TCB_NOT_SUPPORTED, "hardware", 97),
        (Reason.TCB_STATUS_REJECTED, "hardware", 96),
        (Reason.ADVISORY_REJECTED, "hardware", 96),
        (Reason.TCB_BELOW_MINIMUM, "hardware", 96),
        (Reason.DEBUG_ENABLED, "configuration", 96),
        (Reason.INIT_DATA_MISMATCH, "configuration", 96),
        (Reason.ATTRIBUTE_REJECTED, "configuration", 96),
        (Reason.REGO_REJECTED, "configuration", 96),
    ],
)
def test_failed_rules(reason: Reason, claim: str, value: int) -> None:
    pol = (RuleVerdict("some_rule", False, reason=reason),)
    v = ear.trust_vector(synthetic_result(policy=pol, accepted=False))
    assert v[claim] == value
    assert ear.ear_status(v) == "contraindicated"


@pytest.mark.parametrize(
    ("error", "claim", "value"),
    [
        (Revoked("x"), "hardware", 96),
        (Revoked("x"), "instance-identity", 96),
        (SignatureInvalid("x"), "instance-identity", 99),
        (ChainInvalid("x"), "instance-identity", 99),
        (MalformedEvidence("x", reason=Reason.TRUNCATED), "instance-identity", 1),
        (CollateralUnavailable("x"), "hardware", 97),
        (ConfigurationError("x"), "instance-identity", -1),
    ],
)
def test_errors_without_result(error: CocoverifyError, claim: str, value: int) -> None:
    v = ear.trust_vector(error)
    assert v[claim] == value
    assert ear.ear_status(v) != "affirming"


# --- a rejection is never affirming -----------------------------------------------------------


def _status(outcome: Any, **kw: Any) -> str:
    return str(ear.to_ear(outcome, iat=1, **kw)["submods"]["cpu0"]["ear.status"])


def test_rejected_result_with_only_passed_rules_is_contraindicated() -> None:
    rejected = synthetic_result(accepted=False, policy=(RuleVerdict("debug", True, actual=False),))
    err = PolicyRejected("no", reason=Reason.POLICY_REJECTED)
    err.result = rejected
    assert _status(err) == "contraindicated"
    assert _status(rejected) == "contraindicated"


def test_error_carrying_an_accepted_result_is_contraindicated() -> None:
    err = PolicyRejected("rego said no", reason=Reason.REGO_REJECTED)
    err.result = synthetic_result(policy=())  # e.g. a caller attaching the pre-Rego result
    assert _status(err) == "contraindicated"


def test_caller_trust_claims_cannot_affirm_a_rejection() -> None:
    err = PolicyRejected("no", reason=Reason.POLICY_REJECTED)
    err.result = synthetic_result(accepted=False, policy=())
    assert _status(err, trust_claims={"hardware": 2}) == "contraindicated"
    malformed = MalformedEvidence("bad", reason=Reason.MALFORMED)
    assert _status(malformed, trust_claims={"hardware": 2}) == "contraindicated"
    assert _status(malformed, trust_claims={}) == "none"  # nothing known: still not affirming
    assert _status(synthetic_result(policy=()), trust_claims={"hardware": 2}) == "affirming"
