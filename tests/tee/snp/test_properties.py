"""Property tests: arbitrary and mutated SNP evidence only ever raises cocoverify errors."""

from __future__ import annotations

import contextlib
import logging

from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import verify
from cocoverify.collateral import Collateral
from cocoverify.errors import CocoverifyError
from cocoverify.policy import Policy
from cocoverify.tee.snp.parse import REPORT_SIZE, parse_cert_table, parse_report
from cocoverify.trust import TrustStore
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, SnpReportBuilder, cert_table

M = FakeAmdPKI("Milan")
TRUST = TrustStore.from_certificates(amd={"Milan": [M.ark]})
REPORT = SnpReportBuilder.for_product("Milan").sign(M)
VCEK = M.vcek_for(REPORT)
COLL = Collateral(chains=((VCEK, M.ask, M.ark),), crls=(M.crl(),))
POLICY = Policy.from_dict({"unsafe_allow_debug": True})
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
logging.getLogger("cocoverify.policy").setLevel(logging.ERROR)


def _verify(data: bytes) -> None:
    with contextlib.suppress(CocoverifyError):
        verify(data, collateral=COLL, trust=TRUST, at=VECTOR_TIME, policy=POLICY)


@SETTINGS
@given(st.binary(max_size=2 * REPORT_SIZE))
def test_arbitrary_bytes_parse(data: bytes) -> None:
    with contextlib.suppress(CocoverifyError):
        parse_report(data)


@SETTINGS
@given(st.binary(min_size=REPORT_SIZE, max_size=REPORT_SIZE))
def test_arbitrary_full_size_reports_verify(data: bytes) -> None:
    # start with a plausible version so the SNP pipeline is exercised, not just detection
    _verify(b"\x03\x00\x00\x00" + data[4:])


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, REPORT_SIZE - 1), st.integers(0, 255)), min_size=1, max_size=8
    )
)
def test_mutated_reports(changes: list[tuple[int, int]]) -> None:
    buf = bytearray(REPORT)
    for offset, value in changes:
        buf[offset] = value
    _verify(bytes(buf))


@SETTINGS
@given(st.integers(0, REPORT_SIZE * 2), st.binary(max_size=64))
def test_truncated_and_extended(cut: int, tail: bytes) -> None:
    _verify(REPORT[:cut] + tail)


TABLE = cert_table(vcek=VCEK.public_bytes(Encoding.DER))


@SETTINGS
@given(
    st.lists(
        st.tuples(st.integers(0, len(TABLE) - 1), st.integers(0, 255)), min_size=1, max_size=6
    ),
    st.integers(0, len(TABLE)),
)
def test_mutated_cert_tables(changes: list[tuple[int, int]], cut: int) -> None:
    buf = bytearray(TABLE)
    for offset, value in changes:
        buf[offset] = value
    with contextlib.suppress(CocoverifyError):
        parse_cert_table(bytes(buf[:cut]))
    _verify(REPORT + bytes(buf[:cut]))
