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

import base64
import hashlib
import ipaddress
import json
import struct
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

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


class _Bad(Exception):
    """A parse failure of one event: the whole log is malformed."""


def hash_name(alg: str) -> str | None:
    """The hashlib name of a TCG algorithm name, or None when it is not a hash."""
    return _HASHES.get(alg)


def _take(data: bytes, start: int, size: int) -> bytes:
    if size < 0 or start < 0 or start + size > len(data):
        raise _Bad(f"{size} bytes at offset {start} are past the end ({len(data)} bytes)")
    return data[start : start + size]


def _u(data: bytes, offset: int, fmt: str) -> int:
    size = struct.calcsize(fmt)
    value: int = struct.unpack_from(fmt, _take(data, offset, size))[0]
    return value


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Bad(f"event data is not UTF-8 ({exc.reason})") from None


def _utf16_lossy(data: bytes) -> str:
    # Rust String::from_utf16_lossy: each unpaired surrogate becomes U+FFFD
    return data[: len(data) - len(data) % 2].decode("utf-16-le", errors="replace")


def _details(**kw: Any) -> dict[str, Any]:
    """trustee's ``EventDetails``: only the fields that are set."""
    return {k: v for k, v in kw.items() if v is not None}


# --- event data parsers (deps/eventlog/src/ccel/*.rs) ---------------------------------------


def _blank(data: bytes) -> dict[str, Any]:
    return {}


def _simple(data: bytes) -> dict[str, Any]:
    return _details(string=_utf8(data))


def _simple_string(data: bytes) -> dict[str, Any]:
    # simple_string.rs: a length byte, then the text; it reads data[1..length] (the
    # terminating NUL counted in the length is left out)
    if not data:
        raise _Bad("data is too short: expected at least 1 byte")
    end = data[0]
    if end < 1 or len(data) < end:
        raise _Bad(f"data is too short: expected at least {end} bytes")
    return _details(string=_utf8(data[1:end]))


def _platform_config_flags(data: bytes) -> dict[str, Any]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = ""  # platform_config_flags.rs: unwrap_or_default
    text = text.replace("\x10", " ")
    return _details(string="".join(c for c in text if unicodedata.category(c) != "Cc"))


def _aael(text: str) -> dict[str, Any]:
    """event_tag.rs ``AaelEventEntry``: "<domain> <operation> <content>"."""
    first = text.find(" ")
    if first < 0:
        raise _Bad("AAEL event: no space")
    second = text.find(" ", first + 1)
    if second < 0:
        raise _Bad("AAEL event: no second space")
    content_text = text[second + 1 :]
    try:
        content: Any = json.loads(content_text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        content = content_text
    return {"domain": text[:first], "operation": text[first + 1 : second], "content": content}


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # serde_json: NaN and Infinity are not JSON


def _event_tag(data: bytes) -> dict[str, Any]:
    event_id = _u(data, 0, "<I")
    size = _u(data, 4, "<I")
    event = _take(data, 8, size)
    out = _details(string=event.decode("utf-8", errors="replace").replace("\0", ""))
    if event_id == _AAEL_TAGGED_EVENT_ID:
        out["unicode_name"] = "AAEL"
        out["data"] = _aael(_utf8(event))
    return out


def _ipl(data: bytes) -> dict[str, Any]:
    if len(data) < 2:
        raise _Bad("data is too short: expected at least 2 bytes")
    if data[:2] == b"\x2e\x00":  # ipl.rs: GCE's UTF-16 form
        end = len(data) - 2
        if end == 0 or end % 2:
            raise _Bad("data is too short or not a UTF-16 string")
        return _details(string=_utf16_lossy(data[2:end]))
    cut = data.find(b"\0")
    head = data if cut < 0 else data[:cut]
    try:
        return _details(string=head.decode("utf-8"))
    except UnicodeDecodeError:
        return _details(string=data.hex())


def _efi_variable(data: bytes) -> dict[str, Any]:
    guid = _take(data, 0, _GUID_SIZE)
    name_length = _u(data, 16, "<Q")
    data_length = _u(data, 24, "<Q")
    name_bytes = _take(data, 32, name_length * 2)
    try:
        name = name_bytes.decode("utf-16-le")  # String::from_utf16: strict
    except UnicodeDecodeError:
        raise _Bad("EFI variable name is not UTF-16") from None
    value = _take(data, 32 + len(name_bytes), data_length) if data_length else b""
    return _details(
        unicode_name=name,
        unicode_name_length=name_length,
        variable_data=base64.b64encode(value).decode("ascii") if data_length else "",
        variable_data_length=data_length,
        variable_name="-".join(
            guid[a:b].hex() for a, b in ((0, 4), (4, 6), (6, 8), (8, 10), (10, 16))
        ),
    )


# --- device paths (UEFI spec "Device Path Protocol"; ccel/device_paths/*.rs) ------------------


class _PathError(Exception):
    """A node trustee prints as ``Path(type,subtype,hex)``."""


def _uefi_guid(b: bytes) -> str:
    d1, d2, d3 = struct.unpack_from("<IHH", b)
    return f"{d1:08X}-{d2:04X}-{d3:04X}-{b[8]:02X}{b[9]:02X}-" + b[10:16].hex().upper()


def _pci(d: bytes) -> str:
    if len(d) < 2:
        raise _PathError
    return f"Pci({d[0]},{d[1]})"


def _acpi(d: bytes) -> str:
    if len(d) < 8:
        raise _PathError
    hid, uid = struct.unpack_from("<II", d)
    vendor = hid & 0xFFFF
    letters = "".join(chr(((vendor >> s) & 0x1F) + 0x40) for s in (10, 5, 0))
    return f"ACPI({letters}{hid >> 16:04X},{uid})"


def _fibre_ex(d: bytes) -> str:
    if len(d) < 16:
        raise _PathError
    return f"FibreEx(0x{d[0:8].hex()},0x{d[8:16].hex()})"


def _usb(d: bytes) -> str:
    if len(d) < 2:
        raise _PathError
    return f"USB({d[0]},{d[1]})"


def _mac(d: bytes) -> str:
    if len(d) != 33:
        raise _PathError
    return f"Mac({d[0:31].hex().rstrip('0').upper()},{d[32]:#04x})"


def _ipv4(d: bytes) -> str:
    if len(d) < 23:
        raise _PathError
    local, remote, _lp, _rp, proto, kind, gateway, subnet = struct.unpack_from("<IIHHHBII", d)
    protocol = {6: "TCP", 17: "UDP"}.get(proto, "")
    addr_type = {0: "DHCP", 1: "Static"}.get(kind, "")
    extra = f",{gateway},{subnet}" if gateway or subnet else ""
    loc, rem = ipaddress.IPv4Address(local), ipaddress.IPv4Address(remote)
    return f"IPv4({rem},{protocol},{addr_type},{loc}{extra})"


def _hard_drive(d: bytes) -> str:
    if len(d) < 37:
        raise _PathError
    if len(d) == 37:
        raise _Bad("hard drive node: the signature type byte is missing")  # a panic in trustee
    number, start, size = struct.unpack_from("<IQQ", d)
    signature, fmt = d[20:36], d[36]
    if fmt == 0x01:
        prefix, sig = "MBR", f"{struct.unpack_from('<I', signature)[0]:#010x}"
    elif fmt == 0x02:
        prefix, sig = "GPT", _uefi_guid(signature)
    else:
        raise _PathError
    details = f",{start:#x},{size:#x}" if number else ""
    return f"HD({number},{prefix},{sig}{details})"


def _vendor_media(d: bytes) -> str:
    if len(d) < _GUID_SIZE:
        raise _PathError
    return f"VenMedia({_uefi_guid(d[:_GUID_SIZE])},{d[_GUID_SIZE:].hex()})"


def _file_path(d: bytes) -> str:
    if not d or len(d) % 2:
        raise _PathError
    return f"File({_utf16_lossy(d[:-2])})"


def _bbs(d: bytes) -> str:
    if len(d) < 4:
        raise _PathError
    kind, status = struct.unpack_from("<HH", d)
    names = {1: "FLOPPY", 2: "HARD_DRIVE", 3: "CDROM", 4: "PCMCIA", 5: "USB",
             6: "EMBEDDED_NETWORK", 0x80: "DEV", 0xFF: "UNKNOWN"}  # fmt: skip
    desc = d[4:]
    cut = desc.find(b"\0")
    try:
        text = (desc if cut < 0 else desc[:cut]).decode("utf-8")
    except UnicodeDecodeError:
        raise _PathError from None
    return f"BBS({names.get(kind, str(kind))},{text},{status})"


_PATH_NODES: Mapping[tuple[int, int], Callable[[bytes], str]] = {
    (0x01, 0x01): _pci,
    (0x02, 0x01): _acpi,
    (0x03, 0x15): _fibre_ex,
    (0x03, 0x05): _usb,
    (0x03, 0x0B): _mac,
    (0x03, 0x0C): _ipv4,
    (0x04, 0x01): _hard_drive,
    (0x04, 0x03): _vendor_media,
    (0x04, 0x04): _file_path,
    (0x05, 0x01): _bbs,
}


def _device_paths(path: bytes) -> list[str]:
    out: list[str] = []
    while True:
        if len(path) < 4:
            raise _Bad("device path node shorter than 4 bytes")
        kind, sub, length = path[0], path[1], struct.unpack_from("<H", path, 2)[0]
        if length < 4 or len(path) < length:
            raise _Bad(f"device path node length {length} does not fit")
        node = path[4:length]
        try:
            out.append(_PATH_NODES[(kind, sub)](node))
        except (KeyError, _PathError):
            out.append(f"Path({kind},{sub},{node.hex()})")
        path = path[length:]
        if not path:
            return out


def _boot_services_app(data: bytes) -> dict[str, Any]:
    # UEFI_IMAGE_LOAD_EVENT: ImageLocationInMemory, ImageLengthInMemory, ImageLinkTimeAddress,
    # LengthOfDevicePath (u64 each), then the device path (its end node left out)
    if len(data) < 32:
        raise _Bad("data is too short: expected at least 32 bytes")
    length = _u(data, 24, "<Q")
    if length == 0:
        return {}
    if length < 4 or len(data) < 32 + length - 4:
        raise _Bad("data is shorter than the device path length it claims")
    return _details(device_paths=_device_paths(data[32 : 32 + length - 4]))


_PARSERS: Mapping[str, Callable[[bytes], dict[str, Any]]] = {
    "EV_POST_CODE": _simple,
    "EV_SEPARATOR": _blank,
    "EV_ACTION": _simple,
    "EV_EVENT_TAG": _event_tag,
    "EV_PLATFORM_CONFIG_FLAGS": _platform_config_flags,
    "EV_COMPACT_HASH": _simple,
    "EV_IPL": _ipl,
    "EV_OMIT_BOOT_DEVICE_EVENTS": _simple,
    "EV_EFI_VARIABLE_DRIVER_CONFIG": _efi_variable,
    "EV_EFI_VARIABLE_BOOT": _efi_variable,
    "EV_EFI_BOOT_SERVICES_APPLICATION": _boot_services_app,
    "EV_EFI_ACTION": _simple,
    "EV_EFI_PLATFORM_FIRMWARE_BLOB2": _simple_string,
    "EV_EFI_HANDOFF_TABLES2": _simple_string,
    "EV_EFI_VARIABLE_BOOT2": _efi_variable,
    "EV_EFI_VARIABLE_AUTHORITY": _efi_variable,
}


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
            raise _Bad(f"digest comparison: hash algorithm {d.alg} not supported")
        if _hash(name, d.alg, data) != d.value:
            return False
    return True


# --- the log -----------------------------------------------------------------------------------


def _spec_id(data: bytes, mr_index: int) -> SpecId:
    """TCG_EfiSpecIdEvent (PFP 10.4.5.1)."""
    count = _u(data, 24, "<I")
    algorithms: list[tuple[int, int]] = []
    pos = 28
    for _ in range(count):
        alg_id, size = _u(data, pos, "<H"), _u(data, pos + 2, "<H")
        pos += 4
        if alg_id not in ALGORITHMS:
            raise _Bad(f"unknown algorithm {alg_id:#x}")
        algorithms.append((alg_id, size))
    vendor = _u(data, pos, "<B")
    if pos + 1 + vendor != len(data):
        raise _Bad("the Specification ID event's size does not match its content")
    return SpecId(
        mr_index=mr_index,
        platform_class=_u(data, 16, "<I"),
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
        raise _Bad(f"unknown event type {number:#x}")
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
        first_index = _u(data, 0, "<I")
        first_type = _event_type(_u(data, 4, "<I"))
        size = _u(data, 28, "<I")
        if first_type != "EV_NO_ACTION":
            raise _Bad("the first event is not the Specification ID event (EV_NO_ACTION)")
        body = _take(data, 32, size)
        spec = _spec_id(body, first_index)
        sizes = {alg_id: size for alg_id, size in spec.algorithms}
        pos = 32 + size
        events: list[Event] = []
        padding: int | None = None
        while pos < len(data):
            start = pos
            word = _u(data, pos, "<Q")
            if word in (0, 0xFFFFFFFFFFFFFFFF):
                padding = word & 0xFF
                break
            if len(events) >= MAX_EVENTS:
                raise _Bad(f"more than {MAX_EVENTS} events")
            index, event_type, count = _HEADER.unpack_from(_take(data, pos, 12))
            type_name = _event_type(event_type)
            pos += 12
            digests: list[Digest] = []
            for _ in range(count):
                (alg_id,) = _ALG.unpack_from(_take(data, pos, 2))
                alg = ALGORITHMS.get(alg_id)
                if alg is None:
                    raise _Bad(f"unknown algorithm {alg_id:#x}")
                if alg_id not in sizes:
                    raise _Bad(f"no digest size for algorithm {alg_id:#x}")
                digests.append(Digest(alg_id, alg, _take(data, pos + 2, sizes[alg_id])))
                pos += 2 + sizes[alg_id]
            (size,) = _SIZE.unpack_from(_take(data, pos, 4))
            event = _take(data, pos + 4, size)
            pos += 4 + size
            matches = _digest_matches(event, digests)
            details = _PARSERS.get(type_name, _blank)(event)
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
    except (_Bad, struct.error, RecursionError) as exc:
        raise MalformedEvidence(
            f"{what}: event at offset {start}: {exc or type(exc).__name__}",
            field=what,
            offset=start,
            reason=Reason.MALFORMED,
        ) from None
