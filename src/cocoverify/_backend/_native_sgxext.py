"""Intel SGX PCK-certificate extension walk in C (csrc/cv_sgxext.c; docs/native.md,
"SNP reports and the SGX PCK extension").

``parse_sgx_extension(raw)`` decodes the DER value of OID 1.2.840.113741.1.13.1 (QVL
``ParserUtils.h``) and returns the facts in the order of the ``PckInfo`` fields (without
``ca``, which comes from the issuer name), or raises ValueError with exactly the message the
Python decoder (``cocoverify.tee.intel.pck``) raises; ``parse_pck_extension`` wraps both the
same way (ChainInvalid, CERTIFICATE_PROFILE_INVALID). Importing this module raises
ImportError when the extension is not built or lacks the SGX extension walk.
"""

from __future__ import annotations

import operator
import struct
from typing import Any, NoReturn

import cocoverify._native as _native  # type: ignore[import-not-found]

__all__ = ["SGX_EXT_OID", "SgxFacts", "facts_from_struct", "oid_text", "parse_sgx_extension"]

ffi: Any = _native.ffi
lib: Any = _native.lib
if not hasattr(lib, "cv_sgxext_parse"):
    raise ImportError("cocoverify._native has no cv_sgxext_parse (stale build?)")

SGX_EXT_OID = "1.2.840.113741.1.13.1"

_HEAD = (
    "status",
    "err_code",
    "err_context",
    "err_offset",
    "err_length",
    "err_tag",
    "err_index",
)
_TABLE = (
    "entries",
    "ppid_offset",
    *(f"tcb_components[{i}]" for i in range(16)),
    "pce_svn",
    "cpu_svn_offset",
    "pce_id_offset",
    "fmspc_offset",
    "sgx_type",
    "platform_instance_id_offset",
    "dynamic_platform",
    "cached_keys",
    "smt_enabled",
)
#: cv_sgxext_fields is two ints then uint64_t only: one unpack reads the whole table.
_LAYOUT = struct.Struct("=ii" + "Q" * (len(_HEAD) - 2 + len(_TABLE)))
_AT = {name: i for i, name in enumerate(_HEAD + _TABLE)}
_TCB = slice(_AT["tcb_components[0]"], _AT["tcb_components[15]"] + 1)
_FLAGS = (False, True, None)  # 0 false, 1 true, 2 absent

_CONTEXT = {
    lib.CV_SGX_C_EXTENSION: "SGX extension",
    lib.CV_SGX_C_TCB: "TCB",
    lib.CV_SGX_C_CONFIGURATION: "Configuration",
}
#: Fixed messages (src/cocoverify/_core/der.py, src/cocoverify/tee/intel/pck.py).
_FIXED = {
    lib.CV_SGX_E_TLV_HEADER_TRUNCATED: "truncated TLV header",
    lib.CV_SGX_E_MULTIBYTE_TAG: "multi-byte tags are not supported",
    lib.CV_SGX_E_BAD_LENGTH: "bad length",
    lib.CV_SGX_E_NONMINIMAL_LENGTH: "non-minimal length encoding",
    lib.CV_SGX_E_TLV_VALUE_TRUNCATED: "truncated TLV value",
    lib.CV_SGX_E_OID_TRUNCATED: "truncated OID",
    lib.CV_SGX_E_NOT_SINGLE_SEQUENCE: "not a single SEQUENCE",
    lib.CV_SGX_E_TCB_SET: "TCB does not hold exactly the entries .2.1-.2.18",
    lib.CV_SGX_E_CPUSVN: "CPUSVN is not a 16-byte OCTET STRING",
}
_OCTETS = {1: 16, 3: 2, 4: 6, 6: 16}
#: Offsets of the byte fields and their sizes, in PckInfo order.
_SPANS = {
    "ppid_offset": 16,
    "cpu_svn_offset": 16,
    "pce_id_offset": 2,
    "fmspc_offset": 6,
    "platform_instance_id_offset": 16,
}


def _check_layout() -> None:
    if (
        ffi.sizeof("cv_sgxext_fields") != _LAYOUT.size
        or ffi.offsetof("cv_sgxext_fields", "tcb_components") != 8 * _AT["tcb_components[0]"] - 8
        or any(
            ffi.offsetof("cv_sgxext_fields", name) != 8 * (i - 1)
            for name, i in _AT.items()
            if i >= 2 and "[" not in name
        )
    ):
        raise ImportError("cocoverify._native: cv_sgxext_fields layout differs from the wrapper")


_check_layout()


def oid_text(value: bytes) -> str:
    """Dotted text of an OBJECT IDENTIFIER value the C walk checked (X.690 §8.19), as
    ``cocoverify._core.der.decode_oid`` writes it."""
    arcs: list[int] = []
    acc = 0
    for b in value:
        acc = (acc << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(acc)
            acc = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def _entry_oids(data: bytes) -> list[str]:
    """The OIDs of the top-level entries (for the entry-set message)."""
    src = ffi.from_buffer("uint8_t[]", data)
    n = int(lib.cv_sgxext_entry_oids(src, len(data), ffi.NULL, 0))
    if n < 0:
        raise ValueError("native SGX extension walk: entries not readable")
    buf = ffi.new("uint64_t[]", 2 * n + 1)
    lib.cv_sgxext_entry_oids(src, len(data), buf, n)
    return [oid_text(data[buf[2 * i] : buf[2 * i] + buf[2 * i + 1]]) for i in range(n)]


def _raise(v: tuple[int, ...], data: bytes) -> NoReturn:
    """ValueError with the message of the Python decoder for the error in the table."""
    status, code = v[0], v[1]
    what = _CONTEXT.get(v[_AT["err_context"]], "")
    off, length, tag, index = (
        v[_AT[k]] for k in ("err_offset", "err_length", "err_tag", "err_index")
    )
    if status == lib.CV_ERR_MALFORMED:
        if code in _FIXED:
            raise ValueError(_FIXED[code])
        if code == lib.CV_SGX_E_EXPECTED_INTEGER:
            raise ValueError(f"expected INTEGER, got tag {tag:#x}")
        if code == lib.CV_SGX_E_EXPECTED_OID:
            raise ValueError(f"expected OBJECT IDENTIFIER, got tag {tag:#x}")
        if code == lib.CV_SGX_E_NOT_SEQUENCE and what:
            raise ValueError(f"{what} is not a SEQUENCE")
        if code == lib.CV_SGX_E_ENTRY_NOT_PAIR and what:
            raise ValueError(f"{what}: entry is not SEQUENCE {{OID, value}}")
        if code == lib.CV_SGX_E_DUPLICATE_ENTRY and what:
            raise ValueError(f"{what}: duplicate entry {oid_text(data[off : off + length])}")
        if code == lib.CV_SGX_E_ENTRY_SET:
            raise ValueError(
                f"entries {sorted(_entry_oids(data))} are neither the 5 nor the 7 of the "
                "Intel SGX PCK Certificate Profile"
            )
        if code == lib.CV_SGX_E_OCTETS and index in _OCTETS:
            raise ValueError(
                f"{SGX_EXT_OID}.{index}: expected OCTET STRING of {_OCTETS[index]} bytes"
            )
        if code == lib.CV_SGX_E_SVN_RANGE and 1 <= index <= 17:
            name, top = ("PCESVN", 65535) if index == 17 else (f"TCB component {index}", 255)
            raise ValueError(f"{name}: not an INTEGER in 0..{top}")
        if code == lib.CV_SGX_E_SGX_TYPE:
            value = int.from_bytes(data[off : off + length], "big", signed=True)
            raise ValueError(f"SGX type {value} (ENUMERATED 0, 1 or 2)")
        if code == lib.CV_SGX_E_CONFIG_UNKNOWN:
            raise ValueError(f"Configuration: unknown entry {oid_text(data[off : off + length])}")
        if code == lib.CV_SGX_E_CONFIG_BOOLEAN and 1 <= index <= 3:
            raise ValueError(f"{SGX_EXT_OID}.7.{index}: expected BOOLEAN")
    # fail closed on anything this wrapper does not know
    raise ValueError(f"native SGX extension walk: status {status}, error {code}")


#: (ppid, tcb_components, pce_svn, cpu_svn, pce_id, fmspc, sgx_type, platform_instance_id,
#: dynamic_platform, cached_keys, smt_enabled): the PckInfo fields before ``ca``.
SgxFacts = tuple[
    bytes,
    tuple[int, ...],
    int,
    bytes,
    bytes,
    bytes,
    int,
    bytes | None,
    bool | None,
    bool | None,
    bool | None,
]

_I_ENTRIES, _I_PCE_SVN, _I_SGX_TYPE = _AT["entries"], _AT["pce_svn"], _AT["sgx_type"]
_I_FLAGS = _AT["dynamic_platform"]  # then cached_keys, smt_enabled
_SPAN_AT = operator.itemgetter(*(_AT[k] for k in _SPANS))


def facts_from_struct(o: Any, data: bytes) -> SgxFacts:
    """The facts from a filled ``cv_sgxext_fields`` (raises its error, if any)."""
    v = _LAYOUT.unpack(ffi.buffer(o))
    if v[0] != lib.CV_OK:
        _raise(v, data)
    entries = v[_I_ENTRIES]
    ppid, cpu, pce, fmspc, inst = _SPAN_AT(v)
    dynamic, cached, smt = v[_I_FLAGS : _I_FLAGS + 3]
    n = len(data)
    # never expected (C checked all of it): fail closed
    if (
        (entries != 5 and entries != 7)
        or ppid + 16 > n
        or cpu + 16 > n
        or pce + 2 > n
        or fmspc + 6 > n
        or inst + 16 > n
        or dynamic > 2
        or cached > 2
        or smt > 2
    ):
        raise ValueError("native SGX extension walk: a field lies outside the input")
    return (
        data[ppid : ppid + 16],
        v[_TCB],
        v[_I_PCE_SVN],
        data[cpu : cpu + 16],
        data[pce : pce + 2],
        data[fmspc : fmspc + 6],
        v[_I_SGX_TYPE],
        data[inst : inst + 16] if entries == 7 else None,
        _FLAGS[dynamic],
        _FLAGS[cached],
        _FLAGS[smt],
    )


def parse_sgx_extension(raw: bytes) -> SgxFacts:
    """(ppid, tcb_components, pce_svn, cpu_svn, pce_id, fmspc, sgx_type,
    platform_instance_id, dynamic_platform, cached_keys, smt_enabled) of the extension value
    ``raw``, decoded in C; ValueError with the Python decoder's message on any defect."""
    data = bytes(raw)
    out = ffi.new("cv_sgxext_fields *")
    lib.cv_sgxext_parse(ffi.from_buffer("uint8_t[]", data), len(data), out)
    return facts_from_struct(out, data)
