"""One batch record per verification outcome, and its JSON line built alongside it
(docs/batch.md "Output" and "Cost per item")."""

from __future__ import annotations

import functools
from typing import Any, Final

from cocoverify.batch.config import KEY_CLAIMS
from cocoverify.batch.jsonl import ENCODER, ReadOnlyDict, record_line, string_text, value_text
from cocoverify.batch.platform import shared_facts
from cocoverify.collateral import Collateral
from cocoverify.errors import CocoverifyError, PolicyRejected, Reason
from cocoverify.result import VerificationResult, format_time, to_jsonable

__all__ = ["record_and_line", "record_for"]

_KEY_SET: Final = frozenset(KEY_CLAIMS)
#: The key claims a result has, in ``KEY_CLAIMS`` order, per set of names (one per kind of
#: evidence in practice). Bounded: emptied when full.
_ORDER: dict[frozenset[str], tuple[str, ...]] = {}
_ORDER_MAX: Final = 256


def _in_order(present: frozenset[str]) -> tuple[str, ...]:
    order = _ORDER.get(present)
    if order is None:
        order = tuple(k for k in KEY_CLAIMS if k in present)
        if len(_ORDER) >= _ORDER_MAX:
            _ORDER.clear()
        _ORDER[present] = order
    return order


#: Claim types ``to_jsonable`` returns as they are (bool is an int).
_PLAIN: Any = frozenset((str, int, bool, type(None)))

#: The batch's one ``at`` is formatted once, not per record (equal instants, equal text).
_format_time = functools.lru_cache(maxsize=64)(format_time)

#: ``"name":"`` per key claim: the start of a hex value (``bytes.hex()`` needs no escape).
_HEX_KEY: Final = {k: string_text(k) + ':"' for k in KEY_CLAIMS}
#: ``"name":`` per key claim, for other values.
_KEY: Final = {k: string_text(k) + ":" for k in KEY_CLAIMS}


def _claims(result: VerificationResult, parts: list[str] | None) -> dict[str, Any]:
    """The key claims ``result`` has, as JSON values; with ``parts``, each one's JSON text
    (``"k":v``) too."""
    claims: dict[str, Any] = {}
    found = result.claims
    for k in _in_order(_KEY_SET.intersection(found)):
        v = found[k]
        kind = type(v)
        if kind is bytes:
            text = claims[k] = v.hex()
            if parts is not None:
                parts.append(_HEX_KEY[k] + text + '"')
            continue
        # to_jsonable's answer for the common types, without the generic walk
        claims[k] = v = v if kind in _PLAIN else to_jsonable(v)
        if parts is not None:
            parts.append(_KEY[k] + value_text(v))
    return claims


def _record(
    path: str,
    outcome: VerificationResult | CocoverifyError,
    tee: str | None,
    collateral: Collateral | None,
    item_id: str | None,
    parts: list[str] | None,
) -> dict[str, Any]:
    """:func:`record_for`; with ``parts``, also each key claim's JSON text (``"k":v``)."""
    if type(outcome) is VerificationResult and outcome.accepted is True and item_id is None:
        # the common record, built in one go (same keys, same order as below)
        claims = _claims(outcome, parts)
        return {
            "path": path,
            "accepted": True,
            "tee": outcome.tee,
            "reason": None,
            "exit_code": 0,
            "tcb_status": outcome.tcb_status,
            "advisory_ids": list(outcome.advisory_ids),
            "claims": claims,
            "platform": shared_facts(outcome, collateral),
            "verified_at": _format_time(outcome.verified_at),
        }
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    claims = _claims(result, parts) if result is not None else {}
    accepted = isinstance(outcome, VerificationResult) and outcome.accepted
    rec: dict[str, Any] = {"path": path}
    if item_id is not None:
        rec["id"] = item_id
    rec["accepted"] = accepted
    rec["tee"] = result.tee if result is not None else tee
    rec["reason"] = None
    rec["exit_code"] = 0
    rec["tcb_status"] = result.tcb_status if result is not None else None
    rec["advisory_ids"] = list(result.advisory_ids) if result is not None else []
    rec["claims"] = claims if result is not None else None
    rec["platform"] = shared_facts(result, collateral) if result is not None else None
    if isinstance(outcome, CocoverifyError):
        rec["reason"] = outcome.reason.value
        rec["exit_code"] = outcome.exit_code
        rec["error"] = type(outcome).__name__
        rec["message"] = str(outcome.args[0]) if outcome.args else ""
    elif not accepted:  # a result that says "not accepted" is a policy rejection, never 0
        rec["reason"] = (outcome.reason or Reason.POLICY_REJECTED).value
        rec["exit_code"] = PolicyRejected.exit_code
    if result is not None:
        rec["verified_at"] = _format_time(result.verified_at)
    return rec


def record_for(
    path: str,
    outcome: VerificationResult | CocoverifyError,
    *,
    tee: str | None = None,
    collateral: Collateral | None = None,
    item_id: str | None = None,
) -> dict[str, Any]:
    """The JSON line for one verification outcome (same facts as ``verify --format json``).

    ``collateral``: the bag the verification used, for ``platform.update``
    (:func:`~cocoverify.batch.platform.platform_facts`); ``item_id``: a manifest line's id.
    ``platform`` is read-only and shared by the records of one platform
    (:func:`~cocoverify.batch.platform.shared_facts`).
    """
    return _record(path, outcome, tee, collateral, item_id, None)


#: The text from ``"accepted"`` to ``"claims":`` per (accepted, tee, reason, exit_code,
#: tcb_status, advisory_ids): a batch has a few. Bounded: emptied when full.
_MIDDLE: dict[tuple[Any, ...], str] = {}
_MIDDLE_MAX: Final = 1024
_MIDDLE_KEYS: Final = ("accepted", "tee", "reason", "exit_code", "tcb_status", "advisory_ids")


def _middle(rec: dict[str, Any]) -> str:
    key = (
        rec["accepted"],
        rec["tee"],
        rec["reason"],
        rec["exit_code"],
        rec["tcb_status"],
        tuple(rec["advisory_ids"]),
    )
    text = _MIDDLE.get(key)
    if text is None:
        text = ENCODER.encode({k: rec[k] for k in _MIDDLE_KEYS})[1:-1]
        if len(_MIDDLE) >= _MIDDLE_MAX:
            _MIDDLE.clear()
        _MIDDLE[key] = text
    return text


def record_and_line(
    path: str,
    outcome: VerificationResult | CocoverifyError,
    *,
    tee: str | None = None,
    collateral: Collateral | None = None,
    item_id: str | None = None,
) -> tuple[dict[str, Any], str]:
    """:func:`record_for` and the record's JSON line (what :func:`record_line` writes), built
    together: the claims' text as they are copied, the platform's text once per platform,
    the verdict's text once per (verdict, TEE, status, advisories)."""
    parts: list[str] = []
    rec = _record(path, outcome, tee, collateral, item_id, parts)
    platform = rec["platform"]
    if (
        type(path) is not str
        or (item_id is not None and type(item_id) is not str)
        or (platform is not None and type(platform) is not ReadOnlyDict)
    ):
        return rec, record_line(rec)  # not what record_for builds: the general writer
    claims = rec["claims"]
    line = (
        '{"path":'
        + string_text(path)
        + ("" if item_id is None else ',"id":' + string_text(item_id))
        + ","
        + _middle(rec)
        + ',"claims":'
        + ("null" if claims is None else "{" + ",".join(parts) + "}")
        + ',"platform":'
        + ("null" if platform is None else platform.json)
    )
    if "error" in rec:
        line += (
            ',"error":' + string_text(rec["error"]) + ',"message":' + string_text(rec["message"])
        )
    if "verified_at" in rec:
        line += ',"verified_at":' + string_text(rec["verified_at"])
    return rec, line + "}"
