"""Every fuzz target of tests/fuzz runs (a hundred or so mutations each, the random-mutation
loop of _harness); the bounded coverage-guided runs are scripts/fuzz-ci.sh (atheris, every
target) and scripts/soak.py (docs/security.md "Fuzzing in CI")."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import runner  # noqa: E402  (tests/fuzz, not a package)

SMOKE = {
    "fuzz_nitro": 300,
    "fuzz_ibmse": 300,
    "fuzz_nvidia": 100,
    "fuzz_dcap": 200,
    "fuzz_snp": 100,
    "fuzz_sgxext": 300,
    "fuzz_cca": 200,
    "fuzz_collateral": 100,
    "fuzz_policy": 200,
    "fuzz_trustee": 100,
}


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_fuzz_target_smoke(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    harness = importlib.import_module("_harness")
    module = importlib.import_module(name)
    if hasattr(module, "seeds") and callable(module.seeds):
        seeds = module.seeds()
    elif name == "fuzz_ibmse":
        seeds = [module.RESPONSE, module.HDR]
    else:
        seeds = importlib.import_module("seeds").SEEDS[name.removeprefix("fuzz_")]()
    assert seeds
    assert harness.mutation_loop(module.target, seeds, SMOKE[name]) >= SMOKE[name]
    sys.modules.pop(name, None)


def test_every_runner_target_exists() -> None:
    for name, (script, seed_set) in runner.TARGETS.items():
        assert script.is_file(), name
        assert seed_set in runner.seeds.SEEDS, name
