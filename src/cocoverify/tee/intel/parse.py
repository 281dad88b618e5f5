"""Intel DCAP quotes v3/v4/v5 (SGX and TDX) into frozen views.

Layout: QVL ``QuoteStructures.h``, ``QuoteConstants.h`` and ``Quote.cpp``, go-tdx-guest
``abi/abi.go``.
All integers little-endian. Bytes after the quote (after the signature data) are ignored, as
QVL does (it only requires ``sig_data_len <= remaining``): real TDX quotes arrive zero-padded
to 8000 bytes and go-tdx-guest's sample carries a text trailer (docs/intel.md). They are
not signed; ``Quote.trailing`` counts them and the pipeline reports a warning.

Two backends run the same checks (docs/native.md): ``_parse_fields_python`` below and the C
core ``csrc/cv_dcap.c``. Both return a ``QuoteFields`` table; ``quote_from_fields`` builds the
view from it for both. The views of the header and of the QE report, the same for every quote
of a platform, are kept by their bytes (``HEADERS``, ``QE_REPORT_VIEWS``: 1024 each).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from cocoverify import _backend
from cocoverify._backend._contract import QuoteFields
from cocoverify._core.reader import Reader
from cocoverify.errors import ConfigurationError, MalformedEvidence, Reason, UnsupportedEvidence
from cocoverify.tee.intel.cache import Memo

__all__ = [
    "HEADER_SIZE",
    "INTEL_QE_VENDOR_ID",
    "CertificationData",
    "Quote",
    "QuoteHeader",
    "SgxReportBody",
    "TdReportBody",
    "looks_like",
    "parse_and_verify_quote",
    "parse_quote",
    "parse_quote_fields",
    "quote_from_fields",
]

HEADER_SIZE = 48
SGX_REPORT_SIZE = 384
TD10_SIZE = 584
TD15_SIZE = 648
TEE_SGX = 0x00000000
TEE_TDX = 0x00000081
ATT_KEY_ECDSA_P256 = 2
#: Intel's QE vendor ID (QVL ``QuoteConstants.h``).
INTEL_QE_VENDOR_ID = bytes.fromhex("939A7233F79C4CA9940A0DB3957F0607")

#: v5 body descriptor types (QVL ``QuoteStructures.h``).
BODY_SGX, BODY_TD10, BODY_TD15 = 1, 2, 3
_BODY_SIZES = {BODY_SGX: SGX_REPORT_SIZE, BODY_TD10: TD10_SIZE, BODY_TD15: TD15_SIZE}

#: SGX report body reserved ranges (QVL ``QuoteStructures.h``): offset, size.
_SGX_RESERVED = ((20, 12), (96, 32), (160, 32), (262, 42))


@dataclass(frozen=True, slots=True)
class QuoteHeader:
    """Quote header, 48 bytes (QVL ``QuoteStructures.h``)."""

    version: int
    attestation_key_type: int
    tee_type: int
    qe_svn: int
    pce_svn: int
    qe_vendor_id: bytes
    user_data: bytes


@dataclass(frozen=True, slots=True)
class SgxReportBody:
    """SGX report body, 384 bytes; also the QE report layout (QVL ``QuoteStructures.h``)."""

    cpu_svn: bytes
    misc_select: int
    isv_ext_prod_id: bytes
    attributes: bytes
    mr_enclave: bytes
    mr_signer: bytes
    config_id: bytes
    isv_prod_id: int
    isv_svn: int
    config_svn: int
    isv_family_id: bytes
    report_data: bytes
    raw: bytes

    @property
    def flags(self) -> int:
        """ATTRIBUTES.FLAGS (u64)."""
        return int.from_bytes(self.attributes[:8], "little")

    @property
    def xfrm(self) -> bytes:
        """ATTRIBUTES.XFRM (8 bytes)."""
        return self.attributes[8:]


@dataclass(frozen=True, slots=True)
class TdReportBody:
    """TD report body TD10 (584 bytes) or TD15 (648 bytes) (QVL ``QuoteStructures.h``)."""

    tee_tcb_svn: bytes
    mr_seam: bytes
    mr_signer_seam: bytes
    seam_attributes: bytes
    td_attributes: bytes
    xfam: bytes
    mr_td: bytes
    mr_config_id: bytes
    mr_owner: bytes
    mr_owner_config: bytes
    rtmrs: tuple[bytes, bytes, bytes, bytes]
    report_data: bytes
    tee_tcb_svn2: bytes | None
    mr_service_td: bytes | None
    raw: bytes


@dataclass(frozen=True, slots=True)
class CertificationData:
    """Certification data: type and payload (QVL ``QuoteStructures.h``)."""

    type: int
    data: bytes
    offset: int


@dataclass(frozen=True, slots=True)
class Quote:
    """A parsed quote. ``qe_*`` come from the flat v3 layout or from type-6 data (v4/v5)."""

    header: QuoteHeader
    body_type: int
    body: SgxReportBody | TdReportBody
    signed_region: bytes
    signature: bytes
    attestation_key: bytes
    qe_report: SgxReportBody
    qe_report_signature: bytes
    qe_auth_data: bytes
    certification: CertificationData
    length: int
    trailing: int

    @property
    def tee(self) -> str:
        """``"sgx"`` or ``"tdx"``."""
        return "tdx" if self.header.tee_type == TEE_TDX else "sgx"

    @property
    def report_data_offset(self) -> int:
        """Absolute offset of REPORTDATA in the quote."""
        start = HEADER_SIZE + (6 if self.header.version == 5 else 0)
        return start + (320 if isinstance(self.body, SgxReportBody) else 520)


def _check_sgx_reserved(raw: bytes, start: int, field: str) -> None:
    for off, size in _SGX_RESERVED:
        if any(raw[off : off + size]):
            raise MalformedEvidence(
                f"{field}: reserved bytes are not zero",
                field=f"{field}.reserved",
                offset=start + off,
                reason=Reason.RESERVED_NONZERO,
            )


def _take_sgx_report(r: Reader, field: str) -> int:
    """Consume an SGX report body, check its reserved ranges; return its offset."""
    start = r.offset()
    raw = r.take(SGX_REPORT_SIZE, field)
    _check_sgx_reserved(raw, start, field)
    return start


def _sgx_report_from_raw(raw: bytes) -> SgxReportBody:
    return SgxReportBody(
        cpu_svn=raw[0:16],
        misc_select=int.from_bytes(raw[16:20], "little"),
        isv_ext_prod_id=raw[32:48],
        attributes=raw[48:64],
        mr_enclave=raw[64:96],
        mr_signer=raw[128:160],
        config_id=raw[192:256],
        isv_prod_id=int.from_bytes(raw[256:258], "little"),
        isv_svn=int.from_bytes(raw[258:260], "little"),
        config_svn=int.from_bytes(raw[260:262], "little"),
        isv_family_id=raw[304:320],
        report_data=raw[320:384],
        raw=raw,
    )


def _td_report_from_raw(raw: bytes) -> TdReportBody:
    td15 = len(raw) == TD15_SIZE
    return TdReportBody(
        tee_tcb_svn=raw[0:16],
        mr_seam=raw[16:64],
        mr_signer_seam=raw[64:112],
        seam_attributes=raw[112:120],
        td_attributes=raw[120:128],
        xfam=raw[128:136],
        mr_td=raw[136:184],
        mr_config_id=raw[184:232],
        mr_owner=raw[232:280],
        mr_owner_config=raw[280:328],
        rtmrs=(raw[328:376], raw[376:424], raw[424:472], raw[472:520]),
        report_data=raw[520:584],
        tee_tcb_svn2=raw[584:600] if td15 else None,
        mr_service_td=raw[600:648] if td15 else None,
        raw=raw,
    )


def _parse_header(r: Reader) -> QuoteHeader:
    raw = r.take(HEADER_SIZE, "header")
    h = QuoteHeader(
        version=int.from_bytes(raw[0:2], "little"),
        attestation_key_type=int.from_bytes(raw[2:4], "little"),
        tee_type=int.from_bytes(raw[4:8], "little"),
        qe_svn=int.from_bytes(raw[8:10], "little"),
        pce_svn=int.from_bytes(raw[10:12], "little"),
        qe_vendor_id=raw[12:28],
        user_data=raw[28:48],
    )
    # QVL Quote::validate: version, key type, TEE type
    if h.version not in (3, 4, 5):
        raise UnsupportedEvidence(f"quote version {h.version}", reason=Reason.UNSUPPORTED_VERSION)
    if h.attestation_key_type != ATT_KEY_ECDSA_P256:
        raise UnsupportedEvidence(
            f"attestation key type {h.attestation_key_type} (only 2, ECDSA P-256, is supported)",
            reason=Reason.UNSUPPORTED_KEY_TYPE,
        )
    if h.tee_type not in (TEE_SGX, TEE_TDX):
        raise UnsupportedEvidence(
            f"TEE type {h.tee_type:#010x}", reason=Reason.UNSUPPORTED_TEE_TYPE
        )
    if h.version == 3 and h.tee_type != TEE_SGX:
        raise UnsupportedEvidence(
            "quote v3 with a TDX TEE type", reason=Reason.UNSUPPORTED_TEE_TYPE
        )
    return h


class _QeSection(NamedTuple):
    """Absolute offsets and sizes of the QE section of the signature data."""

    report: int
    signature: int
    auth_data: int
    auth_data_size: int
    certification: int  # the certification data's type field
    certification_type: int
    certification_data: int
    certification_data_size: int


def _parse_qe_section(r: Reader, cert_field: str, unsupported: str) -> _QeSection:
    """QE report, its signature, the QE auth data and the certification data that carries
    the PCK material (types 1-5): flat in v3, inside type-6 certification data in v4/v5
    (QVL ``QuoteStructures.h``, ``Quote::validate``). ``unsupported`` formats the message for
    another certification data type."""
    qe_offset = _take_sgx_report(r, "qe_report")
    qe_sig_offset = r.offset()
    r.take(64, "qe_report_signature")
    auth_len = r.u16("qe_auth_data.size")
    auth_offset = r.offset()
    r.take(auth_len, "qe_auth_data")
    cert = _parse_cert_data(r, cert_field)
    if not 1 <= cert[1] <= 5:
        raise UnsupportedEvidence(
            unsupported.format(cert[1]), reason=Reason.UNSUPPORTED_CERTIFICATION_DATA
        )
    return _QeSection(qe_offset, qe_sig_offset, auth_offset, auth_len, *cert)


def _parse_cert_data(r: Reader, field: str) -> tuple[int, int, int, int]:
    """(offset, type, data offset, data size) of certification data (QVL ``QuoteStructures.h``)."""
    offset = r.offset()
    ctype = r.u16(f"{field}.type")
    size = r.u32(f"{field}.size")
    data_offset = r.offset()
    r.take(size, f"{field}.data")
    return offset, ctype, data_offset, size


def _parse_fields_python(data: bytes) -> QuoteFields:
    """The pure-Python backend: every check, in order; returns the field table."""
    r = Reader(data, what="quote")
    header = _parse_header(r)
    # body: v5 starts with a body descriptor (QVL Quote.cpp)
    if header.version == 5:
        body_type = r.u16("body_descriptor.type")
        body_size = r.u32("body_descriptor.size")
        if body_type not in _BODY_SIZES:
            raise UnsupportedEvidence(
                f"quote v5 body type {body_type}", reason=Reason.UNSUPPORTED_VERSION
            )
        if (body_type == BODY_SGX) != (header.tee_type == TEE_SGX):
            raise UnsupportedEvidence(
                f"body type {body_type} does not fit TEE type {header.tee_type:#x}",
                reason=Reason.UNSUPPORTED_TEE_TYPE,
            )
        if body_size != _BODY_SIZES[body_type]:
            raise MalformedEvidence(
                f"body size {body_size}, type {body_type} needs {_BODY_SIZES[body_type]}",
                field="body_descriptor.size",
                offset=50,
                reason=Reason.MALFORMED,
            )
    else:
        body_type = BODY_SGX if header.tee_type == TEE_SGX else BODY_TD10
    if body_type == BODY_SGX:
        body_offset = _take_sgx_report(r, "report_body")
    else:
        body_offset = r.offset()
        r.take(_BODY_SIZES[body_type], "td_report")
    signed_end = r.pos
    # signature data (QVL QuoteStructures.h)
    sig_len = r.u32("signature_data_length")
    sig = r.sub(sig_len, "signature_data", what="quote signature data")
    signature_offset = sig.offset()
    sig.take(64, "quote_signature")
    att_key_offset = sig.offset()
    sig.take(64, "attestation_key")
    if header.version == 3:
        qe = _parse_qe_section(
            sig, "certification_data", "certification data type {} in a v3 quote"
        )
    else:
        outer = _parse_cert_data(sig, "certification_data")
        if outer[1] != 6:
            raise UnsupportedEvidence(
                f"outer certification data type {outer[1]} (v4/v5 need 6)",
                reason=Reason.UNSUPPORTED_CERTIFICATION_DATA,
            )
        inner = Reader(
            data,
            start=outer[2],
            end=outer[2] + outer[3],
            what="QE report certification data",
        )
        qe = _parse_qe_section(
            inner, "inner_certification_data", "inner certification data type {}"
        )
        if inner.remaining:
            raise MalformedEvidence(
                f"{inner.remaining} bytes after the inner certification data",
                field="certification_data.size",
                offset=outer[0] + 2,
                reason=Reason.MALFORMED,
            )
    if sig.remaining:
        # QVL verifyCertificationData: declared sizes must agree with the parsed ones
        raise MalformedEvidence(
            f"{sig.remaining} unparsed bytes inside the signature data",
            field="signature_data_length",
            offset=signed_end,
            reason=Reason.MALFORMED,
        )
    return QuoteFields(
        version=header.version,
        attestation_key_type=header.attestation_key_type,
        tee_type=header.tee_type,
        qe_svn=header.qe_svn,
        pce_svn=header.pce_svn,
        body_type=body_type,
        body_offset=body_offset,
        body_size=_BODY_SIZES[body_type],
        signed_end=signed_end,
        signature_data_size=sig_len,
        signature_offset=signature_offset,
        attestation_key_offset=att_key_offset,
        qe_report_offset=qe.report,
        qe_report_signature_offset=qe.signature,
        qe_auth_data_offset=qe.auth_data,
        qe_auth_data_size=qe.auth_data_size,
        certification_type=qe.certification_type,
        certification_offset=qe.certification,
        certification_data_offset=qe.certification_data,
        certification_data_size=qe.certification_data_size,
        length=r.pos,
    )


#: Header bytes -> QuoteHeader; QE report bytes -> its view (immutable, pure): 1024 each.
HEADERS: Memo[bytes, QuoteHeader] = Memo("intel-quote-headers", 1024)
QE_REPORT_VIEWS: Memo[bytes, SgxReportBody] = Memo("intel-qe-report-views", 1024)


def quote_from_fields(data: bytes, f: QuoteFields) -> Quote:
    """The frozen view of a quote from its field table (shared by both backends)."""
    raw = data[f.body_offset : f.body_offset + f.body_size]
    body = _sgx_report_from_raw(raw) if f.body_type == BODY_SGX else _td_report_from_raw(raw)
    qe = f.qe_report_offset
    cd = f.certification_data_offset
    head = data[:HEADER_SIZE]
    header = HEADERS.get(head)
    if header is None:
        header = HEADERS.put(
            head,
            QuoteHeader(
                version=f.version,
                attestation_key_type=f.attestation_key_type,
                tee_type=f.tee_type,
                qe_svn=f.qe_svn,
                pce_svn=f.pce_svn,
                qe_vendor_id=data[12:28],
                user_data=data[28:48],
            ),
        )
    qe_raw = data[qe : qe + SGX_REPORT_SIZE]
    qe_report = QE_REPORT_VIEWS.get(qe_raw)
    if qe_report is None:
        qe_report = QE_REPORT_VIEWS.put(qe_raw, _sgx_report_from_raw(qe_raw))
    return Quote(
        header=header,
        body_type=f.body_type,
        body=body,
        signed_region=data[: f.signed_end],
        signature=data[f.signature_offset : f.signature_offset + 64],
        attestation_key=data[f.attestation_key_offset : f.attestation_key_offset + 64],
        qe_report=qe_report,
        qe_report_signature=data[f.qe_report_signature_offset : f.qe_report_signature_offset + 64],
        qe_auth_data=data[f.qe_auth_data_offset : f.qe_auth_data_offset + f.qe_auth_data_size],
        certification=CertificationData(
            type=f.certification_type,
            data=data[cd : cd + f.certification_data_size],
            offset=f.certification_offset,
        ),
        length=f.length,
        trailing=len(data) - f.length,
    )


def parse_quote_fields(data: bytes, *, backend: str | None = None) -> QuoteFields:
    """Check a DCAP quote and return its field table. Raises EvidenceError subclasses.

    ``backend`` (``"python"`` or ``"native"``) is for tests and benchmarks only; the default
    is the one selected at import (``cocoverify._backend``, ``COCOVERIFY_BACKEND``).
    """
    which = backend if backend is not None else _backend.backend_for("intel-quote")
    if which == "python":
        return _parse_fields_python(data)
    if which == "native":
        # optional: the native extension, ImportError when it is not built
        from cocoverify._backend import _native

        return _native.parse_quote_fields(data)
    raise ConfigurationError(
        f"parser backend {which!r}: use python or native", reason=Reason.INVALID_CONFIGURATION
    )


def parse_quote(data: bytes, *, backend: str | None = None) -> Quote:
    """Parse and length-check a DCAP quote. Raises EvidenceError subclasses.

    Both backends run the same checks in the same order and name the same field and offset
    in errors (tests/_backend/test_parity.py). ``backend`` is a test hook, see
    ``parse_quote_fields``.
    """
    return quote_from_fields(data, parse_quote_fields(data, backend=backend))


def parse_and_verify_quote(data: bytes) -> tuple[Quote, bool]:
    """``parse_quote`` and whether the quote signature verifies with the attestation key in
    the quote (False too for a key that is not a P-256 point), in one step: one C call with
    the GIL released on the native backend (``cocoverify._backend.parse_and_verify_quote``).
    Raises exactly what ``parse_quote`` raises."""
    fields, signature_valid = _backend.parse_and_verify_quote(data, _parse_fields_python)
    return quote_from_fields(data, fields), signature_valid


def looks_like(data: bytes) -> bool:
    """A DCAP quote header: version 3..5 with a non-zero attestation key type;
    an unknown version with an Intel key type and TEE type is still an Intel quote."""
    if len(data) < 8:
        return False
    version = int.from_bytes(data[0:2], "little")
    key_type = int.from_bytes(data[2:4], "little")
    tee_type = int.from_bytes(data[4:8], "little")
    return (version in (3, 4, 5) and key_type != 0) or (
        key_type in (2, 3) and tee_type in (0, 0x81) and version > 5
    )
