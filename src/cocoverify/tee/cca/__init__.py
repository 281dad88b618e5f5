"""Arm CCA attestation tokens (docs/cca.md): CMW/legacy containers, platform and realm
COSE_Sign1, binding, claims, policy and the pipeline that runs them in order."""

from __future__ import annotations

from typing import Any

from cocoverify.result import to_jsonable
from cocoverify.tee.cca.claims import token_claims
from cocoverify.tee.cca.parse import looks_like, parse_token
from cocoverify.tee.cca.pipeline import appraise_token
from cocoverify.tee.cca.policy import CcaPolicy

__all__ = ["POLICY_SECTIONS", "appraise_token", "describe", "detect"]

POLICY_SECTIONS = {"cca": CcaPolicy}


def detect(data: bytes) -> str | None:
    """``"cca"`` when the bytes start like a CBOR collection or COSE_Sign1, else None."""
    return "cca" if looks_like(data) else None


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``)."""
    token = parse_token(data)
    return {"kind": "cca", "verified": False, "claims": to_jsonable(token_claims(token))}
