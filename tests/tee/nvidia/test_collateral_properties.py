"""Property tests for the NVIDIA collateral parsers: arbitrary or mutated RIM files and OCSP
responses only raise cocoverify errors (collateral errors, exit 4, or a revocation), and a
RIM mutated anywhere is never read with other reference values than the ones it states."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import CocoverifyError
from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralError, Revoked
from cocoverify.tee.nvidia.ocsp import ocsp_document
from cocoverify.tee.nvidia.rim import parse_rim, rim_document
from cocoverify_testing.nvidia import NOW, FakeNvidiaPki, build_report, build_rim, ocsp_response
from cocoverify_testing.nvidia.report import NONCE

PKI = FakeNvidiaPki()
REPORT = build_report(PKI)
CHAIN = Collateral.from_bytes(PKI.chain_pem(), source="chain.pem")
RIM = build_rim("550.90.07", {0: [b"\x01" * 48], 1: [b"\x02" * 48, b"\x03" * 48]})
OCSP = ocsp_response(PKI, "leaf")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _verify(doc: dict[str, str]) -> None:
    cocoverify.verify(
        REPORT,
        collateral=CHAIN + Collateral(documents=(doc,)),
        trust=PKI.trust(),
        at=NOW,
        expected_report_data=NONCE,
    )


@SETTINGS
@given(st.binary(max_size=400))
def test_any_bytes_as_rim(data: bytes) -> None:
    with contextlib.suppress(CollateralError):
        parse_rim(data)


@SETTINGS
@given(st.integers(0, len(RIM) - 1), st.integers(1, 255))
def test_mutated_rim_parses_to_what_it_says_or_is_refused(at: int, xor: int) -> None:
    data = bytearray(RIM)
    data[at] ^= xor
    try:
        rim = parse_rim(bytes(data))
    except CollateralError:
        return
    # whatever parsed states its values in its own text: no value comes from elsewhere
    for m in rim.measurements:
        for v in m.values:
            assert v.hex().encode() in bytes(data).lower() or v.hex().upper().encode() in data


@SETTINGS
@given(st.integers(0, len(OCSP) - 1), st.integers(1, 255))
def test_mutated_ocsp_response_is_never_a_silent_pass(at: int, xor: int) -> None:
    data = bytearray(OCSP)
    data[at] ^= xor
    try:
        _verify(ocsp_document(bytes(data)))
    except (CollateralError, Revoked):
        return
    except CocoverifyError as exc:  # e.g. a response that names no chain certificate
        raise AssertionError(f"unexpected {exc.reason}") from exc
    # accepted: the mutation left a good, validly signed response or one naming no
    # certificate of the chain (then revocation stays unchecked); never a forged good
    # answer for the leaf: a changed signed byte makes the signature fail


def test_rim_document_round_trip() -> None:
    _verify(rim_document(build_rim("550.90.07", {})))  # no active measurement: accepted
