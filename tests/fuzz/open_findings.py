"""Findings of the mutation sweep that are verifier bugs, reported and not yet fixed (not
unsigned by design: those are tests/fuzz/unsigned.py). The sweep counts and prints a finding
that matches an entry here as "open" instead of failing, so that CI still fails on any NEW
acceptance; tests/fuzz/test_open_findings.py holds one strict-xfail test per entry that
passes once the bug is fixed, and then the entry must go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from unsigned import Mutant, json_changes


@dataclass(frozen=True)
class Open:
    name: str
    what: str
    matches: Callable[[Mutant, str], bool]  # (mutant, the finding's why)


def _event_data(m: Mutant, why: str) -> bool:
    changes = json_changes(m.orig, m.mut) or {}
    return (
        m.case.startswith("project/eventlog")
        and "accepted" in why
        and set(changes) == {".cc_eventlog"}
    )


OPEN: tuple[Open, ...] = (
    Open(
        "eventlog-event-data-not-bound",
        "TDX event log: an event's data changed while its digest is kept (so the RTMR replay "
        "still matches) is accepted, and the claims and the eventlog: policy read the changed "
        "data (e.g. a forged kernel command line passes kernel_cmdline_contains)",
        _event_data,
    ),
)


def match(m: Mutant, why: str) -> Open | None:
    for entry in OPEN:
        if entry.matches(m, why):
            return entry
    return None
