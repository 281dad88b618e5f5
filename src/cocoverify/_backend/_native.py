"""Wrapper of the native C core ``cocoverify._native`` (csrc/, docs/native.md).

C fills a flat field table (``cv_quote_fields``) that Python allocates; this module turns it
into the same ``QuoteFields`` the Python backend returns, and a C error code into the same
exception (class, reason, field, offset and message) the Python parser raises. Signatures
are checked in C through libcrypto (``csrc/cv_crypto.c``) with public keys made once per
point and kept in a bounded cache keyed by the point bytes. Every call into C is a plain C
call (no Python callbacks), so cffi runs it with the GIL released. Importing this module
raises ImportError when the extension is not built.
"""

from __future__ import annotations

import struct
import threading
from typing import Any, NoReturn

import cocoverify._native as _native  # type: ignore[import-not-found]
from cocoverify._backend._contract import QuoteFields
from cocoverify._backend.crypto import ecdsa_verify_python
from cocoverify.errors import EvidenceError, MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "C_POINT_SIZES",
    "FIELD_NAMES",
    "KEY_CACHE_SIZE",
    "crypto_version",
    "ecdsa_verify",
    "parse_and_verify_quote",
    "parse_quote_fields",
    "verify_in_c",
]

ffi: Any = _native.ffi
lib: Any = _native.lib

#: C field id (enum cv_dcap_field) -> the field name the Python parser uses.
FIELD_NAMES: dict[int, str] = {
    lib.CV_DCAP_F_HEADER: "header",
    lib.CV_DCAP_F_BODY_DESCRIPTOR_TYPE: "body_descriptor.type",
    lib.CV_DCAP_F_BODY_DESCRIPTOR_SIZE: "body_descriptor.size",
    lib.CV_DCAP_F_REPORT_BODY: "report_body",
    lib.CV_DCAP_F_REPORT_BODY_RESERVED: "report_body.reserved",
    lib.CV_DCAP_F_TD_REPORT: "td_report",
    lib.CV_DCAP_F_SIGNATURE_DATA_LENGTH: "signature_data_length",
    lib.CV_DCAP_F_SIGNATURE_DATA: "signature_data",
    lib.CV_DCAP_F_QUOTE_SIGNATURE: "quote_signature",
    lib.CV_DCAP_F_ATTESTATION_KEY: "attestation_key",
    lib.CV_DCAP_F_QE_REPORT: "qe_report",
    lib.CV_DCAP_F_QE_REPORT_RESERVED: "qe_report.reserved",
    lib.CV_DCAP_F_QE_REPORT_SIGNATURE: "qe_report_signature",
    lib.CV_DCAP_F_QE_AUTH_DATA_SIZE: "qe_auth_data.size",
    lib.CV_DCAP_F_QE_AUTH_DATA: "qe_auth_data",
    lib.CV_DCAP_F_CERT_DATA_TYPE: "certification_data.type",
    lib.CV_DCAP_F_CERT_DATA_SIZE: "certification_data.size",
    lib.CV_DCAP_F_CERT_DATA_DATA: "certification_data.data",
    lib.CV_DCAP_F_INNER_CERT_DATA_TYPE: "inner_certification_data.type",
    lib.CV_DCAP_F_INNER_CERT_DATA_SIZE: "inner_certification_data.size",
    lib.CV_DCAP_F_INNER_CERT_DATA_DATA: "inner_certification_data.data",
    lib.CV_DCAP_F_HEADER_VERSION: "header.version",
    lib.CV_DCAP_F_HEADER_KEY_TYPE: "header.attestation_key_type",
    lib.CV_DCAP_F_HEADER_TEE_TYPE: "header.tee_type",
    lib.CV_DCAP_F_CERT_DATA: "certification_data",
    lib.CV_DCAP_F_INNER_CERT_DATA: "inner_certification_data",
}

#: Fields read by the signature-data reader (the rest by the quote reader), for messages.
_SIG_DATA_FIELDS = frozenset(
    {"quote_signature", "attestation_key"}
    | {f for f in FIELD_NAMES.values() if f.startswith("certification_data.")}
)
_QE_FIELDS = frozenset({"qe_report", "qe_report_signature", "qe_auth_data.size", "qe_auth_data"})
_BODY_SIZES = {1: 384, 2: 584, 3: 648}

_TABLE = (
    "version",
    "attestation_key_type",
    "tee_type",
    "qe_svn",
    "pce_svn",
    "body_type",
    "body_offset",
    "body_size",
    "signed_end",
    "signature_data_size",
    "signature_offset",
    "attestation_key_offset",
    "qe_report_offset",
    "qe_report_signature_offset",
    "qe_auth_data_offset",
    "qe_auth_data_size",
    "certification_type",
    "certification_offset",
    "certification_data_offset",
    "certification_data_size",
    "length",
)


_HEAD = ("status", "err_field", "err_offset", "err_need", "err_have", "err_value")
#: cv_quote_fields is two ints then uint64_t only: one unpack reads the whole table.
_LAYOUT = struct.Struct("=ii" + "Q" * (len(_HEAD) - 2 + len(_TABLE)))


def _check_layout() -> None:
    if ffi.sizeof("cv_quote_fields") != _LAYOUT.size or any(
        ffi.offsetof("cv_quote_fields", name) != 8 * i
        for i, name in enumerate(_HEAD[1:] + _TABLE, start=0)
        if name != "err_field"
    ):
        raise ImportError("cocoverify._native: cv_quote_fields layout differs from the wrapper")


_check_layout()


def _reader_name(field: str, version: int) -> str:
    """The ``what`` of the Python Reader that reads ``field`` (message parity)."""
    if field.startswith("inner_certification_data.") or (field in _QE_FIELDS and version != 3):
        return "QE report certification data"
    if field in _SIG_DATA_FIELDS or field in _QE_FIELDS:
        return "quote signature data"
    return "quote"


def _raise(o: Any) -> NoReturn:
    """The exception the Python parser raises for the error recorded in ``o``."""
    status = int(o.status)
    field = FIELD_NAMES.get(int(o.err_field), "")
    offset = int(o.err_offset)
    value = int(o.err_value)
    if status == lib.CV_ERR_TRUNCATED:
        raise MalformedEvidence(
            f"{_reader_name(field, int(o.version))}: {field} needs {int(o.err_need)} bytes, "
            f"{int(o.err_have)} remain",
            field=field,
            offset=offset,
            reason=Reason.TRUNCATED,
        )
    if status == lib.CV_ERR_RESERVED_NONZERO:
        raise MalformedEvidence(
            f"{field.removesuffix('.reserved')}: reserved bytes are not zero",
            field=field,
            offset=offset,
            reason=Reason.RESERVED_NONZERO,
        )
    if status == lib.CV_ERR_MALFORMED:
        if field == "body_descriptor.size":
            bt = int(o.body_type)
            msg = f"body size {value}, type {bt} needs {_BODY_SIZES.get(bt, 0)}"
        elif field == "certification_data.size":
            msg = f"{value} bytes after the inner certification data"
        else:
            msg = f"{value} unparsed bytes inside the signature data"
        raise MalformedEvidence(msg, field=field, offset=offset, reason=Reason.MALFORMED)
    if status == lib.CV_ERR_UNSUPPORTED_VERSION:
        msg = (
            f"quote v5 body type {value}" if field.startswith("body") else f"quote version {value}"
        )
        raise UnsupportedEvidence(msg, reason=Reason.UNSUPPORTED_VERSION)
    if status == lib.CV_ERR_UNSUPPORTED_KEY_TYPE:
        raise UnsupportedEvidence(
            f"attestation key type {value} (only 2, ECDSA P-256, is supported)",
            reason=Reason.UNSUPPORTED_KEY_TYPE,
        )
    if status == lib.CV_ERR_UNSUPPORTED_TEE_TYPE:
        if field.startswith("body"):
            msg = f"body type {value} does not fit TEE type {int(o.tee_type):#x}"
        elif value in (0, 0x81):
            msg = "quote v3 with a TDX TEE type"
        else:
            msg = f"TEE type {value:#010x}"
        raise UnsupportedEvidence(msg, reason=Reason.UNSUPPORTED_TEE_TYPE)
    if status == lib.CV_ERR_UNSUPPORTED_CERTIFICATION_DATA:
        if field == "inner_certification_data":
            msg = f"inner certification data type {value}"
        elif int(o.version) == 3:
            msg = f"certification data type {value} in a v3 quote"
        else:
            msg = f"outer certification data type {value} (v4/v5 need 6)"
        raise UnsupportedEvidence(msg, reason=Reason.UNSUPPORTED_CERTIFICATION_DATA)
    # fail closed on anything this wrapper does not know
    raise EvidenceError(f"native parser status {status}", reason=Reason.MALFORMED)


def _check_table(f: QuoteFields, size: int) -> None:
    """Fail closed if the C table does not describe bytes that exist (never expected)."""
    end = f.length
    if (
        end > size
        or f.body_offset + f.body_size != f.signed_end
        or f.signed_end + 4 + f.signature_data_size != end
        or f.signature_offset + 64 > end
        or f.attestation_key_offset + 64 > end
        or f.qe_report_offset + 384 > end
        or f.qe_report_signature_offset + 64 > end
        or f.qe_auth_data_offset + f.qe_auth_data_size > end
        or f.certification_data_offset + f.certification_data_size > end
    ):
        raise EvidenceError(
            "native parser returned a field table outside the input", reason=Reason.MALFORMED
        )


def fields_from_struct(o: Any, size: int) -> QuoteFields:
    """A ``QuoteFields`` from a filled ``cv_quote_fields`` (raises its error, if any)."""
    values = _LAYOUT.unpack(ffi.buffer(o))
    if values[0] != lib.CV_OK:
        _raise(o)
    f = QuoteFields._make(values[len(_HEAD) :])
    _check_table(f, size)
    return f


def parse_quote_fields(data: bytes) -> QuoteFields:
    """Check a DCAP quote in C (csrc/cv_dcap.c); the field table, or the parser's error."""
    out = ffi.new("cv_quote_fields *")
    lib.cv_dcap_parse(ffi.from_buffer("uint8_t[]", data), len(data), out)
    return fields_from_struct(out, len(data))


# --- signatures (csrc/cv_crypto.c) -------------------------------------------------------

#: Public keys kept (point bytes -> ``cv_ec_key``, about 3 KB each in libcrypto 3.0: at most
#: ~3 MB). When full, the oldest entry is dropped, except that a key holding a P-256 table
#: (at most 16, each ~15 ms to build: docs/native.md) goes to the back instead, so keys that
#: come and go (new platforms) do not cost a hot key its table. A dropped key is freed
#: (``ffi.gc``) once no call still uses it. Points libcrypto refuses are kept too, as ffi.NULL.
KEY_CACHE_SIZE = 1024
#: libcrypto from which P-384 is verified in C: OpenSSL 3.0 and 3.1 have no 64-bit P-384 code
#: (crypto/ec/ecp_nistp384.c), and P-384 measured 1.35x slower there than through
#: ``cryptography``'s own OpenSSL (docs/native.md), which also runs without the GIL.
P384_MIN_LIBCRYPTO = 0x30200000
#: Raw point sizes ``ecdsa_verify`` checks in C; any other size goes to the Python
#: implementation (the same answers, tests/_backend/test_crypto_parity.py).
C_POINT_SIZES = frozenset(
    {64, 132} | ({96} if lib.cv_crypto_version_num() >= P384_MIN_LIBCRYPTO else set())
)
_keys: dict[bytes, Any] = {}
_keys_lock = threading.Lock()


def _remember(point: bytes, key: Any) -> None:
    with _keys_lock:
        if point not in _keys:
            while len(_keys) >= KEY_CACHE_SIZE:
                _drop_one()
            _keys[point] = key


def _drop_one() -> None:
    """Drop the oldest key without a table; keys with one move to the back (bounded: at most
    ``lib.cv_ec_tables()`` of them, so this looks at no more than that many plus one)."""
    for _ in range(len(_keys)):
        oldest = next(iter(_keys))
        key = _keys.pop(oldest)
        if key == ffi.NULL or not lib.cv_ec_key_precomputed(key):
            return
        _keys[oldest] = key
    _keys.pop(next(iter(_keys)))  # every key kept has a table (a cache smaller than 16)


def _owned(raw: Any) -> Any:
    """A key returned by C, freed when the last reference goes; ffi.NULL stays ffi.NULL."""
    return ffi.gc(raw, lib.cv_ec_key_free) if raw != ffi.NULL else ffi.NULL


def _key(point: bytes) -> Any:
    """The cached key for ``point``; ffi.NULL (also cached) for a point libcrypto refuses."""
    key = _keys.get(point)
    if key is None:
        key = _owned(lib.cv_ec_key_new(point, len(point)))
        _remember(point, key)
    return key


def ecdsa_verify(
    point: bytes, message: bytes, signature: bytes, *, little_endian: bool = False
) -> bool:
    """``ecdsa_verify_python`` in one C call (same answers) for the point sizes in
    ``C_POINT_SIZES``; other sizes go to ``ecdsa_verify_python`` itself."""
    if len(point) not in C_POINT_SIZES:
        return ecdsa_verify_python(point, message, signature, little_endian=little_endian)
    return verify_in_c(point, message, signature, little_endian=little_endian)


def verify_in_c(
    point: bytes, message: bytes, signature: bytes, *, little_endian: bool = False
) -> bool:
    """``cv_ecdsa_verify_key`` with the cached key of ``point``, whatever its size."""
    key = _key(point if type(point) is bytes else bytes(point))
    return bool(
        lib.cv_ecdsa_verify_key(
            key,
            message if type(message) is bytes else ffi.from_buffer("uint8_t[]", message),
            len(message),
            signature if type(signature) is bytes else ffi.from_buffer("uint8_t[]", signature),
            len(signature),
            1 if little_endian else 0,
        )
        == lib.CV_SIG_OK
    )


def _attestation_key_at(data: bytes) -> int:
    """Where the attestation key of a well-formed quote starts (0 when the header says
    nothing): only a cache hint, C compares the cached key's point with the parsed one."""
    if len(data) < 54:
        return 0
    version = data[0] | data[1] << 8
    if version == 5:
        start, body = 54, _BODY_SIZES.get(data[48] | data[49] << 8, 0)
    elif version in (3, 4):
        start, body = 48, 384 if data[4:8] == b"\0\0\0\0" else 584
    else:
        return 0
    return start + body + 4 + 64 if body else 0


def parse_and_verify_quote(data: bytes) -> tuple[QuoteFields, bool]:
    """``cv_dcap_parse_verify``: the field table (or the parser's error, as
    ``parse_quote_fields``) and whether the quote signature verifies with the attestation
    key in the quote, in one C call."""
    at = _attestation_key_at(data)
    point = bytes(data[at : at + 64]) if at else b""
    hint = _keys.get(point, ffi.NULL) if len(point) == 64 else ffi.NULL
    out = ffi.new("cv_quote_fields *")
    verdict = ffi.new("int *")
    made = ffi.new("cv_ec_key **")
    buf = data if type(data) is bytes else ffi.from_buffer("uint8_t[]", data)
    lib.cv_dcap_parse_verify(buf, len(data), hint, out, verdict, made)
    if made[0] != ffi.NULL:
        key = _owned(made[0])
        ak = int(out.attestation_key_offset)
        _remember(bytes(data[ak : ak + 64]), key)
    fields = fields_from_struct(out, len(data))
    return fields, verdict[0] == lib.CV_SIG_OK


def crypto_version() -> str:
    """The libcrypto the native core runs on (``OpenSSL_version``)."""
    return str(ffi.string(lib.cv_crypto_version()).decode("ascii", "replace"))
