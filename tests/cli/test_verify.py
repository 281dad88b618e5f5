"""``cocoverify verify``: exit codes, JSON fields, options, content-recognised collateral."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cocoverify.cli import main

from _shared import require_shared
from _shared.cli import run_cli, run_cli_json

TDX = "tdx-v4-dcapqvl-sample"
SGX = "sgx-v3-dcapqvl-sample"


def _renamed_collateral(case: str, tmp_path: Path) -> list[str]:
    """The case's files under meaningless names: recognition must be by content."""
    base = require_shared("intel") / case
    out = []
    for i, f in enumerate(sorted(base.iterdir())):
        if f.name.startswith(("peer_claims", "collateral.dcapqvl", "tdx_quote", "sgx_quote")):
            continue
        dst = tmp_path / f"item{i}.bin"
        shutil.copy(f, dst)
        out += ["--collateral", str(dst)]
    return out


def test_accepted_exit_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = require_shared("intel") / TDX
    rc, doc = run_cli_json(
        capsys,
        "verify",
        str(base / "tdx_quote"),
        *_renamed_collateral(TDX, tmp_path),
        "--at",
        "2025-07-04T10:16:31Z",
    )
    assert rc == 0
    assert doc["accepted"] is True and doc["tee"] == "tdx" and doc["reason"] is None
    assert doc["tcb_status"] == "UpToDate" and doc["advisory_ids"] == []
    assert doc["claims"]["mr_td"].startswith("91eb2b44")


def test_policy_rejection_exit_5_keeps_claims(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / SGX
    rc, doc = run_cli_json(
        capsys,
        "verify",
        str(base / "sgx_quote"),
        "--collateral",
        str(base),
        "--at",
        "2025-07-04T10:28:44Z",
    )
    assert rc == 5
    assert doc["accepted"] is False and doc["reason"] == "tcb_status_rejected"
    assert doc["tcb_status"] == "ConfigurationAndSWHardeningNeeded"
    assert doc["advisory_ids"] == ["INTEL-SA-00289", "INTEL-SA-00615"]
    assert doc["claims"]["mr_enclave"].startswith("33d8736d")


def test_policy_file_accepts(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = require_shared("intel") / SGX
    pol = tmp_path / "policy.yaml"
    pol.write_text("accepted_tcb_statuses: [UpToDate, ConfigurationAndSWHardeningNeeded]\n")
    rc, doc = run_cli_json(
        capsys,
        "verify",
        str(base / "sgx_quote"),
        "--collateral",
        str(base),
        "--at",
        "2025-07-04T10:28:44Z",
        "--policy",
        str(pol),
    )
    assert rc == 0 and doc["accepted"] is True


def test_collateral_missing_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / TDX
    rc, doc = run_cli_json(
        capsys, "verify", str(base / "tdx_quote"), "--at", "2025-07-04T10:16:31Z"
    )
    assert rc == 4 and doc["accepted"] is False
    assert doc["reason"] in ("crl_missing", "collateral_missing")


def test_expired_collateral_exit_4(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / TDX
    rc, _doc = run_cli_json(
        capsys,
        "verify",
        str(base / "tdx_quote"),
        "--collateral",
        str(base),
        "--at",
        "2026-07-04T10:16:31Z",
    )
    assert rc == 4


def test_malformed_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    base = require_shared("intel") / TDX
    cut = tmp_path / "cut.bin"
    cut.write_bytes((base / "tdx_quote").read_bytes()[:700])
    rc, doc = run_cli_json(capsys, "verify", str(cut), "--collateral", str(base))
    assert rc == 2 and doc["reason"] == "truncated" and doc["tee"] == "tdx"
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\xff" * 100)
    rc, doc = run_cli_json(capsys, "verify", str(junk))
    assert rc == 2 and doc["reason"] == "unknown_format"


def test_untrusted_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / "sgx-v3-qvl-sample"
    rc, doc = run_cli_json(
        capsys,
        "verify",
        str(base / "quote.dat"),
        "--collateral",
        str(base),
        "--at",
        "2023-03-02T21:42:01Z",
    )
    assert rc == 3 and doc["reason"] == "untrusted_root"


def test_trust_root_option(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / "sgx-v3-qvl-sample"
    rc, doc = run_cli_json(
        capsys,
        "verify",
        str(base / "quote.dat"),
        "--collateral",
        str(base),
        "--at",
        "2023-03-02T21:42:01Z",
        "--trust-root",
        str(base / "trustedRootCaCert.pem"),
    )
    assert rc == 0 and doc["tcb_status"] == "UpToDate"


def test_hex_evidence_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / "tdx-v4-dcapqvl-near"
    rc, out = run_cli(
        capsys,
        "verify",
        str(base / "quote_hex.txt"),
        "--collateral",
        str(base),
        "--at",
        "2025-09-17T07:22:55Z",
    )
    assert rc == 0
    assert out.splitlines()[0].startswith("ACCEPTED")
    assert "\033[" not in out  # no colour when not a terminal


def test_nonce_option(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / TDX
    args = [
        "verify",
        str(base / "tdx_quote"),
        "--collateral",
        str(base),
        "--at",
        "2025-07-04T10:16:31Z",
    ]
    rc, doc = run_cli_json(capsys, *args, "--nonce", "00" * 64)
    assert rc == 5 and doc["reason"] == "report_data_mismatch"
    rc, doc = run_cli_json(capsys, *args, "--report-data", doc["claims"]["report_data"])
    assert rc == 0


def test_usage_errors_exit_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["verify"]) == 1
    assert main(["frobnicate"]) == 1
    assert main(["verify", str(tmp_path / "missing.bin")]) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("sgx:\n  mr_enclave: [abc]\n")
    base = require_shared("intel") / TDX
    assert main(["verify", str(base / "tdx_quote"), "--policy", str(bad)]) == 1
    assert main(["verify", str(base / "tdx_quote"), "--at", "yesterday"]) == 1
    capsys.readouterr()
