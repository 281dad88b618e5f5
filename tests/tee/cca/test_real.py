"""Arm CCA real vectors: every case of ../shared/vectors/cca/MANIFEST.json, read in place."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import (
    AuthenticityError,
    CollateralInvalid,
    EvidenceError,
    Policy,
    PolicyRejected,
    Reason,
    load_collateral,
)
from cocoverify.result import to_jsonable
from cocoverify.tee.cca.pipeline import verify_platform_token
from cocoverify.tee.cca.platform import validate_platform_claims
from cocoverify.tee.cca.realm import validate_realm_claims

from _shared import require_shared, shared_manifest

AT = "2026-01-01T00:00:00Z"
_MANIFEST = shared_manifest("cca")
_CASES: list[dict[str, Any]] = _MANIFEST["cases"] if _MANIFEST else []
KEY_ROLES = ("platform_key", "platform_key_jwk", "trust_anchor_store")


def _ids(kind: str) -> list[str]:
    return [c["id"] for c in _CASES if c["kind"] == kind]


def _case(case_id: str) -> tuple[Path, dict[str, Any]]:
    base = require_shared("cca")
    case = next(c for c in _CASES if c["id"] == case_id)
    return base / case_id, case


# What our verifier says for each invalid full token (one defect each), and the error
# class. Where a peer disagrees with the spec (docs/cca.md "Decisions") the comment says who.
INVALID: dict[str, tuple[type[cocoverify.CocoverifyError], Reason]] = {
    "ccatoken-good-cmw907-wrong-iak": (AuthenticityError, Reason.SIGNATURE_INVALID),
    "ccatoken-bad-unwrapped-tokens": (EvidenceError, Reason.MALFORMED),
    "ccatoken-bad-top-tag-18": (EvidenceError, Reason.MALFORMED),
    "ccatoken-bad-empty-collection": (EvidenceError, Reason.MALFORMED),
    "ccatoken-bad-realm-missing": (EvidenceError, Reason.MALFORMED),
    "ccatoken-bad-garbage-entries": (EvidenceError, Reason.MALFORMED),
    "ccatoken-bad-empty-sign1": (EvidenceError, Reason.MALFORMED),
    "rust-cca-token-02-bad-ta": (CollateralInvalid, Reason.COLLATERAL_MALFORMED),
    "rust-bug-33-repro": (AuthenticityError, Reason.BINDING_INVALID),
    "derived-b-platform-sig-bitflip": (AuthenticityError, Reason.SIGNATURE_INVALID),
    "derived-b-realm-sig-bitflip": (AuthenticityError, Reason.SIGNATURE_INVALID),
    "derived-b-binding-mismatch-resigned": (AuthenticityError, Reason.BINDING_INVALID),
    "derived-b-realm-signed-by-other-key": (AuthenticityError, Reason.SIGNATURE_INVALID),
    "derived-b-realm-missing-rim-resigned": (EvidenceError, Reason.MALFORMED),
    "derived-b-platform-unknown-profile-resigned": (EvidenceError, Reason.UNSUPPORTED_PROFILE),
    "derived-b-realm-rpv-32-bytes-resigned": (EvidenceError, Reason.MALFORMED),
    "derived-b-platform-untagged-sign1": (EvidenceError, Reason.MALFORMED),
    "derived-b-cmw-wrong-content-format": (EvidenceError, Reason.MALFORMED),
    "derived-b-tag907-with-bare-bstr-entries": (EvidenceError, Reason.MALFORMED),
    "derived-a-platform-sig-bitflip": (AuthenticityError, Reason.SIGNATURE_INVALID),
    "derived-a-realm-sig-bitflip": (AuthenticityError, Reason.SIGNATURE_INVALID),
    "derived-a-binding-mismatch-resigned": (AuthenticityError, Reason.BINDING_INVALID),
    # TF-M iat-verifier ignores 44240 and hashes with SHA-256: right here, for the wrong reason
    "derived-a-rak-hash-alg-changed-resigned": (AuthenticityError, Reason.BINDING_INVALID),
    # veraison/ccatoken accepts 3 REMs; the RMM CDDL says exactly 4
    "derived-a-realm-3-rems-resigned": (EvidenceError, Reason.MALFORMED),
    "derived-a-platform-missing-sw-components-resigned": (EvidenceError, Reason.MALFORMED),
    # veraison/ccatoken keeps the first duplicate, cbor2 the last: ambiguous, reject
    "derived-a-realm-duplicate-rim-resigned": (EvidenceError, Reason.MALFORMED),
    # veraison/ccatoken ignores the CMW content-format
    "derived-a-cmw-wrong-content-format": (EvidenceError, Reason.MALFORMED),
}
#: Valid tokens the secure default policy rejects.
POLICY_REJECTED = {"derived-b-lifecycle-debug-resigned": Reason.DEBUG_ENABLED}


def _token_runs() -> list[tuple[str, str]]:
    out = []
    for c in _CASES:
        if c["kind"] != "cca-token":
            continue
        for role in KEY_ROLES:
            if role in c["files"]:
                out.append((c["id"], role))
    return out


def test_every_full_token_case_is_classified() -> None:
    require_shared("cca")
    for c in _CASES:
        if c["kind"] != "cca-token":
            continue
        if c["expected"]["result"] == "valid":
            assert c["id"] not in INVALID, c["id"]
        else:
            assert c["id"] in INVALID, c["id"]


@pytest.mark.parametrize(("case_id", "role"), _token_runs())
def test_full_token(case_id: str, role: str) -> None:
    folder, case = _case(case_id)
    data = (folder / case["files"]["token"]).read_bytes()
    collateral = load_collateral([folder / case["files"][role]])
    if case["expected"]["result"] == "valid":
        if case_id in POLICY_REJECTED:
            with pytest.raises(PolicyRejected) as exc:
                cocoverify.verify(data, collateral=collateral, at=AT)
            assert exc.value.reason is POLICY_REJECTED[case_id]
            assert exc.value.result is not None
            return
        result = cocoverify.verify(data, collateral=collateral, at=AT)
        assert result.accepted and result.tee == "cca"
        expected_claims = case.get("claims")
        if expected_claims:
            _assert_claims(to_jsonable(result.claims), expected_claims)
        return
    cls, reason = INVALID[case_id]
    with pytest.raises(cls) as err:
        cocoverify.verify(data, collateral=collateral, at=AT)
    assert err.value.reason is reason


def _assert_claims(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert ours["container"] == theirs.get("container", ours["container"])
    for part in ("platform", "realm"):
        for key, value in theirs[part].items():
            if key == "challenge" and isinstance(value, list):
                continue
            assert ours[part].get(key) == value, (part, key)


def test_debug_lifecycle_accepted_only_when_policy_allows_it() -> None:
    folder, _ = _case("derived-b-lifecycle-debug-resigned")
    data = (folder / "token.cbor").read_bytes()
    coll = load_collateral([folder / "platform-key.pem"])
    # the debug flag alone is not enough: the lifecycle allow-list also has to name the state
    with pytest.raises(PolicyRejected) as err:
        cocoverify.verify(
            data, collateral=coll, at=AT, policy=Policy.from_dict({"unsafe_allow_debug": True})
        )
    assert err.value.reason is Reason.LIFECYCLE_REJECTED
    policy = Policy.from_dict(
        {
            "unsafe_allow_debug": True,
            "cca": {"allowed_lifecycle_states": ["secured", "non-cca-platform-rot-debug"]},
        }
    )
    result = cocoverify.verify(data, collateral=coll, at=AT, policy=policy)
    assert result.claims["platform"]["lifecycle_state"] == "non-cca-platform-rot-debug"


@pytest.mark.parametrize("case_id", _ids("platform-claims"))
def test_platform_claim_sets(case_id: str) -> None:
    folder, case = _case(case_id)
    data = (folder / case["files"]["claims"]).read_bytes()
    if case["expected"]["result"] == "valid":
        claims = validate_platform_claims(data)
        assert claims.lifecycle_state
        return
    with pytest.raises(EvidenceError) as err:
        validate_platform_claims(data)
    assert err.value.reason is Reason.MALFORMED


@pytest.mark.parametrize("case_id", _ids("realm-claims"))
def test_realm_claim_sets(case_id: str) -> None:
    folder, case = _case(case_id)
    data = (folder / case["files"]["claims"]).read_bytes()
    if case["expected"]["result"] == "valid":
        claims = validate_realm_claims(data)
        assert len(claims.extensible_measurements) == 4
        return
    with pytest.raises(EvidenceError) as err:
        validate_realm_claims(data)
    assert err.value.reason is Reason.MALFORMED


@pytest.mark.parametrize("case_id", _ids("platform-token"))
def test_lone_platform_tokens(case_id: str) -> None:
    folder, case = _case(case_id)
    data = (folder / case["files"]["token"]).read_bytes()
    claims = verify_platform_token(
        data, collateral=load_collateral([folder / case["files"]["platform_key"]])
    )
    assert claims["lifecycle_state"] == "secured"
    # and the same bytes are not a full CCA token
    with pytest.raises(EvidenceError):
        cocoverify.verify(
            data, collateral=load_collateral([folder / case["files"]["platform_key"]]), at=AT
        )


@pytest.mark.parametrize("case_id", _ids("psa-token"))
def test_psa_tokens_are_not_cca_tokens(case_id: str) -> None:
    folder, case = _case(case_id)
    data = (folder / case["files"]["token"]).read_bytes()
    with pytest.raises(EvidenceError) as err:
        cocoverify.verify(data, collateral=load_collateral([folder / "platform-key.pem"]), at=AT)
    assert err.value.reason is Reason.MALFORMED


def test_key_and_store_files_load_by_content() -> None:
    base = require_shared("cca")
    for c in _CASES:
        for role, name in c["files"].items():
            if role in (*KEY_ROLES, "reference_values"):
                coll = load_collateral([base / c["id"] / name])
                assert coll.public_keys or coll.documents, (c["id"], name)


def test_ta_store_key_is_used_only_for_its_instance() -> None:
    # ta-tfa.json pins the TF-A CPAK to instance 0107..18; the ffm-00 token has it.
    folder, _ = _case("rust-cca-token-draft-ffm-00")
    data = (folder / "token.cbor").read_bytes()
    result = cocoverify.verify(data, collateral=[folder / "ta-tfa.json"], at=AT)
    assert result.collateral["cpak"]["bound"] is True
    # rust-cca-token-02's instance is not in that store: no key at all
    other, _ = _case("rust-cca-token-02")
    with pytest.raises(cocoverify.CollateralUnavailable) as err:
        cocoverify.verify(
            (other / "token.cbor").read_bytes(), collateral=[folder / "ta-tfa.json"], at=AT
        )
    assert err.value.reason is Reason.COLLATERAL_MISSING


def test_manifest_is_json() -> None:
    base = require_shared("cca")
    assert json.loads((base / "MANIFEST.json").read_text())["cases"]


def test_whole_case_folder_as_collateral_and_text_encodings() -> None:
    folder, _ = _case("trustee-cca-example-token")
    data = (folder / "token.cbor").read_bytes()
    for form in (data, data.hex().encode(), base64.b64encode(data)):
        result = cocoverify.verify(form, collateral=[folder], at=AT)
        assert result.claims["container"] == "collection-399"
