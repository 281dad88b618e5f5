"""NVIDIA RIMs (SWID tags) as collateral: reference measurements per index, selected by the
device's driver / VBIOS version, compared by the ``gpu`` policy (RIM index i = block i + 1);
the RIM signature is NOT verified and every result says so. Through ``verify()`` and the CLI
(the RIM file recognised by content)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cocoverify
from cocoverify import CocoverifyError, MeasurementMismatch, Policy, Reason
from cocoverify.collateral import Collateral
from cocoverify.result import to_jsonable
from cocoverify.tee.nvidia.rim import parse_rim, rim_document
from cocoverify_testing.nvidia import NOW, FakeNvidiaPki, build_report, build_rim, evidence_json
from cocoverify_testing.nvidia.report import NONCE
from cocoverify_testing.pki import fill, pem

from _shared.cli import run_cli

PKI = FakeNvidiaPki()
DRIVER = "550.90.07"
VBIOS = "96.00.9F.00.01"  # the report says 96.00.9f.00.01: compared case-insensitively


def _block(n: int) -> bytes:
    """The fake report's value of measurement block n (cocoverify_testing.nvidia.report)."""
    return fill(f"nvidia-measurement-{n}", 48)


def _driver_rim(**changes: list[bytes]) -> bytes:
    values = {i: [_block(i + 1)] for i in range(0, 32)}
    for key, v in changes.items():
        values[int(key.removeprefix("i"))] = v
    return build_rim(DRIVER, values, tag_id="DRIVER_RIM")


def _vbios_rim() -> bytes:
    return build_rim(VBIOS, {i: [_block(i + 1)] for i in range(32, 64)}, tag_id="VBIOS_RIM")


def _verify(*rims: bytes, policy: Policy | None = None, evidence: bytes | None = None):  # type: ignore[no-untyped-def]
    coll = Collateral.from_bytes(PKI.chain_pem(), source="chain.pem") + Collateral(
        documents=tuple(rim_document(r) for r in rims)
    )
    return cocoverify.verify(
        evidence if evidence is not None else build_report(PKI),
        collateral=coll,
        trust=PKI.trust(),
        at=NOW,
        expected_report_data=NONCE,
        policy=policy,
    )


def test_parse_reads_indices_alternatives_and_activity() -> None:
    rim = parse_rim(build_rim("1.0", {0: [b"\1" * 48, b"\2" * 48], 3: [b"\3" * 48]}, inactive=[3]))
    assert rim.version == "1.0" and rim.tag_id == "FAKE_NVIDIA_RIM" and rim.has_signature
    assert [(m.index, m.active, len(m.values)) for m in rim.measurements] == [
        (0, True, 2),
        (3, False, 1),
    ]
    assert rim.record()["signature_verified"] is False


def test_matching_rims_accept_and_say_the_signature_is_not_verified() -> None:
    result = _verify(_driver_rim(), _vbios_rim())
    assert any("RIM signature NOT verified" in w for w in result.warnings)
    rim = to_jsonable(result.collateral)["rim"]
    assert rim["signature_verified"] is False
    assert sorted(r["tag_id"] for r in rim["rims"]) == ["DRIVER_RIM", "VBIOS_RIM"]
    assert set(rim["reference_blocks"]) == {str(i) for i in range(1, 65)}
    assert all(r["signature_verified"] is False for r in result.claims["reference_rims"])
    rules = {v.rule for v in result.policy if v.rule.startswith("rim_measurement")}
    assert len(rules) == 64


def test_a_measurement_off_the_rim_is_rejected_naming_the_index() -> None:
    with pytest.raises(MeasurementMismatch) as err:
        _verify(_driver_rim(i4=[b"\x55" * 48]), _vbios_rim())
    assert (err.value.reason, err.value.exit_code) == (Reason.MEASUREMENT_MISMATCH, 5)
    assert err.value.claim == "rim_measurement5"
    assert "measurement block 5 (RIM index 4)" in str(err.value)
    # one alternative matching is enough; an inactive measurement is not compared
    assert _verify(_driver_rim(i4=[b"\x55" * 48, _block(5)])).accepted
    values = {i: [_block(i + 1)] for i in range(0, 32)}
    values[4] = [b"\x55" * 48]
    assert _verify(build_rim(DRIVER, values, inactive=[4])).accepted


def test_rims_for_other_versions_or_overlapping_are_collateral_errors() -> None:
    with pytest.raises(CocoverifyError) as err:
        _verify(build_rim("535.00.00", {0: [_block(1)]}))
    assert (err.value.reason, err.value.exit_code) == (Reason.COLLATERAL_MISMATCH, 4)
    overlap = build_rim(VBIOS, {0: [_block(1)]})
    with pytest.raises(CocoverifyError) as err:
        _verify(_driver_rim(), overlap)
    assert (err.value.reason, err.value.exit_code) == (Reason.COLLATERAL_MISMATCH, 4)


@pytest.mark.parametrize(
    "text",
    [
        b"<SoftwareIdentity",  # not XML
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><SoftwareIdentity/>',
        b'<SoftwareIdentity xmlns="urn:other" version="1"><Payload/></SoftwareIdentity>',
        build_rim(DRIVER, {0: [b"\1" * 47]}),  # not a SHA-384 digest
        build_rim(DRIVER, {0: [b"\1" * 48]}).replace(b'alternatives="1"', b'alternatives="2"'),
        build_rim(DRIVER, {0: [b"\1" * 48]}).replace(b'active="True"', b'active="maybe"'),
        build_rim(DRIVER, {0: [b"\1" * 48]}).replace(b'version="550.90.07" ', b""),
    ],
    ids=[
        "not-xml",
        "doctype",
        "not-swid",
        "short-hash",
        "missing-alternative",
        "active",
        "no-version",
    ],
)
def test_malformed_rims(text: bytes) -> None:
    with pytest.raises(CocoverifyError) as err:
        _verify(text)
    assert (err.value.reason, err.value.exit_code) == (Reason.COLLATERAL_MALFORMED, 4)


def test_require_rim() -> None:
    policy = Policy.from_dict({"gpu": {"require_rim": True}})
    with pytest.raises(CocoverifyError) as err:
        _verify(policy=policy)
    assert (err.value.reason, err.value.exit_code) == (Reason.POLICY_REJECTED, 5)
    assert _verify(_driver_rim(), policy=policy).accepted
    assert policy.to_dict()["gpu"] == {"require_rim": True}


def test_every_device_of_a_list_is_compared() -> None:
    other = FakeNvidiaPki("second")
    data = evidence_json([(PKI, build_report(PKI)), (other, build_report(other))])
    trust = cocoverify.TrustStore.from_certificates(nvidia=[PKI.root])
    result = cocoverify.verify(
        data,
        collateral=Collateral(documents=(rim_document(_driver_rim()),)),
        trust=trust,
        at=NOW,
        expected_report_data=NONCE,
    )
    names = {v.rule for v in result.policy if v.rule.endswith("rim_measurement1")}
    assert names == {"device[0].rim_measurement1", "device[1].rim_measurement1"}


def test_cli_reads_rim_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "report.bin").write_bytes(build_report(PKI))
    (tmp_path / "chain.pem").write_bytes(PKI.chain_pem())
    (tmp_path / "root.pem").write_bytes(pem(PKI.root))
    base = [
        "verify", str(tmp_path / "report.bin"), "--collateral", str(tmp_path / "chain.pem"),
        "--trust-root", str(tmp_path / "root.pem"), "--report-data", NONCE.hex(),
        "--at", NOW.isoformat(), "--format", "json",
    ]  # fmt: skip
    (tmp_path / "driver.swidtag").write_bytes(_driver_rim())
    code, _ = run_cli(capsys, *base, "--collateral", str(tmp_path / "driver.swidtag"))
    assert code == 0
    (tmp_path / "driver.swidtag").write_bytes(_driver_rim(i0=[b"\x11" * 48]))
    code, out = run_cli(capsys, *base, "--collateral", str(tmp_path / "driver.swidtag"))
    assert code == 5 and "rim_measurement1" in out
