"""Intel PCS / PCCS (collateral/intel_pcs.py) against a loopback server serving PCS-shaped
responses built from the test PKI and from the real shared vectors."""

from __future__ import annotations

import datetime as _dt
import urllib.parse
from collections.abc import Mapping
from typing import Any

import pytest
from cryptography import x509

import cocoverify
from cocoverify.collateral.http import Response, UrllibTransport
from cocoverify.collateral.intel_pcs import IntelPcs
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, ConfigurationError, Reason
from cocoverify_testing.intel import NOW, QuoteBuilder, sgx_pck, sgx_qe_identity, tdx_pck
from cocoverify_testing.pki import CertSpec, ec_key, issue, name, pem

from _shared import require_shared
from _shared.collateral import (
    DER,
    INTEL_TRUST,
    PKI,
    ROOT_CRL_URL,
    pcs_on,
    serve_intel,
    url_quoted,
    verify_sgx,
)
from _shared.loopback import Loopback, Reply, Server


def test_pcs_sgx_fetch_is_complete_and_verifies(server: Server) -> None:
    bodies = serve_intel(server)
    pcs, lb = pcs_on(server)
    ca = sgx_pck().ca
    coll = pcs.intel(fmspc=sgx_pck().extension.fmspc, ca=ca, tee="sgx", at=NOW)
    assert coll.tcb_infos == (bodies["tcb"],)  # exactly as served (docs/collateral-sources.md)
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
    assert verify_sgx(coll).tcb_status == "UpToDate"


def test_pcs_tdx_paths_and_verify(server: Server) -> None:
    serve_intel(server, tee="tdx")
    pcs, lb = pcs_on(server, update="early")
    spec = tdx_pck()
    coll = pcs.intel(fmspc=spec.extension.fmspc, ca=spec.ca, tee="tdx", at=NOW)
    assert [urllib.parse.urlsplit(u).path for u in lb.asked] == [
        "/tdx/certification/v4/tcb",
        "/tdx/certification/v4/qe/identity",
        "/sgx/certification/v4/pckcrl",  # shared by SGX and TDX (docs/collateral-sources.md)
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
    assert verify_sgx(coll).accepted


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
    pcs, lb = pcs_on(server, root_crl_url="https://mirror.test.invalid/mirror/root.crl")
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
    chain = url_quoted(pem(PKI.tcb_signing_cert, root))
    for path in ("/sgx/certification/v4/tcb", "/sgx/certification/v4/qe/identity"):
        server.routes[path][0].headers = {
            "TCB-Info-Issuer-Chain": chain,
            "SGX-Enclave-Identity-Issuer-Chain": chain,
        }
    server.routes["/sgx/certification/v4/pckcrl?ca=platform&encoding=der"][0].headers = {
        "SGX-PCK-CRL-Issuer-Chain": url_quoted(pem(PKI.platform_ca_cert))
    }
    pcs, _ = pcs_on(server)
    with pytest.raises(CollateralInvalid) as info:
        pcs.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert info.value.reason is Reason.COLLATERAL_MALFORMED


def test_pcs_404_is_unavailable(server: Server) -> None:
    pcs, _ = pcs_on(server)  # nothing routed: every path 404
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
    pcs, _ = pcs_on(server)
    with pytest.raises(CollateralUnavailable) as info:
        pcs.intel(fmspc=sgx_pck().extension.fmspc, ca="platform", tee="sgx", at=NOW)
    assert info.value.reason is Reason.COLLATERAL_MISSING


def test_missing_issuer_chain_header_is_unavailable(server: Server) -> None:
    serve_intel(server)
    server.routes["/sgx/certification/v4/tcb"][0].headers = {}
    pcs, _ = pcs_on(server)
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
    pcs, _ = pcs_on(server)
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


def test_real_pcs_shaped_responses_from_shared_vectors(server: Server) -> None:
    """Real Intel collateral (shared vector tdx-v4-dcapqvl-sample) served PCS-style, with
    URL-encoded issuer chains, then verified against the real pinned Intel root."""
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
    pcs, lb = pcs_on(server)
    at = _dt.datetime(2025, 7, 4, 10, 16, 31, tzinfo=_dt.UTC)  # the manifest's verify_at
    coll = pcs.intel(fmspc=bytes.fromhex("B0C06F000000"), ca="platform", tee="tdx", at=at)
    assert coll.tcb_infos == (tcb,)
    assert lb.asked[-1] == ROOT_CRL_URL  # from the real root's CRL distribution point
    result = cocoverify.verify((folder / "tdx_quote").read_bytes(), collateral=coll, at=at)
    assert result.tcb_status == "UpToDate"
