"""The fleet posture report: batch records folded into counts, advisories, platforms and
rejection groups, one record at a time (memory grows with platforms, not files); written
as one self-contained HTML page by :func:`cocoverify.batch.report_html.write_report`
(docs/batch.md "Fleet report")."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "EXAMPLES",
    "NOT_SUPPORTED",
    "NO_STATUS",
    "STATUS_ORDER",
    "FleetReport",
    "PlatformRow",
    "RejectionGroup",
    "class_name",
    "status_rank",
]

#: TCB statuses from worst to best (Intel's, Intel PCS API "tcbStatus"); any other status
#: ranks after these and before "no TCB status".
STATUS_ORDER: Final = (
    "Revoked",
    "OutOfDateConfigurationNeeded",
    "OutOfDate",
    "TDRelaunchAdvisedConfigurationNeeded",
    "TDRelaunchAdvised",
    "ConfigurationAndSWHardeningNeeded",
    "ConfigurationNeeded",
    "SWHardeningNeeded",
    "UpToDate",
)
#: The status bucket of records without a TCB status (rejected before the TCB step, or a
#: TEE without TCB statuses such as SNP or CCA).
NO_STATUS: Final = "no TCB status"
#: The status bucket of records rejected because no TCB level matches the platform
#: (reason ``tcb_not_supported``): ranked right after Revoked.
NOT_SUPPORTED: Final = "no matching TCB level"
#: Example paths kept per rejection group and per advisory.
EXAMPLES: Final = 5

_CLASS_NAMES: Final = {
    0: "accepted",
    1: "error",
    2: "evidence",
    3: "authenticity",
    4: "collateral",
    5: "policy",
}


#: What a status asks of the operator (Intel PCS API, TCB Info "tcbStatus" values), by a
#: part of its name.
_STATUS_HINTS: Final = (
    ("Revoked", "the platform's keys are revoked: re-provision or retire it"),
    ("OutOfDate", "update firmware and microcode (a TCB recovery is out)"),
    ("Configuration", "change the platform configuration the advisories name"),
    ("SWHardeningNeeded", "apply the software mitigations the advisories name"),
    ("TDRelaunchAdvised", "relaunch the TD (its TDX module was updated since launch)"),
    (
        NOT_SUPPORTED,
        "no level of the TCB Info matches: update firmware, or fetch current "
        "collateral for this platform",
    ),
)


_RAISE: Final = re.compile(r"^(.{1,80}): (\d{1,9}) -> (\d{1,9})$")


def status_rank(status: str) -> int:
    """Sort key: worst status first, ``NO_STATUS`` last."""
    if status == NOT_SUPPORTED:
        return 1
    if status in STATUS_ORDER:
        return STATUS_ORDER.index(status) + (status != "Revoked")
    return len(STATUS_ORDER) + (2 if status == NO_STATUS else 1)


def class_name(code: int) -> str:
    """``policy`` for 5 and so on (the CLI's exit classes)."""
    return _CLASS_NAMES.get(code, "error")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _exit_class(rec: Mapping[str, Any]) -> int:
    code = rec.get("exit_code")
    if type(code) is not int or not 0 <= code <= 5:
        return 1
    if code == 0:
        return 0 if rec.get("accepted") is True else 1
    return code


@dataclass
class PlatformRow:
    """One platform (TEE, identifier kind, identifier) of the fleet."""

    tee: str
    kind: str | None
    ident: str | None
    label: str | None = None
    files: int = 0
    accepted: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    advisories: set[str] = field(default_factory=set)
    tcb_date: str | None = None  # the oldest seen
    next_update: str | None = None  # the earliest seen
    update_to: str | None = None  # the best TCB level's date ...
    update_status: str | None = None  # ... and status
    below: set[str] = field(default_factory=set)
    #: "SGX component 0: 3 -> 5" lines folded: (what, target) -> (lowest, highest) seen
    raise_to: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)
    tcb: dict[str, int] | None = None  # SNP: the lowest reported TCB per component
    tcb_top: dict[str, int] = field(default_factory=dict)  # SNP: its highest per component
    newest_tcb: dict[str, int] | None = None  # SNP: the fleet's highest, same product
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def worst(self) -> str:
        """The worst TCB status of its files."""
        return min(self.statuses, key=status_rank) if self.statuses else NO_STATUS

    def what_to_update(self) -> list[str]:
        """Plain-text hints, most useful first (empty: nothing known to update)."""
        worst = self.worst
        out: list[str] = []
        if self.raise_to and self.update_to is not None:
            day = self.update_to[:10]
            out.append(f"raise to the best TCB level ({self.update_status}, {day}):")
        for (what, want), (lo, hi) in sorted(self.raise_to.items()):
            out.append(f"{what}: {lo if lo == hi else f'{lo}..{hi}'} -> {want}")
        out.extend(sorted(self.below))
        if self.tcb is not None and self.newest_tcb is not None:
            low = [
                f"{k} {v} -> {self.newest_tcb[k]}"
                for k, v in self.tcb.items()
                if self.newest_tcb.get(k, v) > v
            ]
            if low:
                out.append(
                    "below the newest reported TCB of this product in the fleet: " + ", ".join(low)
                )
            else:
                out.append("at the newest reported TCB of this product in the fleet")
            out.append("reported TCB: " + ", ".join(f"{k} {v}" for k, v in self.tcb.items()))
        if worst == "UpToDate" and not out:
            return []
        out.extend(text for key, text in _STATUS_HINTS if key in worst)
        if self.advisories:
            out.append("advisories: " + ", ".join(sorted(self.advisories)))
        return out


@dataclass
class RejectionGroup:
    """Rejected files with one reason."""

    reason: str
    exit_class: int
    count: int = 0
    examples: list[tuple[str, str]] = field(default_factory=list)  # (path, message)


class FleetReport:
    """Fold batch records (``verify_many`` / ``cocoverify batch`` lines) into the report."""

    def __init__(self) -> None:
        self.verified = 0
        self.accepted = 0
        self.skipped = 0
        self.classes: Counter[int] = Counter()
        self.statuses: Counter[str] = Counter()
        self.tees: Counter[str] = Counter()
        self.platforms: dict[tuple[str, str | None, str | None], PlatformRow] = {}
        self.advisory_files: Counter[str] = Counter()
        self.advisory_platforms: dict[str, set[tuple[str, str | None, str | None]]] = {}
        self.rejections: dict[tuple[str, int], RejectionGroup] = {}
        self.first: str | None = None  # earliest verified_at
        self.last: str | None = None

    def add_all(self, records: Iterable[Mapping[str, Any]]) -> FleetReport:
        """Add every record; returns self."""
        for rec in records:
            self.add(rec)
        return self

    def add(self, rec: Mapping[str, Any]) -> None:
        """Count one record. A record of an unexpected shape counts as an error (class 1)."""
        if "skipped" in rec:
            self.skipped += 1
            return
        self.verified += 1
        cls = _exit_class(rec)
        self.classes[cls] += 1
        tee = _text(rec.get("tee")) or "unknown"
        self.tees[tee] += 1
        status = _text(rec.get("tcb_status")) or (
            NOT_SUPPORTED if rec.get("reason") == "tcb_not_supported" else NO_STATUS
        )
        self.statuses[status] += 1
        when = _text(rec.get("verified_at"))
        if when is not None:
            self.first = when if self.first is None else min(self.first, when)
            self.last = when if self.last is None else max(self.last, when)
        advisories = [str(a) for a in rec.get("advisory_ids") or () if a is not None]
        if cls == 0:
            self.accepted += 1
        else:
            reason = _text(rec.get("reason") or rec.get("error")) or "unknown"
            group = self.rejections.setdefault((reason, cls), RejectionGroup(reason, cls))
            group.count += 1
            if len(group.examples) < EXAMPLES:
                group.examples.append((str(rec.get("path")), _text(rec.get("message")) or ""))
        platform = rec.get("platform")
        if not isinstance(platform, Mapping):
            return
        key = (tee, _text(platform.get("kind")), _text(platform.get("id")))
        row = self.platforms.get(key)
        if row is None:
            row = self.platforms[key] = PlatformRow(tee, key[1], key[2])
        self._fold(row, rec, platform, status, advisories, cls)
        for adv in advisories:
            self.advisory_files[adv] += 1
            self.advisory_platforms.setdefault(adv, set()).add(key)

    @staticmethod
    def _fold(
        row: PlatformRow,
        rec: Mapping[str, Any],
        platform: Mapping[str, Any],
        status: str,
        advisories: list[str],
        cls: int,
    ) -> None:
        row.files += 1
        row.accepted += cls == 0
        row.label = row.label or _text(platform.get("label"))
        row.statuses[status] += 1
        row.advisories.update(advisories)
        if cls != 0:
            row.reasons[_text(rec.get("reason") or rec.get("error")) or "unknown"] += 1
        date = _text(platform.get("tcb_date"))
        if date is not None and (row.tcb_date is None or date < row.tcb_date):
            row.tcb_date = date
        nxt = _text(platform.get("next_update"))
        if nxt is not None and (row.next_update is None or nxt < row.next_update):
            row.next_update = nxt
        update = platform.get("update")
        if isinstance(update, Mapping):
            row.update_to = _text(update.get("tcb_date")) or row.update_to
            row.update_status = _text(update.get("status")) or row.update_status
            for line in update.get("below") or ():
                m = _RAISE.match(str(line))
                if m is None:
                    row.below.add(str(line))
                    continue
                have, want = int(m[2]), int(m[3])
                lo, hi = row.raise_to.get((m[1], want), (have, have))
                row.raise_to[(m[1], want)] = (min(lo, have), max(hi, have))
        tcb = platform.get("tcb")
        if isinstance(tcb, Mapping):
            comps = {str(k): v for k, v in tcb.items() if type(v) is int}
            row.tcb = (
                comps
                if row.tcb is None
                else {k: min(v, row.tcb.get(k, v)) for k, v in comps.items()}
            )
            row.tcb_top = {k: max(v, row.tcb_top.get(k, v)) for k, v in comps.items()}

    # --- views, sorted for people

    def advisories(self) -> list[tuple[str, int, int, list[str]]]:
        """(advisory, platforms affected, files affected, example platform ids), most
        platforms first."""
        out = []
        for adv, keys in self.advisory_platforms.items():
            ids = sorted(f"{k[1] or k[0]} {k[2]}" if k[2] else k[0] for k in keys)
            out.append((adv, len(keys), self.advisory_files[adv], ids[:EXAMPLES]))
        return sorted(out, key=lambda a: (-a[1], -a[2], a[0]))

    def platform_rows(self) -> list[PlatformRow]:
        """Worst status first, then most files; SNP rows learn the highest reported TCB of
        their product (label) in the fleet."""
        newest: dict[tuple[str, str | None], dict[str, int]] = {}
        for row in self.platforms.values():
            if row.tcb is not None:
                top = newest.setdefault((row.tee, row.label), {})
                for k, v in row.tcb_top.items():
                    top[k] = max(v, top.get(k, v))
        for row in self.platforms.values():
            row.newest_tcb = newest.get((row.tee, row.label)) if row.tcb is not None else None
        return sorted(
            self.platforms.values(),
            key=lambda r: (status_rank(r.worst), -r.files, r.tee, r.ident or ""),
        )

    def rejection_groups(self) -> list[RejectionGroup]:
        """Most files first."""
        return sorted(self.rejections.values(), key=lambda g: (-g.count, g.exit_class, g.reason))

    def status_counts(self) -> list[tuple[str, int]]:
        """Files per TCB status, worst first."""
        return sorted(self.statuses.items(), key=lambda s: status_rank(s[0]))
