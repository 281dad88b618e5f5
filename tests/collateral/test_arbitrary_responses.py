"""Arbitrary bytes, served or parsed as collateral, only ever raise cocoverify errors
(collateral/source.py parse_item, collateral/intel_pcs.py against in-memory PCCS answers)."""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from cocoverify.collateral.http import Response
from cocoverify.collateral.intel_pcs import IntelPcs
from cocoverify.collateral.source import parse_item
from cocoverify.errors import CocoverifyError
from cocoverify_testing.intel import sgx_qe_identity, sgx_tcb_info

from _shared.collateral import DER, INTEL_ARGS, PKI, url_quoted


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=300),
    kind=st.sampled_from(["tcb_info", "qe_identity", "crl", "chain", "certificate"]),
)
def test_parse_item_arbitrary(data: bytes, kind: str) -> None:
    with contextlib.suppress(CocoverifyError):
        parse_item(data, kind=kind, source="fuzz")


_GOOD_ROUTES = {
    "/sgx/certification/v4/tcb": PKI.tcb_info_body(sgx_tcb_info()),
    "/sgx/certification/v4/qe/identity": PKI.qe_identity_body(sgx_qe_identity()),
    "/sgx/certification/v4/pckcrl": PKI.platform_crl.public_bytes(DER),
    "/sgx/certification/v4/rootcacrl": PKI.root_crl.public_bytes(DER).hex().encode(),
}


_CHAIN_HEADERS = {
    h.lower(): url_quoted(PKI.tcb_signing_chain_pem())
    for h in (
        "TCB-Info-Issuer-Chain",
        "SGX-Enclave-Identity-Issuer-Chain",
        "SGX-PCK-CRL-Issuer-Chain",
    )
}


@settings(max_examples=100, deadline=None)
@given(
    victim=st.sampled_from(sorted(_GOOD_ROUTES)),
    body=st.one_of(
        st.binary(max_size=200),
        st.builds(
            lambda b, i, x: b[:i] + bytes([x]) + b[i + 1 :],
            st.sampled_from(list(_GOOD_ROUTES.values())),
            st.integers(0, 400),
            st.integers(0, 255),
        ),
    ),
    header=st.one_of(st.none(), st.text(max_size=80)),
    status=st.sampled_from([200, 200, 200, 404, 429, 500]),
)
def test_pccs_arbitrary_responses(
    victim: str, body: bytes, header: str | None, status: int
) -> None:
    class Mem:
        def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response:
            path = urllib.parse.urlsplit(url).path
            hdrs = dict(_CHAIN_HEADERS)
            if path == victim:
                if header is not None:
                    hdrs = {k: header for k in hdrs}
                return Response(status, hdrs, body, url)
            return Response(200, hdrs, _GOOD_ROUTES[path], url)

    pccs = IntelPcs("http://127.0.0.1:9", pccs=True, transport=Mem())
    with contextlib.suppress(CocoverifyError):
        pccs.intel(**INTEL_ARGS)
