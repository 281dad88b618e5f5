"""IBM Secure Execution property tests: arbitrary and mutated responses, ARCBs and SE
headers only raise cocoverify errors; a changed response is never accepted."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import CocoverifyError, ibmse
from cocoverify.tee.ibmse import describe, detect
from cocoverify.tee.ibmse.parse import boot_hdr_tags_from_header
from cocoverify_testing.ibmse import HOSTS, FakeIbmPki, FakeUltravisor

PKI = FakeIbmPki()
HDR = (Path(__file__).parent / "kat" / "secure_guest.hdr").read_bytes()
TAGS = boot_hdr_tags_from_header(HDR)
REQ = ibmse.make_request(
    [PKI.hkd(HOSTS[0])], image_hdr_tags=TAGS.to_bytes(), unsafe_skip_hkd_verification=True
)
RESPONSE = json.dumps(FakeUltravisor(PKI.host_key(HOSTS[0]), TAGS).answer(REQ.challenge, b"u"))
DOC = RESPONSE.encode()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(data: bytes) -> None:
    detect(data)
    with contextlib.suppress(CocoverifyError):
        ibmse.verify_response(data, secret=REQ.secret)
    with contextlib.suppress(CocoverifyError):
        describe(data)


@SETTINGS
@given(st.binary(max_size=512))
def test_arbitrary_bytes(data: bytes) -> None:
    if data:
        _run(b'{"measurement": "cuid", "image_hdr_tags": ' + data)
        _run(data)


@SETTINGS
@given(st.data())
def test_mutated_response(data: st.DataObject) -> None:
    offset = data.draw(st.integers(0, len(DOC) - 1))
    value = data.draw(st.integers(0, 255))
    mutated = DOC[:offset] + bytes([value]) + DOC[offset + 1 :]
    try:
        parsed_same = json.loads(mutated) == json.loads(DOC)
    except ValueError:
        parsed_same = False
    try:
        ibmse.verify_response(mutated, secret=REQ.secret)
    except CocoverifyError:
        return
    # accepted: only when the change left the decoded fields as they were (whitespace, an
    # escaped character) or touched only the wrapped key / nonce, which a kept secret ignores
    assert parsed_same or "encr_" in RESPONSE[max(offset - 40, 0) : offset], offset


@SETTINGS
@given(st.binary(max_size=700))
def test_se_headers(data: bytes) -> None:
    with contextlib.suppress(CocoverifyError):
        boot_hdr_tags_from_header(b"IBMSecEx\x00\x00\x01\x00" + data)
    with contextlib.suppress(CocoverifyError):
        boot_hdr_tags_from_header(data)
