"""The CCA platform claim set (payload of the platform COSE_Sign1) into a frozen view.

Arm RMM specification §A7.2.3.2 (platform token claims, PSA labels); the 2024 profile's
extra claims from draft-ffm-rats-cca-token-03. No cryptography here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoverify._core.cbor import (
    array_of,
    as_uint,
    bstr,
    claim,
    claim_map,
    int_keyed,
    opt_bstr,
    opt_choice,
    opt_tstr,
    tstr,
)
from cocoverify._core.cose import CoseSign1, parse_sign1
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.tee.cca.eat import HASH_SIZES, ueid

__all__ = [
    "DEBUG_LIFECYCLE_STATES",
    "LIFECYCLE_STATES",
    "PLATFORM_PROFILE_2023",
    "PLATFORM_PROFILE_2024",
    "PLATFORM_PROFILE_LEGACY",
    "PlatformClaims",
    "SwComponent",
    "lifecycle_state",
    "parse_platform_token",
    "validate_platform_claims",
]

# Platform profiles (claim 265): RMM 1.0 legacy, draft-ffm-rats-cca-token-00 and -03
PLATFORM_PROFILE_LEGACY = "http://arm.com/CCA-SSD/1.0.0"
PLATFORM_PROFILE_2023 = "tag:arm.com,2023:cca_platform#1.0.0"
PLATFORM_PROFILE_2024 = "tag:arm.com,2024:cca_platform#2.0.0"
PLATFORM_PROFILES = (PLATFORM_PROFILE_LEGACY, PLATFORM_PROFILE_2023, PLATFORM_PROFILE_2024)

#: Lifecycle state (bits 15:8) -> name; RMM specification §A7.2.3.2.6.
LIFECYCLE_STATES: Mapping[int, str] = {
    0x00: "unknown",
    0x10: "assembly-and-test",
    0x20: "cca-platform-rot-provisioning",
    0x30: "secured",
    0x40: "non-cca-platform-rot-debug",
    0x50: "recoverable-cca-platform-rot-debug",
    0x60: "decommissioned",
}
#: States in which some debug of the platform is possible (Appraisal.debug).
DEBUG_LIFECYCLE_STATES = frozenset(
    {"non-cca-platform-rot-debug", "recoverable-cca-platform-rot-debug", "decommissioned"}
)
_SPDM = ("spdm-1.2", "spdm-1.3", "spdm-1.4")


def lifecycle_state(value: int) -> str | None:
    """The lifecycle state name (RMM §A7.2.3.2.6), None for a value outside every range."""
    if not 0 <= value <= 0xFFFF:
        return None
    return LIFECYCLE_STATES.get(value >> 8)


@dataclass(frozen=True, slots=True)
class SwComponent:
    """One platform software component (claim 2399, RMM §A7.2.3.2)."""

    measurement: bytes
    signer_id: bytes
    type: str | None = None
    version: str | None = None
    hash_algo: str | None = None


@dataclass(frozen=True, slots=True)
class PlatformClaims:
    """Validated platform claim set (RMM §A7.2.3.2)."""

    profile: str
    challenge: bytes
    implementation_id: bytes
    instance_id: bytes
    config: bytes
    lifecycle: int
    sw_components: tuple[SwComponent, ...]
    hash_algo_id: str
    verification_service: str | None = None
    # 2024 profile (draft-ffm-rats-cca-token-03)
    client_id: int | None = None
    manufacturing_config: bytes | None = None
    devices: tuple[Mapping[str, Any], ...] | None = None
    tbb_rotpk: tuple[Mapping[str, Any], ...] | None = None
    peer_signers: bytes | None = None

    @property
    def lifecycle_state(self) -> str:
        """Name of the lifecycle state (validated when parsed)."""
        name = lifecycle_state(self.lifecycle)
        assert name is not None  # checked in validate_platform_claims
        return name


def parse_platform_token(data: bytes) -> tuple[CoseSign1, PlatformClaims]:
    """A lone platform ``COSE_Sign1_Tagged`` (as RSE / TF-M emit it) and its claims."""
    sign1 = parse_sign1(data, "platform")
    return sign1, validate_platform_claims(sign1.payload)


def validate_platform_claims(claims: bytes | Mapping[Any, Any]) -> PlatformClaims:
    """Validate a platform claim set (CBOR bytes or a decoded map) against its profile.

    Unknown claims are ignored; every known claim must have its type and size.
    """
    m = claim_map(claims, "platform.payload")
    profile = tstr(m, 265, "platform.profile")
    if profile not in PLATFORM_PROFILES:
        raise UnsupportedEvidence(
            f"unknown platform profile {profile!r}", reason=Reason.UNSUPPORTED_PROFILE
        )
    if 10 in m and isinstance(m[10], list | tuple):
        raise MalformedEvidence(
            "challenge is an array of nonces; CCA requires one bstr", field="platform.challenge"
        )
    challenge = bstr(m, 10, "platform.challenge", HASH_SIZES)
    implementation_id = bstr(m, 2396, "platform.implementation_id", (32,))
    instance_id = ueid(claim(m, 256, "platform.instance_id"), "platform.instance_id")
    config = bstr(m, 2401, "platform.config")
    lifecycle = as_uint(claim(m, 2395, "platform.lifecycle"), "platform.lifecycle")
    if lifecycle_state(lifecycle) is None:
        raise MalformedEvidence(
            f"lifecycle {lifecycle:#x} is in no defined range", field="platform.lifecycle"
        )
    sw = claim(m, 2399, "platform.sw_components")
    if not isinstance(sw, list | tuple) or not sw:
        raise MalformedEvidence(
            "sw-components must be a non-empty array", field="platform.sw_components"
        )
    components = tuple(_sw_component(c, f"platform.sw_components[{i}]") for i, c in enumerate(sw))
    hash_algo_id = tstr(m, 2402, "platform.hash_algo_id")
    verification_service = opt_tstr(m, 2400, "platform.verification_service")
    extra: dict[str, Any] = {}
    if profile == PLATFORM_PROFILE_2024:
        if type(claim(m, 2394, "platform.client_id")) is not int or m[2394] != 1:
            raise MalformedEvidence("client-id must be 1", field="platform.client_id")
        extra["client_id"] = 1
        extra["manufacturing_config"] = opt_bstr(m, 2403, "platform.manufacturing_config")
        extra["peer_signers"] = opt_bstr(m, 2406, "platform.peer_signers")
        if 2404 in m:
            extra["devices"] = array_of(m[2404], "platform.devices", _device)
        if 2405 in m:
            extra["tbb_rotpk"] = array_of(m[2405], "platform.tbb_rotpk", _rotpk)
    return PlatformClaims(
        profile=profile,
        challenge=challenge,
        implementation_id=implementation_id,
        instance_id=instance_id,
        config=config,
        lifecycle=lifecycle,
        sw_components=components,
        hash_algo_id=hash_algo_id,
        verification_service=verification_service,
        **extra,
    )


def _sw_component(value: Any, where: str) -> SwComponent:
    m = int_keyed(value, where)  # unknown keys ignored (as VPsa; decision in docs/cca.md)
    return SwComponent(
        type=opt_tstr(m, 1, f"{where}.type"),
        measurement=bstr(m, 2, f"{where}.measurement", HASH_SIZES),
        version=opt_tstr(m, 4, f"{where}.version"),
        signer_id=bstr(m, 5, f"{where}.signer_id", HASH_SIZES),
        hash_algo=opt_tstr(m, 6, f"{where}.hash_algo"),
    )


def _device(value: Any, where: str) -> Mapping[str, Any]:
    """One entry of the 2024 devices extension (2404), draft-ffm-rats-cca-token-03."""
    m = int_keyed(value, where)
    out: dict[str, Any] = {}
    hash_algo = opt_tstr(m, 1, f"{where}.hash_algo")
    if hash_algo is not None:
        out["hash_algo"] = hash_algo
    out["measurements_digest"] = bstr(m, 2, f"{where}.measurements_digest", HASH_SIZES)
    out["certificate_chain_digest"] = bstr(m, 3, f"{where}.certificate_chain_digest", HASH_SIZES)
    if 4 not in m or not isinstance(m[4], bool):
        raise MalformedEvidence("uses-ide (4) must be a bool", field=f"{where}.uses_ide")
    out["uses_ide"] = m[4]
    protocol = tstr(m, 5, f"{where}.protocol")
    out["protocol"] = protocol
    needs_vca = protocol.startswith(_SPDM)
    vca = opt_bstr(m, 6, f"{where}.vca_digest", HASH_SIZES)
    if needs_vca != (vca is not None):
        raise MalformedEvidence("vca-digest must be present exactly for SPDM", field=f"{where}")
    if vca is not None:
        out["vca_digest"] = vca
    device_type = tstr(m, 7, f"{where}.device_type")
    out["device_type"] = device_type
    enc = opt_choice(m, 8, f"{where}.encryption_type", (0, 1, 2))
    if (device_type == "cxl-type-3") != (enc is not None):
        raise MalformedEvidence(
            "encryption-type must be present exactly for cxl-type-3", field=where
        )
    if enc is not None:
        out["encryption_type"] = enc
    return out


def _rotpk(value: Any, where: str) -> Mapping[str, Any]:
    """One entry of the 2024 TBB RoTPK claim (2405), draft-ffm-rats-cca-token-03."""
    m = int_keyed(value, where)
    out: dict[str, Any] = {"name": tstr(m, 1, f"{where}.name")}
    for key, name in ((2, "active_array_index"), (3, "index")):
        if key not in m:
            raise MalformedEvidence(f"mandatory key {key} missing", field=f"{where}.{name}")
        out[name] = as_uint(m[key], f"{where}.{name}")
    out["hash"] = bstr(m, 4, f"{where}.hash", HASH_SIZES)
    return out
