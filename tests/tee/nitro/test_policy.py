"""The ``nitro:`` policy section: PCRs (any index), module ID patterns, document age,
user_data / public_key / nonce lists; debug refused by default; the nonce binding."""

from __future__ import annotations

import datetime as _dt

import pytest

import cocoverify
from cocoverify import ConfigurationError, MeasurementMismatch, Policy, PolicyRejected, Reason
from cocoverify.tee.nitro.policy import NitroPolicy
from cocoverify_testing.nitro import NOW, NitroDocumentBuilder, default_pcrs
from cocoverify_testing.pki import fill

B = NitroDocumentBuilder()
TRUST = B.pki.trust()
GOOD = B.build()
PCRS = default_pcrs()
AT = "2026-01-01T00:00:00Z"


def _verify(data: bytes = GOOD, policy: dict | None = None, **kw: object) -> object:
    return cocoverify.verify(
        data, at=kw.pop("at", AT), trust=TRUST, policy=Policy.from_dict(policy), **kw
    )


def _rejected(data: bytes = GOOD, policy: dict | None = None, **kw: object) -> PolicyRejected:
    with pytest.raises(PolicyRejected) as err:
        _verify(data, policy, **kw)
    assert err.value.result is not None
    return err.value


def test_pcrs_any_index() -> None:
    policy = {"nitro": {"pcrs": {0: PCRS[0].hex(), "8": [PCRS[8].hex(), "00" * 48]}}}
    result = _verify(policy=policy)
    rules = {v.rule: v.passed for v in result.policy}  # type: ignore[attr-defined]
    assert rules["pcr0"] and rules["pcr8"]
    err = _rejected(policy={"nitro": {"pcrs": {4: "11" * 48}}})
    assert isinstance(err, MeasurementMismatch) and err.reason is Reason.MEASUREMENT_MISMATCH
    assert err.claim == "pcr4"
    # PCR16 is extended at run time; pinning one the document lacks fails
    with_16 = B.with_fields(pcrs={**PCRS, 16: fill("pcr16", 48)}).build()
    assert _verify(with_16, {"nitro": {"pcrs": {16: fill("pcr16", 48).hex()}}})
    assert _rejected(policy={"nitro": {"pcrs": {16: fill("pcr16", 48).hex()}}}).reason is (
        Reason.MEASUREMENT_MISMATCH
    )


def test_pcr_values_of_other_sizes_are_compared_as_bytes() -> None:
    doc = B.with_fields(pcrs={0: fill("a", 32), 1: fill("b", 64), 2: fill("c", 48)}).build()
    assert _verify(doc, {"nitro": {"pcrs": {0: fill("a", 32).hex(), 1: fill("b", 64).hex()}}})


def test_module_id_patterns() -> None:
    assert _verify(policy={"nitro": {"module_id_patterns": ["i-0123*-enc*"]}})
    err = _rejected(policy={"nitro": {"module_id_patterns": ["i-9*", "I-0123*"]}})
    assert err.reason is Reason.POLICY_REJECTED  # case-sensitive, whole ID


def test_maximum_age() -> None:
    later = (NOW + _dt.timedelta(seconds=60)).isoformat()
    assert _verify(policy={"nitro": {"max_age_seconds": 60}}, at=later)
    err = _rejected(policy={"nitro": {"max_age_seconds": 59}}, at=later)
    assert err.reason is Reason.POLICY_REJECTED
    assert err.result is not None and err.result.collateral["document_age_ms"] == 60000


def test_user_data_public_key_and_nonce_lists() -> None:
    doc = B.with_fields(user_data=b"hello", public_key=b"key").build()
    assert _verify(doc, {"nitro": {"user_data": ["68656c6c6f"], "public_key": "6b6579"}})
    assert _rejected(doc, {"nitro": {"user_data": ["00"]}}).reason is Reason.MEASUREMENT_MISMATCH
    # absent (null) fields match no listed value
    assert _rejected(policy={"nitro": {"public_key": ["00"]}}).reason is (
        Reason.MEASUREMENT_MISMATCH
    )


def test_debug_mode_refused_by_default() -> None:
    debug = B.with_fields(pcrs=default_pcrs(debug=True)).build()
    err = _rejected(debug)
    assert err.reason is Reason.DEBUG_ENABLED
    assert err.result is not None and any("debug-mode" in w for w in err.result.warnings)
    assert _verify(debug, {"unsafe_allow_debug": True})
    # one non-zero PCR of 0..2 is not debug mode
    pcrs = default_pcrs(debug=True)
    pcrs[2] = fill("app", 48)
    assert _verify(B.with_fields(pcrs=pcrs).build())
    # a missing PCR0..2 counts as zero
    only_high = {i: fill(f"p{i}", 48) for i in range(3, 16)}
    assert _rejected(B.with_fields(pcrs=only_high).build()).reason is Reason.DEBUG_ENABLED


def test_nonce_binding_through_expected_report_data() -> None:
    nonce = fill("nitro-nonce", 32)
    assert _verify(expected_report_data=nonce)
    assert _verify(expected_report_data=nonce.hex())
    err = _rejected(expected_report_data=nonce[:-1] + b"\x00")
    assert err.reason is Reason.REPORT_DATA_MISMATCH
    # longer than the nonce: mismatch; no nonce at all: mismatch
    assert _rejected(expected_report_data=nonce + b"\x01").reason is Reason.REPORT_DATA_MISMATCH
    no_nonce = B.with_fields(nonce=None).build()
    assert _rejected(no_nonce, expected_report_data=nonce).reason is Reason.REPORT_DATA_MISMATCH


@pytest.mark.parametrize(
    ("section", "where"),
    [
        ({"pcrs": {32: "00" * 48}}, "nitro.pcrs"),
        ({"pcrs": {"x": "00" * 48}}, "nitro.pcrs"),
        ({"pcrs": {0: "00" * 20}}, "nitro.pcrs.0"),
        ({"pcrs": {0: []}}, "nitro.pcrs.0"),
        ({"pcrs": {0: "zz"}}, "nitro.pcrs.0"),
        ({"pcrs": {0: "00" * 48, "0": "00" * 48}}, "nitro.pcrs.0"),
        ({"pcrs": ["00" * 48]}, "nitro.pcrs"),
        ({"module_id_patterns": []}, "nitro.module_id_patterns"),
        ({"module_id_patterns": [1]}, "nitro.module_id_patterns"),
        ({"max_age_seconds": -1}, "nitro.max_age_seconds"),
        ({"max_age_seconds": "1"}, "nitro.max_age_seconds"),
        ({"user_data": "xyz"}, "nitro.user_data"),
        ({"pcr0": "00"}, "nitro.pcr0"),
    ],
)
def test_bad_sections(section: dict, where: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        Policy.from_dict({"nitro": section})
    assert err.value.reason is Reason.INVALID_POLICY
    assert where in str(err.value)


def test_round_trip_and_defaults() -> None:
    data = {
        "pcrs": {"0": ["00" * 48], "16": ["11" * 32, "22" * 32]},
        "module_id_patterns": ["i-*"],
        "max_age_seconds": 300,
        "nonce": ["abcd"],
    }
    policy = Policy.from_dict({"nitro": data})
    assert policy.to_dict()["nitro"] == {
        **data,
        "pcrs": {"0": ["00" * 48], "16": ["11" * 32, "22" * 32]},
    }
    assert Policy.from_dict(policy.to_dict()) == policy
    assert NitroPolicy().to_dict() == {} and "nitro" not in Policy().to_dict()
    # a section given in code takes mappings of bytes as well
    section = NitroPolicy(pcrs={0: [PCRS[0]]}, module_id_patterns=("i-*",))
    assert section.pcrs == ((0, frozenset({PCRS[0]})),)
    assert hash(section) == hash(NitroPolicy(pcrs={0: [PCRS[0]]}, module_id_patterns=("i-*",)))
    assert _verify(policy=None) and Policy(nitro=section).nitro is section


def test_policy_pinning_nitro_only_rejects_other_tees() -> None:
    policy = Policy.from_dict({"nitro": {"pcrs": {0: PCRS[0].hex()}}})
    assert policy.evaluate  # a section with values pins the TEE (allowed_tees default)
    with pytest.raises(ConfigurationError):
        Policy.from_dict({"allowed_tees": ["nitro", "sev"]})
    assert Policy.from_dict({"allowed_tees": ["nitro"]}).allowed_tees == frozenset({"nitro"})
