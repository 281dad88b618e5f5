"""The event-log fuzz target runs (a few hundred mutations, well under a second)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def test_fuzz_target_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    module = importlib.import_module("fuzz_tdx_eventlog")
    harness = importlib.import_module("_harness")
    assert harness.mutation_loop(module.target, module.seeds(), 300) >= 300
    for mod in ("fuzz_tdx_eventlog", "_harness"):
        sys.modules.pop(mod, None)
