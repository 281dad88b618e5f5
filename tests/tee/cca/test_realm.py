"""Arm CCA realm claim set: profiles, RAK encodings (raw point, COSE_Key), RMM 2.0 claims."""

from __future__ import annotations

from typing import Any

import cbor2
import pytest

from cocoverify import EvidenceError, Reason
from cocoverify.tee.cca.platform import PLATFORM_PROFILE_2023, PLATFORM_PROFILE_LEGACY
from cocoverify.tee.cca.realm import REALM_PROFILE_1, REALM_PROFILE_2, validate_realm_claims
from cocoverify_testing.cca import CcaTokenBuilder, cbor_map

B = CcaTokenBuilder()


def _reason(fn: Any, *args: Any) -> tuple[Reason, str | None]:
    with pytest.raises(EvidenceError) as err:
        fn(*args)
    return err.value.reason, getattr(err.value, "field", None)


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
