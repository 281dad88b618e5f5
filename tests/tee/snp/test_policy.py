"""The ``snp`` policy section: file form, validation and every rule both ways (docs/snp.md,
"Policy knobs")."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cocoverify import verify
from cocoverify.collateral import Collateral
from cocoverify.errors import ConfigurationError, MeasurementMismatch, PolicyRejected, Reason
from cocoverify.policy import Policy, SnpPolicy
from cocoverify.tee.snp.tcb import TcbVersion
from cocoverify.trust import TrustStore
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, SnpReportBuilder

M = FakeAmdPKI("Milan")
T = FakeAmdPKI("Turin")
TRUST = TrustStore.from_certificates(amd={"Milan": [M.ark], "Turin": [T.ark]})
logging.getLogger("cocoverify.policy").setLevel(logging.ERROR)


def _run(builder: SnpReportBuilder, policy: dict[str, Any]) -> Any:
    pki = T if builder.product == "Turin" else M
    rep = builder.sign(pki)
    coll = Collateral(chains=((pki.vcek_for(rep), pki.ask, pki.ark),))
    return verify(
        rep, collateral=coll, trust=TRUST, at=VECTOR_TIME, policy=Policy.from_dict(policy)
    )


def _rejected(builder: SnpReportBuilder, policy: dict[str, Any], reason: Reason) -> str:
    with pytest.raises(PolicyRejected) as exc:
        _run(builder, policy)
    assert exc.value.reason is reason
    assert exc.value.result is not None
    return exc.value.result.failed_rules()[0].rule


MB = SnpReportBuilder.for_product("Milan")
TB = SnpReportBuilder.for_product("Turin")
MEAS = MB.report.measurement.hex()


def test_default_policy_accepts_a_plain_guest() -> None:
    res = _run(MB, {})
    assert [v.rule for v in res.policy] == ["tee", "debug", "migrate_ma", "smt"]


def test_debug_rejected_by_default() -> None:
    assert _rejected(MB.set(policy=0xB0000), {}, Reason.DEBUG_ENABLED) == "debug"
    assert _run(MB.set(policy=0xB0000), {"unsafe_allow_debug": True}).accepted


@pytest.mark.parametrize(
    ("key", "field", "length"),
    [
        ("measurement", "measurement", 48),
        ("host_data", "host_data", 32),
        ("family_id", "family_id", 16),
        ("image_id", "image_id", 16),
        ("id_key_digest", "id_key_digest", 48),
        ("author_key_digest", "author_key_digest", 48),
        ("chip_id", "chip_id", 64),
    ],
)
def test_allow_lists(key: str, field: str, length: int) -> None:
    value = getattr(MB.report, field)
    assert _run(MB, {"snp": {key: [value.hex(), "ab" * length]}}).accepted
    with pytest.raises(MeasurementMismatch) as exc:
        _run(MB, {"snp": {key: ["ab" * length]}})
    assert exc.value.claim == key


def test_vmpl() -> None:
    assert _run(MB, {"snp": {"vmpl": [0]}}).accepted
    assert _rejected(MB.set(vmpl=1), {"snp": {"vmpl": [0]}}, Reason.MEASUREMENT_MISMATCH) == "vmpl"


def test_min_guest_svn() -> None:
    assert _run(MB, {"snp": {"min_guest_svn": 1}}).accepted
    assert _rejected(MB, {"snp": {"min_guest_svn": 2}}, Reason.MEASUREMENT_MISMATCH)


@pytest.mark.parametrize("component", ["bootloader", "tee", "snp", "microcode"])
def test_min_reported_tcb_per_component(component: str) -> None:
    base = MB.report
    tcb = TcbVersion.decode(base.reported_tcb, "Milan")
    floor = getattr(tcb, component)
    assert _run(MB, {"snp": {"min_reported_tcb": {component: floor}}}).accepted
    rule = _rejected(
        MB, {"snp": {"min_reported_tcb": {component: floor + 1}}}, Reason.TCB_BELOW_MINIMUM
    )
    assert rule == f"min_reported_tcb.{component}"


def test_min_tcb_fmc_applies_to_turin_only() -> None:
    assert _run(MB, {"snp": {"min_reported_tcb": {"fmc": 9}}}).accepted
    assert (
        _rejected(TB, {"snp": {"min_reported_tcb": {"fmc": 2}}}, Reason.TCB_BELOW_MINIMUM)
        == "min_reported_tcb.fmc"
    )


def test_min_launch_tcb_uses_the_launch_tcb() -> None:
    low = TcbVersion(bootloader=3, tee=0, snp=19, microcode=209)
    b = MB.set(launch_tcb=low)
    assert _run(b, {"snp": {"min_reported_tcb": {"snp": 20}}}).accepted
    assert (
        _rejected(b, {"snp": {"min_launch_tcb": {"snp": 20}}}, Reason.TCB_BELOW_MINIMUM)
        == "min_launch_tcb.snp"
    )


def test_min_firmware_build_and_version() -> None:
    assert _run(MB, {"snp": {"min_firmware_build": 10, "min_firmware_version": "1.55"}}).accepted
    assert _rejected(MB, {"snp": {"min_firmware_build": 11}}, Reason.TCB_BELOW_MINIMUM)
    assert (
        _rejected(MB, {"snp": {"min_firmware_version": "1.56"}}, Reason.TCB_BELOW_MINIMUM)
        == "min_firmware_version"
    )
    assert _rejected(MB, {"snp": {"min_firmware_version": "2.0"}}, Reason.TCB_BELOW_MINIMUM)


def test_committed_equals_current() -> None:
    older = TcbVersion(bootloader=3, tee=0, snp=19, microcode=209)
    for b in (MB.set(committed_tcb=older), MB.set(committed_build=9)):
        assert _run(b, {}).accepted  # off by default: genuine reports run provisional firmware
        assert (
            _rejected(
                b, {"snp": {"require_committed_equals_current": True}}, Reason.TCB_BELOW_MINIMUM
            )
            == "require_committed_equals_current"
        )
    assert _run(MB, {"snp": {"require_committed_equals_current": True}}).accepted


def test_migration_agent_rejected_by_default() -> None:
    b = MB.set(policy=0x70000)
    assert _rejected(b, {}, Reason.ATTRIBUTE_REJECTED) == "migrate_ma"
    assert _run(b, {"snp": {"allow_migration_agent": True}}).accepted


def test_smt() -> None:
    assert _rejected(MB, {"snp": {"allow_smt": False}}, Reason.ATTRIBUTE_REJECTED) == "smt"
    assert _run(MB.set(platform_info=0x24), {"snp": {"allow_smt": False}}).accepted


# --- file form -------------------------------------------------------------------------------


def test_round_trip() -> None:
    doc = {
        "measurement": [MEAS],
        "vmpl": [0, 1],
        "min_guest_svn": 1,
        "min_reported_tcb": {"bootloader": 3, "microcode": 200},
        "min_launch_tcb": {"fmc": 1},
        "min_firmware_build": 4,
        "min_firmware_version": "1.55",
        "require_committed_equals_current": True,
        "allow_migration_agent": True,
        "allow_smt": False,
    }
    p = SnpPolicy.from_dict("snp", doc)
    assert p.to_dict() == doc
    assert SnpPolicy.from_dict("snp", p.to_dict()) == p
    assert Policy.from_dict({"snp": doc}).to_dict()["snp"] == doc
    hash(p)
    assert SnpPolicy().to_dict() == {}


@pytest.mark.parametrize(
    "doc",
    [
        {"measurement": ["00" * 47]},
        {"host_data": "zz"},
        {"vmpl": ["0"]},
        {"min_guest_svn": -1},
        {"min_reported_tcb": {"pl": 1}},
        {"min_reported_tcb": {"snp": 256}},
        {"min_reported_tcb": {"snp": True}},
        {"min_reported_tcb": [1, 2]},
        {"min_firmware_version": "1"},
        {"min_firmware_version": "1.x"},
        {"min_firmware_version": "1.300"},
        {"allow_smt": "yes"},
        {"unknown_key": 1},
    ],
)
def test_invalid_documents(doc: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as exc:
        Policy.from_dict({"snp": doc})
    assert exc.value.reason is Reason.INVALID_POLICY


def test_constructed_directly_normalises() -> None:
    p = SnpPolicy(min_reported_tcb={"snp": 3}, min_firmware_version="1.2")  # type: ignore[arg-type]
    assert p.min_reported_tcb == (("snp", 3),)
    assert p.min_firmware_version == (1, 2)


# --- a numeric firmware version silently lost the minor's width ----------------------------


@pytest.mark.parametrize("value", [1.50, 1.5, 1, 1.10])
def test_min_firmware_version_must_be_a_string(value: float) -> None:
    # YAML `min_firmware_version: 1.50` is the float 1.5: it used to mean 1.5 (minor 5),
    # which firmware 1.49 passes
    with pytest.raises(ConfigurationError) as exc:
        Policy.from_dict({"snp": {"min_firmware_version": value}})
    assert exc.value.reason is Reason.INVALID_POLICY
    assert Policy.from_dict({"snp": {"min_firmware_version": "1.50"}}).snp.min_firmware_version == (
        1,
        50,
    )
