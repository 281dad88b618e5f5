"""Adversarial review of the ecosystem layer: EAR, Rego decision, trustee adapter, KBS, batch.

Each test pins one defect found in review (it failed before the fix next to it).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import cocoverify
from cocoverify import ear, kbs, trustee
from cocoverify.batch import (
    BatchItem,
    InlineExecutor,
    batch_exit_code,
    expand_inputs,
    record_for,
    verify_many,
)
from cocoverify.cli import main
from cocoverify.errors import (
    ConfigurationError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
)
from cocoverify.integrations.rego import decide
from cocoverify.result import RuleVerdict, VerificationResult, freeze
from cocoverify_testing.pki import CertSpec, ec_key, issue, name
from test_batch import SAMPLE, SAMPLE_AT, SAMPLE_ROOT, _sample_copy
from test_kbs import AMD_PKI, VECTOR_TIME, _chain, real_case, snp_report
from test_trustee import _evidence_quote, _serde_report

AT = dt.datetime(2025, 7, 4, 10, 28, 44, tzinfo=dt.UTC)
KEY = ec_key("ear-signer-p256", "P-256")


def _result(*, accepted: bool = True, policy: tuple[RuleVerdict, ...] = ()) -> VerificationResult:
    return VerificationResult(
        accepted=accepted,
        tee="sgx",
        verified_at=AT,
        tcb_status="UpToDate",
        claims=freeze({"report_data": b"\x01" * 64, "config_id": b"\x00" * 64}),
        policy=policy,
        reason=None if accepted else Reason.POLICY_REJECTED,
    )


def _b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signed_raw(header: bytes, payload: bytes) -> str:
    """A correctly ES256-signed token over arbitrary header/payload bytes."""
    signing_input = _b64u(header) + "." + _b64u(payload)
    r, s = decode_dss_signature(KEY.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    return signing_input + "." + _b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def _verify(token: str, **kw: Any) -> dict[str, Any]:
    return ear.verify_ear(token, KEY.public_key(), at=AT, **kw)


# --- EAR verifier ---------------------------------------------------------------------------


def test_ear_non_ascii_payload_segment_is_malformed() -> None:
    # was: UnicodeEncodeError (not a CocoverifyError) while building the signing input
    h, p, s = ear.sign_ear(ear.to_ear(_result()), KEY).split(".")
    with pytest.raises(MalformedEvidence) as ei:
        _verify(f"{h}.\u00e9{p}.{s}")
    assert ei.value.reason is Reason.EAR_MALFORMED


def test_ear_deeply_nested_header_is_malformed() -> None:
    # was: RecursionError escaping from the unauthenticated header
    _, p, s = ear.sign_ear(ear.to_ear(_result()), KEY).split(".")
    deep = _b64u(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(MalformedEvidence) as ei:
        _verify(f"{deep}.{p}.{s}")
    assert ei.value.reason is Reason.EAR_MALFORMED


def test_ear_nan_in_signed_payload_is_malformed() -> None:
    # NaN/Infinity are not JSON (RFC 8259 §6); Python's json accepted them
    claims = ear.to_ear(_result())
    payload = json.dumps(claims, separators=(",", ":"))[:-1] + ',"x":NaN}'
    token = _signed_raw(b'{"alg":"ES256"}', payload.encode())
    with pytest.raises(MalformedEvidence) as ei:
        _verify(token)
    assert ei.value.reason is Reason.EAR_MALFORMED


def test_ear_status_better_than_its_vector_is_malformed() -> None:
    claims = ear.to_ear(_result())
    claims["submods"]["cpu0"]["ear.trustworthiness-vector"]["hardware"] = 96
    assert claims["submods"]["cpu0"]["ear.status"] == "affirming"
    with pytest.raises(MalformedEvidence) as ei:
        _verify(ear.sign_ear(claims, KEY))
    assert ei.value.reason is Reason.EAR_MALFORMED
    claims["submods"]["cpu0"]["ear.status"] = "contraindicated"  # consistent: accepted
    assert _verify(ear.sign_ear(claims, KEY))["submods"]["cpu0"]["ear.status"] == "contraindicated"


@pytest.mark.parametrize("at", [1.5, "2025-07-04T10:28:44Z", None])
def test_ear_time_must_be_datetime_or_int(at: Any) -> None:
    token = ear.sign_ear(ear.to_ear(_result()), KEY)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, KEY.public_key(), at=at)


@pytest.mark.parametrize("leeway", [-1, True, 1.5])
def test_ear_leeway_must_be_a_non_negative_int(leeway: Any) -> None:
    token = ear.sign_ear(ear.to_ear(_result()), KEY)
    with pytest.raises(ConfigurationError):
        _verify(token, leeway=leeway)


# --- EAR signing ----------------------------------------------------------------------------


def test_ear_signing_is_deterministic() -> None:
    claims = ear.to_ear(_result())
    assert ear.sign_ear(claims, KEY) == ear.sign_ear(claims, KEY)  # RFC 6979


def test_ear_signing_refuses_non_json_values() -> None:
    claims = ear.to_ear(_result())
    claims["x"] = float("nan")
    with pytest.raises(ConfigurationError):
        ear.sign_ear(claims, KEY)
    with pytest.raises(ConfigurationError):
        ear.sign_ear(ear.to_ear(_result()), KEY, kid=7)  # type: ignore[arg-type]


# --- AR4SI mapping: a rejection is never affirming ------------------------------------------


def _status(outcome: Any, **kw: Any) -> str:
    return str(ear.to_ear(outcome, iat=1, **kw)["submods"]["cpu0"]["ear.status"])


def test_rejected_result_with_only_passed_rules_is_contraindicated() -> None:
    rejected = _result(accepted=False, policy=(RuleVerdict("debug", True, actual=False),))
    err = PolicyRejected("no", reason=Reason.POLICY_REJECTED)
    err.result = rejected
    assert _status(err) == "contraindicated"
    assert _status(rejected) == "contraindicated"


def test_error_carrying_an_accepted_result_is_contraindicated() -> None:
    err = PolicyRejected("rego said no", reason=Reason.REGO_REJECTED)
    err.result = _result()  # e.g. a caller attaching the pre-Rego result
    assert _status(err) == "contraindicated"


def test_caller_trust_claims_cannot_affirm_a_rejection() -> None:
    err = PolicyRejected("no", reason=Reason.POLICY_REJECTED)
    err.result = _result(accepted=False)
    assert _status(err, trust_claims={"hardware": 2}) == "contraindicated"
    malformed = MalformedEvidence("bad", reason=Reason.MALFORMED)
    assert _status(malformed, trust_claims={"hardware": 2}) == "contraindicated"
    assert _status(malformed, trust_claims={}) == "none"  # nothing known: still not affirming
    assert _status(_result(), trust_claims={"hardware": 2}) == "affirming"


@pytest.mark.parametrize("value", ["2", 2.7, True, 300])
def test_to_ear_trust_claims_must_be_small_integers(value: Any) -> None:
    with pytest.raises(ConfigurationError):
        ear.to_ear(_result(), trust_claims={"hardware": value})


# --- Rego decision rule ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ({"trust_claims": {}}, False),  # trustee: no trust claim set, no token
        ({"trust_claims": {"hardware": 0, "executables": 1}}, False),  # all "none"
        ({"trust_claims": {"hardware": 2}}, True),
        ({"trust_claims": {"hardware": 32}}, True),
        ({"allow": True, "trust_claims": {}}, True),  # explicit allow
    ],
)
def test_rego_without_allow_must_affirm_something(value: dict[str, Any], allowed: bool) -> None:
    assert decide(value).allowed is allowed


# --- trustee adapter ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '{"quote": "AAAA", "quote": "AAAA"}',  # serde: duplicate field
        '{"quote": "AAAA", "x": {"a": 1, "a": 2}}',
        '{"quote": "AAAA", "x": NaN}',
        '{"quote": "AAAA", "x": -Infinity}',
    ],
)
def test_trustee_evidence_json_is_strict(text: str) -> None:
    with pytest.raises(MalformedEvidence) as ei:
        trustee.parse_evidence("sgx", text)
    assert ei.value.reason is Reason.MALFORMED
    rest = base64.urlsafe_b64encode(text.encode()).rstrip(b"=")  # AS REST form too
    with pytest.raises(MalformedEvidence):
        trustee.parse_evidence("sgx", rest)


def test_trustee_snp_duplicate_report_is_malformed() -> None:
    # the last duplicate used to win: another reader could see the first report
    report = snp_report()
    zeros, real, chain = (
        json.dumps(v) for v in (list(bytes(len(report))), list(report), _chain(report))
    )
    text = f'{{"attestation_report": {zeros}, "attestation_report": {real}, "cert_chain": {chain}}}'
    with pytest.raises(MalformedEvidence):
        trustee.evaluate("snp", text, None, None, trust=AMD_PKI.trust_store(), at=VECTOR_TIME)


def test_trustee_unknown_serde_report_keys_are_reported() -> None:
    report = snp_report()
    serde = _serde_report(report)
    serde["vmpl_override"] = 0
    ev = trustee.parse_evidence("snp", {"attestation_report": serde})
    assert ev.data == report
    assert any("attestation_report" in w and "vmpl_override" in w for w in ev.warnings)


@pytest.mark.parametrize("other", [{"x": [1] * 50}, 5, "not-a-uuid", None])
def test_trustee_other_cert_type_must_be_a_uuid(other: Any) -> None:
    report = snp_report()
    chain = [*_chain(report), {"cert_type": {"OTHER": other}, "data": []}]
    with pytest.raises(MalformedEvidence):
        trustee.parse_evidence("snp", {"attestation_report": list(report), "cert_chain": chain})


def test_trustee_supplemental_dates_ignore_look_alike_tcb_signers() -> None:
    case_id = "sgx-v3-dcapqvl-sample"
    case, quote, coll = real_case(case_id)
    kw: dict[str, Any] = {"at": case["verify_at"], "trustee_semantics": True}
    [(good, _)] = trustee.evaluate("sgx", _evidence_quote(quote), None, None, collateral=coll, **kw)
    root = next(c for c in coll.certificates if c.subject == c.issuer)
    fake_key = ec_key("review-fake-tcb-signer", "P-256")
    forged = issue(
        CertSpec(
            subject=name(CN="Intel SGX TCB Signing", O="Intel Corporation"),
            public_key=fake_key.public_key(),
            serial=0x5EED,
            not_before=dt.datetime(2001, 1, 1, tzinfo=dt.UTC),
            not_after=dt.datetime(2099, 1, 1, tzinfo=dt.UTC),
        ),
        issuer=root.subject,  # names the Intel root, signed by someone else
        issuer_key=fake_key,
    )
    assert isinstance(forged, x509.Certificate)
    more = coll + cocoverify.Collateral(chains=((forged,),))
    [(claims, _)] = trustee.evaluate(
        "sgx", _evidence_quote(quote), None, None, collateral=more, **kw
    )
    for key in ("earliest_issue_date", "latest_issue_date", "earliest_expiration_date"):
        assert claims[key] == good[key], key


# --- KBS ------------------------------------------------------------------------------------


def test_jcs_lone_surrogate_key_is_a_configuration_error() -> None:
    # rfc8785 checks values but a surrogate in a key escaped as UnicodeEncodeError
    with pytest.raises(ConfigurationError):
        kbs.runtime_data_digest({"\ud800": "x"})


# --- batch ----------------------------------------------------------------------------------


def _config() -> Any:
    from cocoverify.batch import BatchConfig

    trust = cocoverify.TrustStore.from_certificates(
        intel=x509.load_pem_x509_certificates(SAMPLE_ROOT.read_bytes())
    )
    return BatchConfig.create(trust=trust, at=SAMPLE_AT)


def test_collateral_from_dir_does_not_reach_into_sibling_collateral(tmp_path: Path) -> None:
    # fleet/a.bin has no collateral of its own; fleet/b.bin.collateral/ belongs to b.bin
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    shutil.copy(SAMPLE / "sgx" / "quote.bin", fleet / "a.bin")
    shutil.copy(SAMPLE / "sgx" / "quote.bin", fleet / "b.bin")
    shutil.copytree(SAMPLE / "sgx" / "collateral", fleet / "b.bin.collateral")
    (fleet / "case").mkdir()
    shutil.copytree(SAMPLE / "sgx" / "collateral", fleet / "case" / "collateral")
    entries = expand_inputs([str(fleet)], collateral_from_dir=True)
    items = [e for e in entries if isinstance(e, BatchItem)]
    assert [Path(i.path).name for i in items] == ["a.bin", "b.bin"]
    recs = list(verify_many(items, config=_config(), executor=InlineExecutor()))
    assert recs[0]["exit_code"] == 4  # no collateral: not b.bin's
    assert recs[1]["accepted"] is True
    # collateral directly in the folder is still used
    for f in (SAMPLE / "sgx" / "collateral").iterdir():
        shutil.copy(f, fleet / f.name)
    (fleet / "README.txt").write_text("not collateral")
    recs = list(verify_many([BatchItem(str(fleet / "a.bin"), collateral_dir=str(fleet))],
                            config=_config(), executor=InlineExecutor()))  # fmt: skip
    assert recs[0]["accepted"] is True


def test_dot_dot_paths_are_not_folded_lexically(tmp_path: Path) -> None:
    # tmp/link -> tmp/a/b, so tmp/link/../q.bin is tmp/a/q.bin, but normpath says tmp/q.bin
    (tmp_path / "a" / "b").mkdir(parents=True)
    os.symlink(tmp_path / "a" / "b", tmp_path / "link")
    shutil.copy(SAMPLE / "sgx" / "quote.bin", tmp_path / "a" / "q.bin")
    (tmp_path / "q.bin").write_bytes(b"\x00" * 9)  # a different file at the folded path
    asked = str(tmp_path / "link" / ".." / "q.bin")
    [item] = expand_inputs([asked])
    assert os.path.realpath(item.path) == os.path.realpath(tmp_path / "a" / "q.bin")
    cfg = _config()
    [rec] = verify_many([item], config=cfg, executor=InlineExecutor())
    assert rec["tee"] == "sgx"  # the quote was read, not the 9 zero bytes
    # two names for one file are verified once
    entries = expand_inputs([asked, str(tmp_path / "a" / "q.bin")])
    assert len(entries) == 1


def test_resume_retries_files_that_were_never_verified(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _sample_copy(tmp_path)
    out = tmp_path / "out.jsonl"
    sgx = str(root / "sgx" / "quote.bin")
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1", "-o", str(out)]
    crashed = {"path": sgx, "accepted": False, "tee": None, "reason": None, "exit_code": 1,
               "error": "BrokenProcessPool", "message": "a worker died"}  # fmt: skip
    out.write_text(json.dumps(crashed) + "\n")
    assert main(["batch", sgx, *common, "--resume"]) == 0  # verified now; the new line wins
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["exit_code"] for r in lines] == [1, 0]
    # a line of the wrong shape is not a verification either
    out.write_text(json.dumps({"path": sgx, "exit_code": "0"}) + "\n")
    assert main(["batch", sgx, *common, "--resume"]) == 0
    assert len(out.read_text().splitlines()) == 2
    capsys.readouterr()


def test_exit_code_fails_closed_on_odd_records() -> None:
    assert batch_exit_code([{"exit_code": 0, "accepted": False}]) == 1
    assert batch_exit_code([{"exit_code": "x"}]) == 1  # was: ValueError
    assert batch_exit_code([{"exit_code": 9}]) == 1
    assert batch_exit_code([{"exit_code": 0, "accepted": True}, {"exit_code": 5}]) == 5


def test_record_for_unaccepted_result_is_a_policy_exit() -> None:
    rec = record_for("x", _result(accepted=False))
    assert rec["accepted"] is False and rec["exit_code"] == 5
    assert rec["reason"] == Reason.POLICY_REJECTED.value


def test_replaced_collateral_is_not_shadowed_by_a_cached_copy(tmp_path: Path) -> None:
    # a long-lived process (InlineExecutor, Dask, threads) must see new collateral files,
    # e.g. a fresh CRL: the per-process caches were keyed by path only
    from cocoverify.batch import BatchConfig

    shared, sibling = tmp_path / "shared", tmp_path / "q.bin.collateral"
    shared.mkdir()
    sibling.mkdir()
    shutil.copy(SAMPLE / "sgx" / "quote.bin", tmp_path / "q.bin")
    base = _config()
    cfg = BatchConfig.create(collateral=[str(shared)], at=SAMPLE_AT, trust=base.trust())
    item = BatchItem(str(tmp_path / "q.bin"), collateral=(str(sibling),))

    def run() -> dict[str, Any]:
        [rec] = verify_many([item], config=cfg, executor=InlineExecutor())
        return rec

    assert run()["exit_code"] == 4
    for f in (SAMPLE / "sgx" / "collateral").iterdir():
        shutil.copy(f, shared / f.name)
    assert run()["accepted"] is True  # shared collateral re-read
    for f in shared.iterdir():
        shutil.move(f, sibling / f.name)
    assert run()["accepted"] is True  # per-item collateral re-read
    for f in sibling.iterdir():
        f.unlink()
    assert run()["exit_code"] == 4


def test_rego_cannot_allow_a_rejected_result() -> None:
    pytest.importorskip("regopy", reason="the optional Rego engine (cocoverify[rego]) is absent")
    from cocoverify.integrations.rego import check_rego

    policy = "package policy\n\nallow := true\n"
    assert check_rego(_result(), policy).allowed
    with pytest.raises(ConfigurationError):  # was: an "allowed" decision
        check_rego(_result(accepted=False), policy)
