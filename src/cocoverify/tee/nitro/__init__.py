"""AWS Nitro Enclaves attestation documents (docs/nitro.md): COSE_Sign1 with ES384, the
certificate chain to the pinned AWS root, claims, policy and the pipeline that runs them."""

from __future__ import annotations

from typing import Any

from cocoverify.result import to_jsonable
from cocoverify.tee.nitro.claims import document_claims
from cocoverify.tee.nitro.parse import looks_like, parse_document
from cocoverify.tee.nitro.pipeline import appraise_document
from cocoverify.tee.nitro.policy import NitroPolicy

__all__ = ["POLICY_SECTIONS", "NitroPolicy", "appraise_document", "describe", "detect"]

POLICY_SECTIONS = {"nitro": NitroPolicy}


def detect(data: bytes) -> str | None:
    """``"nitro"`` for a COSE_Sign1 whose payload carries the NSM document keys, else None."""
    return "nitro" if looks_like(data) else None


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``)."""
    document = parse_document(data)
    doc = document.doc
    return {
        "kind": "nitro",
        "verified": False,
        "tagged": document.tagged,
        "claims": to_jsonable(document_claims(doc)),
        "cabundle_length": len(doc.cabundle),
    }
