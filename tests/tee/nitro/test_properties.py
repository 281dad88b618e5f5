"""AWS Nitro property tests: arbitrary and mutated documents only raise cocoverify errors,
and detection never raises."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import CocoverifyError
from cocoverify.tee.nitro import describe, detect
from cocoverify_testing.nitro import NitroDocumentBuilder

B = NitroDocumentBuilder()
DOC = B.build()
TRUST = B.pki.trust()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(data: bytes) -> None:
    detect(data)
    with contextlib.suppress(CocoverifyError):
        cocoverify.verify(data, at="2026-01-01T00:00:00Z", trust=TRUST)
    with contextlib.suppress(CocoverifyError):
        describe(data)


@SETTINGS
@given(st.binary(max_size=512))
def test_arbitrary_bytes(data: bytes) -> None:
    if data:
        _run(b"\x84" + data)
        _run(b"\xd2\x84" + data)


@SETTINGS
@given(st.data())
def test_mutated_document(data: st.DataObject) -> None:
    offset = data.draw(st.integers(0, len(DOC) - 1))
    value = data.draw(st.integers(0, 255))
    mutated = DOC[:offset] + bytes([value]) + DOC[offset + 1 :]
    if mutated == DOC:
        return
    try:
        cocoverify.verify(mutated, at="2026-01-01T00:00:00Z", trust=TRUST)
    except CocoverifyError:
        return
    raise AssertionError(f"a changed byte at {offset} was accepted")


@SETTINGS
@given(st.integers(1, len(DOC) - 1))
def test_truncated_document(n: int) -> None:
    _run(DOC[:n])
