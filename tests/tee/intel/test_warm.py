"""The warm Intel path (``tee/intel/warm.py``) never changes a verdict.

The time interval of a warm entry comes from the comparisons a ``TimeProbe`` records; these
tests verify at every recorded boundary, one microsecond either side, warm (tables filled
at other times first) and cold, and compare the full results. They also change one byte of
the static part after a warm accept, and check the probe itself.
"""

from __future__ import annotations

import datetime as _dt
import random
from dataclasses import replace
from typing import Any

import pytest

from cocoverify import CocoverifyError, Collateral, Policy, Verifier
from cocoverify.reasons import Reason
from cocoverify.tee.intel import pipeline, prepared
from cocoverify.tee.intel.parse import parse_quote_fields
from cocoverify.tee.intel.warm import TimeProbe, WarmEntry, warm_key
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import NOW, QuoteBuilder

from _shared.intel import PKI, TRUST, collateral

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
POLICY = Policy()


def outcome(verifier: Verifier, quote: bytes, at: _dt.datetime) -> dict[str, Any]:
    try:
        return {"result": verifier.verify(quote, at=at).to_dict()}
    except CocoverifyError as exc:
        return {
            "error": type(exc).__name__,
            "reason": exc.reason.value,
            "message": str(exc.args[0]),
            "result": exc.result.to_dict() if exc.result is not None else None,
        }


def _boundaries(
    monkeypatch: pytest.MonkeyPatch, quote: bytes, coll: Collateral, at: _dt.datetime
) -> set[int]:
    """Every number the pipeline compares the verification time with, cold."""
    probes: list[TimeProbe] = []

    class Recording(TimeProbe):
        def __new__(cls, value: int) -> TimeProbe:
            probe = TimeProbe.__new__(cls, value)
            probes.append(probe)
            return probe

    prepared.clear_caches()
    with monkeypatch.context() as m:
        m.setattr(pipeline, "TimeProbe", Recording)
        outcome(Verifier(trust=TRUST, collateral=coll, policy=POLICY), quote, at)
    assert len(probes) == 1 and not probes[0].tainted
    return set(probes[0].seen)


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_every_time_boundary_gives_the_cold_verdict_warm(
    tee: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder = QuoteBuilder.sgx() if tee == "sgx" else QuoteBuilder.tdx()
    quotes = [builder.report_data(bytes([i]) * 64).sign(PKI) for i in range(3)]
    coll = collateral(tee)
    seen = _boundaries(monkeypatch, quotes[0], coll, NOW)
    assert len(seen) >= 8  # certificate, CRL and document windows
    times = sorted({EPOCH + _dt.timedelta(microseconds=b + d) for b in seen for d in (-1, 0, 1)})
    times.append(NOW)
    cold = {}
    for at in times:
        prepared.clear_caches()
        cold[at] = outcome(Verifier(trust=TRUST, collateral=coll, policy=POLICY), quotes[1], at)
    assert {o.get("reason") for o in cold.values()} > {None}  # accepts and rejects
    prepared.clear_caches()
    warm = Verifier(trust=TRUST, collateral=coll, policy=POLICY)
    order = times * 2
    random.Random(5).shuffle(order)
    hits = []
    matches = WarmEntry.matches

    def counting(entry: WarmEntry, *args: Any) -> bool:
        hits.append(matches(entry, *args))
        return hits[-1]

    monkeypatch.setattr(WarmEntry, "matches", counting)
    for at in order:
        outcome(warm, quotes[2], at)  # fills the warm table at another time
        assert outcome(warm, quotes[1], at) == cold[at], at
    # every accepted call of quotes[1] came from the entry quotes[2] left at that time
    assert hits.count(True) >= sum(
        "result" in cold[at] and not cold[at].get("reason") for at in order
    )


def test_the_probe_records_comparisons_both_ways() -> None:
    p = TimeProbe(100)
    assert p < 200 and 50 < p and p <= 100 and 100 >= p and not p > 150 and p == 100  # noqa: SIM300
    assert sorted(p.seen) == [50, 100, 100, 100, 150, 200]
    assert p.interval() == (100, 101)
    q = TimeProbe(100)
    assert q < 200 and q > 50
    assert q.interval() == (51, 200)
    assert TimeProbe(7).interval() == (-(1 << 80), 1 << 80)


@pytest.mark.parametrize(
    "use",
    [hash, str, repr, float, int, bool, lambda p: p + 1, lambda p: 1 - p, lambda p: p // 3],
)
def test_any_other_use_taints_the_probe(use: Any) -> None:
    p = TimeProbe(5)
    use(p)
    assert p.tainted and p.interval() is None
    r = TimeProbe(5)
    assert r == 5.0  # a comparison with a non-int is not a recorded boundary
    assert r.tainted


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_a_changed_static_byte_after_a_warm_accept_is_checked_in_full(tee: str) -> None:
    builder = QuoteBuilder.sgx() if tee == "sgx" else QuoteBuilder.tdx()
    good = builder.build(PKI)
    v = Verifier(trust=TRUST, collateral=collateral(tee), policy=POLICY)
    prepared.clear_caches()
    assert outcome(v, good.data, NOW).get("reason") is None
    f = parse_quote_fields(good.data)
    assert len(next(iter(prepared.PREPARED._data.values())).warm) == 1
    flips = {
        "qe_report_signature": (f.qe_report_signature_offset + 5, "qe_report_signature_invalid"),
        "qe_report": (f.qe_report_offset + 330, "qe_report_signature_invalid"),
        "quote_signature": (f.signature_offset + 3, "signature_invalid"),
        "user_data": (30, "signature_invalid"),
    }
    for name, (offset, reason) in flips.items():
        data = bytearray(good.data)
        data[offset] ^= 0x01
        assert outcome(v, bytes(data), NOW).get("reason") == reason, name
    # trailing bytes: the same key, another entry shape -> the full pipeline and its warning
    padded = outcome(v, good.data + b"\0\0", NOW)
    assert padded["result"]["warnings"] == ["2 bytes after the quote were ignored (not signed)"]
    assert warm_key(good.data + b"\0\0", f) == warm_key(good.data, f)
    assert outcome(v, good.data, NOW)["result"]["warnings"] == []


def test_revocation_after_a_warm_accept_rejects() -> None:
    good = QuoteBuilder.sgx().build(PKI)
    prepared.clear_caches()
    v = Verifier(trust=TRUST, collateral=collateral("sgx"), policy=POLICY)
    assert outcome(v, good.data, NOW).get("reason") is None
    revoked = PKI.but(
        processor_crl_knobs=replace(PKI.processor_crl_knobs, revoked=(fi.sgx_pck().serial,))
    )
    r = Verifier(trust=TRUST, collateral=collateral("sgx", pki=revoked), policy=POLICY)
    assert outcome(r, good.data, NOW)["reason"] == Reason.CERTIFICATE_REVOKED.value
    assert outcome(v, good.data, NOW).get("reason") is None
