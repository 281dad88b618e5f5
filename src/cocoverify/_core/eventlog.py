"""The TCG PC Client crypto-agile event log: bytes -> frozen views, and the replay.

Vendor-free: the layout is the TCG PC Client Platform Firmware Profile (PFP) section 9.2
(TCG_PCR_EVENT, TCG_PCR_EVENT2) and section 10.4.5.1 (TCG_EfiSpecIDEvent); the event data
decoders follow the UEFI specification (EFI variables, UEFI_IMAGE_LOAD_EVENT and its device
path) and, for their text form, trustee's ``deps/eventlog`` crate, so that
:func:`cocoverify.integrations.trustee.eventlog.parse_ccel` is a thin shape over this module.

A TDX (or other confidential-computing) log numbers its registers by CC MR index (1..4 =
RTMR0..3); a vTPM log by PCR. This module does not interpret the index.

Every malformed input is :class:`~cocoverify.errors.MalformedEvidence` naming the offset of
the event that failed (never a partial log); the parser reads at most :data:`MAX_LOG_SIZE`
bytes and :data:`MAX_EVENTS` events. Parsing is strict where trustee is strict (an unknown
event type or algorithm, event text that must be UTF-8 and is not): the whole log fails.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cocoverify._core.eventlog_data import PARSERS, EventDataError, blank, read_uint, take
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "ALGORITHMS",
    "DIGEST_SIZES",
    "EVENT_TYPES",
    "MAX_EVENTS",
    "MAX_LOG_SIZE",
    "Digest",
    "Event",
    "EventLog",
    "SpecId",
    "hash_name",
    "parse_event_log",
    "thaw",
]

#: the largest log read (bytes); a CCEL area is 64 KiB..1 MiB in every vector
MAX_LOG_SIZE = 64 * 1024 * 1024
#: the most events read
MAX_EVENTS = 1 << 20

#: TCG_ALG_ID -> name (TCG Algorithm Registry; the names are trustee's)
ALGORITHMS: Mapping[int, str] = MappingProxyType(
    {
        0x1: "RSA",
        0x3: "TDES",
        0x4: "SHA-1",
        0xB: "SHA-256",
        0xC: "SHA-384",
        0xD: "SHA-512",
        0x12: "SM3",
    }
)
#: the digest size each hash algorithm has (the Spec ID event must agree to replay)
DIGEST_SIZES: Mapping[str, int] = MappingProxyType(
    {"SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64, "SM3": 32}
)
_HASHES = {"SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512",
           "SM3": "sm3"}  # fmt: skip

#: TCG event types (PFP "Event Types" table) -> name
EVENT_TYPES: Mapping[int, str] = MappingProxyType(
    {
        0x0: "EV_PREBOOT_CERT",
        0x1: "EV_POST_CODE",
        0x2: "EV_UNUSED",
        0x3: "EV_NO_ACTION",
        0x4: "EV_SEPARATOR",
        0x5: "EV_ACTION",
        0x6: "EV_EVENT_TAG",
        0x7: "EV_S_CRTM_CONTENTS",
        0x8: "EV_S_CRTM_VERSION",
        0x9: "EV_CPU_MICROCODE",
        0xA: "EV_PLATFORM_CONFIG_FLAGS",
        0xB: "EV_TABLE_OF_DEVICES",
        0xC: "EV_COMPACT_HASH",
        0xD: "EV_IPL",
        0xE: "EV_IPL_PARTITION_DATA",
        0xF: "EV_NONHOST_CODE",
        0x10: "EV_NONHOST_CONFIG",
        0x11: "EV_NONHOST_INFO",
        0x12: "EV_OMIT_BOOT_DEVICE_EVENTS",
        0x80000000: "EV_EFI_EVENT_BASE",
        0x80000001: "EV_EFI_VARIABLE_DRIVER_CONFIG",
        0x80000002: "EV_EFI_VARIABLE_BOOT",
        0x80000003: "EV_EFI_BOOT_SERVICES_APPLICATION",
        0x80000004: "EV_EFI_BOOT_SERVICES_DRIVER",
        0x80000005: "EV_EFI_RUNTIME_SERVICES_DRIVER",
        0x80000006: "EV_EFI_GPT_EVENT",
        0x80000007: "EV_EFI_ACTION",
        0x80000008: "EV_EFI_PLATFORM_FIRMWARE_BLOB",
        0x80000009: "EV_EFI_HANDOFF_TABLES",
        0x8000000A: "EV_EFI_PLATFORM_FIRMWARE_BLOB2",
        0x8000000B: "EV_EFI_HANDOFF_TABLES2",
        0x8000000C: "EV_EFI_VARIABLE_BOOT2",
        0x80000010: "EV_EFI_HCRTM_EVENT",
        0x800000E0: "EV_EFI_VARIABLE_AUTHORITY",
        0x800000E1: "EV_EFI_SPDM_FIRMWARE_BLOB",
        0x800000E2: "EV_EFI_SPDM_FIRMWARE_CONFIG",
    }
)
EV_NO_ACTION = 0x3
_AAEL_TAGGED_EVENT_ID = 0x4141454C  # Confidential Containers' AA event log ("LEAA" on the wire)
_GUID_SIZE = 16


def hash_name(alg: str) -> str | None:
    """The hashlib name of a TCG algorithm name, or None when it is not a hash."""
    return _HASHES.get(alg)


# --- frozen views ------------------------------------------------------------------------------


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """A frozen decoded value as plain JSON types (mappings -> dict, tuples -> list)."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Digest:
    """One entry of TPML_DIGEST_VALUES."""

    alg_id: int
    alg: str
    value: bytes


@dataclass(frozen=True, slots=True)
class SpecId:
    """TCG_EfiSpecIDEvent (PFP 10.4.5.1), carried by the first, SHA-1-format event."""

    #: the first event's PCRIndex: 0 per TCG, 1 in OVMF/TDVF/GCE/Hygon logs, 0 in td-shim's
    mr_index: int
    platform_class: int
    spec_version: tuple[int, int, int]  # major, minor, errata
    uintn_size: int
    #: (algorithm id, digest size) in log order
    algorithms: tuple[tuple[int, int], ...]
    vendor_info: bytes

    def digest_size(self, alg_id: int) -> int | None:
        """The digest size the log declares for ``alg_id``."""
        for aid, size in self.algorithms:
            if aid == alg_id:
                return size
        return None


@dataclass(frozen=True, slots=True)
class Event:
    """One TCG_PCR_EVENT2 (PFP 9.2); ``offset`` is where it starts in the log."""

    offset: int
    mr_index: int
    event_type: int
    type_name: str
    digests: tuple[Digest, ...]
    data: bytes
    #: the event data decoded (keys as trustee's ``details``), frozen
    details: Mapping[str, Any]
    #: every digest equals H(event data) (claims only: many events hash something else)
    digest_matches_event: bool

    def digest(self, alg: str) -> bytes | None:
        """This event's digest of ``alg`` (``"SHA-384"``), if it has one."""
        for d in self.digests:
            if d.alg == alg:
                return d.value
        return None

    def measures(self, *candidates: bytes) -> bool | None:
        """Whether every digest of a supported algorithm is the hash of one of ``candidates``;
        None when no digest has an algorithm this Python can hash (SM3)."""
        checked = False
        for d in self.digests:
            name = _HASHES.get(d.alg)
            if name is None or name not in hashlib.algorithms_available:
                continue
            checked = True
            if all(hashlib.new(name, c).digest() != d.value for c in candidates):
                return False
        return True if checked else None


@dataclass(frozen=True, slots=True)
class EventLog:
    """A parsed log: the Spec ID, the events after it, and where the log ends."""

    spec_id: SpecId
    events: tuple[Event, ...]
    #: offset just past the last event
    end_offset: int
    #: the byte the area is padded with after the log (0xFF OVMF/TDVF, 0x00 td-shim), if any
    padding: int | None

    @property
    def algorithms(self) -> tuple[str, ...]:
        """The names of the algorithms the Spec ID declares, in order."""
        return tuple(ALGORITHMS[a] for a, _ in self.spec_id.algorithms)

    def replay(self, index: int, alg: str = "SHA-384", *, skip_no_action: bool = True) -> bytes:
        """Register ``index`` replayed from zero: ``MR = H(MR || digest)`` (PFP; trustee replay).

        EV_NO_ACTION events are not extended (PFP); ``skip_no_action=False`` extends them
        as trustee does (the same value on every real vector).
        """
        name = _HASHES.get(alg)
        size = DIGEST_SIZES.get(alg)
        if name is None or size is None:
            raise UnsupportedEvidence(
                f"event log: replay with {alg} is not supported",
                reason=Reason.UNSUPPORTED_ALGORITHM,
            )
        value = bytes(size)
        for event in self.events:
            if event.mr_index != index or (skip_no_action and event.event_type == EV_NO_ACTION):
                continue
            for d in event.digests:
                if d.alg == alg:
                    value = _hash(name, alg, value + d.value)
        return value


def _hash(name: str, alg: str, data: bytes) -> bytes:
    try:
        return hashlib.new(name, data).digest()
    except ValueError:
        raise UnsupportedEvidence(
            f"event log: {alg} is not available in this Python's hashlib",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        ) from None


def _digest_matches(data: bytes, digests: Sequence[Digest]) -> bool:
    for d in digests:
        name = _HASHES.get(d.alg)
        if name is None:
            raise EventDataError(f"digest comparison: hash algorithm {d.alg} not supported")
        if _hash(name, d.alg, data) != d.value:
            return False
    return True


# --- the log -----------------------------------------------------------------------------------


def _spec_id(data: bytes, mr_index: int) -> SpecId:
    """TCG_EfiSpecIdEvent (PFP 10.4.5.1)."""
    count = read_uint(data, 24, "<I")
    algorithms: list[tuple[int, int]] = []
    pos = 28
    for _ in range(count):
        alg_id, size = read_uint(data, pos, "<H"), read_uint(data, pos + 2, "<H")
        pos += 4
        if alg_id not in ALGORITHMS:
            raise EventDataError(f"unknown algorithm {alg_id:#x}")
        algorithms.append((alg_id, size))
    vendor = read_uint(data, pos, "<B")
    if pos + 1 + vendor != len(data):
        raise EventDataError("the Specification ID event's size does not match its content")
    return SpecId(
        mr_index=mr_index,
        platform_class=read_uint(data, 16, "<I"),
        spec_version=(data[21], data[20], data[22]),
        uintn_size=data[23],
        algorithms=tuple(algorithms),
        vendor_info=data[pos + 1 :],
    )


_HEADER = struct.Struct("<III")  # PCRIndex, EventType, TPML_DIGEST_VALUES.count
_ALG = struct.Struct("<H")
_SIZE = struct.Struct("<I")


def _event_type(number: int) -> str:
    name = EVENT_TYPES.get(number)
    if name is None:
        raise EventDataError(f"unknown event type {number:#x}")
    return name


def parse_event_log(data: bytes, *, what: str = "event log") -> EventLog:
    """Parse a crypto-agile log (PFP 9.2): the Spec ID event, then TCG_PCR_EVENT2 until the end.

    The log ends at the end of ``data`` or where the next event's first 8 bytes are all
    0x00 or all 0xFF (the padding of a CCEL area). ``what`` names the input in errors.
    Any malformed event is MalformedEvidence with that event's offset; nothing is skipped.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedEvidence(f"{what}: expected bytes", field=what, reason=Reason.MALFORMED)
    data = bytes(data)
    if len(data) > MAX_LOG_SIZE:
        raise MalformedEvidence(
            f"{what}: {len(data)} bytes is more than the {MAX_LOG_SIZE} read",
            field=what,
            reason=Reason.MALFORMED,
        )
    start = 0
    try:
        # the first event, TCG_PCClientPCREvent (SHA-1 format): PCR, type, digest, size, data
        first_index = read_uint(data, 0, "<I")
        first_type = _event_type(read_uint(data, 4, "<I"))
        size = read_uint(data, 28, "<I")
        if first_type != "EV_NO_ACTION":
            raise EventDataError("the first event is not the Specification ID event (EV_NO_ACTION)")
        body = take(data, 32, size)
        spec = _spec_id(body, first_index)
        sizes = {alg_id: size for alg_id, size in spec.algorithms}
        pos = 32 + size
        events: list[Event] = []
        padding: int | None = None
        while pos < len(data):
            start = pos
            word = read_uint(data, pos, "<Q")
            if word in (0, 0xFFFFFFFFFFFFFFFF):
                padding = word & 0xFF
                break
            if len(events) >= MAX_EVENTS:
                raise EventDataError(f"more than {MAX_EVENTS} events")
            index, event_type, count = _HEADER.unpack_from(take(data, pos, 12))
            type_name = _event_type(event_type)
            pos += 12
            digests: list[Digest] = []
            for _ in range(count):
                (alg_id,) = _ALG.unpack_from(take(data, pos, 2))
                alg = ALGORITHMS.get(alg_id)
                if alg is None:
                    raise EventDataError(f"unknown algorithm {alg_id:#x}")
                if alg_id not in sizes:
                    raise EventDataError(f"no digest size for algorithm {alg_id:#x}")
                digests.append(Digest(alg_id, alg, take(data, pos + 2, sizes[alg_id])))
                pos += 2 + sizes[alg_id]
            (size,) = _SIZE.unpack_from(take(data, pos, 4))
            event = take(data, pos + 4, size)
            pos += 4 + size
            matches = _digest_matches(event, digests)
            details = PARSERS.get(type_name, blank)(event)
            events.append(
                Event(
                    offset=start,
                    mr_index=index,
                    event_type=event_type,
                    type_name=type_name,
                    digests=tuple(digests),
                    data=event,
                    details=_freeze(details),
                    digest_matches_event=matches,
                )
            )
        else:
            start = pos
        return EventLog(spec_id=spec, events=tuple(events), end_offset=start, padding=padding)
    except (EventDataError, struct.error, RecursionError) as exc:
        raise MalformedEvidence(
            f"{what}: event at offset {start}: {exc or type(exc).__name__}",
            field=what,
            offset=start,
            reason=Reason.MALFORMED,
        ) from None
