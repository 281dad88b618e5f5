"""Caching never changes a CCA verdict (tee/cca/parse.py platform tokens, collateral.py CPAK
selection, claims.py, _core/cose.py RAK keys, _core/cbor.py claim-set fast path): cold and
warm runs give the same output, both signatures and the realm token are checked on every
call, and content (never object identity) decides every cache hit."""

from __future__ import annotations

import copy
import json
import random
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import cbor2
import pytest

import cocoverify
from cocoverify import (
    AuthenticityError,
    Collateral,
    CollateralInvalid,
    CollateralUnavailable,
    MalformedEvidence,
    Reason,
    SignatureInvalid,
)
from cocoverify._core import cbor as cbor_mod
from cocoverify._core import cose
from cocoverify.errors import CocoverifyError
from cocoverify.tee.cca import collateral as cca_collateral
from cocoverify.tee.cca import parse as cca_parse
from cocoverify.tee.cca import pipeline as cca_pipeline
from cocoverify.tee.cca.memo import document_key
from cocoverify_testing.cca import CcaTokenBuilder, FakeCcaPlatform
from cocoverify_testing.pki import ec_key

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "golden"))
import outputs

GOLDEN: dict[str, Any] = json.loads((outputs.HERE / "outputs.json").read_text())
AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
TOKEN = B.sign()
CPAK = B.platform.cpak.public_key()


def _cca_cases() -> list[tuple[str, bytes, dict[str, Any]]]:
    """Every golden case of CCA evidence: the real vectors and the project's CCA vectors."""
    return [c for c in outputs.cases() if c[0].startswith(("cca/", "project/cca."))]


def _outcome(evidence: bytes, kw: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return json.loads(json.dumps(outputs.outcome(evidence, **kw)))


def _cold() -> None:
    cca_parse.clear_caches()
    cca_pipeline.clear_caches()
    cca_collateral.clear_caches()


def _verify(data: bytes = TOKEN, **kwargs: Any) -> cocoverify.VerificationResult:
    kwargs.setdefault("collateral", Collateral(public_keys=(CPAK,)))
    return cocoverify.verify(data, at=AT, **kwargs)


def test_cold_warm_and_shuffled_outputs_equal_the_golden_file() -> None:
    cases = _cca_cases()
    assert any(cid.startswith("project/") for cid, _, _ in cases)
    for cid, evidence, kw in cases:
        _cold()
        assert _outcome(evidence, kw) == GOLDEN[cid], f"cold {cid}"
        assert _outcome(evidence, kw) == GOLDEN[cid], f"warm {cid}"
    shuffled = list(cases)
    random.Random(11).shuffle(shuffled)
    for cid, evidence, kw in shuffled:
        assert _outcome(evidence, kw) == GOLDEN[cid], f"shuffled {cid}"


def test_four_threads_equal_sequential() -> None:
    cases = _cca_cases()
    _cold()
    errors: list[str] = []

    def run(seed: int) -> None:
        order = list(cases)
        random.Random(seed).shuffle(order)
        for cid, evidence, kw in order * 2:
            if _outcome(evidence, kw) != GOLDEN[cid]:
                errors.append(cid)

    threads = [threading.Thread(target=run, args=(seed,)) for seed in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# --- per call: the realm token and both signatures ---------------------------------------------


def test_realm_defects_under_a_warm_platform_token_are_rejected() -> None:
    assert _verify().accepted
    with pytest.raises(SignatureInvalid):
        _verify(B.with_signature_defect("realm", "bitflip").sign())
    with pytest.raises(AuthenticityError) as err:  # a realm not bound to the platform token
        _verify(B.with_binding(bytes(32)).sign())
    assert err.value.reason is Reason.BINDING_INVALID
    with pytest.raises(SignatureInvalid):  # the RAK claim is not the key that signed
        _verify(B.with_signer("realm", ec_key("other-rak", "P-384")).sign())
    assert _verify().accepted


def test_platform_signature_is_checked_for_every_platform_token_and_collateral() -> None:
    assert _verify().accepted
    with pytest.raises(SignatureInvalid):
        _verify(B.with_signature_defect("platform", "bitflip").sign())
    other = ec_key("another-cpak", "P-384").public_key()
    with pytest.raises(SignatureInvalid):
        _verify(collateral=Collateral(public_keys=(other,)))
    assert _verify().accepted


def test_platform_token_that_fails_is_not_kept() -> None:
    bad = B.with_platform_claim(265, "tag:example,2099:unknown").sign()
    for _ in range(2):
        with pytest.raises(CocoverifyError) as err:
            _verify(bad)
        assert err.value.reason is Reason.UNSUPPORTED_PROFILE


def test_realm_error_order_is_kept_with_a_cached_platform_token() -> None:
    # realm COSE_Sign1 broken: the same error cold and warm (platform cached or not)
    broken = B.untagged("realm").sign()
    _cold()
    with pytest.raises(MalformedEvidence) as cold:
        _verify(broken)
    assert _verify().accepted  # platform token now cached
    with pytest.raises(MalformedEvidence) as warm:
        _verify(broken)
    assert (str(cold.value), cold.value.field) == (str(warm.value), warm.value.field)


# --- CPAK selection by content ------------------------------------------------------------------


def test_a_jwk_document_changed_in_place_is_selected_again() -> None:
    jwk = B.platform.cpak_jwk()
    coll = Collateral(documents=(jwk,))
    assert _verify(collateral=coll).accepted
    jwk.update(FakeCcaPlatform(label="someone-else").cpak_jwk())  # same dict object
    with pytest.raises(SignatureInvalid):
        _verify(collateral=coll)


def test_trust_anchor_store_is_keyed_by_instance() -> None:
    store = B.platform.ta_store()
    assert _verify(collateral=Collateral(documents=(store,))).accepted
    other = FakeCcaPlatform(label="other-platform")
    token = CcaTokenBuilder(platform=other).sign()
    with pytest.raises(CollateralUnavailable):
        _verify(token, collateral=Collateral(documents=(store,)))
    elsewhere = B.platform.ta_store(instance_id=other.instance_id)
    with pytest.raises(CollateralUnavailable):
        _verify(collateral=Collateral(documents=(elsewhere,)))


def test_unusable_bound_key_error_is_replayed() -> None:
    store = B.platform.ta_store()
    store[0]["pkey"] = {**store[0]["pkey"], "x": store[0]["pkey"]["y"]}  # off the curve
    coll = Collateral(documents=(store,))
    messages = []
    for _ in range(2):
        with pytest.raises(CollateralInvalid) as err:
            _verify(collateral=coll)
        messages.append((str(err.value), err.value.reason))
    assert messages[0] == messages[1] and messages[0][1] is Reason.COLLATERAL_MALFORMED


def test_documents_keep_their_types_in_the_key() -> None:
    store = B.platform.ta_store()
    as_tuple = tuple(copy.deepcopy(store))
    assert document_key(store) != document_key(as_tuple)
    assert document_key(as_tuple) is None  # not plain JSON: never cached
    assert document_key({"a": 1}) != document_key({"a": True})
    assert document_key({"a": 1}) != document_key({"a": 1.0})
    # a tuple-wrapped store is one unknown entry today: still rejected after a warm accept
    assert _verify(collateral=Collateral(documents=(store,))).accepted
    with pytest.raises(CollateralUnavailable):
        _verify(collateral=Collateral(documents=(as_tuple,)))


def test_same_key_twice_as_objects() -> None:
    twin = CcaTokenBuilder().platform.cpak.public_key()
    assert twin is not CPAK
    assert _verify(collateral=Collateral(public_keys=(twin,))).accepted
    assert _verify(collateral=Collateral(public_keys=(CPAK,))).accepted


# --- CBOR: the claim-set fast path is as strict as the scanner ------------------------------


def _reference(data: bytes, tags: frozenset[int]) -> Any:
    cbor_mod.check_cbor(data, "x", tags=tags)
    try:
        return cbor2.loads(data, **cbor_mod._LOADS)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise MalformedEvidence(f"undecodable CBOR ({exc})", field="x") from None


def _result(fn: Any, data: bytes, tags: frozenset[int]) -> tuple[Any, ...]:
    try:
        return ("ok", repr(fn(data, tags)))
    except CocoverifyError as exc:
        return ("err", type(exc), str(exc), getattr(exc, "offset", None), exc.reason)


def _dense(data: bytes, tags: frozenset[int]) -> Any:
    return cbor_mod.decode_cbor(data, "x", tags=tags, dense=True)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    if depth > 18 or rng.random() < 0.35:
        return rng.choice(
            [
                rng.randrange(-300, 70000),
                rng.randrange(2**64 - 2, 2**64 + 2),
                -rng.randrange(2**64 - 2, 2**64 + 2),
                rng.randbytes(rng.randrange(40)),
                "t" * rng.randrange(30),
                True,
                None,
                1.5,
                float("inf"),
                cbor2.CBORSimpleValue(rng.choice([0, 19, 32, 255])),
                cbor2.undefined,
            ]
        )
    kind = rng.randrange(4)
    if kind == 0:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if kind == 1:
        keys = [rng.choice([rng.randrange(-9, 300), f"k{rng.randrange(5)}"]) for _ in range(3)]
        return {k: _random_value(rng, depth + 1) for k in keys}
    if kind == 2:
        tag = rng.choice([18, 907, 1, 2, 24, 258, 55799, 100000])
        return cbor2.CBORTag(tag, _random_value(rng, depth + 1))
    return [_random_value(rng, depth + 1)]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randrange(1, 4)):
        if not out:
            out.append(rng.randrange(256))
            continue
        i = rng.randrange(len(out))
        choice = rng.randrange(4)
        if choice == 0:
            out[i] = rng.randrange(256)
        elif choice == 1:
            out.insert(i, rng.randrange(256))
        elif choice == 2:
            del out[i]
        else:
            out += bytes(rng.randrange(1, 3))
    return bytes(out)


HAND_MADE = [
    "1817", "1900ff", "f810", "f805", "1c", "5f41ff41ffff", "a201010101", "c101", "0101",
    "43aabb", "a3", "f93c00", "fa3fc00000", "fb3ff0000000000000", "c249010000000000000000",
    "c24101", "d9d9f700", "d901028101", "f7", "f820", "1b0000000100000000",
    "3bffffffffffffffff", "8181818181818181818181818181818100",
    "818181818181818181818181818181818100", "a201f6f93c00f6", "62c328",
]  # fmt: skip


def test_claim_set_decoding_equals_scanner_then_decoder() -> None:
    rng = random.Random(2024)
    top = cbor2.loads(TOKEN)
    seeds = [TOKEN, *(bytes.fromhex(h) for h in HAND_MADE)]
    for entry in top.value.values():
        sign1 = cbor2.loads(entry[1]).value
        seeds += [entry[1], sign1[0], sign1[2]]
    tag_sets = [frozenset(), frozenset({18}), frozenset({907, 399, 18}), frozenset({1, 2, 258})]
    taken = 0
    for i in range(4000):
        roll = rng.random()
        if roll < 0.15:
            data = rng.choice(seeds)
        elif roll < 0.45:
            data = _mutate(rng, rng.choice(seeds))
        else:
            data = cbor2.dumps(_random_value(rng), canonical=rng.random() < 0.3)
            if rng.random() < 0.4:
                data = _mutate(rng, data)
        tags = rng.choice(tag_sets)
        expected = _result(_reference, data, tags)
        got = _result(_dense, data, tags)
        assert got == expected, (i, data.hex(), tags)
        taken += expected[0] == "ok"
    assert taken > 1000


@pytest.mark.parametrize("size", [0, 1, 23, 24, 255, 256, 65535, 65536])
def test_sig_structure_is_what_cbor2_writes(size: int) -> None:
    sign1 = cose.CoseSign1(
        protected=b"\xa1\x01\x38\x22" * (1 + size // 400),
        alg=-35,
        kid=None,
        payload=bytes(size),
        signature=b"",
    )
    expected = cbor2.dumps(["Signature1", sign1.protected, b"", sign1.payload])
    assert sign1.to_be_signed() == expected


def test_rak_key_parse_is_memoised_by_bytes_only() -> None:
    raw = B.rak_bytes()
    assert cose.parse_ec2_key(raw, "realm.public_key") == cose.parse_ec2_key(
        bytes(bytearray(raw)), "realm.public_key"
    )
    with pytest.raises(MalformedEvidence):
        cose.parse_ec2_key(bytearray(raw[:-1]), "realm.public_key")  # type: ignore[arg-type]


# --- the common layouts read without the generic decoder ---------------------------------------


def _token_outcome(data: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", repr(cca_parse.parse_token(data)))
    except CocoverifyError as exc:
        return ("err", type(exc), str(exc), getattr(exc, "field", None), exc.reason)


def _layout_inputs() -> list[bytes]:
    rng = random.Random(77)
    bases = [
        TOKEN,
        B.with_container("collection-399").sign(),
        B.with_headers("realm", {1: -35}, {4: b"kid"}).sign(),
        B.with_signature_defect("realm", "empty").sign(),
    ]
    bases += [c[1] for c in _cca_cases()[:20]]
    out = list(bases)
    for base in bases:
        heads = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
        for _ in range(60):
            data = bytearray(base)
            for _ in range(rng.randrange(1, 3)):
                at = rng.choice(heads) if rng.random() < 0.6 else rng.randrange(len(data))
                if at < len(data):
                    data[at] = rng.choice([rng.randrange(256), data[at] ^ 1, 0x58, 0x59, 0xA0])
            if rng.random() < 0.2:
                data = data[: rng.randrange(len(data))]
            if rng.random() < 0.1:
                data += b"\x00"
            out.append(bytes(data))
    return out


def test_common_layouts_equal_the_generic_path(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = _layout_inputs()
    fast = [_token_outcome(d) for d in inputs]
    monkeypatch.setattr(cca_parse, "_common_collection", lambda data: None)
    monkeypatch.setattr(cose, "_common_sign1", lambda data: None)
    _cold()
    generic = [_token_outcome(d) for d in inputs]
    assert sum(o[0] == "ok" for o in generic) >= 4
    for data, a, b in zip(inputs, fast, generic, strict=True):
        assert a == b, data[:32].hex()


def test_bstr_heads_must_be_the_shortest() -> None:
    assert cose.bstr_at(b"\x43abc", 0) == (1, 4)
    assert cose.bstr_at(b"\x58\x03abc", 0) is None  # 3 in two bytes
    assert cose.bstr_at(b"\x58\x18" + bytes(24), 0) == (2, 26)
    assert cose.bstr_at(b"\x59\x00\xff" + bytes(255), 0) is None
    assert cose.bstr_at(b"\x59\x01\x00" + bytes(255), 0) is None  # one byte short
    assert cose.bstr_at(b"\x5f\x41a\xff", 0) is None  # indefinite
    assert cose.bstr_at(b"\x63abc", 0) is None  # a text string
    assert cose.bstr_at(b"", 0) is None


def test_platform_verification_is_kept_per_token_and_collateral_content(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The platform signature is verified once per (platform token, collateral content): a
    new realm token of the same boot reuses it; the same platform token under collateral
    with another CPAK, or a platform token with one byte of its signature changed, does not."""
    _cold()
    calls: list[int] = []
    real = cca_pipeline.verify_platform

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real(*args, **kw)

    monkeypatch.setattr(cca_pipeline, "verify_platform", counted)
    for i in range(3):
        assert _verify(B.with_challenge(bytes([i]) * 64).sign()).accepted
    assert len(calls) == 1
    other = ec_key("another-cpak", "P-384").public_key()
    with pytest.raises(SignatureInvalid):
        _verify(collateral=Collateral(public_keys=(other,)))
    with pytest.raises(SignatureInvalid):
        _verify(B.with_signature_defect("platform", "bitflip").sign())
    assert len(calls) == 3
    assert len(cca_pipeline._VERIFIED) <= cca_pipeline.MAX_VERIFIED_PLATFORMS
