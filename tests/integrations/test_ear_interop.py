"""``--ear-profile veraison``: EARs that Veraison's EAR verifier accepts, read back with an
independent JOSE library (joserfc) and checked against the EAR draft's claim rules.

The rules below are written from draft-fv-rats-ear ("EAR Claims", "EAT Profile") and from what
veraison/ear's Go ``AttestationResult.validate`` / ``ToAppraisal`` / ``ToTrustVector`` demand,
independently of cocoverify's own checker (docs/ear.md "Profiles").
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey

import cocoverify
from cocoverify import ear
from cocoverify.cli import main
from cocoverify.errors import (
    CocoverifyError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
    SignatureInvalid,
)
from cocoverify_testing.pki import ec_key
from integrations._fixtures import (
    P256,
    P384,
    cca_token,
    intel_case_folder,
    intel_quote,
    intel_verify,
    snp_report,
    snp_verify,
    synthetic_result,
)

DRAFT_PROFILE = "tag:github.com,2023:veraison/ear"
AR4SI = {
    "instance-identity", "configuration", "executables", "file-system",
    "hardware", "runtime-opaque", "storage-opaque", "sourced-data",
}  # fmt: skip
STATUSES = ("none", "affirming", "warning", "contraindicated")
# what an appraisal may carry under this profile: the draft's claims, Veraison's extensions
APPRAISAL_CLAIMS = {
    "ear.status", "ear.trustworthiness-vector", "ear.appraisal-policy-id",
    "ear.veraison.annotated-evidence", "ear.veraison.policy-claims",
    "ear.veraison.key-attestation",
}  # fmt: skip


def _tier(v: int) -> str:
    """AR4SI tier of a claim value: none -1..1, affirming ±2..31/32, warning, contraindicated."""
    if -1 <= v <= 1:
        return "none"
    if 2 <= v <= 31 or -32 <= v <= -2:
        return "affirming"
    if 32 <= v <= 95 or -96 <= v <= -33:
        return "warning"
    return "contraindicated"


def draft_rules(claims: dict[str, Any]) -> None:
    """Assert the EAR draft's claim rules, as Veraison's verifier applies them."""
    assert claims["eat_profile"] == DRAFT_PROFILE
    assert type(claims["iat"]) is int  # NumericDate, an integer (not bool, not float)
    vid = claims["ear.verifier-id"]
    assert set(vid) == {"build", "developer"}  # Go: unexpected keys are an error here
    assert all(isinstance(v, str) and v for v in vid.values())
    if "eat_nonce" in claims:
        assert isinstance(claims["eat_nonce"], str) and 8 <= len(claims["eat_nonce"]) <= 88
    if "ear.raw-evidence" in claims:
        assert re.fullmatch(r"[A-Za-z0-9_-]*", claims["ear.raw-evidence"])
    submods = claims["submods"]
    assert isinstance(submods, dict) and submods  # at least one appraisal
    for sub in submods.values():
        assert set(sub) <= APPRAISAL_CLAIMS, set(sub) - APPRAISAL_CLAIMS
        assert sub["ear.status"] in STATUSES
        vector = sub.get("ear.trustworthiness-vector", {})
        assert set(vector) <= AR4SI
        for value in vector.values():
            assert type(value) is int and -128 <= value <= 127
        worst = max((STATUSES.index(_tier(v)) for v in vector.values()), default=0)
        assert STATUSES.index(sub["ear.status"]) >= worst  # never better than its vector
        assert isinstance(sub.get("ear.appraisal-policy-id", ""), str)
        for ext in ("ear.veraison.annotated-evidence", "ear.veraison.policy-claims"):
            assert isinstance(sub.get(ext, {}), dict)


def _jose_key(private: Any) -> ECKey:
    pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return ECKey.import_key(pem)


def _decode(token: str, private: Any, alg: str) -> dict[str, Any]:
    """joserfc checks the signature (only ``alg`` allowed) and the registered times."""
    tok = jwt.decode(token, _jose_key(private), algorithms=[alg])
    assert tok.header["alg"] == alg and tok.header["typ"] == "JWT"
    claims: dict[str, Any] = tok.claims
    registry = jwt.JWTClaimsRegistry(now=claims["iat"], iat={"essential": True})
    registry.validate(claims)
    return claims


def _accepted_tdx() -> cocoverify.VerificationResult:
    return intel_verify("tdx", intel_quote("tdx"))


def _accepted_snp() -> cocoverify.VerificationResult:
    return snp_verify(snp_report())


def _accepted_cca() -> cocoverify.VerificationResult:
    token, coll = cca_token(challenge=bytes(64))
    return cocoverify.verify(token, collateral=coll)


def _policy_rejected() -> CocoverifyError:
    with pytest.raises(PolicyRejected) as ei:
        intel_verify("sgx", intel_quote("sgx"), expected_report_data=b"\x01" * 64)
    return ei.value


def _not_authentic() -> CocoverifyError:
    quote = bytearray(intel_quote("tdx"))
    quote[-100] ^= 1  # inside the signature data
    with pytest.raises(CocoverifyError) as ei:
        intel_verify("tdx", bytes(quote))
    return ei.value


def _malformed() -> CocoverifyError:
    with pytest.raises(CocoverifyError) as ei:
        cocoverify.verify(b"\x04\x00\x02\x00" + bytes(60), at="2025-06-15T00:00:00Z")
    return ei.value


OUTCOMES: dict[str, Callable[[], Any]] = {
    "tdx-accepted": _accepted_tdx,
    "snp-accepted": _accepted_snp,
    "cca-accepted": _accepted_cca,
    "sgx-policy-rejected": _policy_rejected,
    "tdx-not-authentic": _not_authentic,
    "malformed": _malformed,
}


@pytest.mark.parametrize("name", sorted(OUTCOMES))
@pytest.mark.parametrize(("key", "alg"), [(P256, "ES256"), (P384, "ES384")])
def test_veraison_profile_read_by_joserfc(name: str, key: Any, alg: str) -> None:
    outcome = OUTCOMES[name]()
    claims = ear.to_ear(outcome, iat=1_750_000_000, profile=ear.VERAISON_PROFILE)
    token = ear.sign_ear(claims, key, alg)
    got = _decode(token, key, alg)
    assert got == json.loads(json.dumps(claims))
    draft_rules(got)
    sub = got["submods"]["cpu0"]
    summary = sub["ear.veraison.policy-claims"]
    accepted = isinstance(outcome, cocoverify.VerificationResult) and outcome.accepted
    assert summary["accepted"] is accepted
    if accepted:
        assert sub["ear.status"] in ("affirming", "warning")
        assert "ear.veraison.annotated-evidence" in sub
    else:
        assert sub["ear.status"] in ("contraindicated", "none")
        assert summary["reason"] == outcome.reason.value
        assert None not in summary.values()
    # and our own strict reader agrees
    assert ear.verify_ear(token, key.public_key(), at=got["iat"], profile=DRAFT_PROFILE) == got


def test_rejections_map_to_the_draft_tiers() -> None:
    rejected = ear.to_ear(_policy_rejected(), iat=1, profile=ear.VERAISON_PROFILE)
    assert rejected["submods"]["cpu0"]["ear.status"] == "contraindicated"
    assert rejected["submods"]["cpu0"]["ear.trustworthiness-vector"]["instance-identity"] == 97
    forged = ear.to_ear(_not_authentic(), iat=1, profile=ear.VERAISON_PROFILE)
    assert forged["submods"]["cpu0"]["ear.trustworthiness-vector"]["instance-identity"] == 99
    junk = ear.to_ear(_malformed(), iat=1, profile=ear.VERAISON_PROFILE)
    assert junk["submods"]["cpu0"]["ear.status"] == "none"
    for claims in (rejected, forged, junk):
        draft_rules(claims)


def test_other_profiles_keep_their_shape() -> None:
    """The default profile keeps cocoverify's own summary claim (not a draft appraisal claim),
    which is why it is not the draft's profile string (docs/ear.md "Profiles")."""
    res = synthetic_result()
    for profile in (ear.PROFILE, ear.TRUSTEE_PROFILE):
        sub = ear.to_ear(res, profile=profile)["submods"]["cpu0"]
        assert "cocoverify.result" in sub and "ear.veraison.policy-claims" not in sub
    with pytest.raises(AssertionError):
        draft_rules(ear.to_ear(res))


def test_joserfc_refuses_a_tampered_token() -> None:
    """The independent check can fail: a changed payload or another key is refused."""
    claims = ear.to_ear(_accepted_tdx(), profile=ear.VERAISON_PROFILE)
    token = ear.sign_ear(claims, P256, "ES256")
    head, body, sig = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["submods"]["cpu0"]["ear.status"] = "affirming"
    payload["submods"]["cpu0"]["ear.trustworthiness-vector"]["hardware"] = 2
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    with pytest.raises(BadSignatureError):
        jwt.decode(f"{head}.{forged}.{sig}", _jose_key(P256), algorithms=["ES256"])
    with pytest.raises(BadSignatureError):
        jwt.decode(token, _jose_key(ec_key("ear-signer-other", "P-256")), algorithms=["ES256"])


def test_token_signed_by_joserfc_is_read_by_verify_ear() -> None:
    """The other direction: a draft-profile EAR signed by the independent library."""
    claims = ear.to_ear(_accepted_snp(), profile=ear.VERAISON_PROFILE)
    pem = P256.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    token = jwt.encode({"alg": "ES256", "typ": "JWT"}, claims, ECKey.import_key(pem))
    assert ear.verify_ear(token, P256.public_key(), at=claims["iat"]) == claims


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda c: c["ear.verifier-id"].pop("build"), "ear.verifier-id"),
        (lambda c: c["ear.verifier-id"].update(extra="x"), "ear.verifier-id"),
        (lambda c: c["submods"]["cpu0"].update({"ear.appraisal-policy-id": 7}), "submods.cpu0"),
        (lambda c: c["submods"]["cpu0"].update({"ear.veraison.policy-claims": []}), "submods.cpu0"),
    ],
)
def test_verify_ear_applies_the_draft_rules(mutate: Any, field: str) -> None:
    claims = ear.to_ear(_accepted_tdx(), profile=ear.VERAISON_PROFILE)
    mutate(claims)
    token = ear.sign_ear(claims, P256, "ES256")
    with pytest.raises(MalformedEvidence) as ei:
        ear.verify_ear(token, P256.public_key(), at=claims["iat"])
    assert ei.value.reason is Reason.EAR_MALFORMED
    # the same token with another profile string is only held to the generic shape
    claims["eat_profile"] = ear.PROFILE
    ear.verify_ear(ear.sign_ear(claims, P256, "ES256"), P256.public_key(), at=claims["iat"])


def test_cli_veraison_profile(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Real SGX quote (../shared): the signed EAR from the CLI, read by joserfc."""
    folder, case = intel_case_folder("sgx-v3-dcapqvl-sample")
    key = tmp_path / "k.pem"
    key.write_bytes(
        P256.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    argv = ["verify", str(folder / "sgx_quote"), "--collateral", str(folder),
            "--at", case["verify_at"], "--format", "ear", "--ear-profile", "veraison"]  # fmt: skip
    assert main([*argv, "--ear-key", str(key)]) == 5  # exit code unchanged by the format
    token = capsys.readouterr().out.strip()
    claims = _decode(token, P256, "ES256")
    draft_rules(claims)
    sub = claims["submods"]["cpu0"]
    assert sub["ear.status"] == "contraindicated"
    assert sub["ear.veraison.policy-claims"]["reason"] == "tcb_status_rejected"
    assert "sgx" in sub["ear.veraison.annotated-evidence"]
    other = ec_key("ear-signer-other", "P-256").public_key()
    with pytest.raises(SignatureInvalid):
        ear.verify_ear(token, other, at=claims["iat"])


def test_composite_ear_under_the_draft_profile() -> None:
    """One submodule per device (CPU + GPU style), each a draft-conformant appraisal."""
    claims = ear.to_composite_ear(
        {"cpu0": _accepted_tdx(), "gpu0": _policy_rejected()}, profile=ear.VERAISON_PROFILE
    )
    token = ear.sign_ear(claims, P256, "ES256")
    got = _decode(token, P256, "ES256")
    draft_rules(got)
    assert got["submods"]["cpu0"]["ear.status"] == "affirming"
    assert got["submods"]["gpu0"]["ear.status"] == "contraindicated"
