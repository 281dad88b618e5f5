"""A loopback Intel PCS/PCCS and AMD KDS (127.0.0.1, port 0) serving the REAL collateral of
../shared/vectors with the real URL shapes, headers and status codes; the ``cocoverify fetch``
and ``verify --online`` tests point the CLI at it.

* PCCS (Intel SGX/TDX PCS API v4): ``/{sgx|tdx}/certification/v4/tcb?fmspc=`` with
  ``TCB-Info-Issuer-Chain``, ``/{sgx|tdx}/certification/v4/qe/identity`` with
  ``SGX-Enclave-Identity-Issuer-Chain``, ``/sgx/certification/v4/pckcrl?ca=&encoding=der`` with
  ``SGX-PCK-CRL-Issuer-Chain`` (percent-encoded PEM), ``/sgx/certification/v4/rootcacrl`` (hex).
* KDS (VCEK specification): ``/vcek/v1/{P}/{hwid}?blSPL=..`` (DER), ``/vcek/v1/{P}/cert_chain``
  (PEM, ASK first), ``/vcek/v1/{P}/crl`` (DER).

Failures are scripted per route: any status (404, 429 with ``Retry-After``, 5xx) or a delay
longer than the client's timeout. Every request is recorded with its headers.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from _shared.loopback import Reply

__all__ = ["Reply", "VendorServer", "intel_case", "snp_case"]

_PCS = "/{tee}/certification/v4"
# encodeURIComponent's unreserved set: what the PCS leaves unescaped in its headers
_SAFE = "-_.!~*'()"


@dataclass
class Seen:
    """One request as received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class VendorServer:
    """Routes (path, query items) to scripted replies; the last reply of a route repeats."""

    routes: dict[str, list[Reply]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                q = dict(urllib.parse.parse_qsl(query))
                with outer.lock:
                    outer.seen.append(
                        Seen(path, q, {k.lower(): v for k, v in self.headers.items()})
                    )
                    queue = outer._match(path, q)
                    reply = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else Reply(404)
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _match(self, path: str, query: dict[str, str]) -> list[Reply] | None:
        for key, queue in self.routes.items():
            kpath, _, kquery = key.partition("?")
            if kpath == path and set(urllib.parse.parse_qsl(kquery)) <= set(query.items()):
                return queue
        return None

    def route(self, target: str, *replies: Reply) -> None:
        with self.lock:
            self.routes[target] = list(replies)

    def fail(self, prefix: str, *replies: Reply) -> None:
        """Replace the replies of every route whose path starts with ``prefix``."""
        with self.lock:
            for key in self.routes:
                if key.startswith(prefix):
                    self.routes[key] = list(replies)

    def paths(self) -> list[str]:
        with self.lock:
            return [s.path for s in self.seen]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- the real collateral -------------------------------------------------------------------

    def serve_intel(self, case: Path, *, tee: str, fmspc: str, ca: str) -> None:
        """A PCCS serving ``case``'s collateral (files as in ../shared/vectors/intel)."""
        base = _PCS.format(tee=tee)
        self.route(
            f"{base}/tcb?fmspc={fmspc.upper()}",
            Reply(
                200,
                (case / "tcb_info.json").read_bytes(),
                {
                    "Content-Type": "application/json",
                    "TCB-Info-Issuer-Chain": _header(case / "tcb_info_issuer_chain.pem"),
                },
            ),
        )
        self.route(
            f"{base}/qe/identity",
            Reply(
                200,
                (case / "qe_identity.json").read_bytes(),
                {
                    "Content-Type": "application/json",
                    "SGX-Enclave-Identity-Issuer-Chain": _header(
                        case / "qe_identity_issuer_chain.pem"
                    ),
                },
            ),
        )
        self.route(
            f"/sgx/certification/v4/pckcrl?ca={ca}&encoding=der",
            Reply(
                200,
                (case / "pck_crl.der").read_bytes(),
                {
                    "Content-Type": "application/pkix-crl",
                    "SGX-PCK-CRL-Issuer-Chain": _header(case / "pck_crl_issuer_chain.pem"),
                },
            ),
        )
        self.route(
            "/sgx/certification/v4/rootcacrl",
            Reply(
                200,
                (case / "root_ca_crl.der").read_bytes().hex().encode(),
                {"Content-Type": "application/x-pem-file"},
            ),
        )

    def serve_kds(
        self, case: Path, crl: Path, *, product: str, hwid: str, spl: dict[str, int]
    ) -> None:
        """A KDS serving ``case``'s VCEK, its ASK + ARK and the product's CRL."""
        with warnings.catch_warnings():  # real VCEKs have serial number 0
            warnings.simplefilter("ignore")
            vcek = x509.load_pem_x509_certificate((case / "vcek.pem").read_bytes())
        query = urllib.parse.urlencode(spl)
        self.route(
            f"/vcek/v1/{product}/{hwid}?{query}",
            Reply(
                200, vcek.public_bytes(Encoding.DER), {"Content-Type": "application/x-x509-ca-cert"}
            ),
        )
        chain = (case / "ask.pem").read_bytes() + (case / "ark.pem").read_bytes()
        self.route(
            f"/vcek/v1/{product}/cert_chain",
            Reply(200, chain, {"Content-Type": "application/x-pem-file"}),
        )
        der = x509.load_pem_x509_crl(crl.read_bytes()).public_bytes(Encoding.DER)
        self.route(
            f"/vcek/v1/{product}/crl", Reply(200, der, {"Content-Type": "application/pkix-crl"})
        )


def _header(path: Path) -> str:
    return urllib.parse.quote(path.read_text(), safe=_SAFE)


@dataclass(frozen=True)
class IntelCase:
    dir: Path
    evidence: Path
    tee: str
    fmspc: str
    ca: str
    at: str


@dataclass(frozen=True)
class SnpCase:
    dir: Path
    evidence: Path
    crl: Path
    product: str
    hwid: str
    spl: dict[str, int]
    at: str


def intel_case(shared: Path, name: str) -> IntelCase:
    """A full case of ../shared/vectors/intel with its FMSPC, CA and verification time."""
    manifest = json.loads((shared / "MANIFEST.json").read_text())
    (case,) = [c for c in manifest["cases"] if c["id"] == name]
    parse = case["expected"]["parse"]
    return IntelCase(
        shared / name,
        shared / name / case["files"]["quote"],
        case["tee"],
        parse["fmspc"],
        parse["ca"],
        case["verify_at"],
    )


def snp_case(shared: Path) -> SnpCase:
    """ms-milan-v3-vcek (real Milan report and VCEK); at a time inside the Milan CRL's window
    (lastUpdate 2025-05-06, nextUpdate 2026-05-12) and the VCEK's (from 2026-02-05)."""
    d = shared / "ms-milan-v3-vcek"
    return SnpCase(
        d,
        d / "report.bin",
        shared / "roots" / "milan_crl.pem",
        "Milan",
        "4ffb5cb4fd594f3fee6528fc3fb10370bb38abe89dcd5ba2cf0ab6a11df2ca28"
        "2add516bef45a890a8c9f9732bdca68f9f3f16c42e846030a800295dbeb19ba5",
        {"blSPL": 4, "teeSPL": 0, "snpSPL": 24, "ucodeSPL": 219},
        "2026-03-01T00:00:00Z",
    )
