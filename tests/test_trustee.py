"""The trustee adapter: evidence shapes (§2), claim names/encodings (§4), acceptance modes.

Expected claim values come from the vectors' own manifest fields (../shared), never from
trustee's files; only the *names* of trustee's golden TDX claims are written here.
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
    ConfigurationError,
    MalformedEvidence,
    Policy,
    PolicyRejected,
    Reason,
    SignatureInvalid,
    TcbRejected,
    UnsupportedEvidence,
    trustee,
)
from cocoverify.tee.snp.parse import parse_report
from cocoverify_testing.intel import QuoteBuilder
from test_kbs import (
    AMD_PKI,
    INTEL_TRUST,
    NOW,
    VECTOR_TIME,
    _chain,
    cca_token,
    intel_collateral,
    real_case,
    snp_report,
)

# The key names of trustee's deps/verifier/test_data/parse_tdx_claims_expected.json (no CCEL).
GOLDEN_TDX_HEADER = {"version", "att_key_type", "tee_type", "reserved", "vendor_id", "user_data"}
GOLDEN_TDX_BODY = {
    "tcb_svn",
    "mr_seam",
    "mrsigner_seam",
    "seam_attributes",
    "td_attributes",
    "xfam",
    "mr_td",
    "mr_config_id",
    "mr_owner",
    "mr_owner_config",
    "rtmr_0",
    "rtmr_1",
    "rtmr_2",
    "rtmr_3",
    "report_data",
}
GOLDEN_TD_ATTRIBUTES = {"debug", "key_locker", "perfmon", "protection_keys", "septve_disable"}
SGX_BODY = {
    "cpu_svn",
    "misc_select",
    "reserved1",
    "isv_ext_prod_id",
    "attributes.flags",
    "attributes.xfrm",
    "mr_enclave",
    "reserved2",
    "mr_signer",
    "reserved3",
    "config_id",
    "isv_prod_id",
    "isv_svn",
    "config_svn",
    "reserved4",
    "isv_family_id",
    "report_data",
}
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


def _le(n: int, size: int) -> str:
    return n.to_bytes(size, "little").hex()


def _evidence_quote(quote: bytes) -> dict[str, str]:
    return {"quote": base64.b64encode(quote).decode()}


def _rest(obj: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


# --- TDX / SGX claims from the real vectors -----------------------------------------------


def _tdx_expected(m: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    h, r = m["header"], m["report"]
    header = {
        "version": _le(h["version"], 2),
        "att_key_type": _le(h["attestation_key_type"], 2),
        "tee_type": _le(int(h["tee_type"], 16), 4),
        "reserved": _le(h["qe_svn"], 2) + _le(h["pce_svn"], 2),
        "vendor_id": h["qe_vendor_id"],
        "user_data": h["user_data"],
    }
    body = {
        "tcb_svn": r["tee_tcb_svn"],
        "mrsigner_seam": r["mr_signer_seam"],
        **{f"rtmr_{i}": r[f"rt_mr{i}"] for i in range(4)},
        **{
            k: r[k]
            for k in (
                "mr_seam",
                "seam_attributes",
                "td_attributes",
                "xfam",
                "mr_td",
                "mr_config_id",
                "mr_owner",
                "mr_owner_config",
                "report_data",
            )
        },
    }
    return header, body


@pytest.mark.parametrize("case_id", ["tdx-v4-dcapqvl-sample", "tdx-v4-trustee-q4"])
def test_tdx_claims_equal_golden_names_and_vector_values(case_id: str) -> None:
    case, quote, coll = real_case(case_id)
    [(claims, cls)] = trustee.evaluate(
        "tdx",
        _evidence_quote(quote),
        None,
        None,
        collateral=coll,
        at=case["verify_at"],
        trustee_semantics=True,  # trustee's q4 is a debug TD: returned as a claim
    )
    assert cls == "cpu"
    header, body = _tdx_expected(case["measurements"])
    assert set(claims["quote"]) == {"header", "body"}  # v4: no type/size
    assert claims["quote"]["header"] == header and set(header) == GOLDEN_TDX_HEADER
    assert claims["quote"]["body"] == body and set(body) == GOLDEN_TDX_BODY
    attrs = int.from_bytes(bytes.fromhex(body["td_attributes"]), "little")
    assert set(claims["td_attributes"]) == GOLDEN_TD_ATTRIBUTES
    assert claims["td_attributes"]["debug"] is bool(attrs & 1)
    assert claims["td_attributes"]["septve_disable"] is bool(attrs >> 28 & 1)
    assert claims["report_data"] == body["report_data"]
    assert claims["init_data"] == body["mr_config_id"]
    pck = case["measurements"]["pck"]
    assert claims["platform_instance_id"] == pck["platform_instance_id"]
    assert claims["platform_provider_id"] == pck["ppid"]
    assert claims["tcb_status"] == case["expected"]["qvl_rules_crosscheck"]["status"]
    assert claims["collateral_expiration_status"] == "0"
    assert json.loads(json.dumps(claims)) == claims  # plain JSON


def test_trustee_golden_quote_is_debug_so_default_mode_rejects() -> None:
    case, quote, coll = real_case("tdx-v4-trustee-q4")
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate(
            "tdx", _evidence_quote(quote), None, None, collateral=coll, at=case["verify_at"]
        )
    assert ei.value.reason is Reason.DEBUG_ENABLED


def test_tdx_v5_claims_have_type_and_size() -> None:
    case, quote, coll = real_case("tdx-v5-gotdx-sample")
    [(claims, _)] = trustee.evaluate(
        "tdx", _evidence_quote(quote), None, None, collateral=coll, at=case["verify_at"]
    )
    assert claims["quote"]["type"] == _le(3, 2)  # TdReport15
    assert claims["quote"]["size"] == _le(648, 4)
    assert set(claims["quote"]["body"]) == GOLDEN_TDX_BODY | {"tee_tcb_svn2", "mr_servicetd"}


PEER_SUPPLEMENTAL = [
    "sgx-v3-dcapqvl-sample",
    "tdx-v4-dcapqvl-sample",
    "tdx-v4-dcapqvl-near",
    "tdx-v5-gotdx-sample",
    "sgx-v3-automata-quotev3",
    "tdx-v4-automata-quote-tdx-1025",
    "tdx-v4-automata-quote-tdx-0725",
    "tdx-v4-gotdx-cos113",
]


def _rfc3339(ts: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("case_id", PEER_SUPPLEMENTAL)
def test_supplemental_claims_match_the_peer(case_id: str) -> None:
    from _shared import require_shared

    case, quote, coll = real_case(case_id)
    base = require_shared("intel") / case_id
    peer = json.loads((base / case["files"]["peer_claims"]).read_text())
    [(claims, _)] = trustee.evaluate(
        case["tee"],
        _evidence_quote(quote),
        None,
        None,
        collateral=coll,
        at=case["verify_at"],
        trustee_semantics=True,
    )
    for key in ("earliest_issue_date", "latest_issue_date", "earliest_expiration_date"):
        assert claims[key] == _rfc3339(peer[key]), key
    plat = peer["platform"]
    assert claims["root_key_id"] == bytes(plat["root_key_id"]).hex()
    assert claims["pck_crl_num"] == plat["pck_crl_num"]
    assert claims["root_ca_crl_num"] == plat["root_ca_crl_num"]
    assert claims["platform_provider_id"] == bytes(plat["pck"]["ppid"]).hex()
    want_type = {0: "Standard", 1: "Scalable", 2: "Scalable with Integrity"}[
        plat["pck"]["sgx_type"]
    ]
    assert claims["sgx_type"] == want_type
    if plat["pck"]["sgx_type"]:
        assert claims["is_dynamic_platform"] is (plat["pck"]["dynamic_platform"] == "True")
        assert claims["is_cached_keys"] is (plat["pck"]["cached_keys"] == "True")
        assert claims["is_smt_enabled"] is (plat["pck"]["smt_enabled"] == "True")
    else:
        assert "is_dynamic_platform" not in claims
    assert claims["tcb_status"] == case["expected"]["qvl_rules_crosscheck"]["status"]
    assert claims["tcb_status"] == peer["tcb"]["status"]
    assert claims["tcb_date"] == _rfc3339(plat["tcb_date_tag"])
    assert claims["tcb_eval_num"] == peer["tcb"]["eval_data_number"]


def test_sgx_occlum_claims_in_drop_in_mode() -> None:
    case, quote, coll = real_case("sgx-v3-trustee-occlum")
    ev = _evidence_quote(quote)
    with pytest.raises(TcbRejected):  # default: OutOfDate (and debug) reject
        trustee.evaluate("sgx", ev, None, None, collateral=coll, at=case["verify_at"])
    [(claims, _)] = trustee.evaluate(
        "sgx", ev, None, None, collateral=coll, at=case["verify_at"], trustee_semantics=True
    )
    m = case["measurements"]
    h, r = m["header"], m["report"]
    assert claims["header"] == {
        "version": _le(3, 2),
        "att_key_type": _le(2, 2),
        "att_key_data_0": _le(0, 4),
        "qe_svn": _le(h["qe_svn"], 2),
        "pce_svn": _le(h["pce_svn"], 2),
        "vendor_id": h["qe_vendor_id"],
        "user_data": h["user_data"],
    }
    body = claims["body"]
    assert set(body) == SGX_BODY
    assert body["attributes.flags"] + body["attributes.xfrm"] == r["attributes"]
    for key in ("cpu_svn", "mr_enclave", "mr_signer", "report_data"):
        assert body[key] == r[key]
    assert claims["report_data"] == r["report_data"]
    assert claims["init_data"] == body["config_id"]
    assert claims["platform_instance_id"] == m["pck"]["platform_instance_id"]
    assert claims["tcb_status"] == case["expected"]["qvl_rules_crosscheck"]["status"]


def test_drop_in_mode_keeps_caller_pins_and_terminal_checks() -> None:
    case, quote, coll = real_case("tdx-v4-trustee-q4")
    pinned = Policy.from_dict({"tdx": {"mr_td": ["00" * 48]}})
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate(
            "tdx",
            _evidence_quote(quote),
            None,
            None,
            collateral=coll,
            at=case["verify_at"],
            policy=pinned,
            trustee_semantics=True,
        )
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
    with pytest.raises(PolicyRejected) as ei:  # bindings are never waived
        trustee.evaluate(
            "tdx",
            _evidence_quote(quote),
            b"\x01",
            None,
            collateral=coll,
            at=case["verify_at"],
            trustee_semantics=True,
        )
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


def test_tcb_not_supported_is_terminal_in_drop_in_mode() -> None:
    case, quote, coll = real_case("tdx-v5-trustee-q5")
    with pytest.raises(TcbRejected) as ei:
        trustee.evaluate(
            "tdx",
            _evidence_quote(quote),
            None,
            None,
            collateral=coll,
            at=case["verify_at"],
            trustee_semantics=True,
        )
    assert ei.value.reason is Reason.TCB_NOT_SUPPORTED


# --- round trips: every accepted form gives the same verdict and claims --------------------


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_intel_round_trip(tee: str) -> None:
    quote = (QuoteBuilder.sgx() if tee == "sgx" else QuoteBuilder.tdx()).sign(
        __import__("test_kbs").INTEL_PKI
    )
    kw: dict[str, Any] = {"collateral": intel_collateral(tee), "trust": INTEL_TRUST, "at": NOW}
    direct = trustee.claims_for(cocoverify.verify(quote, **kw))
    ev = _evidence_quote(quote)
    forms: list[Any] = [ev, json.dumps(ev), json.dumps(ev).encode(), _rest(ev), _rest(ev).encode()]
    for form in forms:
        [(claims, _)] = trustee.evaluate(tee, form, None, None, **kw)
        extra = {k: claims.pop(k) for k in SUPPLEMENTAL}
        assert claims == direct
        assert set(extra) == SUPPLEMENTAL


def _serde_tcb(raw: bytes) -> dict[str, Any]:
    # Milan layout (amd.md §3): byte 0 BL, 1 TEE, 6 SNP, 7 microcode
    return {"fmc": None, "bootloader": raw[0], "tee": raw[1], "snp": raw[6], "microcode": raw[7]}


def _serde_report(data: bytes) -> dict[str, Any]:
    """The sev crate's serde form, written from the field table of amd.md §1."""
    r = parse_report(data)
    return {
        "version": r.version,
        "guest_svn": r.guest_svn,
        "policy": r.policy,
        "family_id": list(r.family_id),
        "image_id": list(r.image_id),
        "vmpl": r.vmpl,
        "sig_algo": r.signature_algo,
        "current_tcb": _serde_tcb(r.current_tcb),
        "plat_info": r.platform_info,
        "key_info": r.key_info,
        "report_data": list(r.report_data),
        "measurement": list(r.measurement),
        "host_data": list(r.host_data),
        "id_key_digest": list(r.id_key_digest),
        "author_key_digest": list(r.author_key_digest),
        "report_id": list(r.report_id),
        "report_id_ma": list(r.report_id_ma),
        "reported_tcb": _serde_tcb(r.reported_tcb),
        "cpuid_fam_id": r.cpuid_fam_id,
        "cpuid_mod_id": r.cpuid_mod_id,
        "cpuid_step": r.cpuid_step,
        "chip_id": list(r.chip_id),
        "committed_tcb": _serde_tcb(r.committed_tcb),
        "current": {"major": r.current_major, "minor": r.current_minor, "build": r.current_build},
        "committed": {
            "major": r.committed_major,
            "minor": r.committed_minor,
            "build": r.committed_build,
        },
        "launch_tcb": _serde_tcb(r.launch_tcb),
        "signature": {"r": list(data[0x2A0:0x2E8]), "s": list(data[0x2E8:0x330])},
    }


def test_snp_serde_object_round_trips_to_the_report_bytes() -> None:
    report = snp_report()
    assert trustee.snp_report_from_json(_serde_report(report)) == report


def test_snp_round_trip() -> None:
    report = snp_report(report_data=b"\x42" * 64)
    kw: dict[str, Any] = {"trust": AMD_PKI.trust_store(), "at": VECTOR_TIME}
    coll = cocoverify.Collateral(chains=((AMD_PKI.vcek_for(report), AMD_PKI.ask, AMD_PKI.ark),))
    direct = trustee.claims_for(cocoverify.verify(report, collateral=coll, **kw))
    assert set(direct) >= SNP_KEYS and direct["report_data"] == "42" * 64
    assert direct["vmpl"] == 0
    serde = {"attestation_report": _serde_report(report), "cert_chain": _chain(report)}
    forms: list[Any] = [
        serde,
        json.dumps(serde),
        _rest(serde),
        {"attestation_report": list(report), "cert_chain": _chain(report)},
    ]
    for form in forms:
        [(claims, _)] = trustee.evaluate("snp", form, b"\x42" * 64, None, **kw)
        assert claims == direct
    [(claims, _)] = trustee.evaluate("snp", report, None, None, collateral=coll, **kw)  # raw
    assert claims == direct


def test_snp_serde_signature_is_checked() -> None:
    report = snp_report()
    serde = _serde_report(report)
    serde["signature"]["r"][0] ^= 1
    with pytest.raises(SignatureInvalid):
        trustee.evaluate(
            "snp",
            {"attestation_report": serde, "cert_chain": _chain(report)},
            None,
            None,
            trust=AMD_PKI.trust_store(),
            at=VECTOR_TIME,
        )


def test_snp_cert_type_must_fit_the_certificate() -> None:
    report = snp_report()
    chain = _chain(report)
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


@pytest.mark.parametrize("semantics", [False, True])
def test_snp_vmpl_must_be_zero(semantics: bool) -> None:
    from cocoverify_testing.snp import SnpReportBuilder

    report = SnpReportBuilder.for_product("Milan").set(vmpl=1).sign(AMD_PKI)
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate(
            "snp",
            {"attestation_report": list(report), "cert_chain": _chain(report)},
            None,
            None,
            trust=AMD_PKI.trust_store(),
            at=VECTOR_TIME,
            trustee_semantics=semantics,
        )
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
    assert cocoverify.verify(  # plain verify leaves VMPL to the policy
        report,
        collateral=cocoverify.Collateral(
            chains=((AMD_PKI.vcek_for(report), AMD_PKI.ask, AMD_PKI.ark),)
        ),
        trust=AMD_PKI.trust_store(),
        at=VECTOR_TIME,
    ).accepted


def test_cca_round_trip_and_claims() -> None:
    nonce = bytes(range(64))
    token, coll = cca_token(challenge=nonce)
    direct = trustee.claims_for(cocoverify.verify(token, collateral=coll))
    ev = {"token": list(token)}
    for form in (ev, json.dumps(ev), json.dumps(json.dumps(ev)), _rest(ev)):
        [(claims, _)] = trustee.evaluate("cca", form, nonce, None, collateral=coll)
        assert claims == direct
    realm = direct["realm"]
    assert base64.b64decode(realm["cca_realm_challenge"]) == nonce
    assert direct["report_data"] == nonce.hex()
    assert base64.b64decode(realm["cca_realm_personalization_value"]).hex() == direct["init_data"]
    assert set(direct["platform"]) == {"cca_platform_instance_id", "cca_platform_implementation_id"}
    assert len(realm["cca_realm_extensible_measurements"]) == 4


def test_cca_requires_report_data() -> None:
    token, coll = cca_token(challenge=bytes(64))
    with pytest.raises(ConfigurationError) as ei:
        trustee.evaluate("cca", {"token": list(token)}, None, None, collateral=coll)
    assert ei.value.reason is Reason.INVALID_ARGUMENT


# --- shapes -----------------------------------------------------------------------------------


def test_tee_must_match_the_evidence() -> None:
    sgx = QuoteBuilder.sgx().sign(__import__("test_kbs").INTEL_PKI)
    with pytest.raises(UnsupportedEvidence) as ei:
        trustee.evaluate(
            "tdx",
            _evidence_quote(sgx),
            None,
            None,
            collateral=intel_collateral("sgx"),
            trust=INTEL_TRUST,
            at=NOW,
        )
    assert ei.value.reason is Reason.UNSUPPORTED_TEE_TYPE
    with pytest.raises(UnsupportedEvidence) as ei:
        trustee.evaluate("az-snp-vtpm", {}, None, None)
    assert ei.value.reason is Reason.UNSUPPORTED_TEE_TYPE


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
    quote = QuoteBuilder.tdx().sign(__import__("test_kbs").INTEL_PKI)
    ev = {**_evidence_quote(quote), "cc_eventlog": base64.b64encode(b"log").decode(), "x": 1}
    result = trustee.verify_evidence(
        "tdx", ev, collateral=intel_collateral("tdx"), trust=INTEL_TRUST, at=NOW
    )
    assert any("cc_eventlog" in w for w in result.warnings)
    assert any("unknown keys ['x']" in w for w in result.warnings)
    with pytest.raises(MalformedEvidence):
        trustee.parse_evidence("tdx", {**ev, "cc_eventlog": "%%"})


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
        serde = _serde_report(snp_report())
        key = data.draw(st.sampled_from(sorted(serde)))
        serde[key] = data.draw(json_any)
        evidence = {"attestation_report": serde}
    with contextlib.suppress(CocoverifyError):
        trustee.evaluate(
            tee, evidence, bytes(64), None, trust=AMD_PKI.trust_store(), at=VECTOR_TIME
        )


# --- real SNP and CCA vectors through the adapter ------------------------------------------


def test_trustee_e2e_snp_evidence_json() -> None:
    from _shared import require_shared, shared_manifest

    base = require_shared("amd")
    manifest = shared_manifest("amd")
    assert manifest is not None
    case = next(c for c in manifest["cases"] if c["id"] == "trustee-e2e-genoa-model-a0-v3-vcek")
    folder = base / case["dir"]
    files = case["files"]
    text = (folder / files["evidence_json"]).read_bytes()
    evidence = json.loads(text)
    # the serde object is exactly the report bytes (§2 field order, little-endian r/s)
    report = trustee.snp_report_from_json(evidence["attestation_report"])
    assert report == (folder / files["report"]).read_bytes()
    coll = cocoverify.load_collateral([folder / files["ask"], folder / files["ark"]])
    want = case["claims"]
    rd = bytes.fromhex(want["report_data"])
    for form in (evidence, text, _rest(evidence)):
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


def test_real_cca_token_through_the_adapter() -> None:
    from _shared import require_shared

    folder = require_shared("cca") / "ccatoken-good-cmw907-realm1"
    token = (folder / "token.cbor").read_bytes()
    coll = cocoverify.load_collateral([folder / "platform-key.pem"])
    result = cocoverify.verify(token, collateral=coll)
    challenge = bytes.fromhex(trustee.claims_for(result)["report_data"])
    [(claims, _)] = trustee.evaluate(
        "cca", {"token": list(token)}, challenge, None, collateral=coll
    )
    assert claims == trustee.claims_for(result)
    assert claims["report_data"] == result.claims["realm"]["challenge"].hex()
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate("cca", {"token": list(token)}, bytes(64), None, collateral=coll)
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


# --- MRSERVICETD: trustee does not check it -------------------------------------------------


def test_nonzero_mr_service_td_is_returned_as_claim_in_drop_in_mode() -> None:
    svc = b"\x5a" * 48
    quote = (
        QuoteBuilder.tdx(version=5, body_type=3)
        .mr_service_td(svc)
        .sign(__import__("test_kbs").INTEL_PKI)
    )
    kw: dict[str, Any] = {"collateral": intel_collateral("tdx"), "trust": INTEL_TRUST, "at": NOW}
    ev = _evidence_quote(quote)
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate("tdx", ev, None, None, **kw)
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
    [(claims, _)] = trustee.evaluate("tdx", ev, None, None, trustee_semantics=True, **kw)
    assert claims["quote"]["body"]["mr_servicetd"] == svc.hex()
    pinned = Policy.from_dict({"tdx": {"mr_service_td": ["00" * 48]}})
    with pytest.raises(PolicyRejected) as ei:  # a caller's own pin is not waived
        trustee.evaluate("tdx", ev, None, None, trustee_semantics=True, policy=pinned, **kw)
    assert ei.value.reason is Reason.MEASUREMENT_MISMATCH


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
    serde = _serde_report(snp_report())
    change(serde)
    with pytest.raises(MalformedEvidence):
        trustee.snp_report_from_json(serde)


# --- drop-in mode with built evidence: which statuses are returned, which are terminal -----


def _sgx_with_status(status: str) -> bytes:
    from cocoverify_testing.intel import SGX_PLATFORM_TCB

    pki = __import__("test_kbs").INTEL_PKI
    return QuoteBuilder.sgx().platform_tcb(SGX_PLATFORM_TCB[status]).sign(pki)


def test_out_of_date_is_a_claim_in_drop_in_mode_only() -> None:
    kw: dict[str, Any] = {"collateral": intel_collateral("sgx"), "trust": INTEL_TRUST, "at": NOW}
    ev = _evidence_quote(_sgx_with_status("OutOfDate"))
    with pytest.raises(TcbRejected) as ei:
        trustee.evaluate("sgx", ev, None, None, **kw)
    assert ei.value.reason is Reason.TCB_STATUS_REJECTED
    [(claims, _)] = trustee.evaluate("sgx", ev, None, None, trustee_semantics=True, **kw)
    assert claims["tcb_status"] == "OutOfDate" and claims["advisory_ids"]
    result = trustee.verify_evidence("sgx", ev, trustee_semantics=True, **kw)
    waived = [v for v in result.policy if v.rule == "tcb_status"]
    assert waived and waived[0].passed and result.accepted


def test_revoked_tcb_is_terminal_in_drop_in_mode() -> None:
    kw: dict[str, Any] = {"collateral": intel_collateral("sgx"), "trust": INTEL_TRUST, "at": NOW}
    with pytest.raises(TcbRejected) as ei:
        trustee.evaluate(
            "sgx",
            _evidence_quote(_sgx_with_status("Revoked")),
            None,
            None,
            trustee_semantics=True,
            **kw,
        )
    assert ei.value.reason is Reason.TCB_STATUS_REJECTED
    assert ei.value.result is not None and ei.value.result.tcb_status == "Revoked"


def test_pre_parsed_evidence_must_be_for_the_same_tee() -> None:
    parsed = trustee.parse_evidence("cca", {"token": [0xD9]})
    with pytest.raises(ConfigurationError) as ei:
        trustee.verify_evidence("tdx", parsed)
    assert ei.value.reason is Reason.INVALID_ARGUMENT


def test_snp_cert_chain_crl_empty_and_other_entries() -> None:
    report = snp_report()
    chain = _chain(report)
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


def test_expected_values_must_be_bytes() -> None:
    token, coll = cca_token(challenge=bytes(64))
    with pytest.raises(ConfigurationError) as ei:
        trustee.evaluate("cca", {"token": list(token)}, "00" * 64, None, collateral=coll)  # type: ignore[arg-type]
    assert ei.value.reason is Reason.INVALID_ARGUMENT


def test_snp_migration_agent_is_a_claim_in_drop_in_mode() -> None:
    from cocoverify_testing.snp import SnpReportBuilder

    report = SnpReportBuilder.for_product("Milan").set(policy=0x30000 | 1 << 18).sign(AMD_PKI)
    ev = {"attestation_report": list(report), "cert_chain": _chain(report)}
    kw: dict[str, Any] = {"trust": AMD_PKI.trust_store(), "at": VECTOR_TIME}
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate("snp", ev, None, None, **kw)
    assert ei.value.reason is Reason.ATTRIBUTE_REJECTED
    [(claims, _)] = trustee.evaluate("snp", ev, None, None, trustee_semantics=True, **kw)
    assert claims["policy_migrate_ma"] is True
