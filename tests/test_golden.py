"""Every real and generated vector's full JSON output equals the golden file recorded before
the per-TEE layout move (tests/golden/outputs.json): verdicts, reasons, exit codes, claims,
trustee claims and EAR trust vectors."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
import outputs

GOLDEN: dict[str, Any] = json.loads((outputs.HERE / "outputs.json").read_text())
CASES = {cid: (ev, kw) for cid, ev, kw in outputs.cases()}


def test_every_golden_case_is_run() -> None:
    project = {k for k in GOLDEN if k.startswith("project/")}
    assert project <= set(CASES)
    if not outputs.SHARED.is_dir():
        pytest.skip(f"real vectors not available: {outputs.SHARED} is absent")
    assert set(GOLDEN) == set(CASES)


@pytest.mark.parametrize("cid", sorted(CASES))
def test_output_unchanged(cid: str) -> None:
    evidence, kw = CASES[cid]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = json.loads(json.dumps(outputs.outcome(evidence, **kw)))
    assert got == GOLDEN[cid]
