"""Findings of the mutation sweep that are verifier bugs, reported and not yet fixed (not
unsigned by design: those are tests/fuzz/unsigned.py). The sweep counts and prints a finding
that matches an entry here as "open" instead of failing, so that CI still fails on any NEW
acceptance; tests/fuzz/test_open_findings.py holds one strict-xfail test per entry that
passes once the bug is fixed, and then the entry must go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from unsigned import Mutant, json_changes

from cocoverify import CocoverifyError
from cocoverify._core.eventlog import parse_event_log


@dataclass(frozen=True)
class Open:
    name: str
    what: str
    matches: Callable[[Mutant, str], bool]  # (mutant, the finding's why)


def _event_type(m: Mutant, why: str) -> bool:
    """Only the EventType field of one event of a trustee JSON's cc_eventlog changed."""
    changes = json_changes(m.orig, m.mut) or {}
    if not m.case.startswith("project/eventlog") or set(changes) != {".cc_eventlog"}:
        return False
    before, after = changes[".cc_eventlog"]
    try:
        log = parse_event_log(before[1])
    except CocoverifyError:
        return False
    diff = [i for i, (x, y) in enumerate(zip(before[1], after[1], strict=False)) if x != y]
    return bool(diff) and any(
        all(e.offset + 4 <= i < e.offset + 8 for i in diff) for e in log.events
    )


#: fixed since they were found: event data not bound to its digest (1226087, 7832f30), a
#: damaged PEM block dropped (e3b0766), an event whose GRUB/AAEL prefix was changed (047976f)
OPEN: tuple[Open, ...] = (
    Open(
        "eventlog-event-type-changed",
        "TDX event log: the EventType field is not measured; an AAEL EV_EVENT_TAG event "
        "retyped as EV_SEPARATOR (whose digest is also over its data) still replays and is "
        "accepted, and the entry disappears from the aael claims the eventlog: policy reads",
        _event_type,
    ),
)


def match(m: Mutant, why: str) -> Open | None:
    for entry in OPEN:
        if entry.matches(m, why):
            return entry
    return None
