"""``cocoverify batch --manifest`` and ``--report`` (cli/batch.py): lines with their own time,
expected report data and collateral in one run, on local workers and on a Dask scheduler;
bad lines stop the command before anything is verified; --resume keeps the report whole."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cocoverify.cli import main

from _shared.batch import SAMPLE, SAMPLE_AT, SAMPLE_ROOT
from _shared.cli import json_lines

LATE = "2025-07-01T00:00:00Z"  # after the sample collateral's nextUpdate


def _fleet(tmp_path: Path) -> tuple[Path, list[dict[str, str]]]:
    (tmp_path / "ev").mkdir()
    shutil.copytree(SAMPLE / "sgx" / "collateral", tmp_path / "ev" / "sgx-coll")
    shutil.copytree(SAMPLE / "tdx" / "collateral", tmp_path / "ev" / "tdx-coll")
    lines = []
    for i in range(6):
        tee = "sgx" if i % 2 else "tdx"
        shutil.copy(SAMPLE / tee / "quote.bin", tmp_path / "ev" / f"{i}.bin")
        line = {"path": f"ev/{i}.bin", "collateral": f"ev/{tee}-coll", "id": f"node-{i}"}
        if i == 5:
            line["at"] = LATE  # captured later: its collateral has expired by then
        lines.append(line)
    manifest = tmp_path / "fleet.jsonl"
    manifest.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return manifest, lines


def _args(manifest: Path, *more: str) -> list[str]:
    return [
        "batch",
        "--manifest",
        str(manifest),
        "--trust-root",
        str(SAMPLE_ROOT),
        "--at",
        SAMPLE_AT,
        "-q",
        *more,
    ]


def test_manifest_runs_each_line_with_its_own_settings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest, lines = _fleet(tmp_path)
    assert main(_args(manifest, "--jobs", "2")) == 4
    recs = json_lines(capsys.readouterr().out)
    assert [r["id"] for r in recs] == [x["id"] for x in lines]
    assert [r["path"] for r in recs] == [str(tmp_path / x["path"]) for x in lines]
    assert [r["exit_code"] for r in recs] == [0, 0, 0, 0, 0, 4]
    assert [r.get("verified_at") for r in recs[:5]] == [SAMPLE_AT] * 5
    assert [r["tee"] for r in recs[:2]] == ["tdx", "sgx"]
    # positional paths and a manifest together; stdin as a manifest
    extra = tmp_path / "ev" / "0.bin"
    assert (
        main(
            [
                *_args(manifest, "--jobs", "1"),
                str(extra),
                "--collateral",
                str(tmp_path / "ev" / "tdx-coll"),
            ]
        )
        == 4
    )
    assert len(json_lines(capsys.readouterr().out)) == 7


def test_manifest_from_stdin(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest, _ = _fleet(tmp_path)
    monkeypatch.chdir(tmp_path)  # stdin: paths relative to the working directory
    monkeypatch.setattr("sys.stdin", open(manifest, encoding="utf-8"))  # noqa: SIM115
    assert main(_args(Path("-"), "--jobs", "1")) == 4
    assert len(json_lines(capsys.readouterr().out)) == 6


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ('{"path": "ev/0.bin", "nonce": "00"}', "unknown key 'nonce'"),
        ('{"path": "ev/0.bin", "at": "2025-13-01"}', "at:"),
        ("not json", "not JSON"),
    ],
)
def test_bad_line_is_exit_1_before_anything_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, bad: str, what: str
) -> None:
    manifest, _ = _fleet(tmp_path)
    manifest.write_text(manifest.read_text() + bad + "\n")
    out = tmp_path / "out.jsonl"
    assert main(_args(manifest, "-o", str(out), "--report", str(tmp_path / "r.html"))) == 1
    err = capsys.readouterr().err
    assert f"{manifest}:7: " in err and what in err
    assert not out.exists() or out.read_text() == ""
    assert not (tmp_path / "r.html").exists()


def test_nothing_to_verify_is_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["batch", "-q"]) == 1
    assert "--manifest" in capsys.readouterr().err


def test_manifest_on_a_dask_scheduler(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    distributed = pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed (pip install 'cocoverify[dask]')"
    )
    manifest, _ = _fleet(tmp_path)
    assert main(_args(manifest, "--jobs", "1")) == 4
    local = json_lines(capsys.readouterr().out)
    with distributed.LocalCluster(
        n_workers=2, processes=False, host="127.0.0.1", protocol="tcp", dashboard_address=None
    ) as cluster:
        report = tmp_path / "dask.html"
        argv = _args(manifest, "--scheduler", cluster.scheduler_address, "--report", str(report))
        assert main(argv) == 4
        assert json_lines(capsys.readouterr().out) == local
    assert 'data-key="verified"><span class="num">6<' in report.read_text()


def test_resume_keeps_the_report_whole(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    manifest, lines = _fleet(tmp_path)
    out, report = tmp_path / "out.jsonl", tmp_path / "r.html"
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps(x) + "\n" for x in lines[:3]))
    assert main(_args(first, "-o", str(out))) == 0
    assert main(_args(manifest, "-o", str(out), "--resume", "--report", str(report))) == 4
    assert len(out.read_text().splitlines()) == 6
    page = report.read_text()
    assert 'data-key="verified"><span class="num">6<' in page  # 3 resumed + 3 verified now
    assert 'data-key="accepted"><span class="num">5<' in page


def test_unwritable_report_is_exit_1_before_anything_runs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    manifest, _ = _fleet(tmp_path)
    out = tmp_path / "out.jsonl"
    argv = _args(manifest, "-o", str(out), "--report", str(tmp_path / "absent" / "r.html"))
    assert main(argv) == 1
    assert "--report" in capsys.readouterr().err and not out.exists()
    # a report that exists is replaced only once the new one is complete
    report = tmp_path / "r.html"
    report.write_text("old")
    assert main(_args(manifest, "--report", str(report), "-j", "1")) == 4
    assert report.read_text().startswith("<!DOCTYPE html>")
    assert not (tmp_path / "r.html.tmp").exists()
