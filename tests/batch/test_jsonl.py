"""Batch records cost little per item and stay exact (batch/jsonl.py, batch/platform.py
``shared_facts``): every JSON line is byte for byte what the encoder writes, the shared
``platform`` object equals ``platform_facts`` for every vector, warm or cold, and refuses
changes."""

from __future__ import annotations

import copy
import dataclasses
import datetime as _dt
import enum
import io
import json
import pickle
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from cryptography import x509

import cocoverify
from cocoverify.batch import (
    SLIM_KEYS,
    BatchConfig,
    InlineExecutor,
    platform_facts,
    record_exit_code,
    verify_many,
    verify_many_lines,
)
from cocoverify.batch import platform as platform_mod
from cocoverify.batch.jsonl import ENCODER, ReadOnlyDict, ReadOnlyList, read_only, record_line
from cocoverify.batch.platform import SHARED_MAX, shared_facts
from cocoverify.batch.record import record_and_line, record_for
from cocoverify.cli.output import write_json
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.errors import CocoverifyError, MalformedEvidence, Reason

from _shared.batch import SAMPLE, SAMPLE_AT, SAMPLE_ROOT, project_items


class _Color(enum.IntEnum):
    RED = 1


class _Text(str):
    pass


ODD_RECORDS: list[dict[str, Any]] = [
    {"path": 'é\u2028x"\\\n\t\x00', "skipped": "not evidence"},
    {"path": "bad-\udcff-surrogate", "accepted": False, "tee": None, "exit_code": 1},
    {"path": "q", "accepted": True, "exit_code": 0, "claims": {"isv_svn": 2}, "n": 1.5},
    {"path": "q", "accepted": False, "reason": None, "advisory_ids": ["INTEL-SA-1", "é"]},
    {"path": "q", "advisory_ids": [1, None, "x"], "nan": float("nan"), "big": 10**30},
    {"path": "q", "enum": _Color.RED, "sub": _Text("t"), "t": (1, "2"), "b": True},
    {"path": "q", "claims": {"a": {"b": [1, {"c": None}]}, "e": [], "f": False, "g": -3}},
    {"path": "q", 1: "int key", None: "none key", 2.5: "float key", False: "bool key"},
    {"path": "q", "platform": read_only({"kind": "FMSPC", "update": {"below": ["x"]}})},
    {},
]


@pytest.mark.parametrize("rec", ODD_RECORDS)
def test_record_line_is_what_the_encoder_and_write_json_write(rec: dict[str, Any]) -> None:
    assert record_line(rec) == ENCODER.encode(rec)
    buf = io.StringIO()
    write_json(rec, buf)
    assert buf.getvalue() == record_line(rec) + "\n"


def test_every_project_vector_line_equals_the_encoder_twice() -> None:
    items = project_items()[1]
    first = list(verify_many(items, executor=InlineExecutor()))
    again = list(verify_many_lines(items, executor=InlineExecutor()))  # warm: cached platforms
    pooled = list(verify_many_lines(items, max_workers=2, chunksize=7))
    assert [r for r, _ in again] == first == [r for r, _ in pooled]
    with_platform = 0
    for rec, (_, line), (_, pooled_line) in zip(first, again, pooled, strict=True):
        assert record_line(rec) == ENCODER.encode(rec) == line == pooled_line
        if rec.get("platform") is not None:
            with_platform += 1
            assert type(rec["platform"]) is ReadOnlyDict
            assert rec["platform"].json == ENCODER.encode(rec["platform"])
    assert with_platform > 10
    assert {r["exit_code"] for r in first} >= {0, 2, 3, 4, 5}  # accepted and every rejection
    # slim: the same lines; records cut to SLIM_KEYS (what the CLI reads besides the line)
    slim = list(verify_many_lines(items, max_workers=2, chunksize=7, slim=True))
    assert [line for _, line in slim] == [line for _, line in pooled]
    for rec, (cut, _) in zip(first, slim, strict=True):
        assert cut == {k: rec[k] for k in SLIM_KEYS if k in rec}
        assert record_exit_code(cut) == record_exit_code(rec)


def test_record_and_line_for_ids_errors_and_odd_values() -> None:
    if not (SAMPLE / "tdx" / "collateral").is_dir():
        pytest.skip("vectors/sample not generated")
    v, coll, quotes = _sample()
    result = _verify(v, quotes[1], SAMPLE_AT)
    rejected = dataclasses.replace(result, accepted=False, reason=Reason.POLICY_REJECTED)
    error = MalformedEvidence('bad \u2028 "quote"', reason=Reason.TRUNCATED)
    for outcome in (result, rejected, error):
        for path in ("q.bin", 'é/\udcff"x'):
            for item_id in (None, "line-7", "é"):
                rec, line = record_and_line(path, outcome, collateral=coll, item_id=item_id)
                assert rec == record_for(path, outcome, collateral=coll, item_id=item_id)
                assert line == ENCODER.encode(rec)
    rec, line = record_and_line(7, result, collateral=coll, item_id=3)  # type: ignore[arg-type]
    assert line == ENCODER.encode(rec)


def _verify(v: cocoverify.Verifier, data: bytes, at: str) -> cocoverify.VerificationResult:
    try:
        return v.verify(data, at=at)
    except CocoverifyError as exc:
        assert exc.result is not None
        return exc.result


def _sample() -> tuple[cocoverify.Verifier, Collateral, list[bytes]]:
    trust = cocoverify.TrustStore.from_certificates(
        intel=x509.load_pem_x509_certificates(SAMPLE_ROOT.read_bytes())
    )
    coll = load_collateral([str(SAMPLE / "sgx" / "collateral"), str(SAMPLE / "tdx" / "collateral")])
    quotes = [(SAMPLE / tee / "quote.bin").read_bytes() for tee in ("sgx", "tdx")]
    return cocoverify.Verifier(trust=trust, collateral=coll), coll, quotes


def test_shared_facts_equal_platform_facts_cold_and_warm() -> None:
    if not (SAMPLE / "sgx" / "collateral").is_dir():
        pytest.skip("vectors/sample not generated")
    v, coll, quotes = _sample()
    for data in quotes:
        cold = _verify(v, data, SAMPLE_AT)
        warm = _verify(v, data, SAMPLE_AT)
        want = platform_facts(warm, coll)
        for result in (cold, warm):
            got = shared_facts(result, coll)
            assert got == want == platform_facts(result, coll)
            assert got.json == ENCODER.encode(want)
        # one platform state, one object: computed once
        assert shared_facts(warm, coll) is shared_facts(_verify(v, data, SAMPLE_AT), coll)


_EARLY = _dt.datetime(2020, 1, 1, tzinfo=_dt.UTC)


def test_anything_platform_facts_reads_is_in_the_key() -> None:
    if not (SAMPLE / "sgx" / "collateral").is_dir():
        pytest.skip("vectors/sample not generated")
    v, coll, quotes = _sample()
    base = _verify(v, quotes[1], SAMPLE_AT)
    claims = dict(base.claims)
    pck = dict(claims["pck"])
    later = base.tcb_date + _dt.timedelta(days=1) if base.tcb_date else None
    variants = [
        dataclasses.replace(base, tcb_date=later),
        dataclasses.replace(base, tcb_status=None),
        dataclasses.replace(base, tee="sgx"),
        dataclasses.replace(
            base, claims=MappingProxyType({**claims, "pck": MappingProxyType({**pck, "ca": "x"})})
        ),
        dataclasses.replace(base, claims=MappingProxyType({**claims, "tee_tcb_svn": b"\x00" * 16})),
        dataclasses.replace(base, claims=MappingProxyType({**claims, "product": "Other"})),
        dataclasses.replace(base, claims=MappingProxyType({**claims, "fmspc": b"\x01" * 6})),
        dataclasses.replace(
            base, collateral=MappingProxyType({**base.collateral, "pck_crl_next_update": _EARLY})
        ),
        # plain (mutable) dicts are never cached, and still described right
        dataclasses.replace(base, claims={**claims, "pck": {**pck, "ca": "y"}}),
    ]
    before = shared_facts(base, coll)
    for i, variant in enumerate(variants):
        want = platform_facts(variant, coll)
        assert want != before, i  # each variant really describes another platform state
        assert shared_facts(variant, coll) == want, i
        assert shared_facts(variant, coll).json == ENCODER.encode(want)
    assert shared_facts(base, Collateral()) == platform_facts(base, Collateral())
    assert shared_facts(base, None) == platform_facts(base, None)


def test_the_cache_is_bounded() -> None:
    if not (SAMPLE / "tdx" / "collateral").is_dir():
        pytest.skip("vectors/sample not generated")
    v, coll, quotes = _sample()
    base = _verify(v, quotes[1], SAMPLE_AT)
    for i in range(SHARED_MAX + 10):
        claims = MappingProxyType({**base.claims, "product": f"p{i}"})
        facts = shared_facts(dataclasses.replace(base, claims=claims), coll)
        assert facts["label"].startswith(f"p{i}, ")
        assert len(platform_mod._shared) <= SHARED_MAX


def test_the_shared_platform_object_refuses_changes_and_travels() -> None:
    facts = read_only({"kind": "FMSPC", "update": {"below": ["a"]}, "tcb": None})
    for change in (
        lambda: facts.__setitem__("kind", "x"),
        lambda: facts.__delitem__("kind"),
        lambda: facts.update(kind="x"),
        lambda: facts.pop("kind"),
        lambda: facts.setdefault("new", 1),
        lambda: facts.popitem(),
        facts.clear,
        lambda: facts["update"].__setitem__("below", []),
        lambda: facts["update"]["below"].append("b"),
        lambda: facts["update"]["below"].__setitem__(0, "b"),
        lambda: facts["update"]["below"].extend(["b"]),
        lambda: facts["update"]["below"].sort(),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change()
    with pytest.raises(TypeError):
        facts |= {"x": 1}
    assert facts == {"kind": "FMSPC", "update": {"below": ["a"]}, "tcb": None}
    for back in (pickle.loads(pickle.dumps(facts)), copy.deepcopy(facts), copy.copy(facts)):
        assert back == facts and type(back) is ReadOnlyDict and back.json == facts.json
        assert type(back["update"]["below"]) is ReadOnlyList
    plain = json.loads(json.dumps(facts))
    plain["kind"] = "changed"  # a copy is a plain dict again
    assert facts["kind"] == "FMSPC"


def test_records_through_a_process_pool_keep_their_lines(tmp_path: Path) -> None:
    if not (SAMPLE / "tdx" / "quote.bin").is_file():
        pytest.skip("vectors/sample not generated")
    trust = cocoverify.TrustStore.from_certificates(
        intel=x509.load_pem_x509_certificates(SAMPLE_ROOT.read_bytes())
    )
    cfg = BatchConfig.create(
        trust=trust,
        at=SAMPLE_AT,
        collateral=[str(SAMPLE / "sgx" / "collateral"), str(SAMPLE / "tdx" / "collateral")],
    )
    paths = [str(SAMPLE / tee / "quote.bin") for tee in ("sgx", "tdx") * 3]
    pooled = list(verify_many(paths, config=cfg, max_workers=2, chunksize=6))
    inline = list(verify_many(paths, config=cfg, executor=InlineExecutor()))
    assert pooled == inline
    assert [record_line(r) for r in pooled] == [ENCODER.encode(r) for r in inline]
    # warm verifications of one platform share one object, pickled once per chunk
    assert pooled[2]["platform"] is pooled[4]["platform"]
