"""The TDX CC event log (CCEL) as trustee reads it: ``uefi_event_logs`` claims and the replay.

A port of trustee's ``deps/eventlog`` crate (``src/lib.rs`` and ``src/ccel/``): the TCG PC
Client crypto-agile log (TCG PC Client Platform Firmware Profile, section 10 "Event Logging")
that a TD's firmware writes to the CCEL ACPI table's log area, parsed into trustee's JSON
``{index, type_name, digests[{alg, digest}], event, details, digest_matches_event}``, and
each CC measurement register replayed from zero (``MR = H(MR || digest)``).

The parser is the vendor-free :mod:`cocoverify._core.eventlog`; this module gives its views
trustee's JSON shape. Trustee's parser fails the whole log on some inputs (an unknown event
type or algorithm, an event that must be UTF-8 and is not) and its Rust slicing panics on
others; every such case is :class:`~cocoverify.errors.MalformedEvidence` here, never a
partial log. Where trustee degrades gracefully (an unknown device path is printed as
``Path(type,subtype,hex)``), so does the parser, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from cocoverify._core import eventlog as _el
from cocoverify.errors import ConfigurationError, MalformedEvidence, Reason, UnsupportedEvidence

__all__ = ["ALGORITHMS", "EVENT_TYPES", "parse_ccel", "replay", "uefi_event_logs"]

#: TCG_ALG_ID -> trustee's name (TCG Algorithm Registry); digest sizes come from the log.
ALGORITHMS = _el.ALGORITHMS
#: TCG event types (PC Client PFP, "Event Types") -> trustee's ``type_name``.
EVENT_TYPES = _el.EVENT_TYPES
_HASHES = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512", "SM3": "sm3"}
_REPLAY_SIZES = {"SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64, "SM3": 32}


def uefi_event_logs(log: _el.EventLog) -> list[dict[str, Any]]:
    """trustee's ``uefi_event_logs`` for a parsed log: one JSON object per TCG_PCR_EVENT2."""
    return [
        {
            "details": _el.thaw(e.details),
            "digest_matches_event": e.digest_matches_event,
            "digests": [{"alg": d.alg, "digest": d.value.hex()} for d in e.digests],
            "event": base64.b64encode(e.data).decode("ascii"),
            "index": e.mr_index,
            "type_name": e.type_name,
        }
        for e in log.events
    ]


def parse_ccel(data: bytes) -> list[dict[str, Any]]:
    """trustee's ``uefi_event_logs``: one JSON object per event after the Specification ID.

    The first event (SHA-1 format, ``EV_NO_ACTION``) gives the digest sizes; parsing stops
    at an all-zero or all-ones word where the next event would start (the padding of the
    CCEL area). Any malformed event is MalformedEvidence.
    """
    try:
        log = _el.parse_event_log(data, what="cc_eventlog")
    except MalformedEvidence as exc:
        raise MalformedEvidence(
            str(exc.args[0]), field="cc_eventlog", offset=exc.offset, reason=Reason.MALFORMED
        ) from None
    return uefi_event_logs(log)


def replay(events: Sequence[Mapping[str, Any]], index: int, alg: str = "SHA-384") -> bytes:
    """The CC measurement register ``index`` replayed from zero: ``MR = H(MR || digest)``.

    Every event of that index with a digest of ``alg`` is extended, in log order
    (trustee ``replay``); CC MR 1..4 are TDX RTMR0..3.
    """
    size = _REPLAY_SIZES.get(alg)
    name = _HASHES.get(alg)
    if size is None or name is None:
        raise UnsupportedEvidence(
            f"cc_eventlog: replay with {alg} is not supported", reason=Reason.UNSUPPORTED_ALGORITHM
        )
    value = bytes(size)
    try:
        for event in events:
            if event["index"] != index:
                continue
            for d in event["digests"]:
                if d["alg"] == alg:
                    value = hashlib.new(name, value + bytes.fromhex(d["digest"])).digest()
    except (KeyError, TypeError, ValueError):
        raise ConfigurationError(
            "replay: events must be parse_ccel's output", reason=Reason.INVALID_ARGUMENT
        ) from None
    return value
