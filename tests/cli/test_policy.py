"""``cocoverify policy check``: the normal form of a valid file, the located error of a bad one."""

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
