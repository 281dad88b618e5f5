"""SNP report parsing: layout, versions, reserved ranges, POLICY / PLATFORM_INFO / KEY_INFO
(SEV-SNP ABI §7.3, §4.3)."""

from __future__ import annotations

import pytest

from cocoverify.errors import CocoverifyError, MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.tee.snp.parse import (
    REPORT_SIZE,
    SIGNED_SIZE,
    GuestPolicy,
    PlatformInfo,
    _reserved_ranges,
    parse_report,
)
from cocoverify_testing.snp import SnpReportBuilder

from _shared.snp import M


def _report(product: str = "Milan", version: int | None = None) -> bytes:
    return SnpReportBuilder.for_product(product, version=version).unsigned()


def _with(data: bytes, offset: int, value: bytes) -> bytes:
    buf = bytearray(data)
    buf[offset : offset + len(value)] = value
    return bytes(buf)


@pytest.mark.parametrize(
    ("product", "version"), [("Milan", 2), ("Milan", 3), ("Genoa", 4), ("Turin", 5)]
)
def test_round_trip(product: str, version: int) -> None:
    data = _report(product, version)
    report = parse_report(data)
    assert report.version == version
    assert report.to_bytes() == data
    assert (report.cpuid_fam_id is None) == (version < 3)
    assert (report.launch_mit_vector is None) == (version < 5)


def test_every_truncation_is_reported() -> None:
    data = _report()
    for n in range(REPORT_SIZE):
        with pytest.raises(MalformedEvidence) as exc:
            parse_report(data[:n])
        assert exc.value.reason is Reason.TRUNCATED, n


def test_trailing_bytes() -> None:
    with pytest.raises(MalformedEvidence) as exc:
        parse_report(_report() + b"\x00")
    assert exc.value.reason is Reason.TRAILING_DATA
    assert exc.value.offset == REPORT_SIZE


@pytest.mark.parametrize("version", [0, 1, 6, 0xFFFFFFFF])
def test_unsupported_versions(version: int) -> None:
    data = _with(_report(), 0, version.to_bytes(4, "little"))
    with pytest.raises(UnsupportedEvidence) as exc:
        parse_report(data)
    assert exc.value.reason is Reason.UNSUPPORTED_VERSION


@pytest.mark.parametrize("algo", [0, 2, 0xFFFF])
def test_unsupported_signature_algorithm(algo: int) -> None:
    data = _with(_report(), 0x34, algo.to_bytes(4, "little"))
    with pytest.raises(UnsupportedEvidence) as exc:
        parse_report(data)
    assert exc.value.reason is Reason.UNSUPPORTED_ALGORITHM


def _reserved_cases() -> list[tuple[str, int, str, int]]:
    cases = []
    for product, version in (("Milan", 2), ("Milan", 3), ("Turin", 5)):
        for name, start, end in _reserved_ranges(version):
            for offset in sorted({start, end - 1}):
                cases.append((product, version, name, offset))
    # signature padding of R and S, and the reserved tail after them (SEV-SNP ABI §7.3)
    for name, offset in (
        ("signature_r_padding", 0x2A0 + 48),
        ("signature_s_padding", 0x2E8 + 71),
        ("signature_reserved", 0x330),
        ("signature_reserved", 0x49F),
    ):
        cases.append(("Milan", 3, name, offset))
    return cases


@pytest.mark.parametrize(("product", "version", "name", "offset"), _reserved_cases())
def test_reserved_bytes_must_be_zero(product: str, version: int, name: str, offset: int) -> None:
    data = _with(_report(product, version), offset, b"\x01")
    with pytest.raises(MalformedEvidence) as exc:
        parse_report(data)
    assert exc.value.reason is Reason.RESERVED_NONZERO
    assert exc.value.field == name
    assert exc.value.offset == offset


def test_v2_has_no_cpuid_bytes() -> None:
    # the CPUID bytes are reserved in v2
    data = _with(_report("Milan", 2), 0x188, b"\x19")
    with pytest.raises(MalformedEvidence) as exc:
        parse_report(data)
    assert exc.value.field == "reserved_188"


def test_v3_mitigation_vectors_are_reserved() -> None:
    data = _with(_report("Milan", 3), 0x1F8, b"\x01")
    with pytest.raises(MalformedEvidence) as exc:
        parse_report(data)
    assert exc.value.field == "reserved_1f8"


def test_v5_mitigation_vectors_parse() -> None:
    report = parse_report(_with(_report("Turin", 5), 0x1F8, b"\x05"))
    assert report.launch_mit_vector == 0x05


def test_key_info_reserved_bits() -> None:
    data = _with(_report(), 0x48, (1 << 5).to_bytes(4, "little"))
    with pytest.raises(MalformedEvidence) as exc:
        parse_report(data)
    assert exc.value.reason is Reason.RESERVED_NONZERO
    assert exc.value.field == "key_info"


@pytest.mark.parametrize("key", [2, 3, 4, 5, 6])
def test_reserved_signing_keys(key: int) -> None:
    data = _with(_report(), 0x48, (key << 2).to_bytes(4, "little"))
    with pytest.raises(UnsupportedEvidence) as exc:
        parse_report(data)
    assert exc.value.reason is Reason.UNSUPPORTED_KEY_TYPE


def test_key_info_decoded() -> None:
    r = parse_report(_with(_report(), 0x48, (0b111).to_bytes(4, "little")))
    assert (r.author_key_en, r.mask_chip_key, r.signing_key) == (True, True, 1)


@pytest.mark.parametrize("policy", [0x0, 0x10000, 1 << 26 | 0x30000, 1 << 63 | 0x30000])
def test_policy_reserved_bits(policy: int) -> None:
    data = _with(_report(), 0x08, policy.to_bytes(8, "little"))
    with pytest.raises(MalformedEvidence) as exc:
        parse_report(data)
    assert exc.value.reason is Reason.RESERVED_NONZERO
    assert exc.value.field == "policy"


def test_guest_policy_decoding() -> None:
    p = GuestPolicy.from_int(0x3FF1F02)
    assert (p.abi_minor, p.abi_major) == (0x02, 0x1F)
    assert p.smt and p.migrate_ma and p.debug and p.single_socket and p.cxl_allow
    assert p.mem_aes_256_xts and p.rapl_dis and p.ciphertext_hiding_dram and p.page_swap_disable
    q = GuestPolicy.from_int(0x30000)
    assert q.smt and not (q.debug or q.migrate_ma or q.page_swap_disable)


def test_platform_info_decoding_ignores_bit6() -> None:
    # real Turin reports carry 0x65 (bit 6 set); it is not a parse error
    info = PlatformInfo.from_int(0x65)
    assert info.smt_en and info.ecc_en and info.alias_check_complete
    assert not (info.tsme_en or info.rapl_dis or info.sev_tio_en)
    assert PlatformInfo.from_int(0x80).sev_tio_en
    parse_report(_with(_report(), 0x40, (0xFF).to_bytes(8, "little")))


# --- the signature covers every byte of 0x000..0x29F ----------------------------------------------


@pytest.mark.parametrize("version", [2, 3, 4, 5])
def test_every_signed_byte_is_a_field_or_a_checked_reserved_byte(version: int) -> None:
    # the signature is verified over the re-encoded view (SnpReport.signed_bytes): a byte
    # the parser neither reads nor checks would be dropped and a mutation there accepted
    raw = SnpReportBuilder.for_product("Milan", version=version).sign(M)
    for offset in range(SIGNED_SIZE):
        buf = bytearray(raw)
        buf[offset] ^= 0x01
        try:
            parsed = parse_report(bytes(buf))
        except CocoverifyError:
            continue
        assert parsed.signed_bytes() == bytes(buf[:SIGNED_SIZE]), hex(offset)
