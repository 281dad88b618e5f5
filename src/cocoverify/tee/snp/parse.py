"""AMD SEV-SNP attestation reports, versions 2-5 (SEV-SNP ABI §7.3, ATTESTATION_REPORT).

Bytes in, frozen views out; no cryptography here. The guest POLICY (SEV-SNP ABI §4.3) and
PLATFORM_INFO are decoded; TCB_VERSION fields stay raw until the product is known
(:mod:`cocoverify.tee.snp.tcb`). Every reserved range is checked while parsing and named with
its offset. An extended report's certificate table is parsed by
:mod:`cocoverify.tee.snp.certtable`.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields, replace
from typing import Any

from cocoverify import _backend
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.tee.snp.certtable import CERT_TABLE_ENTRY_SIZE, CertTable, parse_cert_table

__all__ = [
    "REPORT_SIZE",
    "SIGNED_SIZE",
    "GuestPolicy",
    "PlatformInfo",
    "SigningKey",
    "SnpReport",
    "looks_like",
    "parse_report",
    "split_evidence",
]

#: Report size and signed prefix (SEV-SNP ABI §7.3: the signature covers 0x000..0x29F).
REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
SIGNATURE_OFFSET = 0x2A0
#: Each of R and S is a 72-byte little-endian integer; only 48 bytes are used.
SIG_COMPONENT_SIZE = 72
SIG_USED_SIZE = 48
SIG_ALGO_ECDSA_P384_SHA384 = 1
SUPPORTED_VERSIONS = (2, 3, 4, 5)


class SigningKey:
    """KEY_INFO.SIGNING_KEY values (offset 0x048 bits 4:2)."""

    VCEK = 0
    VLEK = 1
    NONE = 7
    NAMES = {0: "VCEK", 1: "VLEK", 7: "none"}


# --- layout ------------------------------------------------------------------------------
# (field, offset, size, kind): "u" little-endian unsigned integer, "b" bytes.
_LAYOUT: tuple[tuple[str, int, int, str], ...] = (
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
LAYOUT = {name: (off, size) for name, off, size, _ in _LAYOUT}


def _struct_format() -> str:
    """One ``struct`` format for every field of ``_LAYOUT`` in offset order (little-endian
    integers of 1, 4 or 8 bytes, byte strings), gaps skipped."""
    out, at = ["<"], 0
    for _, off, size, kind in sorted(_LAYOUT, key=lambda f: f[1]):
        out.append(f"{off - at}x" if off > at else "")
        out.append({1: "B", 4: "I", 8: "Q"}[size] if kind == "u" else f"{size}s")
        at = off + size
    return "".join(out)


_NAMES = tuple(name for name, _, _, _ in sorted(_LAYOUT, key=lambda f: f[1]))
_UNPACK = struct.Struct(_struct_format()).unpack_from

_V3_ONLY = ("cpuid_fam_id", "cpuid_mod_id", "cpuid_step")
_V5_ONLY = ("launch_mit_vector", "current_mit_vector")


def _reserved_ranges(version: int) -> tuple[tuple[str, int, int], ...]:
    """(name, start, end) ranges that must be zero for ``version`` (SEV-SNP ABI §7.3)."""
    common = (
        ("reserved_04c", 0x04C, 0x050),
        ("reserved_1eb", 0x1EB, 0x1EC),
        ("reserved_1ef", 0x1EF, 0x1F0),
    )
    cpuid = (("reserved_18b", 0x18B, 0x1A0),) if version >= 3 else (("reserved_188", 0x188, 0x1A0),)
    tail = (("reserved_208", 0x208, 0x2A0),) if version >= 5 else (("reserved_1f8", 0x1F8, 0x2A0),)
    return common + cpuid + tail


# --- guest policy / platform info ----------------------------------------------------------


def _bits(raw: int, *positions: int) -> tuple[bool, ...]:
    return tuple(bool(raw >> n & 1) for n in positions)


def _as_dict(view: Any) -> dict[str, Any]:
    return {f.name: getattr(view, f.name) for f in fields(view)}


#: POLICY bit 17 must be 1; bits 63:26 must be 0 (SEV-SNP ABI §4.3).
POLICY_RESERVED_ONE = 1 << 17
POLICY_MBZ_MASK = ~((1 << 26) - 1) & 0xFFFF_FFFF_FFFF_FFFF


@dataclass(frozen=True, slots=True)
class GuestPolicy:
    """The guest POLICY field decoded (SEV-SNP ABI §4.3)."""

    raw: int
    abi_minor: int
    abi_major: int
    smt: bool
    migrate_ma: bool
    debug: bool
    single_socket: bool
    cxl_allow: bool
    mem_aes_256_xts: bool
    rapl_dis: bool
    ciphertext_hiding_dram: bool
    page_swap_disable: bool

    @classmethod
    def from_int(cls, raw: int) -> GuestPolicy:
        """Decode the 64-bit POLICY value: ABI minor/major in bits 15:0, the flags in bits 16
        and 18..25 (bit 17 is reserved, must be one)."""
        flags = _bits(raw, 16, 18, 19, 20, 21, 22, 23, 24, 25)
        return cls(raw, raw & 0xFF, raw >> 8 & 0xFF, *flags)

    def to_dict(self) -> dict[str, Any]:
        """Claims form: every flag plus ``raw``."""
        return _as_dict(self)


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    """PLATFORM_INFO decoded (SEV-SNP ABI §7.3). Unknown bits are kept in ``raw`` only."""

    raw: int
    smt_en: bool
    tsme_en: bool
    ecc_en: bool
    rapl_dis: bool
    ciphertext_hiding_dram_en: bool
    alias_check_complete: bool
    sev_tio_en: bool

    @classmethod
    def from_int(cls, raw: int) -> PlatformInfo:
        """Decode the 64-bit PLATFORM_INFO value; bit 6 (set on real Turin parts) is ignored."""
        return cls(raw, *_bits(raw, 0, 1, 2, 3, 4, 5, 7))

    def to_dict(self) -> dict[str, Any]:
        """Claims form: every flag plus ``raw``."""
        return _as_dict(self)


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnpReport:
    """An SEV-SNP ATTESTATION_REPORT (SEV-SNP ABI §7.3). Build with :func:`parse_report`.

    TCB fields are kept raw (8 bytes): their layout depends on the product, which a v2
    report does not state; decode with :meth:`cocoverify.tee.snp.tcb.TcbVersion.decode`.
    CPUID fields are None in v2, mitigation vectors None before v5.
    """

    version: int
    guest_svn: int
    policy: int
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: bytes
    platform_info: int
    key_info: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: bytes
    cpuid_fam_id: int | None
    cpuid_mod_id: int | None
    cpuid_step: int | None
    chip_id: bytes
    committed_tcb: bytes
    current_build: int
    current_minor: int
    current_major: int
    committed_build: int
    committed_minor: int
    committed_major: int
    launch_tcb: bytes
    launch_mit_vector: int | None
    current_mit_vector: int | None
    signature: bytes

    @property
    def author_key_en(self) -> bool:
        """KEY_INFO bit 0."""
        return bool(self.key_info & 1)

    @property
    def mask_chip_key(self) -> bool:
        """KEY_INFO bit 1: the VCEK is not used (the firmware writes no signature)."""
        return bool(self.key_info >> 1 & 1)

    @property
    def signing_key(self) -> int:
        """KEY_INFO bits 4:2: 0 VCEK, 1 VLEK, 7 none."""
        return self.key_info >> 2 & 0x7

    @property
    def guest_policy(self) -> GuestPolicy:
        """POLICY decoded."""
        return GuestPolicy.from_int(self.policy)

    @property
    def platform(self) -> PlatformInfo:
        """PLATFORM_INFO decoded."""
        return PlatformInfo.from_int(self.platform_info)

    @property
    def chip_id_masked(self) -> bool:
        """CHIP_ID is all zero: MASK_CHIP_ID was set or the key is a VLEK."""
        return not any(self.chip_id)

    @property
    def signature_rs(self) -> tuple[int, int]:
        """(r, s) from the little-endian 72-byte components."""
        r = int.from_bytes(self.signature[:SIG_COMPONENT_SIZE], "little")
        s = int.from_bytes(self.signature[SIG_COMPONENT_SIZE : 2 * SIG_COMPONENT_SIZE], "little")
        return r, s

    def signed_bytes(self) -> bytes:
        """Report bytes 0x000..0x29F, the ECDSA message."""
        return self.to_bytes()[:SIGNED_SIZE]

    def to_bytes(self) -> bytes:
        """The 1184-byte encoding (reserved ranges zero); round-trips :func:`parse_report`."""
        buf = bytearray(REPORT_SIZE)
        for name, off, size, kind in _LAYOUT:
            value = getattr(self, name)
            if value is None:
                continue
            if kind == "u":
                buf[off : off + size] = int(value).to_bytes(size, "little")
            else:
                if len(value) != size:
                    raise ValueError(f"{name}: expected {size} bytes")
                buf[off : off + size] = value
        return bytes(buf)

    def with_fields(self, **changes: Any) -> SnpReport:
        """A copy with fields changed (for builders; no validation)."""
        return replace(self, **changes)


def parse_report(data: bytes) -> SnpReport:
    """Parse exactly one 1184-byte report; EvidenceError subclasses on any defect."""
    if _backend.backend_for("snp-report") == "native":
        # the same checks in C (csrc/cv_snp.c), the same values and errors (docs/native.md)
        from cocoverify._backend import _native_snp

        return SnpReport(*_native_snp.parse_report_values(data))
    data = bytes(data)
    if len(data) < 4:
        raise MalformedEvidence(
            f"SNP report of {len(data)} bytes", field="version", offset=0, reason=Reason.TRUNCATED
        )
    version = int.from_bytes(data[0:4], "little")
    # versions 2..5; 0/1 predate the ABI, >5 have an unknown layout
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedEvidence(
            f"SNP report version {version} (supported: 2-5)", reason=Reason.UNSUPPORTED_VERSION
        )
    if len(data) < REPORT_SIZE:
        raise MalformedEvidence(
            f"SNP report is {len(data)} bytes, need {REPORT_SIZE}",
            field="report",
            offset=len(data),
            reason=Reason.TRUNCATED,
        )
    if len(data) > REPORT_SIZE:
        raise MalformedEvidence(
            f"{len(data) - REPORT_SIZE} bytes after the {REPORT_SIZE}-byte SNP report",
            field="report",
            offset=REPORT_SIZE,
            reason=Reason.TRAILING_DATA,
        )
    values: dict[str, Any] = dict(zip(_NAMES, _UNPACK(data), strict=True))
    if version < 3:
        for name in _V3_ONLY:
            values[name] = None
    if version < 5:
        for name in _V5_ONLY:
            values[name] = None
    report = SnpReport(**values)
    _check(report, data)
    return report


def _mbz(data: bytes, name: str, start: int, end: int) -> None:
    if any(data[start:end]):
        first = next(i for i in range(start, end) if data[i])
        raise MalformedEvidence(
            f"reserved bytes {start:#x}..{end - 1:#x} are not zero",
            field=name,
            offset=first,
            reason=Reason.RESERVED_NONZERO,
        )


def _check(r: SnpReport, data: bytes) -> None:
    # SIGNATURE_ALGO 1 = ECDSA P-384 / SHA-384 is the only value defined
    if r.signature_algo != SIG_ALGO_ECDSA_P384_SHA384:
        raise UnsupportedEvidence(
            f"signature algorithm {r.signature_algo} (only 1 = ECDSA P-384 SHA-384)",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    for name, start, end in _reserved_ranges(r.version):
        _mbz(data, name, start, end)
    # KEY_INFO bits 31:5 must be zero; SIGNING_KEY 2..6 are reserved
    if r.key_info >> 5:
        raise MalformedEvidence(
            "KEY_INFO bits 31:5 are not zero",
            field="key_info",
            offset=0x048,
            reason=Reason.RESERVED_NONZERO,
        )
    if r.signing_key not in SigningKey.NAMES:
        raise UnsupportedEvidence(
            f"SIGNING_KEY {r.signing_key} is reserved", reason=Reason.UNSUPPORTED_KEY_TYPE
        )
    # SEV-SNP ABI §4.3: POLICY bit 17 must be 1, bits 63:26 must be 0
    if not r.policy & POLICY_RESERVED_ONE:
        raise MalformedEvidence(
            "POLICY bit 17 (reserved, must be one) is zero",
            field="policy",
            offset=0x008,
            reason=Reason.RESERVED_NONZERO,
        )
    if r.policy & POLICY_MBZ_MASK:
        raise MalformedEvidence(
            "POLICY bits 63:26 are not zero",
            field="policy",
            offset=0x008,
            reason=Reason.RESERVED_NONZERO,
        )
    # R and S use 48 of their 72 bytes; the rest and 0x330..0x4A0 are zero
    for name, start in (("signature_r", 0x2A0), ("signature_s", 0x2A0 + SIG_COMPONENT_SIZE)):
        _mbz(data, name + "_padding", start + SIG_USED_SIZE, start + SIG_COMPONENT_SIZE)
    _mbz(data, "signature_reserved", 0x2A0 + 2 * SIG_COMPONENT_SIZE, REPORT_SIZE)


def split_evidence(data: bytes) -> tuple[SnpReport, CertTable | None]:
    """The report and, when bytes follow it, the extended report's certificate table."""
    # a table holds at least one entry and the terminator; less is trailing data
    if len(data) < REPORT_SIZE + 2 * CERT_TABLE_ENTRY_SIZE:
        return parse_report(data), None
    report = parse_report(data[:REPORT_SIZE])
    return report, parse_cert_table(data[REPORT_SIZE:], base=REPORT_SIZE)


def looks_like(data: bytes) -> bool:
    """An SNP report: u32 VERSION 2..5."""
    return len(data) >= 8 and 2 <= int.from_bytes(data[0:4], "little") <= 5
