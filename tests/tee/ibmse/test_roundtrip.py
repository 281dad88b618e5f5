"""IBM Secure Execution end to end on the fake PKI: ``cocoverify.ibmse.make_request`` ->
fake Ultravisor -> ``verify_response`` / ``cocoverify.verify`` / the CLI, kept and wrapped
(trustee) secrets, and one-defect negatives of the response."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import (
    AuthenticityError,
    CocoverifyError,
    CollateralUnavailable,
    EvidenceError,
    Policy,
    PolicyRejected,
    Reason,
    ibmse,
    registry,
)
from cocoverify.cli.show import describe
from cocoverify.tee.ibmse.parse import boot_hdr_tags_from_header
from cocoverify.tee.ibmse.secret import RequestSecret, UnwrapKey, wrap
from cocoverify.tee.ibmse.verify import measurement
from cocoverify_testing.ibmse import HOSTS, NOW, FakeIbmPki, FakeUltravisor
from cocoverify_testing.pki import fill, rsa_key

from _shared.cli import run_cli_json

PKI = FakeIbmPki()
HDR = (Path(__file__).parent / "kat" / "secure_guest.hdr").read_bytes()
TAGS = boot_hdr_tags_from_header(HDR)
REPORT_DATA = fill("ibmse-report-data", 64)
USER_DATA = REPORT_DATA + b"trailing user data"
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
UV = FakeUltravisor(PKI.host_key(HOSTS[1]), TAGS)
RESPONSE = UV.answer(REQ.challenge, USER_DATA)


def _json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj).encode()


def _with(**changes: Any) -> bytes:
    out = dict(RESPONSE)
    for key, value in changes.items():
        out[key] = base64.b64encode(value).decode() if isinstance(value, bytes) else value
    return _json(out)


def _flip(key: str, index: int = 0) -> bytes:
    raw = bytearray(base64.b64decode(RESPONSE[key]))
    raw[index] ^= 1
    return _with(**{key: bytes(raw)})


def test_kept_secret() -> None:
    result = ibmse.verify_response(
        _json(RESPONSE), secret=REQ.secret, expected_report_data=REPORT_DATA
    )
    assert result.tee == "se" and result.collateral["measurement_key"] == "kept"
    claims = result.to_dict()["claims"]
    assert set(claims) == {
        "cuid", "report_data", "version", "image_phkh", "attestation_phkh", "tag", "user_data"
    }  # fmt: skip
    assert claims["version"] == 256
    assert claims["report_data"] == REPORT_DATA.hex()
    assert claims["tag"] == TAGS.tag.hex()
    assert claims["attestation_phkh"] == REQ.secret.host_key_hashes[1].hex()
    assert claims["cuid"] == UV.cuid.hex()


def test_wrapped_secret_as_trustee() -> None:
    result = ibmse.verify_response(_json(RESPONSE), unwrap_key=WRAP)
    assert result.collateral["measurement_key"] == "wrapped"
    assert any("trustee mode" in w for w in result.warnings)


def test_through_verify_and_text_forms() -> None:
    coll = ibmse.secret_collateral(REQ.secret)
    text = _json(RESPONSE)
    as_string = json.dumps(text.decode()).encode()  # JSON in a JSON string (KBS)
    b64url = base64.urlsafe_b64encode(text).rstrip(b"=")  # trustee AS REST
    for data in (text, as_string, b64url, text.decode()):
        assert cocoverify.verify(data, collateral=coll).tee == "se"
    assert registry.detect(text).name == "ibmse"


def test_cli_with_a_secret_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evidence = tmp_path / "response.json"
    evidence.write_bytes(_json(RESPONSE))
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps(REQ.secret.to_json()))
    rc, out = run_cli_json(
        capsys, "verify", str(evidence), "--collateral", str(secret),
        "--report-data", REPORT_DATA.hex(),
    )  # fmt: skip
    assert rc == 0 and out["tee"] == "se", out
    key = tmp_path / "unwrap.json"
    key.write_text(json.dumps(UnwrapKey(WRAP).to_json()))
    rc, out = run_cli_json(capsys, "verify", str(evidence), "--collateral", str(key))
    assert rc == 0 and out["collateral"]["measurement_key"] == "wrapped"
    rc, out = run_cli_json(capsys, "verify", str(evidence))
    assert rc == 4 and out["reason"] == "collateral_missing"
    rc, out = run_cli_json(
        capsys, "verify", str(evidence), "--collateral", str(secret), "--report-data", "00"
    )
    assert rc == 5 and out["reason"] == "report_data_mismatch"


def test_secret_json_round_trip() -> None:
    assert RequestSecret.from_json(REQ.secret.to_json()) == REQ.secret
    assert "measurement_key" not in repr(REQ.secret).split("image_hdr_tags")[0].replace(
        "RequestSecret(", ""
    )
    assert REQ.secret.measurement_key.hex() not in repr(REQ.secret)


def test_show() -> None:
    out = describe(_json(RESPONSE))
    assert out["kind"] == "se" and out["verified"] is False
    assert out["claims"]["tag"] == TAGS.tag.hex() and out["measurement_key_wrapped"]


# --- one defect each ----------------------------------------------------------------------


def _kept(data: bytes, **kw: Any) -> cocoverify.VerificationResult:
    return ibmse.verify_response(data, secret=REQ.secret, **kw)


def _wrapped(data: bytes, key: Any = WRAP, **kw: Any) -> cocoverify.VerificationResult:
    return ibmse.verify_response(data, unwrap_key=key, **kw)


@pytest.mark.parametrize(
    "field", ["measurement", "user_data", "cuid", "image_hdr_tags", "additional_data"]
)
@pytest.mark.parametrize("verify", [_kept, _wrapped])
def test_a_changed_byte_fails_the_measurement(field: str, verify: Any) -> None:
    with pytest.raises(AuthenticityError) as err:
        verify(_flip(field, 3))
    assert err.value.reason is Reason.SIGNATURE_INVALID


def test_wrong_rsa_key() -> None:
    with pytest.raises(AuthenticityError) as err:
        _wrapped(_json(RESPONSE), key=rsa_key("ibmse-other-wrap", 2048))
    assert err.value.reason is Reason.BINDING_INVALID


def test_nonce_of_15_bytes() -> None:
    short = wrap(WRAP.public_key(), REQ.secret.nonce[:15])
    with pytest.raises(AuthenticityError) as err:
        _wrapped(_with(encr_request_nonce=short))
    assert err.value.reason is Reason.BINDING_INVALID


def test_forged_wrapped_key_is_the_trustee_mode_weakness() -> None:
    """Whoever holds the RSA public key can wrap a key of their own and measure with it;
    only the kept secret refuses that."""
    own_key, own_nonce = b"\x42" * 64, b"\x24" * 16
    forged = dict(RESPONSE)
    forged["encr_measurement_key"] = base64.b64encode(wrap(WRAP.public_key(), own_key)).decode()
    forged["encr_request_nonce"] = base64.b64encode(wrap(WRAP.public_key(), own_nonce)).decode()
    value = measurement(
        own_key, TAGS, UV.cuid, USER_DATA, own_nonce, base64.b64decode(RESPONSE["additional_data"])
    )
    forged["measurement"] = base64.b64encode(value).decode()
    assert _wrapped(_json(forged)).accepted  # as trustee would
    with pytest.raises(AuthenticityError):
        _kept(_json(forged))


def test_report_data_mismatch() -> None:
    with pytest.raises(PolicyRejected) as err:
        _kept(_json(RESPONSE), expected_report_data=REPORT_DATA[:-1] + b"\x00")
    assert err.value.reason is Reason.REPORT_DATA_MISMATCH
    # shorter expected data is zero-padded to 64, as trustee's regularize_data does
    with pytest.raises(PolicyRejected):
        _kept(_json(RESPONSE), expected_report_data=REPORT_DATA[:32])


def test_additional_data_without_the_attestation_phkh() -> None:
    """Re-measured with the right key, so only the missing PHKH is wrong."""
    add = base64.b64decode(RESPONSE["additional_data"])[:32]
    value = measurement(REQ.secret.measurement_key, TAGS, UV.cuid, USER_DATA, REQ.secret.nonce, add)
    with pytest.raises(EvidenceError) as err:
        _kept(_with(additional_data=add, measurement=value))
    assert err.value.reason is Reason.MALFORMED


def test_kept_secret_pins_tags_and_hosts() -> None:
    other_tags = dict(REQ.secret.to_json()["ibmse_request_secret"])
    other_tags["image_hdr_tags"] = "00" * 208
    secret = RequestSecret.from_json({"ibmse_request_secret": other_tags})
    with pytest.raises(AuthenticityError) as err:
        ibmse.verify_response(_json(RESPONSE), secret=secret)
    assert err.value.reason is Reason.BINDING_INVALID
    only_a = RequestSecret(
        REQ.secret.measurement_key, REQ.secret.nonce, host_key_hashes=REQ.secret.host_key_hashes[:1]
    )
    with pytest.raises(AuthenticityError) as err:
        ibmse.verify_response(_json(RESPONSE), secret=only_a)
    assert err.value.reason is Reason.BINDING_INVALID


def test_no_secret() -> None:
    with pytest.raises(CollateralUnavailable) as err:
        cocoverify.verify(_json(RESPONSE))
    assert err.value.reason is Reason.COLLATERAL_MISSING


def test_many_outstanding_requests() -> None:
    others = [
        ibmse.make_request(
            [PKI.hkd()], image_hdr_tags=TAGS.to_bytes(), unsafe_skip_hkd_verification=True
        ).secret
        for _ in range(3)
    ]
    assert ibmse.verify_response(_json(RESPONSE), secret=[*others, REQ.secret]).accepted
    with pytest.raises(AuthenticityError):
        ibmse.verify_response(_json(RESPONSE), secret=others)


def test_the_request_only_opens_with_a_listed_host_key() -> None:
    stranger = FakeUltravisor(FakeIbmPki(label="stranger").host_key("host-x"), TAGS)
    with pytest.raises(ValueError):
        stranger.answer(REQ.challenge, USER_DATA)


MALFORMED: dict[str, bytes] = {
    "not JSON": b'{"measurement": "cuid" image_hdr_tags"',
    "a string": b'"measurement cuid image_hdr_tags"',
    "missing field": _json({k: v for k, v in RESPONSE.items() if k != "cuid"} | {"x": "cuid"}),
    "url-safe base64": _with(
        measurement=RESPONSE["measurement"].replace("+", "-").replace("/", "_") + "-"
    ),
    "measurement 63 bytes": _with(measurement=bytes(63)),
    "cuid 17 bytes": _with(cuid=bytes(17)),
    "stray trailing bits": _with(cuid=base64.b64encode(bytes(16)).decode()[:-3] + "B=="),
    "no padding": _with(cuid=base64.b64encode(bytes(16)).decode().rstrip("=")),
    "tags 207 bytes": _with(image_hdr_tags=bytes(207)),
    "user data 257 bytes": _with(user_data=bytes(257)),
    "number instead of text": _with(cuid=5),
    "duplicate key": _json(RESPONSE)[:-1] + b', "cuid": "AAAAAAAAAAAAAAAAAAAAAA=="}',
}


@pytest.mark.parametrize("defect", sorted(MALFORMED))
def test_malformed_responses(defect: str) -> None:
    with pytest.raises(EvidenceError) as err:
        _kept(MALFORMED[defect])
    assert err.value.reason is Reason.MALFORMED


def test_an_array_is_not_a_response() -> None:
    with pytest.raises(EvidenceError) as err:
        _kept(b'["measurement", "cuid", "image_hdr_tags"]')
    assert err.value.reason is Reason.UNKNOWN_FORMAT


def test_unknown_keys_are_ignored_with_a_warning() -> None:
    result = _kept(_with(extra="x"))
    assert any("extra" in w for w in result.warnings)


def test_policy_section() -> None:
    claims = _kept(_json(RESPONSE)).claims
    ok = Policy.from_dict(
        {
            "se": {
                "image_phkh": [claims["image_phkh"].hex()],
                "attestation_phkh": [h.hex() for h in REQ.secret.host_key_hashes],
                "tag": TAGS.tag.hex(),
                "cuid": [UV.cuid.hex()],
            }
        }
    )
    assert _kept(_json(RESPONSE), policy=ok).accepted
    for key, size in (("tag", 16), ("cuid", 16), ("image_phkh", 32), ("attestation_phkh", 32)):
        with pytest.raises(PolicyRejected) as err:
            _kept(_json(RESPONSE), policy=Policy.from_dict({"se": {key: "00" * size}}))
        assert err.value.reason is Reason.MEASUREMENT_MISMATCH
    with pytest.raises(CocoverifyError):
        Policy.from_dict({"se": {"tag": "00" * 15}})
    assert Policy.from_dict(ok.to_dict()) == ok
