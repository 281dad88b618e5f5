"""What a batch record says about the platform behind the evidence, for the fleet report
(docs/batch.md "Fleet report"): its identifier, TCB date, the earliest collateral
``nextUpdate`` and, for Intel, the best (newest) level of the TCB Info that judged it.

Display only: nothing here changes a verdict. The TCB Info read here is the one the
verification used (same FMSPC, TEE type, issue date and evaluation data number), and only
when the verification produced a TCB status, i.e. after that TCB Info was authenticated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, Final

from cocoverify.collateral import Collateral
from cocoverify.result import VerificationResult, format_time, to_jsonable

__all__ = ["ID_CLAIMS", "platform_facts"]

#: Claims that identify a platform, in priority order, with their label. Searched in the
#: claims and one level of nested objects (Intel's ``pck``, CCA's ``platform``).
ID_CLAIMS: Final = (
    ("fmspc", "FMSPC"),
    ("chip_id", "chip ID"),
    ("instance_id", "instance ID"),
    ("module_id", "module ID"),
    ("cuid", "CUID"),
)

#: Claims shown beside the identifier (same search), with their prefix.
_LABEL_CLAIMS: Final = (("product", ""), ("ca", "PCK CA "), ("tdx_module_id", "module "))

#: TCB Info ``id`` per ``tee`` value (Intel PCS API, TCB Info v3 "id").
_TCB_INFO_ID: Final = {"sgx": "SGX", "tdx": "TDX"}


def _find(claims: Mapping[str, Any], name: str) -> Any:
    if name in claims:
        return claims[name]
    for value in claims.values():
        if isinstance(value, Mapping) and name in value:
            return value[name]
    return None


def _identifier(claims: Mapping[str, Any]) -> tuple[str, str] | None:
    for name, label in ID_CLAIMS:
        value = _find(claims, name)
        if value is None:
            continue
        text = to_jsonable(value)
        if name == "chip_id" and (_find(claims, "chip_id_masked") or not str(text).strip("0")):
            return label, "masked"  # MASK_CHIP_ID: every such platform reads as zeros
        return label, str(text)
    return None


def _reported_tcb(claims: Mapping[str, Any]) -> dict[str, int] | None:
    """SNP's REPORTED_TCB components (AMD SEV-SNP ABI, TCB_VERSION), for the report's
    fleet-relative comparison; None for other evidence."""
    tcb = claims.get("reported_tcb")
    if not isinstance(tcb, Mapping):
        return None
    return {str(k): int(v) for k, v in tcb.items() if k != "raw_u64" and isinstance(v, int)}


def _next_update(collateral: Mapping[str, Any]) -> str | None:
    dates = [str(to_jsonable(v)) for k, v in collateral.items() if k.endswith("next_update")]
    return min(dates) if dates else None  # ISO 8601 UTC text sorts by time


def platform_facts(
    result: VerificationResult, collateral: Collateral | None = None
) -> dict[str, Any]:
    """The ``platform`` object of a record: ``kind`` and ``id`` (None when the evidence has
    no identifier claim), ``label`` (product, PCK CA type), ``tcb_date``, ``next_update``
    (the earliest ``*_next_update`` of the collateral used) and ``update``: for Intel, the
    best level of the TCB Info (``tcb_date``, ``status``) and ``below``: what is under it
    (TCB components, PCESVN, a QE or TDX module level that is not UpToDate); ``tcb``:
    SNP's reported TCB components (None for other evidence)."""
    claims = result.claims
    ident = _identifier(claims)
    labels = [
        f"{title}{to_jsonable(v)}"
        for n, title in _LABEL_CLAIMS
        if (v := _find(claims, n)) is not None
    ]
    facts: dict[str, Any] = {
        "kind": ident[0] if ident else None,
        "id": ident[1] if ident else None,
        "label": ", ".join(labels) or None,
        "tcb_date": format_time(result.tcb_date) if result.tcb_date is not None else None,
        "next_update": _next_update(result.collateral),
        "update": None,
        "tcb": _reported_tcb(claims),
    }
    if collateral is not None and result.tcb_status is not None:
        facts["update"] = _intel_update(result, collateral)
    return facts


def _intel_update(result: VerificationResult, collateral: Collateral) -> dict[str, Any] | None:
    tcb_id = _TCB_INFO_ID.get(result.tee)
    pck = result.claims.get("pck")
    if tcb_id is None or not isinstance(pck, Mapping) or "fmspc" not in pck:
        return None
    issued = result.collateral.get("tcb_info_issue_date")
    number = result.collateral.get("tcb_evaluation_data_number")
    want = (str(to_jsonable(pck["fmspc"])).lower(), tcb_id, issued, number)
    for raw in collateral.tcb_infos:
        level = _best_level(raw, *want)
        if level is not None:
            return _delta(level, result.claims, pck)
    return None


@functools.lru_cache(maxsize=64)
def _best_level(
    raw: bytes, fmspc: str, tcb_id: str, issued: Any, number: Any
) -> dict[str, Any] | None:
    """The first (newest, best) level of this TCB Info, if it is the one described (Intel
    PCS API, TCB Info: ``tcbLevels`` sorted from the highest TCB down). It is UpToDate
    unless the platform type has no UpToDate level at all."""
    try:
        info = json.loads(raw)["tcbInfo"]
        if str(info.get("fmspc", "")).lower() != fmspc or info.get("id", "SGX") != tcb_id:
            return None
        if issued is not None and info.get("issueDate") != to_jsonable(issued):
            return None
        if number is not None and info.get("tcbEvaluationDataNumber") != number:
            return None
        return dict(info["tcbLevels"][0])
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def _svns(tcb: Mapping[str, Any], prefix: str) -> list[int]:
    comps = tcb.get(f"{prefix}tcbcomponents")
    if isinstance(comps, list):  # TCB Info v3
        return [int(c.get("svn", 0)) for c in comps]
    return [int(tcb.get(f"{prefix}tcbcomp{i:02d}svn", 0)) for i in range(1, 17)]  # v2


def _delta(
    level: Mapping[str, Any], claims: Mapping[str, Any], pck: Mapping[str, Any]
) -> dict[str, Any]:
    tcb = level.get("tcb", {})
    below: list[str] = []
    have = [int(x) for x in pck.get("tcb_components") or []]
    for i, (want, got) in enumerate(zip(_svns(tcb, "sgx"), have, strict=False)):
        if got < want:
            below.append(f"SGX component {i}: {got} -> {want}")
    if "pcesvn" in tcb and isinstance(pck.get("pce_svn"), int) and pck["pce_svn"] < tcb["pcesvn"]:
        below.append(f"PCESVN: {pck['pce_svn']} -> {tcb['pcesvn']}")
    tee_svn = claims.get("tee_tcb_svn")  # bytes in results, hex in JSON
    if isinstance(tee_svn, str):
        tee_svn = bytes.fromhex(tee_svn)
    if "tdxtcbcomponents" in tcb and isinstance(tee_svn, bytes):
        got_tdx = tee_svn
        # Intel TCB level matching: with a TDX module major version (byte 1) of 1 or more,
        # bytes 0 and 1 are judged by the TDX module identity instead
        skip = 2 if len(got_tdx) > 1 and got_tdx[1] >= 1 else 0
        for i, (want, got) in enumerate(zip(_svns(tcb, "tdx"), got_tdx, strict=False)):
            if i >= skip and got < want:
                below.append(f"TDX component {i}: {got} -> {want}")
    tcb_claims = claims.get("tcb")
    if isinstance(tcb_claims, Mapping):  # the QE and TDX module have levels of their own
        for key, name in (("qe_level", "Quoting Enclave"), ("tdx_module_level", "TDX module")):
            part = tcb_claims.get(key)
            if isinstance(part, Mapping) and part.get("status") not in (None, "UpToDate"):
                below.append(f"{name}: {part['status']}")
    return {"tcb_date": level.get("tcbDate"), "status": level.get("tcbStatus"), "below": below}
