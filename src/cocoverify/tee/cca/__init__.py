"""Arm CCA attestation tokens (docs/cca.md): CMW/legacy containers, platform and realm
COSE_Sign1, binding, claims, policy and the pipeline that runs them in order."""

from __future__ import annotations

from typing import Any

from cocoverify.result import to_jsonable
from cocoverify.tee.cca.claims import token_claims
from cocoverify.tee.cca.parse import CcaToken, looks_like, parse_token
from cocoverify.tee.cca.pipeline import appraise_token
from cocoverify.tee.cca.policy import CcaPolicy

__all__ = ["POLICY_SECTIONS", "appraise_token", "describe", "detect"]

POLICY_SECTIONS = {"cca": CcaPolicy}


def detect(data: bytes) -> str | None:
    """``"cca"`` when the bytes start like a CBOR collection or COSE_Sign1, else None."""
    return "cca" if looks_like(data) else None


def _groups(token: CcaToken, claims: dict[str, Any]) -> dict[str, Any]:
    """The groups of ``cocoverify show``'s text view (Arm CCA RMM spec, "Attestation token")."""
    plat, realm = dict(claims["platform"]), dict(claims["realm"])
    return {
        "identifiers": {
            "platform_implementation_id": plat["implementation_id"],
            "platform_instance_id": plat["instance_id"],
            "platform_profile": plat["profile"],
            "verification_service": plat.get("verification_service"),
            "cpak": "the platform key (CPAK) of this instance ID verifies the platform token",
        },
        "header": {
            "container": claims["container"],
            "platform_profile": plat["profile"],
            "realm_profile": realm.get("profile"),
        },
        "body": {
            "realm": {k: v for k, v in realm.items() if k not in ("alg", "profile")},
            "platform": {
                k: v
                for k, v in plat.items()
                if k not in ("alg", "profile", "sw_components", "lifecycle", "lifecycle_state")
            },
        },
        "signature": {
            "platform": f"{token.platform.alg_name}, {len(token.platform.signature)} bytes "
            + (f"(kid {token.platform.kid.hex()})" if token.platform.kid else "(no kid)"),
            "realm": f"{token.realm.alg_name}, {len(token.realm.signature)} bytes, by the realm "
            f"attestation key (RAK, {realm.get('rak_encoding')}) the platform token binds",
        },
        "tcb": {"platform_sw_components": plat.get("sw_components", [])},
        "flags": {
            "lifecycle": f"{plat['lifecycle']:#06x} ({plat['lifecycle_state']})",
        },
    }


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``): ``kind``, ``verified``,
    ``claims`` and the groups of the text view."""
    token = parse_token(data)
    claims: dict[str, Any] = to_jsonable(token_claims(token))
    return {"kind": "cca", "verified": False, "claims": claims, **_groups(token, claims)}
