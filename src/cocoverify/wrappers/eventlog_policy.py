"""The ``eventlog:`` policy section: expected event-log registers, events, kernel command
line, initrd and AA event-log entries (docs/eventlog.md "Policy")."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cocoverify._core.eventlog import thaw
from cocoverify._core.rules import hex_bytes, reject_unknown_keys, rule_in
from cocoverify.errors import (
    ConfigurationError,
    Reason,
)
from cocoverify.result import Appraisal, RuleVerdict, freeze

__all__ = ["POLICY_SECTIONS", "REGISTERS", "EventLogPolicy", "ExpectedEvent"]

#: CC MR index in a TDX log -> register (UEFI "Confidential Computing": 0 = MRTD)
REGISTERS = MappingProxyType({0: "mrtd", 1: "rtmr0", 2: "rtmr1", 3: "rtmr2", 4: "rtmr3"})


# --- policy section ``eventlog:`` ------------------------------------------------------------

_POLICY_KEYS = (
    "required",
    "rtmrs",
    "events",
    "kernel_cmdline",
    "kernel_cmdline_contains",
    "initrd",
    "initrd_digests",
    "aael_required",
    "aael_domains",
    "aael_operations",
)


def _bad_policy(where: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {what}", reason=Reason.INVALID_POLICY)


def _strings(where: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) for v in items):
        raise _bad_policy(where, "expected a string or a list of strings")
    return tuple(items)


def _digests(where: str, value: Any) -> frozenset[bytes] | None:
    items = _strings(where, value)
    if items is None:
        return None
    return frozenset(hex_bytes(f"{where}[{i}]", v, 48) for i, v in enumerate(items))


@dataclass(frozen=True, slots=True)
class ExpectedEvent:
    """An event the log must contain: its SHA-384 digest, optionally its register and type."""

    digest: bytes
    register: str | None = None
    type: str | None = None

    def matches(self, event: Mapping[str, Any]) -> bool:
        return (
            event["digests"].get("SHA-384") == self.digest
            and self.register in (None, event["register"])
            and self.type in (None, event["type"])
        )


@dataclass(frozen=True, slots=True)
class EventLogPolicy:
    """Rules on a replayed TDX event log (docs/eventlog.md). Every knob is unchecked while unset.

    ``required``: evidence without an event log fails. ``rtmrs``: register -> allowed replayed
    values. ``events``: each ``{digest, register?, type?}`` must appear in the log.
    ``kernel_cmdline`` (allowed exact values) / ``kernel_cmdline_contains`` (each must be a
    substring): the last kernel command line measured. ``initrd``: allowed initrd paths
    (GRUB ``initrd``); ``initrd_digests``: allowed SHA-384 digests of the initrd the Linux EFI
    stub measured (EV_EVENT_TAG "Linux initrd"). ``aael_required``: entries
    ``{domain, operation, content?}`` that must be in the AA event log; ``aael_domains`` /
    ``aael_operations``: every entry's domain / operation must be one of these.
    """

    required: bool = False
    rtmrs: tuple[tuple[str, frozenset[bytes]], ...] | None = None
    events: tuple[ExpectedEvent, ...] | None = None
    kernel_cmdline: tuple[str, ...] | None = None
    kernel_cmdline_contains: tuple[str, ...] | None = None
    initrd: tuple[str, ...] | None = None
    initrd_digests: frozenset[bytes] | None = None
    aael_required: tuple[tuple[tuple[str, Any], ...], ...] | None = None
    aael_domains: tuple[str, ...] | None = None
    aael_operations: tuple[str, ...] | None = None

    @staticmethod
    def applies(appraisal: Appraisal) -> bool:
        """The section runs for TDX evidence (with or without a log: ``required``)."""
        return appraisal.tee == "tdx"

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> EventLogPolicy:
        """Parse the file form; unknown keys and bad values are ConfigurationError."""
        reject_unknown_keys(where, data, _POLICY_KEYS)
        required = data.get("required", False)
        if not isinstance(required, bool):
            raise _bad_policy(f"{where}.required", "expected true or false")
        rtmrs = None
        if data.get("rtmrs") is not None:
            if not isinstance(data["rtmrs"], Mapping):
                raise _bad_policy(f"{where}.rtmrs", "expected a mapping rtmr0..rtmr3 -> values")
            out = []
            for reg, values in data["rtmrs"].items():
                if reg not in ("rtmr0", "rtmr1", "rtmr2", "rtmr3"):
                    raise _bad_policy(f"{where}.rtmrs.{reg}", "not rtmr0..rtmr3")
                allowed = _digests(f"{where}.rtmrs.{reg}", values)
                assert allowed is not None
                out.append((reg, allowed))
            rtmrs = tuple(sorted(out))
        events = None
        if data.get("events") is not None:
            if not isinstance(data["events"], list):
                raise _bad_policy(f"{where}.events", "expected a list")
            parsed = []
            for i, item in enumerate(data["events"]):
                loc = f"{where}.events[{i}]"
                if not isinstance(item, Mapping):
                    raise _bad_policy(loc, "expected {digest, register?, type?}")
                reject_unknown_keys(loc, item, ("digest", "register", "type"))
                reg, typ = item.get("register"), item.get("type")
                if reg is not None and reg not in REGISTERS.values():
                    raise _bad_policy(f"{loc}.register", "not mrtd or rtmr0..rtmr3")
                if typ is not None and not isinstance(typ, str):
                    raise _bad_policy(f"{loc}.type", "expected an EV_ name")
                digest = hex_bytes(f"{loc}.digest", item.get("digest"), 48)
                parsed.append(ExpectedEvent(digest, reg, typ))
            events = tuple(parsed)
        aael_required = None
        if data.get("aael_required") is not None:
            if not isinstance(data["aael_required"], list):
                raise _bad_policy(f"{where}.aael_required", "expected a list")
            entries = []
            for i, item in enumerate(data["aael_required"]):
                loc = f"{where}.aael_required[{i}]"
                if not isinstance(item, Mapping) or "domain" not in item or "operation" not in item:
                    raise _bad_policy(loc, "expected {domain, operation, content?}")
                reject_unknown_keys(loc, item, ("domain", "operation", "content"))
                entries.append(tuple(sorted((k, freeze(v)) for k, v in item.items())))
            aael_required = tuple(entries)
        return cls(
            required=required,
            rtmrs=rtmrs,
            events=events,
            kernel_cmdline=_strings(f"{where}.kernel_cmdline", data.get("kernel_cmdline")),
            kernel_cmdline_contains=_strings(
                f"{where}.kernel_cmdline_contains", data.get("kernel_cmdline_contains")
            ),
            initrd=_strings(f"{where}.initrd", data.get("initrd")),
            initrd_digests=_digests(f"{where}.initrd_digests", data.get("initrd_digests")),
            aael_required=aael_required,
            aael_domains=_strings(f"{where}.aael_domains", data.get("aael_domains")),
            aael_operations=_strings(f"{where}.aael_operations", data.get("aael_operations")),
        )

    def to_dict(self) -> dict[str, Any]:
        """The file form: only what is set."""
        out: dict[str, Any] = {}
        if self.required:
            out["required"] = True
        if self.rtmrs is not None:
            out["rtmrs"] = {reg: sorted(v.hex() for v in vs) for reg, vs in self.rtmrs}
        if self.events is not None:
            out["events"] = [
                {"digest": e.digest.hex()}
                | ({"register": e.register} if e.register else {})
                | ({"type": e.type} if e.type else {})
                for e in self.events
            ]
        for name in ("kernel_cmdline", "kernel_cmdline_contains", "initrd"):
            if getattr(self, name) is not None:
                out[name] = list(getattr(self, name))
        if self.initrd_digests is not None:
            out["initrd_digests"] = sorted(v.hex() for v in self.initrd_digests)
        if self.aael_required is not None:
            out["aael_required"] = [{k: thaw(v) for k, v in e} for e in self.aael_required]
        for name in ("aael_domains", "aael_operations"):
            if getattr(self, name) is not None:
                out[name] = list(getattr(self, name))
        return out

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """required, rtmrs, events, kernel command line, initrd, then the AA event log."""
        if self == _DEFAULT_POLICY:
            return []
        typed = a.claims.get("event_log")
        aael = a.claims.get("aael")
        out: list[RuleVerdict] = []
        if typed is None and aael is None:
            if self.required:
                out.append(
                    RuleVerdict(
                        "eventlog.required",
                        False,
                        "the policy requires an event log; none was given",
                        reason=Reason.POLICY_REJECTED,
                    )
                )
            return out
        if typed is not None:
            out.extend(self._log_rules(typed))
        if aael is not None:
            out.extend(self._aael_rules(aael))
            strays = [
                e["offset"]
                for e in (typed or {}).get("events", ())
                if e["register"] == "rtmr3" and e.get("kind") != "aael"
            ]
            if strays and (self.aael_domains or self.aael_operations or self.aael_required):
                # an RTMR3 event that is no AA entry could be one made unrecognisable: the
                # rules on every entry cannot be judged (docs/eventlog.md "Policy")
                out.append(
                    RuleVerdict(
                        "eventlog.aael_complete",
                        False,
                        "RTMR3 holds events that are not AA event log entries (at offsets "
                        + ", ".join(str(o) for o in strays)
                        + "): the AA event log rules cannot see every entry",
                        reason=Reason.MEASUREMENT_MISMATCH,
                    )
                )
        return out

    def _log_rules(self, typed: Mapping[str, Any]) -> list[RuleVerdict]:
        out: list[RuleVerdict] = []
        for reg, allowed in self.rtmrs or ():
            out.append(rule_in(f"eventlog.{reg}", typed["replayed"][reg], allowed))
        for i, want in enumerate(self.events or ()):
            found = any(want.matches(e) for e in typed["events"])
            out.append(
                RuleVerdict(f"eventlog.events[{i}]", True, actual=want.digest)
                if found
                else RuleVerdict(
                    f"eventlog.events[{i}]",
                    False,
                    f"no event with SHA-384 digest {want.digest.hex()}"
                    + (f" in {want.register}" if want.register else "")
                    + (f" of type {want.type}" if want.type else ""),
                    reason=Reason.MEASUREMENT_MISMATCH,
                    expected=want.digest,
                )
            )
        cmdline = typed.get("kernel_cmdline")
        if self.kernel_cmdline is not None:
            out.append(rule_in("eventlog.kernel_cmdline", cmdline, self.kernel_cmdline))
        for i, part in enumerate(self.kernel_cmdline_contains or ()):
            ok = isinstance(cmdline, str) and part in cmdline
            out.append(
                RuleVerdict(f"eventlog.kernel_cmdline_contains[{i}]", True, actual=part)
                if ok
                else RuleVerdict(
                    f"eventlog.kernel_cmdline_contains[{i}]",
                    False,
                    f"the kernel command line does not contain {part!r}",
                    reason=Reason.MEASUREMENT_MISMATCH,
                    expected=part,
                    actual=cmdline,
                )
            )
        if self.initrd is not None:
            out.append(rule_in("eventlog.initrd", typed.get("initrd"), self.initrd))
        if self.initrd_digests is not None:
            measured = [
                e["digests"].get("SHA-384")
                for e in typed["events"]
                if e.get("kind") == "initrd_digest"
            ]
            out.append(
                rule_in(
                    "eventlog.initrd_digests",
                    measured[-1] if measured else None,
                    self.initrd_digests,
                )
            )
        return out

    def _aael_rules(self, aael: Any) -> list[RuleVerdict]:
        out: list[RuleVerdict] = []
        entries = [e for e in aael if "domain" in e]
        for i, want in enumerate(self.aael_required or ()):
            spec = dict(want)
            ok = any(all(thaw(e.get(k)) == thaw(v) for k, v in spec.items()) for e in entries)
            out.append(
                RuleVerdict(f"eventlog.aael_required[{i}]", ok)
                if ok
                else RuleVerdict(
                    f"eventlog.aael_required[{i}]",
                    False,
                    f"no AA event log entry {thaw(spec)}",
                    reason=Reason.MEASUREMENT_MISMATCH,
                    expected=json.dumps(thaw(spec), sort_keys=True),
                )
            )
        for name, key in (("aael_domains", "domain"), ("aael_operations", "operation")):
            allowed = getattr(self, name)
            if allowed is None:
                continue
            bad = [e[key] for e in entries if e[key] not in allowed]
            out.append(
                rule_in(f"eventlog.{name}", bad[0], allowed)
                if bad
                else RuleVerdict(f"eventlog.{name}", True)
            )
        return out


_DEFAULT_POLICY = EventLogPolicy()
#: the policy document keys of this wrapper (registry.policy_sections merges them)
POLICY_SECTIONS = MappingProxyType({"eventlog": EventLogPolicy})
