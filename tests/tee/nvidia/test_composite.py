"""Composite evidence: an SNP report (fake AMD PKI) and a GPU report (fake NVIDIA PKI) bound to
the same nonce, in the KBS ``tee-evidence`` shape, through ``verify_composite`` and the CLI
(JSON and one EAR with a submodule per device)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from cocoverify.api import verify_composite
from cocoverify.collateral import Collateral
from cocoverify.errors import Reason
from cocoverify.integrations.ear import to_composite_ear
from cocoverify.trust import TrustStore
from cocoverify.wrappers.composite import Part, kbs_parts, looks_like_kbs, verify_parts
from cocoverify_testing.nvidia import FakeNvidiaPki, ReportSpec, build_report, evidence_json
from cocoverify_testing.pki import pem
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, SnpReportBuilder

from _shared.cli import run_cli

AMD = FakeAmdPKI("Milan")
GPU = FakeNvidiaPki()
TRUST = TrustStore.from_certificates(amd={"Milan": [AMD.ark]}, nvidia=[GPU.root])
NONCE = hashlib.sha384(b"kbs runtime data").digest()  # what KBS binds: a 48-byte digest


def _snp(report_data: bytes = NONCE) -> bytes:
    return (
        SnpReportBuilder.for_product("Milan")
        .set(report_data=report_data.ljust(64, b"\0"))
        .sign(AMD)
    )


def _kbs(snp: bytes, gpu_nonce: bytes = NONCE[:32]) -> bytes:
    gpu = evidence_json([(GPU, build_report(GPU, ReportSpec(nonce=gpu_nonce)))])
    return json.dumps(
        {
            "primary_evidence": snp.hex(),
            "additional_evidence": json.dumps({"nvidia": json.loads(gpu)}),
        }
    ).encode()


def _collateral(snp: bytes) -> Collateral:
    return Collateral(chains=((AMD.vcek_for(snp),), (AMD.ask,), (AMD.ark,)))


def _verify(data: bytes, snp: bytes, nonce: bytes = NONCE):  # type: ignore[no-untyped-def]
    return verify_composite(
        data, collateral=_collateral(snp), trust=TRUST, at=VECTOR_TIME, expected_report_data=nonce
    )


def test_cpu_and_gpu_on_one_nonce_accept() -> None:
    snp = _snp()
    data = _kbs(snp)
    assert looks_like_kbs(data)
    result = _verify(data, snp)
    assert result.accepted and result.exit_code == 0
    assert [p.name for p in result.parts] == ["cpu0", "gpu0"]
    assert result.part("cpu0").result.tee == "snp"  # type: ignore[union-attr]
    assert result.part("gpu0").result.tee == "gpu"  # type: ignore[union-attr]
    out = result.to_dict()
    assert out["accepted"] and set(out["parts"]) == {"cpu0", "gpu0"}


def test_gpu_bound_to_another_nonce_rejects_only_the_gpu_part() -> None:
    snp = _snp()
    result = _verify(_kbs(snp, gpu_nonce=bytes(32)), snp)
    assert not result.accepted
    assert result.part("cpu0").accepted
    assert result.part("gpu0").error.reason is Reason.REPORT_DATA_MISMATCH  # type: ignore[union-attr]
    assert result.reason is Reason.REPORT_DATA_MISMATCH and result.exit_code == 5


def test_cpu_bound_to_another_nonce_rejects() -> None:
    snp = _snp(bytes(48))
    result = _verify(_kbs(snp), snp)
    assert not result.accepted and result.part("gpu0").accepted
    assert result.part("cpu0").error.reason is Reason.REPORT_DATA_MISMATCH  # type: ignore[union-attr]


def test_unknown_additional_tee_is_refused() -> None:
    data = json.dumps({"primary_evidence": "00", "additional_evidence": '{"tpu": {}}'}).encode()
    with pytest.raises(Exception) as info:
        kbs_parts(data)
    assert info.value.reason is Reason.UNSUPPORTED_TEE_TYPE  # type: ignore[attr-defined]


def test_parts_with_injected_appraisal_and_ear_submods() -> None:
    snp = _snp()
    seen: list[str] = []

    def appraise(part: Part):  # type: ignore[no-untyped-def]
        seen.append(part.name)
        outcome = _verify(_kbs(snp), snp).part(part.name).outcome
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    parts = (Part("cpu0", b"x", NONCE), Part("gpu0", b"y", NONCE[:32], "gpu"))
    result = verify_parts(parts, appraise)
    assert seen == ["cpu0", "gpu0"] and result.accepted
    ear = to_composite_ear({p.name: p.outcome for p in result.parts})
    assert set(ear["submods"]) == {"cpu0", "gpu0"}
    assert all(s["cocoverify.result"]["accepted"] for s in ear["submods"].values())


def test_cli_json_and_ear(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    snp = _snp()
    (tmp_path / "ev.json").write_bytes(_kbs(snp))
    (tmp_path / "vcek.pem").write_bytes(pem(AMD.vcek_for(snp)))
    (tmp_path / "ark.pem").write_bytes(pem(AMD.ark))
    (tmp_path / "ask.pem").write_bytes(pem(AMD.ask))
    (tmp_path / "nv.pem").write_bytes(pem(GPU.root))
    base = [
        "verify", str(tmp_path / "ev.json"), "--collateral", str(tmp_path / "vcek.pem"),
        "--collateral", str(tmp_path / "ark.pem"), "--collateral", str(tmp_path / "ask.pem"),
        "--report-data", NONCE.hex(),
        "--at", VECTOR_TIME.isoformat(),
    ]  # fmt: skip
    # the built-in roots: neither fake chain is trusted; both parts reject, exit 3 or 4
    code, out = run_cli(capsys, *base, "--format", "json")
    doc = json.loads(out)
    assert code in (3, 4) and set(doc["parts"]) == {"cpu0", "gpu0"}
    code, out = run_cli(capsys, *base, "--format", "ear")
    ear = json.loads(out)
    assert set(ear["submods"]) == {"cpu0", "gpu0"}
    assert ear["submods"]["gpu0"]["cocoverify.result"]["reason"] == "untrusted_root"
    pinned = ["--trust-root", str(tmp_path / "ark.pem"), "--trust-root", str(tmp_path / "nv.pem")]
    code, out = run_cli(capsys, *base, *pinned, "--format", "json")
    assert code == 0 and json.loads(out)["accepted"]
    code, out = run_cli(capsys, *base, *pinned, "--format", "ear")
    ear = json.loads(out)
    assert code == 0
    assert [ear["submods"][n]["cocoverify.result"]["tee"] for n in ("cpu0", "gpu0")] == [
        "snp",
        "gpu",
    ]
    code, out = run_cli(capsys, *base, *pinned)
    assert code == 0 and "[cpu0]" in out and "[gpu0]" in out
