"""TEST ONLY. The DCAP quote layout: header, SGX report and TD report bodies, field tables.

Offsets follow QVL ``QuoteStructures.h`` / ``QuoteConstants.h`` and go-tdx-guest
``abi/abi.go``. :class:`cocoverify_testing.intel.QuoteBuilder` writes bodies with
:func:`encode_body`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cocoverify_testing.intel.collateral import TDX_TEE_TCB_SVN
from cocoverify_testing.pki import fill

__all__ = [
    "BODY_LAYOUTS",
    "BODY_SIZES",
    "BODY_TYPE_KIND",
    "HEADER_FIELDS",
    "INTEL_QE_VENDOR_ID",
    "SGX_ATTR_DEBUG",
    "SGX_REPORT_FIELDS",
    "TD10_FIELDS",
    "TD15_FIELDS",
    "TD_ATTR_DEBUG",
    "TD_ATTR_SEPT_VE_DISABLE",
    "BuiltQuote",
    "Field",
    "as_field_bytes",
    "encode_body",
    "sgx_body_defaults",
    "td_body_defaults",
]

#: Intel's QE vendor ID (QVL `QuoteConstants.h`; QVL rejects any other).
INTEL_QE_VENDOR_ID = bytes.fromhex("939A7233F79C4CA9940A0DB3957F0607")


@dataclass(frozen=True, slots=True)
class Field:
    """A named byte range of a built quote."""

    name: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        """One past the last byte."""
        return self.offset + self.size


HEADER_FIELDS = (
    ("version", 0, 2),
    ("att_key_type", 2, 2),
    ("tee_type", 4, 4),
    ("qe_svn", 8, 2),
    ("pce_svn", 10, 2),
    ("qe_vendor_id", 12, 16),
    ("user_data", 28, 20),
)
SGX_REPORT_FIELDS = (
    ("cpusvn", 0, 16),
    ("miscselect", 16, 4),
    ("reserved1", 20, 12),
    ("isv_ext_prod_id", 32, 16),
    ("attributes", 48, 16),
    ("mr_enclave", 64, 32),
    ("reserved2", 96, 32),
    ("mr_signer", 128, 32),
    ("reserved3", 160, 32),
    ("config_id", 192, 64),
    ("isv_prod_id", 256, 2),
    ("isv_svn", 258, 2),
    ("config_svn", 260, 2),
    ("reserved4", 262, 42),
    ("isv_family_id", 304, 16),
    ("report_data", 320, 64),
)
TD10_FIELDS = (
    ("tee_tcb_svn", 0, 16),
    ("mr_seam", 16, 48),
    ("mr_signer_seam", 64, 48),
    ("seam_attributes", 112, 8),
    ("td_attributes", 120, 8),
    ("xfam", 128, 8),
    ("mr_td", 136, 48),
    ("mr_config_id", 184, 48),
    ("mr_owner", 232, 48),
    ("mr_owner_config", 280, 48),
    ("rtmr0", 328, 48),
    ("rtmr1", 376, 48),
    ("rtmr2", 424, 48),
    ("rtmr3", 472, 48),
    ("report_data", 520, 64),
)
TD15_FIELDS = (*TD10_FIELDS, ("tee_tcb_svn2", 584, 16), ("mr_service_td", 600, 48))

BODY_LAYOUTS: Mapping[str, tuple[tuple[str, int, int], ...]] = {
    "sgx": SGX_REPORT_FIELDS,
    "td10": TD10_FIELDS,
    "td15": TD15_FIELDS,
}
BODY_SIZES: Mapping[str, int] = {"sgx": 384, "td10": 584, "td15": 648}
BODY_TYPE_KIND: Mapping[int, str] = {1: "sgx", 2: "td10", 3: "td15"}

#: SGX ATTRIBUTES.DEBUG (flags bit 1; SGX SDK `arch.h`) and TDATTRIBUTES bits (DEBUG bit 0,
#: SEPT_VE_DISABLE bit 28; go-tdx-guest `validate/validate.go`).
SGX_ATTR_DEBUG = 1 << 1
TD_ATTR_DEBUG = 1 << 0
TD_ATTR_SEPT_VE_DISABLE = 1 << 28


def sgx_body_defaults(cpusvn: bytes) -> dict[str, bytes]:
    return {
        "cpusvn": cpusvn,
        "attributes": (0x05).to_bytes(8, "little") + (0x03).to_bytes(8, "little"),
        "mr_enclave": fill("app-mrenclave", 32),
        "mr_signer": fill("app-mrsigner", 32),
        "isv_prod_id": (1).to_bytes(2, "little"),
        "isv_svn": (2).to_bytes(2, "little"),
        "report_data": fill("sgx-report-data", 64),
    }


def td_body_defaults() -> dict[str, bytes]:
    out = {
        "tee_tcb_svn": TDX_TEE_TCB_SVN,
        "mr_seam": fill("mr-seam", 48),
        "td_attributes": TD_ATTR_SEPT_VE_DISABLE.to_bytes(8, "little"),
        "xfam": (0x602E7).to_bytes(8, "little"),
        "mr_td": fill("mr-td", 48),
        "report_data": fill("td-report-data", 64),
    }
    for i in range(4):
        out[f"rtmr{i}"] = fill(f"rtmr{i}", 48)
    return out


def encode_body(kind: str, values: Mapping[str, bytes]) -> bytes:
    buf = bytearray(BODY_SIZES[kind])
    for fname, off, size in BODY_LAYOUTS[kind]:
        v = values.get(fname)
        if v is None:
            continue
        if len(v) != size:
            raise ValueError(f"{fname}: {len(v)} bytes, layout says {size}")
        buf[off : off + size] = v
    return bytes(buf)


def as_field_bytes(kind: str, fname: str, value: bytes | int) -> bytes:
    sizes = {n: s for n, _, s in BODY_LAYOUTS[kind]}
    if fname not in sizes:
        raise KeyError(f"{fname} is not a field of the {kind} body")
    if isinstance(value, int):
        return value.to_bytes(sizes[fname], "little")
    return bytes(value)


@dataclass(frozen=True, slots=True)
class BuiltQuote:
    """A built quote and the absolute layout of its fields (before mutations)."""

    data: bytes
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        """The field called ``name`` (``header.version``, ``body.report_data``, ...)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)
