"""The trustee adapter's evidence: every JSON shape of each TEE, the AS REST form, the sev
crate's serde report, the SNP ``cert_chain``, and what is malformed (strict JSON included).

Round trips: every accepted form of the same evidence gives the same verdict and claims.
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import (
    ChainInvalid,
    CocoverifyError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
    SignatureInvalid,
    trustee,
)
from cocoverify_testing.intel import QuoteBuilder
from integrations._fixtures import (
    AMD_PKI,
    INTEL_PKI,
    INTEL_TRUST,
    NOW,
    VECTOR_TIME,
    cca_token,
    evidence_quote,
    intel_collateral,
    rest_form,
    serde_report,
    snp_cert_chain,
    snp_report,
)

from _shared import require_shared, shared_manifest

SUPPLEMENTAL = {
    "root_key_id",
    "earliest_issue_date",
    "latest_issue_date",
    "earliest_expiration_date",
    "pck_crl_num",
    "root_ca_crl_num",
}


SNP_KEYS = {
    "policy_abi_major",
    "policy_abi_minor",
    "policy_smt_allowed",
    "policy_migrate_ma",
    "policy_debug_allowed",
    "policy_single_socket",
    "reported_tcb_bootloader",
    "reported_tcb_tee",
    "reported_tcb_snp",
    "reported_tcb_microcode",
    "platform_tsme_enabled",
    "platform_smt_enabled",
    "measurement",
    "report_data",
    "init_data",
    "chip_id",
}


# --- round trips: every accepted form gives the same verdict and claims -----------------------


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_intel_round_trip(tee: str) -> None:
    quote = (QuoteBuilder.sgx() if tee == "sgx" else QuoteBuilder.tdx()).sign(INTEL_PKI)
    kw: dict[str, Any] = {"collateral": intel_collateral(tee), "trust": INTEL_TRUST, "at": NOW}
    direct = trustee.claims_for(cocoverify.verify(quote, **kw))
    ev = evidence_quote(quote)
    forms: list[Any] = [
        ev,
        json.dumps(ev),
        json.dumps(ev).encode(),
        rest_form(ev),
        rest_form(ev).encode(),
    ]
    for form in forms:
        [(claims, _)] = trustee.evaluate(tee, form, None, None, **kw)
        extra = {k: claims.pop(k) for k in SUPPLEMENTAL}
        assert claims == direct
        assert set(extra) == SUPPLEMENTAL


def test_snp_serde_object_round_trips_to_the_report_bytes() -> None:
    report = snp_report()
    assert trustee.snp_report_from_json(serde_report(report)) == report


def test_snp_round_trip() -> None:
    report = snp_report(report_data=b"\x42" * 64)
    kw: dict[str, Any] = {"trust": AMD_PKI.trust_store(), "at": VECTOR_TIME}
    coll = cocoverify.Collateral(chains=((AMD_PKI.vcek_for(report), AMD_PKI.ask, AMD_PKI.ark),))
    direct = trustee.claims_for(cocoverify.verify(report, collateral=coll, **kw))
    assert set(direct) >= SNP_KEYS and direct["report_data"] == "42" * 64
    assert direct["vmpl"] == 0
    serde = {"attestation_report": serde_report(report), "cert_chain": snp_cert_chain(report)}
    forms: list[Any] = [
        serde,
        json.dumps(serde),
        rest_form(serde),
        {"attestation_report": list(report), "cert_chain": snp_cert_chain(report)},
    ]
    for form in forms:
        [(claims, _)] = trustee.evaluate("snp", form, b"\x42" * 64, None, **kw)
        assert claims == direct
    [(claims, _)] = trustee.evaluate("snp", report, None, None, collateral=coll, **kw)  # raw
    assert claims == direct


def test_cca_round_trip_and_claims() -> None:
    nonce = bytes(range(64))
    token, coll = cca_token(challenge=nonce)
    direct = trustee.claims_for(cocoverify.verify(token, collateral=coll))
    ev = {"token": list(token)}
    for form in (ev, json.dumps(ev), json.dumps(json.dumps(ev)), rest_form(ev)):
        [(claims, _)] = trustee.evaluate("cca", form, nonce, None, collateral=coll)
        assert claims == direct
    realm = direct["realm"]
    assert base64.b64decode(realm["cca-realm-challenge"]) == nonce
    assert direct["report_data"] == nonce.hex()
    assert base64.b64decode(realm["cca-realm-personalization-value"]).hex() == direct["init_data"]
    assert set(direct["platform"]) == {"cca-platform-instance-id", "cca-platform-implementation-id"}
    assert len(realm["cca-realm-extensible-measurements"]) == 4


def test_trustee_e2e_snp_evidence_json() -> None:
    base = require_shared("amd")
    manifest = shared_manifest("amd")
    assert manifest is not None
    case = next(c for c in manifest["cases"] if c["id"] == "trustee-e2e-genoa-model-a0-v3-vcek")
    folder = base / case["dir"]
    files = case["files"]
    text = (folder / files["evidence_json"]).read_bytes()
    evidence = json.loads(text)
    # the serde object is exactly the report bytes (sev field order, little-endian r/s)
    report = trustee.snp_report_from_json(evidence["attestation_report"])
    assert report == (folder / files["report"]).read_bytes()
    coll = cocoverify.load_collateral([folder / files["ask"], folder / files["ark"]])
    want = case["claims"]
    rd = bytes.fromhex(want["report_data"])
    for form in (evidence, text, rest_form(evidence)):
        [(claims, _)] = trustee.evaluate(
            "snp",
            form,
            rd,
            bytes.fromhex(want["host_data"]),
            collateral=coll,
            at=case["verification_time"],
        )
        assert {k: claims[k] for k in ("measurement", "report_data", "chip_id")} == {
            k: want[k] for k in ("measurement", "report_data", "chip_id")
        }
        assert claims["init_data"] == want["host_data"]
        assert claims["policy_smt_allowed"] is want["policy_decoded"]["smt"]
        assert claims["policy_debug_allowed"] is want["policy_decoded"]["debug"]
        assert claims["vmpl"] == want["vmpl"] == 0
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate(
            "snp", evidence, bytes(64), None, collateral=coll, at=case["verification_time"]
        )
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


# --- SNP: the serde report and the cert_chain -------------------------------------------------


def test_snp_serde_signature_is_checked() -> None:
    report = snp_report()
    serde = serde_report(report)
    serde["signature"]["r"][0] ^= 1
    with pytest.raises(SignatureInvalid):
        trustee.evaluate(
            "snp",
            {"attestation_report": serde, "cert_chain": snp_cert_chain(report)},
            None,
            None,
            trust=AMD_PKI.trust_store(),
            at=VECTOR_TIME,
        )


def test_snp_cert_type_must_fit_the_certificate() -> None:
    report = snp_report()
    chain = snp_cert_chain(report)
    chain[0]["cert_type"], chain[1]["cert_type"] = "ASK", "VCEK"
    with pytest.raises(ChainInvalid) as ei:
        trustee.evaluate(
            "snp",
            {"attestation_report": list(report), "cert_chain": chain},
            None,
            None,
            trust=AMD_PKI.trust_store(),
            at=VECTOR_TIME,
        )
    assert ei.value.reason is Reason.CERTIFICATE_PROFILE_INVALID


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s["reported_tcb"].update(fmc=1),  # Turin TCB next to Milan ones
        lambda s: s.update(cpuid_step=None),  # cpuid partly null
        lambda s: s["signature"].update(r=s["signature"]["r"][:48]),
        lambda s: s.pop("chip_id"),
        lambda s: s.update(vmpl=-1),
    ],
)
def test_snp_serde_defects_are_malformed(change: Any) -> None:
    serde = serde_report(snp_report())
    change(serde)
    with pytest.raises(MalformedEvidence):
        trustee.snp_report_from_json(serde)


def test_snp_cert_chain_crl_empty_and_other_entries() -> None:
    report = snp_report()
    chain = snp_cert_chain(report)
    kw: dict[str, Any] = {"trust": AMD_PKI.trust_store(), "at": VECTOR_TIME}
    crl = list(AMD_PKI.crl().public_bytes(Encoding.DER))
    extra = [
        {"cert_type": "CRL", "data": crl},
        {"cert_type": "Empty", "data": []},
        {"cert_type": {"OTHER": "00000000-0000-0000-0000-000000000001"}, "data": [1]},
    ]
    ev = {"attestation_report": list(report), "cert_chain": chain + extra}
    result = trustee.verify_evidence("snp", ev, **kw)
    assert result.collateral["revocation_checked"] is True
    assert any("OTHER" in w for w in result.warnings)
    revoked = list(AMD_PKI.crl(revoked=[AMD_PKI.ask.serial_number]).public_bytes(Encoding.DER))
    ev["cert_chain"] = [*chain, {"cert_type": "CRL", "data": revoked}]
    with pytest.raises(cocoverify.Revoked):
        trustee.verify_evidence("snp", ev, **kw)


def test_snp_duplicate_report_is_malformed() -> None:
    # the last duplicate used to win: another reader could see the first report
    report = snp_report()
    zeros, real, chain = (
        json.dumps(v) for v in (list(bytes(len(report))), list(report), snp_cert_chain(report))
    )
    text = f'{{"attestation_report": {zeros}, "attestation_report": {real}, "cert_chain": {chain}}}'
    with pytest.raises(MalformedEvidence):
        trustee.evaluate("snp", text, None, None, trust=AMD_PKI.trust_store(), at=VECTOR_TIME)


def test_unknown_serde_report_keys_are_reported() -> None:
    report = snp_report()
    serde = serde_report(report)
    serde["vmpl_override"] = 0
    ev = trustee.parse_evidence("snp", {"attestation_report": serde})
    assert ev.data == report
    assert any("attestation_report" in w and "vmpl_override" in w for w in ev.warnings)


@pytest.mark.parametrize("other", [{"x": [1] * 50}, 5, "not-a-uuid", None])
def test_other_cert_type_must_be_a_uuid(other: Any) -> None:
    report = snp_report()
    chain = [*snp_cert_chain(report), {"cert_type": {"OTHER": other}, "data": []}]
    with pytest.raises(MalformedEvidence):
        trustee.parse_evidence("snp", {"attestation_report": list(report), "cert_chain": chain})


# --- shapes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tee", "evidence"),
    [
        ("tdx", {"quote": "not base64!"}),
        ("tdx", {"quote": 5}),
        ("tdx", {}),
        ("tdx", b"\x04\x00\x02\x00raw quote bytes"),  # raw bytes only for snp
        ("sgx", "[1, 2]"),
        ("snp", {"attestation_report": [1, 2, 300]}),
        ("snp", {"attestation_report": {"version": 3}}),
        (
            "snp",
            {"attestation_report": [0] * 1184, "cert_chain": [{"cert_type": "PEK", "data": []}]},
        ),
        ("snp", {"attestation_report": [0] * 1184, "cert_chain": {"VCEK": []}}),
        ("cca", {"token": "d28443a10126"}),
        ("cca", "{not json"),
        # base64url with a stray character: not the REST form, and raw bytes are snp-only
        ("tdx", "eyJxdW90ZSI6!!ICJBQUFBIn0"),
    ],
)
def test_malformed_shapes(tee: str, evidence: Any) -> None:
    with pytest.raises(MalformedEvidence):
        trustee.parse_evidence(tee, evidence)


def test_unknown_keys_and_eventlogs_are_reported() -> None:
    quote = QuoteBuilder.tdx().sign(INTEL_PKI)
    ev = {**evidence_quote(quote), "aa_eventlog": "x", "x": 1}
    result = trustee.verify_evidence(
        "tdx", ev, collateral=intel_collateral("tdx"), trust=INTEL_TRUST, at=NOW
    )
    assert any("aa_eventlog" in w for w in result.warnings)
    assert any("unknown keys ['x']" in w for w in result.warnings)
    with pytest.raises(MalformedEvidence):
        trustee.parse_evidence("tdx", {**ev, "cc_eventlog": "%%"})
    with pytest.raises(MalformedEvidence):  # not a CC event log (test_trustee_ccel.py)
        trustee.verify_evidence(
            "tdx", {**ev, "cc_eventlog": base64.b64encode(b"log").decode()},
            collateral=intel_collateral("tdx"), trust=INTEL_TRUST, at=NOW,
        )  # fmt: skip
    # tdx/mod.rs: an empty cc_eventlog is no event log
    empty = trustee.verify_evidence(
        "tdx", {**ev, "cc_eventlog": ""}, collateral=intel_collateral("tdx"), trust=INTEL_TRUST,
        at=NOW,
    )  # fmt: skip
    assert empty.accepted


@pytest.mark.parametrize(
    "text",
    [
        '{"quote": "AAAA", "quote": "AAAA"}',  # serde: duplicate field
        '{"quote": "AAAA", "x": {"a": 1, "a": 2}}',
        '{"quote": "AAAA", "x": NaN}',
        '{"quote": "AAAA", "x": -Infinity}',
    ],
)
def test_evidence_json_is_strict(text: str) -> None:
    with pytest.raises(MalformedEvidence) as ei:
        trustee.parse_evidence("sgx", text)
    assert ei.value.reason is Reason.MALFORMED
    rest = base64.urlsafe_b64encode(text.encode()).rstrip(b"=")  # AS REST form too
    with pytest.raises(MalformedEvidence):
        trustee.parse_evidence("sgx", rest)


json_leaf = st.none() | st.booleans() | st.integers(-300, 300) | st.text(max_size=6)


json_any = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(tee=st.sampled_from(trustee.TEES), data=st.data())
def test_arbitrary_evidence_only_raises_cocoverify_errors(tee: str, data: st.DataObject) -> None:
    choice = data.draw(st.sampled_from(["json", "bytes", "snp"]))
    evidence: Any
    if choice == "json":
        evidence = data.draw(
            st.dictionaries(
                st.sampled_from(
                    ["quote", "token", "attestation_report", "cert_chain", "cc_eventlog"]
                ),
                json_any,
                max_size=3,
            )
        )
    elif choice == "bytes":
        evidence = data.draw(st.binary(max_size=1300))
    else:
        serde = serde_report(snp_report())
        key = data.draw(st.sampled_from(sorted(serde)))
        serde[key] = data.draw(json_any)
        evidence = {"attestation_report": serde}
    with contextlib.suppress(CocoverifyError):
        trustee.evaluate(
            tee, evidence, bytes(64), None, trust=AMD_PKI.trust_store(), at=VECTOR_TIME
        )
