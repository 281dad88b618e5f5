"""What a batch record says about the platform behind the evidence, for the fleet report
(docs/batch.md "Fleet report"): its identifier, TCB date, the earliest collateral
``nextUpdate`` and, for Intel, the best (newest) level of the TCB Info that judged it.

Display only: nothing here changes a verdict. The TCB Info read here is the one the
verification used (same FMSPC, TEE type, issue date and evaluation data number), and only
when the verification produced a TCB status, i.e. after that TCB Info was authenticated.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from cocoverify.batch.jsonl import ReadOnlyDict, read_only
from cocoverify.collateral import Collateral
from cocoverify.result import VerificationResult, format_time, to_jsonable

__all__ = ["ID_CLAIMS", "SHARED_MAX", "platform_facts", "shared_facts"]

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

#: Times repeat across a fleet (one collateral set, few TCB dates): formatted once each.
_format_time = functools.lru_cache(maxsize=256)(format_time)

#: TCB Info ``id`` per ``tee`` value (Intel PCS API, TCB Info v3 "id").
_TCB_INFO_ID: Final = {"sgx": "SGX", "tdx": "TDX"}


#: Mapping types claims are built from (concrete: an isinstance against them is cheap).
_MAPPINGS: Final = (dict, MappingProxyType)


class _Claims:
    """Claims and their nested objects, for lookups by name (one pass over the values)."""

    __slots__ = ("claims", "nested")

    def __init__(self, claims: Mapping[str, Any]) -> None:
        self.claims = claims
        self.nested = [v for v in claims.values() if isinstance(v, _MAPPINGS)]

    def find(self, name: str) -> Any:
        value = self.claims.get(name)
        if value is not None:
            return value
        for sub in self.nested:
            if name in sub:
                return sub[name]
        return None


def _text(value: Any) -> str:
    """A claim as JSON text would show it; the common types without the generic walk."""
    kind = type(value)
    if kind is str:
        return str(value)
    if kind is bytes:
        return bytes(value).hex()
    return str(to_jsonable(value))


def _identifier(claims: _Claims) -> tuple[str, str] | None:
    for name, label in ID_CLAIMS:
        value = claims.find(name)
        if value is None:
            continue
        text = _text(value)
        if name == "chip_id" and (claims.find("chip_id_masked") or not str(text).strip("0")):
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
    dates = [v for k, v in collateral.items() if k.endswith("next_update") and v is not None]
    if not dates:
        return None
    if all(isinstance(d, _dt.datetime) for d in dates):
        return _format_time(min(dates))  # one formatting, not one per date
    return min(str(to_jsonable(d)) for d in dates)  # ISO 8601 UTC text sorts by time


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
    found = _Claims(claims)
    ident = _identifier(found)
    labels = [
        f"{title}{_text(v)}" for n, title in _LABEL_CLAIMS if (v := found.find(n)) is not None
    ]
    facts: dict[str, Any] = {
        "kind": ident[0] if ident else None,
        "id": ident[1] if ident else None,
        "label": ", ".join(labels) or None,
        "tcb_date": _format_time(result.tcb_date) if result.tcb_date is not None else None,
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
    want = (_text(pck["fmspc"]).lower(), tcb_id, issued, number)
    for raw in collateral.tcb_infos:
        level = _best_level(raw, *want)
        if level is not None:
            return _delta(level, result.claims, pck)
    return None


@dataclass(frozen=True, slots=True)
class _Level:
    """A TCB Info level, parsed once: date, status and component SVNs."""

    date: str | None
    status: str | None
    sgx: tuple[int, ...]
    pcesvn: int | None
    tdx: tuple[int, ...] | None


@functools.lru_cache(maxsize=64)
def _best_level(raw: bytes, fmspc: str, tcb_id: str, issued: Any, number: Any) -> _Level | None:
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
        level = info["tcbLevels"][0]
        tcb = level["tcb"]
        pcesvn = tcb.get("pcesvn")
        return _Level(
            date=level.get("tcbDate"),
            status=level.get("tcbStatus"),
            sgx=_svns(tcb, "sgx"),
            pcesvn=pcesvn if isinstance(pcesvn, int) else None,
            tdx=_svns(tcb, "tdx") if "tdxtcbcomponents" in tcb else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError, IndexError):
        return None


def _svns(tcb: Mapping[str, Any], prefix: str) -> tuple[int, ...]:
    comps = tcb.get(f"{prefix}tcbcomponents")
    if isinstance(comps, list):  # TCB Info v3
        return tuple(int(c.get("svn", 0)) for c in comps)
    return tuple(int(tcb.get(f"{prefix}tcbcomp{i:02d}svn", 0)) for i in range(1, 17))  # v2


def _delta(level: _Level, claims: Mapping[str, Any], pck: Mapping[str, Any]) -> dict[str, Any]:
    below: list[str] = []
    have = pck.get("tcb_components") or ()
    for i, (want, got) in enumerate(zip(level.sgx, have, strict=False)):
        if got < want:
            below.append(f"SGX component {i}: {got} -> {want}")
    pce_svn = pck.get("pce_svn")
    if level.pcesvn is not None and isinstance(pce_svn, int) and pce_svn < level.pcesvn:
        below.append(f"PCESVN: {pce_svn} -> {level.pcesvn}")
    tee_svn = claims.get("tee_tcb_svn")  # bytes in results, hex in JSON
    if isinstance(tee_svn, str):
        tee_svn = bytes.fromhex(tee_svn)
    if level.tdx is not None and isinstance(tee_svn, bytes):
        # Intel TCB level matching: with a TDX module major version (byte 1) of 1 or more,
        # bytes 0 and 1 are judged by the TDX module identity instead
        skip = 2 if len(tee_svn) > 1 and tee_svn[1] >= 1 else 0
        for i, (want, got) in enumerate(zip(level.tdx, tee_svn, strict=False)):
            if i >= skip and got < want:
                below.append(f"TDX component {i}: {got} -> {want}")
    tcb_claims = claims.get("tcb")
    if isinstance(tcb_claims, _MAPPINGS):  # the QE and TDX module have levels of their own
        for key, name in (("qe_level", "Quoting Enclave"), ("tdx_module_level", "TDX module")):
            part = tcb_claims.get(key)
            if isinstance(part, _MAPPINGS) and part.get("status") not in (None, "UpToDate"):
                below.append(f"{name}: {part['status']}")
    return {"tcb_date": level.date, "status": level.status, "below": below}


# --- one platform object per platform -------------------------------------------------------

#: Claims :func:`platform_facts` reads at the top level (besides the nested mappings it
#: searches): scalars (the identifier and label names, TDX's TEE_TCB_SVN) and mappings.
_SCALARS: Final = (
    *(n for n, _ in ID_CLAIMS),
    "chip_id_masked",
    *(n for n, _ in _LABEL_CLAIMS),
    "tee_tcb_svn",
)
_MAPPED: Final = ("reported_tcb", "pck", "tcb")

#: Claim value types a cached key can stand for besides read-only mappings: immutable
#: scalars and tuples (never searched). Any other type (a ``dict``, a list) means no caching.
_SCALAR_TYPES: Final = frozenset((bytes, str, int, bool, float, type(None), tuple, _dt.datetime))

#: Platform objects kept (each with the claim mappings its key names), at most; the cache
#: is emptied when full. A fleet has few platform states per collateral set.
SHARED_MAX: Final = 256

_shared: dict[tuple[Any, ...], tuple[ReadOnlyDict, tuple[Any, ...]]] = {}


def _key(
    result: VerificationResult, collateral: Collateral | None
) -> tuple[tuple[Any, ...], tuple[Any, ...]] | None:
    """Everything :func:`platform_facts` reads, as a key, and the objects the key names by
    ``id`` (kept alive with the cache entry, so no other object can have that ``id`` while
    it is cached). None: not cacheable. The key may still be unhashable (a claim read as a
    scalar that is a mapping): :func:`shared_facts` then computes without the cache.

    By content: the TEE, TCB date, whether there is a TCB status, the TCB Infos' bytes and
    the scalar claims read at the top level. By identity: the result's read-only claim
    mappings (``MappingProxyType`` built by ``result.freeze`` over a dict nothing else
    holds, so they never change; a warm verification hands out the same ones for one
    platform): the nested ones, in order (what the identifier search walks), and those
    under ``reported_tcb``, ``pck`` and ``tcb``.
    """
    claims = result.claims
    coll = result.collateral
    if type(claims) is not MappingProxyType or type(coll) is not MappingProxyType:
        return None
    others = [v for v in claims.values() if type(v) not in _SCALAR_TYPES]
    nested = [v for v in others if type(v) is MappingProxyType]
    if len(nested) != len(others):
        return None
    mapped = tuple(map(claims.get, _MAPPED))
    for v in mapped:
        if v is not None and type(v) is not MappingProxyType:
            return None  # a scalar where a mapping is read: no identity to stand for it
    key = (
        result.tee,
        result.tcb_date,
        result.tcb_status is None,
        None if collateral is None else collateral.tcb_infos,
        id(coll),
        tuple(map(claims.get, _SCALARS)),
        tuple(map(id, mapped)),
        tuple(map(id, nested)),
    )
    return key, (coll, mapped, nested)


def shared_facts(result: VerificationResult, collateral: Collateral | None = None) -> ReadOnlyDict:
    """:func:`platform_facts` as a read-only dict with its JSON text, one object per platform
    state: computed once, then found by :func:`_key` (bounded: :data:`SHARED_MAX`)."""
    found = _key(result, collateral)
    if found is None:
        out: ReadOnlyDict = read_only(platform_facts(result, collateral))
        return out
    key, pins = found
    try:
        hit = _shared.get(key)
    except TypeError:  # an unhashable claim value
        out = read_only(platform_facts(result, collateral))
        return out
    if hit is not None:
        return hit[0]
    out = read_only(platform_facts(result, collateral))
    if len(_shared) >= SHARED_MAX:
        _shared.clear()  # simple and thread-safe; each platform is computed again once
    _shared[key] = (out, pins)
    return out
