"""The TDX CC event log as trustee reads it: ``uefi_event_logs`` claims and the RTMR replay.

Expected values are trustee's own JSON for each log (``peer_uefi_event_logs`` of
../shared/vectors/tdx-eventlog), its golden TDX claims file, and the replayed registers of
that folder's MANIFEST.json.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import (
    AuthenticityError,
    ConfigurationError,
    MalformedEvidence,
    MeasurementMismatch,
    Policy,
    Reason,
    rego,
    trustee,
)
from cocoverify.integrations.trustee.eventlog import parse_ccel, replay
from integrations._fixtures import evidence_quote, real_intel_case

from _shared import require_shared, shared_manifest


def _cases(kind: str) -> list[dict[str, Any]]:
    manifest = shared_manifest("tdx-eventlog")
    return [c for c in (manifest or {}).get("cases", []) if c["kind"].startswith(kind)]


def _file(case: dict[str, Any], role: str) -> Path:
    return require_shared("tdx-eventlog") / case["id"] / case["files"][role]


@pytest.mark.parametrize("case", _cases("ccel-replay"), ids=lambda c: c["id"])
def test_each_log_parses_as_trustee_writes_it(case: dict[str, Any]) -> None:
    events = parse_ccel(_file(case, "ccel").read_bytes())
    assert len(events) == case["expected"]["parse"]["events_after_spec_id"]
    if "peer_uefi_event_logs" in case["files"]:
        peer = json.loads(_file(case, "peer_uefi_event_logs").read_text())
        assert events == peer["uefi_event_logs"]  # key, value and JSON type
    want = case["expected"]["replay"]
    got = {k: replay(events, int(k), want["algorithm"]).hex() for k in want["by_mr_index"]}
    assert got == want["by_mr_index"]


def test_trustees_golden_tdx_claims_file() -> None:
    require_shared("tdx-eventlog")  # skips with the reason when ../shared is absent
    # parse_tdx_claims_expected.json: trustee's quote tdx_quote_4.dat with the tdshim CCEL,
    # parsed as trustee's test does (that log does not replay to this quote's RTMRs)
    case = _cases("ccel-replay")[0]
    assert case["id"] == "trustee-ccel-tdshim"
    golden = json.loads(_file(case, "peer_tdx_claims").read_text())
    q4, quote, coll = real_intel_case("tdx-v4-trustee-q4")
    [(claims, _)] = trustee.evaluate(
        "tdx", evidence_quote(quote), None, None, collateral=coll, at=q4["verify_at"],
        trustee_semantics=True,
    )  # fmt: skip
    claims["uefi_event_logs"] = parse_ccel(_file(case, "ccel").read_bytes())
    assert {k: claims[k] for k in golden} == golden
    # trustee's evaluate refuses that pair: the log does not replay to the quote's RTMRs;
    # the adapter says so as verify() does (not authentic, exit 3, the first register named)
    ev = {**evidence_quote(quote), "cc_eventlog": base64.b64encode(
        _file(case, "ccel").read_bytes()).decode()}  # fmt: skip
    with pytest.raises(AuthenticityError) as err:
        trustee.evaluate("tdx", ev, None, None, collateral=coll, at=q4["verify_at"],
                         trustee_semantics=True)  # fmt: skip
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH and err.value.exit_code == 3
    assert err.value.details["register"] == "rtmr0"
    with pytest.raises(AuthenticityError) as direct:
        cocoverify.verify(json.dumps(ev).encode(), collateral=coll, at=q4["verify_at"])
    assert direct.value.reason is err.value.reason
    assert direct.value.details["register"] == err.value.details["register"]


def _cos113() -> tuple[dict[str, Any], bytes, Any, bytes]:
    [case] = _cases("ccel-replay-vs-quote")
    q, quote, coll = real_intel_case("tdx-v4-gotdx-cos113")
    return q, quote, coll, _file(case, "ccel").read_bytes()


def test_a_log_that_replays_to_the_quote_gives_event_log_claims() -> None:
    require_shared("tdx-eventlog")  # skips with the reason when ../shared is absent
    q, quote, coll, ccel = _cos113()
    ev = {**evidence_quote(quote), "cc_eventlog": base64.b64encode(ccel).decode()}
    [(claims, _)] = trustee.evaluate("tdx", ev, None, None, collateral=coll, at=q["verify_at"])
    assert claims["uefi_event_logs"] == parse_ccel(ccel)
    body = claims["quote"]["body"]
    for i in range(4):
        assert replay(claims["uefi_event_logs"], i + 1).hex() == body[f"rtmr_{i}"]
    # one changed digest: the replay no longer gives the quote's RTMRs
    bad = bytearray(ccel)
    digest = bytes.fromhex(claims["uefi_event_logs"][3]["digests"][0]["digest"])
    at = bytes(bad).index(digest)
    bad[at] ^= 1
    ev_bad = {**ev, "cc_eventlog": base64.b64encode(bytes(bad)).decode()}
    register = f"rtmr{claims['uefi_event_logs'][3]['index'] - 1}"
    outcomes = []
    for semantics in (False, True):
        with pytest.raises(AuthenticityError) as err:
            trustee.evaluate("tdx", ev_bad, None, None, collateral=coll, at=q["verify_at"],
                             trustee_semantics=semantics)  # fmt: skip
        outcomes.append((err.value.reason, err.value.exit_code, err.value.details["register"]))
    with pytest.raises(AuthenticityError) as direct:
        cocoverify.verify(json.dumps(ev_bad).encode(), collateral=coll, at=q["verify_at"])
    outcomes.append((direct.value.reason, direct.value.exit_code, direct.value.details["register"]))
    assert outcomes == [(Reason.EVENT_LOG_MISMATCH, 3, register)] * 3


def test_a_log_mismatch_is_named_before_a_policy_rejection() -> None:
    # verify() replays before the policy stage; the adapter now does the same, so a
    # failing policy does not hide a log that is not the quote's
    require_shared("tdx-eventlog")  # skips with the reason when ../shared is absent
    q, quote, coll, ccel = _cos113()
    bad = bytearray(ccel)
    events = parse_ccel(ccel)
    bad[bytes(bad).index(bytes.fromhex(events[3]["digests"][0]["digest"]))] ^= 1
    ev = {**evidence_quote(quote), "cc_eventlog": base64.b64encode(bytes(bad)).decode()}
    strict = Policy.from_dict({"tdx": {"mr_td": ["00" * 48]}})
    with pytest.raises(AuthenticityError) as err:
        trustee.evaluate("tdx", ev, None, None, collateral=coll, at=q["verify_at"], policy=strict)
    assert err.value.reason is Reason.EVENT_LOG_MISMATCH
    # the same evidence with its own log: the policy's rejection
    good = {**ev, "cc_eventlog": base64.b64encode(ccel).decode()}
    with pytest.raises(MeasurementMismatch):
        trustee.evaluate("tdx", good, None, None, collateral=coll, at=q["verify_at"], policy=strict)


def test_trustee_policy_on_a_replayed_log() -> None:
    require_shared("tdx-eventlog")  # skips with the reason when ../shared is absent
    pytest.importorskip("regopy")
    q, quote, coll, ccel = _cos113()
    ev = {**evidence_quote(quote), "cc_eventlog": base64.b64encode(ccel).decode()}
    [(claims, _)] = trustee.evaluate("tdx", ev, None, None, collateral=coll, at=q["verify_at"])
    result = trustee.verify_evidence("tdx", ev, collateral=coll, at=q["verify_at"])
    policy = (require_shared("trustee-policies") / "as_ear_default_policy_cpu.rego").read_text()
    body = claims["quote"]["body"]
    rv = {k: [body[k]] for k in ("mr_td", "rtmr_1", "rtmr_2", "xfam")}
    decision = rego.evaluate_policy(result, policy, reference_values=rv, claims=claims)
    assert decision.status == "affirming"
    # a GRUB boot: no TDVF kernel event, so the policy's GKE/Grub branch (executables 4)
    assert decision.trust_vector is not None and decision.trust_vector["executables"] == 4
    wrong = rego.evaluate_policy(result, policy, reference_values={**rv, "mr_td": ["00"]},
                                 claims=claims)  # fmt: skip
    assert wrong.status == "contraindicated" and not wrong.allowed


def test_tdvf_kernel_branch_reads_the_event_log_claims() -> None:
    require_shared("tdx-eventlog")  # skips with the reason when ../shared is absent
    # the default policy's TDVF branch (executables 3) reads uefi_event_logs: its kernel
    # and kernel-parameter digests against tdvfkernel / tdvfkernelparams. Wiring only: the
    # OVMF log of trustee's tests is put next to another quote's claims (no quote has it).
    pytest.importorskip("regopy")
    [ovmf] = [c for c in _cases("ccel-replay") if c["id"] == "trustee-ccel-ovmf"]
    events = parse_ccel(_file(ovmf, "ccel").read_bytes())
    kernel = next(e for e in events if "File(kernel)" in e["details"].get("device_paths", []))
    params = next(e for e in events if e["details"].get("string") == "LOADED_IMAGE::LoadOptions")
    q, quote, coll = real_intel_case("tdx-v4-dcapqvl-sample")
    result = trustee.verify_evidence("tdx", evidence_quote(quote), collateral=coll,
                                     at=q["verify_at"])  # fmt: skip
    claims = {**trustee.claims_for(result), "uefi_event_logs": events}
    body = claims["quote"]["body"]
    rv = {k: [body[k]] for k in ("mr_td", "rtmr_1", "rtmr_2", "xfam")}
    rv["tdvfkernel"] = kernel["digests"][0]["digest"]
    rv["tdvfkernelparams"] = params["digests"][0]["digest"]
    policy = (require_shared("trustee-policies") / "as_ear_default_policy_cpu.rego").read_text()
    ok = rego.evaluate_policy(result, policy, reference_values=rv, claims=claims)
    assert ok.trust_vector is not None and ok.trust_vector["executables"] == 3
    other = rego.evaluate_policy(result, policy, reference_values={**rv, "tdvfkernel": "00"},
                                 claims=claims)  # fmt: skip
    assert other.trust_vector is not None and other.trust_vector["executables"] == 4


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 8,
        b"log",
        bytes(32),  # first event: not EV_NO_ACTION
    ],
)
def test_malformed_logs(data: bytes) -> None:
    with pytest.raises(MalformedEvidence) as err:
        parse_ccel(data)
    assert err.value.reason is Reason.MALFORMED


def test_truncated_real_log_is_malformed_not_partial() -> None:
    require_shared("tdx-eventlog")  # skips with the reason when ../shared is absent
    [case] = [c for c in _cases("ccel-replay") if c["id"] == "trustee-ccel-grub"]
    data = _file(case, "ccel").read_bytes()
    end = case["expected"]["parse"]["log_end_offset"]
    for cut in (40, 200, end - 1):
        with pytest.raises(MalformedEvidence):
            parse_ccel(data[:cut])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.integers(0, 2000))
def test_any_bytes_parse_or_are_malformed(noise: bytes, cut: int) -> None:
    require_shared("tdx-eventlog")  # skips with the reason when ../shared is absent
    # a real prefix with noise after it reaches every event parser
    [case] = [c for c in _cases("ccel-replay") if c["id"] == "trustee-ccel-ovmf"]
    data = _file(case, "ccel").read_bytes()[:cut] + noise
    try:
        events = parse_ccel(data)
    except MalformedEvidence:
        return
    json.dumps(events)


def test_replay_of_something_else_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        replay([{"index": 1, "digests": [{"alg": "SHA-384", "digest": "zz"}]}], 1)
    with pytest.raises(ConfigurationError):
        replay([{"nothing": 1}], 1)
