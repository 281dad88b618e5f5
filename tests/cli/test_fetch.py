"""``cocoverify fetch`` end to end: a loopback PCCS/KDS (127.0.0.1) serves the REAL collateral
of ../shared/vectors with the real headers; the folder written is then given as it is to
``cocoverify verify --collateral DIR``. Failures (404, 429 with Retry-After, 5xx, timeouts)
use the cached copy when there is one and are a collateral error (exit 4) naming what and
where when there is none."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from cocoverify.cli import main

from _shared import require_shared
from _shared.cli import run_cli
from _shared.vendors import IntelCase, Reply, SnpCase, VendorServer, intel_case, snp_case

EXIT_ACCEPTED, EXIT_COLLATERAL, EXIT_POLICY = 0, 4, 5


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A private cache per test; nothing from the caller's environment."""
    for name in (
        "COCOVERIFY_PCCS_URL",
        "COCOVERIFY_KDS_URL",
        "COCOVERIFY_OFFLINE",
        "COCOVERIFY_PCS_API_KEY",
        "COCOVERIFY_UPDATE",
        "COCOVERIFY_HTTP_TIMEOUT",
        "COCOVERIFY_HTTP_RETRIES",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COCOVERIFY_CACHE_DIR", str(tmp_path / "cache"))
    warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")


@pytest.fixture
def server() -> Iterator[VendorServer]:
    s = VendorServer()
    yield s
    s.close()


@pytest.fixture
def tdx(server: VendorServer) -> IntelCase:
    case = intel_case(require_shared("intel"), "tdx-v4-dcapqvl-sample")
    server.serve_intel(case.dir, tee=case.tee, fmspc=case.fmspc, ca=case.ca)
    return case


@pytest.fixture
def sgx(server: VendorServer) -> IntelCase:
    case = intel_case(require_shared("intel"), "sgx-v3-dcapqvl-sample")
    server.serve_intel(case.dir, tee=case.tee, fmspc=case.fmspc, ca=case.ca)
    return case


@pytest.fixture
def snp(server: VendorServer) -> SnpCase:
    case = snp_case(require_shared("amd"))
    server.serve_kds(case.dir, case.crl, product=case.product, hwid=case.hwid, spl=case.spl)
    return case


def _fetch(
    capsys: pytest.CaptureFixture[str],
    server: VendorServer,
    evidence: Path,
    out: Path,
    at: str,
    *extra: str,
) -> tuple[int, str, str]:
    rc = main(
        [
            "fetch",
            str(evidence),
            "-o",
            str(out),
            "--pccs-url",
            server.url,
            "--kds-url",
            server.url,
            "--at",
            at,
            "--timeout",
            "0.5",
            "--retries",
            "1",
            *extra,
        ]
    )
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _verify_folder(
    capsys: pytest.CaptureFixture[str], evidence: Path, folder: Path, at: str
) -> dict[str, object]:
    rc, out = run_cli(
        capsys, "verify", str(evidence), "--collateral", str(folder), "--at", at, "--format", "json"
    )
    doc: dict[str, object] = json.loads(out)
    doc["rc"] = rc
    return doc


def _files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def test_tdx_fetch_then_verify_offline(
    capsys: pytest.CaptureFixture[str], server: VendorServer, tdx: IntelCase, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    rc, stdout, _ = _fetch(capsys, server, tdx.evidence, out, tdx.at)
    assert rc == EXIT_ACCEPTED
    assert "FMSPC B0C06F000000" in stdout and f"from {server.url}:" in stdout
    # exactly what this quote needs: TDX TCB Info for its FMSPC, TD_QE identity, the
    # Platform CA's PCK CRL, the Root CA CRL and the issuer chains
    assert _files(out) == {
        "intel/tdx/tcb/b0c06f000000.json",
        "intel/tdx/qe_identity.json",
        "intel/pckcrl/platform.der",
        "intel/rootcacrl.der",
        "intel/chains/intel-sgx-tcb-signing.pem",
        "intel/chains/intel-sgx-pck-platform-ca.pem",
    }
    # the signed bodies are kept byte for byte
    assert (out / "intel/tdx/tcb/b0c06f000000.json").read_bytes() == (
        tdx.dir / "tcb_info.json"
    ).read_bytes()
    # the PCS URL shapes (Intel SGX/TDX PCS API v4) and update=standard
    seen = {(s.path, tuple(sorted(s.query.items()))) for s in server.seen}
    assert seen == {
        ("/tdx/certification/v4/tcb", (("fmspc", "B0C06F000000"), ("update", "standard"))),
        ("/tdx/certification/v4/qe/identity", (("update", "standard"),)),
        ("/sgx/certification/v4/pckcrl", (("ca", "platform"), ("encoding", "der"))),
        ("/sgx/certification/v4/rootcacrl", ()),
    }
    doc = _verify_folder(capsys, tdx.evidence, out, tdx.at)
    assert doc["rc"] == EXIT_ACCEPTED and doc["accepted"] is True
    assert doc["tcb_status"] == "UpToDate"


def test_sgx_fetch_then_verify_offline(
    capsys: pytest.CaptureFixture[str], server: VendorServer, sgx: IntelCase, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    rc, _, _ = _fetch(capsys, server, sgx.evidence, out, sgx.at, "--update", "early")
    assert rc == EXIT_ACCEPTED
    assert _files(out) == {
        "intel/sgx/tcb/00a067110000.json",
        "intel/sgx/qe_identity.json",
        "intel/pckcrl/processor.der",
        "intel/rootcacrl.der",
        "intel/chains/intel-sgx-tcb-signing.pem",
        "intel/chains/intel-sgx-pck-processor-ca.pem",
    }
    assert {s.query.get("update") for s in server.seen if "tcb" in s.path} == {"early"}
    doc = _verify_folder(capsys, sgx.evidence, out, sgx.at)
    # the real outcome of this quote (golden): authentic, TCB status rejected by the
    # default policy (exit 5), with its advisories
    assert doc["rc"] == EXIT_POLICY and doc["reason"] == "tcb_status_rejected"
    assert doc["tcb_status"] == "ConfigurationAndSWHardeningNeeded"


def test_snp_fetch_then_verify_offline(
    capsys: pytest.CaptureFixture[str], server: VendorServer, snp: SnpCase, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    rc, stdout, _ = _fetch(capsys, server, snp.evidence, out, snp.at)
    assert rc == EXIT_ACCEPTED
    assert "AMD Milan VCEK" in stdout
    assert _files(out) == {
        f"vcek/{snp.hwid}/bl04_tee00_snp24_ucode219_vcek.der",
        "amd/Milan/vcek/cert_chain.pem",
        "amd/Milan/vcek/crl.der",
    }
    # KDS URL shapes (VCEK specification): decimal SPLs, the 64-byte CHIP_ID in hex
    vcek = [s for s in server.seen if s.path == f"/vcek/v1/Milan/{snp.hwid}"]
    assert len(vcek) == 1 and vcek[0].query == {k: str(v) for k, v in snp.spl.items()}
    doc = _verify_folder(capsys, snp.evidence, out, snp.at)
    assert doc["rc"] == EXIT_ACCEPTED and doc["accepted"] is True
    collateral = doc["collateral"]
    assert isinstance(collateral, dict) and collateral["revocation_checked"] is True


def test_fetch_several_evidence_into_one_folder(
    capsys: pytest.CaptureFixture[str],
    server: VendorServer,
    tdx: IntelCase,
    snp: SnpCase,
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    rc, stdout = run_cli(
        capsys,
        "fetch",
        str(tdx.evidence),
        str(snp.evidence),
        "-o",
        str(out),
        "--pccs-url",
        server.url,
        "--kds-url",
        server.url,
        "--at",
        tdx.at,
        "--format",
        "json",
    )
    assert rc == EXIT_ACCEPTED
    records = [json.loads(line) for line in stdout.splitlines()]
    assert [r["tee"] for r in records] == ["intel", "snp"]
    assert _verify_folder(capsys, snp.evidence, out, snp.at)["rc"] == EXIT_ACCEPTED


def test_404_without_cache_is_exit_4_naming_what_and_where(
    capsys: pytest.CaptureFixture[str], server: VendorServer, tdx: IntelCase, tmp_path: Path
) -> None:
    server.fail("/tdx/certification/v4/tcb", Reply(404))
    rc, _, err = _fetch(capsys, server, tdx.evidence, tmp_path / "out", tdx.at)
    assert rc == EXIT_COLLATERAL
    assert "collateral_missing" in err
    assert "FMSPC B0C06F000000" in err and server.url in err and "HTTP 404" in err
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(Reply(404), id="404"),
        pytest.param(Reply(503), id="503"),
        pytest.param(Reply(429, headers={"Retry-After": "3600"}), id="429-retry-after-too-long"),
        pytest.param(Reply(200, delay=2.0), id="timeout"),
    ],
)
def test_server_failure_uses_the_cached_copy(
    capsys: pytest.CaptureFixture[str],
    server: VendorServer,
    snp: SnpCase,
    tmp_path: Path,
    failure: Reply,
) -> None:
    assert _fetch(capsys, server, snp.evidence, tmp_path / "first", snp.at)[0] == EXIT_ACCEPTED
    n = len(server.seen)
    # the cache entry is stale by age: the server is asked again, fails, the copy is used
    cache_files = list((tmp_path / "cache").rglob("*.json"))
    assert len(cache_files) == 1
    doc = json.loads(cache_files[0].read_text())
    doc["fetched"] = 0.0
    cache_files[0].write_text(json.dumps(doc))
    server.fail("/vcek/", failure)
    rc, out, err = _fetch(capsys, server, snp.evidence, tmp_path / "second", snp.at)
    assert rc == EXIT_ACCEPTED, err
    assert len(server.seen) > n  # it did ask
    assert f"stale copy: {server.url} failed" in out
    assert _files(tmp_path / "second") == _files(tmp_path / "first")
    assert _verify_folder(capsys, snp.evidence, tmp_path / "second", snp.at)["rc"] == 0


@pytest.mark.parametrize(
    ("failure", "shown"),
    [
        pytest.param(Reply(500), "HTTP 500", id="500"),
        pytest.param(Reply(429, headers={"Retry-After": "3600"}), "HTTP 429", id="429"),
        pytest.param(Reply(200, delay=2.0), "timed out", id="timeout"),
    ],
)
def test_server_failure_without_cache_is_exit_4(
    capsys: pytest.CaptureFixture[str],
    server: VendorServer,
    snp: SnpCase,
    tmp_path: Path,
    failure: Reply,
    shown: str,
) -> None:
    server.fail("/vcek/", failure)
    rc, _, err = _fetch(capsys, server, snp.evidence, tmp_path / "out", snp.at)
    assert rc == EXIT_COLLATERAL
    assert "AMD Milan VCEK" in err and snp.hwid[:16] in err and server.url in err
    assert shown in err


def test_429_with_short_retry_after_is_retried(
    capsys: pytest.CaptureFixture[str], server: VendorServer, snp: SnpCase, tmp_path: Path
) -> None:
    target = next(k for k in server.routes if k.startswith(f"/vcek/v1/Milan/{snp.hwid}"))
    answer = server.routes[target][-1]
    server.route(target, Reply(429, headers={"Retry-After": "1"}), answer)
    rc, _, err = _fetch(capsys, server, snp.evidence, tmp_path / "out", snp.at)
    assert rc == EXIT_ACCEPTED, err
    assert server.paths().count(f"/vcek/v1/Milan/{snp.hwid}") == 2


def test_offline_uses_the_cache_and_never_the_network(
    capsys: pytest.CaptureFixture[str],
    server: VendorServer,
    tdx: IntelCase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert _fetch(capsys, server, tdx.evidence, tmp_path / "first", tdx.at)[0] == 0
    n = len(server.seen)
    monkeypatch.setenv("COCOVERIFY_OFFLINE", "1")
    rc, out, _ = _fetch(capsys, server, tdx.evidence, tmp_path / "second", tdx.at)
    assert rc == EXIT_ACCEPTED and len(server.seen) == n
    assert f"from the cache {tmp_path / 'cache'}" in out
    assert _verify_folder(capsys, tdx.evidence, tmp_path / "second", tdx.at)["rc"] == 0
    # another cache: nothing cached, a clear error, still no request
    monkeypatch.setenv("COCOVERIFY_CACHE_DIR", str(tmp_path / "empty"))
    rc, _, err = _fetch(capsys, server, tdx.evidence, tmp_path / "third", tdx.at)
    assert rc == EXIT_COLLATERAL and len(server.seen) == n
    assert "COCOVERIFY_OFFLINE=1" in err and str(tmp_path / "empty") in err


def test_v2_report_needs_a_product(
    capsys: pytest.CaptureFixture[str], server: VendorServer, tmp_path: Path
) -> None:
    case = require_shared("amd") / "trustee-milan-v2-vcek"
    rc, _, err = _fetch(
        capsys, server, case / "report.bin", tmp_path / "out", "2025-01-01T00:00:00Z"
    )
    assert rc == EXIT_COLLATERAL and "--product" not in err and "product" in err
    # with the VCEK at hand the product is known (its issuer, SEV-Milan): KDS is asked for
    # the Milan VCEK of this chip (the loopback KDS has none: 404, exit 4, named)
    rc, _, err = _fetch(
        capsys,
        server,
        case / "report.bin",
        tmp_path / "out",
        "2025-01-01T00:00:00Z",
        "--collateral",
        str(case / "vcek.der"),
    )
    assert rc == EXIT_COLLATERAL and "AMD Milan VCEK" in err and "HTTP 404" in err


def test_unknown_evidence_is_exit_2_and_asks_nothing(
    capsys: pytest.CaptureFixture[str], server: VendorServer, tmp_path: Path
) -> None:
    bad = tmp_path / "junk.bin"
    bad.write_bytes(b"\x00" * 64)
    rc, _, err = _fetch(capsys, server, bad, tmp_path / "out", "2025-01-01T00:00:00Z")
    assert rc == 2 and "unknown_format" in err
    assert server.seen == []
