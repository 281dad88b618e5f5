"""Every entry of the project's own vectors/manifest.json, all vendors, through verify()."""

from __future__ import annotations

import json
from typing import Any

import pytest

import cocoverify
from cocoverify import CocoverifyError, Policy, TrustStore, load_collateral

from _shared import PROJECT_VECTORS

MANIFEST = PROJECT_VECTORS / "manifest.json"
CASES: list[dict[str, Any]] = (
    json.loads(MANIFEST.read_text())["cases"] if MANIFEST.is_file() else []
)


def test_manifest_present_and_covers_every_tee() -> None:
    assert {c["platform"] for c in CASES} == {
        "sgx", "tdx", "snp", "cca", "gpu", "az-snp-vtpm", "az-tdx-vtpm", "tdx-eventlog"
    }  # fmt: skip
    ids = [c["id"] for c in CASES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_vector(case: dict[str, Any]) -> None:
    evidence = (PROJECT_VECTORS / case["evidence"]).read_bytes()
    kwargs: dict[str, Any] = {
        "collateral": load_collateral([PROJECT_VECTORS / p for p in case["collateral"]]),
        "policy": Policy.from_dict(case["policy"]),
        "at": case["at"],
    }
    if case["trust"] is not None:
        kwargs["trust"] = TrustStore(**case["trust"])
    if case["expected"] == "accept":
        result = cocoverify.verify(evidence, **kwargs)
        assert result.accepted
        if case.get("expected_tcb_status"):
            assert result.tcb_status == case["expected_tcb_status"]
        return
    with pytest.raises(CocoverifyError) as ei:
        cocoverify.verify(evidence, **kwargs)
    assert ei.value.reason.value == case["expected"]
    assert ei.value.exit_code == case["exit_code"]
    if case.get("expected_tcb_status") and ei.value.result is not None:
        assert ei.value.result.tcb_status == case["expected_tcb_status"]
