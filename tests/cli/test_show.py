"""``cocoverify show``: decoded evidence, nothing verified."""

from __future__ import annotations

import json

import pytest

from _shared import require_shared
from _shared.cli import run_cli

TDX = "tdx-v4-dcapqvl-sample"


def test_show(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel") / TDX
    rc, out = run_cli(capsys, "show", str(base / "tdx_quote"))
    doc = json.loads(out)
    assert rc == 0 and doc["kind"] == "tdx" and doc["verified"] is False
    assert doc["claims"]["mr_td"].startswith("91eb2b44")
