"""The generated NVIDIA, Azure and event-log vectors (vectors/nvidia, azure, eventlog): each
case through ``cocoverify verify`` (the CLI, trust roots as ``--trust-root`` files, the policy
as a file) gives its manifest outcome and exit code, as ``verify()`` does
(tests/vectors/test_manifest.py); each negative has exactly one defect, so its reason is
named, and the generators cover what the brief asks of them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from _shared import PROJECT_VECTORS
from _shared.cli import run_cli

MANIFEST = PROJECT_VECTORS / "manifest.json"
CASES: list[dict[str, Any]] = [
    c
    for c in (json.loads(MANIFEST.read_text())["cases"] if MANIFEST.is_file() else [])
    if c["id"].split(".")[0] in ("nvidia", "azure", "eventlog")
]


def test_each_new_vendor_has_good_and_one_defect_cases() -> None:
    by_vendor: dict[str, set[str]] = {}
    for c in CASES:
        by_vendor.setdefault(c["id"].split(".")[0], set()).add(c["expected"])
    assert set(by_vendor) == {"nvidia", "azure", "eventlog"}
    for vendor, outcomes in by_vendor.items():
        assert "accept" in outcomes and len(outcomes) >= 6, vendor
    nvidia = {c["expected"] for c in CASES if c["id"].startswith("nvidia.")}
    assert {"certificate_revoked", "collateral_expired", "measurement_mismatch"} <= nvidia
    assert {c["expected"] for c in CASES if c["id"].startswith("eventlog.")} >= {
        "event_log_mismatch",
        "malformed",
        "unsupported_algorithm",
    }


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_cli(case: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["verify", str(PROJECT_VECTORS / case["evidence"]), "--at", case["at"]]
    for rel in case["collateral"]:
        argv += ["--collateral", str(PROJECT_VECTORS / rel)]
    for rel in case["trust_files"]:
        argv += ["--trust-root", str(PROJECT_VECTORS / rel)]
    if case["policy"] is not None:
        (tmp_path / "policy.json").write_text(json.dumps(case["policy"]))
        argv += ["--policy", str(tmp_path / "policy.json")]
    code, out = run_cli(capsys, *argv, "--format", "json")
    doc = json.loads(out)
    assert code == case["exit_code"], out
    if case["expected"] == "accept":
        assert doc["accepted"] is True
    else:
        assert doc["reason"] == case["expected"]
