"""Arm CCA policy section: lifecycle, identities, measurements, reference values."""

from __future__ import annotations

from typing import Any

import pytest

import cocoverify
from cocoverify import (
    Collateral,
    ConfigurationError,
    MeasurementMismatch,
    Policy,
    PolicyRejected,
    Reason,
)
from cocoverify.tee.cca.policy import CcaPolicy, SwComponentReference
from cocoverify_testing.cca import CcaTokenBuilder

AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
TOKEN = B.sign()
CPAK = B.platform.cpak.public_key()


def _verify(data: bytes = TOKEN, **kwargs: Any) -> cocoverify.VerificationResult:
    kwargs.setdefault("collateral", Collateral(public_keys=(CPAK,)))
    return cocoverify.verify(data, at=AT, **kwargs)


def _policy(cca: dict[str, Any], **top: Any) -> Policy:
    return Policy.from_dict({"cca": cca, **top})


def _rejected(policy: Policy, data: bytes = TOKEN) -> PolicyRejected:
    with pytest.raises(PolicyRejected) as err:
        _verify(data, policy=policy)
    return err.value


def test_default_policy_requires_secured() -> None:
    assert CcaPolicy().allowed_lifecycle_states == frozenset({"secured"})
    err = _rejected(Policy.default(), B.with_platform_claim(2395, 0x1000).sign())
    assert err.reason is Reason.LIFECYCLE_REJECTED
    ok = _policy({"allowed_lifecycle_states": ["secured", "assembly-and-test"]})
    assert _verify(B.with_platform_claim(2395, 0x1000).sign(), policy=ok).accepted


def test_debug_lifecycle_sets_debug() -> None:
    debug = B.with_platform_claim(2395, 0x5001).sign()
    assert _rejected(Policy.default(), debug).reason is Reason.DEBUG_ENABLED
    pol = _policy(
        {"allowed_lifecycle_states": ["recoverable-cca-platform-rot-debug"]},
        unsafe_allow_debug=True,
    )
    assert _verify(debug, policy=pol).accepted


@pytest.mark.parametrize(
    ("knob", "good", "bad"),
    [
        ("platform_implementation_id", B.platform.implementation_id.hex(), "00" * 32),
        ("platform_instance_id", B.platform.instance_id.hex(), "01" + "00" * 32),
        ("platform_config", "cfcfcfcf", "cfcf"),
        ("realm_initial_measurement", B.realm_claims()[44238].hex(), "00" * 32),
        ("realm_personalization_value", B.realm_claims()[44235].hex(), "00" * 64),
    ],
)
def test_allow_lists(knob: str, good: str, bad: str) -> None:
    assert _verify(policy=_policy({knob: [good]})).accepted
    err = _rejected(_policy({knob: [bad, "11" * (len(bad) // 2)]}))
    assert isinstance(err, MeasurementMismatch) and err.reason is Reason.MEASUREMENT_MISMATCH
    assert err.claim == knob


def test_rem_slots() -> None:
    rems = B.realm_claims()[44239]
    assert _verify(
        policy=_policy({"realm_extensible_measurements": [None, rems[1].hex(), None, None]})
    ).accepted
    err = _rejected(_policy({"realm_extensible_measurements": [None, None, None, ["00" * 32]]}))
    assert isinstance(err, MeasurementMismatch)
    assert err.claim == "realm_extensible_measurements[3]"


def test_sw_component_reference_values() -> None:
    claims = B.platform_claims()[2399]
    refs = [
        {"type": c[1], "measurement": c[2].hex(), "signer_id": c[5].hex(), "version": c[4]}
        for c in claims
    ]
    assert _verify(policy=_policy({"platform_sw_components": refs})).accepted
    # measurement only, no type: still matches
    assert _verify(
        policy=_policy({"platform_sw_components": [{"measurement": c[2].hex()} for c in claims]})
    ).accepted
    for change in ({"signer_id": "00" * 32}, {"version": "9.9"}, {"type": "BL"}):
        bad = [{**refs[0], **change}, refs[1]]
        err = _rejected(_policy({"platform_sw_components": bad}))
        assert isinstance(err, MeasurementMismatch)
        assert err.claim == "platform_sw_components[RSE_BL2]"
    # a type named by the references but absent from the token
    extra = [*refs, {"type": "SCP_BL1", "measurement": "00" * 32}]
    err = _rejected(_policy({"platform_sw_components": extra}))
    assert isinstance(err, MeasurementMismatch)
    assert err.claim == "platform_sw_components[SCP_BL1]"


@pytest.mark.parametrize(
    "cca",
    [
        {"allowed_lifecycle_states": ["prod"]},
        {"allowed_lifecycle_states": []},
        {"allowed_lifecycle_states": [1]},
        {"platform_implementation_id": ["00" * 31]},
        {"realm_personalization_value": ["00" * 32]},
        {"realm_initial_measurement": ["00" * 20]},
        {"realm_extensible_measurements": [None, None, None]},
        {"realm_extensible_measurements": [None, None, None, ["00" * 20]]},
        {"platform_sw_components": []},
        {"platform_sw_components": [{"type": "BL"}]},
        {"platform_sw_components": [{"measurement": "00" * 32, "colour": "red"}]},
        {"platform_sw_components": [{"measurement": "00" * 32, "signer_id": "00"}]},
        {"platform_sw_components": [{"measurement": "00" * 32, "type": 1}]},
        {"platform_sw_components": ["x"]},
        {"platform_sw_components": "x"},
        {"nonce": "00"},
    ],
)
def test_policy_validation(cca: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as err:
        _policy(cca)
    assert err.value.reason is Reason.INVALID_POLICY


def test_policy_round_trip() -> None:
    pol = _policy(
        {
            "allowed_lifecycle_states": ["secured", "non-cca-platform-rot-debug"],
            "platform_sw_components": [
                {"type": "RMM", "measurement": "aa" * 32, "signer_id": "bb" * 48, "version": "1"}
            ],
            "realm_extensible_measurements": [None, ["cc" * 64], None, None],
            "platform_config": ["cfcf"],
        }
    )
    assert Policy.from_dict(pol.to_dict()) == pol
    assert Policy.default().to_dict().get("cca") is None
    ref = SwComponentReference(measurement=b"\x01" * 32)
    assert ref.to_dict() == {"measurement": "01" * 32}
