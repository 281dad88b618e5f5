"""Fuzz the IBM Secure Execution response parser and pipeline, and the SE header reader
(docs/ibmse.md).

    python tests/fuzz/fuzz_ibmse.py                    # atheris if installed, else 20000 mutations
    python tests/fuzz/fuzz_ibmse.py --mutations 5000   # the mutation loop only

Seeds: a response of the fake Ultravisor to a request on the fake IBM PKI, and the SE
header of tests/tee/ibmse/kat.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import _harness

from cocoverify import ibmse
from cocoverify.tee.ibmse import describe, detect
from cocoverify.tee.ibmse.parse import boot_hdr_tags_from_header
from cocoverify_testing.ibmse import HOSTS, FakeIbmPki, FakeUltravisor

HDR = (
    Path(__file__).resolve().parents[1] / "tee" / "ibmse" / "kat" / "secure_guest.hdr"
).read_bytes()
TAGS = boot_hdr_tags_from_header(HDR)
PKI = FakeIbmPki()
REQUEST = ibmse.make_request(
    [PKI.hkd(HOSTS[0])], image_hdr_tags=TAGS.to_bytes(), unsafe_skip_hkd_verification=True
)
RESPONSE = json.dumps(
    FakeUltravisor(PKI.host_key(HOSTS[0]), TAGS).answer(REQUEST.challenge, b"user data")
).encode()


def target(data: bytes) -> None:
    if data[:1] == b"I":
        boot_hdr_tags_from_header(data)
        return
    detect(data)
    try:
        describe(data)
    finally:
        ibmse.verify_response(data, secret=REQUEST.secret)


if __name__ == "__main__":
    _harness.main(target, [RESPONSE, HDR], sys.argv)
