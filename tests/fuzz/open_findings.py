"""Findings of the mutation sweep that are verifier bugs, reported and not yet fixed (not
unsigned by design: those are tests/fuzz/unsigned.py). The sweep counts and prints a finding
that matches an entry here as "open" instead of failing, so that CI still fails on any NEW
acceptance; tests/fuzz/test_open_findings.py holds one strict-xfail test per entry that
passes once the bug is fixed, and then the entry must go."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from unsigned import Mutant


@dataclass(frozen=True)
class Open:
    name: str
    what: str
    matches: Callable[[Mutant, str], bool]  # (mutant, the finding's why)


#: fixed since they were found: event data not bound to its digest (1226087, 7832f30), a
#: damaged PEM block dropped (e3b0766), an event whose GRUB/AAEL prefix was changed (047976f),
#: an AAEL entry retyped (EV_SEPARATOR) so that it vanished from the aael claims
OPEN: tuple[Open, ...] = ()


def match(m: Mutant, why: str) -> Open | None:
    for entry in OPEN:
        if entry.matches(m, why):
            return entry
    return None
