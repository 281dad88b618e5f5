"""Caching never changes an SNP verdict (tee/snp/facts.py, authenticate.py): cold and warm
runs give the same output, what depends on the verification time or the report is checked
on every call, and content (not object identity) decides every cache hit."""

from __future__ import annotations

import datetime as _dt
import json
import random
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from cocoverify import (
    ChainInvalid,
    CollateralInvalid,
    CollateralUnavailable,
    Policy,
    Reason,
    Revoked,
    SignatureInvalid,
    load_collateral,
    verify,
)
from cocoverify.collateral import Collateral
from cocoverify.tee.snp import authenticate, facts, warm
from cocoverify.tee.snp.chain import cert_role
from cocoverify.tee.snp.memo import Failure, Lru, ObjectMemo, Rerun, capture
from cocoverify.tee.snp.parse import REPORT_SIZE, SIGNED_SIZE, parse_report
from cocoverify.trust import TrustStore

from _shared import require_shared
from _shared.snp import AT, MB, TRUST, G, M, der_of, rejects, verify_with

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "golden"))
import outputs

GOLDEN: dict[str, Any] = json.loads((outputs.HERE / "outputs.json").read_text())
SHARED_AMD = outputs.SHARED / "amd"


def _snp_cases() -> list[tuple[str, bytes, dict[str, Any]]]:
    """Every golden case of SNP evidence: the real vectors and the project's SNP vectors."""
    out = []
    for cid, evidence, kw in outputs.cases():
        if cid.startswith(("amd/", "project/snp.")):
            out.append((cid, evidence, kw))
    return out


def _outcome(evidence: bytes, kw: dict[str, Any]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return json.loads(json.dumps(outputs.outcome(evidence, **kw)))


def _cold() -> None:
    facts.clear_caches()
    authenticate.clear_caches()
    warm.clear_caches()


def test_cold_warm_and_shuffled_outputs_equal_the_golden_file() -> None:
    cases = _snp_cases()
    assert any(cid.startswith("project/") for cid, _, _ in cases)
    for cid, evidence, kw in cases:
        _cold()
        assert _outcome(evidence, kw) == GOLDEN[cid], f"cold {cid}"
        assert _outcome(evidence, kw) == GOLDEN[cid], f"warm {cid}"
    shuffled = list(cases)
    random.Random(9).shuffle(shuffled)
    for cid, evidence, kw in shuffled:
        assert _outcome(evidence, kw) == GOLDEN[cid], f"shuffled {cid}"


def test_four_threads_equal_sequential() -> None:
    cases = _snp_cases()
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


# --- what is checked on every call ----------------------------------------------------------


def test_tampered_report_with_a_warm_chain_is_rejected() -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep)
    assert verify_with(rep, vcek, M.ask, M.ark).accepted
    # MEASUREMENT, REPORT_DATA, HOST_DATA, the signature's R
    for offset in (0x090, 0x050, 0x0C0, SIGNED_SIZE):
        bad = bytearray(rep)
        bad[offset] ^= 0x01
        rejects(SignatureInvalid, Reason.SIGNATURE_INVALID, bytes(bad), vcek, M.ask, M.ark)
    assert verify_with(rep, vcek, M.ask, M.ark).accepted


def test_tampered_real_report_with_a_warm_chain_is_rejected() -> None:
    require_shared("amd")
    base = SHARED_AMD / "ms-genoa-v3-vcek"
    coll = load_collateral([base / "vcek.pem", base / "ask.pem", base / "ark.pem"])
    report = (base / "report.bin").read_bytes()
    at = "2026-02-06T00:00:00Z"
    assert verify(report, collateral=coll, at=at).accepted
    bad = bytearray(report)
    bad[0x090] ^= 0x80  # MEASUREMENT
    with pytest.raises(SignatureInvalid):
        verify(bytes(bad), collateral=coll, at=at)


def _real(name: str) -> tuple[bytes, Collateral, dict[str, Any]]:
    require_shared("amd")
    manifest = json.loads((SHARED_AMD / "MANIFEST.json").read_text())
    case = next(c for c in manifest["cases"] if c["id"] == name)
    base = SHARED_AMD / case["dir"]
    files = case["files"]
    coll = load_collateral([base / files[r] for r in outputs.AMD_ROLES if r in files])
    return (base / files["report"]).read_bytes(), coll, case


def test_validity_is_checked_at_every_time_after_a_warm_accept() -> None:
    report, coll, case = _real("ms-turin-v5-vcek")
    assert verify(report, collateral=coll, at=case["verification_time"]).accepted
    vcek = next(c for c in coll.certificates if cert_role(c)[0] == "vcek")
    after = vcek.not_valid_after_utc + _dt.timedelta(seconds=1)
    before = vcek.not_valid_before_utc - _dt.timedelta(seconds=1)
    with pytest.raises(ChainInvalid) as err:
        verify(report, collateral=coll, at=after)
    assert err.value.reason is Reason.CERTIFICATE_EXPIRED
    with pytest.raises(ChainInvalid) as err:
        verify(report, collateral=coll, at=before)
    assert err.value.reason is Reason.CERTIFICATE_NOT_YET_VALID
    assert verify(report, collateral=coll, at=case["verification_time"]).accepted


def test_crl_window_is_checked_at_every_time_after_a_warm_accept() -> None:
    report, coll, case = _real("openpcc-azure-genoa-v3-vcek")
    res = verify(report, collateral=coll, at=case["verification_time"])
    assert res.collateral["revocation_checked"] is True
    crl = coll.crls[0]
    assert crl.next_update_utc is not None
    late = crl.next_update_utc + _dt.timedelta(seconds=1)
    with pytest.raises(CollateralInvalid) as err:
        verify(report, collateral=coll, at=late)
    assert err.value.reason is Reason.CRL_EXPIRED
    assert verify(report, collateral=coll, at=case["verification_time"]).accepted


def test_fake_crl_window_after_a_warm_accept() -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep)
    at = AT
    crl = M.crl(this_update=at - _dt.timedelta(days=1), next_update=at + _dt.timedelta(days=1))
    coll = Collateral(chains=((vcek,), (M.ask,), (M.ark,)), crls=(crl,))
    assert verify(rep, collateral=coll, trust=TRUST, at=at).accepted
    with pytest.raises(CollateralInvalid) as err:
        verify(rep, collateral=coll, trust=TRUST, at=at - _dt.timedelta(days=2))
    assert err.value.reason is Reason.CRL_NOT_YET_VALID
    with pytest.raises(CollateralInvalid) as err:
        verify(rep, collateral=coll, trust=TRUST, at=at + _dt.timedelta(days=2))
    assert err.value.reason is Reason.CRL_EXPIRED


def test_fake_chain_expiry_after_a_warm_accept() -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep)
    coll = Collateral(chains=((vcek,), (M.ask,), (M.ark,)))
    assert verify(rep, collateral=coll, trust=TRUST, at=AT).accepted
    with pytest.raises(ChainInvalid) as err:
        verify(rep, collateral=coll, trust=TRUST, at=vcek.not_valid_after_utc.replace(year=2100))
    assert err.value.reason is Reason.CERTIFICATE_EXPIRED


def test_revoked_after_adding_a_crl() -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep)
    assert verify_with(rep, vcek, M.ask, M.ark).accepted
    rejects(Revoked, Reason.CERTIFICATE_REVOKED, rep, vcek, M.ask, M.ark, M.crl(revoked=[1]))
    rejects(Revoked, Reason.CERTIFICATE_REVOKED, rep, vcek, M.ask, M.ark, M.crl(revoked=[0x010001]))
    assert verify_with(rep, vcek, M.ask, M.ark, M.crl()).collateral["revocation_checked"] is True
    assert verify_with(rep, vcek, M.ask, M.ark).collateral["revocation_checked"] is False
    rejects(
        CollateralUnavailable,
        Reason.CRL_MISSING,
        rep,
        vcek,
        M.ask,
        M.ark,
        policy=Policy(require_crl=True),
    )


def test_a_warm_chain_under_another_trust_store_is_untrusted() -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep)
    assert verify_with(rep, vcek, M.ask, M.ark).accepted
    other = TrustStore.from_certificates(amd={"Milan": [G.ark], "Genoa": [G.ark]})
    rejects(ChainInvalid, Reason.UNTRUSTED_ROOT, rep, vcek, M.ask, M.ark, trust=other)
    assert verify_with(rep, vcek, M.ask, M.ark).accepted


# --- content decides --------------------------------------------------------------------------


def _flip_inside_tbs(cert: x509.Certificate, needle: bytes) -> x509.Certificate:
    der = bytearray(der_of(cert))
    at = bytes(der).index(needle)
    der[at] ^= 0x01
    return x509.load_der_x509_certificate(bytes(der))


def test_same_signature_bytes_other_content_is_not_a_hit() -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep)
    assert verify_with(rep, vcek, M.ask, M.ark).accepted
    hwid = parse_report(rep).chip_id[:64]
    forged = _flip_inside_tbs(vcek, hwid)
    assert forged.signature == vcek.signature and der_of(forged) != der_of(vcek)
    rejects(ChainInvalid, Reason.CHAIN_INVALID, rep, forged, M.ask, M.ark)
    assert verify_with(rep, vcek, M.ask, M.ark).accepted


def test_equal_certificates_loaded_twice_share_a_record() -> None:
    rep = MB.sign(M)
    vcek = M.vcek_for(rep)
    twin = x509.load_der_x509_certificate(der_of(vcek))
    assert twin is not vcek
    assert facts.cert_info(twin) == facts.cert_info(vcek)
    assert verify_with(rep, twin, M.ask, M.ark).accepted


def test_table_and_collateral_records_agree() -> None:
    vcek = M.vcek()
    from_table = facts.cert_info_der(der_of(vcek))
    from_object = facts.cert_info(vcek)
    assert from_table == from_object
    assert (from_table.role, from_table.point) == (from_object.role, from_object.point)


def test_signed_bytes_are_the_received_prefix() -> None:
    rep = MB.sign(M)
    assert parse_report(rep).signed_bytes() == rep[:SIGNED_SIZE]
    assert len(rep) == REPORT_SIZE


# --- the helpers --------------------------------------------------------------------------------


def test_lru_is_bounded_and_keeps_recent_entries() -> None:
    lru: Lru[int, int] = Lru(3)
    for i in range(10):
        assert lru.get_or_make(i, lambda i=i: i * i) == i * i
    assert len(lru) == 3
    assert lru.get_or_make(9, lambda: -1) == 81  # still held
    assert lru.get_or_make(0, lambda: -1) == -1  # evicted, made again


def test_object_memo_is_bounded() -> None:
    memo: ObjectMemo[bytes, int] = ObjectMemo(
        lambda b: b[:1], bytes, admit=lambda b: None, maxsize=2, per_bucket=2
    )
    items = [bytes([i, j]) for i in range(4) for j in range(3)]
    for item in items:
        memo.lookup(item, lambda obj, der: len(der))
    assert len(memo._buckets) == 2
    assert all(len(bucket) <= 2 for bucket in memo._buckets.values())


def test_failures_are_raised_afresh() -> None:
    def boom() -> None:
        raise ChainInvalid("broken", reason=Reason.CHAIN_INVALID)

    captured = capture(boom)
    assert isinstance(captured, Failure)
    errors = []
    for _ in range(2):
        with pytest.raises(ChainInvalid) as err:
            captured.check()
        errors.append(err.value)
    assert errors[0] is not errors[1]
    assert [(str(e), e.reason) for e in errors] == [
        ("chain_invalid: broken", Reason.CHAIN_INVALID)
    ] * 2

    def odd() -> None:
        raise ValueError("not a CocoverifyError")

    rerun = capture(odd)
    assert isinstance(rerun, Rerun)
    with pytest.raises(ValueError, match="not a CocoverifyError"):
        rerun.check()
