"""``cocoverify verify --online``: fetch what is missing, then verify, in one step, against a
loopback PCCS/KDS serving the REAL collateral of ../shared/vectors; the persistent cache is
used on the next run and never changes a verdict (cached content is verified like a file)."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocoverify.cli import main

from _shared import require_shared
from _shared.vendors import IntelCase, Reply, SnpCase, VendorServer, intel_case, snp_case

ENV = (
    "COCOVERIFY_PCCS_URL",
    "COCOVERIFY_KDS_URL",
    "COCOVERIFY_OFFLINE",
    "COCOVERIFY_PCS_API_KEY",
    "COCOVERIFY_UPDATE",
    "COCOVERIFY_HTTP_TIMEOUT",
    "COCOVERIFY_HTTP_RETRIES",
)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCOVERIFY_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COCOVERIFY_HTTP_TIMEOUT", "0.5")
    monkeypatch.setenv("COCOVERIFY_HTTP_RETRIES", "1")
    warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[VendorServer]:
    s = VendorServer()
    # configured through the environment, as a deployment would
    monkeypatch.setenv("COCOVERIFY_PCCS_URL", s.url)
    monkeypatch.setenv("COCOVERIFY_KDS_URL", s.url)
    yield s
    s.close()


@pytest.fixture
def tdx(server: VendorServer) -> IntelCase:
    case = intel_case(require_shared("intel"), "tdx-v4-dcapqvl-sample")
    server.serve_intel(case.dir, tee=case.tee, fmspc=case.fmspc, ca=case.ca)
    return case


@pytest.fixture
def snp(server: VendorServer) -> SnpCase:
    case = snp_case(require_shared("amd"))
    server.serve_kds(case.dir, case.crl, product=case.product, hwid=case.hwid, spl=case.spl)
    return case


def _verify(
    capsys: pytest.CaptureFixture[str], evidence: Path, at: str, *extra: str
) -> tuple[int, dict[str, object], str]:
    rc = main(["verify", str(evidence), "--at", at, "--format", "json", *extra])
    captured = capsys.readouterr()
    return rc, json.loads(captured.out), captured.err


def test_tdx_online_then_cached(
    capsys: pytest.CaptureFixture[str], server: VendorServer, tdx: IntelCase
) -> None:
    # without --online nothing is fetched: the collateral is missing (exit 4)
    rc, doc, _ = _verify(capsys, tdx.evidence, tdx.at)
    assert rc == 4 and doc["reason"] in ("crl_missing", "collateral_missing") and server.seen == []
    rc, doc, _ = _verify(capsys, tdx.evidence, tdx.at, "--online")
    assert rc == 0 and doc["accepted"] is True and doc["tcb_status"] == "UpToDate"
    n = len(server.seen)
    assert n == 4
    # the next run is served by the persistent cache, even with the server down
    server.fail("/", Reply(503))
    rc, again, _ = _verify(capsys, tdx.evidence, tdx.at, "--online")
    assert rc == 0 and len(server.seen) == n
    assert again["claims"] == doc["claims"] and again["tcb_status"] == doc["tcb_status"]


def test_sgx_online(capsys: pytest.CaptureFixture[str], server: VendorServer) -> None:
    case = intel_case(require_shared("intel"), "sgx-v3-dcapqvl-sample")
    server.serve_intel(case.dir, tee=case.tee, fmspc=case.fmspc, ca=case.ca)
    rc, doc, _ = _verify(capsys, case.evidence, case.at, "--online")
    # the real outcome (golden): authentic, TCB status rejected by the default policy
    assert rc == 5 and doc["reason"] == "tcb_status_rejected"
    assert doc["tcb_status"] == "ConfigurationAndSWHardeningNeeded"


def test_snp_online(capsys: pytest.CaptureFixture[str], server: VendorServer, snp: SnpCase) -> None:
    rc, doc, _ = _verify(capsys, snp.evidence, snp.at, "--online")
    assert rc == 0 and doc["accepted"] is True
    collateral = doc["collateral"]
    assert isinstance(collateral, dict) and collateral["revocation_checked"] is True
    assert server.paths() == [
        f"/vcek/v1/Milan/{snp.hwid}",
        "/vcek/v1/Milan/cert_chain",
        "/vcek/v1/Milan/crl",
    ]


def test_online_failure_without_cache_is_exit_4(
    capsys: pytest.CaptureFixture[str], server: VendorServer, snp: SnpCase
) -> None:
    server.fail("/vcek/v1/Milan/cert_chain", Reply(502))
    rc, doc, _ = _verify(capsys, snp.evidence, snp.at, "--online")
    assert rc == 4 and doc["reason"] == "collateral_missing"
    message = str(doc["message"])
    assert "AMD Milan VCEK" in message and server.url in message and "HTTP 502" in message


def _cache_file(tmp_path: Path) -> Path:
    (path,) = (tmp_path / "cache").rglob("*.json")
    return path


def test_tampered_cache_never_changes_a_verdict(
    capsys: pytest.CaptureFixture[str], server: VendorServer, tdx: IntelCase, tmp_path: Path
) -> None:
    assert _verify(capsys, tdx.evidence, tdx.at, "--online")[0] == 0
    path = _cache_file(tmp_path)
    doc = json.loads(path.read_text())
    body = base64.b64decode(doc["collateral"]["tcb_infos"][0])
    # a cached TCB Info whose status says UpToDate for every level but whose signature no
    # longer covers it: the pipeline re-verifies cached content like a file
    forged = body.replace(b'"OutOfDate"', b'"UpToDate"')
    assert forged != body
    doc["collateral"]["tcb_infos"][0] = base64.b64encode(forged).decode()
    path.write_text(json.dumps(doc))
    server.fail("/", Reply(503))  # the server is down: the cached copy is all there is
    rc, out, _ = _verify(capsys, tdx.evidence, tdx.at, "--online")
    assert rc in (3, 4) and out["accepted"] is False
    assert out["reason"] in (
        "signature_invalid",
        "collateral_signature_invalid",
        "collateral_invalid",
    )


def test_cache_entry_of_another_key_is_a_miss(
    capsys: pytest.CaptureFixture[str], server: VendorServer, tdx: IntelCase, tmp_path: Path
) -> None:
    assert _verify(capsys, tdx.evidence, tdx.at, "--online")[0] == 0
    path = _cache_file(tmp_path)
    doc = json.loads(path.read_text())
    doc["key"][-1] = "00906ed50000"  # the file now claims another FMSPC
    path.write_text(json.dumps(doc))
    server.fail("/", Reply(404))
    rc, out, _ = _verify(capsys, tdx.evidence, tdx.at, "--online")
    assert rc == 4 and out["reason"] in ("crl_missing", "collateral_missing")


def test_offline_environment(
    capsys: pytest.CaptureFixture[str],
    server: VendorServer,
    snp: SnpCase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COCOVERIFY_OFFLINE", "1")
    rc, doc, _ = _verify(capsys, snp.evidence, snp.at, "--online")
    assert rc == 4 and server.seen == []
    assert "COCOVERIFY_OFFLINE=1" in str(doc)
    monkeypatch.delenv("COCOVERIFY_OFFLINE")
    assert _verify(capsys, snp.evidence, snp.at, "--online")[0] == 0
    n = len(server.seen)
    monkeypatch.setenv("COCOVERIFY_OFFLINE", "1")
    assert _verify(capsys, snp.evidence, snp.at, "--online")[0] == 0
    assert len(server.seen) == n


def test_kbs_composite_online(
    capsys: pytest.CaptureFixture[str], server: VendorServer, snp: SnpCase, tmp_path: Path
) -> None:
    """KBS tee-evidence whose primary is trustee's SNP JSON without certificates: --online
    fetches the VCEK for that part."""
    report = snp.evidence.read_bytes()
    kbs = {
        "primary_evidence": {"attestation_report": list(report), "cert_chain": []},
        "additional_evidence": "{}",
    }
    path = tmp_path / "kbs.json"
    path.write_text(json.dumps(kbs))
    rc, doc, _ = _verify(capsys, path, snp.at)
    assert rc == 4 and server.seen == []
    rc, doc, _ = _verify(capsys, path, snp.at, "--online")
    assert rc == 0 and doc["accepted"] is True
    assert server.paths()[0] == f"/vcek/v1/Milan/{snp.hwid}"
