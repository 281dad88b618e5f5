"""Caching never changes a verdict (tee/intel/prepared.py, pck.py, verify.py, parse.py).

Every scenario's outcome with warm tables (filled by the other scenarios, in two orders, and
from 4 threads) equals its outcome from empty tables. The scenarios change one thing at a
time against a quote whose platform is already cached: the collateral (a revoked PCK or PCK
CA, a document signed by another key, another QE identity), the verification time, the
pinned roots, or the quote itself with the same PCK chain bytes (a bad quote signature, a QE
report signed by another key, QE auth data that no longer binds the attestation key).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import random
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import cache
from types import MappingProxyType
from typing import Any

import pytest
from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import CocoverifyError, Collateral, Policy, TrustStore, Verifier, load_collateral
from cocoverify._core import x509 as x509_core
from cocoverify._core.x509 import pem_blocks
from cocoverify.reasons import Reason
from cocoverify.result import freeze
from cocoverify.tee.intel import prepared
from cocoverify.tee.intel.cache import Memo
from cocoverify.tee.intel.parse import parse_quote
from cocoverify.tee.intel.pck import CAS, PckPlan
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import NOW, FakeIntelPKI, PckSpec, QuoteBuilder

from _shared import SHARED_VECTORS
from _shared.intel import PKI, TRUST, collateral

DAY = _dt.timedelta(days=1)
POLICY = Policy()
OTHER_TRUST = TrustStore(intel_roots=frozenset({"00" * 32}))

Outcome = dict[str, Any]
Scenario = tuple[bytes, Collateral, TrustStore, _dt.datetime, Reason | None]


def outcome(verifier: Verifier, quote: bytes, at: _dt.datetime) -> Outcome:
    """The full result, or the error (type, reason, message, result)."""
    try:
        return {"result": verifier.verify(quote, at=at).to_dict()}
    except CocoverifyError as exc:
        return {
            "error": type(exc).__name__,
            "reason": exc.reason.value,
            "message": str(exc.args[0]),
            "result": exc.result.to_dict() if exc.result is not None else None,
        }


def _revoking(pki: FakeIntelPKI, tee: str, what: str) -> FakeIntelPKI:
    ca = "processor" if tee == "sgx" else "platform"
    if what == "pck":
        serial = (fi.sgx_pck() if tee == "sgx" else fi.tdx_pck()).serial
        knob = f"{ca}_crl_knobs"
        return pki.but(**{knob: replace(getattr(pki, knob), revoked=(serial,))})
    ca_serial = pki.processor_ca.serial if ca == "processor" else pki.platform_ca.serial
    return pki.but(root_crl_knobs=replace(pki.root_crl_knobs, revoked=(ca_serial,)))


@cache
def scenarios(tee: str) -> dict[str, Scenario]:
    """name -> (quote, collateral, trust, at, expected reason or None)."""
    builder = QuoteBuilder.sgx() if tee == "sgx" else QuoteBuilder.tdx()
    good = builder.build(PKI)
    quote = good.data
    coll = collateral(tee)
    sig = good.field("signature")
    qe_auth = good.field("qe_auth_data" if tee == "sgx" else "qe_cert_data.qe_auth_data")
    qe_body = fi.sgx_qe_identity if tee == "sgx" else fi.td_qe_identity
    tcb_body = fi.sgx_tcb_info if tee == "sgx" else fi.tdx_tcb_info
    out: dict[str, Scenario] = {
        "accepted": (quote, coll, TRUST, NOW, None),
        "pck_revoked": (
            quote,
            collateral(tee, pki=_revoking(PKI, tee, "pck")),
            TRUST,
            NOW,
            Reason.CERTIFICATE_REVOKED,
        ),
        "pck_ca_revoked": (
            quote,
            collateral(tee, pki=_revoking(PKI, tee, "ca")),
            TRUST,
            NOW,
            Reason.CERTIFICATE_REVOKED,
        ),
        "tcb_info_signed_by_another_key": (
            quote,
            collateral(tee, tcb=PKI.tcb_info_body(tcb_body(), signer="rogue-tcb-signer")),
            TRUST,
            NOW,
            Reason.COLLATERAL_SIGNATURE_INVALID,
        ),
        "another_qe_identity": (
            quote,
            collateral(tee, qe=PKI.qe_identity_body(qe_body(mrsigner=b"\x42" * 32))),
            TRUST,
            NOW,
            Reason.QE_IDENTITY_MISMATCH,
        ),
        "pck_crl_stale_later": (quote, coll, TRUST, NOW + 25 * DAY, Reason.CRL_EXPIRED),
        "tcb_info_not_yet_valid_earlier": (
            quote,
            coll,
            TRUST,
            _dt.datetime(2025, 5, 20, 10, 15, tzinfo=_dt.UTC),  # before the QE Identity
            Reason.COLLATERAL_NOT_YET_VALID,
        ),
        "pck_not_yet_valid_much_earlier": (
            quote,
            coll,
            TRUST,
            NOW - 400 * DAY,
            Reason.CERTIFICATE_NOT_YET_VALID,
        ),
        "another_pinned_root": (quote, coll, OTHER_TRUST, NOW, Reason.UNTRUSTED_ROOT),
        "bad_quote_signature": (
            builder.flip(sig.offset + 5).sign(PKI),
            coll,
            TRUST,
            NOW,
            Reason.SIGNATURE_INVALID,
        ),
        "other_report_data": (
            builder.report_data(b"\x07" * 64).sign(PKI),
            coll,
            TRUST,
            NOW,
            None,
        ),
        "body_changed_after_signing": (
            builder.flip(good.field("body.report_data").offset).sign(PKI),
            coll,
            TRUST,
            NOW,
            Reason.SIGNATURE_INVALID,
        ),
        "qe_report_signed_by_another_key": (
            builder.qe_report_signer("another-qe-report-key").sign(PKI),
            coll,
            TRUST,
            NOW,
            Reason.QE_REPORT_SIGNATURE_INVALID,
        ),
        "qe_auth_data_changed": (
            builder.flip(qe_auth.offset).sign(PKI),
            coll,
            TRUST,
            NOW,
            Reason.QE_REPORT_DATA_MISMATCH,
        ),
        # the same platform and collateral, other inputs of the TCB verdict
        "older_qe": (
            builder.qe_report_field("isv_svn", 6 if tee == "sgx" else 2).sign(PKI),
            coll,
            TRUST,
            NOW,
            Reason.TCB_STATUS_REJECTED,
        ),
        "qe_of_another_signer": (
            builder.qe_report_field("mr_signer", b"\x55" * 32).sign(PKI),
            coll,
            TRUST,
            NOW,
            Reason.QE_IDENTITY_MISMATCH,
        ),
    }
    # two TCB Infos: which one is in force depends on the verification time
    old_info = tcb_body(
        issue_date=_dt.datetime(2025, 5, 20, 10, tzinfo=_dt.UTC),
        next_update=NOW,
        evaluation_data_number=16,
    )
    new_info = tcb_body(issue_date=NOW - DAY, evaluation_data_number=18)
    both = replace(coll, tcb_infos=(PKI.tcb_info_body(old_info), PKI.tcb_info_body(new_info)))
    out["two_tcb_infos_now"] = (quote, both, TRUST, NOW, None)
    out["two_tcb_infos_before"] = (quote, both, TRUST, NOW - 2 * DAY, None)
    if tee == "tdx":
        out["older_tdx_module_tcb"] = (
            builder.tee_tcb_svn(bytes((3, 1, 1, *[0] * 13))).sign(PKI),
            coll,
            TRUST,
            NOW,
            Reason.TCB_STATUS_REJECTED,
        )
    return out


def _verifiers() -> Callable[[Collateral, TrustStore], Verifier]:
    made: dict[tuple[int, str], Verifier] = {}
    lock = threading.Lock()

    def get(coll: Collateral, trust: TrustStore) -> Verifier:
        key = (id(coll), min(trust.intel_roots))
        with lock:
            if key not in made:
                made[key] = Verifier(trust=trust, collateral=coll, policy=POLICY)
            return made[key]

    return get


@cache
def cold(tee: str) -> dict[str, Outcome]:
    """Every scenario from empty tables, with a new Verifier."""
    out = {}
    for name, (quote, coll, trust, at, _) in scenarios(tee).items():
        prepared.clear_caches()
        out[name] = outcome(Verifier(trust=trust, collateral=coll, policy=POLICY), quote, at)
    return out


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_scenarios_give_their_own_verdict_from_empty_tables(tee: str) -> None:
    for name, (*_, reason) in scenarios(tee).items():
        got = cold(tee)[name]
        assert got.get("reason") == (reason.value if reason else None), name


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_the_tcb_info_in_force_depends_on_the_time(tee: str) -> None:
    numbers = {
        name: cold(tee)[name]["result"]["collateral"]["tcb_evaluation_data_number"]
        for name in ("two_tcb_infos_now", "two_tcb_infos_before", "accepted")
    }
    assert numbers == {"two_tcb_infos_now": 18, "two_tcb_infos_before": 16, "accepted": 17}


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_the_pck_chain_bytes_are_the_same_in_every_scenario(tee: str) -> None:
    datas = {parse_quote(s[0]).certification.data for s in scenarios(tee).values()}
    assert len(datas) == 1


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_warm_tables_give_the_cold_verdict_in_any_order(tee: str) -> None:
    expected = cold(tee)
    get = _verifiers()
    names = list(scenarios(tee))
    prepared.clear_caches()
    for order in (names, names[::-1], random.Random(7).sample(names, len(names))):
        for name in order:
            quote, coll, trust, at, _ = scenarios(tee)[name]
            assert outcome(get(coll, trust), quote, at) == expected[name], name
            # the same call through a new Verifier over an equal (not identical) bag
            copy = replace(coll)
            assert copy is not coll
            fresh_verifier = Verifier(trust=trust, collateral=copy, policy=POLICY)
            assert outcome(fresh_verifier, quote, at) == expected[name], name


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_four_threads_give_the_sequential_verdicts(tee: str) -> None:
    expected = cold(tee)
    get = _verifiers()
    names = list(scenarios(tee)) * 6
    prepared.clear_caches()  # the threads race to fill the tables

    def run(seed: int) -> list[tuple[str, Outcome]]:
        order = random.Random(seed).sample(names, len(names))
        out = []
        for name in order:
            quote, coll, trust, at, _ = scenarios(tee)[name]
            out.append((name, outcome(get(coll, trust), quote, at)))
        return out

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    for per_thread in results:
        for name, got in per_thread:
            assert got == expected[name], name


# --- what the tables keep ----------------------------------------------------------------


def _distinct_platforms(n: int) -> list[bytes]:
    return [
        QuoteBuilder.sgx()
        .pck(replace(fi.sgx_pck(), key=f"intel-pck-cache-{i}", serial=0x5EED00 + i))
        .sign(PKI)
        for i in range(n)
    ]


def test_plans_keep_no_certificate_of_the_quote_and_share_the_ca_certificates() -> None:
    prepared.clear_caches()
    quotes = _distinct_platforms(3)
    v = Verifier(trust=TRUST, collateral=collateral("sgx"), policy=POLICY)
    for q in quotes:
        assert v.verify(q, at=NOW).accepted
    plans = [
        prepared.platform_for(parse_quote(q).certification.data).pck_plan(parse_quote(q))
        for q in quotes
    ]
    for plan in plans:
        certs = {
            f.name
            for f in dataclasses.fields(PckPlan)
            if isinstance(getattr(plan, f.name), x509.Certificate)
        }
        assert certs == {"intermediate", "root"}
        assert plan.intermediate is plans[0].intermediate
        assert plan.root is plans[0].root
        assert CAS.get(plan.root_fingerprint) is plan.root


def test_tables_hold_at_most_their_size(monkeypatch: pytest.MonkeyPatch) -> None:
    memo: Memo[int, int] = Memo("test", 8)
    for i in range(100):
        memo.put(i, i)
    assert len(memo) == 8
    assert memo.get(99) == 99 and memo.get(0) is None
    prepared.clear_caches()
    monkeypatch.setattr(prepared.PLATFORMS, "maxsize", 2)
    v = Verifier(trust=TRUST, collateral=collateral("sgx"), policy=POLICY)
    quotes = _distinct_platforms(5)
    for q in quotes * 2:
        assert v.verify(q, at=NOW).accepted
    assert len(prepared.PLATFORMS) == 2


def test_concurrent_puts_keep_one_value_per_key() -> None:
    memo: Memo[int, object] = Memo("test", 1000)
    barrier = threading.Barrier(4)

    def put(_: int) -> list[object]:
        barrier.wait()
        return [memo.put(k, object()) for k in range(200)]

    with ThreadPoolExecutor(4) as pool:
        stored = list(pool.map(put, range(4)))
    for k in range(200):
        assert len({id(s[k]) for s in stored}) == 1


# --- the collateral digest ---------------------------------------------------------------


def test_the_digest_is_the_content() -> None:
    a, b = collateral("sgx"), collateral("sgx")
    assert a is not b and a.digest == b.digest
    assert prepared.prepare(a, TRUST) is prepared.prepare(b, TRUST)
    assert prepared.prepare(a, TRUST) is not prepared.prepare(a, OTHER_TRUST)
    tcb = a.tcb_infos[0]
    changed = tcb.replace(b'"tcbEvaluationDataNumber":17', b'"tcbEvaluationDataNumber":18')
    assert changed != tcb
    assert replace(a, tcb_infos=(changed,)).digest != a.digest
    assert replace(a, chains=a.chains[::-1]).digest != a.digest
    assert replace(a, crls=a.crls[:1]).digest != a.digest
    assert replace(a, crls=(a.crls[1], a.crls[0])).digest != a.digest
    assert replace(a, documents=([1],)).digest != replace(a, documents=((1,),)).digest
    assert a + Collateral() is a and Collateral() + a is a


@pytest.mark.skipif(not SHARED_VECTORS.is_dir(), reason="real vectors not available")
def test_files_loaded_twice_share_one_prepared_set() -> None:
    base = SHARED_VECTORS / "intel" / "tdx-v4-dcapqvl-sample"
    one, two = load_collateral([base]), load_collateral([base])
    assert one.digest == two.digest
    assert prepared.prepare(one, TrustStore.default()) is prepared.prepare(
        two, TrustStore.default()
    )


# --- claims ------------------------------------------------------------------------------


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


def _frozen_only(value: Any) -> bool:
    if isinstance(value, Mapping):
        return isinstance(value, MappingProxyType) and all(_frozen_only(v) for v in value.values())
    if isinstance(value, list | dict | bytearray):
        return False
    if isinstance(value, tuple):
        return all(_frozen_only(v) for v in value)
    return True


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_claims_built_from_kept_parts_equal_freeze_of_the_whole(tee: str) -> None:
    quote, coll, trust, at, _ = scenarios(tee)["accepted"]
    v = Verifier(trust=trust, collateral=coll, policy=POLICY)
    for result in (v.verify(quote, at=at), v.verify(quote, at=at)):
        assert _frozen_only(result.claims) and _frozen_only(result.collateral)
        assert result.claims == freeze(_thaw(result.claims))
        assert result.collateral == result.claims["collateral"]


def test_a_new_quote_of_a_known_platform_is_checked_in_full() -> None:
    """Same platform, new report data: the quote signature is checked (a copy of the old
    signature does not carry over), and the result carries the new report data."""
    builder = QuoteBuilder.sgx()
    first = builder.report_data(b"\x01" * 64).build(PKI)
    second = builder.report_data(b"\x02" * 64).build(PKI)
    sig = first.field("signature")
    spliced = (
        second.data[: sig.offset]
        + first.data[sig.offset : sig.offset + sig.size]
        + second.data[sig.offset + sig.size :]
    )
    v = Verifier(trust=TRUST, collateral=collateral("sgx"), policy=POLICY)
    assert v.verify(first.data, at=NOW).claims["report_data"] == b"\x01" * 64
    assert v.verify(second.data, at=NOW).claims["report_data"] == b"\x02" * 64
    with pytest.raises(cocoverify.SignatureInvalid) as ei:
        v.verify(spliced, at=NOW)
    assert ei.value.reason is Reason.SIGNATURE_INVALID


def test_type1_chains_come_from_each_collateral_set() -> None:
    """Certification data type 1 carries no chain: the same quote bytes verify against a
    collateral set holding its PCK chain, and not against one holding another's."""
    quote = QuoteBuilder.sgx().cert_data_type(1).sign(PKI)
    other = PckSpec(key="intel-pck-cache-other", serial=0x0CAC4E)
    own = Collateral(chains=(PKI.pck_chain(fi.sgx_pck()),)) + collateral()
    foreign = Collateral(chains=(PKI.pck_chain(other),)) + collateral()
    prepared.clear_caches()
    for _ in range(2):
        assert Verifier(trust=TRUST, collateral=own, policy=POLICY).verify(quote, at=NOW)
        with pytest.raises(cocoverify.SignatureInvalid) as ei:
            Verifier(trust=TRUST, collateral=foreign, policy=POLICY).verify(quote, at=NOW)
        assert ei.value.reason is Reason.QE_REPORT_SIGNATURE_INVALID


def test_errors_raised_from_tables_are_new_objects() -> None:
    quote, coll, trust, at, _ = scenarios("sgx")["another_qe_identity"]
    v = Verifier(trust=trust, collateral=coll, policy=POLICY)
    errors = []
    for _ in range(2):
        with pytest.raises(cocoverify.AuthenticityError) as ei:
            v.verify(quote, at=at)
        errors.append(ei.value)
    assert errors[0] is not errors[1]
    assert str(errors[0]) == str(errors[1])


def test_a_verifier_outlives_the_tables() -> None:
    quote, coll, trust, at, _ = scenarios("tdx")["accepted"]
    v = Verifier(trust=trust, collateral=coll, policy=POLICY)
    first = v.verify(quote, at=at).to_dict()
    prepared.clear_caches()
    assert v.verify(quote, at=at).to_dict() == first


# --- reading the PCK chain ---------------------------------------------------------------

_MARKS = [
    b"-----BEGIN CERTIFICATE-----",
    b"-----END CERTIFICATE-----",
    b"-----",
    b"\n",
    b"\r\n",
    b" ",
    b"\t",
    b"-",
    b"A",
]


@given(st.lists(st.sampled_from(_MARKS) | st.binary(max_size=4), max_size=14))
@settings(max_examples=1000, deadline=None)
def test_pem_blocks_are_what_the_regular_expression_finds(parts: list[bytes]) -> None:
    data = b"".join(parts)
    assert pem_blocks(data) == [m.group(0) for m in x509_core._PEM_CERT.finditer(data)]


class _Blocks:
    def __init__(self) -> None:
        self.known: dict[bytes, x509.Certificate] = {}

    def get(self, block: bytes) -> x509.Certificate | None:
        return self.known.get(block)

    def add(self, block: bytes, cert: x509.Certificate) -> None:
        self.known[block] = cert


@pytest.mark.parametrize("der", [False, True])
def test_certificates_read_again_are_the_ones_read_before(der: bool) -> None:
    builder = QuoteBuilder.sgx().der_chain(der)
    data = parse_quote(builder.sign(PKI)).certification.data
    reuse = _Blocks()
    first = x509_core.load_certificates(data, zero_padding=True, reuse=reuse)
    assert len(reuse.known) == 3
    again = x509_core.load_certificates(data, zero_padding=True, reuse=reuse)
    assert all(a is b for a, b in zip(first, again, strict=True))
    assert again == x509_core.load_certificates(data, zero_padding=True)


def test_a_known_ca_block_does_not_hide_a_malformed_leaf() -> None:
    """The CA certificates of a platform read before, then a chain whose leaf is not a
    certificate: the same error as from empty tables."""
    good = parse_quote(QuoteBuilder.sgx().sign(PKI)).certification.data
    blocks = pem_blocks(good)
    broken = blocks[0].replace(b"MII", b"MIJ", 1) + b"\n" + b"\n".join(blocks[1:]) + b"\n"
    quote = QuoteBuilder.sgx().cert_data(broken).sign(PKI)
    v = Verifier(trust=TRUST, collateral=collateral("sgx"), policy=POLICY)
    prepared.clear_caches()
    with pytest.raises(CocoverifyError) as cold_error:
        v.verify(quote, at=NOW)
    assert v.verify(QuoteBuilder.sgx().sign(PKI), at=NOW).accepted  # CA blocks now known
    prepared.PLATFORMS.clear()
    with pytest.raises(CocoverifyError) as warm_error:
        v.verify(quote, at=NOW)
    assert str(warm_error.value) == str(cold_error.value)
    assert warm_error.value.reason is Reason.MALFORMED_CERTIFICATE
