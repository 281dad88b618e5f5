"""Quote parsing per backend, side by side (docs/native.md "Speed").

Run: ``pytest benchmarks/test_bench_parse.py --benchmark-enable --benchmark-group-by=group``.
In each group the Python backend is the baseline; read the native row as a ratio of it.
``fields`` times the checks alone (the field table), ``view`` adds the frozen views that both
backends build with the same Python function.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from cocoverify._backend import native_error
from cocoverify._core.text import decode_text
from cocoverify.tee.intel.parse import parse_quote, parse_quote_fields

from _shared import require_shared

CASES = [("tdx-v4-dcapqvl-sample", "tdx_quote"), ("sgx-v3-automata-quotev3", "quote.bin")]
BACKENDS = ["python", "native"]


def _quote(case: str, name: str) -> bytes:
    return decode_text((require_shared("intel") / case / name).read_bytes())


def _need(backend: str) -> None:
    if backend == "native" and native_error() is not None:
        pytest.skip(f"native backend unavailable: {native_error()}")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("case", "name"), CASES, ids=[c[0] for c in CASES])
def test_parse_fields(benchmark: Any, case: str, name: str, backend: str) -> None:
    _need(backend)
    benchmark.group = f"fields {case}"
    data = _quote(case, name)
    benchmark(parse_quote_fields, data, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(("case", "name"), CASES, ids=[c[0] for c in CASES])
def test_parse_view(benchmark: Any, case: str, name: str, backend: str) -> None:
    _need(backend)
    benchmark.group = f"view {case}"
    data = _quote(case, name)
    benchmark(parse_quote, data, backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_reject_truncated(benchmark: Any, backend: str) -> None:
    _need(backend)
    benchmark.group = "reject truncated"
    data = _quote(*CASES[0])[:3000]

    def run() -> None:
        with contextlib.suppress(ValueError):
            parse_quote_fields(data, backend=backend)

    benchmark(run)
