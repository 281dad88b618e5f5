"""AWS Nitro Enclaves attestation documents (docs/nitro.md): COSE_Sign1 with ES384, the
certificate chain to the pinned AWS root, claims, policy and the pipeline that runs them."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from cocoverify._core.certinfo import load_der_summary
from cocoverify.result import to_jsonable
from cocoverify.tee.nitro.claims import document_claims, is_debug
from cocoverify.tee.nitro.parse import looks_like, parse_document
from cocoverify.tee.nitro.pipeline import appraise_document
from cocoverify.tee.nitro.policy import NitroPolicy

__all__ = ["POLICY_SECTIONS", "NitroPolicy", "appraise_document", "describe", "detect"]

POLICY_SECTIONS = {"nitro": NitroPolicy}


def detect(data: bytes) -> str | None:
    """``"nitro"`` for a COSE_Sign1 whose payload carries the NSM document keys, else None."""
    return "nitro" if looks_like(data) else None


def _certificate(der: bytes) -> dict[str, Any]:
    return load_der_summary(der, "cabundle entry")


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields, nothing verified (``cocoverify show``): ``kind``, ``verified``,
    ``tagged``, ``claims``, ``cabundle_length`` and the groups of the text view."""
    document = parse_document(data)
    doc = document.doc
    claims: dict[str, Any] = to_jsonable(document_claims(doc))
    when = _dt.datetime.fromtimestamp(doc.timestamp / 1000, _dt.UTC).isoformat()
    return {
        "kind": "nitro",
        "verified": False,
        "tagged": document.tagged,
        "claims": claims,
        "cabundle_length": len(doc.cabundle),
        "identifiers": {
            "module_id": doc.module_id,
            "timestamp": f"{doc.timestamp} ({when})",
            "collateral": "none: the document carries its chain to the pinned AWS Nitro root",
        },
        "header": {"cose_sign1_tagged": document.tagged, "digest": doc.digest},
        "body": {
            **{f"pcr{i}": v.hex() for i, v in doc.pcrs.items()},
            "public_key": claims["public_key"],
            "user_data": claims["user_data"],
            "nonce": claims["nonce"],
        },
        "signature": {"algorithm": "ES384", "bytes": len(document.signature)},
        # leaf first, then the bundle from the intermediate nearest the leaf to the root
        "certificates": [_certificate(doc.certificate)]
        + [_certificate(c) for c in reversed(doc.cabundle)],
        "flags": {"debug": "yes (PCR0-2 all zero)" if is_debug(doc) else "no"},
    }
