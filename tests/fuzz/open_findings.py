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


def _event_data(m: Mutant, why: str) -> bool:
    """Only an event's type field, or the first 20 bytes of an event recognised by its data
    prefix (GRUB's "grub_cmd ..." EV_IPL strings, AAEL "LEAA" tagged events), changed."""
    changes = json_changes(m.orig, m.mut) or {}
    if not m.case.startswith("project/eventlog") or set(changes) != {".cc_eventlog"}:
        return False
    before, after = changes[".cc_eventlog"]
    try:
        log = parse_event_log(before[1])
    except CocoverifyError:
        return False
    diff = [i for i, (x, y) in enumerate(zip(before[1], after[1], strict=False)) if x != y]
    for event in log.events:
        start = before[1].find(event.data, event.offset)
        recognised_by_prefix = event.data.startswith((b"grub_", b"LEAA"))
        in_prefix = all(start <= i < start + 20 for i in diff)
        in_type = all(event.offset + 4 <= i < event.offset + 8 for i in diff)  # EventType
        if (recognised_by_prefix and in_prefix) or in_type:
            return bool(diff) and len(before[1]) == len(after[1])
    return False


#: fixed since they were found: event data not bound to its digest (1226087, 7832f30), a
#: damaged PEM block dropped (e3b0766)
OPEN: tuple[Open, ...] = (
    Open(
        "eventlog-unrecognised-event-data",
        "TDX event log: an event recognised by its data prefix (GRUB's 'grub_cmd ' EV_IPL "
        "strings, AAEL 'LEAA' tagged events) whose prefix is damaged ('grub_cmd' -> "
        "'grub_cme', 'LEAA' -> 'LEAE') is no longer recognised, so its data is not checked "
        "against its digest; likewise an event whose EventType field is changed (not "
        "measured) is read as another type; the log still replays and is accepted, and the "
        "claims (events[].type, description, details) show the changed event",
        _event_data,
    ),
)


def match(m: Mutant, why: str) -> Open | None:
    for entry in OPEN:
        if entry.matches(m, why):
            return entry
    return None
