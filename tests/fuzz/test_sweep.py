"""The mutation sweep (tests/fuzz/sweep.py) on a slice: the generated cases, every 97th
evidence byte and 2 bytes of each collateral file (CI runs every byte: scripts/fuzz-ci.sh).
And the sweep can fail: without the unsigned-by-design list, the trailing bytes of
tdx.good.zero_padded are findings."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sweep  # noqa: E402
import unsigned  # noqa: E402


def test_rules_name_reason_and_spec() -> None:
    names = [r.name for r in unsigned.RULES]
    assert len(names) == len(set(names))
    for rule in unsigned.RULES:
        assert len(rule.reason) > 40 and rule.spec


def test_no_generated_mutant_is_accepted() -> None:
    rep = sweep.run(seed=7, workers=1, sample=2, only="project/", stride=97)
    assert rep.cases >= 50 and rep.mutants >= 1500
    assert not rep.findings, [f.describe() for f in rep.findings[:10]]


def test_sweep_reports_what_no_rule_explains(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(unsigned, "RULES", ())
    rep = sweep.run(seed=0, workers=1, sample=0, only="project/tdx.good.zero_padded", stride=1)
    assert rep.mutants > 5000
    assert rep.findings and all(f.where == "evidence" for f in rep.findings)
    sweep._CASES.clear()
