"""HTTP transport and retries (collateral/http.py): statuses, redirects, TLS, body limits,
Retry-After, back-off and request spacing; a loopback server or an in-memory script."""

from __future__ import annotations

import datetime as _dt
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cocoverify.collateral.http import (
    Response,
    RetryingTransport,
    RetryPolicy,
    UrllibTransport,
    retry_after_seconds,
)
from cocoverify.errors import CollateralUnavailable, ConfigurationError, Reason
from cocoverify_testing.pki import CA_KEY_USAGE, CertSpec, ec_key, issue, name, pem

from _shared.loopback import FakeClock, Reply, Server


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


def test_tls_is_verified(tmp_path: Path) -> None:
    """A PCCS-like HTTPS server with its own CA: refused by default, accepted when the
    caller trusts that CA (``ssl_context``)."""
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


def test_response_headers_case_insensitive() -> None:
    r = Response(200, {"TCB-Info-Issuer-Chain": "x"}, b"")
    assert r.header("tcb-info-issuer-chain") == "x" and dict(r.headers) == {
        "tcb-info-issuer-chain": "x"
    }


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
