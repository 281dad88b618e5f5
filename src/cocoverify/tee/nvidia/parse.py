"""NVIDIA GPU attestation reports: SPDM GET_MEASUREMENTS request and MEASUREMENTS response.

The report is the request (37 bytes) followed by the response, little-endian (DSP0274 SPDM 1.1
§10.11 GET_MEASUREMENTS, MEASUREMENTS; measurement block and DMTF measurement §10.11.1). The
response ends with NVIDIA's opaque data (a type-length-value list) and a raw P-384 ``r || s``
signature. Bytes after the signature are ignored, as trustee ignores them (a real report has
one extra zero byte). No cryptography here: :mod:`cocoverify.tee.nvidia.verify`. Decisions:
docs/nvidia.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cocoverify._core.reader import Reader
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "OPAQUE_TYPES",
    "REQUEST_SIZE",
    "SIGNATURE_SIZE",
    "MeasurementBlock",
    "OpaqueField",
    "SpdmReport",
    "SpdmRequest",
    "SpdmResponse",
    "decode_opaque",
    "looks_like",
    "parse_report",
]

SPDM_VERSION = 0x11  # SPDM 1.1, the only version trustee accepts
GET_MEASUREMENTS = 0xE0
MEASUREMENTS = 0x60
REQUEST_SIZE = 37
SIGNATURE_SIZE = 96  # ECDSA P-384 r || s, big-endian
NONCE_SIZE = 32
DMTF_SPEC = 1  # MeasurementSpecification bit 0: DMTF (§10.11.1)

#: NVIDIA opaque-data types (trustee OpaqueData::decode): type -> (key, decoding)
OPAQUE_TYPES: Mapping[int, tuple[str, str]] = MappingProxyType(
    {
        1: ("cert_issuer_name", "hex"),
        2: ("cert_authority_key_identifier", "hex"),
        3: ("driver_version", "ascii"),
        4: ("gpu_info", "hex"),
        5: ("id_sku", "hex"),
        6: ("vbios_version", "vbios"),
        7: ("manufacturer_id", "hex"),
        8: ("tamper_detection", "hex"),
        9: ("smc", "hex"),
        10: ("vpr", "hex"),
        11: ("nvdec0_status", "ascii"),
        12: ("measurement_count", "counts"),
        13: ("cpr_info", "hex"),
        14: ("board_id", "hex"),
        15: ("chip_sku", "ascii"),
        16: ("chip_sku_mod", "ascii"),
        17: ("project", "ascii"),
        18: ("project_sku", "ascii"),
        19: ("project_sku_mod", "hex"),
        20: ("fwid", "hex"),
        21: ("protected_pcie_status", "ascii"),
        22: ("switch_pdi", "pdis"),
        23: ("floorswept_ports", "hex"),
        24: ("position_id", "hex"),
        25: ("lock_switch_status", "hex"),
        32: ("gpu_link_conn", "hex"),
        33: ("sys_enable_status", "hex"),
        34: ("opaque_data_version", "int"),
        35: ("chip_info", "ascii"),
        36: ("feature_flag", "feature"),
    }
)
OPAQUE_FWID = 20
_FEATURES = {0: "SPT", 1: "MPT", 2: "PPCIE"}


@dataclass(frozen=True, slots=True)
class SpdmRequest:
    """GET_MEASUREMENTS (§10.11): the nonce is the verifier's."""

    version: int
    code: int
    param1: int
    param2: int
    nonce: bytes
    slot: int


@dataclass(frozen=True, slots=True)
class MeasurementBlock:
    """One measurement block with its DMTF measurement (§10.11.1)."""

    index: int
    specification: int
    value_type: int
    value: bytes
    offset: int

    @property
    def raw_bitstream(self) -> bool:
        """DMTFSpecMeasurementValueType bit 7: the value is a raw bit stream, not a digest."""
        return bool(self.value_type & 0x80)


@dataclass(frozen=True, slots=True)
class OpaqueField:
    """One NVIDIA opaque-data entry: ``u16 type, u16 size, value``."""

    type: int
    value: bytes
    offset: int


@dataclass(frozen=True, slots=True)
class SpdmResponse:
    """MEASUREMENTS (§10.11) with the measurement record, opaque data and signature."""

    version: int
    code: int
    param1: int
    param2: int
    blocks: tuple[MeasurementBlock, ...]
    record_length: int
    nonce: bytes
    opaque: tuple[OpaqueField, ...]
    signature: bytes


@dataclass(frozen=True, slots=True)
class SpdmReport:
    """The whole report; ``signed`` is every byte before the signature."""

    request: SpdmRequest
    response: SpdmResponse
    signed: bytes
    trailing: int

    @property
    def nonce(self) -> bytes:
        """The request nonce: the verifier's report data."""
        return self.request.nonce

    def opaque_value(self, type_: int) -> bytes | None:
        """The raw value of an opaque-data entry, or None."""
        for item in self.response.opaque:
            if item.type == type_:
                return item.value
        return None


def looks_like(data: bytes) -> bool:
    """Request header ``1x e0`` and the response header ``1x 60`` at byte 37 (SPDM 1.x; the
    parser accepts 1.1 only); never raises."""
    return (
        len(data) > REQUEST_SIZE + 8
        and data[1] == GET_MEASUREMENTS
        and data[REQUEST_SIZE + 1] == MEASUREMENTS
        and data[0] >> 4 == 1
        and data[REQUEST_SIZE] >> 4 == 1
    )


def _bad(message: str, field: str, offset: int, reason: Reason = Reason.MALFORMED) -> Exception:
    return MalformedEvidence(f"nvidia report: {message}", field=field, offset=offset, reason=reason)


def _version(value: int, field: str, offset: int) -> None:
    if value != SPDM_VERSION:
        raise UnsupportedEvidence(
            f"nvidia report: {field} 0x{value:02x} is not SPDM 1.1 (0x11)",
            reason=Reason.UNSUPPORTED_VERSION,
        )


def _request(r: Reader) -> SpdmRequest:
    version = r.take(1, "request.version")[0]
    _version(version, "request.version", 0)
    code = r.take(1, "request.code")[0]
    if code != GET_MEASUREMENTS:
        raise _bad(f"request code 0x{code:02x}, expected 0xe0", "request.code", 1)
    param1 = r.take(1, "request.param1")[0]
    if not param1 & 1:
        raise _bad("the request asks for no signature (param1 bit 0)", "request.param1", 2)
    param2 = r.take(1, "request.param2")[0]
    nonce = r.take(NONCE_SIZE, "request.nonce")
    slot = r.take(1, "request.slot")[0]
    return SpdmRequest(version, code, param1, param2, nonce, slot)


def _blocks(r: Reader, count: int) -> tuple[MeasurementBlock, ...]:
    out = []
    seen: set[int] = set()
    for i in range(count):
        at = r.offset()
        index = r.take(1, f"block[{i}].index")[0]
        spec = r.take(1, f"block[{i}].specification")[0]
        size = r.u16(f"block[{i}].size")
        body = r.sub(size, f"block[{i}].measurement")
        if spec != DMTF_SPEC:
            raise UnsupportedEvidence(
                f"nvidia report: block {index} at offset {at}: specification {spec}; only "
                "measurements encoded in the DMTF layout are supported",
                reason=Reason.UNSUPPORTED_VERSION,
            )
        if index in seen:
            raise _bad(f"measurement block {index} appears twice", f"block[{i}].index", at)
        seen.add(index)
        vtype = body.take(1, f"block[{i}].value_type")[0]
        vsize = body.u16(f"block[{i}].value_size")
        value = body.take(vsize, f"block[{i}].value")
        if body.remaining:
            raise _bad(
                f"block {index}: {body.remaining} bytes after the DMTF value",
                f"block[{i}].measurement",
                body.offset(),
                Reason.TRAILING_DATA,
            )
        out.append(MeasurementBlock(index, spec, vtype, value, at))
    return tuple(out)


def _opaque(r: Reader) -> tuple[OpaqueField, ...]:
    out = []
    seen: set[int] = set()
    while r.remaining > 4:  # trustee: while offset + 4 < len
        at = r.offset()
        type_ = r.u16("opaque.type")
        size = r.u16("opaque.size")
        value = r.take(size, f"opaque[{type_}].value")
        if type_ not in OPAQUE_TYPES:
            raise _bad(f"unknown opaque data type {type_}", "opaque.type", at)
        if type_ in seen:
            raise _bad(f"opaque data type {type_} appears twice", "opaque.type", at)
        seen.add(type_)
        out.append(OpaqueField(type_, value, at))
    if r.remaining:
        raise _bad(
            f"{r.remaining} bytes after the last opaque entry",
            "opaque",
            r.offset(),
            Reason.TRAILING_DATA,
        )
    for needed in (3, 6):
        if needed not in seen:
            raise _bad(
                f"opaque data lacks {OPAQUE_TYPES[needed][0]} (type {needed})",
                "opaque",
                r.offset(),
            )
    return tuple(out)


def parse_report(data: bytes) -> SpdmReport:
    """Request and response into frozen views; lengths checked, offsets in every error."""
    r = Reader(data, what="nvidia report")
    request = _request(r)
    version = r.take(1, "response.version")[0]
    _version(version, "response.version", REQUEST_SIZE)
    code = r.take(1, "response.code")[0]
    if code != MEASUREMENTS:
        raise _bad(f"response code 0x{code:02x}, expected 0x60", "response.code", REQUEST_SIZE + 1)
    param1 = r.take(1, "response.param1")[0]
    param2 = r.take(1, "response.param2")[0]
    count = r.take(1, "response.blocks")[0]
    record_length = int.from_bytes(r.take(3, "response.record_length"), "little")
    record = r.sub(record_length, "response.record", "nvidia measurement record")
    blocks = _blocks(record, count)
    if record.remaining:
        raise _bad(
            f"{record.remaining} bytes after {count} measurement blocks",
            "response.record",
            record.offset(),
            Reason.TRAILING_DATA,
        )
    nonce = r.take(NONCE_SIZE, "response.nonce")
    opaque_length = r.u16("response.opaque_length")
    opaque = _opaque(r.sub(opaque_length, "response.opaque", "nvidia opaque data"))
    signed_end = r.pos
    signature = r.take(SIGNATURE_SIZE, "response.signature")
    response = SpdmResponse(
        version, code, param1, param2, blocks, record_length, nonce, opaque, signature
    )
    return SpdmReport(request, response, data[:signed_end], r.remaining)


# --- opaque data as trustee decodes it ----------------------------------------------------


def _ascii(value: bytes) -> str:
    return value.rstrip(b"\x00").decode("ascii", "replace")


def _vbios(value: bytes) -> str:
    half = len(value) // 2
    head = ".".join(f"{b:02x}" for b in reversed(value[:half]))
    return f"{head}.{value[half]:02x}" if half < len(value) else head


def decode_opaque(field: OpaqueField) -> tuple[str, Any]:
    """``(key, value)`` as trustee's claims carry it (docs/nvidia.md "Claims")."""
    key, kind = OPAQUE_TYPES[field.type]
    v = field.value
    if kind == "ascii":
        return key, _ascii(v)
    if kind == "vbios":
        return key, _vbios(v)
    if kind == "counts":
        return key, {
            str(i + 1): int.from_bytes(v[4 * i : 4 * i + 4], "little") for i in range(len(v) // 4)
        }
    if kind == "pdis":
        return key, [v[i : i + 8].hex() for i in range(0, len(v), 8)]
    if kind == "int":
        return key, int.from_bytes(v[:8], "little")
    if kind == "feature":
        return key, _FEATURES.get(int.from_bytes(v[:8], "little"), "unknown")
    return key, v.hex()
