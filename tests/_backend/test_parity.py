"""Both parser backends give identical results (docs/native.md, "Parity guarantees").

For every input, ``parse_quote``/``parse_quote_fields`` on the native C core and on the
pure-Python parser must return equal field tables and equal frozen views, or raise the same
exception: class, reason, field, offset and message. Inputs: quotes built with the TEST PKI
(SGX v3/v5, TDX v4, v5 TD10/TD15, every certification data type), the project's generated
vectors, the real quotes in ../shared (when present), and Hypothesis mutations of them.
"""

from __future__ import annotations

import json
import os
import re
from functools import cache
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import CocoverifyError, EvidenceError, Reason
from cocoverify._backend import native_error
from cocoverify._core.text import decode_text
from cocoverify.tee.intel.parse import parse_quote, parse_quote_fields
from cocoverify_testing.intel import FakeIntelPKI, QuoteBuilder

from _shared import PROJECT_VECTORS, ROOT, SHARED_VECTORS

if native_error() is not None:
    if os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
        raise RuntimeError(f"COCOVERIFY_REQUIRE_NATIVE is set: {native_error()}")
    pytest.skip(f"native backend unavailable: {native_error()}", allow_module_level=True)

from cocoverify._backend import _native

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_SGX_RESERVED = ((20, 12), (96, 32), (160, 32), (262, 42))


@cache
def _built() -> dict[str, bytes]:
    pki = FakeIntelPKI()
    builders = {
        "sgx_v3": QuoteBuilder.sgx(),
        "sgx_v5": QuoteBuilder.sgx(version=5),
        "tdx_v4": QuoteBuilder.tdx(),
        "tdx_v5_td10": QuoteBuilder.tdx(version=5, body_type=2),
        "tdx_v5_td15": QuoteBuilder.tdx(version=5, body_type=3),
        "sgx_v3_type1": QuoteBuilder.sgx().cert_data_type(1),
        "sgx_v3_type3": QuoteBuilder.sgx().cert_data_type(3),
        "tdx_v4_type4": QuoteBuilder.tdx().cert_data_type(4),
        "tdx_v4_der": QuoteBuilder.tdx().der_chain(),
        "tdx_v4_padded": QuoteBuilder.tdx().pad(8000),
        "sgx_v3_auth0": QuoteBuilder.sgx().qe_auth_data(b""),
    }
    return {name: b.sign(pki) for name, b in builders.items()}


@cache
def _real() -> dict[str, bytes]:
    path = SHARED_VECTORS / "intel" / "MANIFEST.json"
    if not path.is_file():
        return {}
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    out = {}
    for case in cases:
        raw = (SHARED_VECTORS / "intel" / case["id"] / case["files"]["quote"]).read_bytes()
        out[case["id"]] = decode_text(raw)
    return out


def _seeds() -> dict[str, bytes]:
    return {**_built(), **_real()}


SEED_NAMES = sorted(_built())


def outcome(data: bytes, backend: str) -> tuple[Any, ...]:
    """What one backend makes of ``data``: the table and view, or the error's identity."""
    try:
        return ("ok", parse_quote_fields(data, backend=backend), parse_quote(data, backend=backend))
    except CocoverifyError as exc:
        return (
            "error",
            type(exc),
            exc.reason,
            getattr(exc, "field", None),
            getattr(exc, "offset", None),
            str(exc),
        )


def assert_parity(data: bytes) -> tuple[Any, ...]:
    py = outcome(data, "python")
    nat = outcome(data, "native")
    assert nat == py, data[:64].hex()
    return py


# --- deterministic ------------------------------------------------------------------------


@pytest.mark.parametrize("name", SEED_NAMES)
def test_built_quotes_equal(name: str) -> None:
    res = assert_parity(_built()[name])
    assert res[0] == "ok"


def test_real_quotes_equal() -> None:
    real = _real()
    if not real:
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    for name, data in real.items():
        assert assert_parity(data)[0] == "ok", name


def test_project_vectors_equal() -> None:
    files = sorted((PROJECT_VECTORS / "intel" / "quotes").glob("*.bin"))
    assert files, "vectors/intel/quotes is empty"
    kinds = {assert_parity(f.read_bytes())[0] for f in files}
    assert kinds == {"ok", "error"}


@pytest.mark.parametrize("name", ["sgx_v3", "tdx_v4", "tdx_v5_td15"])
def test_every_truncation_equal(name: str) -> None:
    data = _built()[name]
    for cut in range(len(data)):
        res = assert_parity(data[:cut])
        assert res[0] == "error" and res[2] is Reason.TRUNCATED, cut


@pytest.mark.parametrize("name", ["sgx_v3", "tdx_v5_td10"])
def test_every_byte_flipped_equal(name: str) -> None:
    data = _built()[name]
    limit = parse_quote_fields(data, backend="python").certification_data_offset + 8
    for off in range(limit):
        q = bytearray(data)
        q[off] ^= 0xFF
        assert_parity(bytes(q))


def test_every_error_code_is_reached() -> None:
    """The seeds above reach each C status, so the mapping of each one is compared."""
    seen = set()
    for f in sorted((PROJECT_VECTORS / "intel" / "quotes").glob("*.bin")):
        res = outcome(f.read_bytes(), "native")
        if res[0] == "error":
            seen.add(res[2])
    for name in ("sgx_v3", "tdx_v4", "tdx_v5_td15"):
        data = _built()[name]
        for off in range(0, 700):
            q = bytearray(data)
            q[off] ^= 0xFF
            res = outcome(bytes(q), "native")
            if res[0] == "error":
                seen.add(res[2])
    assert {
        Reason.TRUNCATED,
        Reason.RESERVED_NONZERO,
        Reason.MALFORMED,
        Reason.UNSUPPORTED_VERSION,
        Reason.UNSUPPORTED_KEY_TYPE,
        Reason.UNSUPPORTED_TEE_TYPE,
        Reason.UNSUPPORTED_CERTIFICATION_DATA,
    } <= seen


def _grow(data: bytes, at: int, words: list[tuple[int, int]]) -> bytes:
    """Insert one byte at ``at`` and add 1 to each little-endian (offset, size) word."""
    q = bytearray(data)
    for off, size in words:
        q[off : off + size] = (int.from_bytes(q[off : off + size], "little") + 1).to_bytes(
            size, "little"
        )
    return bytes(q[:at] + b"\x00" + q[at:])


@pytest.mark.parametrize("name", ["sgx_v3", "tdx_v4", "tdx_v5_td15"])
def test_each_malformed_branch_equal(name: str) -> None:
    data = _built()[name]
    f = parse_quote_fields(data, backend="python")
    sig_len = (f.signed_end, 4)
    # a byte inside the signature data that no field claims
    res = assert_parity(_grow(data, f.length, [sig_len]))
    assert (res[2], res[3]) == (Reason.MALFORMED, "signature_data_length")
    if f.version != 3:
        # a byte inside the outer certification data after the inner one
        outer_size = (f.attestation_key_offset + 64 + 2, 4)
        res = assert_parity(_grow(data, f.length, [sig_len, outer_size]))
        assert (res[2], res[3]) == (Reason.MALFORMED, "certification_data.size")
    if f.version == 5:
        q = bytearray(data)
        q[50:54] = (f.body_size + 1).to_bytes(4, "little")
        res = assert_parity(bytes(q))
        assert (res[2], res[3]) == (Reason.MALFORMED, "body_descriptor.size")


# --- Hypothesis ---------------------------------------------------------------------------


@SETTINGS
@given(
    name=st.sampled_from(SEED_NAMES),
    muts=st.lists(st.tuples(st.integers(0, 9000), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.integers(0, 9000)),
)
def test_mutated_quotes_equal(name: str, muts: list[tuple[int, int]], cut: int | None) -> None:
    q = bytearray(_built()[name])
    for off, val in muts:
        q[off % len(q)] = val
    assert_parity(bytes(q[:cut] if cut is not None else q))


@SETTINGS
@given(data=st.data())
def test_real_quotes_mutated_equal(data: st.DataObject) -> None:
    real = _real()
    if not real:
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    name = data.draw(st.sampled_from(sorted(real)))
    q = bytearray(real[name])
    for off, val in data.draw(
        st.lists(st.tuples(st.integers(0, len(q) - 1), st.integers(0, 255)), max_size=4)
    ):
        q[off] = val
    cut = data.draw(st.integers(0, len(q)))
    assert_parity(bytes(q[:cut]))


def _length_fields(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every length/type word of a valid quote."""
    f = parse_quote_fields(data, backend="python")
    words = [(0, 2), (2, 2), (4, 4), (f.signed_end, 4)]
    if f.version == 5:
        words += [(48, 2), (50, 4)]
    words += [(f.qe_auth_data_offset - 2, 2), (f.certification_offset, 2)]
    words += [(f.certification_offset + 2, 4)]
    if f.version != 3:
        outer = f.attestation_key_offset + 64
        words += [(outer, 2), (outer + 2, 4)]
    return words


@SETTINGS
@given(name=st.sampled_from(SEED_NAMES), data=st.data())
def test_length_and_type_words_equal(name: str, data: st.DataObject) -> None:
    q = bytearray(_built()[name])
    off, size = data.draw(st.sampled_from(_length_fields(bytes(q))))
    value = data.draw(
        st.one_of(
            st.integers(0, 8),
            st.integers(0, 2 ** (8 * size) - 1),
            st.integers(-64, 64).map(lambda d: int.from_bytes(q[off : off + size], "little") + d),
        ).filter(lambda v: 0 <= v < 2 ** (8 * size))
    )
    q[off : off + size] = value.to_bytes(size, "little")
    assert_parity(bytes(q))


@SETTINGS
@given(name=st.sampled_from(SEED_NAMES), data=st.data())
def test_reserved_bytes_flipped_equal(name: str, data: st.DataObject) -> None:
    q = bytearray(_built()[name])
    f = parse_quote_fields(bytes(q), backend="python")
    starts = [f.qe_report_offset] + ([f.body_offset] if f.body_type == 1 else [])
    start = data.draw(st.sampled_from(starts))
    rel, size = data.draw(st.sampled_from(_SGX_RESERVED))
    off = start + rel + data.draw(st.integers(0, size - 1))
    q[off] = data.draw(st.integers(1, 255))
    res = assert_parity(bytes(q))
    assert res[2] is Reason.RESERVED_NONZERO


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1200))
def test_arbitrary_bytes_equal(data: bytes) -> None:
    assert_parity(data)


@settings(max_examples=200, deadline=None)
@given(
    version=st.sampled_from([3, 4, 5]),
    tee=st.sampled_from([0, 0x81, 1]),
    tail=st.binary(max_size=900),
)
def test_plausible_headers_equal(version: int, tee: int, tail: bytes) -> None:
    head = version.to_bytes(2, "little") + b"\x02\x00" + tee.to_bytes(4, "little")
    assert_parity(head + bytes(40) + tail)


# --- the wrapper itself -------------------------------------------------------------------


def test_field_names_cover_the_c_enum() -> None:
    header = (ROOT / "csrc" / "cv_ffi.h").read_text(encoding="utf-8")
    ids = {int(v) for v in re.findall(r"CV_DCAP_F_\w+ = (\d+)", header)}
    assert set(_native.FIELD_NAMES) == ids - {0}


def test_unknown_status_fails_closed() -> None:
    out = _native.ffi.new("cv_quote_fields *")
    out.status = 99
    with pytest.raises(EvidenceError) as ei:
        _native.fields_from_struct(out, 100)
    assert ei.value.reason is Reason.MALFORMED


def test_table_outside_the_input_fails_closed() -> None:
    data = _built()["sgx_v3"]
    out = _native.ffi.new("cv_quote_fields *")
    _native.lib.cv_dcap_parse(_native.ffi.from_buffer("uint8_t[]", data), len(data), out)
    assert _native.fields_from_struct(out, len(data)).length == out.length
    out.qe_auth_data_size = 1 << 40
    with pytest.raises(EvidenceError) as ei:
        _native.fields_from_struct(out, len(data))
    assert ei.value.reason is Reason.MALFORMED
    out.qe_auth_data_size = 32
    with pytest.raises(EvidenceError):
        _native.fields_from_struct(out, int(out.length) - 1)


def test_struct_layout_mismatch_is_an_import_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import struct

    _native._check_layout()
    monkeypatch.setattr(_native, "_LAYOUT", struct.Struct("=ii" + "Q" * 20))
    with pytest.raises(ImportError):
        _native._check_layout()


def test_null_input_is_an_argument_error() -> None:
    out = _native.ffi.new("cv_quote_fields *")
    assert _native.lib.cv_dcap_parse(_native.ffi.NULL, 5, out) == _native.lib.CV_ERR_ARGUMENT
    assert _native.lib.cv_dcap_parse(_native.ffi.NULL, 0, out) == _native.lib.CV_ERR_TRUNCATED
    assert out.err_field == _native.lib.CV_DCAP_F_HEADER


def test_views_are_bytes_not_buffers() -> None:
    q = parse_quote(_built()["tdx_v5_td15"], backend="native")
    assert type(q.signature) is bytes and type(q.body.raw) is bytes
    assert type(q.certification.data) is bytes


def test_unknown_backend_name_is_a_configuration_error() -> None:
    from cocoverify import ConfigurationError

    with pytest.raises(ConfigurationError):
        parse_quote(_built()["sgx_v3"], backend="rust")
