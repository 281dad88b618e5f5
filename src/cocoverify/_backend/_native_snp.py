"""SEV-SNP report layout in C (csrc/cv_snp.c; docs/native.md, "SNP reports and the SGX PCK
extension").

C checks the 1184-byte report and fills ``cv_snp_fields`` (the status, and the integer fields
its messages need); this module unpacks the checked report with one ``struct`` at the fixed
offsets (SEV-SNP ABI §7.3) and returns the values in the order of the ``SnpReport`` fields, or
raises exactly the exception
``cocoverify.tee.snp.parse.parse_report`` raises (class, reason, field, offset, message).
``parse_report`` builds the view from the values when the native backend is selected.
Importing this module raises ImportError when the extension is not built or lacks the SNP
parser.
"""

from __future__ import annotations

import struct
from typing import Any, NoReturn

import cocoverify._native as _native  # type: ignore[import-not-found]
from cocoverify.errors import EvidenceError, MalformedEvidence, Reason, UnsupportedEvidence

__all__ = ["FIELD_NAMES", "REPORT_FIELDS", "parse_report_values"]

ffi: Any = _native.ffi
lib: Any = _native.lib
if not hasattr(lib, "cv_snp_parse"):
    raise ImportError("cocoverify._native has no cv_snp_parse (stale build?)")

REPORT_SIZE = 0x4A0

#: C field id (enum cv_snp_field) -> (field name in parse.py, reserved range or None).
FIELD_NAMES: dict[int, str] = {
    lib.CV_SNP_F_VERSION: "version",
    lib.CV_SNP_F_REPORT: "report",
    lib.CV_SNP_F_SIGNATURE_ALGO: "signature_algo",
    lib.CV_SNP_F_RESERVED_04C: "reserved_04c",
    lib.CV_SNP_F_RESERVED_1EB: "reserved_1eb",
    lib.CV_SNP_F_RESERVED_1EF: "reserved_1ef",
    lib.CV_SNP_F_RESERVED_18B: "reserved_18b",
    lib.CV_SNP_F_RESERVED_188: "reserved_188",
    lib.CV_SNP_F_RESERVED_208: "reserved_208",
    lib.CV_SNP_F_RESERVED_1F8: "reserved_1f8",
    lib.CV_SNP_F_KEY_INFO: "key_info",
    lib.CV_SNP_F_SIGNING_KEY: "key_info",
    lib.CV_SNP_F_POLICY_BIT17: "policy",
    lib.CV_SNP_F_POLICY_MBZ: "policy",
    lib.CV_SNP_F_SIGNATURE_R_PADDING: "signature_r_padding",
    lib.CV_SNP_F_SIGNATURE_S_PADDING: "signature_s_padding",
    lib.CV_SNP_F_SIGNATURE_RESERVED: "signature_reserved",
}

#: Must-be-zero ranges [start, end) by field id (SEV-SNP ABI §7.3), for messages.
_RANGES: dict[int, tuple[int, int]] = {
    lib.CV_SNP_F_RESERVED_04C: (0x04C, 0x050),
    lib.CV_SNP_F_RESERVED_1EB: (0x1EB, 0x1EC),
    lib.CV_SNP_F_RESERVED_1EF: (0x1EF, 0x1F0),
    lib.CV_SNP_F_RESERVED_18B: (0x18B, 0x1A0),
    lib.CV_SNP_F_RESERVED_188: (0x188, 0x1A0),
    lib.CV_SNP_F_RESERVED_208: (0x208, 0x2A0),
    lib.CV_SNP_F_RESERVED_1F8: (0x1F8, 0x2A0),
    lib.CV_SNP_F_SIGNATURE_R_PADDING: (0x2D0, 0x2E8),
    lib.CV_SNP_F_SIGNATURE_S_PADDING: (0x318, 0x330),
    lib.CV_SNP_F_SIGNATURE_RESERVED: (0x330, 0x4A0),
}

#: The SnpReport fields in order, which is offset order (SEV-SNP ABI §7.3): (name, offset,
#: size, kind), kind "u" a little-endian unsigned integer, "b" bytes.
REPORT_FIELDS: tuple[tuple[str, int, int, str], ...] = (
    ("version", 0x000, 4, "u"),
    ("guest_svn", 0x004, 4, "u"),
    ("policy", 0x008, 8, "u"),
    ("family_id", 0x010, 16, "b"),
    ("image_id", 0x020, 16, "b"),
    ("vmpl", 0x030, 4, "u"),
    ("signature_algo", 0x034, 4, "u"),
    ("current_tcb", 0x038, 8, "b"),
    ("platform_info", 0x040, 8, "u"),
    ("key_info", 0x048, 4, "u"),
    ("report_data", 0x050, 64, "b"),
    ("measurement", 0x090, 48, "b"),
    ("host_data", 0x0C0, 32, "b"),
    ("id_key_digest", 0x0E0, 48, "b"),
    ("author_key_digest", 0x110, 48, "b"),
    ("report_id", 0x140, 32, "b"),
    ("report_id_ma", 0x160, 32, "b"),
    ("reported_tcb", 0x180, 8, "b"),
    ("cpuid_fam_id", 0x188, 1, "u"),
    ("cpuid_mod_id", 0x189, 1, "u"),
    ("cpuid_step", 0x18A, 1, "u"),
    ("chip_id", 0x1A0, 64, "b"),
    ("committed_tcb", 0x1E0, 8, "b"),
    ("current_build", 0x1E8, 1, "u"),
    ("current_minor", 0x1E9, 1, "u"),
    ("current_major", 0x1EA, 1, "u"),
    ("committed_build", 0x1EC, 1, "u"),
    ("committed_minor", 0x1ED, 1, "u"),
    ("committed_major", 0x1EE, 1, "u"),
    ("launch_tcb", 0x1F0, 8, "b"),
    ("launch_mit_vector", 0x1F8, 8, "u"),
    ("current_mit_vector", 0x200, 8, "u"),
    ("signature", 0x2A0, 512, "b"),
)


def _report_struct() -> struct.Struct:
    """One little-endian struct for the whole report: every field in order, pads between."""
    fmt, at = "<", 0
    for _, off, size, kind in REPORT_FIELDS:
        fmt += f"{off - at}x" if off > at else ""
        fmt += {1: "B", 4: "I", 8: "Q"}[size] if kind == "u" else f"{size}s"
        at = off + size
    return struct.Struct(fmt + (f"{REPORT_SIZE - at}x" if at < REPORT_SIZE else ""))


#: A checked report is unpacked in one call; C has already checked every byte of it.
_REPORT = _report_struct()
_NAMES = [name for name, *_ in REPORT_FIELDS]
#: Fields absent before a version (None in the view): CPUID before v3, MIT vectors before v5.
_ABSENT = {
    v: tuple(
        i
        for i, n in enumerate(_NAMES)
        if (n.startswith("cpuid_") and v < 3) or (n.endswith("_mit_vector") and v < 5)
    )
    for v in (2, 3, 4, 5)
}

_HEAD = ("status", "err_field", "err_offset")
_INTS = (
    "version",
    "guest_svn",
    "policy",
    "vmpl",
    "signature_algo",
    "platform_info",
    "key_info",
    "cpuid_fam_id",
    "cpuid_mod_id",
    "cpuid_step",
    "current_build",
    "current_minor",
    "current_major",
    "committed_build",
    "committed_minor",
    "committed_major",
    "launch_mit_vector",
    "current_mit_vector",
)
#: cv_snp_fields is two ints then uint64_t only: one unpack reads the whole table.
_LAYOUT = struct.Struct("=ii" + "Q" * (len(_HEAD) - 2 + len(_INTS)))
_INDEX = {name: i for i, name in enumerate(_INTS, start=len(_HEAD))}


def _check_layout() -> None:
    if ffi.sizeof("cv_snp_fields") != _LAYOUT.size or any(
        ffi.offsetof("cv_snp_fields", name) != 8 * i
        for i, name in enumerate(_HEAD[1:] + _INTS)
        if name != "err_field"
    ):
        raise ImportError("cocoverify._native: cv_snp_fields layout differs from the wrapper")


_check_layout()


def _raise(values: tuple[int, ...], size: int) -> NoReturn:
    """The exception parse_report raises for the error in the table."""
    status, fid, offset = values[0], values[1], values[2]
    version = values[_INDEX["version"]]
    field = FIELD_NAMES.get(fid, "")
    if status == lib.CV_ERR_TRUNCATED and fid == lib.CV_SNP_F_VERSION:
        raise MalformedEvidence(
            f"SNP report of {size} bytes", field="version", offset=0, reason=Reason.TRUNCATED
        )
    if status == lib.CV_ERR_TRUNCATED and fid == lib.CV_SNP_F_REPORT:
        raise MalformedEvidence(
            f"SNP report is {size} bytes, need {REPORT_SIZE}",
            field="report",
            offset=size,
            reason=Reason.TRUNCATED,
        )
    if status == lib.CV_ERR_UNSUPPORTED_VERSION:
        raise UnsupportedEvidence(
            f"SNP report version {version} (supported: 2-5)", reason=Reason.UNSUPPORTED_VERSION
        )
    if status == lib.CV_ERR_TRAILING_DATA:
        raise MalformedEvidence(
            f"{size - REPORT_SIZE} bytes after the {REPORT_SIZE}-byte SNP report",
            field="report",
            offset=REPORT_SIZE,
            reason=Reason.TRAILING_DATA,
        )
    if status == lib.CV_ERR_UNSUPPORTED_ALGORITHM:
        algo = values[_INDEX["signature_algo"]]
        raise UnsupportedEvidence(
            f"signature algorithm {algo} (only 1 = ECDSA P-384 SHA-384)",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    if status == lib.CV_ERR_UNSUPPORTED_KEY_TYPE:
        signing_key = values[_INDEX["key_info"]] >> 2 & 0x7
        raise UnsupportedEvidence(
            f"SIGNING_KEY {signing_key} is reserved", reason=Reason.UNSUPPORTED_KEY_TYPE
        )
    if status == lib.CV_ERR_RESERVED_NONZERO:
        if fid in _RANGES:
            start, end = _RANGES[fid]
            msg = f"reserved bytes {start:#x}..{end - 1:#x} are not zero"
        elif fid == lib.CV_SNP_F_KEY_INFO:
            msg = "KEY_INFO bits 31:5 are not zero"
        elif fid == lib.CV_SNP_F_POLICY_BIT17:
            msg = "POLICY bit 17 (reserved, must be one) is zero"
        elif fid == lib.CV_SNP_F_POLICY_MBZ:
            msg = "POLICY bits 63:26 are not zero"
        else:
            msg = ""
        if msg:
            raise MalformedEvidence(msg, field=field, offset=offset, reason=Reason.RESERVED_NONZERO)
    # fail closed on anything this wrapper does not know
    raise EvidenceError(f"native SNP parser status {status}", reason=Reason.MALFORMED)


def values_from_struct(o: Any, data: bytes) -> tuple[Any, ...]:
    """The SnpReport values from a filled ``cv_snp_fields`` (raises its error, if any)."""
    table = _LAYOUT.unpack(ffi.buffer(o))
    if table[0] != lib.CV_OK:
        _raise(table, len(data))
    if len(data) != REPORT_SIZE:  # never expected: C checked it
        raise EvidenceError(
            "native SNP parser accepted a report it should not have", reason=Reason.MALFORMED
        )
    values = _REPORT.unpack(data)
    absent = _ABSENT.get(values[0])
    if absent is None or values[0] != table[_INDEX["version"]]:  # never expected
        raise EvidenceError(
            "native SNP parser accepted a report it should not have", reason=Reason.MALFORMED
        )
    if not absent:
        return values
    out = list(values)
    for i in absent:
        out[i] = None
    return tuple(out)


def parse_report_values(data: bytes) -> tuple[Any, ...]:
    """Check an SNP report in C; the SnpReport field values in order, or the parser's error."""
    data = bytes(data)
    out = ffi.new("cv_snp_fields *")
    lib.cv_snp_parse(ffi.from_buffer("uint8_t[]", data), len(data), out)
    return values_from_struct(out, data)
