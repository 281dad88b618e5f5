"""A TDX quote with its event logs: the quote verified first, then the logs replayed into RTMRs.

The wrapper sits above the TEE packages and never imports them: the quote's appraisal comes
from ``inner`` (the TDX pipeline, passed in by ``cocoverify.api``). Checks, in order:

1. ``inner(quote)``: the quote's full verification up to the TCB verdict (it raises on failure).
2. The appraisal is TDX (RTMRs exist), else ``unsupported_tee_type``.
3. The CC event log (CCEL area) parses (TCG PC Client PFP 9.2; ``malformed`` with the offset).
4. It declares SHA-384 (TDX RTMRs are SHA-384; an SM3-only log is ``unsupported_algorithm``).
5. CC MR 1..4 replayed from zero equal RTMR0..3, in that order; the first that differs is
   ``event_log_mismatch`` (exit 3) naming it.
5b. Event data that claims and policy read is what its digest measured (``unbound_event``:
   PFP data-hashed types, AAEL tagged events, GRUB strings), else ``event_log_mismatch``.
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
from types import MappingProxyType
from typing import Any

from cocoverify._core.eventlog import EV_NO_ACTION, Event, EventLog, parse_event_log, thaw
from cocoverify._core.json import loads_strict
from cocoverify.errors import (
    AuthenticityError,
    ConfigurationError,
    MalformedEvidence,
    Reason,
    UnsupportedEvidence,
)
from cocoverify.result import Appraisal, freeze
from cocoverify.wrappers.eventlog_policy import (
    POLICY_SECTIONS,
    REGISTERS,
    EventLogPolicy,
)

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
    "unbound_event",
]

#: the most lines read from a legacy text AA event log
MAX_AAEL_LINES = 1 << 16
_AAEL_ID = 0x4141454C
_AAEL_TAG = _AAEL_ID.to_bytes(4, "little")  # b"LEAA"

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


#: event types whose digest the TCG PC Client PFP defines as the hash of the event data itself
#: (PFP "Event Types": EV_SEPARATOR, EV_EFI_ACTION, EV_EFI_VARIABLE_DRIVER_CONFIG,
#: EV_EFI_VARIABLE_AUTHORITY (UEFI_VARIABLE_DATA), EV_EFI_GPT_EVENT (UEFI_GPT_DATA))
DATA_HASHED_TYPES = frozenset(
    {
        "EV_SEPARATOR",
        "EV_EFI_ACTION",
        "EV_EFI_VARIABLE_DRIVER_CONFIG",
        "EV_EFI_VARIABLE_AUTHORITY",
        "EV_EFI_GPT_EVENT",
    }
)
#: GRUB's string events: the digest is of the text after the prefix, with its NUL (RHEL's
#: "grub_cmd ") or without (upstream's "grub_cmd: ", "grub_kernel_cmdline ")
_GRUB_PREFIXES = ("grub_cmd: ", "grub_cmd ", "grub_kernel_cmdline ", "kernel_cmdline: ")
#: what every GRUB string starts with, whatever follows (a damaged separator is still one)
_GRUB_STEMS = (b"grub_cmd", b"grub_kernel_cmdline", b"kernel_cmdline")


def _grub_text(event: Event) -> tuple[str, str] | None:
    """(prefix, text) of a GRUB string event (EV_IPL, recognised by its raw prefix, so text
    that is not UTF-8 is still judged), else None."""
    if event.type_name != "EV_IPL":
        return None
    for prefix in _GRUB_PREFIXES:
        if event.data.startswith(prefix.encode()):
            text = event.details.get("string")
            return prefix, text[len(prefix) :] if isinstance(text, str) else ""
    return None


def _grub_measured(event: Event, prefix: str) -> bool | None:
    """Whether the digest measures GRUB's text after a ``prefix``-long head of the data (None:
    no digest of an algorithm this Python can hash)."""
    raw = event.data[len(prefix) :].split(b"\0", 1)[0]
    return event.measures(raw, raw + b"\0") if raw else False


def _variable_data(data: bytes) -> bytes:
    """UEFI_VARIABLE_DATA's VariableData (GUID, name length, data length, name, data)."""
    if len(data) < 32:
        return data
    names, size = int.from_bytes(data[16:24], "little"), int.from_bytes(data[24:32], "little")
    start = 32 + 2 * names
    return data[start : start + size] if start + size == len(data) else data


def unbound_event(event: Event) -> str | None:
    """Why ``event``'s data is not what its digests measured, else None.

    Replaying the log binds only the digests; the data that claims and policy read is bound
    only where the digest is defined as its hash: the PFP types above, the attestation
    agent's tagged events (the whole event data) and GRUB's command strings. The EventType
    field and GRUB's prefix are not measured, so an event whose digest shows it was an AAEL
    entry or a GRUB string must also be recorded as one (a changed type, tag or prefix would
    hide it from the claims and policy).
    """
    aael = event.type_name == "EV_EVENT_TAG" and event.details.get("unicode_name") == "AAEL"
    grub = _grub_text(event)
    if aael or event.type_name in DATA_HASHED_TYPES:
        ok = event.measures(event.data)
    elif event.type_name in ("EV_EFI_VARIABLE_BOOT", "EV_EFI_VARIABLE_BOOT2"):
        # the PFP hashes UEFI_VARIABLE_DATA; EDK2-based firmware (every real TDX log) only its
        # VariableData: either is accepted, the variable's value is bound both ways
        ok = event.measures(event.data, _variable_data(event.data))
    elif grub is not None:
        ok = _grub_measured(event, grub[0])
    else:
        ok = None
    if ok is False:
        return "its data is not what its digest measured"
    data = event.data
    if not aael and len(data) > 8 and event.measures(_AAEL_TAG + data[4:]) is True:
        return "its digest measured an AA event log entry it no longer records as one"
    if grub is None:
        measured = [_grub_measured(event, p) for p in _GRUB_PREFIXES]
        if True in measured:
            return "its digest measured a GRUB string it no longer records as one"
        if data.startswith(_GRUB_STEMS) and False in measured and None not in measured:
            return "a GRUB string whose text is not what its digest measured"
    return None


def _kind(event: Event) -> dict[str, Any]:
    """What a boot event measures, for policy: GRUB command, kernel, command line, initrd."""
    text = event.details.get("string")
    if event.type_name == "EV_IPL" and isinstance(text, str):
        grub = _grub_text(event)
        if grub is not None and grub[0] in ("grub_cmd ", "grub_cmd: "):
            command = grub[1]
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
        for event in log.events:  # the data claims and policy read must be what was measured
            why = unbound_event(event)
            if why is not None:
                register = REGISTERS.get(event.mr_index, f"mr{event.mr_index}")
                raise AuthenticityError(
                    f"event log: the {event.type_name} event at offset {event.offset} "
                    f"({register}): {why}",
                    reason=Reason.EVENT_LOG_MISMATCH,
                    register=register,
                )
        typed = event_claims(log)
        typed["replayed"] = replayed
        typed["skipped_no_action"] = sum(
            1 for e in log.events if e.event_type == EV_NO_ACTION and e.mr_index in (1, 2, 3, 4)
        )
        claims["uefi_event_logs"] = freeze(uefi_event_logs(log))
        claims["event_log"] = freeze(typed)
        aael = typed["aael"]
    else:
        aael = []
    if aa_event_log is not None:
        value = replay_aael_text(aa_event_log)
        if value != claims["rtmr3"]:
            raise _mismatch("rtmr3", value, claims["rtmr3"], "AA event log")
        aael = [*aael, *_aael_text_claims(aa_event_log)]
    claims["aael"] = freeze(aael)
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
