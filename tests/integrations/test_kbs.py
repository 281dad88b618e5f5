"""KBS bindings: runtime-data digests (RFC 8785), init data, and nonce binding for each TEE.

Expected digests are computed here independently: canonical JSON written out by hand and
hashed with hashlib. Evidence comes from the TEST-ONLY builders in ``cocoverify_testing``
and, for raw report data, from the real Intel vectors in ../shared.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import ConfigurationError, PolicyRejected, Reason, kbs, trustee
from integrations._fixtures import (
    AMD_PKI,
    INTEL_TRUST,
    NOW,
    VECTOR_TIME,
    cca_token,
    intel_collateral,
    intel_quote,
    intel_verify,
    real_intel_case,
    snp_cert_chain,
    snp_report,
    snp_verify,
)

JWK = {"kty": "EC", "crv": "P-256", "alg": "ES256", "x": "AAE", "y": "AgM"}


RUNTIME = {"tee-pubkey": JWK, "nonce": "bm9uY2U"}


RUNTIME_JCS = (
    b'{"nonce":"bm9uY2U","tee-pubkey":{"alg":"ES256","crv":"P-256","kty":"EC","x":"AAE","y":"AgM"}}'
)


# --- runtime data digests ---------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["sha256", "sha384", "sha512"])
def test_runtime_data_digest_is_hash_of_jcs(alg: str) -> None:
    assert kbs.canonical_json(RUNTIME) == RUNTIME_JCS
    assert kbs.runtime_data_digest(RUNTIME, alg) == hashlib.new(alg, RUNTIME_JCS).digest()


def test_default_algorithm_is_sha384() -> None:
    assert kbs.runtime_data_digest(RUNTIME) == hashlib.sha384(RUNTIME_JCS).digest()


def test_additional_evidence_key_sorts_first() -> None:
    obj = {**RUNTIME, "additional-evidence": ""}
    want = b'{"additional-evidence":"",' + RUNTIME_JCS[1:]
    assert kbs.runtime_data_digest(obj) == hashlib.sha384(want).digest()


def test_nested_object_matches_as_unit_case() -> None:
    # the AS's own structured-runtime-data case, recomputed from its canonical text
    obj = {"b": 1, "a": "test", "c": {"d": "e"}}
    want = hashlib.sha384(b'{"a":"test","b":1,"c":{"d":"e"}}').digest()
    assert kbs.runtime_data_digest(obj) == want


def test_jcs_sorts_by_utf16_and_writes_ecmascript_numbers() -> None:
    # code point order would put U+FB33 before U+1F600; UTF-16 order puts it after (RFC 8785 3.2.3)
    obj = {"\ufb33": 1, "\U0001f600": 2, "\u20ac": 3, "n": [1e21, 1e-7, 0.5, -0.0, 10.0]}
    want = '{"n":[1e+21,1e-7,0.5,0,10],"\u20ac":3,"\U0001f600":2,"\ufb33":1}'.encode()
    assert kbs.canonical_json(obj) == want
    assert json.dumps(obj, sort_keys=True, separators=(",", ":")).encode() != want


def test_jcs_lone_surrogate_key_is_a_configuration_error() -> None:
    # rfc8785 checks values but a surrogate in a key escaped as UnicodeEncodeError
    with pytest.raises(ConfigurationError):
        kbs.runtime_data_digest({"\ud800": "x"})


@pytest.mark.parametrize("bad", [{"x": float("nan")}, {"x": 2**60}, {"x": b"raw"}])
def test_unrepresentable_runtime_data_is_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as ei:
        kbs.runtime_data_digest(bad)
    assert ei.value.reason is Reason.INVALID_ARGUMENT


def test_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ConfigurationError) as ei:
        kbs.runtime_data_digest(RUNTIME, "sha1")
    assert ei.value.reason is Reason.INVALID_ARGUMENT


def test_expected_report_data_raw_and_structured() -> None:
    assert kbs.expected_report_data(b"\x01\x02") == b"\x01\x02"
    assert kbs.expected_report_data(RUNTIME, "sha512") == hashlib.sha512(RUNTIME_JCS).digest()
    with pytest.raises(ConfigurationError) as ei:
        kbs.expected_report_data("nonce")  # type: ignore[arg-type]
    assert ei.value.reason is Reason.INVALID_ARGUMENT


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(obj=st.dictionaries(st.text(max_size=6), json_values, max_size=5))
def test_digest_ignores_key_order_and_whitespace(obj: dict[str, Any]) -> None:
    reordered = dict(reversed(list(obj.items())))
    assert kbs.runtime_data_digest(obj) == kbs.runtime_data_digest(reordered)
    assert json.loads(kbs.canonical_json(obj)) == obj


# --- init data --------------------------------------------------------------------------------


CDH = 'socket = "unix:///run/cdh.sock"\n[kbc]\nname = "cc_kbc"\nurl = "https://kbs.example"\n'


AA = '[token_configs]\n[token_configs.kbs]\nurl = "https://kbs.example"\n'


POLICY = (
    "package agent_policy\n\ndefault AllowRequestsFailingPolicy := false\n\n"
    'policy_data := {\n  "containers": [{"OCI": {"Process": {"Args": ["/pause"]}}}],\n'
    '  "common": {"cpath": "/run/kata-containers"}\n}\n'
)


def _initdata(alg: str = "sha384", policy: str = POLICY) -> str:
    def lit(s: str) -> str:
        return "'''\n" + s + "'''"

    return (
        f'version = "0.1.0"\nalgorithm = "{alg}"\n[data]\n'
        f'"aa.toml" = {lit(AA)}\n"cdh.toml" = {lit(CDH)}\n"policy.rego" = {lit(policy)}\n'
    )


@pytest.mark.parametrize("alg", ["sha256", "sha384", "sha512"])
def test_initdata_digest_hashes_the_whole_text(alg: str) -> None:
    text = _initdata(alg)
    assert kbs.initdata_digest(text) == hashlib.new(alg, text.encode()).digest()
    assert kbs.initdata_digest(text.encode()) == hashlib.new(alg, text.encode()).digest()


def test_initdata_claims() -> None:
    claims = kbs.initdata_claims(_initdata())
    assert claims["cdh.toml"] == {
        "socket": "unix:///run/cdh.sock",
        "kbc": {"name": "cc_kbc", "url": "https://kbs.example"},
    }
    assert claims["aa.toml"] == {"token_configs": {"kbs": {"url": "https://kbs.example"}}}
    # trustee's parse_init_data replaces the policy text by the claims extracted from it
    assert "policy.rego" not in claims
    assert claims["agent_policy_claims"] == {
        "containers": [{"OCI": {"Process": {"Args": ["/pause"]}}}],
        "common": {"cpath": "/run/kata-containers"},
    }


def test_policy_without_policy_data_gives_no_agent_claims() -> None:
    claims = kbs.initdata_claims(_initdata(policy="package agent_policy\n"))
    assert "agent_policy_claims" not in claims
    assert claims["policy.rego"] == "package agent_policy\n"  # kept as text, like trustee


def test_policy_data_followed_by_more_rules_is_extracted() -> None:
    # trustee extracts nothing here (it parses everything after "policy_data := " as JSON);
    # cocoverify reads the object the Rego assigns: a policy never loses authentic claims
    policy = POLICY + "\nallow_exec if { true }\n"
    claims = kbs.initdata_claims(_initdata(policy=policy))
    assert claims["agent_policy_claims"]["common"] == {"cpath": "/run/kata-containers"}
    assert "policy.rego" not in claims


def test_policy_data_in_a_comment_is_not_read() -> None:
    policy = '# policy_data := {"containers": []}\n' + POLICY
    claims = kbs.initdata_claims(_initdata(policy=policy))
    assert claims["agent_policy_claims"]["containers"][0]["OCI"]["Process"]["Args"] == ["/pause"]


@pytest.mark.parametrize(
    "text",
    [
        'algorithm = "sha384"\n[data]\n',  # no version
        'version = "0.1.0"\nalgorithm = "md5"\n[data]\n',
        'version = "0.1.0"\nalgorithm = "sha384"\n[data]\nx = 1\n',  # not a string
        'version = "0.1.0"\nalgorithm = "sha384"\ndata = "x"\n',
        "version = \n",  # not TOML
        _initdata(policy="policy_data := {not json}\n"),
        _initdata(policy="policy_data := [1, 2]\n"),
        _initdata(policy=POLICY + 'policy_data := {"containers": []}\n'),  # assigned twice
        _initdata(policy="policy_data := " + "[" * 100000 + "\n"),
        'version = "0.1.0"\nalgorithm = 384\n[data]\n',
        b'version = "\xff"\nalgorithm = "sha384"\n[data]\n',  # not UTF-8
        'version = "0.1.0"\nalgorithm = "sha384"\n[data]\n"cdh.toml" = "= broken"\n',
    ],
)
def test_bad_initdata_is_refused(text: str | bytes) -> None:
    with pytest.raises(ConfigurationError) as ei:
        kbs.initdata_claims(text)
    assert ei.value.reason is Reason.INVALID_ARGUMENT


# --- nonce binding, structured runtime data, each TEE -----------------------------------------


def _pad(b: bytes) -> bytes:
    return b + bytes(64 - len(b))


OTHER = {**RUNTIME, "nonce": "b3RoZXI"}


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
@pytest.mark.parametrize("alg", ["sha384", "sha512"])
def test_intel_structured_runtime_data_binding(tee: str, alg: str) -> None:
    quote = intel_quote(tee, report_data=kbs.runtime_data_digest(RUNTIME, alg))
    ok = intel_verify(tee, quote, expected_report_data=kbs.expected_report_data(RUNTIME, alg))
    assert ok.accepted
    with pytest.raises(PolicyRejected) as ei:
        intel_verify(tee, quote, expected_report_data=kbs.expected_report_data(OTHER, alg))
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


def test_snp_structured_runtime_data_binding() -> None:
    report = snp_report(report_data=_pad(kbs.runtime_data_digest(RUNTIME)))
    assert snp_verify(report, expected_report_data=kbs.expected_report_data(RUNTIME)).accepted
    with pytest.raises(PolicyRejected) as ei:
        snp_verify(report, expected_report_data=kbs.expected_report_data(OTHER))
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


def test_cca_structured_runtime_data_binding() -> None:
    token, coll = cca_token(challenge=kbs.runtime_data_digest(RUNTIME, "sha512"))
    want = kbs.expected_report_data(RUNTIME, "sha512")
    assert cocoverify.verify(token, collateral=coll, expected_report_data=want).accepted
    with pytest.raises(PolicyRejected) as ei:
        cocoverify.verify(
            token, collateral=coll, expected_report_data=kbs.expected_report_data(OTHER, "sha512")
        )
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


def test_cca_sha384_runtime_data_is_zero_padded_to_the_challenge() -> None:
    token, coll = cca_token(challenge=_pad(kbs.runtime_data_digest(RUNTIME)))
    out = trustee.evaluate(
        "cca", {"token": list(token)}, kbs.runtime_data_digest(RUNTIME), None, collateral=coll
    )
    assert out[0][0]["report_data"] == _pad(kbs.runtime_data_digest(RUNTIME)).hex()


# --- init data binding, each TEE --------------------------------------------------------------


@pytest.mark.parametrize("tee", ["sgx", "tdx"])
def test_intel_initdata_binding(tee: str) -> None:
    text = _initdata("sha384")
    digest = kbs.initdata_digest(text)
    size = 64 if tee == "sgx" else 48
    quote = intel_quote(tee, config=digest + bytes(size - 48))
    assert intel_verify(tee, quote, expected_init_data=digest).accepted
    with pytest.raises(PolicyRejected) as ei:
        intel_verify(tee, quote, expected_init_data=kbs.initdata_digest(_initdata("sha256")))
    assert ei.value.reason is Reason.INIT_DATA_MISMATCH


def test_tdx_sha512_initdata_is_truncated_by_the_adapter_only() -> None:
    digest = kbs.initdata_digest(_initdata("sha512"))  # 64 bytes, MRCONFIGID holds 48
    quote = intel_quote("tdx", config=digest[:48])
    ev = {"quote": base64.b64encode(quote).decode()}
    out = trustee.evaluate(
        "tdx", ev, None, digest, collateral=intel_collateral("tdx"), trust=INTEL_TRUST, at=NOW
    )
    assert out[0][0]["init_data"] == digest[:48].hex()
    with pytest.raises(PolicyRejected) as ei:  # plain verify refuses a longer expectation
        intel_verify("tdx", quote, expected_init_data=digest)
    assert ei.value.reason is Reason.INIT_DATA_MISMATCH


def test_snp_initdata_binding_host_data() -> None:
    digest = kbs.initdata_digest(_initdata("sha384"))
    report = snp_report(host_data=digest[:32])
    assert trustee.verify_evidence(
        "snp",
        {"attestation_report": list(report), "cert_chain": snp_cert_chain(report)},
        None,
        digest,
        trust=AMD_PKI.trust_store(),
        at=VECTOR_TIME,
    ).accepted
    with pytest.raises(PolicyRejected) as ei:
        trustee.verify_evidence(
            "snp",
            {"attestation_report": list(report), "cert_chain": snp_cert_chain(report)},
            None,
            kbs.initdata_digest(_initdata("sha256")),
            trust=AMD_PKI.trust_store(),
            at=VECTOR_TIME,
        )
    assert ei.value.reason is Reason.INIT_DATA_MISMATCH


def test_cca_initdata_must_equal_rpv_exactly() -> None:
    nonce = _pad(b"n")
    d512 = kbs.initdata_digest(_initdata("sha512"))
    token, coll = cca_token(challenge=nonce, rpv=d512)
    ok = trustee.evaluate("cca", {"token": list(token)}, nonce, d512, collateral=coll)
    assert ok[0][0]["init_data"] == d512.hex()
    d256 = kbs.initdata_digest(_initdata("sha256"))
    token, coll = cca_token(challenge=nonce, rpv=_pad(d256))
    # plain verify zero-pads; trustee compares the CCA personalization value exactly
    assert cocoverify.verify(token, collateral=coll, expected_init_data=d256).accepted
    with pytest.raises(PolicyRejected) as ei:
        trustee.evaluate("cca", {"token": list(token)}, nonce, d256, collateral=coll)
    assert ei.value.reason is Reason.INIT_DATA_MISMATCH
    assert ei.value.result is not None and not ei.value.result.accepted


# --- raw report data against real Intel vectors -----------------------------------------------


@pytest.mark.parametrize("case_id", ["tdx-v4-dcapqvl-sample", "sgx-v3-dcapqvl-sample"])
def test_raw_report_data_binding_on_real_vectors(case_id: str) -> None:
    case, quote, coll = real_intel_case(case_id)
    policy = cocoverify.Policy(accepted_tcb_statuses=frozenset({case["expected_status"]}))
    rd = bytes.fromhex(case["measurements"]["report"]["report_data"])
    kw: dict[str, Any] = {"collateral": coll, "at": case["verify_at"], "policy": policy}
    assert cocoverify.verify(quote, expected_report_data=rd, **kw).accepted
    trimmed = rd.rstrip(b"\x00")  # raw runtime data shorter than the field is zero-padded
    assert cocoverify.verify(quote, expected_report_data=trimmed, **kw).accepted
    wrong = bytes([rd[0] ^ 1]) + rd[1:]
    with pytest.raises(PolicyRejected) as ei:
        cocoverify.verify(quote, expected_report_data=wrong, **kw)
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH
    with pytest.raises(PolicyRejected) as ei:  # longer than REPORTDATA: refused, not truncated
        cocoverify.verify(quote, expected_report_data=rd + b"\x00", **kw)
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH


# --- KBS resource policies ----------------------------------------------------------------


def _ear(*statuses: str) -> dict[str, Any]:
    return {"submods": {f"cpu{i}": {"ear.status": s} for i, s in enumerate(statuses)}}


AFFIRMING = """package policy
import rego.v1

default allow = false

allow if {
    not any_not_affirming
    count(input.submods) > 0
}

any_not_affirming if {
    some _, submod in input.submods
    submod["ear.status"] != "affirming"
}
"""


@pytest.mark.parametrize(
    ("ear_claims", "allowed"),
    [
        (_ear("affirming"), True),
        (_ear("affirming", "affirming"), True),
        (_ear("affirming", "warning"), False),
        (_ear("none"), False),
        ({"submods": {}}, False),
    ],
)
def test_resource_policy_on_the_ear(ear_claims: dict[str, Any], allowed: bool) -> None:
    pytest.importorskip("regopy")
    assert kbs.resource_allowed(ear_claims, AFFIRMING, "repo/type/tag") is allowed


def test_resource_policy_data_is_trustees() -> None:
    assert kbs.resource_policy_data("my_repo/Alice/key", query={"v": "1"}) == {
        "plugin": "resource",
        "resource-path": ["my_repo", "Alice", "key"],
        "query": {"v": "1"},
    }
    pytest.importorskip("regopy")
    text = (
        "package policy\nimport rego.v1\n"
        'allow if { data.plugin == "resource"; data["resource-path"][1] == "Alice" }\n'
    )
    assert kbs.resource_allowed({}, text, ["my_repo", "Alice", "key"])
    assert not kbs.resource_allowed({}, text, "my_repo/Bob/key")
    assert not kbs.resource_allowed({}, text, "my_repo/Alice/key", plugin="other")


@pytest.mark.parametrize(
    "text",
    [
        "package policy\nx := 1\n",  # allow undefined: trustee's KBS denies
        'package policy\nallow := "yes"\n',  # not a boolean: denies
        "package other\nallow := true\n",
    ],
)
def test_resource_policy_without_a_true_allow_denies(text: str) -> None:
    pytest.importorskip("regopy")
    assert kbs.resource_allowed(_ear("affirming"), text, "a/b/c") is False


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        (("package policy\n allow if {", "a/b/c"), {}),  # does not compile
        (("package policy\nallow := true\n", 3), {}),
        (("package policy\nallow := true\n", "a/b/c"), {"query": {"a": 1}}),
        (("package policy\nallow := true\n", "a/b/c"), {"plugin": ""}),
    ],
)
def test_resource_policy_errors_are_typed(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    pytest.importorskip("regopy")
    with pytest.raises(ConfigurationError):
        kbs.resource_allowed(_ear("affirming"), *args, **kwargs)
    with pytest.raises(ConfigurationError):
        kbs.resource_allowed("not claims", "package policy", "a")  # type: ignore[arg-type]
