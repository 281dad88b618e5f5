"""The fuzz targets run (a few hundred mutations each, well under a second); long runs are
``python tests/fuzz/fuzz_<name>.py`` (docs/nitro.md, docs/ibmse.md)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


@pytest.mark.parametrize("name", ["fuzz_nitro", "fuzz_ibmse"])
def test_fuzz_target_smoke(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    harness = importlib.import_module("_harness")
    module = importlib.import_module(name)
    seeds = module.seeds() if hasattr(module, "seeds") else [module.RESPONSE, module.HDR]
    assert harness.mutation_loop(module.target, seeds, 300) >= 300
    for mod in (name, "_harness"):
        sys.modules.pop(mod, None)
