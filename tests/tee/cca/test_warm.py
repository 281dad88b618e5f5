"""The warm CCA path (tee/cca/warm.py) never changes a verdict: a token equal to one verified
before but for the realm challenge and signature gives exactly what a cold run gives, and
anything else runs the full pipeline."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from cocoverify import CocoverifyError, Policy, Reason, Verifier, api
from cocoverify.collateral import Collateral
from cocoverify.tee.cca import collateral as cca_collateral
from cocoverify.tee.cca import parse as cca_parse
from cocoverify.tee.cca import pipeline, warm
from cocoverify.tee.cca.parse import parse_token
from cocoverify_testing.cca import CcaTokenBuilder
from cocoverify_testing.pki import ec_key

from _shared.counting import Counting

AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
COLL = Collateral(public_keys=(B.platform.cpak.public_key(),))


def _cold() -> None:
    cca_parse.clear_caches()
    cca_collateral.clear_caches()
    pipeline.clear_caches()
    api._VERDICTS.clear()


def _token(i: int, builder: CcaTokenBuilder = B) -> bytes:
    return builder.with_challenge(i.to_bytes(64, "big")).sign()


def _outcome(v: Verifier, data: bytes, **kw: Any) -> Any:
    try:
        return ("ok", json.loads(json.dumps(v.verify(data, at=AT, **kw).to_dict())))
    except CocoverifyError as exc:
        return ("error", type(exc).__name__, exc.reason)


def _cold_outcome(v: Verifier, data: bytes, **kw: Any) -> Any:
    _cold()
    return _outcome(v, data, **kw)


def test_distinct_challenges_hit_and_equal_cold(monkeypatch: pytest.MonkeyPatch) -> None:
    v = Verifier(collateral=COLL)
    tokens = [_token(i) for i in range(4)]
    colds = [_cold_outcome(v, t) for t in tokens]
    assert all(c[0] == "ok" for c in colds)
    _cold()
    count = Counting(monkeypatch, pipeline, "_appraise")
    warmed = [_outcome(v, t) for t in tokens]
    assert count.runs == 1
    assert warmed == colds
    assert [w[1]["claims"]["realm"]["challenge"] for w in warmed] == [
        i.to_bytes(64, "big").hex() for i in range(4)
    ]


def test_layout_names_the_challenge_and_signature() -> None:
    data = _token(7)
    token = parse_token(data)
    layout = warm.layout_of(data, token.realm_bytes, token.realm)
    assert layout is not None
    assert data[layout.challenge : layout.challenge + 64] == (7).to_bytes(64, "big")
    assert data[layout.sig_start : layout.sig_end] == token.realm.signature
    assert data[layout.payload_start : layout.payload_end] == token.realm.payload


def test_a_changed_challenge_byte_fails_its_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    v = Verifier(collateral=COLL)
    v.verify(_token(1), at=AT)
    count = Counting(monkeypatch, pipeline, "_appraise")
    data = bytearray(_token(2))
    token = parse_token(bytes(data))
    layout = warm.layout_of(bytes(data), token.realm_bytes, token.realm)
    assert layout is not None
    data[layout.challenge + 3] ^= 1  # the same warm key, the realm signature fails
    with pytest.raises(CocoverifyError) as exc:
        v.verify(bytes(data), at=AT)
    assert exc.value.reason is Reason.SIGNATURE_INVALID
    assert count.runs == 1


def test_other_collateral_and_other_realms_do_not_hit(monkeypatch: pytest.MonkeyPatch) -> None:
    v = Verifier(collateral=COLL)
    v.verify(_token(1), at=AT)
    count = Counting(monkeypatch, pipeline, "_appraise")
    other = Collateral(public_keys=(ec_key("another-cpak", "P-384").public_key(),))
    with pytest.raises(CocoverifyError) as exc:
        Verifier(collateral=other).verify(_token(2), at=AT)
    assert exc.value.reason is Reason.SIGNATURE_INVALID
    # another measurement: another key, a full run
    assert v.verify(_token(3, B.with_realm_claim(44238, bytes(48))), at=AT).accepted
    with pytest.raises(CocoverifyError):  # a realm whose platform token is not bound to it
        v.verify(_token(4, B.with_binding(bytes(32))), at=AT)
    assert count.runs == 3


def test_no_layout_when_the_challenge_head_appears_twice() -> None:
    rpv = b"\x0a\x58\x40" + bytes(61)  # the challenge's head inside another claim
    builder = B.with_realm_claim(44235, rpv)
    data = _token(5, builder)
    token = parse_token(data)
    assert warm.layout_of(data, token.realm_bytes, token.realm) is None
    v = Verifier(collateral=COLL)
    assert _outcome(v, data) == _cold_outcome(v, data)


POLICIES: dict[str, dict[str, Any]] = {
    "default": {},
    "cca_pins": {
        "cca": {
            "realm_initial_measurement": ["00" * 48],
        },
        "unsafe_allow_debug": True,
    },
}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_reused_verdicts_equal_fresh_ones(name: str) -> None:
    """No CCA policy rule reads the challenge but the nonce binding (nothing reused then)."""
    pol = Policy.from_dict(POLICIES[name])
    v = Verifier(collateral=COLL, policy=pol)
    for i in range(3):
        t = _token(200 + i)
        assert _outcome(v, t) == _cold_outcome(v, t)
        nonce = (200 + i).to_bytes(64, "big")
        assert _outcome(v, t, expected_report_data=nonce) == _cold_outcome(
            v, t, expected_report_data=nonce
        )
        assert _outcome(v, t, expected_report_data=bytes(64)) == _cold_outcome(
            v, t, expected_report_data=bytes(64)
        )


def test_four_threads_equal_cold() -> None:
    v = Verifier(collateral=COLL)
    tokens = [_token(300 + i) for i in range(24)]
    colds = [_cold_outcome(v, t) for t in tokens]
    _cold()
    got: dict[int, Any] = {}

    def work(k: int) -> None:
        for i in range(k, len(tokens), 4):
            got[i] = _outcome(v, tokens[i])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [got[i] for i in range(len(tokens))] == colds


def test_tables_are_bounded() -> None:
    _cold()
    v = Verifier(collateral=COLL)
    for i in range(warm.WARM_SIZE + 3):
        # another initial measurement each time: a new warm key
        builder = B.with_realm_claim(44238, i.to_bytes(48, "big"))
        v.verify(_token(i, builder), at=AT)
        assert len(warm.WARM) <= warm.WARM_SIZE
    assert all(len(v) <= 4 for v in warm.LAYOUTS.values()) and len(warm.LAYOUTS) <= 64
