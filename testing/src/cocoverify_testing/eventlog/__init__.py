"""TEST ONLY: TCG PC Client crypto-agile event logs (PFP 9.2) with one defect at a time.

``LogBuilder`` writes the Spec ID event and TCG_PCR_EVENT2 entries; ``DEFECTS`` maps a name to
a function that takes a valid builder and returns the bytes of a log with exactly that defect.
``rtmrs()`` gives the registers a quote must carry for the built log to replay.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["DEFECTS", "LogBuilder", "aael_event", "efi_variable", "ipl", "tagged_event"]

SHA384 = 0x000C


def ipl(text: str) -> bytes:
    """EV_IPL data as GRUB writes it: the text and a NUL."""
    return text.encode() + b"\0"


_GRUB_PREFIXES = (b"grub_cmd: ", b"grub_cmd ", b"grub_kernel_cmdline ", b"kernel_cmdline: ")


def measured(event_type: int, data: bytes) -> bytes:
    """What the digest of an event is the hash of: GRUB's string events (EV_IPL) measure the
    text after their prefix (with the NUL for RHEL's "grub_cmd "), every other event here its
    data."""
    if event_type == 0xD:
        for prefix in _GRUB_PREFIXES:
            if data.startswith(prefix):
                text = data[len(prefix) :]
                return text if prefix == b"grub_cmd " else text.rstrip(b"\0")
    return data


def tagged_event(event_id: int, data: bytes) -> bytes:
    """TCG_PCClientTaggedEvent: id, size, data."""
    return struct.pack("<II", event_id, len(data)) + data


def aael_event(domain: str, operation: str, content: str) -> bytes:
    """An AA event log entry (EV_EVENT_TAG, id 0x4141454C)."""
    return tagged_event(0x4141454C, f"{domain} {operation} {content}".encode())


def efi_variable(guid: bytes, name: str, value: bytes) -> bytes:
    """UEFI_VARIABLE_DATA: GUID, name length (chars), data length, UTF-16LE name, data."""
    encoded = name.encode("utf-16-le")
    return guid + struct.pack("<QQ", len(name), len(value)) + encoded + value


@dataclass
class Entry:
    index: int
    event_type: int
    data: bytes
    #: digests written (alg id, bytes); None = SHA-384 of data
    digests: list[tuple[int, bytes]] | None = None


@dataclass
class LogBuilder:
    """A valid TDX-style log; change one field, then ``build()``."""

    first_index: int = 1
    algorithms: list[tuple[int, int]] = field(default_factory=lambda: [(SHA384, 48)])
    entries: list[Entry] = field(default_factory=list)
    padding: bytes = b"\xff" * 16
    spec_id_extra: bytes = b""

    @classmethod
    def typical(cls) -> LogBuilder:
        """Firmware, boot loader, GRUB with kernel command line and initrd, two AAEL entries."""
        b = cls()
        guid = bytes(range(16))
        b.add(1, 0x80000001, efi_variable(guid, "SecureBoot", b"\x01"))
        b.add(1, 0x4, b"\0\0\0\0")
        b.add(2, 0x80000007, b"Calling EFI Application from Boot Option")
        b.add(3, 0xD, ipl("grub_cmd linux /vmlinuz root=/dev/vda1 console=ttyS0"))
        b.add(3, 0xD, ipl("grub_kernel_cmdline /vmlinuz root=/dev/vda1 console=ttyS0"))
        b.add(3, 0xD, ipl("grub_cmd initrd /initrd.img"))
        b.add(4, 0x6, aael_event("github.com/confidential-containers", "PullImage",
                                 '{"digest":"sha256:00","image":"busybox"}'))  # fmt: skip
        b.add(4, 0x6, aael_event("coco.com", "op", "some content"))
        return b

    def add(self, index: int, event_type: int, data: bytes,
            digests: list[tuple[int, bytes]] | None = None) -> LogBuilder:  # fmt: skip
        self.entries.append(Entry(index, event_type, data, digests))
        return self

    def _spec_id(self) -> bytes:
        body = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, len(self.algorithms))
        for alg, size in self.algorithms:
            body += struct.pack("<HH", alg, size)
        body += b"\0" + self.spec_id_extra
        return (
            struct.pack("<II", self.first_index, 3)
            + bytes(20)
            + struct.pack("<I", len(body))
            + body
        )

    @staticmethod
    def _digests(e: Entry) -> list[tuple[int, bytes]]:
        if e.digests is not None:
            return e.digests
        return [(SHA384, hashlib.sha384(measured(e.event_type, e.data)).digest())]

    def event_bytes(self, e: Entry) -> bytes:
        digests = self._digests(e)
        out = struct.pack("<III", e.index, e.event_type, len(digests))
        for alg, value in digests:
            out += struct.pack("<H", alg) + value
        return out + struct.pack("<I", len(e.data)) + e.data

    def build(self) -> bytes:
        return self._spec_id() + b"".join(self.event_bytes(e) for e in self.entries) + self.padding

    def rtmrs(self) -> dict[str, bytes]:
        """RTMR0..3 this log replays to (CC MR 1..4)."""
        out = {}
        for i in range(4):
            value = bytes(48)
            for e in self.entries:
                if e.index == i + 1 and e.event_type != 3:
                    for alg, d in self._digests(e):
                        if alg == SHA384:
                            value = hashlib.sha384(value + d).digest()
            out[f"rtmr{i}"] = value
        return out


def _truncated(b: LogBuilder) -> bytes:
    data = b.build()
    return data[: len(data) - len(b.padding) - 3]


def _unknown_type(b: LogBuilder) -> bytes:
    b.entries[1].event_type = 0x7777
    return b.build()


def _unknown_algorithm(b: LogBuilder) -> bytes:
    b.entries[0].digests = [(0x99, bytes(48))]
    return b.build()


def _undeclared_algorithm(b: LogBuilder) -> bytes:
    b.entries[0].digests = [(0x000B, bytes(32))]
    return b.build()


def _spec_id_size(b: LogBuilder) -> bytes:
    b.spec_id_extra = b"\0"  # vendorInfoSize says 0, one more byte follows
    return b.build()


def _not_utf8(b: LogBuilder) -> bytes:
    b.entries[2].data = b"\xff\xfe not utf-8"
    return b.build()


def _event_size_past_end(b: LogBuilder) -> bytes:
    data = b.build()
    last = b.event_bytes(b.entries[-1])
    at = len(data) - len(b.padding) - len(b.entries[-1].data) - 4
    assert data[at + 4 : at + 4 + len(b.entries[-1].data)] == b.entries[-1].data and last
    return data[:at] + struct.pack("<I", 0x7FFFFFFF) + data[at + 4 :]


def _first_not_no_action(b: LogBuilder) -> bytes:
    data = bytearray(b.build())
    data[4:8] = struct.pack("<I", 4)
    return bytes(data)


def _bad_aael(b: LogBuilder) -> bytes:
    b.entries[-1].data = tagged_event(0x4141454C, b"no-spaces")
    return b.build()


def _bad_device_path(b: LogBuilder) -> bytes:
    # UEFI_IMAGE_LOAD_EVENT whose device path length runs past the data
    b.add(2, 0x80000003, struct.pack("<QQQQ", 0, 0, 0, 100) + b"\x04\x04")
    return b.build()


#: defect name -> a log with exactly that defect (each is MalformedEvidence)
DEFECTS: dict[str, Callable[[LogBuilder], bytes]] = {
    "truncated": _truncated,
    "unknown_event_type": _unknown_type,
    "unknown_algorithm": _unknown_algorithm,
    "undeclared_algorithm": _undeclared_algorithm,
    "spec_id_size": _spec_id_size,
    "event_text_not_utf8": _not_utf8,
    "event_size_past_end": _event_size_past_end,
    "first_event_not_no_action": _first_not_no_action,
    "aael_without_fields": _bad_aael,
    "device_path_past_end": _bad_device_path,
}
