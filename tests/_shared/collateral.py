"""PCS- and KDS-shaped responses built from the project's test PKIs
(``cocoverify_testing.intel``, ``cocoverify_testing.snp``), served by :mod:`_shared.loopback`;
production URLs (e.g. the Intel root CRL distribution point) are rewritten to the loopback
server by :class:`~_shared.loopback.Loopback`, which records the URL asked for. Also the
request arguments and small sources the source and cache tests share."""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

import cocoverify
from cocoverify.collateral import Collateral
from cocoverify.collateral.amd_kds import AmdKds
from cocoverify.collateral.intel_pcs import IntelPcs
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, Reason
from cocoverify.tee.snp.parse import parse_report
from cocoverify.tee.snp.tcb import TcbVersion
from cocoverify.trust import TrustStore
from cocoverify_testing.intel import (
    NOW,
    FakeIntelPKI,
    QuoteBuilder,
    sgx_pck,
    sgx_qe_identity,
    sgx_tcb_info,
    td_qe_identity,
    tdx_tcb_info,
)
from cocoverify_testing.pki import pem
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI

from _shared.loopback import Loopback, Reply, Server

__all__ = [
    "AMD_TRUST",
    "DER",
    "GOOD_TCB",
    "INTEL_ARGS",
    "INTEL_TRUST",
    "ONE",
    "PKI",
    "ROOT_CRL_URL",
    "VLEK_ARGS",
    "Counting",
    "M",
    "T",
    "invalid",
    "kds_on",
    "pcs_on",
    "serve_intel",
    "serve_kds",
    "tcb_args",
    "unavailable",
    "url_quoted",
    "verify_sgx",
]


DER = Encoding.DER
PKI = FakeIntelPKI()
INTEL_TRUST = TrustStore(intel_roots=frozenset({PKI.root_fingerprint()}))
M = FakeAmdPKI("Milan")
T = FakeAmdPKI("Turin")
AMD_TRUST = TrustStore.from_certificates(amd={"Milan": [M.ark], "Turin": [T.ark]})
ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
GOOD_TCB = {"bl_spl": 3, "tee_spl": 0, "snp_spl": 20, "ucode_spl": 209}
#: the keyword arguments of ``source.intel(...)`` for the test PKI's SGX PCK
INTEL_ARGS: dict[str, Any] = {
    "fmspc": sgx_pck().extension.fmspc,
    "ca": sgx_pck().ca,
    "tee": "sgx",
    "at": NOW,
}
#: the keyword arguments of ``source.amd(...)`` for a Milan VLEK (no chip, no TCB)
VLEK_ARGS: dict[str, Any] = {
    "product": "Milan",
    "hwid": b"",
    "reported_tcb": {},
    "key_type": "vlek",
    "at": VECTOR_TIME,
}


def url_quoted(data: bytes) -> str:
    """A PEM chain as PCS sends it in a header (URL-encoded)."""
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
    signing = {"SGX-Enclave-Identity-Issuer-Chain": url_quoted(pki.tcb_signing_chain_pem())}
    server.route(
        f"/{tee}/certification/v4/tcb",
        Reply(body=bodies["tcb"], headers={tcb_header: url_quoted(pki.tcb_signing_chain_pem())}),
    )
    server.route(f"/{tee}/certification/v4/qe/identity", Reply(body=bodies["qe"], headers=signing))
    for ca in ("platform", "processor"):
        server.route(
            f"/sgx/certification/v4/pckcrl?ca={ca}&encoding=der",
            Reply(
                body=bodies[ca],
                headers={"SGX-PCK-CRL-Issuer-Chain": url_quoted(pki.pck_crl_issuer_chain_pem(ca))},
            ),
        )
    if pccs:
        server.route("/sgx/certification/v4/rootcacrl", Reply(body=bodies["root"].hex().encode()))
    else:
        server.route("/IntelSGXRootCA.der", Reply(body=bodies["root"]))
    return bodies


def pcs_on(server: Server, **kwargs: Any) -> tuple[IntelPcs, Loopback]:
    """An :class:`IntelPcs` whose requests all go to ``server``, and its transport."""
    lb = Loopback(server)
    return IntelPcs(server.url, transport=lb, **kwargs), lb


def verify_sgx(coll: Collateral) -> cocoverify.VerificationResult:
    """A fresh SGX quote of the test PKI, verified with ``coll``."""
    return cocoverify.verify(
        QuoteBuilder.sgx().sign(PKI), collateral=coll, trust=INTEL_TRUST, at=NOW
    )


def tcb_args(report: bytes, product: str) -> dict[str, int]:
    """The ``reported_tcb`` argument of ``source.amd(...)`` for an SNP report."""
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
    """KDS-shaped routes for ``pki``'s product (and the VCEK of ``report`` when given)."""
    p = pki.product
    if report is not None:
        hw = parse_report(report).chip_id[: 8 if p == "Turin" else 64].hex()
        server.route(f"/vcek/v1/{p}/{hw}", Reply(body=pki.vcek_for(report).public_bytes(DER)))
    for kind, inter in (("vcek", pki.ask), ("vlek", pki.asvk)):
        server.route(f"/{kind}/v1/{p}/cert_chain", Reply(body=pem(inter, pki.ark)))
        server.route(f"/{kind}/v1/{p}/crl", Reply(body=pki.crl().public_bytes(DER)))


def kds_on(server: Server, **kwargs: Any) -> tuple[AmdKds, Loopback]:
    """An :class:`AmdKds` whose requests all go to ``server``, and its transport."""
    lb = Loopback(server)
    return AmdKds(server.url, transport=lb, **kwargs), lb


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


def unavailable() -> Collateral:
    """A :class:`Counting` answer: collateral unavailable."""
    raise CollateralUnavailable("no", reason=Reason.COLLATERAL_MISSING)


def invalid() -> Collateral:
    """A :class:`Counting` answer: collateral invalid."""
    raise CollateralInvalid("bad", reason=Reason.COLLATERAL_MALFORMED)


#: one item of collateral, answered by the static and fallback sources
ONE = Collateral(crls=(PKI.root_crl,))
