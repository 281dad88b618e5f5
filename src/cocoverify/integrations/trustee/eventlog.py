"""The TDX CC event log (CCEL) as trustee reads it: ``uefi_event_logs`` claims and the replay.

A port of trustee's ``deps/eventlog`` crate (``src/lib.rs`` and ``src/ccel/``): the TCG PC
Client crypto-agile log (TCG PC Client Platform Firmware Profile, section 10 "Event Logging")
that a TD's firmware writes to the CCEL ACPI table's log area, parsed into trustee's JSON
``{index, type_name, digests[{alg, digest}], event, details, digest_matches_event}``, and
each CC measurement register replayed from zero (``MR = H(MR || digest)``).

Trustee's parser fails the whole log on some inputs (an unknown event type or algorithm, an
event that must be UTF-8 and is not) and its Rust slicing panics on others; every such case
is :class:`~cocoverify.errors.MalformedEvidence` here, never a partial log. Where trustee
degrades gracefully (an unknown device path is printed as ``Path(type,subtype,hex)``), so
does this port, byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import struct
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cocoverify.errors import ConfigurationError, MalformedEvidence, Reason, UnsupportedEvidence

__all__ = ["ALGORITHMS", "EVENT_TYPES", "parse_ccel", "replay"]

#: TCG_ALG_ID -> trustee's name (TCG Algorithm Registry); digest sizes come from the log.
ALGORITHMS = {
    0x1: "RSA",
    0x3: "TDES",
    0x4: "SHA-1",
    0xB: "SHA-256",
    0xC: "SHA-384",
    0xD: "SHA-512",
    0x12: "SM3",
}
_HASHES = {"SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512", "SM3": "sm3"}
_REPLAY_SIZES = {"SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64, "SM3": 32}

#: TCG event types (PC Client PFP, "Event Types") -> trustee's ``type_name``.
EVENT_TYPES = {
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
_EV_NO_ACTION = 0x3
_AAEL_TAGGED_EVENT_ID = 0x4141454C  # "AAEL" (Confidential Containers' AA event log)
_GUID_SIZE = 16


class _Bad(Exception):
    """A parse failure of one event: the whole log is malformed (trustee: an error)."""


def _malformed(message: str) -> MalformedEvidence:
    return MalformedEvidence(
        f"cc_eventlog: {message}", field="cc_eventlog", reason=Reason.MALFORMED
    )


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


def _digest_matches(data: bytes, digests: Sequence[tuple[str, bytes]]) -> bool:
    for alg, digest in digests:
        name = _HASHES.get(alg)
        if name is None:
            raise _Bad(f"digest comparison: hash algorithm {alg} not supported")
        try:
            computed = hashlib.new(name, data).digest()
        except ValueError:
            raise UnsupportedEvidence(
                f"cc_eventlog: {alg} is not available in this Python's hashlib",
                reason=Reason.UNSUPPORTED_ALGORITHM,
            ) from None
        if computed != digest:
            return False
    return True


# --- the log ---------------------------------------------------------------------------------


def _spec_id_sizes(data: bytes) -> dict[str, int]:
    """TCG_EfiSpecIdEvent: digest sizes by algorithm (PC Client PFP "Specification ID")."""
    count = _u(data, 24, "<I")
    sizes: dict[str, int] = {}
    pos = 28
    for _ in range(count):
        alg_id, size = _u(data, pos, "<H"), _u(data, pos + 2, "<H")
        pos += 4
        if alg_id not in ALGORITHMS:
            raise _Bad(f"unknown algorithm {alg_id:#x}")
        sizes[ALGORITHMS[alg_id]] = size
    vendor = _u(data, pos, "<B")
    if pos + 1 + vendor != len(data):
        raise _Bad("the Specification ID event's size does not match its content")
    return sizes


def _event_type(number: int) -> str:
    name = EVENT_TYPES.get(number)
    if name is None:
        raise _Bad(f"unknown event type {number:#x}")
    return name


def parse_ccel(data: bytes) -> list[dict[str, Any]]:
    """trustee's ``uefi_event_logs``: one JSON object per event after the Specification ID.

    The first event (SHA-1 format, ``EV_NO_ACTION``) gives the digest sizes; parsing stops
    at an all-zero or all-ones word where the next event would start (the padding of the
    CCEL area). Any malformed event is MalformedEvidence.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _malformed("expected bytes")
    data = bytes(data)
    try:
        # the first event, TCG_PCClientPCREvent: PCR, type, SHA-1 digest, size, data
        first_type = _event_type(_u(data, 4, "<I"))
        size = _u(data, 28, "<I")
        pos = 32
        if first_type != "EV_NO_ACTION":
            raise _Bad("the first event is not the Specification ID event (EV_NO_ACTION)")
        sizes = _spec_id_sizes(_take(data, pos, size))
        pos += size
        events: list[dict[str, Any]] = []
        while pos < len(data):
            if _u(data, pos, "<Q") in (0, 0xFFFFFFFFFFFFFFFF):
                break
            index, type_name = _u(data, pos, "<I"), _event_type(_u(data, pos + 4, "<I"))
            count = _u(data, pos + 8, "<I")
            pos += 12
            digests: list[tuple[str, bytes]] = []
            for _ in range(count):
                alg_id = _u(data, pos, "<H")
                alg = ALGORITHMS.get(alg_id)
                if alg is None:
                    raise _Bad(f"unknown algorithm {alg_id:#x}")
                if alg not in sizes:
                    raise _Bad(f"no digest size for algorithm {alg_id:#x}")
                digests.append((alg, _take(data, pos + 2, sizes[alg])))
                pos += 2 + sizes[alg]
            size = _u(data, pos, "<I")
            event = _take(data, pos + 4, size)
            pos += 4 + size
            matches = _digest_matches(event, digests)
            details = _PARSERS.get(type_name, _blank)(event)
            events.append(
                {
                    "details": details,
                    "digest_matches_event": matches,
                    "digests": [{"alg": a, "digest": d.hex()} for a, d in digests],
                    "event": base64.b64encode(event).decode("ascii"),
                    "index": index,
                    "type_name": type_name,
                }
            )
        return events
    except (_Bad, struct.error, RecursionError) as exc:
        raise _malformed(str(exc) or type(exc).__name__) from None


def replay(events: Sequence[Mapping[str, Any]], index: int, alg: str = "SHA-384") -> bytes:
    """The CC measurement register ``index`` replayed from zero: ``MR = H(MR || digest)``.

    Every event of that index with a digest of ``alg`` is extended, in log order
    (trustee ``replay``); CC MR 1..4 are TDX RTMR0..3.
    """
    size = _REPLAY_SIZES.get(alg)
    name = _HASHES.get(alg)
    if size is None or name is None:
        raise UnsupportedEvidence(
            f"cc_eventlog: replay with {alg} is not supported", reason=Reason.UNSUPPORTED_ALGORITHM
        )
    value = bytes(size)
    try:
        for event in events:
            if event["index"] != index:
                continue
            for d in event["digests"]:
                if d["alg"] == alg:
                    value = hashlib.new(name, value + bytes.fromhex(d["digest"])).digest()
    except (KeyError, TypeError, ValueError):
        raise ConfigurationError(
            "replay: events must be parse_ccel's output", reason=Reason.INVALID_ARGUMENT
        ) from None
    return value
