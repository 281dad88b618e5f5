"""AMD SEV-SNP attestation reports (versions 2-5) and extended-report certificate tables.

Bytes in, frozen views out; no cryptography here. Layout: amd.md §1 (SEV-SNP ABI, Table 22
"ATTESTATION_REPORT"), guest policy §2.1, platform info §2.2, TCB_VERSION §3, certificate
table §10. Every reserved range is checked while parsing and named with its offset.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, fields, replace
from typing import Any

from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "CERT_TABLE_GUIDS",
    "PRODUCTS",
    "REPORT_SIZE",
    "SIGNED_SIZE",
    "CertTable",
    "CertTableEntry",
    "GuestPolicy",
    "PlatformInfo",
    "SigningKey",
    "SnpReport",
    "TcbVersion",
    "encode_tcb",
    "looks_like",
    "parse_cert_table",
    "parse_report",
]

#: Report size and signed prefix (amd.md §1, §5).
REPORT_SIZE = 0x4A0
SIGNED_SIZE = 0x2A0
SIGNATURE_OFFSET = 0x2A0
#: Each of R and S is a 72-byte little-endian integer; only 48 bytes are used (amd.md §5).
SIG_COMPONENT_SIZE = 72
SIG_USED_SIZE = 48
SIG_ALGO_ECDSA_P384_SHA384 = 1
SUPPORTED_VERSIONS = (2, 3, 4, 5)
#: Products whose TCB layout is known (amd.md §3).
PRODUCTS = ("Milan", "Genoa", "Turin")


class SigningKey:
    """KEY_INFO.SIGNING_KEY values (amd.md §1, offset 0x048 bits 4:2)."""

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

_V3_ONLY = ("cpuid_fam_id", "cpuid_mod_id", "cpuid_step")
_V5_ONLY = ("launch_mit_vector", "current_mit_vector")


def _reserved_ranges(version: int) -> tuple[tuple[str, int, int], ...]:
    """(name, start, end) ranges that must be zero for ``version`` (amd.md §1 table)."""
    common = (
        ("reserved_04c", 0x04C, 0x050),
        ("reserved_1eb", 0x1EB, 0x1EC),
        ("reserved_1ef", 0x1EF, 0x1F0),
    )
    cpuid = (("reserved_18b", 0x18B, 0x1A0),) if version >= 3 else (("reserved_188", 0x188, 0x1A0),)
    tail = (("reserved_208", 0x208, 0x2A0),) if version >= 5 else (("reserved_1f8", 0x1F8, 0x2A0),)
    return common + cpuid + tail


# --- guest policy / platform info ----------------------------------------------------------

#: POLICY bit 17 must be 1; bits 63:26 must be 0 (amd.md §2.1).
POLICY_RESERVED_ONE = 1 << 17
POLICY_MBZ_MASK = ~((1 << 26) - 1) & 0xFFFF_FFFF_FFFF_FFFF


@dataclass(frozen=True, slots=True)
class GuestPolicy:
    """The guest POLICY field decoded (amd.md §2.1)."""

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
        """Decode the 64-bit POLICY value."""

        def bit(n: int) -> bool:
            return bool(raw >> n & 1)

        return cls(
            raw=raw,
            abi_minor=raw & 0xFF,
            abi_major=raw >> 8 & 0xFF,
            smt=bit(16),
            migrate_ma=bit(18),
            debug=bit(19),
            single_socket=bit(20),
            cxl_allow=bit(21),
            mem_aes_256_xts=bit(22),
            rapl_dis=bit(23),
            ciphertext_hiding_dram=bit(24),
            page_swap_disable=bit(25),
        )

    def to_dict(self) -> dict[str, Any]:
        """Claims form: every flag plus ``raw``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class PlatformInfo:
    """PLATFORM_INFO decoded (amd.md §2.2). Unknown bits are kept in ``raw`` only."""

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

        def bit(n: int) -> bool:
            return bool(raw >> n & 1)

        return cls(raw, bit(0), bit(1), bit(2), bit(3), bit(4), bit(5), bit(7))

    def to_dict(self) -> dict[str, Any]:
        """Claims form: every flag plus ``raw``."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


# --- TCB_VERSION ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TcbVersion:
    """One TCB_VERSION decoded for a product (amd.md §3). ``fmc`` is None before Turin."""

    bootloader: int
    tee: int
    snp: int
    microcode: int
    fmc: int | None = None

    @classmethod
    def decode(cls, raw: bytes, product: str) -> TcbVersion:
        """Decode the 8 little-endian bytes with the byte layout of ``product``."""
        if len(raw) != 8:
            raise ValueError("TCB_VERSION is 8 bytes")
        if product == "Turin":
            # byte 0 FMC, 1 BL, 2 TEE, 3 SNP, 7 microcode (amd.md §3 right column)
            return cls(bootloader=raw[1], tee=raw[2], snp=raw[3], microcode=raw[7], fmc=raw[0])
        if product in ("Milan", "Genoa"):
            # byte 0 BL, 1 TEE, 6 SNP, 7 microcode (amd.md §3 left column)
            return cls(bootloader=raw[0], tee=raw[1], snp=raw[6], microcode=raw[7])
        raise ValueError(f"no TCB layout for product {product!r}")

    def components(self) -> dict[str, int]:
        """Component name -> SPL (``fmc`` only where the product has it)."""
        out = {
            "bootloader": self.bootloader,
            "tee": self.tee,
            "snp": self.snp,
            "microcode": self.microcode,
        }
        if self.fmc is not None:
            out = {"fmc": self.fmc, **out}
        return out


def encode_tcb(
    product: str, *, bootloader: int, tee: int, snp: int, microcode: int, fmc: int | None = None
) -> bytes:
    """The 8-byte TCB_VERSION of ``product`` (inverse of :meth:`TcbVersion.decode`)."""
    raw = bytearray(8)
    if product == "Turin":
        raw[0], raw[1], raw[2], raw[3], raw[7] = fmc or 0, bootloader, tee, snp, microcode
    elif product in ("Milan", "Genoa"):
        if fmc is not None:
            raise ValueError(f"{product} has no FMC SPL")
        raw[0], raw[1], raw[6], raw[7] = bootloader, tee, snp, microcode
    else:
        raise ValueError(f"no TCB layout for product {product!r}")
    return bytes(raw)


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SnpReport:
    """An SEV-SNP ATTESTATION_REPORT (amd.md §1). Build with :func:`parse_report`.

    TCB fields are kept raw (8 bytes): their layout depends on the product, which a v2
    report does not state (amd.md §3, §4); decode with :meth:`TcbVersion.decode`.
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
        """KEY_INFO bit 1 (amd.md §2.3)."""
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
        """CHIP_ID is all zero: MASK_CHIP_ID was set or the key is a VLEK (amd.md §2.3)."""
        return not any(self.chip_id)

    @property
    def signature_rs(self) -> tuple[int, int]:
        """(r, s) from the little-endian 72-byte components (amd.md §5)."""
        r = int.from_bytes(self.signature[:SIG_COMPONENT_SIZE], "little")
        s = int.from_bytes(self.signature[SIG_COMPONENT_SIZE : 2 * SIG_COMPONENT_SIZE], "little")
        return r, s

    def signed_bytes(self) -> bytes:
        """Report bytes 0x000..0x29F, the ECDSA message (amd.md §5)."""
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
    data = bytes(data)
    if len(data) < 4:
        raise MalformedEvidence(
            f"SNP report of {len(data)} bytes", field="version", offset=0, reason=Reason.TRUNCATED
        )
    version = int.from_bytes(data[0:4], "little")
    # amd.md §1: versions 2..5; 0/1 predate the ABI, >5 have an unknown layout
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
    values: dict[str, Any] = {}
    for name, off, size, kind in _LAYOUT:
        chunk = data[off : off + size]
        values[name] = int.from_bytes(chunk, "little") if kind == "u" else chunk
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
    # amd.md §1: SIGNATURE_ALGO 1 = ECDSA P-384 / SHA-384 is the only value defined
    if r.signature_algo != SIG_ALGO_ECDSA_P384_SHA384:
        raise UnsupportedEvidence(
            f"signature algorithm {r.signature_algo} (only 1 = ECDSA P-384 SHA-384)",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    for name, start, end in _reserved_ranges(r.version):
        _mbz(data, name, start, end)
    # amd.md §1 key info: bits 31:5 must be zero; SIGNING_KEY 2..6 are reserved
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
    # amd.md §2.1: POLICY bit 17 must be 1, bits 63:26 must be 0
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
    # amd.md §5: R and S use 48 of their 72 bytes; the rest and 0x330..0x4A0 are zero
    for name, start in (("signature_r", 0x2A0), ("signature_s", 0x2A0 + SIG_COMPONENT_SIZE)):
        _mbz(data, name + "_padding", start + SIG_USED_SIZE, start + SIG_COMPONENT_SIZE)
    _mbz(data, "signature_reserved", 0x2A0 + 2 * SIG_COMPONENT_SIZE, REPORT_SIZE)


# --- extended report certificate table (amd.md §10) -----------------------------------------

#: GUID -> role. The ASK GUID also carries the ASVK (no ASVK GUID exists; amd.md §10).
CERT_TABLE_GUIDS = {
    "63da758d-e664-4564-adc5-f4b93be8accd": "vcek",
    "a8074bc2-a25a-483e-aae6-39c045a0b8a1": "vlek",
    "4ab7b379-bbac-4fe4-a02f-05aef327c782": "ask",
    "c0b406a4-a803-4952-9743-3fb6014cd0ae": "ark",
    "92f81bc3-5811-4d3d-97ff-d19f88dc67ea": "crl",
}
CERT_TABLE_ENTRY_SIZE = 24


@dataclass(frozen=True, slots=True)
class CertTableEntry:
    """One certificate-table entry: GUID (canonical text), its role, and the blob."""

    guid: str
    role: str | None
    data: bytes


@dataclass(frozen=True, slots=True)
class CertTable:
    """The parsed certificate blob of an extended report."""

    entries: tuple[CertTableEntry, ...]

    def get(self, role: str) -> CertTableEntry | None:
        """The entry with ``role`` (vcek, vlek, ask, ark, crl), or None."""
        for e in self.entries:
            if e.role == role:
                return e
        return None

    def to_bytes(self) -> bytes:
        """Encode: entries, an all-zero terminator, then the blobs in entry order."""
        header = (len(self.entries) + 1) * CERT_TABLE_ENTRY_SIZE
        table = bytearray()
        blobs = bytearray()
        for e in self.entries:
            offset = header + len(blobs)
            table += uuid.UUID(e.guid).bytes
            table += offset.to_bytes(4, "little") + len(e.data).to_bytes(4, "little")
            blobs += e.data
        return bytes(table) + bytes(CERT_TABLE_ENTRY_SIZE) + bytes(blobs)


def parse_cert_table(data: bytes, *, base: int = 0) -> CertTable:
    """Parse a certificate blob (amd.md §10). ``base`` shifts offsets in error messages.

    Checks: whole 24-byte entries up to an all-zero terminator; each blob lies after the
    table and inside ``data``; no GUID twice; no two blobs overlap; at least one entry.
    Bounds and GUIDs are checked while scanning, so garbage fails at its first entry, and
    non-overlap bounds the copied blobs by the input size (a hostile table of many entries
    all pointing at one large blob would otherwise copy it once per entry).
    """
    data = bytes(data)
    raw_entries: list[tuple[bytes, int, int, int]] = []
    seen_guids: set[bytes] = set()
    pos = 0
    while True:
        if pos + CERT_TABLE_ENTRY_SIZE > len(data):
            raise MalformedEvidence(
                "certificate table ends without its all-zero terminator",
                field="cert_table",
                offset=base + pos,
                reason=Reason.TRUNCATED,
            )
        entry = data[pos : pos + CERT_TABLE_ENTRY_SIZE]
        if not any(entry):
            break
        offset = int.from_bytes(entry[16:20], "little")
        length = int.from_bytes(entry[20:24], "little")
        if entry[:16] in seen_guids:
            raise MalformedEvidence(
                f"GUID {uuid.UUID(bytes=entry[:16])} appears twice",
                field="cert_table.guid",
                offset=base + pos,
                reason=Reason.MALFORMED,
            )
        seen_guids.add(entry[:16])
        if offset + length > len(data):
            raise MalformedEvidence(
                f"entry {uuid.UUID(bytes=entry[:16])} ({offset:#x}+{length:#x}) runs past the "
                f"{len(data)}-byte blob",
                field="cert_table.length",
                offset=base + pos + 20,
                reason=Reason.TRUNCATED,
            )
        raw_entries.append((entry[:16], offset, length, pos))
        pos += CERT_TABLE_ENTRY_SIZE
    table_end = pos + CERT_TABLE_ENTRY_SIZE
    if not raw_entries:
        raise MalformedEvidence(
            "certificate table is empty", field="cert_table", offset=base, reason=Reason.MALFORMED
        )
    for guid_bytes, offset, _, at in raw_entries:
        if offset < table_end:
            raise MalformedEvidence(
                f"entry {uuid.UUID(bytes=guid_bytes)} points into the table (offset {offset:#x})",
                field="cert_table.offset",
                offset=base + at + 16,
                reason=Reason.MALFORMED,
            )
    # blobs may not overlap (amd.md §10 lays them out one after another); sorted by start,
    # any overlap shows between neighbours
    spans = sorted((o, o + n, at) for _, o, n, at in raw_entries if n)
    for (_, end, _), (start, _, at) in itertools.pairwise(spans):
        if start < end:
            raise MalformedEvidence(
                "certificate table blobs overlap",
                field="cert_table.offset",
                offset=base + at + 16,
                reason=Reason.MALFORMED,
            )
    entries = []
    for guid_bytes, offset, length, _ in raw_entries:
        guid = str(uuid.UUID(bytes=guid_bytes))
        entries.append(
            CertTableEntry(guid, CERT_TABLE_GUIDS.get(guid), data[offset : offset + length])
        )
    return CertTable(tuple(entries))


def looks_like(data: bytes) -> bool:
    """An SNP report: u32 VERSION 2..5 (amd.md §1)."""
    return len(data) >= 8 and 2 <= int.from_bytes(data[0:4], "little") <= 5
