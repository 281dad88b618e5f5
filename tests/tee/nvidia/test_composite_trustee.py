"""Composite evidence whose primary is trustee's SNP evidence JSON (``SnpEvidence``
``{attestation_report, cert_chain}``) and whose ``nvidia`` entry lists several GPUs: one part
and one EAR submodule per device (``cpu0``, ``gpu0``, ``gpu1``, ...), through
``verify_composite`` (with the trustee adapter's ``composite_primary`` hook) and the CLI.
Generated (fake AMD and NVIDIA PKIs) and real (trustee's e2e SNP evidence JSON with the real
Hopper report) evidence."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

import cocoverify
from cocoverify.api import verify_composite
from cocoverify.errors import Reason
from cocoverify.integrations.ear import to_composite_ear
from cocoverify.integrations.trustee import composite_primary
from cocoverify.trust import TrustStore
from cocoverify.wrappers.composite import kbs_parts
from cocoverify_testing.nvidia import FakeNvidiaPki, ReportSpec, build_report
from cocoverify_testing.pki import pem
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, SnpReportBuilder

from _shared import require_shared, shared_manifest
from _shared.cli import run_cli

AMD = FakeAmdPKI("Milan")
GPUS = (FakeNvidiaPki(), FakeNvidiaPki("second"), FakeNvidiaPki("third"))
NONCE = hashlib.sha384(b"kbs runtime data, several GPUs").digest()


def _trust() -> TrustStore:
    return TrustStore.from_certificates(amd={"Milan": [AMD.ark]}, nvidia=[g.root for g in GPUS])


def _snp_json(report_data: bytes = NONCE) -> dict[str, Any]:
    report = (
        SnpReportBuilder.for_product("Milan")
        .set(report_data=report_data.ljust(64, b"\0"))
        .sign(AMD)
    )
    chain = [
        {"cert_type": t, "data": list(c.public_bytes(Encoding.DER))}
        for t, c in (("VCEK", AMD.vcek_for(report)), ("ASK", AMD.ask), ("ARK", AMD.ark))
    ]
    return {"attestation_report": list(report), "cert_chain": chain}


def _device(pki: FakeNvidiaPki, n: int, nonce: bytes = NONCE[:32]) -> dict[str, Any]:
    return {
        "arch": "HOPPER",
        "uuid": f"GPU-{n}",
        "evidence": build_report(pki, ReportSpec(nonce=nonce)).hex(),
        "certificate": base64.b64encode(pki.chain_pem()).decode(),
    }


def _kbs(primary: Any, devices: list[dict[str, Any]]) -> bytes:
    extra = {"nvidia": {"device_evidence_list": devices}}
    return json.dumps(
        {"primary_evidence": primary, "additional_evidence": json.dumps(extra)}
    ).encode()


def test_primary_hook_reads_trustee_snp_json() -> None:
    obj = _snp_json()
    data, carried = composite_primary(obj)  # type: ignore[misc]
    assert data == bytes(obj["attestation_report"])
    assert len(carried.chains) == 3  # VCEK, ASK, ARK from cert_chain
    assert composite_primary({"quote": "AAAA", "cc_eventlog": "AAAA"}) is None  # verify() reads it
    assert composite_primary({"device_evidence_list": []}) is None


def test_one_part_per_gpu_and_the_snp_json_primary() -> None:
    devices = [_device(g, n) for n, g in enumerate(GPUS)]
    data = _kbs(_snp_json(), devices)
    parts = kbs_parts(data, expected_report_data=NONCE, primary=composite_primary)
    assert [p.name for p in parts] == ["cpu0", "gpu0", "gpu1", "gpu2"]
    assert parts[0].collateral is not None and parts[1].collateral is None
    result = verify_composite(
        data, trust=_trust(), at=VECTOR_TIME, expected_report_data=NONCE, primary=composite_primary
    )
    assert result.accepted and result.exit_code == 0
    assert result.part("cpu0").result.tee == "snp"  # type: ignore[union-attr]
    for n in range(3):
        claims = result.part(f"gpu{n}").result.claims  # type: ignore[union-attr]
        assert claims["uuid"] == f"GPU-{n}" and "devices" not in claims
    ear = to_composite_ear({p.name: p.outcome for p in result.parts})
    assert list(ear["submods"]) == ["cpu0", "gpu0", "gpu1", "gpu2"]
    # without the hook the SNP object is not evidence verify() recognises
    plain = verify_composite(data, trust=_trust(), at=VECTOR_TIME, expected_report_data=NONCE)
    assert not plain.part("cpu0").accepted and plain.part("gpu2").accepted


def test_one_bad_gpu_rejects_only_its_part() -> None:
    devices = [_device(g, n) for n, g in enumerate(GPUS)]
    devices[1] = _device(GPUS[1], 1, nonce=bytes(32))
    result = verify_composite(
        _kbs(_snp_json(), devices),
        trust=_trust(),
        at=VECTOR_TIME,
        expected_report_data=NONCE,
        primary=composite_primary,
    )
    assert [p.accepted for p in result.parts] == [True, True, False, True]
    assert result.reason is Reason.REPORT_DATA_MISMATCH and result.exit_code == 5
    # another device's chain under this device's report: that part is not authentic
    devices = [_device(g, n) for n, g in enumerate(GPUS)]
    devices[2]["certificate"] = devices[0]["certificate"]
    result = verify_composite(
        _kbs(_snp_json(), devices),
        trust=_trust(),
        at=VECTOR_TIME,
        expected_report_data=NONCE,
        primary=composite_primary,
    )
    assert [p.accepted for p in result.parts] == [True, True, True, False]
    assert result.part("gpu2").error.exit_code == 3  # type: ignore[union-attr]


def test_cli_several_gpus_json_and_ear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    devices = [_device(g, n) for n, g in enumerate(GPUS)]
    (tmp_path / "ev.json").write_bytes(_kbs(_snp_json(), devices))
    (tmp_path / "ark.pem").write_bytes(pem(AMD.ark))
    roots = []
    for n, g in enumerate(GPUS):
        (tmp_path / f"nv{n}.pem").write_bytes(pem(g.root))
        roots += ["--trust-root", str(tmp_path / f"nv{n}.pem")]
    base = [
        "verify", str(tmp_path / "ev.json"), "--report-data", NONCE.hex(),
        "--at", VECTOR_TIME.isoformat(), "--trust-root", str(tmp_path / "ark.pem"), *roots,
    ]  # fmt: skip
    code, out = run_cli(capsys, *base, "--format", "json")
    doc = json.loads(out)
    assert code == 0 and doc["accepted"], out
    assert list(doc["parts"]) == ["cpu0", "gpu0", "gpu1", "gpu2"]
    code, out = run_cli(capsys, *base, "--format", "ear")
    ear = json.loads(out)
    assert code == 0 and list(ear["submods"]) == ["cpu0", "gpu0", "gpu1", "gpu2"]
    assert ear["submods"]["cpu0"]["cocoverify.result"]["tee"] == "snp"
    # a wrong nonce for the whole composite: every part rejects (exit 5)
    bad = [*base[:3], "00" * 48, *base[4:]]
    code, out = run_cli(capsys, *bad, "--format", "json")
    assert code == 5 and not any(p["accepted"] for p in json.loads(out)["parts"].values())


def _real() -> tuple[dict[str, Any], list[dict[str, Any]], list[Path], str, str]:
    """trustee's e2e SNP evidence JSON and the real Hopper report listed twice."""
    amd = require_shared("amd")
    nv = require_shared("nvidia")
    snp_case = next(
        c
        for c in (shared_manifest("amd") or {})["cases"]
        if c["id"] == "trustee-e2e-genoa-model-a0-v3-vcek"
    )
    folder = amd / snp_case["dir"]
    evidence = json.loads((folder / snp_case["files"]["evidence_json"]).read_text())
    gpu_case = next(
        c for c in (shared_manifest("nvidia") or {})["cases"] if c["id"] == "trustee-hopper-local"
    )
    gdir = nv / gpu_case["id"]
    report = (gdir / gpu_case["files"]["report_hex"]).read_text().strip()
    chain = (gdir / gpu_case["files"]["cert_chain_pem"]).read_bytes()
    devices = [
        {
            "arch": "HOPPER",
            "uuid": f"real-{n}",
            "evidence": report,
            "certificate": base64.b64encode(chain).decode(),
        }
        for n in range(2)
    ]
    coll = [folder / snp_case["files"]["ask"], folder / snp_case["files"]["ark"]]
    return (
        evidence,
        devices,
        coll,
        snp_case["claims"]["report_data"],
        gpu_case["inputs"]["expected_report_data_hex"],
    )


def test_real_snp_json_with_two_real_gpus() -> None:
    evidence, devices, coll, snp_rd, gpu_nonce = _real()
    result = verify_composite(
        _kbs(evidence, devices),
        collateral=coll,
        at="2025-05-28T00:00:00Z",
        expected_report_data=snp_rd,
        device_report_data=gpu_nonce,
        primary=composite_primary,
    )
    assert [p.name for p in result.parts] == ["cpu0", "gpu0", "gpu1"]
    assert result.accepted, result.to_dict()["reason"]
    assert result.part("cpu0").result.claims["report_data"].hex() == snp_rd  # type: ignore[union-attr]
    # the VCEK came from the evidence's cert_chain: the report alone lacks it
    converted = composite_primary(evidence)
    assert converted is not None
    with pytest.raises(cocoverify.CollateralError) as err:
        cocoverify.verify(converted[0], collateral=coll, at="2025-05-28T00:00:00Z")
    assert err.value.reason is Reason.COLLATERAL_MISSING


def test_real_composite_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evidence, devices, coll, snp_rd, _gpu_nonce = _real()
    (tmp_path / "ev.json").write_bytes(_kbs(evidence, devices))
    args = ["verify", str(tmp_path / "ev.json"), "--at", "2025-05-28T00:00:00Z"]
    for path in coll:
        args += ["--collateral", str(path)]
    # one --report-data for all parts: the SNP report's binds the CPU; the real GPU report
    # was made for another nonce, so both GPU parts say so (exit 5), the CPU part accepts
    code, out = run_cli(capsys, *args, "--report-data", snp_rd, "--format", "json")
    doc = json.loads(out)
    assert code == 5 and list(doc["parts"]) == ["cpu0", "gpu0", "gpu1"]
    assert doc["parts"]["cpu0"]["accepted"]
    assert [doc["parts"][g]["reason"] for g in ("gpu0", "gpu1")] == ["report_data_mismatch"] * 2
    code, out = run_cli(capsys, *args, "--report-data", snp_rd, "--format", "ear")
    assert list(json.loads(out)["submods"]) == ["cpu0", "gpu0", "gpu1"]
