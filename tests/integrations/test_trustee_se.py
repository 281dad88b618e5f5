"""trustee's ``se`` (IBM Secure Execution) through the trustee adapter, on the fake IBM PKI and
fake Ultravisor (no real SE evidence is public: shared docs ibm-se.md §6): ``evaluate`` gives
trustee's ``SeAttestationClaims`` key for key, value for value and JSON type for type (plus the
documented ``user_data``), and trustee's default CPU policy affirms it (its SE rules only
check that the claims exist).
"""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoverify import (
    CocoverifyError,
    ConfigurationError,
    MalformedEvidence,
    PolicyRejected,
    SignatureInvalid,
    UnsupportedEvidence,
    ear,
    ibmse,
    kbs,
    rego,
    trustee,
)
from cocoverify.tee.ibmse.parse import boot_hdr_tags_from_header
from cocoverify_testing.ibmse import HOSTS, NOW, FakeIbmPki, FakeUltravisor
from cocoverify_testing.pki import fill
from integrations._fixtures import P256

from _shared import require_shared

PKI = FakeIbmPki()
HDR = (Path(__file__).parents[1] / "tee" / "ibmse" / "kat" / "secure_guest.hdr").read_bytes()
TAGS = boot_hdr_tags_from_header(HDR)
REPORT_DATA = fill("trustee-se-report-data", 48)  # KBS's SHA-384 digest
USER_DATA = REPORT_DATA + bytes(16) + b"more user data"
WRAP = PKI.wrap_key()
REQ = ibmse.make_request(
    [PKI.hkd(h) for h in HOSTS],
    se_header=HDR,
    certificates=PKI.certificates(),
    crls=PKI.crls(),
    trust=PKI.trust(),
    at=NOW,
    wrap_key=WRAP.public_key(),
)
HOST = PKI.host_key(HOSTS[1])
UV = FakeUltravisor(HOST, TAGS)
RESPONSE = UV.answer(REQ.challenge, USER_DATA)
KEPT = ibmse.secret_collateral(REQ.secret)
WRAPPED = ibmse.secret_collateral(unwrap_key=WRAP)

#: trustee se/ibmse.rs SeAttestationClaims, plus user_data (docs/trustee.md)
SE_KEYS = {"cuid", "report_data", "version", "image_phkh", "attestation_phkh", "tag"}


def _evaluate(evidence: Any = None, report_data: bytes | None = REPORT_DATA, **kw: Any) -> Any:
    kw.setdefault("collateral", KEPT)
    [(claims, tee_class)] = trustee.evaluate(
        "se", RESPONSE if evidence is None else evidence, report_data, None, at=NOW, **kw
    )
    assert tee_class == "cpu"
    return claims


@pytest.mark.parametrize("collateral", [KEPT, WRAPPED], ids=["kept", "wrapped"])
def test_claims_are_trustees(collateral: Any) -> None:
    claims = _evaluate(collateral=collateral)
    assert set(claims) == SE_KEYS | {"user_data"}
    assert json.loads(json.dumps(claims)) == claims
    host_hash = ibmse.host_key_hash(HOST.public_key())
    assert claims == {
        "cuid": UV.cuid.hex(),
        # ReportData::to_hex(): the expected value as given (48 bytes), not the 64-byte field
        "report_data": REPORT_DATA.hex(),
        "version": 256,  # u32, a JSON integer
        "image_phkh": host_hash.hex(),  # this fake UV unpacked the image with the same key
        "attestation_phkh": host_hash.hex(),
        "tag": TAGS.tag.hex(),
        "user_data": USER_DATA.hex(),
    }


def test_claims_for_the_result_and_evidence_forms() -> None:
    result = trustee.verify_evidence("se", RESPONSE, REPORT_DATA, collateral=KEPT, at=NOW)
    assert result.tee == "se"
    claims = trustee.claims_for(result)
    # without the call's expected value: the 64-byte report-data field of the user data
    assert claims["report_data"] == USER_DATA[:64].hex()
    assert {k: v for k, v in claims.items() if k != "report_data"} == {
        k: v for k, v in _evaluate().items() if k != "report_data"
    }
    text = json.dumps(RESPONSE)
    rest = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    for form in (text, text.encode(), rest, json.dumps(text)):
        assert _evaluate(form) == _evaluate()


def test_without_report_data_trustee_writes_an_empty_string() -> None:
    assert _evaluate(report_data=None)["report_data"] == ""


def test_refusals() -> None:
    with pytest.raises(PolicyRejected):  # USER_DATA content mismatch
        _evaluate(report_data=REPORT_DATA[::-1])
    bad = dict(RESPONSE)
    raw = bytearray(base64.b64decode(bad["measurement"]))
    raw[0] ^= 1
    bad["measurement"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SignatureInvalid):  # "Failed to verify the measurement"
        _evaluate(bad)
    with pytest.raises(MalformedEvidence):  # serde: a missing field
        _evaluate({k: v for k, v in RESPONSE.items() if k != "cuid"})
    with pytest.raises(ConfigurationError):  # no init-data field: refused, not ignored
        trustee.evaluate("se", RESPONSE, REPORT_DATA, bytes(32), collateral=KEPT, at=NOW)
    with pytest.raises((UnsupportedEvidence, MalformedEvidence)):
        trustee.evaluate("snp", RESPONSE, REPORT_DATA, None, collateral=KEPT, at=NOW)


def test_unknown_key_is_a_warning() -> None:
    result = trustee.verify_evidence(
        "se", {**RESPONSE, "extra": 1}, REPORT_DATA, collateral=KEPT, at=NOW
    )
    assert any("extra" in w for w in result.warnings)


def test_default_cpu_policy_affirms_se() -> None:
    pytest.importorskip("regopy", reason="the optional Rego engine (cocoverify[rego]) is absent")
    policies = require_shared("trustee-policies")
    result = trustee.verify_evidence("se", RESPONSE, REPORT_DATA, collateral=KEPT, at=NOW)
    claims = _evaluate()
    policy = (policies / "as_ear_default_policy_cpu.rego").read_text()
    decision = rego.evaluate_policy(result, policy, reference_values={}, claims=claims)
    assert decision.trust_vector is not None
    tv = decision.trust_vector
    assert (tv["executables"], tv["hardware"], tv["configuration"]) == (3, 2, 2)
    assert decision.status == "affirming" and decision.allowed
    token = ear.sign_ear(ear.to_ear(result, decision=decision, profile=ear.TRUSTEE_PROFILE), P256)
    ear_claims = ear.verify_ear(token, P256.public_key(), at=result.verified_at)
    assert ear_claims["submods"]["cpu0"]["ear.status"] == "affirming"
    affirming = (policies / "kbs_affirming.rego").read_text()
    assert kbs.resource_allowed(ear_claims, affirming, "default/key/1")


_B64 = st.binary(max_size=80).map(lambda b: base64.b64encode(b).decode())
_VALUE = st.none() | st.integers() | st.text(max_size=8) | _B64 | st.lists(st.integers(0, 255))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["se", "az-snp-vtpm", "az-tdx-vtpm"]),
    st.dictionaries(
        st.sampled_from([*RESPONSE, "tpm_quote", "hcl_report", "vcek", "td_quote", "version"]),
        _VALUE,
        max_size=8,
    ),
    st.booleans(),
)
def test_arbitrary_evidence_only_raises_cocoverify_errors(
    tee: str, changes: dict[str, Any], start_from_response: bool
) -> None:
    evidence = {**RESPONSE, **changes} if start_from_response else changes
    with contextlib.suppress(CocoverifyError):
        trustee.evaluate(tee, evidence, REPORT_DATA, None, collateral=KEPT, at=NOW)
