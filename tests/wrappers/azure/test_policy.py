"""The az-snp-vtpm / az-tdx-vtpm policy section: PCRs, VM configuration flags, init data."""

from __future__ import annotations

import hashlib

import pytest

from cocoverify import ConfigurationError, Policy
from cocoverify.wrappers.azure import AzurePolicy, appraise_evidence
from cocoverify_testing.azure import AzureBuilder


def _appraisal(**kw: object):  # type: ignore[no-untyped-def]
    b = AzureBuilder(**kw)  # type: ignore[arg-type]
    return appraise_evidence(b.evidence(), inner=b.inner())


def _failed(section: AzurePolicy, a) -> list[str]:  # type: ignore[no-untyped-def]
    return [v.rule for v in section.rules(a) if not v.passed]


def test_unset_section_has_no_rules() -> None:
    assert AzurePolicy().rules(_appraisal()) == [] and AzurePolicy().to_dict() == {}


def test_pcrs() -> None:
    a = _appraisal()
    ok = AzurePolicy.from_dict("p", {"pcrs": {"0": "00" * 32, 7: ["07" * 32, "ff" * 32]}})
    assert _failed(ok, a) == []
    bad = AzurePolicy.from_dict("p", {"pcrs": {"4": "00" * 32}})
    assert _failed(bad, a) == ["pcr04"]


def test_vm_configuration_flags() -> None:
    a = _appraisal()  # console off, secure boot on, TPM on
    assert _failed(AzurePolicy(secure_boot=True, tpm_enabled=True, console_enabled=False), a) == []
    assert _failed(AzurePolicy(console_enabled=True), a) == ["console_enabled"]
    off = _appraisal(vm_configuration={"secure-boot": False, "tpm-enabled": True})
    assert _failed(AzurePolicy(secure_boot=True, console_enabled=False), off) == [
        "secure_boot",
        "console_enabled",  # missing flag fails a set knob
    ]


def test_init_data_is_one_extend_of_pcr8() -> None:
    h = bytes.fromhex("8505e4e2" + "00" * 28)
    pcrs = [bytes(32)] * 24
    pcrs[8] = hashlib.sha256(bytes(32) + h).digest()
    a = _appraisal(pcrs=pcrs)
    assert _failed(AzurePolicy.from_dict("p", {"init_data": h.hex()}), a) == []
    assert _failed(AzurePolicy.from_dict("p", {"init_data": "11" * 32}), a) == ["init_data"]


def test_from_dict_rejects_bad_values() -> None:
    for doc in (
        {"pcrs": {"24": "00" * 32}},
        {"pcrs": {"0": "00"}},
        {"secure_boot": "yes"},
        {"x": 1},
    ):
        with pytest.raises(ConfigurationError):
            AzurePolicy.from_dict("p", doc)


def test_policy_document_sections_and_round_trip() -> None:
    doc = {"az-snp-vtpm": {"secure_boot": True, "pcrs": {"0": ["11" * 32]}}}
    policy = Policy.from_dict(doc)
    assert policy.section("az-snp-vtpm").secure_boot is True
    assert policy.to_dict()["az-snp-vtpm"] == doc["az-snp-vtpm"]
    verdicts = policy.evaluate(_appraisal(), expected_report_data=b"challenge")
    failed = [v.rule for v in verdicts if not v.passed]
    assert failed == ["pcr00"]
