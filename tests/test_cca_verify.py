"""Arm CCA: key selection, signatures, binding, appraisal fields, policy knobs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import cocoverify
from cocoverify import (
    AuthenticityError,
    Collateral,
    CollateralInvalid,
    CollateralUnavailable,
    ConfigurationError,
    MeasurementMismatch,
    Policy,
    PolicyRejected,
    Reason,
    SignatureInvalid,
)
from cocoverify.tee.cca.parse import PLATFORM_PROFILE_LEGACY, parse_token
from cocoverify.tee.cca.pipeline import cpak_candidates
from cocoverify.tee.cca.policy import CcaPolicy, SwComponentReference
from cocoverify.tee.cca.verify import check_binding, key_from_jwk, verify_sign1
from cocoverify_testing.cca import CcaTokenBuilder, FakeCcaPlatform
from cocoverify_testing.pki import ec_key

AT = "2026-01-01T00:00:00Z"
B = CcaTokenBuilder()
TOKEN = B.sign()
CPAK = B.platform.cpak.public_key()


def _verify(data: bytes = TOKEN, **kwargs: Any) -> cocoverify.VerificationResult:
    kwargs.setdefault("collateral", Collateral(public_keys=(CPAK,)))
    return cocoverify.verify(data, at=AT, **kwargs)


# --- appraisal -------------------------------------------------------------------------------


def test_appraisal_fields() -> None:
    result = _verify()
    claims = result.claims
    assert result.tee == "cca" and result.tcb_status is None
    assert claims["container"] == "cmw-907"
    assert claims["platform"]["alg"] == "ES384" and claims["realm"]["alg"] == "ES384"
    assert claims["realm"]["challenge"] == B.challenge
    assert claims["platform"]["sw_components"][1]["type"] == "RMM"
    assert result.collateral["cpak"]["bound"] is False
    assert result.warnings == ()
    out = result.to_dict()
    assert out["claims"]["platform"]["instance_id"] == B.platform.instance_id.hex()


def test_warning_when_measurement_sizes_do_not_match_hash_algo() -> None:
    token = B.with_realm_claim(44238, bytes(64)).sign()
    assert any("initial_measurement" in w for w in _verify(token).warnings)


def test_nonce_is_the_realm_challenge() -> None:
    assert _verify(expected_report_data=B.challenge).accepted
    with pytest.raises(PolicyRejected):  # a prefix is zero-padded, so it does not match
        _verify(expected_report_data=B.challenge[:32].hex())
    with pytest.raises(PolicyRejected) as err:
        _verify(expected_report_data=bytes(64))
    assert err.value.reason is Reason.REPORT_DATA_MISMATCH
    short = B.with_challenge(b"\x07" * 16 + bytes(48)).sign()
    assert _verify(short, expected_report_data=b"\x07" * 16).accepted


def test_init_data_is_the_personalization_value() -> None:
    rpv = B.realm_claims()[44235]
    assert _verify(expected_init_data=rpv).accepted
    with pytest.raises(PolicyRejected) as err:
        _verify(expected_init_data=b"\x01" * 64)
    assert err.value.reason is Reason.INIT_DATA_MISMATCH


# --- CPAK selection --------------------------------------------------------------------------


def test_no_cpak_is_collateral_missing() -> None:
    with pytest.raises(CollateralUnavailable) as err:
        _verify(collateral=Collateral())
    assert err.value.reason is Reason.COLLATERAL_MISSING


def test_non_ec_keys_are_not_candidates() -> None:
    rsa_pub = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    k1 = ec.generate_private_key(ec.SECP256K1()).public_key()
    with pytest.raises(CollateralUnavailable):
        _verify(collateral=Collateral(public_keys=(rsa_pub, k1)))


def test_each_unbound_key_is_tried() -> None:
    other = ec_key("someone-else", "P-384").public_key()
    result = _verify(collateral=Collateral(public_keys=(other, CPAK)))
    assert result.collateral["cpak"]["source"] == "public key #1"


def test_bound_trust_anchor_wins_over_unbound_keys() -> None:
    wrong = FakeCcaPlatform(label="wrong").cpak_jwk()
    store = B.platform.ta_store()
    coll = Collateral(documents=(wrong, store))
    token = parse_token(TOKEN)
    cands = cpak_candidates(coll, token.platform_claims)
    assert [c.bound for c in cands] == [True]
    assert _verify(collateral=coll).collateral["cpak"]["bound"] is True
    # a store entry for this instance but with a wrong key must not fall back to others
    bad_store = FakeCcaPlatform(label="wrong").ta_store(B.platform.instance_id)
    bad_store[0]["implementation-id"] = B.platform.implementation_id.hex()
    with pytest.raises(SignatureInvalid):
        _verify(collateral=Collateral(public_keys=(CPAK,), documents=(bad_store,)))


def test_trust_anchor_with_other_implementation_id_is_ignored() -> None:
    store = B.platform.ta_store()
    store[0]["implementation-id"] = "00" * 32
    with pytest.raises(CollateralUnavailable):
        _verify(collateral=Collateral(documents=(store,)))


def test_trust_anchor_ids_may_be_base64() -> None:
    import base64

    store = B.platform.ta_store()
    store[0]["instance-id"] = base64.b64encode(B.platform.instance_id).decode()
    del store[0]["implementation-id"]
    assert _verify(collateral=Collateral(documents=(store,))).accepted


def test_jwk_set_and_bad_store_entries() -> None:
    assert _verify(collateral=Collateral(documents=({"keys": [B.platform.cpak_jwk()]},))).accepted
    store = B.platform.ta_store()
    store[0]["pkey"] = "not a jwk"
    with pytest.raises(CollateralInvalid) as err:
        _verify(collateral=Collateral(documents=(store,)))
    assert err.value.reason is Reason.COLLATERAL_MALFORMED


@pytest.mark.parametrize(
    ("change", "error"),
    [
        # a JWK of a type no CPAK has is skipped (test_review_cca.py): then no key at all
        ({"kty": "RSA"}, CollateralUnavailable),
        ({"crv": "P-192"}, CollateralUnavailable),
        # a broken EC key on a CPAK curve is broken collateral
        ({"x": 5}, CollateralInvalid),
        ({"x": "!!"}, CollateralInvalid),
        ({"y": "AAAA"}, CollateralInvalid),
    ],
)
def test_unusable_jwk(change: dict[str, Any], error: type[Exception]) -> None:
    jwk = {**B.platform.cpak_jwk(), **change}
    with pytest.raises(ValueError):
        key_from_jwk(jwk)
    with pytest.raises(error):
        _verify(collateral=Collateral(documents=(jwk,)))


def test_other_json_documents_are_ignored() -> None:
    coll = Collateral(public_keys=(CPAK,), documents=({"platform": []}, [1, 2], "x"))
    assert _verify(collateral=coll).accepted


@pytest.mark.parametrize("curve", ["P-256", "P-384", "P-521"])
def test_cpak_curves_with_pem_jwk_and_store(curve: str, tmp_path: Path) -> None:
    b = CcaTokenBuilder(platform=FakeCcaPlatform(curve))
    (tmp_path / "k.pem").write_bytes(b.platform.cpak_pem())
    (tmp_path / "k.json").write_text(json.dumps(b.platform.cpak_jwk()))
    (tmp_path / "ta.json").write_text(json.dumps(b.platform.ta_store()))
    token = b.sign()
    for name in ("k.pem", "k.json", "ta.json"):
        assert cocoverify.verify(token, collateral=[tmp_path / name], at=AT).accepted


# --- signatures and binding -----------------------------------------------------------------


def test_verify_sign1_curve_mismatch_and_bad_signature() -> None:
    token = parse_token(TOKEN)
    p256 = FakeCcaPlatform("P-256").cpak.public_key()
    with pytest.raises(SignatureInvalid) as err:
        verify_sign1(token.platform, p256, "platform")
    assert err.value.reason is Reason.KEY_TYPE_MISMATCH
    other = ec_key("x", "P-384").public_key()
    with pytest.raises(SignatureInvalid) as err:
        verify_sign1(token.platform, other, "platform")
    assert err.value.reason is Reason.SIGNATURE_INVALID
    verify_sign1(token.platform, CPAK, "platform")


def test_realm_signed_with_rak_of_other_curve() -> None:
    token = B.with_rak_curve("P-256").sign()  # ES256 realm, P-256 COSE_Key
    assert _verify(token).claims["realm"]["alg"] == "ES256"


def test_binding_hashes_the_claim_bytes_as_carried() -> None:
    token = parse_token(B.with_profiles(PLATFORM_PROFILE_LEGACY, None).sign())
    check_binding(token.platform_claims.challenge, token.realm_claims)
    with pytest.raises(AuthenticityError) as err:
        check_binding(token.platform_claims.challenge[::-1], token.realm_claims)
    assert err.value.reason is Reason.BINDING_INVALID


def test_platform_signature_is_checked_before_the_realm() -> None:
    token = B.with_signature_defect("platform", "bitflip").with_signature_defect("realm", "zero")
    with pytest.raises(SignatureInvalid) as err:
        _verify(token.sign())
    assert "platform" in str(err.value)


# --- policy ---------------------------------------------------------------------------------


def _policy(cca: dict[str, Any], **top: Any) -> Policy:
    return Policy.from_dict({"cca": cca, **top})


def _rejected(policy: Policy, data: bytes = TOKEN) -> PolicyRejected:
    with pytest.raises(PolicyRejected) as err:
        _verify(data, policy=policy)
    return err.value


def test_default_policy_requires_secured() -> None:
    assert CcaPolicy().allowed_lifecycle_states == frozenset({"secured"})
    err = _rejected(Policy.default(), B.with_platform_claim(2395, 0x1000).sign())
    assert err.reason is Reason.LIFECYCLE_REJECTED
    ok = _policy({"allowed_lifecycle_states": ["secured", "assembly-and-test"]})
    assert _verify(B.with_platform_claim(2395, 0x1000).sign(), policy=ok).accepted


def test_debug_lifecycle_sets_debug() -> None:
    debug = B.with_platform_claim(2395, 0x5001).sign()
    assert _rejected(Policy.default(), debug).reason is Reason.DEBUG_ENABLED
    pol = _policy(
        {"allowed_lifecycle_states": ["recoverable-cca-platform-rot-debug"]},
        unsafe_allow_debug=True,
    )
    assert _verify(debug, policy=pol).accepted


@pytest.mark.parametrize(
    ("knob", "good", "bad"),
    [
        ("platform_implementation_id", B.platform.implementation_id.hex(), "00" * 32),
        ("platform_instance_id", B.platform.instance_id.hex(), "01" + "00" * 32),
        ("platform_config", "cfcfcfcf", "cfcf"),
        ("realm_initial_measurement", B.realm_claims()[44238].hex(), "00" * 32),
        ("realm_personalization_value", B.realm_claims()[44235].hex(), "00" * 64),
    ],
)
def test_allow_lists(knob: str, good: str, bad: str) -> None:
    assert _verify(policy=_policy({knob: [good]})).accepted
    err = _rejected(_policy({knob: [bad, "11" * (len(bad) // 2)]}))
    assert isinstance(err, MeasurementMismatch) and err.reason is Reason.MEASUREMENT_MISMATCH
    assert err.claim == knob


def test_rem_slots() -> None:
    rems = B.realm_claims()[44239]
    assert _verify(
        policy=_policy({"realm_extensible_measurements": [None, rems[1].hex(), None, None]})
    ).accepted
    err = _rejected(_policy({"realm_extensible_measurements": [None, None, None, ["00" * 32]]}))
    assert isinstance(err, MeasurementMismatch)
    assert err.claim == "realm_extensible_measurements[3]"


def test_sw_component_reference_values() -> None:
    claims = B.platform_claims()[2399]
    refs = [
        {"type": c[1], "measurement": c[2].hex(), "signer_id": c[5].hex(), "version": c[4]}
        for c in claims
    ]
    assert _verify(policy=_policy({"platform_sw_components": refs})).accepted
    # measurement only, no type: still matches
    assert _verify(
        policy=_policy({"platform_sw_components": [{"measurement": c[2].hex()} for c in claims]})
    ).accepted
    for change in ({"signer_id": "00" * 32}, {"version": "9.9"}, {"type": "BL"}):
        bad = [{**refs[0], **change}, refs[1]]
        err = _rejected(_policy({"platform_sw_components": bad}))
        assert isinstance(err, MeasurementMismatch)
        assert err.claim == "platform_sw_components[RSE_BL2]"
    # a type named by the references but absent from the token
    extra = [*refs, {"type": "SCP_BL1", "measurement": "00" * 32}]
    err = _rejected(_policy({"platform_sw_components": extra}))
    assert isinstance(err, MeasurementMismatch)
    assert err.claim == "platform_sw_components[SCP_BL1]"


@pytest.mark.parametrize(
    "cca",
    [
        {"allowed_lifecycle_states": ["prod"]},
        {"allowed_lifecycle_states": []},
        {"allowed_lifecycle_states": [1]},
        {"platform_implementation_id": ["00" * 31]},
        {"realm_personalization_value": ["00" * 32]},
        {"realm_initial_measurement": ["00" * 20]},
        {"realm_extensible_measurements": [None, None, None]},
        {"realm_extensible_measurements": [None, None, None, ["00" * 20]]},
        {"platform_sw_components": []},
        {"platform_sw_components": [{"type": "BL"}]},
        {"platform_sw_components": [{"measurement": "00" * 32, "colour": "red"}]},
        {"platform_sw_components": [{"measurement": "00" * 32, "signer_id": "00"}]},
        {"platform_sw_components": [{"measurement": "00" * 32, "type": 1}]},
        {"platform_sw_components": ["x"]},
        {"platform_sw_components": "x"},
        {"nonce": "00"},
    ],
)
def test_policy_validation(cca: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError) as err:
        _policy(cca)
    assert err.value.reason is Reason.INVALID_POLICY


def test_policy_round_trip() -> None:
    pol = _policy(
        {
            "allowed_lifecycle_states": ["secured", "non-cca-platform-rot-debug"],
            "platform_sw_components": [
                {"type": "RMM", "measurement": "aa" * 32, "signer_id": "bb" * 48, "version": "1"}
            ],
            "realm_extensible_measurements": [None, ["cc" * 64], None, None],
            "platform_config": ["cfcf"],
        }
    )
    assert Policy.from_dict(pol.to_dict()) == pol
    assert Policy.default().to_dict().get("cca") is None
    ref = SwComponentReference(measurement=b"\x01" * 32)
    assert ref.to_dict() == {"measurement": "01" * 32}


def test_signature_must_have_the_exact_coordinate_width() -> None:
    import dataclasses

    from cryptography.hazmat.primitives import hashes

    from cocoverify.tee.cca.verify import sign1_verifies
    from cocoverify_testing.pki import sign_ecdsa_raw

    sign1 = parse_token(TOKEN).platform
    key = B.platform.cpak
    tbs = sign1.to_be_signed()
    exact = sign_ecdsa_raw(key, tbs, hashes.SHA384())
    padded = sign_ecdsa_raw(key, tbs, hashes.SHA384(), width=49)  # leading zero bytes
    assert sign1_verifies(dataclasses.replace(sign1, signature=exact), CPAK)
    assert not sign1_verifies(dataclasses.replace(sign1, signature=padded), CPAK)


def test_extra_collection_entries_are_reported() -> None:
    import cbor2

    pf, rl = B.sign_parts()
    data = cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf], 44241: [263, rl], 9: b"x"}))
    assert any("ignored" in w for w in _verify(data).warnings)


def test_lone_platform_token_api() -> None:
    from cocoverify.tee.cca.pipeline import verify_platform_token

    pf, _ = B.sign_parts()
    claims = verify_platform_token(pf, collateral=Collateral(public_keys=(CPAK,)))
    assert claims["instance_id"] == B.platform.instance_id and claims["alg"] == "ES384"
    bad, _ = B.with_signature_defect("platform", "bitflip").sign_parts()
    with pytest.raises(SignatureInvalid):
        verify_platform_token(bad, collateral=Collateral(public_keys=(CPAK,)))
    with pytest.raises(CollateralUnavailable):
        verify_platform_token(pf, collateral=Collateral())


def test_cose_key_alg_matching_the_realm_alg_is_accepted() -> None:
    import cbor2

    rak = B.rak_bytes()
    key = cbor2.dumps({1: 2, 3: -35, -1: 2, -2: rak[8:56], -3: rak[59:107]})
    assert _verify(B.with_rak_bytes(key).sign()).claims["realm"]["public_key"] == key


def test_jwk_kid_binds_a_key_to_the_token() -> None:
    wrong = FakeCcaPlatform(label="wrong").cpak_jwk()
    right = B.platform.cpak_jwk()
    token = B.with_headers("platform", {1: -35}, {4: b"iak-7"}).sign()
    # the JWK named by the COSE kid is the only one tried, even if another would verify
    named_wrong = Collateral(documents=({"keys": [{**wrong, "kid": "iak-7"}, right]},))
    with pytest.raises(SignatureInvalid):
        _verify(token, collateral=named_wrong)
    named_right = Collateral(documents=({"keys": [wrong, {**right, "kid": "iak-7"}]},))
    # selected by the (unauthenticated) COSE kid, but not bound to the instance
    assert not _verify(token, collateral=named_right).collateral["cpak"]["bound"]
    # a kid naming the instance-id binds too; an unrelated kid leaves the key unbound
    by_instance = {**right, "kid": B.platform.instance_id.hex()}
    assert _verify(collateral=Collateral(documents=(by_instance,))).collateral["cpak"]["bound"]
    other_kid = {**right, "kid": "something-else"}
    assert not _verify(collateral=Collateral(documents=(other_kid,))).collateral["cpak"]["bound"]
