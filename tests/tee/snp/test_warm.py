"""The warm SNP path (tee/snp/warm.py) never changes a verdict: a report equal to one verified
before but for REPORT_DATA and the signature gives, at every time, exactly what a cold run
gives, and anything else runs the full pipeline."""

from __future__ import annotations

import datetime as _dt
import json
import threading
from typing import Any

import pytest

from cocoverify import (
    AuthenticityError,
    CocoverifyError,
    EvidenceError,
    Policy,
    Reason,
    Verifier,
    api,
)
from cocoverify.collateral import Collateral
from cocoverify.tee.snp import authenticate, facts, pipeline, warm

from _shared.counting import Counting
from _shared.snp import AT, MB, TRUST, G, M

VCEK = M.vcek_for(MB.sign(M))
CRL = M.crl()
COLL = Collateral(chains=((VCEK,), (M.ask,), (M.ark,)), crls=(CRL,))
RD = slice(0x50, 0x90)


def _cold() -> None:
    facts.clear_caches()
    authenticate.clear_caches()
    warm.clear_caches()
    api._VERDICTS.clear()


def _report(i: int) -> bytes:
    return MB.set(report_data=i.to_bytes(64, "big")).sign(M)


def _outcome(v: Verifier, data: bytes, at: _dt.datetime, **kw: Any) -> Any:
    try:
        return ("ok", json.loads(json.dumps(v.verify(data, at=at, **kw).to_dict())))
    except CocoverifyError as exc:
        return ("error", type(exc).__name__, exc.reason)


def _cold_outcome(v: Verifier, data: bytes, at: _dt.datetime, **kw: Any) -> Any:
    _cold()
    return _outcome(v, data, at, **kw)


def test_distinct_reports_hit_and_equal_cold(monkeypatch: pytest.MonkeyPatch) -> None:
    v = Verifier(collateral=COLL, trust=TRUST)
    reports = [_report(i) for i in range(4)]
    colds = [_cold_outcome(v, r, AT) for r in reports]
    assert all(c[0] == "ok" for c in colds)
    _cold()
    count = Counting(monkeypatch, pipeline, "_appraise")
    warmed = [_outcome(v, r, AT) for r in reports]
    assert count.runs == 1  # the first report fills the entry, the others hit it
    assert warmed == colds
    assert [w[1]["claims"]["report_data"] for w in warmed] == [r[RD].hex() for r in reports]


def test_bad_signature_on_a_warm_key_is_decided_by_the_pipeline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v = Verifier(collateral=COLL, trust=TRUST)
    v.verify(_report(1), at=AT)
    count = Counting(monkeypatch, pipeline, "_appraise")
    bad = bytearray(_report(2))
    bad[0x55] ^= 1  # REPORT_DATA changed after signing: same warm key, signature fails
    with pytest.raises(AuthenticityError) as exc:
        v.verify(bytes(bad), at=AT)
    assert exc.value.reason is Reason.SIGNATURE_INVALID
    assert count.runs == 1


@pytest.mark.parametrize("offset", [0x2A0 + 48, 0x2E8 + 48, 0x330, 0x49F])
def test_signature_padding_is_part_of_the_key(offset: int) -> None:
    v = Verifier(collateral=COLL, trust=TRUST)
    v.verify(_report(1), at=AT)
    bad = bytearray(_report(2))
    bad[offset] = 1  # must be zero (SEV-SNP ABI §7.3): the parser decides, not the entry
    with pytest.raises(EvidenceError) as exc:
        v.verify(bytes(bad), at=AT)
    assert exc.value.reason is Reason.RESERVED_NONZERO


def test_interval_edges_equal_cold() -> None:
    """At the edges of the VCEK's and the CRL's windows the warm and cold outcomes agree."""
    v = Verifier(collateral=COLL, trust=TRUST)
    edges = [
        VCEK.not_valid_before_utc,
        VCEK.not_valid_after_utc,
        CRL.last_update_utc,
        CRL.next_update_utc,
        M.ask.not_valid_after_utc,
    ]
    times = sorted(
        {e + _dt.timedelta(microseconds=d) for e in edges if e for d in (-1, 0, 1)} | {AT}
    )
    reports = [_report(100 + i) for i in range(len(times))]
    colds = [_cold_outcome(v, r, t) for r, t in zip(reports, times, strict=True)]
    assert {c[0] for c in colds} == {"ok", "error"}  # both sides of some edge
    _cold()
    v.verify(_report(99), at=AT)
    for r, t, cold in zip(reports, times, colds, strict=True):
        assert _outcome(v, r, t) == cold, t


def test_other_collateral_or_trust_or_require_crl_does_not_hit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    v = Verifier(collateral=COLL, trust=TRUST)
    v.verify(_report(1), at=AT)
    count = Counting(monkeypatch, pipeline, "_appraise")
    # swapped role labels: the same certificates, a contradicted statement of roles
    swapped = Collateral(
        chains=COLL.chains, crls=COLL.crls, labels=(("ark", M.ask), ("ask", M.ark))
    )
    with pytest.raises(CocoverifyError) as exc:
        Verifier(collateral=swapped, trust=TRUST).verify(_report(2), at=AT)
    assert exc.value.reason is Reason.CHAIN_INVALID
    # the same collateral without a CRL: accepted, then required by the policy
    no_crl = Collateral(chains=COLL.chains)
    Verifier(collateral=no_crl, trust=TRUST).verify(_report(3), at=AT)
    strict = Policy(require_crl=True)
    with pytest.raises(CocoverifyError) as exc:
        Verifier(collateral=no_crl, trust=TRUST, policy=strict).verify(_report(4), at=AT)
    assert exc.value.reason is Reason.CRL_MISSING
    # another pinned ARK
    with pytest.raises(CocoverifyError) as exc:
        Verifier(collateral=COLL, trust=G.trust_store()).verify(_report(5), at=AT)
    assert exc.value.reason is not None
    assert count.runs == 4


POLICIES: dict[str, dict[str, Any]] = {
    "default": {},
    "snp_pins": {
        "snp": {
            "measurement": ["00" * 48],
            "host_data": ["00" * 32],
            "vmpl": [0, 1],
            "min_guest_svn": 0,
            "min_reported_tcb": {"bootloader": 0, "tee": 0, "snp": 0, "microcode": 0},
        },
        "unsafe_allow_debug": True,
    },
    "strict_tcb": {"require_crl": True},
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_reused_verdicts_equal_fresh_ones(name: str) -> None:
    """No SNP policy rule reads REPORT_DATA but the nonce binding (then nothing is reused)."""
    pol = Policy.from_dict(POLICIES[name])
    v = Verifier(collateral=COLL, trust=TRUST, policy=pol)
    for i in range(3):
        r = _report(200 + i)
        assert _outcome(v, r, AT) == _cold_outcome(v, r, AT)
        nonce = r[RD]
        assert _outcome(v, r, AT, expected_report_data=nonce) == _cold_outcome(
            v, r, AT, expected_report_data=nonce
        )
        other = bytes(64)
        assert _outcome(v, r, AT, expected_report_data=other) == _cold_outcome(
            v, r, AT, expected_report_data=other
        )


def test_four_threads_equal_cold() -> None:
    v = Verifier(collateral=COLL, trust=TRUST)
    reports = [_report(300 + i) for i in range(40)]
    bad = bytearray(reports[7])
    bad[0x60] ^= 1
    reports[7] = bytes(bad)
    colds = [_cold_outcome(v, r, AT) for r in reports]
    _cold()
    got: dict[int, Any] = {}

    def work(k: int) -> None:
        for i in range(k, len(reports), 4):
            got[i] = _outcome(v, reports[i], AT)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(reports))] == colds
    assert colds[7][2] is Reason.SIGNATURE_INVALID


def test_table_is_bounded() -> None:
    _cold()
    v = Verifier(collateral=COLL, trust=TRUST)
    for i in range(warm.WARM_SIZE + 3):
        # a distinct key per report: GUEST_SVN (0x004) differs
        v.verify(MB.set(guest_svn=i, report_data=i.to_bytes(64, "big")).sign(M), at=AT)
        assert len(warm.WARM) <= warm.WARM_SIZE
