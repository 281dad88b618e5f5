"""``cocoverify show`` on a collateral file: what it is, who issued it, when it is valid.

The file is recognised by content exactly as ``verify --collateral`` recognises it
(``Collateral.from_bytes``); nothing is verified (no signature, no chain to a root).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives import serialization

from cocoverify._core.certinfo import certificate_summary, crl_summary, key_summary
from cocoverify.cli.show_text import cert_role
from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, EvidenceError, Reason

__all__ = ["describe_collateral"]

#: Intel PCS document fields shown first (Intel PCS API v4, "TCB Info" / "Enclave Identity")
_TCB_INFO = (
    "id",
    "version",
    "tcbType",
    "fmspc",
    "pceId",
    "issueDate",
    "nextUpdate",
    "tcbEvaluationDataNumber",
)
_QE_IDENTITY = ("id", "version", "issueDate", "nextUpdate", "tcbEvaluationDataNumber")


def _crl_role(issuer_cn: str) -> str:
    if "PCK Platform CA" in issuer_cn:
        return "Intel PCK CRL (CA type platform)"
    if "PCK Processor CA" in issuer_cn:
        return "Intel PCK CRL (CA type processor)"
    if "Intel SGX Root CA" in issuer_cn:
        return "Intel SGX Root CA CRL"
    if issuer_cn.startswith("ARK-"):
        return f"AMD CRL of the {issuer_cn} (revokes ASK/ASVK)"
    return "CRL"


def _document(body: bytes, member: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
    doc = json.loads(body)
    inner = doc.get(member) if isinstance(doc, dict) else None
    if not isinstance(inner, dict):
        return {"what": what, "note": f"no {member} object"}
    out: dict[str, Any] = {"what": what}
    out.update({k: inner[k] for k in keys if k in inner})
    levels = inner.get("tcbLevels")
    if isinstance(levels, list):
        statuses = [lv.get("tcbStatus") for lv in levels if isinstance(lv, dict)]
        out["tcb_levels"] = len(levels)
        out["tcb_statuses"] = sorted({s for s in statuses if isinstance(s, str)})
    modules = inner.get("tdxModuleIdentities")
    if isinstance(modules, list):
        out["tdx_module_identities"] = [m.get("id") for m in modules if isinstance(m, dict)]
    out["signed_by"] = "Intel SGX TCB Signing (its chain is a separate file / HTTP header)"
    return out


def _evaluation_numbers(body: bytes) -> dict[str, Any]:
    doc = json.loads(body).get("tcbEvaluationDataNumbers", {})
    numbers = [e.get("tcbEvaluationDataNumber") for e in doc.get("tcbEvalNumbers", [])]
    return {
        "what": "Intel TCB evaluation data numbers",
        "id": doc.get("id"),
        "version": doc.get("version"),
        "issueDate": doc.get("issueDate"),
        "nextUpdate": doc.get("nextUpdate"),
        "numbers": numbers,
    }


def _json_kind(doc: Any) -> str | None:
    if isinstance(doc, dict) and "kty" in doc:
        return f"JWK public key ({doc.get('kty')} {doc.get('crv', '')})".replace(" )", ")")
    if isinstance(doc, dict) and isinstance(doc.get("keys"), list):
        return f"JWK set ({len(doc['keys'])} keys)"
    entries = doc if isinstance(doc, list) else [doc]
    if entries and all(isinstance(e, dict) and "instance-id" in e for e in entries):
        return f"CCA trust-anchor store ({len(entries)} entries)"
    return None


def describe_collateral(data: bytes, source: str) -> dict[str, Any]:
    """The collateral items of ``data``; EvidenceError(unknown_format) when there are none."""
    try:
        c = Collateral.from_bytes(data, source=source)
    except CollateralInvalid as exc:  # recognised, but broken: say so as show does for evidence
        raise EvidenceError(str(exc.args[0]), reason=Reason.UNKNOWN_FORMAT) from None
    items: list[dict[str, Any]] = []
    for body in c.tcb_infos:
        items.append(_document(body, "tcbInfo", _TCB_INFO, "Intel TCB Info"))
    for body in c.qe_identities:
        items.append(_document(body, "enclaveIdentity", _QE_IDENTITY, "Intel QE Identity"))
    for body in c.tcb_evaluation_numbers:
        items.append(_evaluation_numbers(body))
    for crl in c.crls:
        summary = crl_summary(crl)
        items.append({"what": _crl_role(summary["issuer_cn"]), **summary})
    for key in c.public_keys:
        spki = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        items.append(
            {
                "what": f"public key ({key_summary(key)})",
                "spki_sha256": hashlib.sha256(spki).hexdigest(),
            }
        )
    for doc in c.documents:
        kind = _json_kind(doc)
        if kind is not None:
            items.append({"what": kind})
    certificates = []
    for chain in c.chains:
        for cert in chain:
            summary = certificate_summary(cert)
            summary["role"] = cert_role(summary)
            certificates.append(summary)
    if not items and not certificates:
        raise EvidenceError(
            "neither evidence nor collateral of a known kind", reason=Reason.UNKNOWN_FORMAT
        )
    out: dict[str, Any] = {"kind": "collateral", "verified": False}
    if certificates:
        roles = ", ".join(dict.fromkeys(str(s["role"]) for s in certificates))
        items.append({"what": f"{len(certificates)} certificate(s): {roles}"})
    out["collateral"] = items
    if certificates:
        out["certificates"] = certificates
    return out
