"""``cocoverify show`` for a TDX event log: its events and the RTMRs replayed from it.

The log is parsed and replayed as ``verify`` does (``wrappers.tdx_eventlog``); here a
mismatch is shown, not judged (``verify`` rejects it with event_log_mismatch, exit 3).
"""

from __future__ import annotations

from typing import Any

from cocoverify._core.eventlog import parse_event_log
from cocoverify.errors import CocoverifyError
from cocoverify.wrappers.tdx_eventlog import (
    event_claims,
    parse_aael_text,
    replay_aael_text,
    replay_rtmrs,
)

__all__ = ["aael_view", "event_log_view"]


def _compare(replayed: str, quoted: str) -> dict[str, Any]:
    return {"match": replayed == quoted, "replayed": replayed, "quote": quoted}


def event_log_view(log_bytes: bytes, quoted: dict[str, str]) -> dict[str, Any]:
    """``event_log`` (events, kernel command line, initrd, GRUB) and ``rtmr_replay``."""
    log = parse_event_log(log_bytes, what="event log")
    typed = event_claims(log)
    events = []
    for i, e in enumerate(typed["events"]):
        digests = e["digests"]
        events.append(
            {
                "number": i,
                "type": e["type"],
                "register": e["register"],
                "digest": next(iter(digests.values())).hex() if digests else "",
                "digest_alg": next(iter(digests), ""),
                "description": e["description"],
            }
        )
    view: dict[str, Any] = {
        "algorithms": typed["algorithms"],
        "events_count": len(events),
        "kernel": typed["kernel"],
        "kernel_cmdline": typed["kernel_cmdline"],
        "initrd": typed["initrd"],
        "grub_commands": typed["grub_commands"],
        "events": events,
    }
    replay: dict[str, Any]
    try:
        replayed = replay_rtmrs(log)
    except CocoverifyError as exc:
        replay = {"not_replayed": f"{exc.reason.value}: {exc.args[0]}"}
    else:
        replay = {k: _compare(v.hex(), quoted[k]) for k, v in replayed.items()}
    return {"event_log": view, "rtmr_replay": replay}


def aael_view(text: bytes, quoted_rtmr3: str) -> dict[str, Any]:
    """A legacy text AA event log: its lines and RTMR3 replayed from them."""
    init, lines = parse_aael_text(text)
    return {
        "init": init.hex(),
        "entries": list(lines[1:]),
        "rtmr3": _compare(replay_aael_text(text).hex(), quoted_rtmr3),
    }
