"""Both backends parse SEV-SNP reports identically (docs/native.md, "SNP reports and the SGX
PCK extension").

For every input, ``parse_report`` (and ``split_evidence``) through the C layout
(csrc/cv_snp.c) and through the pure-Python parser return equal frozen ``SnpReport`` views,
or raise the same exception: class, reason, field, offset and message. Inputs: reports built
for every version (2-5), the generated vectors in vectors/snp, the real reports in
../shared/vectors/amd (when present), every truncation, every byte flip, every reserved
byte, and Hypothesis mutations of them.
"""

from __future__ import annotations

import os
import re
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from functools import cache
from types import SimpleNamespace
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify._backend as backend_mod
from cocoverify import CocoverifyError, EvidenceError, Reason
from cocoverify._backend import native_error
from cocoverify.tee.snp.parse import (
    LAYOUT,
    REPORT_SIZE,
    SnpReport,
    _reserved_ranges,
    parse_report,
    split_evidence,
)
from cocoverify_testing.snp import FakeAmdPKI, SnpReportBuilder

from _shared import PROJECT_VECTORS, ROOT, SHARED_VECTORS

if native_error() is not None:
    if os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
        raise RuntimeError(f"COCOVERIFY_REQUIRE_NATIVE is set: {native_error()}")
    pytest.skip(f"native backend unavailable: {native_error()}", allow_module_level=True)

from cocoverify._backend import _native, _native_snp

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PRODUCTS = {2: "Milan", 3: "Milan", 4: "Genoa", 5: "Turin"}
#: The signature's must-be-zero ranges (SEV-SNP ABI §7.3): R and S padding, the tail.
SIGNATURE_MBZ = ((0x2D0, 0x2E8), (0x318, 0x330), (0x330, REPORT_SIZE))


@contextmanager
def selected(name: str) -> Iterator[None]:
    """Run with ``name`` as the selected backend (what ``backend_for`` reads)."""
    saved = backend_mod.BACKEND
    backend_mod.BACKEND = name
    try:
        yield
    finally:
        backend_mod.BACKEND = saved


def _error(exc: CocoverifyError) -> tuple[Any, ...]:
    field = getattr(exc, "field", None)
    return ("error", type(exc), exc.reason, field, getattr(exc, "offset", None), str(exc))


def outcome(data: bytes, backend: str) -> tuple[Any, ...]:
    """What one backend makes of ``data``: the view, or the error's identity."""
    with selected(backend):
        try:
            return ("ok", parse_report(data))
        except CocoverifyError as exc:
            return _error(exc)


def assert_parity(data: bytes) -> tuple[Any, ...]:
    py = outcome(data, "python")
    nat = outcome(data, "native")
    assert nat == py, data[:16].hex()
    return py


@cache
def _built() -> dict[int, bytes]:
    return {v: SnpReportBuilder.for_product(p, version=v).unsigned() for v, p in PRODUCTS.items()}


@cache
def _signed() -> dict[int, bytes]:
    pkis = {p: FakeAmdPKI(p) for p in set(PRODUCTS.values())}
    return {
        v: SnpReportBuilder.for_product(p, version=v).sign(pkis[p]) for v, p in PRODUCTS.items()
    }


@cache
def _files() -> dict[str, bytes]:
    """Every report.bin of vectors/snp and ../shared/vectors/amd (extended ones included)."""
    out = {f"vectors/{p.parent.name}": p.read_bytes() for p in PROJECT_VECTORS.glob("snp/*/*.bin")}
    for p in sorted(SHARED_VECTORS.glob("amd/*/report.bin")):
        out[f"shared/{p.parent.name}"] = p.read_bytes()
    return out


def _with(data: bytes, offset: int, value: bytes) -> bytes:
    buf = bytearray(data)
    buf[offset : offset + len(value)] = value
    return bytes(buf)


# --- deterministic ------------------------------------------------------------------------


@pytest.mark.parametrize("version", sorted(PRODUCTS))
def test_built_reports_equal(version: int) -> None:
    for data in (_built()[version], _signed()[version]):
        res = assert_parity(data)
        assert res[0] == "ok" and res[1].version == version
        assert res[1].to_bytes() == data


def test_project_vectors_equal() -> None:
    files = {k: v for k, v in _files().items() if k.startswith("vectors/")}
    assert len(files) > 50, "vectors/snp is missing"
    kinds = set()
    for data in files.values():
        kinds.add(assert_parity(data[:REPORT_SIZE])[0])
        kinds.add(assert_parity(data)[0])
    assert kinds == {"ok", "error"}


def test_real_reports_equal() -> None:
    real = {k: v for k, v in _files().items() if k.startswith("shared/")}
    if not real:
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    kinds = set()
    for data in real.values():
        kinds.add(assert_parity(data)[0])
        assert_parity(data[:REPORT_SIZE])
    assert "ok" in kinds


def test_split_evidence_equal() -> None:
    """Extended reports (a certificate table after the report) split the same way."""
    for name, data in _files().items():
        with selected("python"):
            try:
                py: Any = split_evidence(data)
            except CocoverifyError as exc:
                py = _error(exc)
        with selected("native"):
            try:
                nat: Any = split_evidence(data)
            except CocoverifyError as exc:
                nat = _error(exc)
        assert nat == py, name


@pytest.mark.parametrize("version", [2, 5])
def test_every_truncation_equal(version: int) -> None:
    data = _built()[version]
    for cut in range(len(data)):
        res = assert_parity(data[:cut])
        assert res[0] == "error" and res[2] is Reason.TRUNCATED, cut


def test_trailing_bytes_equal() -> None:
    data = _built()[3]
    for extra in (b"\x00", bytes(31), b"\xff" * 200):
        res = assert_parity(data + extra)
        assert res[2] is Reason.TRAILING_DATA


@pytest.mark.parametrize("version", sorted(PRODUCTS))
def test_every_byte_flipped_equal(version: int) -> None:
    data = _signed()[version]
    for off in range(len(data)):
        for mask in (0xFF, 0x01):
            q = bytearray(data)
            q[off] ^= mask
            assert_parity(bytes(q))


@pytest.mark.parametrize("version", sorted(PRODUCTS))
def test_every_reserved_byte_equal(version: int) -> None:
    data = _built()[version]
    ranges = [(s, e) for _, s, e in _reserved_ranges(version)] + list(SIGNATURE_MBZ)
    for start, end in ranges:
        for off in range(start, end):
            res = assert_parity(_with(data, off, b"\x80"))
            assert res[2] is Reason.RESERVED_NONZERO and res[4] == off, hex(off)
        # two non-zero bytes: the error names the first
        res = assert_parity(_with(_with(data, end - 1, b"\x01"), start, b"\x02"))
        assert res[4] == start


@pytest.mark.parametrize("version", [0, 1, 2, 5, 6, 7, 0x100, 0xFFFFFFFF])
def test_versions_equal(version: int) -> None:
    data = _with(_built()[5], 0, version.to_bytes(4, "little"))
    for cut in (3, 4, 100, REPORT_SIZE, None):
        assert_parity(data[:cut])


@pytest.mark.parametrize(
    ("offset", "values"),
    [
        (0x34, [0, 1, 2, 0xFFFF, 0xFFFFFFFF]),  # SIGNATURE_ALGO
        (0x48, [k << 2 for k in range(8)] + [1 << 5, 1 << 31, 0b11, 0x1F]),  # KEY_INFO
    ],
)
def test_key_info_and_algorithm_equal(offset: int, values: list[int]) -> None:
    for value in values:
        assert_parity(_with(_built()[3], offset, value.to_bytes(4, "little")))


def test_policy_equal() -> None:
    data = _built()[3]
    base = int.from_bytes(data[8:16], "little")
    values = [0, 1 << 17, base & ~(1 << 17), base | 1 << 26, base | 1 << 63, (1 << 64) - 1]
    values += [base | 1 << n for n in range(64)]
    for value in values:
        assert_parity(_with(data, 8, value.to_bytes(8, "little")))


def test_every_error_is_reached() -> None:
    """The inputs above reach every C status and field id, so each mapping is compared."""
    seen = set()
    data = _built()[3]
    cases = [data[:2], data[:100], data + b"\x00", _with(data, 0, b"\x09")]
    cases += [_with(data, 0x34, b"\x02"), _with(data, 0x48, b"\x08"), _with(data, 0x48, b"\x20")]
    cases += [_with(data, 8, bytes(8)), _with(data, 15, b"\x80")]
    for version, built in _built().items():
        ranges = [(s, e) for _, s, e in _reserved_ranges(version)] + list(SIGNATURE_MBZ)
        cases += [_with(built, s, b"\x01") for s, _ in ranges]
    for case in cases:
        out = _native_snp.ffi.new("cv_snp_fields *")
        status = _native_snp.lib.cv_snp_parse(
            _native_snp.ffi.from_buffer("uint8_t[]", case), len(case), out
        )
        seen.add((status, out.err_field))
        assert_parity(case)
    fids = {int(v) for v in re.findall(r"CV_SNP_F_\w+ = (\d+)", _header())} - {0}
    assert {f for _, f in seen} == fids
    assert {s for s, _ in seen} == {1, 2, 4, 5, 16, 17}


# --- Hypothesis ---------------------------------------------------------------------------


@SETTINGS
@given(
    version=st.sampled_from(sorted(PRODUCTS)),
    muts=st.lists(st.tuples(st.integers(0, REPORT_SIZE - 1), st.integers(0, 255)), max_size=6),
    cut=st.one_of(st.none(), st.integers(0, REPORT_SIZE + 8)),
)
def test_mutated_reports_equal(version: int, muts: list[tuple[int, int]], cut: int | None) -> None:
    q = bytearray(_signed()[version])
    for off, val in muts:
        q[off] = val
    assert_parity(bytes(q[:cut] if cut is not None else q))


@SETTINGS
@given(data=st.data())
def test_reserved_offsets_flipped_equal(data: st.DataObject) -> None:
    version = data.draw(st.sampled_from(sorted(PRODUCTS)))
    ranges = [(s, e) for _, s, e in _reserved_ranges(version)] + list(SIGNATURE_MBZ)
    q = bytearray(_signed()[version])
    for _ in range(data.draw(st.integers(1, 3))):
        start, end = data.draw(st.sampled_from(ranges))
        q[data.draw(st.integers(start, end - 1))] |= data.draw(st.integers(1, 255))
    res = assert_parity(bytes(q))
    assert res[2] is Reason.RESERVED_NONZERO


@SETTINGS
@given(data=st.data())
def test_real_reports_mutated_equal(data: st.DataObject) -> None:
    files = _files()
    name = data.draw(st.sampled_from(sorted(files)))
    q = bytearray(files[name][:REPORT_SIZE])
    for off, val in data.draw(
        st.lists(st.tuples(st.integers(0, len(q) - 1), st.integers(0, 255)), max_size=4)
    ):
        q[off] = val
    assert_parity(bytes(q[: data.draw(st.integers(0, len(q)))]))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1300))
def test_arbitrary_bytes_equal(data: bytes) -> None:
    assert_parity(data)


@settings(max_examples=200, deadline=None)
@given(
    version=st.integers(0, 7),
    algo=st.sampled_from([1, 1, 1, 0, 2]),
    body=st.binary(min_size=REPORT_SIZE - 8, max_size=REPORT_SIZE - 8),
)
def test_plausible_reports_equal(version: int, algo: int, body: bytes) -> None:
    data = version.to_bytes(4, "little") + body
    assert_parity(_with(data, 0x34, algo.to_bytes(4, "little")))


# --- the wrapper itself -------------------------------------------------------------------


def _header() -> str:
    return (ROOT / "csrc" / "cv_ffi.h").read_text(encoding="utf-8")


def test_values_follow_the_view() -> None:
    """The wrapper's field order and byte offsets are the view's and the parser's layout."""
    assert [f.name for f in fields(SnpReport)] == [n for n, *_ in _native_snp.REPORT_FIELDS]
    assert {n: (o, s) for n, o, s, _ in _native_snp.REPORT_FIELDS} == LAYOUT
    assert _native_snp._REPORT.size == REPORT_SIZE


def test_field_names_cover_the_c_enum() -> None:
    ids = {int(v) for v in re.findall(r"CV_SNP_F_\w+ = (\d+)", _header())}
    assert set(_native_snp.FIELD_NAMES) == ids - {0}


def test_parse_report_routes_to_the_selected_backend() -> None:
    data = _built()[3]
    spy = mock.Mock(wraps=_native_snp.parse_report_values)
    with mock.patch.object(_native_snp, "parse_report_values", spy):
        with selected("python"):
            parse_report(data)
        assert spy.call_count == 0
        with selected("native"):
            parse_report(data)
        assert spy.call_count == 1
    assert backend_mod.backend_for("snp-report") == backend_mod.BACKEND


def test_views_are_bytes() -> None:
    with selected("native"):
        r = parse_report(bytearray(_built()[5]))
    assert type(r.signature) is bytes and type(r.chip_id) is bytes
    assert r.cpuid_fam_id is not None and r.launch_mit_vector is not None
    with selected("native"):
        r2 = parse_report(memoryview(_built()[2]))
    assert r2.cpuid_fam_id is None and r2.current_mit_vector is None


def test_unknown_status_fails_closed() -> None:
    data = _built()[3]
    out = _native_snp.ffi.new("cv_snp_fields *")
    out.status = 99
    with pytest.raises(EvidenceError) as ei:
        _native_snp.values_from_struct(out, data)
    assert ei.value.reason is Reason.MALFORMED
    out.status = _native_snp.lib.CV_ERR_RESERVED_NONZERO
    out.err_field = 0
    with pytest.raises(EvidenceError) as ei:
        _native_snp.values_from_struct(out, data)
    assert ei.value.reason is Reason.MALFORMED


def test_success_with_a_bad_table_fails_closed() -> None:
    data = _built()[3]
    out = _native_snp.ffi.new("cv_snp_fields *")
    _native_snp.lib.cv_snp_parse(_native_snp.ffi.from_buffer("uint8_t[]", data), len(data), out)
    assert _native_snp.values_from_struct(out, data)[0] == 3
    with pytest.raises(EvidenceError):
        _native_snp.values_from_struct(out, data[:-1])
    out.version = 9
    with pytest.raises(EvidenceError):
        _native_snp.values_from_struct(out, data)


def test_struct_layout_mismatch_is_an_import_error() -> None:
    _native_snp._check_layout()
    with (
        mock.patch.object(_native_snp, "_LAYOUT", struct.Struct("=ii" + "Q" * 5)),
        pytest.raises(ImportError),
    ):
        _native_snp._check_layout()


def test_null_input_is_an_argument_error() -> None:
    lib, ffi = _native_snp.lib, _native_snp.ffi
    out = ffi.new("cv_snp_fields *")
    assert lib.cv_snp_parse(ffi.NULL, 5, out) == lib.CV_ERR_ARGUMENT
    assert lib.cv_snp_parse(ffi.NULL, 0, out) == lib.CV_ERR_TRUNCATED
    assert out.err_field == lib.CV_SNP_F_VERSION
    assert lib.cv_snp_parse(ffi.from_buffer("uint8_t[]", b"x"), 1, ffi.NULL) == lib.CV_ERR_ARGUMENT


def test_stale_build_without_the_parsers_is_not_native(monkeypatch: pytest.MonkeyPatch) -> None:
    """An extension built before cv_snp.c/cv_sgxext.c is "not available", never half-used."""
    stale = SimpleNamespace(cv_abi_version=_native.lib.cv_abi_version)
    monkeypatch.setattr(_native, "lib", stale)
    assert "cv_snp_parse, cv_sgxext_parse" in (backend_mod._probe_native() or "")
