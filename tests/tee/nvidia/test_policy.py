"""The ``gpu:`` policy section: reference measurements inline and from a file, version and
arch allow-lists, the revocation requirement, round trips and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import cocoverify
from cocoverify import CocoverifyError, ConfigurationError, Policy, Reason
from cocoverify.tee.nvidia import GpuPolicy, load_reference_values
from cocoverify_testing.nvidia import NOW, FakeNvidiaPki, build_report
from cocoverify_testing.nvidia.report import NONCE
from cocoverify_testing.pki import fill, pem

from .test_verify import _collateral

PKI = FakeNvidiaPki()
REPORT = build_report(PKI)
M5 = fill("nvidia-measurement-5", 48)


def _verify(policy: Policy, *crls: object) -> cocoverify.VerificationResult:
    return cocoverify.verify(
        REPORT,
        collateral=_collateral(PKI.chain_pem(), *crls),
        trust=PKI.trust(),
        at=NOW,
        policy=policy,
        expected_report_data=NONCE,
    )


def test_measurements_pass_and_fail() -> None:
    ok = _verify(Policy.from_dict({"gpu": {"measurements": {"5": M5.hex()}}}))
    assert any(v.rule == "measurement5" and v.passed for v in ok.policy)
    with pytest.raises(CocoverifyError) as info:
        _verify(Policy.from_dict({"gpu": {"measurements": {5: [bytes(48).hex()]}}}))
    assert info.value.reason is Reason.MEASUREMENT_MISMATCH and info.value.exit_code == 5
    with pytest.raises(CocoverifyError) as info:  # a block the report lacks
        _verify(Policy.from_dict({"gpu": {"measurements": {"99": M5.hex()}}}))
    assert info.value.reason is Reason.MEASUREMENT_MISMATCH


def test_reference_values_file(tmp_path: Path) -> None:
    ref = tmp_path / "ref.json"
    ref.write_text(
        json.dumps(
            {
                "measurements": {
                    "5": [M5.hex(), "00" * 48],
                    "6": fill("nvidia-measurement-6", 48).hex(),
                }
            }
        )
    )
    values = load_reference_values(str(ref))
    assert [i for i, _ in values] == [5, 6]
    assert _verify(Policy.from_dict({"gpu": {"reference_values_file": str(ref)}})).accepted
    ref.write_text(json.dumps({"5": "00" * 48}))
    with pytest.raises(CocoverifyError):
        _verify(Policy.from_dict({"gpu": {"reference_values_file": str(ref)}}))


def test_versions_and_arch() -> None:
    good = {
        "driver_versions": ["550.90.07"],
        "vbios_versions": ["96.00.9f.00.01"],
        "arches": ["Hopper"],
    }
    result = _verify(Policy.from_dict({"gpu": good}))
    assert {v.rule for v in result.policy} >= {"driver_versions", "vbios_versions", "arches"}
    with pytest.raises(CocoverifyError) as info:
        _verify(Policy.from_dict({"gpu": {"driver_versions": ["535.0"]}}))
    assert info.value.reason is Reason.POLICY_REJECTED


def test_require_revocation_check() -> None:
    policy = Policy.from_dict({"gpu": {"require_revocation_check": True}})
    with pytest.raises(CocoverifyError) as info:
        _verify(policy)
    assert info.value.reason is Reason.CRL_MISSING
    assert _verify(policy, PKI.crl("brom")).accepted


def test_round_trip_and_bad_input() -> None:
    section = GpuPolicy.from_dict("gpu", {"measurements": {"5": M5.hex()}, "arches": "Hopper"})
    assert GpuPolicy.from_dict("gpu", section.to_dict()) == section
    assert Policy.from_dict({"gpu": section.to_dict()}).to_dict()["gpu"] == section.to_dict()
    for bad in (
        {"measurements": {"0": M5.hex()}},
        {"measurements": {"5": []}},
        {"measurements": {"5": "zz"}},
        {"measurements": [M5.hex()]},
        {"unknown": 1},
        {"require_revocation_check": "yes"},
        {"driver_versions": [1]},
        {"reference_values_file": "/nonexistent/ref.json"},
    ):
        with pytest.raises(ConfigurationError):
            GpuPolicy.from_dict("gpu", bad)


def test_gpu_section_pins_the_tee() -> None:
    assert "gpu" in Policy.from_dict({"allowed_tees": ["gpu"]}).allowed_tees
    assert pem(PKI.root)
