"""EAR attestation results: AR4SI mapping, ES256/ES384 JWS, verifier checks, CLI output."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import ear
from cocoverify.cli import main
from cocoverify.errors import (
    AuthenticityError,
    ChainInvalid,
    CocoverifyError,
    CollateralUnavailable,
    ConfigurationError,
    MalformedEvidence,
    PolicyRejected,
    Reason,
    Revoked,
    SignatureInvalid,
    UnsupportedEvidence,
)
from cocoverify.result import RuleVerdict, VerificationResult, freeze
from cocoverify_testing.pki import ec_key

from _shared import require_shared, shared_manifest

AT = dt.datetime(2025, 7, 4, 10, 28, 44, tzinfo=dt.UTC)
T = int(AT.timestamp())
P256 = ec_key("ear-signer-p256", "P-256")
P384 = ec_key("ear-signer-p384", "P-384")
OTHER = ec_key("ear-other-p256", "P-256")


def _result(
    *,
    tcb_status: str | None = "UpToDate",
    policy: tuple[RuleVerdict, ...] = (RuleVerdict("debug", True, actual=False),),
    accepted: bool = True,
    tee: str = "sgx",
) -> VerificationResult:
    return VerificationResult(
        accepted=accepted,
        tee=tee,
        verified_at=AT,
        tcb_status=tcb_status,
        claims=freeze({"report_data": b"\x01" * 64, "config_id": b"\x00" * 64}),
        policy=policy,
        reason=None if accepted else Reason.POLICY_REJECTED,
    )


def _b64(obj: Any) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(h))),
        json.loads(base64.urlsafe_b64decode(pad(p))),
        s,
    )


def _resign(header: dict[str, Any], payload: dict[str, Any], key: Any, alg: str = "ES256") -> str:
    """A token with an arbitrary header, signed correctly (to test checks after the signature)."""
    token = ear.sign_ear(payload, key, alg, embed_jwk=False)
    _, _, sig = token.split(".")
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    signing_input = _b64(header) + "." + _b64(payload)
    digest = hashes.SHA256() if alg == "ES256" else hashes.SHA384()
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(digest)))
    size = 32 if alg == "ES256" else 48
    del sig
    return signing_input + "." + _b64(r.to_bytes(size, "big") + s.to_bytes(size, "big"))


# --- AR4SI tiers and the mapping ------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (-1, "none"), (0, "none"), (1, "none"), (2, "affirming"), (31, "affirming"),
        (32, "warning"), (95, "warning"), (96, "contraindicated"), (127, "contraindicated"),
        (-2, "affirming"), (-32, "affirming"), (-33, "warning"), (-96, "warning"),
        (-97, "contraindicated"), (-128, "contraindicated"),
    ],
)  # fmt: skip
def test_tiers(value: int, expected: str) -> None:
    assert ear.tier(value) == expected


def test_status_is_the_worst_tier() -> None:
    assert ear.ear_status({"a": 0, "b": 0}) == "none"
    assert ear.ear_status({"a": 2, "b": 0}) == "affirming"
    assert ear.ear_status({"a": 2, "b": 32}) == "warning"
    assert ear.ear_status({"a": 96, "b": 32, "c": 2}) == "contraindicated"


@pytest.mark.parametrize(
    ("status", "hardware", "configuration"),
    [
        ("UpToDate", 2, 2),
        ("SWHardeningNeeded", 32, 2),
        ("ConfigurationNeeded", 2, 32),
        ("ConfigurationAndSWHardeningNeeded", 32, 32),
        ("OutOfDate", 32, 2),
        ("OutOfDateConfigurationNeeded", 32, 32),
        ("TDRelaunchAdvised", 32, 2),
        ("TDRelaunchAdvisedConfigurationNeeded", 32, 32),
        ("Revoked", 96, 2),
        ("SomethingNew", 97, 2),
        (None, 2, 2),
    ],
)
def test_tcb_status_mapping(status: str | None, hardware: int, configuration: int) -> None:
    v = ear.trust_vector(_result(tcb_status=status))
    assert v["hardware"] == hardware
    assert v["configuration"] == configuration
    assert v["instance-identity"] == 2 and v["runtime-opaque"] == 2
    assert v["executables"] == 0  # no measurement pinned: no claim


def test_vector_has_trustee_claim_names_in_order() -> None:
    assert tuple(ear.trust_vector(_result())) == ear.CLAIM_NAMES


def test_debug_allowed_is_visible_memory() -> None:
    pol = (RuleVerdict("debug", True, "allowed", actual=True),)
    assert ear.trust_vector(_result(policy=pol))["runtime-opaque"] == 96


def test_measurement_rules() -> None:
    ok = (RuleVerdict("mr_enclave", True, actual=b"\x01"),)
    assert ear.trust_vector(_result(policy=ok))["executables"] == 2
    bad = (RuleVerdict("mr_enclave", False, reason=Reason.MEASUREMENT_MISMATCH),)
    v = ear.trust_vector(_result(policy=bad, accepted=False))
    assert v["executables"] == 96 and ear.ear_status(v) == "contraindicated"


@pytest.mark.parametrize(
    ("reason", "claim", "value"),
    [
        (Reason.REPORT_DATA_MISMATCH, "instance-identity", 97),
        (Reason.TCB_NOT_SUPPORTED, "hardware", 97),
        (Reason.TCB_STATUS_REJECTED, "hardware", 96),
        (Reason.ADVISORY_REJECTED, "hardware", 96),
        (Reason.TCB_BELOW_MINIMUM, "hardware", 96),
        (Reason.DEBUG_ENABLED, "configuration", 96),
        (Reason.INIT_DATA_MISMATCH, "configuration", 96),
        (Reason.ATTRIBUTE_REJECTED, "configuration", 96),
        (Reason.REGO_REJECTED, "configuration", 96),
    ],
)
def test_failed_rules(reason: Reason, claim: str, value: int) -> None:
    pol = (RuleVerdict("some_rule", False, reason=reason),)
    v = ear.trust_vector(_result(policy=pol, accepted=False))
    assert v[claim] == value
    assert ear.ear_status(v) == "contraindicated"


@pytest.mark.parametrize(
    ("error", "claim", "value"),
    [
        (Revoked("x"), "hardware", 96),
        (Revoked("x"), "instance-identity", 96),
        (SignatureInvalid("x"), "instance-identity", 99),
        (ChainInvalid("x"), "instance-identity", 99),
        (MalformedEvidence("x", reason=Reason.TRUNCATED), "instance-identity", 1),
        (CollateralUnavailable("x"), "hardware", 97),
        (ConfigurationError("x"), "instance-identity", -1),
    ],
)
def test_errors_without_result(error: CocoverifyError, claim: str, value: int) -> None:
    v = ear.trust_vector(error)
    assert v[claim] == value
    assert ear.ear_status(v) != "affirming"


def test_policy_rejection_uses_its_result() -> None:
    res = _result(
        policy=(RuleVerdict("tcb_status", False, reason=Reason.TCB_STATUS_REJECTED),),
        tcb_status="OutOfDate",
        accepted=False,
    )
    err = PolicyRejected("no", reason=Reason.TCB_STATUS_REJECTED, result=res)
    claims = ear.to_ear(err)
    sub = claims["submods"]["cpu0"]
    assert sub["ear.trustworthiness-vector"]["hardware"] == 96
    assert sub["ear.status"] == "contraindicated"
    assert sub["cocoverify.result"]["accepted"] is False
    assert sub["cocoverify.result"]["reason"] == "tcb_status_rejected"


# --- unsigned claims ------------------------------------------------------------------------


def test_to_ear_shape() -> None:
    claims = ear.to_ear(_result())
    assert claims["eat_profile"] == ear.PROFILE
    assert claims["iat"] == T and claims["exp"] == T + 300
    assert claims["iss"] == "cocoverify"
    assert set(claims["ear.verifier-id"]) == {"developer", "build"}
    sub = claims["submods"]["cpu0"]
    assert sub["ear.status"] == "affirming"
    assert sub["ear.appraisal-policy-id"] == "default_cpu"
    ae = sub["ear.veraison.annotated-evidence"]
    assert set(ae) == {"sgx", "report_data", "init_data", "runtime_data_claims", "init_data_claims"}
    assert ae["report_data"] == "01" * 64
    assert ae["init_data"] == "00" * 64
    assert "report_data" not in ae["sgx"]
    json.dumps(claims)  # JSON-ready


def test_to_ear_options() -> None:
    claims = ear.to_ear(
        _result(),
        iat=1000,
        ttl=dt.timedelta(minutes=1),
        profile=ear.TRUSTEE_PROFILE,
        issuer="CoCo-Attestation-Service",
        trust_claims={"hardware": 97},
    )
    assert claims["eat_profile"] == "tag:github.com,2024:confidential-containers/Trustee"
    assert (claims["iat"], claims["exp"], claims["iss"]) == (1000, 1060, "CoCo-Attestation-Service")
    sub = claims["submods"]["cpu0"]
    assert sub["ear.trustworthiness-vector"]["hardware"] == 97
    assert sub["ear.trustworthiness-vector"]["instance-identity"] == 0
    assert sub["ear.status"] == "contraindicated"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"trust_claims": {"bogus": 2}},
        {"ttl": dt.timedelta(0)},
        {"iat": dt.datetime(2025, 1, 1)},  # naive
    ],
)
def test_to_ear_bad_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        ear.to_ear(_result(), **kwargs)


def test_to_ear_error_needs_iat() -> None:
    with pytest.raises(ConfigurationError):
        ear.to_ear(SignatureInvalid("x"))
    claims = ear.to_ear(SignatureInvalid("x"), iat=AT)
    assert claims["submods"]["cpu0"]["ear.status"] == "contraindicated"
    assert "ear.veraison.annotated-evidence" not in claims["submods"]["cpu0"]


# --- signing and verification ---------------------------------------------------------------


@pytest.mark.parametrize(("key", "alg", "size"), [(P256, "ES256", 64), (P384, "ES384", 96)])
def test_sign_and_verify(key: Any, alg: str, size: int) -> None:
    claims = ear.to_ear(_result())
    token = ear.sign_ear(claims, key, alg)
    header, payload, sig = _parts(token)
    assert header["alg"] == alg and header["jwk"] == ear.public_jwk(key.public_key())
    assert len(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))) == size
    assert payload == claims
    assert ear.verify_ear(token, key.public_key(), at=AT) == claims
    assert ear.verify_ear(token.encode(), None, at=T, allow_embedded_jwk=True) == claims


def test_sign_rejects_wrong_curve_and_alg() -> None:
    claims = ear.to_ear(_result())
    with pytest.raises(ConfigurationError):
        ear.sign_ear(claims, P256, "ES384")
    with pytest.raises(ConfigurationError):
        ear.sign_ear(claims, P256, "HS256")


def test_tampered_payload_rejected() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P256)
    h, _, s = token.split(".")
    _, payload, _ = _parts(token)
    payload["submods"]["cpu0"]["ear.status"] = "affirming"
    payload["submods"]["cpu0"]["ear.trustworthiness-vector"]["hardware"] = 2
    payload["exp"] += 3600
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(f"{h}.{_b64(payload)}.{s}", P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


def test_flipped_signature_bit_rejected() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P256)
    h, p, s = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
    raw[10] ^= 1
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(f"{h}.{p}.{_b64(bytes(raw))}", P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


def test_wrong_key_rejected() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P256)
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(token, OTHER.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


def test_embedded_jwk_is_ignored_when_a_key_is_given() -> None:
    # an attacker re-signs with their own key and embeds it: only the caller's key counts
    forged = ear.sign_ear(ear.to_ear(_result()), OTHER)
    assert ear.verify_ear(forged, None, at=AT, allow_embedded_jwk=True)
    with pytest.raises(SignatureInvalid):
        ear.verify_ear(forged, P256.public_key(), at=AT, allow_embedded_jwk=True)


def test_no_key_without_opt_in() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P256)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, None, at=AT)


def test_signature_length_checked() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P256)
    h, p, s = token.split(".")
    raw = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    with pytest.raises(SignatureInvalid) as err:
        ear.verify_ear(f"{h}.{p}.{_b64(raw + bytes(1))}", P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_SIGNATURE_INVALID


@pytest.mark.parametrize("alg", ["none", "HS256", "RS256", "ES512", None, 256])
def test_alg_allow_list(alg: Any) -> None:
    claims = ear.to_ear(_result())
    token = _resign({"alg": alg}, claims, P256)
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_ALGORITHM_REJECTED


def test_alg_none_unsigned_token_rejected() -> None:
    claims = ear.to_ear(_result())
    token = _b64({"alg": "none"}) + "." + _b64(claims) + "."
    with pytest.raises(CocoverifyError) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason in (Reason.EAR_ALGORITHM_REJECTED, Reason.EAR_MALFORMED)


def test_alg_must_match_key_curve() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P384, "ES384")
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_ALGORITHM_REJECTED
    with pytest.raises(UnsupportedEvidence):
        ear.verify_ear(token, P384.public_key(), at=AT, algorithms=("ES256",))


def test_crit_header_rejected() -> None:
    token = _resign({"alg": "ES256", "crit": ["exp"]}, ear.to_ear(_result()), P256)
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=AT)
    assert err.value.reason is Reason.EAR_ALGORITHM_REJECTED


def test_time_checks() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P256)  # iat = T, exp = T + 300
    key = P256.public_key()
    assert ear.verify_ear(token, key, at=T)
    assert ear.verify_ear(token, key, at=T + 299)
    with pytest.raises(AuthenticityError) as err:
        ear.verify_ear(token, key, at=T + 300)
    assert err.value.reason is Reason.EAR_EXPIRED
    with pytest.raises(AuthenticityError) as err:
        ear.verify_ear(token, key, at=T - 1)
    assert err.value.reason is Reason.EAR_NOT_YET_VALID
    assert ear.verify_ear(token, key, at=T - 5, leeway=10)
    assert ear.verify_ear(token, key, at=T + 305, leeway=10)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, key, at=dt.datetime(2025, 7, 4))  # naive


def test_nbf_checked() -> None:
    claims = ear.to_ear(_result()) | {"nbf": T + 100}
    token = ear.sign_ear(claims, P256)
    with pytest.raises(AuthenticityError) as err:
        ear.verify_ear(token, P256.public_key(), at=T + 50)
    assert err.value.reason is Reason.EAR_NOT_YET_VALID
    assert ear.verify_ear(token, P256.public_key(), at=T + 100)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.pop("iat"),
        lambda c: c.pop("exp"),
        lambda c: c.update(iat=True),
        lambda c: c.update(exp="soon"),
        lambda c: c.pop("eat_profile"),
        lambda c: c.update(submods={}),
        lambda c: c["submods"]["cpu0"].update({"ear.status": "great"}),
        lambda c: c["submods"]["cpu0"]["ear.trustworthiness-vector"].update(hardware=300),
        lambda c: c["submods"]["cpu0"]["ear.trustworthiness-vector"].update(bogus=2),
        lambda c: c["submods"]["cpu0"]["ear.trustworthiness-vector"].update(hardware=True),
    ],
)
def test_claim_shape_checked(mutate: Any) -> None:
    claims = ear.to_ear(_result())
    mutate(claims)
    token = ear.sign_ear(claims, P256)
    with pytest.raises(MalformedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=T)
    assert err.value.reason is Reason.EAR_MALFORMED


def test_profile_checked_when_asked() -> None:
    token = ear.sign_ear(ear.to_ear(_result()), P256)
    assert ear.verify_ear(token, P256.public_key(), at=T, profile=ear.PROFILE)
    with pytest.raises(UnsupportedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=T, profile=ear.TRUSTEE_PROFILE)
    assert err.value.reason is Reason.UNSUPPORTED_PROFILE


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "!!!.e30.AA",
        _b64(b"not json") + "." + _b64({}) + ".AA",
        _b64(b"[1]") + "." + _b64({}) + ".AA",
        _b64(b'{"alg":"ES256","alg":"ES256"}') + "." + _b64({}) + ".AA",
        "eyJhbGciOiJFUzI1NiJ9=.e30.AA",  # padding is not base64url
        "eyJhbGciOiJFUzI1NiJ8.e30.AA",  # non-canonical trailing bits
    ],
)
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(MalformedEvidence) as err:
        ear.verify_ear(token, P256.public_key(), at=T)
    assert err.value.reason is Reason.EAR_MALFORMED


def test_bad_embedded_jwk() -> None:
    claims = ear.to_ear(_result())
    for jwk in (
        None,
        {"kty": "RSA"},
        {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},
        ear.public_jwk(P256.public_key()) | {"y": ear.public_jwk(OTHER.public_key())["y"]},
    ):
        token = _resign({"alg": "ES256", "jwk": jwk}, claims, P256)
        with pytest.raises(MalformedEvidence) as err:
            ear.verify_ear(token, None, at=T, allow_embedded_jwk=True)
        assert err.value.reason is Reason.EAR_MALFORMED


_GOOD = ear.sign_ear(ear.to_ear(_result()), P256)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_tokens_only_raise_cocoverify_errors(data: st.DataObject) -> None:
    raw = bytearray(_GOOD.encode())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    with contextlib.suppress(CocoverifyError):
        ear.verify_ear(bytes(raw), P256.public_key(), at=T)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_text_only_raises_cocoverify_errors(text: str) -> None:
    with pytest.raises(CocoverifyError):
        ear.verify_ear(text, P256.public_key(), at=T)


# --- real vectors and the CLI ---------------------------------------------------------------


def _intel_case(case_id: str) -> tuple[Path, dict[str, Any]]:
    base = require_shared("intel")
    manifest = shared_manifest("intel") or {}
    case = next(c for c in manifest["cases"] if c["id"] == case_id)
    return base / case_id, case


def test_real_tdx_quote_to_signed_ear() -> None:
    folder, case = _intel_case("tdx-v4-dcapqvl-sample")
    result = cocoverify.verify(
        (folder / "tdx_quote").read_bytes(), collateral=[folder], at=case["verify_at"]
    )
    claims = ear.to_ear(result, profile=ear.TRUSTEE_PROFILE)
    sub = claims["submods"]["cpu0"]
    assert sub["ear.status"] == "affirming"
    assert sub["ear.trustworthiness-vector"]["hardware"] == 2
    ae = sub["ear.veraison.annotated-evidence"]
    assert ae["report_data"] == result.claims["report_data"].hex()
    token = ear.sign_ear(claims, P256)
    assert ear.verify_ear(token, P256.public_key(), at=result.verified_at) == claims


def _pem(tmp_path: Path, key: Any) -> str:
    path = tmp_path / "ear-key.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def test_cli_format_ear(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder, case = _intel_case("sgx-v3-dcapqvl-sample")
    argv = ["verify", str(folder / "sgx_quote"), "--collateral", str(folder),
            "--at", case["verify_at"], "--format", "ear"]  # fmt: skip
    # default policy: ConfigurationAndSWHardeningNeeded is rejected (exit 5)
    assert main(argv) == 5
    claims = json.loads(capsys.readouterr().out)
    sub = claims["submods"]["cpu0"]
    assert sub["ear.status"] == "contraindicated"
    assert sub["ear.trustworthiness-vector"]["hardware"] == 96
    assert claims["iat"] == int(dt.datetime.fromisoformat(case["verify_at"]).timestamp())
    # signed, P-384, trustee profile
    assert main([*argv, "--ear-key", _pem(tmp_path, P384), "--ear-profile", "trustee"]) == 5
    token = capsys.readouterr().out.strip()
    got = ear.verify_ear(token, P384.public_key(), at=claims["iat"])
    assert got["eat_profile"] == ear.TRUSTEE_PROFILE
    assert _parts(token)[0]["alg"] == "ES384"


def test_cli_ear_for_unparseable_evidence(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x04\x00\x02\x00" + b"\x00" * 60)
    assert main(["verify", str(bad), "--format", "ear", "--at", "2025-01-01T00:00:00Z"]) == 2
    claims = json.loads(capsys.readouterr().out)
    assert claims["iat"] == int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp())
    assert claims["submods"]["cpu0"]["ear.trustworthiness-vector"]["instance-identity"] == 1


def test_cli_bad_ear_key(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    folder, _ = _intel_case("tdx-v4-dcapqvl-sample")
    rsa_pem = tmp_path / "k.pem"
    rsa_pem.write_text("not a key")
    rc = main(["verify", str(folder / "tdx_quote"), "--format", "ear", "--ear-key", str(rsa_pem)])
    assert rc == 1


def test_sign_options_and_argument_checks() -> None:
    claims = ear.to_ear(_result())
    token = ear.sign_ear(claims, P256, embed_jwk=False, kid="as-key-1")
    header, _, _ = _parts(token)
    assert header == {"alg": "ES256", "typ": "JWT", "kid": "as-key-1"}
    with pytest.raises(MalformedEvidence):  # nothing embedded to fall back on
        ear.verify_ear(token, None, at=T, allow_embedded_jwk=True)
    with pytest.raises(ConfigurationError):
        ear.verify_ear(token, P256.public_key(), at=T, algorithms=("none",))
    with pytest.raises(MalformedEvidence) as err:
        ear.verify_ear(b"\xff.\xff.\xff", P256.public_key(), at=T)
    assert err.value.reason is Reason.EAR_MALFORMED
