"""Trustee's claims: names and encodings for each TEE, and the Intel supplemental claims.

Expected claim values come from the vectors' own manifest fields (../shared) and the peer
verifier's output, never from trustee's files; only the *names* of trustee's golden TDX claims
(``deps/verifier/test_data/parse_tdx_claims_expected.json``) are written here.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from typing import Any

import pytest
from cryptography import x509

import cocoverify
from cocoverify import ConfigurationError, PolicyRejected, Reason, TcbRejected, trustee
from cocoverify_testing.pki import CertSpec, ec_key, issue, name
from integrations._fixtures import evidence_quote, le, real_intel_case, synthetic_result

from _shared import require_shared

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


# --- TDX / SGX claims from the real vectors ---------------------------------------------------


def _tdx_expected(m: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    h, r = m["header"], m["report"]
    header = {
        "version": le(h["version"], 2),
        "att_key_type": le(h["attestation_key_type"], 2),
        "tee_type": le(int(h["tee_type"], 16), 4),
        "reserved": le(h["qe_svn"], 2) + le(h["pce_svn"], 2),
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
    case, quote, coll = real_intel_case(case_id)
    [(claims, cls)] = trustee.evaluate(
        "tdx",
        evidence_quote(quote),
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
    # trustee writes the PCK extension's little-endian GUID big-endian (intel_dcap/pck.rs)
    assert claims["platform_instance_id"] == bytes.fromhex(pck["platform_instance_id"])[::-1].hex()
    assert claims["platform_provider_id"] == pck["ppid"]
    assert claims["tcb_status"] == case["expected"]["qvl_rules_crosscheck"]["status"]
    assert claims["collateral_expiration_status"] == "0"
    assert json.loads(json.dumps(claims)) == claims  # plain JSON


#: Claims trustee adds from QVL's supplemental data (intel_dcap/claims.rs, DCAP 1.27).
INTEL_SUPPLEMENTAL = {
    "earliest_issue_date", "latest_issue_date", "earliest_expiration_date", "tcb_date",
    "pck_crl_num", "root_ca_crl_num", "tcb_eval_num", "platform_provider_id", "sgx_type",
    "is_dynamic_platform", "is_cached_keys", "is_smt_enabled", "root_key_id", "tcb_status",
    "collateral_expiration_status", "advisory_ids", "tcb_date_current", "tcb_status_current",
    "advisory_ids_current",
}  # fmt: skip
#: Extra keys cocoverify adds, each documented in docs/trustee.md.
INTEL_EXTRA = {"fmspc"}


def _json_types(value: Any) -> Any:
    """The JSON type of every leaf: equal shapes, key for key and type for type."""
    if isinstance(value, dict):
        return {k: _json_types(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_types(v) for v in value]
    return type(value).__name__


def test_tdx_claims_equal_trustees_golden_file() -> None:
    # trustee's golden file is its quote tdx_quote_4.dat (vector tdx-v4-trustee-q4) parsed with
    # the tdshim CCEL; the CCEL does not belong to that quote (no RTMR matches, so trustee's
    # evaluate would refuse it), so the event-log claims are compared in test_trustee_ccel.py
    golden_file = (
        require_shared("tdx-eventlog") / "trustee-ccel-tdshim" / "parse_tdx_claims_expected.json"
    )
    golden = json.loads(golden_file.read_text())
    case, quote, coll = real_intel_case("tdx-v4-trustee-q4")
    [(claims, _)] = trustee.evaluate(
        "tdx", evidence_quote(quote), None, None, collateral=coll, at=case["verify_at"],
        trustee_semantics=True,  # a debug TD: trustee returns the debug bit as a claim
    )  # fmt: skip
    expected = {k: v for k, v in golden.items() if k != "uefi_event_logs"}
    assert {k: claims[k] for k in expected} == expected  # value for value
    assert _json_types({k: claims[k] for k in expected}) == _json_types(expected)
    assert set(claims) - set(expected) <= INTEL_SUPPLEMENTAL | INTEL_EXTRA
    assert INTEL_SUPPLEMENTAL - {"is_dynamic_platform", "is_cached_keys", "is_smt_enabled"} <= set(
        claims
    )


def test_tdx_v5_claims_have_type_and_size() -> None:
    case, quote, coll = real_intel_case("tdx-v5-gotdx-sample")
    [(claims, _)] = trustee.evaluate(
        "tdx", evidence_quote(quote), None, None, collateral=coll, at=case["verify_at"]
    )
    assert claims["quote"]["type"] == le(3, 2)  # TdReport15
    assert claims["quote"]["size"] == le(648, 4)
    assert set(claims["quote"]["body"]) == GOLDEN_TDX_BODY | {"tee_tcb_svn2", "mr_servicetd"}


def test_sgx_occlum_claims_in_drop_in_mode() -> None:
    case, quote, coll = real_intel_case("sgx-v3-trustee-occlum")
    ev = evidence_quote(quote)
    with pytest.raises(TcbRejected):  # default: OutOfDate (and debug) reject
        trustee.evaluate("sgx", ev, None, None, collateral=coll, at=case["verify_at"])
    [(claims, _)] = trustee.evaluate(
        "sgx", ev, None, None, collateral=coll, at=case["verify_at"], trustee_semantics=True
    )
    m = case["measurements"]
    h, r = m["header"], m["report"]
    assert claims["header"] == {
        "version": le(3, 2),
        "att_key_type": le(2, 2),
        "att_key_data_0": le(0, 4),
        "qe_svn": le(h["qe_svn"], 2),
        "pce_svn": le(h["pce_svn"], 2),
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
    piid = bytes.fromhex(m["pck"]["platform_instance_id"])[::-1].hex()
    assert claims["platform_instance_id"] == piid
    assert claims["tcb_status"] == case["expected"]["qvl_rules_crosscheck"]["status"]


# --- Intel supplemental claims (they need the collateral items) -------------------------------


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
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("case_id", PEER_SUPPLEMENTAL)
def test_supplemental_claims_match_the_peer(case_id: str) -> None:
    case, quote, coll = real_intel_case(case_id)
    base = require_shared("intel") / case_id
    peer = json.loads((base / case["files"]["peer_claims"]).read_text())
    [(claims, _)] = trustee.evaluate(
        case["tee"],
        evidence_quote(quote),
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


def test_supplemental_dates_ignore_look_alike_tcb_signers() -> None:
    case_id = "sgx-v3-dcapqvl-sample"
    case, quote, coll = real_intel_case(case_id)
    kw: dict[str, Any] = {"at": case["verify_at"], "trustee_semantics": True}
    [(good, _)] = trustee.evaluate("sgx", evidence_quote(quote), None, None, collateral=coll, **kw)
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
        "sgx", evidence_quote(quote), None, None, collateral=more, **kw
    )
    for key in ("earliest_issue_date", "latest_issue_date", "earliest_expiration_date"):
        assert claims[key] == good[key], key


# --- CCA --------------------------------------------------------------------------------------


def test_real_cca_token_through_the_adapter() -> None:
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
    # trustee's RealmClaims / CcaPlatformClaims serialise kebab-case (cca/mod.rs)
    assert set(claims["realm"]) == {
        "cca-realm-personalization-value", "cca-realm-initial-measurement",
        "cca-realm-extensible-measurements", "cca-realm-hash-algo-id", "cca-realm-challenge",
    }  # fmt: skip
    assert set(claims["platform"]) == {"cca-platform-instance-id", "cca-platform-implementation-id"}
    assert _json_types(claims["realm"]) == {
        **dict.fromkeys(set(claims["realm"]) - {"cca-realm-extensible-measurements"}, "str"),
        "cca-realm-extensible-measurements": ["str"] * 4,
    }
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate("cca", {"token": list(token)}, bytes(64), None, collateral=coll)
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


# --- a result that is not a whole claim set ---------------------------------------------------


def test_hand_made_result_has_no_trustee_claims() -> None:
    # no partial claim set: a result the pipeline did not build is a ConfigurationError
    with pytest.raises(ConfigurationError) as ei:
        trustee.claims_for(synthetic_result(tee="tdx"))
    assert ei.value.reason is Reason.INVALID_ARGUMENT
    with pytest.raises(ConfigurationError) as ei:
        trustee.claims_for(synthetic_result(tee="nitro"))
    assert ei.value.reason is Reason.INVALID_ARGUMENT


# --- SNP: the flat claims of trustee's snp/mod.rs parse_tee_evidence ---------------------------

#: trustee's SNP claims and their JSON types (docs/trustee.md, trustee snp/mod.rs).
_SNP_INT = (
    "policy_abi_major",
    "policy_abi_minor",
    "reported_tcb_bootloader",
    "reported_tcb_tee",
    "reported_tcb_snp",
    "reported_tcb_microcode",
)
_SNP_BOOL = (
    "policy_smt_allowed",
    "policy_migrate_ma",
    "policy_debug_allowed",
    "policy_single_socket",
    "platform_tsme_enabled",
    "platform_smt_enabled",
)
_SNP_HEX = ("measurement", "report_data", "init_data", "chip_id")
TRUSTEE_SNP = {
    **dict.fromkeys(_SNP_INT, "int"),
    **dict.fromkeys(_SNP_BOOL, "bool"),
    **dict.fromkeys(_SNP_HEX, "str"),
}  # fmt: skip
#: Extra SNP keys cocoverify adds, each documented in docs/trustee.md.
SNP_EXTRA = {"vmpl", "guest_svn", "family_id", "image_id", "report_version", "product",
             "signing_key", "reported_tcb_fmc"}  # fmt: skip


def test_snp_claims_of_trustees_e2e_evidence() -> None:
    base = require_shared("amd") / "trustee-e2e-genoa-model-a0-v3-vcek"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0
        coll = cocoverify.load_collateral([base / n for n in ("vcek.der", "ask.pem", "ark.pem")])
        evidence = json.loads((base / "evidence.json").read_text())
        [(claims, _)] = trustee.evaluate(
            "snp", evidence, None, None, collateral=coll, at="2025-05-28T00:00:00Z"
        )
    report = evidence["attestation_report"]
    assert _json_types({k: claims[k] for k in TRUSTEE_SNP}) == TRUSTEE_SNP
    assert set(claims) - set(TRUSTEE_SNP) <= SNP_EXTRA
    # values straight from the sev crate's serde form trustee reads
    assert claims["measurement"] == bytes(report["measurement"]).hex()
    assert claims["init_data"] == bytes(report["host_data"]).hex()
    assert claims["chip_id"] == bytes(report["chip_id"]).hex()
    tcb = report["reported_tcb"]
    assert [claims[f"reported_tcb_{k}"] for k in ("bootloader", "tee", "snp", "microcode")] == [
        tcb[k] for k in ("bootloader", "tee", "snp", "microcode")
    ]
    policy = report["policy"]
    assert claims["policy_abi_minor"] == policy & 0xFF
    assert claims["policy_abi_major"] == policy >> 8 & 0xFF
    assert claims["policy_smt_allowed"] is bool(policy >> 16 & 1)
    assert claims["policy_migrate_ma"] is bool(policy >> 18 & 1)
    assert claims["policy_debug_allowed"] is bool(policy >> 19 & 1)
    assert claims["policy_single_socket"] is bool(policy >> 20 & 1)
    assert claims["platform_smt_enabled"] is bool(report["plat_info"] & 1)
    assert claims["platform_tsme_enabled"] is bool(report["plat_info"] >> 1 & 1)
