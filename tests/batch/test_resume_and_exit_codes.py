"""Batch records and their exit codes: ``--resume`` retries what was never verified, odd records
fail closed, and an unaccepted result is a policy exit."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from cocoverify.batch import batch_exit_code, record_for
from cocoverify.cli import main
from cocoverify.errors import Reason
from cocoverify.result import VerificationResult, freeze

from _shared import PROJECT_VECTORS

SAMPLE = PROJECT_VECTORS / "sample"
SAMPLE_AT = "2025-06-01T00:00:00Z"
SAMPLE_ROOT = SAMPLE / "trust" / "intel_root_ca.pem"


def _sample_copy(tmp_path: Path) -> Path:
    """Project sample quotes, each with a ``<file>.collateral/`` sibling (our own files)."""
    root = tmp_path / "fleet"
    for tee in ("sgx", "tdx"):
        d = root / tee
        d.mkdir(parents=True)
        shutil.copy(SAMPLE / tee / "quote.bin", d / "quote.bin")
        shutil.copytree(SAMPLE / tee / "collateral", d / "quote.bin.collateral")
    return root


def _rejected_result() -> VerificationResult:
    """A hand-made result that was not accepted."""
    return VerificationResult(
        accepted=False,
        tee="sgx",
        verified_at=dt.datetime(2025, 7, 4, 10, 28, 44, tzinfo=dt.UTC),
        tcb_status="UpToDate",
        claims=freeze({"report_data": b"\x01" * 64, "config_id": b"\x00" * 64}),
        reason=Reason.POLICY_REJECTED,
    )


def test_resume_retries_files_that_were_never_verified(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _sample_copy(tmp_path)
    out = tmp_path / "out.jsonl"
    sgx = str(root / "sgx" / "quote.bin")
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1", "-o", str(out)]
    crashed = {"path": sgx, "accepted": False, "tee": None, "reason": None, "exit_code": 1,
               "error": "BrokenProcessPool", "message": "a worker died"}  # fmt: skip
    out.write_text(json.dumps(crashed) + "\n")
    assert main(["batch", sgx, *common, "--resume"]) == 0  # verified now; the new line wins
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["exit_code"] for r in lines] == [1, 0]
    # a line of the wrong shape is not a verification either
    out.write_text(json.dumps({"path": sgx, "exit_code": "0"}) + "\n")
    assert main(["batch", sgx, *common, "--resume"]) == 0
    assert len(out.read_text().splitlines()) == 2
    capsys.readouterr()


def test_exit_code_fails_closed_on_odd_records() -> None:
    assert batch_exit_code([{"exit_code": 0, "accepted": False}]) == 1
    assert batch_exit_code([{"exit_code": "x"}]) == 1  # was: ValueError
    assert batch_exit_code([{"exit_code": 9}]) == 1
    assert batch_exit_code([{"exit_code": 0, "accepted": True}, {"exit_code": 5}]) == 5


def test_record_for_unaccepted_result_is_a_policy_exit() -> None:
    rec = record_for("x", _rejected_result())
    assert rec["accepted"] is False and rec["exit_code"] == 5
    assert rec["reason"] == Reason.POLICY_REJECTED.value
