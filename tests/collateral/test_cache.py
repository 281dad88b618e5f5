"""The collateral cache (collateral/cache.py): keys, expiry by nextUpdate and age, eviction,
single flight, negative caching, the disk cache, in front of a PCS."""

from __future__ import annotations

import datetime as _dt
import json
import threading
from pathlib import Path

import pytest

from cocoverify.collateral import Collateral
from cocoverify.collateral.cache import CachingSource, earliest_next_update
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, ConfigurationError
from cocoverify_testing.intel import NOW, sgx_qe_identity, sgx_tcb_info

from _shared.collateral import (
    DER,
    INTEL_ARGS,
    PKI,
    VLEK_ARGS,
    Counting,
    M,
    invalid,
    pcs_on,
    serve_intel,
    unavailable,
    verify_sgx,
)
from _shared.loopback import FakeClock, Server


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
    inner = Counting(unavailable, delay=0.2)
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
    inner = Counting(unavailable)
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
    inner = Counting(invalid)
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
    dead = Counting(unavailable)
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
    pcs, _ = pcs_on(server)
    cache = CachingSource(pcs)
    a = cache.intel(**INTEL_ARGS)
    n = len(server.requests)
    b = cache.intel(**INTEL_ARGS)
    assert a is b and len(server.requests) == n == 4
    assert verify_sgx(b).accepted


def test_cache_bad_configuration() -> None:
    with pytest.raises(ConfigurationError):
        CachingSource(Counting(_intel_coll), max_entries=0)
    with pytest.raises(ConfigurationError):
        CachingSource(Counting(_intel_coll), max_age=_dt.timedelta(0))
