"""Arm CCA parsing: the CBOR header scanner, container, COSE_Sign1 and claim rules."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from cocoverify import EvidenceError, MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.tee.cca.parse import (
    PLATFORM_PROFILE_2023,
    PLATFORM_PROFILE_2024,
    PLATFORM_PROFILE_LEGACY,
    REALM_PROFILE_1,
    REALM_PROFILE_2,
    check_cbor,
    decode_cbor,
    lifecycle_state,
    parse_sign1,
    parse_token,
    validate_platform_claims,
    validate_realm_claims,
)
from cocoverify_testing.cca import CcaTokenBuilder, cbor_map, collection

B = CcaTokenBuilder()


def _reason(fn: Any, *args: Any) -> tuple[Reason, str | None]:
    with pytest.raises(EvidenceError) as err:
        fn(*args)
    return err.value.reason, getattr(err.value, "field", None)


# --- scanner ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_", "reason"),
    [
        ("1817", Reason.MALFORMED),  # 23 in two bytes
        ("1900ff", Reason.MALFORMED),  # 255 in three bytes
        ("1a0000ffff", Reason.MALFORMED),  # 65535 in five bytes
        ("1b00000000ffffffff", Reason.MALFORMED),  # 2^32-1 in nine bytes
        ("5801ff", Reason.MALFORMED),  # 1-byte bstr with a 1-byte length
        ("f810", Reason.MALFORMED),  # simple value 16 in two bytes
        ("1c", Reason.MALFORMED),  # reserved additional information 28
        ("5f41ff41ffff", Reason.MALFORMED),  # indefinite bstr
        ("9f01ff", Reason.MALFORMED),  # indefinite array
        ("bf0101ff", Reason.MALFORMED),  # indefinite map
        ("ff", Reason.MALFORMED),  # lone break
        ("a201010101", Reason.MALFORMED),  # duplicate key 1
        ("c101", Reason.MALFORMED),  # a tag where none is allowed
        ("0101", Reason.TRAILING_DATA),
        ("43aabb", Reason.TRUNCATED),
        ("83010203"[:6], Reason.TRUNCATED),
        ("a3", Reason.TRUNCATED),
        ("19ff", Reason.TRUNCATED),
        ("", Reason.TRUNCATED),
    ],
)
def test_scanner_rejects(hex_: str, reason: Reason) -> None:
    assert _reason(check_cbor, bytes.fromhex(hex_), "x")[0] is reason


@pytest.mark.parametrize(
    "hex_", ["00", "17", "1818", "19ffff", "a20102030a", "f4", "f6", "f93c00", "fb3ff0000000000000"]
)
def test_scanner_accepts_preferred_encodings(hex_: str) -> None:
    check_cbor(bytes.fromhex(hex_), "x")


def test_scanner_depth_limit() -> None:
    check_cbor(b"\x81" * 16 + b"\x00", "x")
    assert _reason(check_cbor, b"\x81" * 17 + b"\x00", "x")[0] is Reason.MALFORMED


def test_scanner_allows_only_named_tags() -> None:
    check_cbor(bytes.fromhex("d24100"), "x", tags=frozenset({18}))
    with pytest.raises(MalformedEvidence):
        check_cbor(bytes.fromhex("d14100"), "x", tags=frozenset({18}))


def test_scanner_names_the_offset_of_a_duplicate_key() -> None:
    with pytest.raises(MalformedEvidence) as err:
        check_cbor(bytes.fromhex("a2010a010b"), "realm.payload")
    assert err.value.field == "realm.payload" and err.value.offset == 3


@pytest.mark.parametrize(
    "hex_",
    [
        "62c328",  # invalid UTF-8
        "a201f6f93c00f6",  # 1 and 1.0: distinct bytes, equal keys after decoding
    ],
)
def test_decoder_errors_become_malformed(hex_: str) -> None:
    assert _reason(decode_cbor, bytes.fromhex(hex_), "x")[0] is Reason.MALFORMED


def test_decode_requires_bytes() -> None:
    assert _reason(decode_cbor, "a0", "x")[0] is Reason.MALFORMED


# --- container -------------------------------------------------------------------------------


def test_token_views_are_frozen() -> None:
    token = parse_token(B.sign())
    with pytest.raises(AttributeError):
        token.container = "x"  # type: ignore[misc]
    assert token.container == "cmw-907"
    assert token.platform_claims.lifecycle_state == "secured"
    assert token.realm_claims.rak.encoding == "cose_key"


def test_unknown_collection_entries_are_tolerated_and_reported() -> None:
    pf, rl = B.sign_parts()
    data = cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf], 44241: [263, rl], 44242: b"dev"}))
    assert parse_token(data).extra_entries == (44242,)


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],  # collection is not a map
        {b"k": b"v"},  # key type
        {True: b"v"},  # bool key (== 1 in Python)
    ],
)
def test_bad_collection_shapes(body: Any) -> None:
    assert _reason(parse_token, cbor2.dumps(cbor2.CBORTag(907, body)))[0] is Reason.MALFORMED


def test_legacy_entry_must_be_non_empty_bstr() -> None:
    pf, _ = B.sign_parts()
    data = cbor2.dumps(cbor2.CBORTag(399, {44234: pf, 44241: b""}))
    assert _reason(parse_token, data) == (Reason.MALFORMED, "container.realm")


# --- COSE_Sign1 ------------------------------------------------------------------------------


def _sign1(body: Any, tag: int = 18) -> bytes:
    return bytes(cbor2.dumps(cbor2.CBORTag(tag, body)))


PROT = cbor2.dumps({1: -35})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([PROT, {}, b"\xa0"], "platform.cose"),
        ([PROT, {}, None, b"s"], "platform.payload"),  # detached
        ([PROT, {}, "text", b"s"], "platform.payload"),
        ([PROT, {}, b"\xa0", None], "platform.signature"),
        ([PROT, [], b"\xa0", b"s"], "platform.unprotected"),
        ([PROT, {4: "kid"}, b"\xa0", b"s"], "platform.kid"),
        ([cbor2.dumps([1]), {}, b"\xa0", b"s"], "platform.protected"),
        ([{1: -35}, {}, b"\xa0", b"s"], "platform.protected"),
    ],
)
def test_sign1_shapes(body: Any, field: str) -> None:
    assert _reason(parse_sign1, _sign1(body), "platform") == (Reason.MALFORMED, field)


def test_sign1_wrong_tag_is_rejected_by_the_scanner() -> None:
    assert _reason(parse_sign1, _sign1([PROT, {}, b"\xa0", b"s"], 17), "realm")[0] is (
        Reason.MALFORMED
    )


def test_sign1_alg_and_kid() -> None:
    s = parse_sign1(_sign1([PROT, {4: b"k1"}, b"\xa0", b"sig"]), "realm")
    assert (s.alg, s.alg_name, s.kid) == (-35, "ES384", b"k1")
    with pytest.raises(UnsupportedEvidence) as err:
        parse_sign1(_sign1([cbor2.dumps({1: "ES384"}), {}, b"\xa0", b"s"]), "realm")
    assert err.value.reason is Reason.UNSUPPORTED_ALGORITHM


# --- platform claims -------------------------------------------------------------------------


def _platform(**changes: Any) -> dict[Any, Any]:
    claims = B.platform_claims()
    for k, v in changes.items():
        key = int(k[1:])
        if v is None:
            claims.pop(key)
        else:
            claims[key] = v
    return claims


@pytest.mark.parametrize("profile", [PLATFORM_PROFILE_LEGACY, PLATFORM_PROFILE_2023])
def test_platform_profiles(profile: str) -> None:
    assert validate_platform_claims(_platform(k265=profile)).profile == profile


def test_platform_2024_profile_extras() -> None:
    dev = {2: bytes(32), 3: bytes(32), 4: True, 5: "spdm-1.2.0", 6: bytes(32), 7: "gpu"}
    cxl = {2: bytes(48), 3: bytes(48), 4: False, 5: "tdisp", 7: "cxl-type-3", 8: 2}
    rot = {1: "BL1", 2: 0, 3: 1, 4: bytes(32)}
    claims = validate_platform_claims(
        _platform(k265=PLATFORM_PROFILE_2024, k2394=1, k2404=[dev, cxl], k2405=[rot], k2403=b"m")
    )
    assert claims.client_id == 1 and claims.devices is not None and len(claims.devices) == 2
    assert claims.to_claims()["tbb_rotpk"][0]["name"] == "BL1"
    for bad in (
        {**dev, 6: None},  # vca-digest required for SPDM
        {k: v for k, v in dev.items() if k != 6},
        {**cxl, 8: 3},
        {k: v for k, v in cxl.items() if k != 8},  # encryption-type required for cxl-type-3
        {**dev, 4: 1},  # uses-ide must be a bool
    ):
        bad = {k: v for k, v in bad.items() if v is not None}
        with pytest.raises(MalformedEvidence):
            validate_platform_claims(_platform(k265=PLATFORM_PROFILE_2024, k2394=1, k2404=[bad]))
    with pytest.raises(MalformedEvidence) as err:
        validate_platform_claims(_platform(k265=PLATFORM_PROFILE_2024, k2394=2))
    assert err.value.field == "platform.client_id"
    with pytest.raises(MalformedEvidence):
        validate_platform_claims(
            _platform(k265=PLATFORM_PROFILE_2024, k2394=1, k2405=[{**rot, 2: -1}])
        )


@pytest.mark.parametrize(
    ("value", "state"),
    [
        (0x0000, "unknown"),
        (0x10FF, "assembly-and-test"),
        (0x2000, "cca-platform-rot-provisioning"),
        (0x3003, "secured"),
        (0x4000, "non-cca-platform-rot-debug"),
        (0x5000, "recoverable-cca-platform-rot-debug"),
        (0x60FF, "decommissioned"),
        (0x0100, None),
        (0x7000, None),
        (0x10000, None),
    ],
)
def test_lifecycle_ranges(value: int, state: str | None) -> None:
    assert lifecycle_state(value) == state


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"k2395": True}, "platform.lifecycle"),
        ({"k2395": -1}, "platform.lifecycle"),
        ({"k2399": [{1: 7, 2: bytes(32), 5: bytes(32)}]}, "platform.sw_components[0].type"),
        ({"k2399": [{2: bytes(32), 4: 1, 5: bytes(32)}]}, "platform.sw_components[0].version"),
        ({"k2399": [{2: bytes(32), 5: bytes(32), 6: b"x"}]}, "platform.sw_components[0].hash_algo"),
        ({"k2399": ["x"]}, "platform.sw_components[0]"),
        ({"k2402": 1}, "platform.hash_algo_id"),
        ({"k265": 1}, "platform.profile"),
    ],
)
def test_platform_claim_types(change: dict[str, Any], field: str) -> None:
    assert _reason(validate_platform_claims, _platform(**change)) == (Reason.MALFORMED, field)


def test_unknown_platform_and_component_keys_are_ignored() -> None:
    comp = {1: "BL", 2: bytes(32), 3: 1, 5: bytes(32), 99: "x", "vendor": 1}
    claims = validate_platform_claims({**_platform(k2399=[comp]), 77777: 1, "x-v": "y"})
    assert claims.sw_components[0].type == "BL"


def test_float_claim_key_is_not_a_claim() -> None:
    claims = _platform()
    claims[10.0] = claims.pop(10)
    assert _reason(validate_platform_claims, claims)[1] == "platform.payload"


# --- realm claims ----------------------------------------------------------------------------


def test_realm_profiles_and_rak_encodings() -> None:
    legacy = B.with_profiles(PLATFORM_PROFILE_LEGACY, None).realm_claims()
    assert validate_realm_claims(legacy).rak.encoding == "raw_ec_point"
    r2 = validate_realm_claims(
        B.with_profiles(PLATFORM_PROFILE_2023, REALM_PROFILE_2).realm_claims()
    )
    assert (r2.profile, r2.mec_policy, r2.rak.curve) == (REALM_PROFILE_2, 1, "P-384")
    r1 = validate_realm_claims(B.realm_claims())
    assert r1.profile == REALM_PROFILE_1 and r1.instance_id is None


@pytest.mark.parametrize("curve", ["P-256", "P-521"])
def test_legacy_raw_rak_on_other_curves(curve: str) -> None:
    b = B.with_profiles(PLATFORM_PROFILE_LEGACY, None).with_rak_curve(curve)
    assert validate_realm_claims(b.realm_claims()).rak.curve == curve


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({256: b"\x02" + bytes(32)}, "realm.instance_id"),  # validated when present in 1.0
        ({44243: 5}, "realm.mec_policy"),
        ({44244: 2}, "realm.lfa_policy"),
        ({44257: bytes(31)}, "realm.devices_token_hash"),
        ({44239: (bytes(32),) * 4 + ()}, None),
        ({44236: 1}, "realm.hash_algo_id"),
        ({44237: "key"}, "realm.public_key"),
    ],
)
def test_realm_optional_claims_are_validated(change: dict[int, Any], field: str | None) -> None:
    claims = {**B.realm_claims(), **change}
    if field is None:
        validate_realm_claims(claims)
        return
    assert _reason(validate_realm_claims, claims) == (Reason.MALFORMED, field)


def _cose_key(**entries: Any) -> bytes:
    base: dict[int, Any] = {1: 2, -1: 2, -2: bytes(48), -3: bytes(48)}
    for k, v in entries.items():
        key = int(k.replace("m", "-")[1:])
        if v is None:
            base.pop(key)
        else:
            base[key] = v
    return bytes(cbor2.dumps(base))


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (_cose_key(k1=3), "realm.public_key.kty"),
        (_cose_key(k1=None), "realm.public_key.kty"),
        (_cose_key(km1=4), "realm.public_key.crv"),
        (_cose_key(km2=bytes(32)), "realm.public_key.x"),
        (_cose_key(km3=True), "realm.public_key.y"),
        (_cose_key(km4=bytes(48)), "realm.public_key.d"),
        (_cose_key(k3="ES384"), "realm.public_key.alg"),
        (cbor2.dumps([1, 2]), "realm.public_key"),
    ],
)
def test_cose_key_rak_rules(raw: bytes, field: str) -> None:
    claims = {**B.realm_claims(), 44237: raw}
    assert _reason(validate_realm_claims, claims) == (Reason.MALFORMED, field)


def test_legacy_rak_must_be_uncompressed() -> None:
    claims = B.with_profiles(PLATFORM_PROFILE_LEGACY, None).realm_claims()
    claims[44237] = b"\x02" + claims[44237][1:]
    assert _reason(validate_realm_claims, claims) == (Reason.MALFORMED, "realm.public_key")


def test_realm_2_requires_realm_2_claims_only_there() -> None:
    r2 = B.with_profiles(PLATFORM_PROFILE_2023, REALM_PROFILE_2).realm_claims()
    del r2[44243]
    assert _reason(validate_realm_claims, r2) == (Reason.MALFORMED, "realm.mec_policy")
    r1 = {**B.realm_claims(), 44243: 0}  # RMM 1.1-era token with the 2023 profile
    assert validate_realm_claims(r1).mec_policy == 0


def test_realm_claims_from_bytes_with_duplicate_key() -> None:
    pairs = list(B.realm_claims().items())
    assert _reason(validate_realm_claims, cbor_map([*pairs, pairs[0]]))[1] == "realm.payload"


def test_collection_helper_round_trip() -> None:
    pf, rl = B.sign_parts()
    assert parse_token(collection(pf, rl, container="collection-399")).container == (
        "collection-399"
    )
