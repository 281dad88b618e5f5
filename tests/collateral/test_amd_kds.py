"""AMD KDS (collateral/amd_kds.py) against a loopback server serving KDS-shaped responses
built from the test PKIs and from the real shared vectors."""

from __future__ import annotations

import datetime as _dt
import time
import urllib.parse
from typing import Any

import pytest

import cocoverify
from cocoverify.collateral import Collateral
from cocoverify.collateral.amd_kds import AmdKds
from cocoverify.collateral.http import RetryingTransport, RetryPolicy, UrllibTransport
from cocoverify.errors import CollateralUnavailable, ConfigurationError, Reason
from cocoverify.tee.snp.parse import parse_report
from cocoverify_testing.pki import pem
from cocoverify_testing.snp import VECTOR_TIME

from _shared import require_shared
from _shared.collateral import (
    AMD_TRUST,
    DER,
    GOOD_TCB,
    VLEK_ARGS,
    M,
    T,
    kds_on,
    serve_kds,
    tcb_args,
)
from _shared.loopback import FakeClock, Loopback, Reply, Server


def test_kds_milan_vcek_fetch_and_verify(server: Server, milan_report: bytes) -> None:
    serve_kds(server, M, milan_report)
    kds, lb = kds_on(server)
    chip = parse_report(milan_report).chip_id
    tcb = tcb_args(milan_report, "Milan")
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
    kds, lb = kds_on(server)
    chip = parse_report(turin_report).chip_id
    tcb = tcb_args(turin_report, "Turin")
    coll = kds.amd(product="Turin", hwid=chip, reported_tcb=tcb, key_type="vcek", at=VECTOR_TIME)
    path, query = lb.asked[0].split("?")
    # Turin: the first 8 bytes of CHIP_ID (docs/collateral-sources.md)
    assert path.endswith(f"/vcek/v1/Turin/{chip[:8].hex()}")
    assert query.startswith(f"fmcSPL={tcb['fmc_spl']}&blSPL=")
    res = cocoverify.verify(turin_report, collateral=coll, trust=AMD_TRUST, at=VECTOR_TIME)
    assert res.accepted


def test_kds_vlek_fetches_only_chain_and_crl(server: Server) -> None:
    serve_kds(server, M)
    kds, lb = kds_on(server)
    coll = kds.amd(product="Milan", hwid=b"", reported_tcb={}, key_type="vlek", at=VECTOR_TIME)
    assert [urllib.parse.urlsplit(u).path for u in lb.asked] == [
        "/vlek/v1/Milan/cert_chain",
        "/vlek/v1/Milan/crl",
    ]
    assert M.asvk in coll.certificates


def test_kds_404_and_masked_chip_are_unavailable(server: Server, milan_report: bytes) -> None:
    kds, lb = kds_on(server)
    tcb = tcb_args(milan_report, "Milan")
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
        reported_tcb=tcb_args(milan_report, "Milan"),
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
    kds, _ = kds_on(server, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(CollateralUnavailable) as info:
        kds.amd(product="Milan", hwid=b"", reported_tcb={}, key_type="vlek", at=VECTOR_TIME)
    assert info.value.reason is Reason.COLLATERAL_MISSING
    assert time.monotonic() - started < 0.9


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
    kds, _ = kds_on(server)
    at = _dt.datetime(2025, 6, 1, tzinfo=_dt.UTC)  # VCEK 2023..2030, Milan CRL 2025-05..2026-05
    coll = kds.amd(
        product="Milan", hwid=chip, reported_tcb=tcb_args(report, "Milan"), key_type="vcek", at=at
    )
    assert cocoverify.verify(report, collateral=coll, at=at).accepted


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
