"""The CCA realm claim set (payload of the realm COSE_Sign1) into a frozen view.

Arm RMM specification §A7.2.3.1 (realm token claims; 1.0 and 2.0 texts). No cryptography
here: the RAK is decoded to coordinates, its on-curve check is in
:mod:`cocoverify.tee.cca.verify`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoverify._core.cbor import (
    as_bstr,
    as_tstr,
    bstr,
    claim,
    claim_map,
    kind,
    opt_bstr,
    opt_choice,
    opt_tstr,
)
from cocoverify._core.cose import parse_ec2_key
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.tee.cca.eat import HASH_SIZES, ueid

__all__ = [
    "HASH_ALGORITHMS",
    "REALM_PROFILE_1",
    "REALM_PROFILE_2",
    "RealmClaims",
    "RealmKey",
    "validate_realm_claims",
]

# Realm profiles (claim 265): RMM 1.0 and RMM 2.0; absent = legacy
REALM_PROFILE_1 = "tag:arm.com,2023:realm#1.0.0"
REALM_PROFILE_2 = "tag:arm.com,2024:realm#2.0.0"
REALM_PROFILES = (REALM_PROFILE_1, REALM_PROFILE_2)

#: Hash algorithm names accepted for realm 44236 / 44240 -> digest size (RMM §A7.2.3.1).
HASH_ALGORITHMS: Mapping[str, int] = {"sha-256": 32, "sha-384": 48, "sha-512": 64}
#: Legacy raw RAK: SEC1 uncompressed point length -> curve.
_RAW_POINT_CURVES = {65: "P-256", 97: "P-384", 133: "P-521"}


@dataclass(frozen=True, slots=True)
class RealmKey:
    """The RAK as found in claim 44237: curve and affine coordinates (not yet on-curve checked)."""

    encoding: str  # "raw_ec_point" | "cose_key"
    curve: str
    x: bytes
    y: bytes
    alg: int | None = None  # COSE_Key alg (3) when given


@dataclass(frozen=True, slots=True)
class RealmClaims:
    """Validated realm claim set (RMM §A7.2.3.1)."""

    profile: str | None
    challenge: bytes
    personalization_value: bytes
    initial_measurement: bytes
    extensible_measurements: tuple[bytes, bytes, bytes, bytes]
    hash_algo_id: str
    public_key: bytes
    public_key_hash_algo_id: str
    rak: RealmKey
    instance_id: bytes | None = None
    mec_policy: int | None = None
    lfa_policy: int | None = None
    devices_token_hash: bytes | None = None


def validate_realm_claims(claims: bytes | Mapping[Any, Any]) -> RealmClaims:
    """Validate a realm claim set (CBOR bytes or a decoded map) against its profile.

    Realm profile absent = legacy (raw P-384 RAK point); realm#1.0.0 and realm#2.0.0 carry
    a COSE_Key. realm#2.0.0 also requires instance-id (256) and MEC policy (44243).
    Unknown numeric or text keys are ignored.
    """
    m = claim_map(claims, "realm.payload")
    profile = opt_tstr(m, 265, "realm.profile")
    if profile is not None and profile not in REALM_PROFILES:
        raise UnsupportedEvidence(
            f"unknown realm profile {profile!r}", reason=Reason.UNSUPPORTED_PROFILE
        )
    challenge = bstr(m, 10, "realm.challenge", (64,))
    rpv = bstr(m, 44235, "realm.personalization_value", (64,))
    rim = bstr(m, 44238, "realm.initial_measurement", HASH_SIZES)
    rems_raw = claim(m, 44239, "realm.extensible_measurements")
    if not isinstance(rems_raw, list | tuple) or len(rems_raw) != 4:
        n = len(rems_raw) if isinstance(rems_raw, list | tuple) else kind(rems_raw)
        raise MalformedEvidence(
            f"extensible measurements: {n}, expected an array of exactly 4",
            field="realm.extensible_measurements",
        )
    if all(type(r) is bytes and len(r) in HASH_SIZES for r in rems_raw):
        rems = tuple(rems_raw)
    else:  # the first that is not a measurement names itself
        rems = tuple(
            as_bstr(r, f"realm.extensible_measurements[{i}]", HASH_SIZES)
            for i, r in enumerate(rems_raw)
        )
    hash_algo_id = _hash_name(claim(m, 44236, "realm.hash_algo_id"), "realm.hash_algo_id")
    public_key = bstr(m, 44237, "realm.public_key")
    where = "realm.public_key_hash_algo_id"
    pk_hash = _hash_name(claim(m, 44240, where), where)
    rak = _realm_key(public_key, profile)
    instance_id = None
    if 256 in m:
        instance_id = ueid(m[256], "realm.instance_id")
    mec = opt_choice(m, 44243, "realm.mec_policy", (0, 1))
    lfa = opt_choice(m, 44244, "realm.lfa_policy", (0, 1))
    devices_hash = opt_bstr(m, 44257, "realm.devices_token_hash", HASH_SIZES)
    if profile == REALM_PROFILE_2:
        if instance_id is None:
            raise MalformedEvidence(
                "mandatory claim 256 missing (realm#2.0.0)", field="realm.instance_id"
            )
        if mec is None:
            raise MalformedEvidence(
                "mandatory claim 44243 missing (realm#2.0.0)", field="realm.mec_policy"
            )
    return RealmClaims(
        profile=profile,
        challenge=challenge,
        personalization_value=rpv,
        initial_measurement=rim,
        extensible_measurements=(rems[0], rems[1], rems[2], rems[3]),
        hash_algo_id=hash_algo_id,
        public_key=public_key,
        public_key_hash_algo_id=pk_hash,
        rak=rak,
        instance_id=instance_id,
        mec_policy=mec,
        lfa_policy=lfa,
        devices_token_hash=devices_hash,
    )


def _hash_name(v: Any, where: str) -> str:
    name = as_tstr(v, where)
    if name not in HASH_ALGORITHMS:
        raise UnsupportedEvidence(
            f"hash algorithm {name!r} (supported: {', '.join(HASH_ALGORITHMS)})",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    return name


def _realm_key(raw: bytes, profile: str | None) -> RealmKey:
    """RAK encoding chosen by the presence of the realm profile (RMM §A7.2.3.1)."""
    where = "realm.public_key"
    if profile is None:
        # legacy: SEC1 uncompressed point 04||X||Y
        curve = _RAW_POINT_CURVES.get(len(raw))
        if curve is None or raw[0] != 0x04:
            raise MalformedEvidence(
                f"legacy RAK must be an uncompressed EC point (65/97/133 bytes), got {len(raw)}",
                field=where,
            )
        n = (len(raw) - 1) // 2
        return RealmKey("raw_ec_point", curve, raw[1 : 1 + n], raw[1 + n :])
    key = parse_ec2_key(raw, where)  # RMM 1.0-rel0 onward: a bstr-wrapped COSE_Key
    return RealmKey("cose_key", key.curve, key.x, key.y, key.alg)
