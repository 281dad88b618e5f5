"""Verification speed per TEE next to its floor and dcap-qvl (pytest-benchmark).

Run: ``pytest benchmarks --benchmark-enable --benchmark-group-by=group``. Each group holds the
floor (the signature checks every verifier must do, through ``cryptography``), cocoverify
with a long-lived ``Verifier``, and for Intel dcap-qvl on the same quotes and collateral
(the ``bench`` extra). Read the rows as ratios within a group; benchmarks/report.py prints
the whole table of docs/performance.md in one run.

"Distinct" evidence never repeats within a benchmark (each call verifies a quote, report
or token not seen before, of a known platform), so no cache can memoise a whole quote.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from typing import Any

import corpus
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ROUNDS, ITERATIONS = 30, 20
POOL = (ROUNDS + 2) * ITERATIONS  # more than pedantic makes (warm-up round included)


def _p(curve: ec.EllipticCurve, alg: hashes.HashAlgorithm, size: int) -> Callable[[], None]:
    key = ec.generate_private_key(curve)
    msg = os.urandom(size)
    sig = key.sign(msg, ec.ECDSA(alg))
    pub = key.public_key()
    return lambda: pub.verify(sig, msg, ec.ECDSA(alg))


P256 = _p(ec.SECP256R1(), hashes.SHA256(), 632)
P384 = _p(ec.SECP384R1(), hashes.SHA384(), 672)


def _both() -> None:
    P256()
    P384()


def _run(benchmark: Any, fn: Callable[[], object]) -> None:
    benchmark.pedantic(fn, rounds=ROUNDS, iterations=ITERATIONS, warmup_rounds=1)


def _dcap() -> Any:
    return pytest.importorskip("dcap_qvl", reason="dcap-qvl is the bench extra")


@pytest.fixture(scope="module")
def fake_intel() -> corpus.FakeIntel:
    return corpus.FakeIntel()


def _distinct(fi: corpus.FakeIntel, tee: str, start: int) -> Callable[[], bytes]:
    return itertools.cycle(fi.distinct(tee, POOL, start=start)).__next__


# --- floors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("group", ["intel-sgx", "intel-tdx"])
def test_floor_p256(benchmark: Any, group: str) -> None:
    benchmark.group = group
    _run(benchmark, P256)


@pytest.mark.parametrize("group", ["snp"])
def test_floor_p384(benchmark: Any, group: str) -> None:
    benchmark.group = group
    _run(benchmark, P384)


def test_floor_p256_plus_p384(benchmark: Any) -> None:
    benchmark.group = "cca"
    _run(benchmark, _both)


# --- Intel ----------------------------------------------------------------------------------


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_cocoverify_warm_distinct(benchmark: Any, fake_intel: corpus.FakeIntel, tee: str) -> None:
    benchmark.group = f"intel-{tee}"
    v, at, nxt = fake_intel.verifier(tee), fake_intel.at, _distinct(fake_intel, tee, 10**6)
    _run(benchmark, lambda: v.verify(nxt(), at=at))


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_dcap_qvl_distinct(benchmark: Any, fake_intel: corpus.FakeIntel, tee: str) -> None:
    dcap = _dcap()
    benchmark.group = f"intel-{tee}"
    coll, root = fake_intel.dcap_collateral(tee), fake_intel.root_der
    now, nxt = corpus.epoch(fake_intel.at), _distinct(fake_intel, tee, 2 * 10**6)
    _run(benchmark, lambda: dcap.verify_with_root_ca(nxt(), coll, root, now))


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_cocoverify_new_platform(benchmark: Any, fake_intel: corpus.FakeIntel, tee: str) -> None:
    benchmark.group = f"intel-new-platform-{tee}"
    v, at = fake_intel.verifier(tee), fake_intel.at
    v.verify(fake_intel.distinct(tee, 1)[0], at=at)  # collateral loaded and checked
    nxt = itertools.cycle(fake_intel.new_platforms(tee, 45, tag="pytest-bench")).__next__
    benchmark.pedantic(lambda: v.verify(nxt(), at=at), rounds=40, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_dcap_qvl_new_platform(benchmark: Any, fake_intel: corpus.FakeIntel, tee: str) -> None:
    dcap = _dcap()
    benchmark.group = f"intel-new-platform-{tee}"
    coll, root, now = (
        fake_intel.dcap_collateral(tee),
        fake_intel.root_der,
        corpus.epoch(fake_intel.at),
    )
    nxt = itertools.cycle(fake_intel.new_platforms(tee, 10, tag="pytest-bench-dcap")).__next__
    benchmark.pedantic(
        lambda: dcap.verify_with_root_ca(nxt(), coll, root, now), rounds=40, iterations=1
    )


def _real_intel(case_id: str) -> corpus.Case:
    for c in corpus.real_intel(with_peer=False):
        if c.id == case_id:
            return c
    pytest.skip(f"real vector {case_id} not available")


REAL_INTEL = [("sgx", "sgx-v3-automata-quotev3"), ("tdx", "tdx-v4-dcapqvl-sample")]


@pytest.mark.parametrize(("tee", "case_id"), REAL_INTEL)
def test_cocoverify_real_warm(benchmark: Any, tee: str, case_id: str) -> None:
    benchmark.group = f"intel-{tee}"
    c = _real_intel(case_id)
    _run(benchmark, c.verify)


@pytest.mark.parametrize(("tee", "case_id"), REAL_INTEL)
def test_dcap_qvl_real(benchmark: Any, tee: str, case_id: str) -> None:
    dcap = _dcap()
    benchmark.group = f"intel-{tee}"
    c = next(x for x in corpus.real_intel() if x.id == case_id)
    q, coll, now = c.evidence, c.dcap_collateral, corpus.epoch(c.at)
    _run(benchmark, lambda: dcap.verify(q, coll, now))


# --- SNP and CCA ----------------------------------------------------------------------------


def test_cocoverify_snp_distinct(benchmark: Any) -> None:
    benchmark.group = "snp"
    snp = corpus.FakeSnp()
    nxt = itertools.cycle(snp.distinct(POOL)).__next__
    v, at = snp.verifier, snp.at
    _run(benchmark, lambda: v.verify(nxt(), at=at))


def test_cocoverify_snp_real(benchmark: Any) -> None:
    benchmark.group = "snp"
    cases = [c for c in corpus.real_snp() if c.id == "ms-genoa-v3-vcek"]
    if not cases:
        pytest.skip("real SNP vectors not available")
    _run(benchmark, cases[0].verify)


def test_cocoverify_cca_distinct(benchmark: Any) -> None:
    benchmark.group = "cca"
    cca = corpus.FakeCca()
    nxt = itertools.cycle(cca.distinct(POOL)).__next__
    v, at = cca.verifier, cca.at
    _run(benchmark, lambda: v.verify(nxt(), at=at))


def test_cocoverify_cca_real(benchmark: Any) -> None:
    benchmark.group = "cca"
    cases = [c for c in corpus.real_cca() if c.id == "ccatoken-good-cmw907-realm1"]
    if not cases:
        pytest.skip("real CCA vectors not available")
    _run(benchmark, cases[0].verify)
