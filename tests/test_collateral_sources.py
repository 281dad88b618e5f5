"""Online collateral sources, the offline store and the cache (all offline).

Every HTTP request goes to a stdlib server on 127.0.0.1 (port 0) serving PCS- and
KDS-shaped responses built from the project's test PKIs (``cocoverify_testing.intel``,
``cocoverify_testing.snp``). Production URLs (e.g. the Intel root CRL distribution point)
are rewritten to that server by :class:`Loopback`, which records the URL asked for.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify.collateral import Collateral
from cocoverify.collateral.amd_kds import AmdKds
from cocoverify.collateral.cache import CachingSource, earliest_next_update
from cocoverify.collateral.http import (
    Response,
    RetryingTransport,
    RetryPolicy,
    UrllibTransport,
    retry_after_seconds,
)
from cocoverify.collateral.intel_pcs import IntelPcs
from cocoverify.collateral.source import (
    ChainedSource,
    OfflineStore,
    StaticSource,
    amd_request,
    parse_item,
    vcek_file_prefix,
)
from cocoverify.errors import (
    CocoverifyError,
    CollateralInvalid,
    CollateralUnavailable,
    ConfigurationError,
    Reason,
)
from cocoverify.tee.snp.parse import TcbVersion, parse_report
from cocoverify.trust import TrustStore
from cocoverify_testing.intel import (
    NOW,
    FakeIntelPKI,
    QuoteBuilder,
    sgx_pck,
    sgx_qe_identity,
    sgx_tcb_info,
    td_qe_identity,
    tdx_pck,
    tdx_tcb_info,
)
from cocoverify_testing.pki import CertSpec, ec_key, issue, name, pem
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, SnpReportBuilder

DER = Encoding.DER
PKI = FakeIntelPKI()
INTEL_TRUST = TrustStore(intel_roots=frozenset({PKI.root_fingerprint()}))
M = FakeAmdPKI("Milan")
T = FakeAmdPKI("Turin")
AMD_TRUST = TrustStore.from_certificates(amd={"Milan": [M.ark], "Turin": [T.ark]})
ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"


# --- a local HTTP server -------------------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    length: int | None = None  # a Content-Length that lies (truncated body)


class Server:
    """Routes requests (:meth:`match`) to a list of replies, used in order; the last one
    repeats. Unknown paths: 404. Records each request target."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with outer.lock:
                    outer.requests.append(self.path)
                    queue = outer.match(self.path)
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(404)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(reply.length or len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def match(self, target: str) -> list[Reply] | None:
        """The route for ``target``: same path, and the route's query parameters (if
        any) all present in the request."""
        path, _, query = target.partition("?")
        asked = set(urllib.parse.parse_qsl(query))
        for key, queue in self.routes.items():
            kpath, _, kquery = key.partition("?")
            if kpath == path and set(urllib.parse.parse_qsl(kquery)) <= asked:
                return queue
        return None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def route(self, target: str, *replies: Reply) -> None:
        with self.lock:
            self.routes[target] = list(replies)

    def paths(self) -> list[str]:
        with self.lock:
            return [r.split("?")[0] for r in self.requests]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


class Loopback:
    """A transport sending every URL to the local server (scheme/host replaced), keeping
    the URLs asked for. Tests never reach another host."""

    def __init__(self, server: Server, **kwargs: Any) -> None:
        self.server = server
        self.inner = UrllibTransport(proxies={}, **kwargs)
        self.asked: list[str] = []

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response:
        self.asked.append(url)
        p = urllib.parse.urlsplit(url)
        local = urllib.parse.urlunsplit(
            ("http", f"127.0.0.1:{self.server.port}", p.path, p.query, "")
        )
        return self.inner.get(local, headers, timeout)


class FakeClock:
    """Injectable epoch clock and sleep: sleeping advances the clock."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _q(data: bytes) -> str:
    return urllib.parse.quote(data.decode())


def serve_intel(
    server: Server,
    pki: FakeIntelPKI = PKI,
    *,
    tee: str = "sgx",
    pccs: bool = False,
    tcb_header: str = "TCB-Info-Issuer-Chain",
) -> dict[str, bytes]:
    """PCS-shaped routes for ``tee``; returns the bodies served."""
    info = sgx_tcb_info() if tee == "sgx" else tdx_tcb_info()
    ident = sgx_qe_identity() if tee == "sgx" else td_qe_identity()
    bodies = {
        "tcb": pki.tcb_info_body(info),
        "qe": pki.qe_identity_body(ident),
        "platform": pki.platform_crl.public_bytes(DER),
        "processor": pki.processor_crl.public_bytes(DER),
        "root": pki.root_crl.public_bytes(DER),
    }
    signing = {"SGX-Enclave-Identity-Issuer-Chain": _q(pki.tcb_signing_chain_pem())}
    server.route(
        f"/{tee}/certification/v4/tcb",
        Reply(body=bodies["tcb"], headers={tcb_header: _q(pki.tcb_signing_chain_pem())}),
    )
    server.route(f"/{tee}/certification/v4/qe/identity", Reply(body=bodies["qe"], headers=signing))
    for ca in ("platform", "processor"):
        server.route(
            f"/sgx/certification/v4/pckcrl?ca={ca}&encoding=der",
            Reply(
                body=bodies[ca],
                headers={"SGX-PCK-CRL-Issuer-Chain": _q(pki.pck_crl_issuer_chain_pem(ca))},
            ),
        )
    if pccs:
        server.route("/sgx/certification/v4/rootcacrl", Reply(body=bodies["root"].hex().encode()))
    else:
        server.route("/IntelSGXRootCA.der", Reply(body=bodies["root"]))
    return bodies


def _pcs(server: Server, **kwargs: Any) -> tuple[IntelPcs, Loopback]:
    lb = Loopback(server)
    return IntelPcs(server.url, transport=lb, **kwargs), lb


def _verify_sgx(coll: Collateral) -> cocoverify.VerificationResult:
    return cocoverify.verify(
        QuoteBuilder.sgx().sign(PKI), collateral=coll, trust=INTEL_TRUST, at=NOW
    )


# --- Intel PCS / PCCS --------------------------------------------------------------------------


def test_pcs_sgx_fetch_is_complete_and_verifies(server: Server) -> None:
    bodies = serve_intel(server)
    pcs, lb = _pcs(server)
    ca = sgx_pck().ca
    coll = pcs.intel(fmspc=sgx_pck().extension.fmspc, ca=ca, tee="sgx", at=NOW)
    assert coll.tcb_infos == (bodies["tcb"],)  # exactly as served (intel.md §5.1)
    assert coll.qe_identities == (bodies["qe"],)
    assert {c.public_bytes(DER) for c in coll.crls} == {bodies[ca], bodies["root"]}
    assert PKI.tcb_signing_cert in coll.certificates
    assert PKI.ca_cert(ca) in coll.certificates
    fmspc = sgx_pck().extension.fmspc.hex().upper()
    assert lb.asked == [
        f"{server.url}/sgx/certification/v4/tcb?fmspc={fmspc}&update=standard",
        f"{server.url}/sgx/certification/v4/qe/identity?update=standard",
        f"{server.url}/sgx/certification/v4/pckcrl?ca={ca}&encoding=der",
        ROOT_CRL_URL,  # the root certificate's CRL distribution point
    ]
    assert _verify_sgx(coll).tcb_status == "UpToDate"


def test_pcs_tdx_paths_and_verify(server: Server) -> None:
    serve_intel(server, tee="tdx")
    pcs, lb = _pcs(server, update="early")
    spec = tdx_pck()
    coll = pcs.intel(fmspc=spec.extension.fmspc, ca=spec.ca, tee="tdx", at=NOW)
    assert [urllib.parse.urlsplit(u).path for u in lb.asked] == [
        "/tdx/certification/v4/tcb",
        "/tdx/certification/v4/qe/identity",
        "/sgx/certification/v4/pckcrl",  # shared by SGX and TDX (intel.md §5.4)
        "/IntelSGXRootCA.der",
    ]
    assert "update=early" in lb.asked[0]
    quote = QuoteBuilder.tdx(version=4).sign(PKI)
    result = cocoverify.verify(quote, collateral=coll, trust=INTEL_TRUST, at=NOW)
    assert result.tcb_status == "UpToDate"


def test_pccs_root_crl_hex_old_header_and_suffix(server: Server) -> None:
    bodies = serve_intel(server, pccs=True, tcb_header="SGX-TCB-Info-Issuer-Chain")
    lb = Loopback(server)
    pccs = IntelPcs(server.url + "/sgx/certification/v4/", pccs=True, update=None, transport=lb)
    coll = pccs.intel(fmspc=sgx_pck().extension.fmspc, ca=sgx_pck().ca, tee="sgx", at=NOW)
    assert lb.asked[-1] == f"{server.url}/sgx/certification/v4/rootcacrl"
    assert all("update=" not in u for u in lb.asked)
    assert bodies["root"] in {c.public_bytes(DER) for c in coll.crls}
    assert _verify_sgx(coll).accepted


def test_extra_query_and_headers_are_sent(server: Server) -> None:
    serve_intel(server, pccs=True)
    seen: list[Mapping[str, str]] = []
    lb = Loopback(server)

    class Spy:
        def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response:
            seen.append(headers)
            return lb.get(url, headers, timeout)

    thim = IntelPcs(
        server.url, pccs=True, transport=Spy(), query={"clientid": "test"}, headers={"X-Test": "1"}
    )
    thim.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert all("clientid=test" in u for u in lb.asked)
    assert all(h == {"X-Test": "1"} for h in seen)


def test_root_crl_url_override(server: Server) -> None:
    serve_intel(server)
    server.route("/mirror/root.crl", Reply(body=PKI.root_crl.public_bytes(DER)))
    pcs, lb = _pcs(server, root_crl_url="https://mirror.test.invalid/mirror/root.crl")
    pcs.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert lb.asked[-1] == "https://mirror.test.invalid/mirror/root.crl"


@pytest.mark.parametrize("cdp", [None, "ldap://ldap.test.invalid/root.crl"])
def test_root_without_http_distribution_point_is_invalid(server: Server, cdp: str | None) -> None:
    serve_intel(server)
    key = ec_key("no-cdp-root", "P-256")
    subject = name(CN="Intel SGX Root CA")
    exts: list[x509.ExtensionType] = []
    if cdp is not None:
        point = x509.DistributionPoint([x509.UniformResourceIdentifier(cdp)], None, None, None)
        exts.append(x509.CRLDistributionPoints([point]))
    spec = CertSpec(
        subject=subject,
        public_key=key.public_key(),
        serial=7,
        ca=True,
        not_before=NOW - _dt.timedelta(days=1),
        not_after=NOW + _dt.timedelta(days=1),
        extensions=exts,
    )
    root = issue(spec, issuer=subject, issuer_key=key)
    chain = _q(pem(PKI.tcb_signing_cert, root))
    for path in ("/sgx/certification/v4/tcb", "/sgx/certification/v4/qe/identity"):
        server.routes[path][0].headers = {
            "TCB-Info-Issuer-Chain": chain,
            "SGX-Enclave-Identity-Issuer-Chain": chain,
        }
    server.routes["/sgx/certification/v4/pckcrl?ca=platform&encoding=der"][0].headers = {
        "SGX-PCK-CRL-Issuer-Chain": _q(pem(PKI.platform_ca_cert))
    }
    pcs, _ = _pcs(server)
    with pytest.raises(CollateralInvalid) as info:
        pcs.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert info.value.reason is Reason.COLLATERAL_MALFORMED


def test_pcs_404_is_unavailable(server: Server) -> None:
    pcs, _ = _pcs(server)  # nothing routed: every path 404
    with pytest.raises(CollateralUnavailable) as info:
        pcs.intel(fmspc=bytes(6), ca="platform", tee="sgx", at=NOW)
    assert info.value.reason is Reason.COLLATERAL_MISSING
    assert info.value.details["status"] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/sgx/certification/v4/qe/identity",
        "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
        "/IntelSGXRootCA.der",
    ],
)
def test_any_missing_part_is_unavailable(server: Server, path: str) -> None:
    serve_intel(server)
    server.route(path, Reply(404))
    pcs, _ = _pcs(server)
    with pytest.raises(CollateralUnavailable) as info:
        pcs.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert info.value.reason is Reason.COLLATERAL_MISSING


def test_missing_issuer_chain_header_is_unavailable(server: Server) -> None:
    serve_intel(server)
    server.routes["/sgx/certification/v4/tcb"][0].headers = {}
    pcs, _ = _pcs(server)
    with pytest.raises(CollateralUnavailable) as info:
        pcs.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert info.value.reason is Reason.COLLATERAL_MISSING


@pytest.mark.parametrize(
    ("path", "change"),
    [
        ("/sgx/certification/v4/tcb", {"body": b"<html>maintenance</html>"}),
        ("/sgx/certification/v4/tcb", {"body": PKI.qe_identity_body(sgx_qe_identity())}),
        (
            "/sgx/certification/v4/qe/identity",
            {"headers": {"SGX-Enclave-Identity-Issuer-Chain": "not%20a%20chain"}},
        ),
        (
            "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
            {"body": PKI.platform_ca_cert.public_bytes(DER)},
        ),
        ("/IntelSGXRootCA.der", {"body": b"\x30\x03\x02\x01\x00"}),
    ],
    ids=["garbage-tcb", "qe-at-tcb", "bad-header", "cert-as-crl", "bad-crl"],
)
def test_wrong_content_is_invalid(server: Server, path: str, change: dict[str, Any]) -> None:
    serve_intel(server)
    for k, v in change.items():
        setattr(server.routes[path][0], k, v)
    pcs, _ = _pcs(server)
    with pytest.raises(CollateralInvalid) as info:
        pcs.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert info.value.reason is Reason.COLLATERAL_MALFORMED


@pytest.mark.parametrize(
    "kwargs",
    [
        {"fmspc": bytes(5)},
        {"ca": "root"},
        {"tee": "sev"},
        {"at": _dt.datetime(2025, 6, 1)},  # naive
    ],
)
def test_intel_bad_arguments(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {"fmspc": bytes(6), "ca": "platform", "tee": "sgx", "at": NOW}
    args.update(kwargs)
    pcs = IntelPcs("http://127.0.0.1:9", transport=UrllibTransport(proxies={}))
    with pytest.raises(ConfigurationError) as info:
        pcs.intel(**args)
    assert info.value.reason is Reason.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "kwargs",
    [{"base_url": "file:///etc"}, {"update": "late"}, {"root_crl_url": "ftp://x/y"}],
)
def test_intel_bad_configuration(kwargs: dict[str, Any]) -> None:
    args = {"base_url": "http://127.0.0.1:9", **kwargs}
    with pytest.raises(ConfigurationError):
        IntelPcs(**args)


# --- AMD KDS ---------------------------------------------------------------------------------


def _tcb_args(report: bytes, product: str) -> dict[str, int]:
    tcb = TcbVersion.decode(parse_report(report).reported_tcb, product)
    out = {
        "bl_spl": tcb.bootloader,
        "tee_spl": tcb.tee,
        "snp_spl": tcb.snp,
        "ucode_spl": tcb.microcode,
    }
    if tcb.fmc is not None:
        out["fmc_spl"] = tcb.fmc
    return out


def serve_kds(server: Server, pki: FakeAmdPKI, report: bytes | None = None) -> None:
    p = pki.product
    if report is not None:
        hw = parse_report(report).chip_id[: 8 if p == "Turin" else 64].hex()
        server.route(f"/vcek/v1/{p}/{hw}", Reply(body=pki.vcek_for(report).public_bytes(DER)))
    for kind, inter in (("vcek", pki.ask), ("vlek", pki.asvk)):
        server.route(f"/{kind}/v1/{p}/cert_chain", Reply(body=pem(inter, pki.ark)))
        server.route(f"/{kind}/v1/{p}/crl", Reply(body=pki.crl().public_bytes(DER)))


def _kds(server: Server, **kwargs: Any) -> tuple[AmdKds, Loopback]:
    lb = Loopback(server)
    return AmdKds(server.url, transport=lb, **kwargs), lb


@pytest.fixture(scope="module")
def milan_report() -> bytes:
    return SnpReportBuilder.for_product("Milan").sign(M)


@pytest.fixture(scope="module")
def turin_report() -> bytes:
    return SnpReportBuilder.for_product("Turin").sign(T)


def test_kds_milan_vcek_fetch_and_verify(server: Server, milan_report: bytes) -> None:
    serve_kds(server, M, milan_report)
    kds, lb = _kds(server)
    chip = parse_report(milan_report).chip_id
    tcb = _tcb_args(milan_report, "Milan")
    coll = kds.amd(product="Milan", hwid=chip, reported_tcb=tcb, key_type="vcek", at=VECTOR_TIME)
    assert lb.asked == [
        f"{server.url}/vcek/v1/Milan/{chip.hex()}?blSPL={tcb['bl_spl']}&teeSPL={tcb['tee_spl']}"
        f"&snpSPL={tcb['snp_spl']}&ucodeSPL={tcb['ucode_spl']}",
        f"{server.url}/vcek/v1/Milan/cert_chain",
        f"{server.url}/vcek/v1/Milan/crl",
    ]
    assert {M.ask, M.ark} <= set(coll.certificates) and len(coll.crls) == 1
    res = cocoverify.verify(milan_report, collateral=coll, trust=AMD_TRUST, at=VECTOR_TIME)
    assert res.accepted


def test_kds_turin_uses_8_byte_hwid_and_fmc(server: Server, turin_report: bytes) -> None:
    serve_kds(server, T, turin_report)
    kds, lb = _kds(server)
    chip = parse_report(turin_report).chip_id
    tcb = _tcb_args(turin_report, "Turin")
    coll = kds.amd(product="Turin", hwid=chip, reported_tcb=tcb, key_type="vcek", at=VECTOR_TIME)
    path, query = lb.asked[0].split("?")
    assert path.endswith(f"/vcek/v1/Turin/{chip[:8].hex()}")  # amd.md §9
    assert query.startswith(f"fmcSPL={tcb['fmc_spl']}&blSPL=")
    res = cocoverify.verify(turin_report, collateral=coll, trust=AMD_TRUST, at=VECTOR_TIME)
    assert res.accepted


def test_kds_vlek_fetches_only_chain_and_crl(server: Server) -> None:
    serve_kds(server, M)
    kds, lb = _kds(server)
    coll = kds.amd(product="Milan", hwid=b"", reported_tcb={}, key_type="vlek", at=VECTOR_TIME)
    assert [urllib.parse.urlsplit(u).path for u in lb.asked] == [
        "/vlek/v1/Milan/cert_chain",
        "/vlek/v1/Milan/crl",
    ]
    assert M.asvk in coll.certificates


def test_kds_404_and_masked_chip_are_unavailable(server: Server, milan_report: bytes) -> None:
    kds, lb = _kds(server)
    tcb = _tcb_args(milan_report, "Milan")
    with pytest.raises(CollateralUnavailable) as info:
        kds.amd(
            product="Milan", hwid=b"\x01" * 64, reported_tcb=tcb, key_type="vcek", at=VECTOR_TIME
        )
    assert info.value.reason is Reason.COLLATERAL_MISSING
    with pytest.raises(CollateralUnavailable) as info:
        kds.amd(product="Milan", hwid=bytes(64), reported_tcb=tcb, key_type="vcek", at=VECTOR_TIME)
    assert info.value.reason is Reason.COLLATERAL_MISSING
    assert len(lb.asked) == 1  # the masked CHIP_ID is never sent


def test_kds_429_retry_after_then_success(server: Server, milan_report: bytes) -> None:
    serve_kds(server, M, milan_report)
    hw = parse_report(milan_report).chip_id.hex()
    server.route(
        f"/vcek/v1/Milan/{hw}",
        Reply(429, headers={"Retry-After": "7"}),
        Reply(body=M.vcek_for(milan_report).public_bytes(DER)),
    )
    clock = FakeClock()
    transport = RetryingTransport(Loopback(server), clock=clock, sleep=clock.sleep)
    kds = AmdKds(server.url, transport=transport)
    coll = kds.amd(
        product="Milan",
        hwid=bytes.fromhex(hw),
        reported_tcb=_tcb_args(milan_report, "Milan"),
        key_type="vcek",
        at=VECTOR_TIME,
    )
    assert clock.slept == [7.0]
    assert server.paths().count(f"/vcek/v1/Milan/{hw}") == 2
    assert len(coll.certificates) == 3


def test_kds_500_then_success(server: Server) -> None:
    serve_kds(server, M)
    server.route(
        "/vlek/v1/Milan/crl", Reply(500), Reply(503), Reply(body=M.crl().public_bytes(DER))
    )
    clock = FakeClock()
    transport = RetryingTransport(Loopback(server), clock=clock, sleep=clock.sleep)
    coll = AmdKds(server.url, transport=transport).amd(
        product="Milan", hwid=b"", reported_tcb={}, key_type="vlek", at=VECTOR_TIME
    )
    assert clock.slept == [0.5, 1.0]  # exponential back-off
    assert len(coll.crls) == 1


def test_kds_persistent_429_is_unavailable(server: Server) -> None:
    serve_kds(server, M)
    server.route("/vlek/v1/Milan/cert_chain", Reply(429, headers={"Retry-After": "1"}))
    clock = FakeClock()
    transport = RetryingTransport(
        Loopback(server), RetryPolicy(attempts=3), clock=clock, sleep=clock.sleep
    )
    with pytest.raises(CollateralUnavailable) as info:
        AmdKds(server.url, transport=transport).amd(
            product="Milan", hwid=b"", reported_tcb={}, key_type="vlek", at=VECTOR_TIME
        )
    assert info.value.details["status"] == 429
    assert server.paths().count("/vlek/v1/Milan/cert_chain") == 3


def test_kds_timeout_is_unavailable(server: Server) -> None:
    server.route("/vlek/v1/Milan/cert_chain", Reply(body=pem(M.asvk, M.ark), delay=1.0))
    kds, _ = _kds(server, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(CollateralUnavailable) as info:
        kds.amd(product="Milan", hwid=b"", reported_tcb={}, key_type="vlek", at=VECTOR_TIME)
    assert info.value.reason is Reason.COLLATERAL_MISSING
    assert time.monotonic() - started < 0.9


GOOD_TCB = {"bl_spl": 3, "tee_spl": 0, "snp_spl": 20, "ucode_spl": 209}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"product": "Venice"},
        {"key_type": "vek"},
        {"hwid": b"\x01" * 8},  # Milan needs 64 bytes
        {"product": "Turin", "hwid": b"\x01" * 16},
        {"product": "Turin"},  # fmc_spl missing
        {"reported_tcb": {**GOOD_TCB, "snp_spl": 256}},
        {"reported_tcb": {**GOOD_TCB, "snp_spl": True}},
        {"reported_tcb": {"bl_spl": 3}},
        {"hwid": "01" * 64},
        {"at": _dt.datetime(2025, 6, 1)},
    ],
)
def test_amd_bad_arguments(kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "product": "Milan",
        "hwid": b"\x01" * 64,
        "reported_tcb": GOOD_TCB,
        "key_type": "vcek",
        "at": VECTOR_TIME,
    }
    args.update(kwargs)
    kds = AmdKds("http://127.0.0.1:9", transport=UrllibTransport(proxies={}))
    with pytest.raises(ConfigurationError) as info:
        kds.amd(**args)
    assert info.value.reason is Reason.INVALID_ARGUMENT


def test_real_kds_shaped_responses_from_shared_vectors(server: Server) -> None:
    """The real Milan VCEK, ASK, ARK and CRL of the shared vectors, served KDS-style."""
    from _shared import require_shared

    base = require_shared("amd")
    if not (base / "trustee-milan-v2-vcek").is_dir():
        pytest.skip("trustee-milan-v2-vcek not in the shared vectors")
    folder = base / "trustee-milan-v2-vcek"
    report = (folder / "report.bin").read_bytes()
    chip = parse_report(report).chip_id
    server.route(f"/vcek/v1/Milan/{chip.hex()}", Reply(body=(folder / "vcek.der").read_bytes()))
    server.route(
        "/vcek/v1/Milan/cert_chain",
        Reply(body=(folder / "ask.pem").read_bytes() + (folder / "ark.pem").read_bytes()),
    )
    server.route("/vcek/v1/Milan/crl", Reply(body=(base / "roots" / "milan_crl.pem").read_bytes()))
    kds, _ = _kds(server)
    at = _dt.datetime(2025, 6, 1, tzinfo=_dt.UTC)  # VCEK 2023..2030, Milan CRL 2025-05..2026-05
    coll = kds.amd(
        product="Milan", hwid=chip, reported_tcb=_tcb_args(report, "Milan"), key_type="vcek", at=at
    )
    assert cocoverify.verify(report, collateral=coll, at=at).accepted


# --- transport and retries ------------------------------------------------------------------


def test_urllib_transport_statuses_and_headers(server: Server) -> None:
    server.route("/ok", Reply(body=b"hello", headers={"X-Thing": "v"}))
    t = UrllibTransport(proxies={})
    ok = t.get(server.url + "/ok", {}, 2.0)
    assert (ok.status, ok.body, ok.header("x-THING")) == (200, b"hello", "v")
    missing = t.get(server.url + "/nope", {}, 2.0)
    assert missing.status == 404  # a status is a Response, not an error


def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nobody listens
    with pytest.raises(CollateralUnavailable) as info:
        UrllibTransport(proxies={}).get(f"http://127.0.0.1:{port}/x", {}, 2.0)
    assert info.value.reason is Reason.COLLATERAL_MISSING


def test_oversized_body_is_unavailable(server: Server) -> None:
    server.route("/big", Reply(body=b"x" * 100))
    with pytest.raises(CollateralUnavailable):
        UrllibTransport(proxies={}, max_body=10).get(server.url + "/big", {}, 2.0)


def test_redirects_only_within_the_origin(server: Server) -> None:
    other = Server()
    try:
        other.route("/x", Reply(body=b"elsewhere"))
        server.route("/same", Reply(302, headers={"Location": "/ok"}))
        server.route("/ok", Reply(body=b"here"))
        server.route("/away", Reply(302, headers={"Location": other.url + "/x"}))
        t = UrllibTransport(proxies={})
        assert t.get(server.url + "/same", {}, 2.0).body == b"here"
        with pytest.raises(CollateralUnavailable):
            t.get(server.url + "/away", {}, 2.0)
        assert other.requests == []
    finally:
        other.close()


def test_tls_verification_cannot_be_disabled() -> None:
    with pytest.raises(ConfigurationError):
        UrllibTransport(ssl_context=ssl._create_unverified_context())


def test_only_http_urls() -> None:
    with pytest.raises(ConfigurationError):
        UrllibTransport(proxies={}).get("file:///etc/passwd", {}, 1.0)


class Scripted:
    """An in-memory transport: answers (or raises) from a script."""

    def __init__(self, *script: Response | Exception) -> None:
        self.script = list(script)
        self.calls = 0

    def get(self, url: str, headers: Mapping[str, str], timeout: float) -> Response:
        self.calls += 1
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return item


def _r(status: int, **headers: str) -> Response:
    return Response(status, {k.lower().replace("_", "-"): v for k, v in headers.items()}, b"")


def _retrying(inner: Scripted, **policy: Any) -> tuple[RetryingTransport, FakeClock]:
    clock = FakeClock()
    return RetryingTransport(inner, RetryPolicy(**policy), clock=clock, sleep=clock.sleep), clock


def test_retry_after_longer_than_allowed_stops_at_once() -> None:
    inner = Scripted(_r(429, retry_after="45"), _r(200))
    t, clock = _retrying(inner)
    assert t.get("http://127.0.0.1/x", {}, 1).status == 429
    assert (inner.calls, clock.slept) == (1, [])


def test_retry_after_http_date() -> None:
    clock = FakeClock(start=1_700_000_000.0)
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(clock.now + 12))
    inner = Scripted(_r(503, retry_after=when), _r(200))
    t = RetryingTransport(inner, clock=clock, sleep=clock.sleep)
    assert t.get("http://127.0.0.1/x", {}, 1).status == 200
    assert clock.slept == [12.0]
    assert retry_after_seconds("soon", 0) is None
    assert retry_after_seconds(None, 0) is None


def test_total_wait_is_bounded() -> None:
    inner = Scripted(_r(503, retry_after="20"))
    t, clock = _retrying(inner, attempts=10, max_total_wait=45)
    assert t.get("http://127.0.0.1/x", {}, 1).status == 503
    assert clock.slept == [20.0, 20.0]


def test_no_retry_on_4xx() -> None:
    inner = Scripted(_r(404), _r(200))
    t, _clock = _retrying(inner)
    assert t.get("http://127.0.0.1/x", {}, 1).status == 404
    assert inner.calls == 1


def test_transport_errors_retried_unless_disabled() -> None:
    err = CollateralUnavailable("down", reason=Reason.COLLATERAL_MISSING)
    inner = Scripted(err, _r(200))
    t, clock = _retrying(inner)
    assert t.get("http://127.0.0.1/x", {}, 1).status == 200
    assert clock.slept == [0.5]
    inner = Scripted(err, _r(200))
    t, _ = _retrying(inner, retry_transport_errors=False)
    with pytest.raises(CollateralUnavailable):
        t.get("http://127.0.0.1/x", {}, 1)
    inner = Scripted(err)
    t, _ = _retrying(inner, attempts=2)
    with pytest.raises(CollateralUnavailable):
        t.get("http://127.0.0.1/x", {}, 1)
    assert inner.calls == 2


def test_min_interval_spaces_requests() -> None:
    clock = FakeClock()
    t = RetryingTransport(Scripted(_r(200)), min_interval=10, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        t.get("http://127.0.0.1/x", {}, 1)
    assert clock.slept == [10.0, 10.0]


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"backoff": -1}, {"max_retry_after": -1}])
def test_retry_policy_validated(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        RetryPolicy(**kwargs)


# --- static, chained and offline sources ------------------------------------------------------

INTEL_ARGS: dict[str, Any] = {
    "fmspc": sgx_pck().extension.fmspc,
    "ca": sgx_pck().ca,
    "tee": "sgx",
    "at": NOW,
}
VLEK_ARGS: dict[str, Any] = {
    "product": "Milan",
    "hwid": b"",
    "reported_tcb": {},
    "key_type": "vlek",
    "at": VECTOR_TIME,
}


class Counting:
    """A source that counts calls and answers from ``fn`` (optionally slowly)."""

    def __init__(self, fn: Callable[[], Collateral], delay: float = 0.0) -> None:
        self.fn = fn
        self.delay = delay
        self.calls = 0
        self.lock = threading.Lock()

    def _call(self) -> Collateral:
        with self.lock:
            self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        return self.fn()

    def fetch(self, request: Any, *, at: Any) -> Collateral:
        return self._call()


def _unavailable() -> Collateral:
    raise CollateralUnavailable("no", reason=Reason.COLLATERAL_MISSING)


def _invalid() -> Collateral:
    raise CollateralInvalid("bad", reason=Reason.COLLATERAL_MALFORMED)


ONE = Collateral(crls=(PKI.root_crl,))


def test_static_source() -> None:
    assert StaticSource(ONE).intel(**INTEL_ARGS) is ONE
    assert StaticSource(ONE).amd(**VLEK_ARGS) is ONE
    with pytest.raises(CollateralUnavailable):
        StaticSource(Collateral()).intel(**INTEL_ARGS)


def test_chained_source_falls_through_only_on_unavailable() -> None:
    first, second = Counting(_unavailable), Counting(lambda: ONE)
    assert ChainedSource(first, second).intel(**INTEL_ARGS) is ONE
    assert ChainedSource(first, second).amd(**VLEK_ARGS) is ONE
    with pytest.raises(CollateralInvalid):
        ChainedSource(Counting(_invalid), second).intel(**INTEL_ARGS)
    with pytest.raises(CollateralUnavailable) as info:
        ChainedSource(first, Counting(_unavailable)).intel(**INTEL_ARGS)
    assert info.value.reason is Reason.COLLATERAL_MISSING
    with pytest.raises(ConfigurationError):
        ChainedSource()


def _write_intel_store(root: Path, *, fmspc_upper: bool = False) -> Path:
    base = root / "intel"
    fmspc = sgx_pck().extension.fmspc.hex()
    (base / "sgx" / "tcb").mkdir(parents=True)
    (base / "pckcrl").mkdir()
    (base / "chains").mkdir()
    name_ = fmspc.upper() if fmspc_upper else fmspc
    (base / "sgx" / "tcb" / f"{name_}.json").write_bytes(PKI.tcb_info_body(sgx_tcb_info()))
    (base / "sgx" / "qe_identity.json").write_bytes(PKI.qe_identity_body(sgx_qe_identity()))
    ca = sgx_pck().ca
    (base / "pckcrl" / f"{ca}.der").write_bytes(PKI.pck_crl(ca).public_bytes(DER))
    (base / "rootcacrl.hex").write_bytes(PKI.root_crl.public_bytes(DER).hex().encode())
    (base / "chains" / "tcb_signing.pem").write_bytes(PKI.tcb_signing_chain_pem())
    return root


@pytest.mark.parametrize("upper", [False, True])
def test_offline_store_intel_verifies(tmp_path: Path, upper: bool) -> None:
    store = OfflineStore(_write_intel_store(tmp_path, fmspc_upper=upper))
    coll = store.intel(**INTEL_ARGS)
    assert _verify_sgx(coll).accepted


@pytest.mark.parametrize(
    "remove",
    ["sgx/tcb/{fmspc}.json", "sgx/qe_identity.json", "pckcrl/{ca}.der", "rootcacrl.hex"],
)
def test_offline_store_intel_missing(tmp_path: Path, remove: str) -> None:
    _write_intel_store(tmp_path)
    fmspc = sgx_pck().extension.fmspc.hex()
    (tmp_path / "intel" / remove.format(fmspc=fmspc, ca=sgx_pck().ca)).unlink()
    with pytest.raises(CollateralUnavailable) as info:
        OfflineStore(tmp_path).intel(**INTEL_ARGS)
    assert info.value.reason is Reason.COLLATERAL_MISSING


def test_offline_store_intel_wrong_content(tmp_path: Path) -> None:
    _write_intel_store(tmp_path)
    (tmp_path / "intel" / "sgx" / "qe_identity.json").write_bytes(PKI.tcb_info_body(sgx_tcb_info()))
    with pytest.raises(CollateralInvalid) as info:
        OfflineStore(tmp_path).intel(**INTEL_ARGS)
    assert info.value.reason is Reason.COLLATERAL_MALFORMED


def test_vcek_file_prefix() -> None:
    milan = amd_request(
        product="Milan",
        hwid=b"\x01" * 64,
        key_type="vcek",
        reported_tcb={"bl_spl": 3, "tee_spl": 0, "snp_spl": 8, "ucode_spl": 115},
    )
    assert vcek_file_prefix(milan) == "bl03_tee00_snp08_ucode115"
    turin = amd_request(
        product="Turin", hwid=b"\x01" * 8, key_type="vcek", reported_tcb={**GOOD_TCB, "fmc_spl": 1}
    )
    assert vcek_file_prefix(turin) == "bl03_tee00_snp20_ucode209_fmc01"


def _amd_args(report: bytes, product: str) -> dict[str, Any]:
    return {
        "product": product,
        "hwid": parse_report(report).chip_id,
        "reported_tcb": _tcb_args(report, product),
        "key_type": "vcek",
        "at": VECTOR_TIME,
    }


def test_offline_store_trustee_layout(tmp_path: Path, milan_report: bytes) -> None:
    args = _amd_args(milan_report, "Milan")
    folder = tmp_path / "vcek" / args["hwid"].hex()
    folder.mkdir(parents=True)
    right = M.vcek_for(milan_report)
    other = M.vcek(hwid=args["hwid"], tcb=TcbVersion(1, 0, 1, 1))
    prefix = vcek_file_prefix(amd_request(**{k: v for k, v in args.items() if k != "at"}))
    (folder / "vcek.der").write_bytes(other.public_bytes(DER))
    (folder / f"{prefix}_vcek.der").write_bytes(right.public_bytes(DER))
    store = OfflineStore(tmp_path)
    assert store.amd(**args).certificates == (right,)  # the TCB-named file wins
    (folder / f"{prefix}_vcek.der").unlink()
    assert store.amd(**args).certificates == (other,)  # flat fallback
    chain_dir = tmp_path / "amd" / "Milan" / "vcek"
    chain_dir.mkdir(parents=True)
    (chain_dir / "cert_chain.pem").write_bytes(pem(M.ask, M.ark))
    (chain_dir / "crl.der").write_bytes(M.crl().public_bytes(DER))
    (folder / "vcek.der").write_bytes(right.public_bytes(DER))
    coll = store.amd(**args)
    assert set(coll.certificates) == {right, M.ask, M.ark} and len(coll.crls) == 1
    res = cocoverify.verify(milan_report, collateral=coll, trust=AMD_TRUST, at=VECTOR_TIME)
    assert res.accepted


def test_offline_store_turin_hwid_dirs(tmp_path: Path, turin_report: bytes) -> None:
    args = _amd_args(turin_report, "Turin")
    vcek = T.vcek_for(turin_report).public_bytes(DER)
    short = tmp_path / "vcek" / args["hwid"][:8].hex()
    short.mkdir(parents=True)
    (short / "vcek.der").write_bytes(vcek)
    assert len(OfflineStore(tmp_path).amd(**args).certificates) == 1
    (short / "vcek.der").unlink()
    full = tmp_path / "vcek" / (args["hwid"][:8] + bytes(56)).hex()
    full.mkdir(parents=True)
    (full / "vcek.der").write_bytes(vcek)
    assert len(OfflineStore(tmp_path).amd(**args).certificates) == 1


def test_offline_store_amd_missing(tmp_path: Path, milan_report: bytes) -> None:
    with pytest.raises(CollateralUnavailable):
        OfflineStore(tmp_path).amd(**_amd_args(milan_report, "Milan"))
    with pytest.raises(CollateralUnavailable):
        OfflineStore(tmp_path).amd(**VLEK_ARGS)
    folder = tmp_path / "amd" / "Milan" / "vlek"
    folder.mkdir(parents=True)
    (folder / "crl.pem").write_bytes(M.crl().public_bytes(Encoding.PEM))
    assert len(OfflineStore(tmp_path).amd(**VLEK_ARGS).crls) == 1


def test_offline_store_in_a_chain_defers_to_the_next(tmp_path: Path) -> None:
    fallback = Counting(lambda: ONE)
    assert ChainedSource(OfflineStore(tmp_path), fallback).amd(**VLEK_ARGS) is ONE
    assert fallback.calls == 1


# --- the cache ----------------------------------------------------------------------------


def _intel_coll() -> Collateral:
    return (
        Collateral(tcb_infos=(PKI.tcb_info_body(sgx_tcb_info()),))
        + Collateral(qe_identities=(PKI.qe_identity_body(sgx_qe_identity()),))
        + Collateral(crls=(PKI.platform_crl, PKI.root_crl))
    )


INTEL_COLL = _intel_coll()
# the earliest nextUpdate of INTEL_COLL (TCB Info 2025-06-19T10:00, PCK CRL 10:00:35)
EARLIEST = earliest_next_update(INTEL_COLL)


def test_earliest_next_update() -> None:
    assert _dt.datetime(2025, 6, 19, 10, 0, tzinfo=_dt.UTC) == EARLIEST
    assert earliest_next_update(Collateral(crls=(PKI.root_crl,))) == PKI.root_crl.next_update_utc
    assert earliest_next_update(Collateral()) is None
    stale = earliest_next_update(Collateral(tcb_infos=(b'{"tcbInfo":{}}',)))
    assert stale is not None and stale.year == 1


def test_cache_hits_and_misses() -> None:
    inner = Counting(_intel_coll)
    cache = CachingSource(inner)
    a = cache.intel(**INTEL_ARGS)
    b = cache.intel(**{**INTEL_ARGS, "at": NOW + _dt.timedelta(days=1)})  # `at` is no key
    assert a is b and inner.calls == 1
    cache.intel(**{**INTEL_ARGS, "ca": "platform"})
    cache.amd(**VLEK_ARGS)
    s = cache.stats
    assert (s.hits, s.misses, s.fetches, s.entries) == (1, 3, 3, 3)


def test_cache_expires_by_next_update() -> None:
    inner = Counting(_intel_coll)
    clock = FakeClock()
    cache = CachingSource(inner, clock=clock)
    cache.intel(**INTEL_ARGS)
    late = {**INTEL_ARGS, "at": EARLIEST}
    cache.intel(**late)  # past nextUpdate, but fetched just now: min_refetch
    assert inner.calls == 1
    clock.now += 61
    cache.intel(**late)
    assert inner.calls == 2
    assert EARLIEST is not None
    cache.intel(**{**INTEL_ARGS, "at": EARLIEST - _dt.timedelta(seconds=1)})
    assert inner.calls == 2


def test_cache_expires_by_max_age_and_evicts() -> None:
    inner = Counting(_intel_coll)
    clock = FakeClock()
    cache = CachingSource(inner, max_age=_dt.timedelta(hours=1), max_entries=2, clock=clock)
    cache.intel(**INTEL_ARGS)
    clock.now += 3599
    cache.intel(**INTEL_ARGS)
    assert inner.calls == 1
    clock.now += 2
    cache.intel(**INTEL_ARGS)
    assert inner.calls == 2
    clock.now -= 600  # the wall clock went back: the entry's age is unknown
    cache.intel(**INTEL_ARGS)
    assert inner.calls == 3
    clock.now += 600
    cache.intel(**{**INTEL_ARGS, "ca": "platform"})
    cache.intel(**{**INTEL_ARGS, "tee": "tdx"})  # evicts the least recently used
    cache.intel(**INTEL_ARGS)
    assert cache.stats.evictions >= 1 and cache.stats.entries == 2
    assert inner.calls == 6


def test_cache_single_flight() -> None:
    inner = Counting(_intel_coll, delay=0.2)
    cache = CachingSource(inner)
    results: list[Collateral] = []
    barrier = threading.Barrier(16)

    def work() -> None:
        barrier.wait()
        results.append(cache.intel(**INTEL_ARGS))

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inner.calls == 1 and len(results) == 16
    assert all(r is results[0] for r in results)
    s = cache.stats
    assert s.misses + s.joined + s.hits == 16 and s.fetches == 1


def test_cache_single_flight_shares_the_error() -> None:
    inner = Counting(_unavailable, delay=0.2)
    cache = CachingSource(inner)
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        try:
            cache.intel(**INTEL_ARGS)
        except CollateralUnavailable as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 8 and inner.calls == 1
    with pytest.raises(CollateralUnavailable):
        cache.intel(**INTEL_ARGS)
    assert inner.calls == 2  # failures are not remembered by default


def test_cache_negative_ttl() -> None:
    inner = Counting(_unavailable)
    clock = FakeClock()
    cache = CachingSource(inner, negative_ttl=_dt.timedelta(seconds=30), clock=clock)
    for _ in range(3):
        with pytest.raises(CollateralUnavailable):
            cache.intel(**INTEL_ARGS)
    assert inner.calls == 1
    clock.now += 31
    with pytest.raises(CollateralUnavailable):
        cache.intel(**INTEL_ARGS)
    assert inner.calls == 2


def test_cache_does_not_keep_invalid() -> None:
    inner = Counting(_invalid)
    cache = CachingSource(inner, negative_ttl=_dt.timedelta(seconds=30))
    for _ in range(2):
        with pytest.raises(CollateralInvalid):
            cache.intel(**INTEL_ARGS)
    assert inner.calls == 2


def _same(a: Collateral, b: Collateral) -> bool:
    return (
        a.tcb_infos == b.tcb_infos
        and a.qe_identities == b.qe_identities
        and [c.public_bytes(DER) for c in a.certificates]
        == [c.public_bytes(DER) for c in b.certificates]
        and [c.public_bytes(DER) for c in a.crls] == [c.public_bytes(DER) for c in b.crls]
        and a.sources == b.sources
    )


def test_disk_cache_round_trip(tmp_path: Path) -> None:
    full = _intel_coll() + Collateral(
        chains=((PKI.tcb_signing_cert, PKI.root_cert),),
        public_keys=(M.vcek_key.public_key(),),
        documents=({"a": 1},),
        sources=("https://pcs/x",),
    )
    first = CachingSource(Counting(lambda: full), directory=tmp_path)
    first.intel(**INTEL_ARGS)
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1
    dead = Counting(_unavailable)
    second = CachingSource(dead, directory=tmp_path)
    got = second.intel(**INTEL_ARGS)
    assert dead.calls == 0 and second.stats.disk_hits == 1
    assert _same(got, full) and got.documents == ({"a": 1},) and len(got.public_keys) == 1
    assert second.intel(**INTEL_ARGS) is got  # now in memory
    # a damaged or foreign file is a miss, not an error
    files[0].write_text("{not json")
    third = CachingSource(Counting(lambda: full), directory=tmp_path)
    third.intel(**INTEL_ARGS)
    assert third.stats.fetches == 1
    doc = json.loads(files[0].read_text())
    doc["key"] = ["intel", "other"]
    files[0].write_text(json.dumps(doc))
    fourth = CachingSource(Counting(lambda: full), directory=tmp_path)
    fourth.intel(**INTEL_ARGS)
    assert fourth.stats.fetches == 1


def test_disk_cache_respects_expiry(tmp_path: Path) -> None:
    clock = FakeClock()
    CachingSource(Counting(_intel_coll), directory=tmp_path, clock=clock).intel(**INTEL_ARGS)
    clock.now += 2 * 86400  # older than max_age
    inner = Counting(_intel_coll)
    CachingSource(inner, directory=tmp_path, clock=clock).intel(**INTEL_ARGS)
    assert inner.calls == 1


def test_cache_in_front_of_pcs(server: Server) -> None:
    serve_intel(server)
    pcs, _ = _pcs(server)
    cache = CachingSource(pcs)
    a = cache.intel(**INTEL_ARGS)
    n = len(server.requests)
    b = cache.intel(**INTEL_ARGS)
    assert a is b and len(server.requests) == n == 4
    assert _verify_sgx(b).accepted


def test_cache_bad_configuration() -> None:
    with pytest.raises(ConfigurationError):
        CachingSource(Counting(_intel_coll), max_entries=0)
    with pytest.raises(ConfigurationError):
        CachingSource(Counting(_intel_coll), max_age=_dt.timedelta(0))


# --- arbitrary responses only raise cocoverify errors ----------------------------------------


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
    h.lower(): _q(PKI.tcb_signing_chain_pem())
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


def test_response_headers_case_insensitive() -> None:
    r = Response(200, {"TCB-Info-Issuer-Chain": "x"}, b"")
    assert r.header("tcb-info-issuer-chain") == "x" and dict(r.headers) == {
        "tcb-info-issuer-chain": "x"
    }


def test_vendor_sources_decline_the_other_vendor(server: Server) -> None:
    serve_kds(server, M)
    serve_intel(server)
    pcs, _ = _pcs(server)
    kds, _ = _kds(server)
    both = ChainedSource(pcs, kds)
    assert M.asvk in both.amd(**VLEK_ARGS).certificates
    assert len(ChainedSource(kds, pcs).intel(**INTEL_ARGS).tcb_infos) == 1
    with pytest.raises(CollateralUnavailable):
        pcs.amd(**VLEK_ARGS)
    with pytest.raises(CollateralUnavailable):
        kds.intel(**INTEL_ARGS)


def test_real_pcs_shaped_responses_from_shared_vectors(server: Server) -> None:
    """Real Intel collateral (shared vector tdx-v4-dcapqvl-sample) served PCS-style, with
    URL-encoded issuer chains, then verified against the real pinned Intel root."""
    from _shared import require_shared

    folder = require_shared("intel") / "tdx-v4-dcapqvl-sample"
    if not folder.is_dir():
        pytest.skip("tdx-v4-dcapqvl-sample not in the shared vectors")

    def chain(name_: str) -> str:
        return urllib.parse.quote((folder / name_).read_text())

    tcb = (folder / "tcb_info.json").read_bytes()
    server.route(
        "/tdx/certification/v4/tcb?fmspc=B0C06F000000",
        Reply(body=tcb, headers={"TCB-Info-Issuer-Chain": chain("tcb_info_issuer_chain.pem")}),
    )
    server.route(
        "/tdx/certification/v4/qe/identity",
        Reply(
            body=(folder / "qe_identity.json").read_bytes(),
            headers={"SGX-Enclave-Identity-Issuer-Chain": chain("qe_identity_issuer_chain.pem")},
        ),
    )
    server.route(
        "/sgx/certification/v4/pckcrl?ca=platform&encoding=der",
        Reply(
            body=(folder / "pck_crl.der").read_bytes(),
            headers={"SGX-PCK-CRL-Issuer-Chain": chain("pck_crl_issuer_chain.pem")},
        ),
    )
    server.route("/IntelSGXRootCA.der", Reply(body=(folder / "root_ca_crl.der").read_bytes()))
    pcs, lb = _pcs(server)
    at = _dt.datetime(2025, 7, 4, 10, 16, 31, tzinfo=_dt.UTC)  # the manifest's verify_at
    coll = pcs.intel(fmspc=bytes.fromhex("B0C06F000000"), ca="platform", tee="tdx", at=at)
    assert coll.tcb_infos == (tcb,)
    assert lb.asked[-1] == ROOT_CRL_URL  # from the real root's CRL distribution point
    result = cocoverify.verify((folder / "tdx_quote").read_bytes(), collateral=coll, at=at)
    assert result.tcb_status == "UpToDate"


def test_tls_is_verified(tmp_path: Path) -> None:
    """A PCCS-like HTTPS server with its own CA: refused by default, accepted when the
    caller trusts that CA (``ssl_context``)."""
    import ipaddress

    from cryptography.hazmat.primitives import serialization

    from cocoverify_testing.pki import CA_KEY_USAGE

    now = _dt.datetime.now(_dt.UTC)  # TLS validity is checked by OpenSSL at the real time
    ca_key, leaf_key = ec_key("tls-test-ca", "P-256"), ec_key("tls-test-leaf", "P-256")
    ca_name, leaf_name = name(CN="Test PCCS CA"), name(CN="127.0.0.1")
    window = {"not_before": now - _dt.timedelta(days=1), "not_after": now + _dt.timedelta(days=1)}
    ca = issue(
        CertSpec(ca_name, ca_key.public_key(), 11, ca=True, key_usage=CA_KEY_USAGE, **window),
        issuer=ca_name,
        issuer_key=ca_key,
    )
    san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    leaf = issue(
        CertSpec(leaf_name, leaf_key.public_key(), 12, extensions=[san], **window),
        issuer=ca_name,
        issuer_key=ca_key,
    )
    (tmp_path / "ca.pem").write_bytes(pem(ca))
    (tmp_path / "leaf.pem").write_bytes(pem(leaf))
    (tmp_path / "key.pem").write_bytes(
        leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    srv = Server()
    try:
        srv.route("/ok", Reply(body=b"tls"))
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tmp_path / "leaf.pem", tmp_path / "key.pem")
        srv.httpd.socket = ctx.wrap_socket(srv.httpd.socket, server_side=True)
        url = f"https://127.0.0.1:{srv.port}/ok"
        with pytest.raises(CollateralUnavailable):
            UrllibTransport(proxies={}).get(url, {}, 2.0)  # unknown CA
        trusting = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        assert UrllibTransport(ssl_context=trusting, proxies={}).get(url, {}, 2.0).body == b"tls"
    finally:
        srv.close()


@pytest.mark.parametrize(
    "reply", [Reply(500, body=b"x" * 100), Reply(body=b"abc", length=10)], ids=["big-error", "cut"]
)
def test_error_bodies_and_truncation_are_unavailable(server: Server, reply: Reply) -> None:
    server.route("/r", reply)
    with pytest.raises(CollateralUnavailable) as info:
        UrllibTransport(proxies={}, max_body=10).get(server.url + "/r", {}, 2.0)
    assert info.value.reason is Reason.COLLATERAL_MISSING


def test_min_interval_queue_is_bounded() -> None:
    clock = FakeClock()
    inner = Scripted(_r(200))
    t = RetryingTransport(
        inner, RetryPolicy(max_total_wait=25), min_interval=10, clock=clock, sleep=lambda s: None
    )
    for _ in range(3):  # slots at +0, +10, +20 (the fake clock does not move)
        t.get("http://127.0.0.1/x", {}, 1)
    with pytest.raises(CollateralUnavailable):
        t.get("http://127.0.0.1/x", {}, 1)  # would wait 30 s
    assert inner.calls == 3


def test_permanent_failures_are_not_retried() -> None:
    inner = Scripted(
        CollateralUnavailable("too big", reason=Reason.COLLATERAL_MISSING, permanent=True),
        _r(200),
    )
    t, clock = _retrying(inner)
    with pytest.raises(CollateralUnavailable):
        t.get("http://127.0.0.1/x", {}, 1)
    assert (inner.calls, clock.slept) == (1, [])


def test_kds_shares_chain_and_crl_between_chips(server: Server) -> None:
    serve_kds(server, M)
    chips = [bytes([i]) * 64 for i in (1, 2, 3)]
    for chip in chips:
        server.route(
            f"/vcek/v1/Milan/{chip.hex()}", Reply(body=M.vcek(hwid=chip).public_bytes(DER))
        )
    clock = FakeClock()
    kds = AmdKds(server.url, transport=Loopback(server), clock=clock)
    crl_next = M.crl().next_update_utc
    assert crl_next is not None

    def ask(chip: bytes, at: _dt.datetime = VECTOR_TIME) -> Collateral:
        return kds.amd(product="Milan", hwid=chip, reported_tcb=GOOD_TCB, key_type="vcek", at=at)

    for chip in chips[:2]:
        assert {M.ask, M.ark} <= set(ask(chip).certificates)
    assert server.paths().count("/vcek/v1/Milan/cert_chain") == 1
    assert server.paths().count("/vcek/v1/Milan/crl") == 1
    ask(chips[2], at=crl_next)  # the kept CRL is past its nextUpdate for this `at`
    assert server.paths().count("/vcek/v1/Milan/crl") == 2
    clock.now += 86401  # older than ca_max_age
    ask(chips[0])
    assert server.paths().count("/vcek/v1/Milan/crl") == 3
    clock.now -= 10_000  # clock went back: age unknown
    ask(chips[0])
    assert server.paths().count("/vcek/v1/Milan/crl") == 4
    never = AmdKds(server.url, transport=Loopback(server), ca_max_age=_dt.timedelta(0))
    for _ in range(2):
        never.amd(**VLEK_ARGS)
    assert server.paths().count("/vlek/v1/Milan/crl") == 2
