"""Quote parsing (cocoverify.tee.intel.parse): lengths, boundaries, versions, reserved fields
(QVL ``QuoteStructures.h``, ``Quote::validate``), on both parser backends."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import CocoverifyError, EvidenceError, MalformedEvidence, Reason, verify
from cocoverify._core.text import decode_text
from cocoverify.registry import detect
from cocoverify.tee.intel.parse import parse_quote

from _shared import require_shared


def _quote(case: str, name: str) -> bytes:
    return decode_text((require_shared("intel") / case / name).read_bytes())


@pytest.fixture
def sgx_quote() -> bytes:
    return _quote("sgx-v3-dcapqvl-sample", "sgx_quote")


@pytest.fixture
def tdx_quote() -> bytes:
    return _quote("tdx-v4-dcapqvl-sample", "tdx_quote")


@pytest.fixture
def td15_quote() -> bytes:
    return _quote("tdx-v5-gotdx-sample", "quote_v5_sample.dat")


def _boundaries(q: bytes, backend: str) -> list[int]:
    """Every field boundary of a parsed quote (header, body, sig data, QE, cert data)."""
    p = parse_quote(q, backend=backend)
    v5 = 6 if p.header.version == 5 else 0
    body_end = 48 + v5 + len(p.body.raw)
    sig = body_end + 4
    points = [0, 2, 4, 8, 10, 12, 28, 48, 48 + v5, body_end, sig, sig + 64, sig + 128]
    if p.header.version == 3:
        qe = sig + 128
        points += [qe + 384, qe + 448, qe + 450, qe + 450 + len(p.qe_auth_data)]
    else:
        qe = sig + 128 + 6
        points += [sig + 130, qe, qe + 384, qe + 448, qe + 450, qe + 450 + len(p.qe_auth_data)]
    cd = p.certification.offset
    points += [cd, cd + 2, cd + 6, p.length - 1]
    return sorted(set(points))


@pytest.mark.parametrize("name", ["sgx_quote", "tdx_quote", "td15_quote"])
def test_truncation_at_every_field_boundary(
    name: str, request: pytest.FixtureRequest, backend: str
) -> None:
    q: bytes = request.getfixturevalue(name)
    for cut in _boundaries(q, backend):
        if cut < 8:
            continue  # too short to recognise at all; covered below
        with pytest.raises(MalformedEvidence) as ei:
            parse_quote(q[:cut], backend=backend)
        assert ei.value.reason is Reason.TRUNCATED, cut
        assert ei.value.offset is not None and ei.value.field


def test_tiny_inputs_are_unknown_or_truncated() -> None:
    for n in range(0, 8):
        with pytest.raises(EvidenceError):
            verify(b"\x03\x00\x02\x00\x00\x00\x00\x00"[:n] or b"\x00")


def test_trailing_bytes_ignored_with_warning(tdx_quote: bytes, backend: str) -> None:
    p = parse_quote(tdx_quote + b"garbage", backend=backend)
    assert p.trailing == len(tdx_quote) - p.length + 7
    assert parse_quote(tdx_quote, backend=backend).length == p.length


@pytest.mark.parametrize(
    ("offset", "value", "reason"),
    [
        (0, b"\x06\x00", Reason.UNSUPPORTED_VERSION),
        (0, b"\x02\x00", None),  # version 2 is not an Intel quote at all: SNP-shaped
        (2, b"\x03\x00", Reason.UNSUPPORTED_KEY_TYPE),
        (4, b"\x01\x00\x00\x00", Reason.UNSUPPORTED_TEE_TYPE),
        (4, b"\x81\x00\x00\x00", Reason.UNSUPPORTED_TEE_TYPE),  # v3 must be SGX
    ],
)
def test_header_checks(
    sgx_quote: bytes, offset: int, value: bytes, reason: Reason | None, backend: str
) -> None:
    q = bytearray(sgx_quote)
    q[offset : offset + len(value)] = value
    with pytest.raises(EvidenceError) as ei:
        if reason is None:
            assert detect(bytes(q)).name != "intel"
            raise EvidenceError("not intel")
        parse_quote(bytes(q), backend=backend)
    if reason is not None:
        assert ei.value.reason is reason


def test_v5_body_descriptor(td15_quote: bytes, backend: str) -> None:
    q = bytearray(td15_quote)
    q[48:50] = (9).to_bytes(2, "little")
    with pytest.raises(EvidenceError) as ei:
        parse_quote(bytes(q), backend=backend)
    assert ei.value.reason is Reason.UNSUPPORTED_VERSION
    q = bytearray(td15_quote)
    q[50:54] = (584).to_bytes(4, "little")  # TD15 type with TD10 size
    with pytest.raises(MalformedEvidence) as ei2:
        parse_quote(bytes(q), backend=backend)
    assert ei2.value.reason is Reason.MALFORMED
    q = bytearray(td15_quote)
    q[48:50] = (1).to_bytes(2, "little")  # SGX body in a TDX quote
    q[50:54] = (384).to_bytes(4, "little")
    with pytest.raises(EvidenceError) as ei3:
        parse_quote(bytes(q), backend=backend)
    assert ei3.value.reason is Reason.UNSUPPORTED_TEE_TYPE


def test_reserved_report_fields_must_be_zero(sgx_quote: bytes, backend: str) -> None:
    for rel in (20, 96, 160, 262):
        q = bytearray(sgx_quote)
        q[48 + rel] = 1
        with pytest.raises(MalformedEvidence) as ei:
            parse_quote(bytes(q), backend=backend)
        assert ei.value.reason is Reason.RESERVED_NONZERO
        assert ei.value.offset == 48 + rel


def test_signature_data_length_must_agree(sgx_quote: bytes, backend: str) -> None:
    p = parse_quote(sgx_quote, backend=backend)
    off = 48 + 384
    q = bytearray(sgx_quote)
    q[off : off + 4] = (int.from_bytes(q[off : off + 4], "little") - 1).to_bytes(4, "little")
    with pytest.raises(MalformedEvidence) as ei:
        parse_quote(bytes(q), backend=backend)
    assert ei.value.reason is Reason.TRUNCATED  # the certification data no longer fits
    q = bytearray(sgx_quote) + b"\x00"
    q[off : off + 4] = (int.from_bytes(q[off : off + 4], "little") + 1).to_bytes(4, "little")
    with pytest.raises(MalformedEvidence) as ei:
        parse_quote(bytes(q), backend=backend)
    assert ei.value.reason is Reason.MALFORMED
    assert p.certification.type == 5


def test_certification_data_types(sgx_quote: bytes, tdx_quote: bytes, backend: str) -> None:
    p = parse_quote(sgx_quote, backend=backend)
    q = bytearray(sgx_quote)
    q[p.certification.offset : p.certification.offset + 2] = (7).to_bytes(2, "little")
    with pytest.raises(EvidenceError) as ei:
        parse_quote(bytes(q), backend=backend)
    assert ei.value.reason is Reason.UNSUPPORTED_CERTIFICATION_DATA
    t = parse_quote(tdx_quote, backend=backend)
    outer = 48 + 584 + 4 + 128
    q = bytearray(tdx_quote)
    q[outer : outer + 2] = (5).to_bytes(2, "little")
    with pytest.raises(EvidenceError) as ei:
        parse_quote(bytes(q), backend=backend)
    assert ei.value.reason is Reason.UNSUPPORTED_CERTIFICATION_DATA
    q = bytearray(tdx_quote)
    off = t.certification.offset
    q[off : off + 2] = (6).to_bytes(2, "little")
    with pytest.raises(EvidenceError) as ei:
        parse_quote(bytes(q), backend=backend)
    assert ei.value.reason is Reason.UNSUPPORTED_CERTIFICATION_DATA


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_only_raise_cocoverify_errors(data: bytes) -> None:
    with contextlib.suppress(CocoverifyError):
        verify(data, at="2025-07-04T10:28:44Z")


def _mutations() -> st.SearchStrategy[list[tuple[int, int]]]:
    return st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=4)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(muts=_mutations(), cut=st.integers(0, 6000))
def test_mutated_real_quotes_only_raise_cocoverify_errors(
    tdx_quote: bytes, muts: list[tuple[int, int]], cut: int
) -> None:
    base = require_shared("intel") / "tdx-v4-dcapqvl-sample"
    from cocoverify import load_collateral

    coll = load_collateral([base])
    q = bytearray(tdx_quote)
    for off, val in muts:
        q[off % len(q)] = val
    data = bytes(q[: max(cut, 1)]) if cut < len(q) else bytes(q)
    with contextlib.suppress(CocoverifyError):
        verify(data, collateral=coll, at="2025-07-04T10:16:31Z")


def test_hex_and_base64_evidence_accepted(tdx_quote: bytes) -> None:
    import base64

    for text in (
        tdx_quote.hex().encode(),
        b"0x" + tdx_quote.hex().encode(),
        base64.b64encode(tdx_quote),
    ):
        assert decode_text(text) == tdx_quote
