"""A TDX quote with its event logs: the quote verified first, then the logs replayed into RTMRs.

The wrapper sits above the TEE packages and never imports them: the quote's appraisal comes
from ``inner`` (the TDX pipeline, passed in by ``cocoverify.api``). Checks, in order:

1. ``inner(quote)``: the quote's full verification up to the TCB verdict (it raises on failure).
2. The appraisal is TDX (RTMRs exist), else ``unsupported_tee_type``.
3. The CC event log (CCEL area) parses (TCG PC Client PFP 9.2; ``malformed`` with the offset).
4. It declares SHA-384 (TDX RTMRs are SHA-384; an SM3-only log is ``unsupported_algorithm``).
5. CC MR 1..4 replayed from zero equal RTMR0..3, in that order; the first that differs is
   ``event_log_mismatch`` (exit 3) naming it.
6. A legacy text AA event log replays (``INIT sha384/<hex>`` then one line per event) to RTMR3.

Claims added: ``uefi_event_logs`` (trustee's shape, drop-in), ``event_log`` (typed events,
the replayed registers, kernel command line, initrd and GRUB commands) and ``aael`` (the
attestation agent's entries). See docs/eventlog.md.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cocoverify._core.eventlog import EV_NO_ACTION, Event, EventLog, parse_event_log, thaw
from cocoverify._core.json import loads_strict
from cocoverify._core.rules import hex_bytes, reject_unknown_keys, rule_in
from cocoverify.errors import (
    AuthenticityError,
    ConfigurationError,
    MalformedEvidence,
    Reason,
    UnsupportedEvidence,
)
from cocoverify.result import Appraisal, RuleVerdict

__all__ = [
    "MAX_AAEL_LINES",
    "POLICY_SECTIONS",
    "EventLogPolicy",
    "appraise_with_log",
    "describe_event",
    "event_claims",
    "parse_aael_text",
    "replay_aael_text",
    "replay_rtmrs",
    "trustee_evidence",
    "uefi_event_logs",
]

#: CC MR index in a TDX log -> register (UEFI "Confidential Computing": 0 = MRTD)
REGISTERS = MappingProxyType({0: "mrtd", 1: "rtmr0", 2: "rtmr1", 3: "rtmr2", 4: "rtmr3"})
#: the most lines read from a legacy text AA event log
MAX_AAEL_LINES = 1 << 16
_AAEL_ID = 0x4141454C

Inner = Callable[[bytes], Appraisal]


def uefi_event_logs(log: EventLog) -> list[dict[str, Any]]:
    """trustee's ``uefi_event_logs`` (deps/eventlog JSON): one object per TCG_PCR_EVENT2."""
    return [
        {
            "details": thaw(e.details),
            "digest_matches_event": e.digest_matches_event,
            "digests": [{"alg": d.alg, "digest": d.value.hex()} for d in e.digests],
            "event": base64.b64encode(e.data).decode("ascii"),
            "index": e.mr_index,
            "type_name": e.type_name,
        }
        for e in log.events
    ]


def _kind(event: Event) -> dict[str, Any]:
    """What a boot event measures, for policy: GRUB command, kernel, command line, initrd."""
    text = event.details.get("string")
    if event.type_name == "EV_IPL" and isinstance(text, str):
        if text.startswith("grub_cmd "):
            command = text[len("grub_cmd ") :]
            out: dict[str, Any] = {"kind": "grub_command", "command": command}
            verb, _, rest = command.partition(" ")
            if verb in ("linux", "linuxefi"):
                path, _, args = rest.partition(" ")
                out.update(kernel=path, kernel_args=args)
            elif verb in ("initrd", "initrdefi"):
                out["initrd"] = rest
            return out
        for prefix in ("grub_kernel_cmdline ", "kernel_cmdline: "):
            if text.startswith(prefix):
                return {"kind": "kernel_cmdline", "cmdline": text[len(prefix) :]}
    if event.type_name == "EV_EVENT_TAG":
        if event.details.get("unicode_name") == "AAEL":
            return {"kind": "aael"}
        if text == "Linux initrd":
            return {"kind": "initrd_digest"}  # the Linux EFI stub measures the initrd image
        if text == "LOADED_IMAGE::LoadOptions":
            return {"kind": "load_options"}
    if event.type_name.startswith("EV_EFI_VARIABLE"):
        return {"kind": "efi_variable"}
    if event.type_name == "EV_EFI_BOOT_SERVICES_APPLICATION":
        return {"kind": "boot_services_application"}
    return {}


def describe_event(event: Event) -> str:
    """One line saying what the event measured (EFI variable, application, command, ...)."""
    d = event.details
    if "unicode_name" in d and "variable_name" in d:
        size = d.get("variable_data_length", 0)
        return f"EFI variable {d['unicode_name']} {{{d['variable_name']}}} ({size} bytes)"
    if "device_paths" in d:
        return "boot services application " + "/".join(d["device_paths"])
    if d.get("unicode_name") == "AAEL":
        return f"AA event {d.get('string', '')}"
    if "string" in d:
        return f"{event.type_name} {d['string']!r}"
    if event.type_name == "EV_SEPARATOR":
        return "separator " + event.data.hex()
    return f"{event.type_name} ({len(event.data)} bytes)"


def event_claims(log: EventLog) -> dict[str, Any]:
    """Typed claims for a TDX log: every event, the kernel command line, initrd, GRUB, AAEL."""
    events: list[dict[str, Any]] = []
    grub: list[str] = []
    kernel = cmdline = initrd = linux_command = None
    aael: list[dict[str, Any]] = []
    for e in log.events:
        kind = _kind(e)
        events.append(
            {
                "offset": e.offset,
                "index": e.mr_index,
                "register": REGISTERS.get(e.mr_index, f"mr{e.mr_index}"),
                "type": e.type_name,
                "type_id": e.event_type,
                "digests": {d.alg: d.value for d in e.digests},
                "details": thaw(e.details),
                "description": describe_event(e),
                **kind,
            }
        )
        if kind.get("kind") == "grub_command":
            grub.append(kind["command"])
            kernel = kind.get("kernel", kernel)
            initrd = kind.get("initrd", initrd)
            if "kernel" in kind:
                linux_command = f"{kind['kernel']} {kind['kernel_args']}".rstrip()
        elif kind.get("kind") == "kernel_cmdline":
            cmdline = kind["cmdline"]
        elif kind.get("kind") == "aael":
            data = thaw(e.details.get("data", {}))
            aael.append({"source": "ccel", "register": REGISTERS.get(e.mr_index), **data})
    return {
        "algorithms": list(log.algorithms),
        "spec_id_index": log.spec_id.mr_index,
        "events": events,
        "grub_commands": grub,
        "kernel": kernel,
        # as measured (the image path first); GRUB's linux command when nothing else was
        "kernel_cmdline": cmdline if cmdline is not None else linux_command,
        "initrd": initrd,
        "aael": aael,
    }


def replay_rtmrs(log: EventLog) -> dict[str, bytes]:
    """RTMR0..3 replayed from a TDX log (CC MR 1..4, SHA-384; EV_NO_ACTION not extended)."""
    if "SHA-384" not in log.algorithms:
        raise UnsupportedEvidence(
            "event log: no SHA-384 digests (the log declares "
            + (", ".join(log.algorithms) or "no algorithm")
            + "); TDX RTMRs are SHA-384",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    if log.spec_id.digest_size(0xC) != 48:
        raise MalformedEvidence(
            "event log: the Spec ID event gives SHA-384 a size other than 48",
            field="event log",
            offset=0,
            reason=Reason.MALFORMED,
        )
    return {f"rtmr{i}": log.replay(i + 1, "SHA-384") for i in range(4)}


def parse_aael_text(text: bytes) -> tuple[bytes, tuple[str, ...]]:
    """A legacy text AA event log: ``INIT sha384/<hex>``, then ``<domain> <op> <content>`` lines.

    Returns (initial value, the event lines). Malformed: no INIT line, a bad INIT value, a
    line with fewer than three fields, non-UTF-8 text.
    """
    try:
        lines = text.decode("utf-8").split("\n")
    except UnicodeDecodeError as exc:
        raise MalformedEvidence(
            "AA event log: not UTF-8", field="aa_event_log", offset=exc.start
        ) from None
    while lines and lines[-1] == "":
        lines.pop()
    if len(lines) > MAX_AAEL_LINES:
        raise MalformedEvidence(
            f"AA event log: more than {MAX_AAEL_LINES} lines", field="aa_event_log"
        )
    if not lines or not lines[0].startswith("INIT sha384/"):
        raise MalformedEvidence(
            "AA event log: the first line is not 'INIT sha384/<hex>'",
            field="aa_event_log",
            offset=0,
        )
    try:
        init = bytes.fromhex(lines[0][len("INIT sha384/") :])
    except ValueError:
        init = b""
    if len(init) != 48:
        raise MalformedEvidence(
            "AA event log: the INIT value is not 48 bytes of hex", field="aa_event_log", offset=0
        )
    offset = len(lines[0]) + 1
    for line in lines[1:]:
        if len(line.split(" ", 2)) < 3:
            raise MalformedEvidence(
                "AA event log: a line is not '<domain> <operation> <content>'",
                field="aa_event_log",
                offset=offset,
            )
        offset += len(line.encode()) + 1
    return init, tuple(lines)


def replay_aael_text(text: bytes) -> bytes:
    """RTMR3 from a legacy text AA event log (trustee @ e213e56e ``aael_integrity_check``)."""
    init, lines = parse_aael_text(text)
    state = init
    for line in lines:
        state = hashlib.sha384(state + hashlib.sha384(line.encode()).digest()).digest()
    return state


def _aael_text_claims(text: bytes) -> list[dict[str, Any]]:
    init, lines = parse_aael_text(text)
    out: list[dict[str, Any]] = [{"source": "text", "register": "rtmr3", "init": init}]
    for line in lines[1:]:
        domain, operation, content = line.split(" ", 2)
        try:
            parsed: Any = json.loads(content)  # as trustee decodes AAEL content (claims only)
        except ValueError:
            parsed = content
        out.append(
            {
                "source": "text",
                "register": "rtmr3",
                "domain": domain,
                "operation": operation,
                "content": parsed,
            }
        )
    return out


def _mismatch(register: str, replayed: bytes, quoted: bytes, what: str) -> AuthenticityError:
    return AuthenticityError(
        f"the {what} replays {register.upper()} to {replayed.hex()}, the quote has {quoted.hex()}",
        reason=Reason.EVENT_LOG_MISMATCH,
        register=register,
        expected=replayed,
        actual=quoted,
    )


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def appraise_with_log(
    quote: bytes,
    event_log: bytes | None = None,
    *,
    inner: Inner,
    aa_event_log: bytes | None = None,
) -> Appraisal:
    """The quote's appraisal with the event logs replayed and their claims added.

    ``inner`` verifies the quote (``cocoverify.api`` passes the TDX pipeline). Raises what
    ``inner`` raises, then MalformedEvidence / UnsupportedEvidence for a log that cannot be
    replayed, and AuthenticityError(event_log_mismatch) for a log that is not the quote's.
    """
    if event_log is None and aa_event_log is None:
        raise ConfigurationError(
            "appraise_with_log: give event_log or aa_event_log", reason=Reason.INVALID_ARGUMENT
        )
    appraisal = inner(quote)
    if appraisal.tee != "tdx":
        raise UnsupportedEvidence(
            f"an event log is replayed into TDX RTMRs; this evidence is {appraisal.tee}",
            reason=Reason.UNSUPPORTED_TEE_TYPE,
        )
    claims = dict(appraisal.claims)
    if event_log is not None:
        log = parse_event_log(event_log, what="event log")
        replayed = replay_rtmrs(log)
        for register, value in replayed.items():
            if value != claims[register]:
                raise _mismatch(register, value, claims[register], "event log")
        typed = event_claims(log)
        typed["replayed"] = replayed
        typed["skipped_no_action"] = sum(
            1 for e in log.events if e.event_type == EV_NO_ACTION and e.mr_index in (1, 2, 3, 4)
        )
        claims["uefi_event_logs"] = _freeze(uefi_event_logs(log))
        claims["event_log"] = _freeze(typed)
        aael = typed["aael"]
    else:
        aael = []
    if aa_event_log is not None:
        value = replay_aael_text(aa_event_log)
        if value != claims["rtmr3"]:
            raise _mismatch("rtmr3", value, claims["rtmr3"], "AA event log")
        aael = [*aael, *_aael_text_claims(aa_event_log)]
    claims["aael"] = _freeze(aael)
    return dataclasses.replace(appraisal, claims=MappingProxyType(claims))


def trustee_evidence(data: bytes) -> tuple[bytes, bytes | None, bytes | None] | None:
    """trustee TDX evidence JSON ``{quote, cc_eventlog?, aa_eventlog?}`` recognised by content.

    Returns (quote, CCEL, AA event log) when ``data`` is such a JSON object with an event log,
    else None (the caller's detection goes on). Base64 as trustee sends it (standard; the
    quote also URL-safe without padding).
    """
    head = data.lstrip()[:1]
    if head != b"{" or (b'"cc_eventlog"' not in data and b'"aa_eventlog"' not in data):
        return None
    try:
        obj = loads_strict(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, Mapping) or not isinstance(obj.get("quote"), str):
        return None
    ccel, aael = obj.get("cc_eventlog"), obj.get("aa_eventlog")
    if ccel in (None, "") and aael in (None, ""):
        return None
    quote = _b64(obj["quote"], "quote", urlsafe=True)
    ccel_bytes = _b64(ccel, "cc_eventlog") if isinstance(ccel, str) and ccel else None
    aael_bytes: bytes | None = None
    if isinstance(aael, str) and aael:
        aael_bytes = aael.encode("utf-8")  # the legacy text log travels as text
    return quote, ccel_bytes, aael_bytes


def _b64(text: Any, field: str, *, urlsafe: bool = False) -> bytes:
    if not isinstance(text, str):
        raise MalformedEvidence(f"{field}: expected a base64 string", field=field)
    try:
        if urlsafe and ("-" in text or "_" in text):
            return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise MalformedEvidence(f"{field}: not base64", field=field) from None


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
                entries.append(tuple(sorted((k, _freeze_json(v)) for k, v in item.items())))
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


def _freeze_json(value: Any) -> Any:
    return _freeze(value)


_DEFAULT_POLICY = EventLogPolicy()
#: the policy document keys of this wrapper (registry.policy_sections merges them)
POLICY_SECTIONS = MappingProxyType({"eventlog": EventLogPolicy})
