"""NVIDIA property tests: arbitrary and mutated reports only raise cocoverify errors, a
change to any signed byte is never accepted, and the fuzz target runs."""

from __future__ import annotations

import contextlib
import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import CocoverifyError
from cocoverify.collateral import Collateral
from cocoverify.tee.nvidia import describe, detect
from cocoverify_testing.nvidia import NOW, FakeNvidiaPki, build_report

PKI = FakeNvidiaPki()
REPORT = build_report(PKI)
TRUST = PKI.trust()
COLL = Collateral.from_bytes(PKI.chain_pem(), source="chain.pem")
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = Path(__file__).resolve().parents[2] / "fuzz"


def _run(data: bytes) -> bool:
    detect(data)
    with contextlib.suppress(CocoverifyError):
        describe(data)
    try:
        cocoverify.verify(data, at=NOW, trust=TRUST, collateral=COLL)
    except CocoverifyError:
        return False
    return True


@SETTINGS
@given(st.binary(max_size=600))
def test_arbitrary_bytes(data: bytes) -> None:
    _run(b"\x11\xe0\x01\xff" + data)


@SETTINGS
@given(st.integers(0, len(REPORT) - 97), st.integers(1, 255))
def test_any_signed_byte_changed_is_rejected(offset: int, xor: int) -> None:
    data = bytearray(REPORT)
    data[offset] ^= xor
    assert not _run(bytes(data))


@SETTINGS
@given(st.integers(0, len(REPORT)), st.binary(min_size=1, max_size=8))
def test_insertions(offset: int, chunk: bytes) -> None:
    _run(REPORT[:offset] + chunk + REPORT[offset:])


def test_fuzz_target_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(FUZZ))
    harness = importlib.import_module("_harness")
    module = importlib.import_module("fuzz_nvidia")
    assert harness.mutation_loop(module.target, module.seeds(), 300) >= 300
    for mod in ("fuzz_nvidia", "_harness"):
        sys.modules.pop(mod, None)
