"""``cocoverify batch`` (cli/batch.py): records equal ``cocoverify verify``, exit codes, skipped
files, ``--resume``, stdout carrying only JSON lines, the progress bar and the summary table."""

from __future__ import annotations

import io
import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from cocoverify.cli import main
from cocoverify.cli.batch import _LINE, Progress, summary_table
from cocoverify.cli.output import write_json

from _shared import require_shared, shared_manifest
from _shared.batch import AMD_ROLES, CCA_AT, SAMPLE_AT, SAMPLE_ROOT, sample_copy
from _shared.cli import json_lines, run_cli_json

_SAME = ("accepted", "tee", "reason", "tcb_status", "advisory_ids", "exit_code")


def test_cli_batch_real_intel_equals_verify(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel")
    # two cases whose collateral windows both contain this time
    at = "2025-07-04T10:28:44Z"
    dirs = [base / "sgx-v3-dcapqvl-sample", base / "tdx-v4-dcapqvl-sample"]
    rc = main(["batch", *map(str, dirs), "--collateral-from-dir", "--at", at, "--jobs", "2"])
    captured = capsys.readouterr()
    recs = json_lines(captured.out)
    assert [Path(r["path"]).name for r in recs] == ["sgx_quote", "tdx_quote"]
    assert "files verified" in captured.err and "\r" not in captured.err
    for rec in recs:
        vrc, out = run_cli_json(capsys, "verify", rec["path"], "--collateral",
                                str(Path(rec["path"]).parent), "--at", at)  # fmt: skip
        for key in _SAME:
            assert rec[key] == out.get(key, 0 if key == "exit_code" else None), key
        assert vrc == rec["exit_code"]
        for name, value in rec["claims"].items():
            assert out["claims"][name] == value
    # the SGX sample is ConfigurationAndSWHardeningNeeded: rejected by the default policy
    assert [r["accepted"] for r in recs] == [False, True]
    assert rc == 5


@pytest.mark.parametrize(
    ("vendor", "case_id"),
    [
        ("amd", "ms-genoa-v3-vcek"),
        ("amd", "neg-turin-tampered-measurement"),
        ("cca", "ccatoken-good-cmw907-realm1"),
        ("cca", "derived-b-realm-sig-bitflip"),
    ],
)
def test_cli_batch_real_amd_and_cca(
    capsys: pytest.CaptureFixture[str], vendor: str, case_id: str
) -> None:
    base = require_shared(vendor)
    case = next(c for c in (shared_manifest(vendor) or {})["cases"] if c["id"] == case_id)
    files = case["files"]
    folder = base / case.get("dir", case["id"])
    if vendor == "amd":
        ev, at, roles = files["report"], case["verification_time"], AMD_ROLES
    else:
        ev, at, roles = files["token"], CCA_AT, ("platform_key",)
    argv = [str(folder / ev), "--at", at]
    for role in roles:
        if role in files:
            argv += ["--collateral", str(folder / files[role])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0 (docs/snp.md)
        rc = main(["batch", *argv, "--jobs", "1", "--quiet"])
        (rec,) = json_lines(capsys.readouterr().out)
        vrc, out = run_cli_json(capsys, "verify", *argv)
    assert rc == vrc == rec["exit_code"]
    for key in _SAME:
        assert rec[key] == out.get(key, 0 if key == "exit_code" else None), key
    assert rec["accepted"] is ("neg" not in case_id and "bitflip" not in case_id)


def test_cli_batch_exit_codes_and_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = sample_copy(tmp_path)
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1"]
    # all accepted
    assert main(["batch", str(root), *common]) == 0
    recs = json_lines(capsys.readouterr().out)
    assert [r["accepted"] for r in recs] == [True, True]
    # a policy rejection -> 5
    pol = tmp_path / "pol.yaml"
    pol.write_text("sgx:\n  mr_enclave: ['" + "00" * 32 + "']\n")
    assert main(["batch", str(root), *common, "--policy", str(pol)]) == 5
    capsys.readouterr()
    # plus malformed evidence -> 2
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x03\x00\x02\x00" + b"\x00" * 100)
    assert main(["batch", str(root), str(bad), *common, "--policy", str(pol)]) == 2
    capsys.readouterr()
    # plus a file that cannot be read -> 1
    missing = str(tmp_path / "missing.bin")
    assert main(["batch", str(root), str(bad), missing, *common]) == 1
    out = capsys.readouterr().out
    assert [r["exit_code"] for r in json_lines(out)] == [0, 0, 2, 1]


def test_cli_batch_skipped_and_show_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = sample_copy(tmp_path)
    (root / "readme.json").write_text("{}")
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1"]
    assert main(["batch", str(root), *common]) == 0
    cap = capsys.readouterr()
    assert all("skipped" not in r for r in json_lines(cap.out))
    assert "skipped (not evidence)  1" in cap.err
    assert main(["batch", str(root), *common, "--show-skipped", "--quiet"]) == 0
    cap = capsys.readouterr()
    assert json_lines(cap.out)[0] == {"path": str(root / "readme.json"), "skipped": "not evidence"}
    assert cap.err == ""


def test_cli_batch_resume(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = sample_copy(tmp_path)
    out = tmp_path / "out.jsonl"
    sgx, tdx = str(root / "sgx" / "quote.bin"), str(root / "tdx" / "quote.bin")
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1", "-o", str(out)]
    assert main(["batch", sgx, *common]) == 0
    assert capsys.readouterr().out == ""  # stdout stays empty with --output
    assert [r["path"] for r in json_lines(out.read_text())] == [sgx]
    # a crash left half a line behind: that file's record is dropped and it is redone
    with open(out, "a") as fh:
        fh.write('{"path": "' + tdx + '", "acc')
    assert main(["batch", sgx, tdx, *common, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "already in output (--resume)  1" in err
    assert [r["path"] for r in _good_lines(out)] == [sgx, tdx]
    # a new file is added; earlier rejections still decide the exit code
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 9)
    assert main(["batch", str(bad), *common, "--resume"]) == 2
    assert main(["batch", sgx, tdx, str(bad), *common, "--resume"]) == 2
    assert [r["path"] for r in _good_lines(out)] == [sgx, tdx, str(bad)]
    capsys.readouterr()


def _good_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_cli_batch_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["batch", str(tmp_path), "--resume"]) == 1
    assert main(["batch", str(tmp_path), "--jobs", "-1"]) == 1
    assert main(["batch", str(tmp_path), "--collateral", str(tmp_path / "nope")]) == 4
    assert main(["batch", str(tmp_path), "--at", "noon"]) == 1
    capsys.readouterr()


def test_cli_batch_stdout_is_pure_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = sample_copy(tmp_path)
    main(["batch", str(root), "--at", SAMPLE_AT, "--jobs", "2", "--trust-root", str(SAMPLE_ROOT)])
    out = capsys.readouterr().out
    assert all(json.loads(line)["path"] for line in out.splitlines())


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    piped = io.StringIO()
    p = Progress(2, piped)
    p.update({"accepted": True})
    p.update({"accepted": False})
    p.close()
    assert piped.getvalue() == ""
    tty = _Tty()
    p = Progress(2, tty)
    p.update({"accepted": True})
    p.update({"accepted": False})
    p.close()
    text = tty.getvalue()
    assert text.startswith("\r[") and "2/2" in text and "rejected 1" in text
    assert text.endswith("\n")


def test_summary_table() -> None:
    recs = [
        {"accepted": True, "exit_code": 0, "tee": "sgx"},
        {"accepted": False, "exit_code": 5, "tee": "tdx", "reason": "tcb_status_rejected"},
        {"accepted": False, "exit_code": 1, "tee": None, "reason": None, "error": "OSError"},
        {"path": "x", "skipped": "not evidence"},
    ]
    table = summary_table(recs, elapsed=2.0, resumed=3)
    rows = {k.strip(): v.strip() for k, v in (line.rsplit("  ", 1) for line in table.splitlines())}
    assert rows["files verified"] == "3"
    assert rows["accepted"] == "1" and rows["rejected"] == "2"
    assert rows["exit 5 (policy)"] == "1" and rows["exit 1 (error)"] == "1"
    assert rows["skipped (not evidence)"] == "1"
    assert rows["already in output (--resume)"] == "3"
    assert rows["reason tcb_status_rejected"] == "1" and rows["reason OSError"] == "1"
    assert rows["tee sgx"] == "1"
    assert rows["time"].startswith("2.00s (1.5 files/s)")


def test_cli_batch_on_a_dask_scheduler(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed (pip install 'cocoverify[dask]')"
    )
    root = sample_copy(tmp_path)
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x03\x00\x02\x00" + b"\x00" * 100)
    common = [str(root), str(bad), "--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "-q"]
    assert main(["batch", *common, "--jobs", "1"]) == 2
    local = json_lines(capsys.readouterr().out)
    with distributed.LocalCluster(
        n_workers=2, processes=False, host="127.0.0.1", protocol="tcp", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        assert main(["batch", *common, "--scheduler", address]) == 2
        assert json_lines(capsys.readouterr().out) == local
        assert main(["batch", *common, "--scheduler", address, "--jobs", "2"]) == 1
        assert "--scheduler" in capsys.readouterr().err
    assert [r["accepted"] for r in local] == [True, True, False]


def test_cli_batch_scheduler_without_dask(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    assert main(["batch", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1"]) == 1
    assert "pip install 'cocoverify[dask]'" in capsys.readouterr().err


def test_lines_are_what_write_json_writes() -> None:
    recs: list[dict[str, Any]] = [
        {"path": "é\u2028x", "skipped": "not evidence"},
        {"path": "q", "accepted": True, "exit_code": 0, "claims": {"isv_svn": 2}, "n": 1.5},
        {"path": "q", "accepted": False, "reason": None, "advisory_ids": ["INTEL-SA-1"]},
    ]
    for rec in recs:
        buf = io.StringIO()
        write_json(rec, buf)
        assert buf.getvalue() == _LINE.encode(rec) + "\n"
