"""``cocoverify policy check``: the normal form of a valid file, every located error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from _shared.cli import run_cli


def test_policy_check(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("accepted_tcb_statuses: [UpToDate]\ntdx:\n  mr_td: ['" + "ab" * 48 + "']\n")
    rc, out = run_cli(capsys, "policy", "check", str(good))
    assert rc == 0 and json.loads(out)["tdx"]["mr_td"] == ["ab" * 48]
    bad = tmp_path / "bad.yaml"
    bad.write_text("tdx:\n  mr_tdd: []\n")
    rc, out = run_cli(capsys, "policy", "check", str(bad))
    assert rc == 1 and "tdx.mr_tdd" in out


def test_every_error_in_one_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "accepted_tcb_statuses: [UpToDate, Bogus]\n"  # 1
        "bogus: 1\n"  # 2
        "tdx:\n"  # 3
        "  mr_td: ['zz']\n"  # 4
        "  rtmr9: []\n"  # 5
        "  rtmr0: ['" + "ab" * 48 + "']\n"  # 6: valid
        "snp:\n"  # 7
        "  vmpl: [0]\n"  # 8
        "  vmpl: [0, 1]\n"  # 9
        "unsafe_allow_debug: maybe\n"  # 10
    )
    rc, out = run_cli(capsys, "policy", "check", str(bad))
    lines = out.splitlines()
    assert rc == 1
    where = [line.split(": ", 1)[0] for line in lines]
    assert where == [f"{bad}:{n}" for n in (1, 2, 4, 5, 9, 10)], out
    assert "Bogus" in lines[0] and "bogus: unknown key" in lines[1]
    assert "tdx.mr_td[0]" in lines[2] and "tdx.rtmr9" in lines[3]
    assert "duplicate key 'vmpl' (lines 8 and 9)" in lines[4]
    assert "unsafe_allow_debug" in lines[5]


def test_syntax_error_and_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"tdx": ')
    rc, out = run_cli(capsys, "policy", "check", str(bad))
    assert rc == 1 and "invalid JSON" in out
    rc, out = run_cli(capsys, "policy", "check", str(tmp_path / "absent.yaml"))
    assert rc == 1 and "absent.yaml" in out
