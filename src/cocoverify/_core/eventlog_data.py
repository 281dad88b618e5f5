"""Decoders of TCG event data for :mod:`cocoverify._core.eventlog`: EV_ tags, IPL text, EFI
variables, UEFI_IMAGE_LOAD_EVENT and its device path (UEFI specification "Device Path
Protocol"), and Confidential Containers' AA event log entries. Their text form follows
trustee's ``deps/eventlog`` crate (``ccel/*.rs``).
"""

from __future__ import annotations

import base64
import ipaddress
import json
import struct
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["PARSERS", "EventDataError", "blank", "read_uint", "take"]

_AAEL_TAGGED_EVENT_ID = 0x4141454C  # Confidential Containers' AA event log ("LEAA" on the wire)
_GUID_SIZE = 16


class EventDataError(Exception):
    """A parse failure of one event: the whole log is malformed."""


def take(data: bytes, start: int, size: int) -> bytes:
    if size < 0 or start < 0 or start + size > len(data):
        raise EventDataError(f"{size} bytes at offset {start} are past the end ({len(data)} bytes)")
    return data[start : start + size]


def read_uint(data: bytes, offset: int, fmt: str) -> int:
    size = struct.calcsize(fmt)
    value: int = struct.unpack_from(fmt, take(data, offset, size))[0]
    return value


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EventDataError(f"event data is not UTF-8 ({exc.reason})") from None


def _utf16_lossy(data: bytes) -> str:
    # Rust String::from_utf16_lossy: each unpaired surrogate becomes U+FFFD
    return data[: len(data) - len(data) % 2].decode("utf-16-le", errors="replace")


def _details(**kw: Any) -> dict[str, Any]:
    """trustee's ``EventDetails``: only the fields that are set."""
    return {k: v for k, v in kw.items() if v is not None}


# --- event data parsers (deps/eventlog/src/ccel/*.rs) ---------------------------------------


def blank(data: bytes) -> dict[str, Any]:
    return {}


def _simple(data: bytes) -> dict[str, Any]:
    return _details(string=_utf8(data))


def _simple_string(data: bytes) -> dict[str, Any]:
    # simple_string.rs: a length byte, then the text; it reads data[1..length] (the
    # terminating NUL counted in the length is left out)
    if not data:
        raise EventDataError("data is too short: expected at least 1 byte")
    end = data[0]
    if end < 1 or len(data) < end:
        raise EventDataError(f"data is too short: expected at least {end} bytes")
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
        raise EventDataError("AAEL event: no space")
    second = text.find(" ", first + 1)
    if second < 0:
        raise EventDataError("AAEL event: no second space")
    content_text = text[second + 1 :]
    try:
        content: Any = json.loads(content_text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        content = content_text
    return {"domain": text[:first], "operation": text[first + 1 : second], "content": content}


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # serde_json: NaN and Infinity are not JSON


def _event_tag(data: bytes) -> dict[str, Any]:
    event_id = read_uint(data, 0, "<I")
    size = read_uint(data, 4, "<I")
    event = take(data, 8, size)
    out = _details(string=event.decode("utf-8", errors="replace").replace("\0", ""))
    if event_id == _AAEL_TAGGED_EVENT_ID:
        out["unicode_name"] = "AAEL"
        out["data"] = _aael(_utf8(event))
    return out


def _ipl(data: bytes) -> dict[str, Any]:
    if len(data) < 2:
        raise EventDataError("data is too short: expected at least 2 bytes")
    if data[:2] == b"\x2e\x00":  # ipl.rs: GCE's UTF-16 form
        end = len(data) - 2
        if end == 0 or end % 2:
            raise EventDataError("data is too short or not a UTF-16 string")
        return _details(string=_utf16_lossy(data[2:end]))
    cut = data.find(b"\0")
    head = data if cut < 0 else data[:cut]
    try:
        return _details(string=head.decode("utf-8"))
    except UnicodeDecodeError:
        return _details(string=data.hex())


def _efi_variable(data: bytes) -> dict[str, Any]:
    guid = take(data, 0, _GUID_SIZE)
    name_length = read_uint(data, 16, "<Q")
    data_length = read_uint(data, 24, "<Q")
    name_bytes = take(data, 32, name_length * 2)
    try:
        name = name_bytes.decode("utf-16-le")  # String::from_utf16: strict
    except UnicodeDecodeError:
        raise EventDataError("EFI variable name is not UTF-16") from None
    value = take(data, 32 + len(name_bytes), data_length) if data_length else b""
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
        raise EventDataError(
            "hard drive node: the signature type byte is missing"
        )  # a panic in trustee
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
            raise EventDataError("device path node shorter than 4 bytes")
        kind, sub, length = path[0], path[1], struct.unpack_from("<H", path, 2)[0]
        if length < 4 or len(path) < length:
            raise EventDataError(f"device path node length {length} does not fit")
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
        raise EventDataError("data is too short: expected at least 32 bytes")
    length = read_uint(data, 24, "<Q")
    if length == 0:
        return {}
    if length < 4 or len(data) < 32 + length - 4:
        raise EventDataError("data is shorter than the device path length it claims")
    return _details(device_paths=_device_paths(data[32 : 32 + length - 4]))


PARSERS: Mapping[str, Callable[[bytes], dict[str, Any]]] = {
    "EV_POST_CODE": _simple,
    "EV_SEPARATOR": blank,
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
