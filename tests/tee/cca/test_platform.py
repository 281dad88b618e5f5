"""Arm CCA platform claim set: profiles, lifecycle, software components, 2024 claims."""

from __future__ import annotations

from typing import Any

import pytest

from cocoverify import EvidenceError, MalformedEvidence, Reason
from cocoverify.tee.cca.claims import platform_claims
from cocoverify.tee.cca.platform import (
    PLATFORM_PROFILE_2023,
    PLATFORM_PROFILE_2024,
    PLATFORM_PROFILE_LEGACY,
    lifecycle_state,
    validate_platform_claims,
)
from cocoverify_testing.cca import CcaTokenBuilder

B = CcaTokenBuilder()


def _reason(fn: Any, *args: Any) -> tuple[Reason, str | None]:
    with pytest.raises(EvidenceError) as err:
        fn(*args)
    return err.value.reason, getattr(err.value, "field", None)


def _platform(**changes: Any) -> dict[Any, Any]:
    claims = B.platform_claims()
    for k, v in changes.items():
        key = int(k[1:])
        if v is None:
            claims.pop(key)
        else:
            claims[key] = v
    return claims


@pytest.mark.parametrize("profile", [PLATFORM_PROFILE_LEGACY, PLATFORM_PROFILE_2023])
def test_platform_profiles(profile: str) -> None:
    assert validate_platform_claims(_platform(k265=profile)).profile == profile


def test_platform_2024_profile_extras() -> None:
    dev = {2: bytes(32), 3: bytes(32), 4: True, 5: "spdm-1.2.0", 6: bytes(32), 7: "gpu"}
    cxl = {2: bytes(48), 3: bytes(48), 4: False, 5: "tdisp", 7: "cxl-type-3", 8: 2}
    rot = {1: "BL1", 2: 0, 3: 1, 4: bytes(32)}
    claims = validate_platform_claims(
        _platform(k265=PLATFORM_PROFILE_2024, k2394=1, k2404=[dev, cxl], k2405=[rot], k2403=b"m")
    )
    assert claims.client_id == 1 and claims.devices is not None and len(claims.devices) == 2
    assert platform_claims(claims)["tbb_rotpk"][0]["name"] == "BL1"
    for bad in (
        {**dev, 6: None},  # vca-digest required for SPDM
        {k: v for k, v in dev.items() if k != 6},
        {**cxl, 8: 3},
        {k: v for k, v in cxl.items() if k != 8},  # encryption-type required for cxl-type-3
        {**dev, 4: 1},  # uses-ide must be a bool
    ):
        bad = {k: v for k, v in bad.items() if v is not None}
        with pytest.raises(MalformedEvidence):
            validate_platform_claims(_platform(k265=PLATFORM_PROFILE_2024, k2394=1, k2404=[bad]))
    with pytest.raises(MalformedEvidence) as err:
        validate_platform_claims(_platform(k265=PLATFORM_PROFILE_2024, k2394=2))
    assert err.value.field == "platform.client_id"
    with pytest.raises(MalformedEvidence):
        validate_platform_claims(
            _platform(k265=PLATFORM_PROFILE_2024, k2394=1, k2405=[{**rot, 2: -1}])
        )


@pytest.mark.parametrize(
    ("value", "state"),
    [
        (0x0000, "unknown"),
        (0x10FF, "assembly-and-test"),
        (0x2000, "cca-platform-rot-provisioning"),
        (0x3003, "secured"),
        (0x4000, "non-cca-platform-rot-debug"),
        (0x5000, "recoverable-cca-platform-rot-debug"),
        (0x60FF, "decommissioned"),
        (0x0100, None),
        (0x7000, None),
        (0x10000, None),
    ],
)
def test_lifecycle_ranges(value: int, state: str | None) -> None:
    assert lifecycle_state(value) == state


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"k2395": True}, "platform.lifecycle"),
        ({"k2395": -1}, "platform.lifecycle"),
        ({"k2399": [{1: 7, 2: bytes(32), 5: bytes(32)}]}, "platform.sw_components[0].type"),
        ({"k2399": [{2: bytes(32), 4: 1, 5: bytes(32)}]}, "platform.sw_components[0].version"),
        ({"k2399": [{2: bytes(32), 5: bytes(32), 6: b"x"}]}, "platform.sw_components[0].hash_algo"),
        ({"k2399": ["x"]}, "platform.sw_components[0]"),
        ({"k2402": 1}, "platform.hash_algo_id"),
        ({"k265": 1}, "platform.profile"),
    ],
)
def test_platform_claim_types(change: dict[str, Any], field: str) -> None:
    assert _reason(validate_platform_claims, _platform(**change)) == (Reason.MALFORMED, field)


def test_unknown_platform_and_component_keys_are_ignored() -> None:
    comp = {1: "BL", 2: bytes(32), 3: 1, 5: bytes(32), 99: "x", "vendor": 1}
    claims = validate_platform_claims({**_platform(k2399=[comp]), 77777: 1, "x-v": "y"})
    assert claims.sw_components[0].type == "BL"


def test_float_claim_key_is_not_a_claim() -> None:
    claims = _platform()
    claims[10.0] = claims.pop(10)
    assert _reason(validate_platform_claims, claims)[1] == "platform.payload"
