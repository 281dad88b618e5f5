"""TEST ONLY. :class:`QuoteBuilder`: SGX v3, TDX v4 and v5 (body types 1/2/3) DCAP quotes.

The signature data follows QVL ``QuoteStructures.h`` / ``Quote.cpp``: ECDSA P-256 quote
signature by the attestation key, QE report signed by the PCK leaf key, QE REPORTDATA =
SHA-256(attestation key || QE auth data) || 32 zero bytes, certification data type 5 (PEM
chain), nested in type 6 for v4/v5.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization

from cocoverify_testing.intel.collateral import QE_MRSIGNER, TD_QE_MRSIGNER
from cocoverify_testing.intel.layout import (
    BODY_LAYOUTS,
    BODY_TYPE_KIND,
    HEADER_FIELDS,
    INTEL_QE_VENDOR_ID,
    BuiltQuote,
    Field,
    as_field_bytes,
    encode_body,
    sgx_body_defaults,
    td_body_defaults,
)
from cocoverify_testing.intel.pck import PckSpec, sgx_pck, tdx_pck
from cocoverify_testing.intel.pki import FakeIntelPKI
from cocoverify_testing.pki import fill, pem, sign_ecdsa_raw

__all__ = ["QuoteBuilder"]


@dataclass(frozen=True)
class _QuoteSpec:
    tee: str  # "sgx" or "tdx"
    version: int
    body_type: int | None = None  # v5 descriptor type
    body_size: int | None = None  # v5 descriptor size override
    key_type: int = 2
    tee_type: int | None = None
    qe_svn: int | None = None
    pce_svn: int | None = None
    qe_vendor_id: bytes = INTEL_QE_VENDOR_ID
    user_data: bytes = field(default_factory=lambda: fill("qe-user-data", 20))
    body: tuple[tuple[str, bytes | int], ...] = ()
    qe_report: tuple[tuple[str, bytes | int], ...] = ()
    qe_report_data: bytes | None = None
    qe_auth_data: bytes = bytes(range(32))
    pck: PckSpec | None = None
    attest_key: str = "intel-attestation-key"
    qe_report_signer: str | None = None
    cert_type: int = 5
    cert_data: bytes | None = None
    outer_cert_type: int = 6
    der_chain: bool = False
    nul_terminator: bool = True
    sig_data_len_delta: int = 0
    mutations: tuple[tuple[int, bytes], ...] = ()
    xors: tuple[tuple[int, int], ...] = ()
    truncate_to: int | None = None
    pad_to: int | None = None
    trailing: bytes = b""


class QuoteBuilder:
    """Fluent, immutable builder of DCAP quotes (TEST ONLY).

    ``QuoteBuilder.sgx()`` (v3), ``QuoteBuilder.tdx()`` (v4),
    ``QuoteBuilder.tdx(version=5, body_type=3)`` (TD15), ``QuoteBuilder.sgx(version=5)``.
    Every setter returns a new builder; a later call of the same setter wins, so negative
    cases derive from one base builder. ``.sign(pki)`` builds: the QE report is signed by
    the PCK leaf key, its REPORTDATA binds the attestation key and QE auth data, and the
    quote is signed by the attestation key. Defects (``mutate``, ``flip``, ``truncate``,
    ``pad``, ``append``) apply after signing.
    """

    __slots__ = ("_spec",)

    def __init__(self, spec: _QuoteSpec) -> None:
        self._spec = spec

    @classmethod
    def sgx(cls, *, version: int = 3) -> QuoteBuilder:
        """An SGX quote (v3, or v5 with body type 1)."""
        return cls(_QuoteSpec(tee="sgx", version=version, body_type=1 if version == 5 else None))

    @classmethod
    def tdx(cls, *, version: int = 4, body_type: int = 2) -> QuoteBuilder:
        """A TDX quote (v4 TD10, or v5 with body type 2 = TD10 or 3 = TD15)."""
        return cls(
            _QuoteSpec(tee="tdx", version=version, body_type=body_type if version == 5 else None)
        )

    def _with(self, **changes: Any) -> QuoteBuilder:
        return QuoteBuilder(replace(self._spec, **changes))

    # --- derived facts
    @property
    def tee(self) -> str:
        """``sgx`` or ``tdx``."""
        return self._spec.tee

    @property
    def body_kind(self) -> str:
        """``sgx``, ``td10`` or ``td15``: the body layout that is written."""
        s = self._spec
        if s.version == 5 and s.body_type is not None and s.body_type in BODY_TYPE_KIND:
            return BODY_TYPE_KIND[s.body_type]
        return "sgx" if s.tee == "sgx" else "td10"

    @property
    def pck_spec(self) -> PckSpec:
        """The PCK leaf this quote carries."""
        if self._spec.pck is not None:
            return self._spec.pck
        return sgx_pck() if self._spec.tee == "sgx" else tdx_pck()

    # --- header
    def version(self, v: int) -> QuoteBuilder:
        """Header version."""
        return self._with(version=v)

    def key_type(self, v: int) -> QuoteBuilder:
        """Attestation key type (2 = ECDSA P-256)."""
        return self._with(key_type=v)

    def tee_type(self, v: int) -> QuoteBuilder:
        """TEE type (0 SGX, 0x81 TDX); default follows the builder."""
        return self._with(tee_type=v)

    def qe_svn(self, v: int) -> QuoteBuilder:
        """Header QE SVN (informational)."""
        return self._with(qe_svn=v)

    def pce_svn(self, v: int) -> QuoteBuilder:
        """Header PCE SVN (informational)."""
        return self._with(pce_svn=v)

    def qe_vendor_id(self, v: bytes) -> QuoteBuilder:
        """QE vendor ID (16 bytes)."""
        return self._with(qe_vendor_id=bytes(v))

    def user_data(self, v: bytes) -> QuoteBuilder:
        """Header user data (20 bytes)."""
        return self._with(user_data=bytes(v))

    def body_type(self, v: int, *, size: int | None = None) -> QuoteBuilder:
        """v5 body descriptor type (and optionally a size that disagrees with it)."""
        return self._with(body_type=v, body_size=size)

    # --- body
    def body_field(self, name: str, value: bytes | int) -> QuoteBuilder:
        """Any body field by name (ints are little-endian of the field size)."""
        as_field_bytes(self.body_kind, name, value)
        return self._with(body=(*self._spec.body, (name, value)))

    def report_data(self, v: bytes) -> QuoteBuilder:
        """REPORTDATA (64 bytes; shorter values are zero-padded)."""
        return self.body_field("report_data", bytes(v).ljust(64, b"\x00"))

    def cpusvn(self, v: bytes) -> QuoteBuilder:
        """SGX CPUSVN."""
        return self.body_field("cpusvn", v)

    def miscselect(self, v: int) -> QuoteBuilder:
        """SGX MISCSELECT."""
        return self.body_field("miscselect", v)

    def attributes(self, flags: int, xfrm: int = 0x03) -> QuoteBuilder:
        """SGX ATTRIBUTES (flags u64, XFRM u64)."""
        return self.body_field(
            "attributes", flags.to_bytes(8, "little") + xfrm.to_bytes(8, "little")
        )

    def mr_enclave(self, v: bytes) -> QuoteBuilder:
        """SGX MRENCLAVE."""
        return self.body_field("mr_enclave", v)

    def mr_signer(self, v: bytes) -> QuoteBuilder:
        """SGX MRSIGNER."""
        return self.body_field("mr_signer", v)

    def isv_prod_id(self, v: int) -> QuoteBuilder:
        """SGX ISVPRODID."""
        return self.body_field("isv_prod_id", v)

    def isv_svn(self, v: int) -> QuoteBuilder:
        """SGX ISVSVN."""
        return self.body_field("isv_svn", v)

    def config_id(self, v: bytes) -> QuoteBuilder:
        """SGX CONFIGID (KSS)."""
        return self.body_field("config_id", v)

    def config_svn(self, v: int) -> QuoteBuilder:
        """SGX CONFIGSVN (KSS)."""
        return self.body_field("config_svn", v)

    def isv_ext_prod_id(self, v: bytes) -> QuoteBuilder:
        """SGX ISVEXTPRODID (KSS)."""
        return self.body_field("isv_ext_prod_id", v)

    def isv_family_id(self, v: bytes) -> QuoteBuilder:
        """SGX ISVFAMILYID (KSS)."""
        return self.body_field("isv_family_id", v)

    def tee_tcb_svn(self, v: bytes) -> QuoteBuilder:
        """TDX TEE_TCB_SVN (16 bytes)."""
        return self.body_field("tee_tcb_svn", v)

    def mr_seam(self, v: bytes) -> QuoteBuilder:
        """TDX MRSEAM."""
        return self.body_field("mr_seam", v)

    def mr_signer_seam(self, v: bytes) -> QuoteBuilder:
        """TDX MRSIGNERSEAM."""
        return self.body_field("mr_signer_seam", v)

    def seam_attributes(self, v: int) -> QuoteBuilder:
        """TDX SEAMATTRIBUTES (u64)."""
        return self.body_field("seam_attributes", v)

    def td_attributes(self, v: int) -> QuoteBuilder:
        """TDX TDATTRIBUTES (u64)."""
        return self.body_field("td_attributes", v)

    def xfam(self, v: int) -> QuoteBuilder:
        """TDX XFAM (u64)."""
        return self.body_field("xfam", v)

    def mr_td(self, v: bytes) -> QuoteBuilder:
        """TDX MRTD."""
        return self.body_field("mr_td", v)

    def mr_config_id(self, v: bytes) -> QuoteBuilder:
        """TDX MRCONFIGID."""
        return self.body_field("mr_config_id", v)

    def mr_owner(self, v: bytes) -> QuoteBuilder:
        """TDX MROWNER."""
        return self.body_field("mr_owner", v)

    def mr_owner_config(self, v: bytes) -> QuoteBuilder:
        """TDX MROWNERCONFIG."""
        return self.body_field("mr_owner_config", v)

    def rtmr(self, index: int, v: bytes) -> QuoteBuilder:
        """TDX RTMR0..3."""
        return self.body_field(f"rtmr{index}", v)

    def tee_tcb_svn2(self, v: bytes) -> QuoteBuilder:
        """TD15 TEE_TCB_SVN2."""
        return self.body_field("tee_tcb_svn2", v)

    def mr_service_td(self, v: bytes) -> QuoteBuilder:
        """TD15 MRSERVICETD."""
        return self.body_field("mr_service_td", v)

    # --- signature data
    def pck(self, spec: PckSpec) -> QuoteBuilder:
        """The PCK leaf (its CA, TCB, FMSPC, validity, ...)."""
        return self._with(pck=spec)

    def platform_tcb(self, components: Sequence[int], pcesvn: int | None = None) -> QuoteBuilder:
        """The PCK leaf's TCB components (and PCESVN); report CPUSVNs follow."""
        return self.pck(self.pck_spec.with_tcb(components, pcesvn))

    def qe_report_field(self, name: str, value: bytes | int) -> QuoteBuilder:
        """A field of the QE report (SGX report layout)."""
        as_field_bytes("sgx", name, value)
        return self._with(qe_report=(*self._spec.qe_report, (name, value)))

    def qe_report_data(self, v: bytes) -> QuoteBuilder:
        """Replace the computed QE REPORTDATA (breaks the binding, stays signed)."""
        return self._with(qe_report_data=bytes(v).ljust(64, b"\x00"))

    def qe_auth_data(self, v: bytes) -> QuoteBuilder:
        """QE authentication data (32 bytes by default)."""
        return self._with(qe_auth_data=bytes(v))

    def attestation_key(self, label: str) -> QuoteBuilder:
        """Label of the P-256 attestation key."""
        return self._with(attest_key=label)

    def qe_report_signer(self, label: str) -> QuoteBuilder:
        """Sign the QE report with this key instead of the PCK leaf key."""
        return self._with(qe_report_signer=label)

    def cert_data_type(self, t: int) -> QuoteBuilder:
        """(Inner) certification data type: 1-4 without chain, 5 PEM chain, other = opaque."""
        return self._with(cert_type=t)

    def cert_data(self, data: bytes) -> QuoteBuilder:
        """Raw (inner) certification data, replacing the generated content."""
        return self._with(cert_data=bytes(data))

    def outer_cert_data_type(self, t: int) -> QuoteBuilder:
        """v4/v5 outer certification data type (6 = QE report certification data)."""
        return self._with(outer_cert_type=t)

    def der_chain(self, on: bool = True) -> QuoteBuilder:
        """Type 5 with concatenated DER instead of PEM."""
        return self._with(der_chain=on)

    def nul_terminator(self, on: bool = True) -> QuoteBuilder:
        """End the PEM chain with a NUL byte, as Intel's QE does (default on)."""
        return self._with(nul_terminator=on)

    def sig_data_len_delta(self, delta: int) -> QuoteBuilder:
        """Declare a signature-data length off by ``delta`` (after signing)."""
        return self._with(sig_data_len_delta=delta)

    # --- defects after signing
    def mutate(self, offset: int, value: bytes | int) -> QuoteBuilder:
        """Overwrite bytes at ``offset`` after signing."""
        raw = bytes([value]) if isinstance(value, int) else bytes(value)
        return self._with(mutations=(*self._spec.mutations, (offset, raw)))

    def flip(self, offset: int, mask: int = 0x01) -> QuoteBuilder:
        """XOR one byte after signing."""
        return self._with(xors=(*self._spec.xors, (offset, mask)))

    def truncate(self, n: int) -> QuoteBuilder:
        """Keep only the first ``n`` bytes."""
        return self._with(truncate_to=n)

    def pad(self, total: int) -> QuoteBuilder:
        """Zero-pad to ``total`` bytes (as real TDX quote buffers are)."""
        return self._with(pad_to=total)

    def append(self, data: bytes) -> QuoteBuilder:
        """Append bytes after the quote (and after padding)."""
        return self._with(trailing=self._spec.trailing + bytes(data))

    # --- building
    def _cert_payload(self, pki: FakeIntelPKI) -> bytes:
        s = self._spec
        if s.cert_data is not None:
            return s.cert_data
        spec = self.pck_spec
        ext = spec.extension
        if s.cert_type == 1:
            return ext.ppid + ext.cpusvn_bytes + ext.pcesvn.to_bytes(2, "little")
        if s.cert_type in (2, 3):
            enc = fill(f"encrypted-ppid-{s.cert_type}", 256 if s.cert_type == 2 else 384)
            return enc + ext.cpusvn_bytes + ext.pcesvn.to_bytes(2, "little") + ext.pce_id
        if s.cert_type == 4:
            return pem(pki.pck_cert(spec))
        if s.cert_type == 5:
            chain = pki.pck_chain(spec)
            if s.der_chain:
                return b"".join(c.public_bytes(serialization.Encoding.DER) for c in chain)
            return pem(*chain) + (b"\x00" if s.nul_terminator else b"")
        return fill(f"certification-data-{s.cert_type}", 64)

    def _qe_report(self, pki: FakeIntelPKI, attest_raw: bytes) -> bytes:
        s = self._spec
        sgx_qe = s.tee == "sgx"
        values: dict[str, bytes] = {
            "cpusvn": self.pck_spec.extension.cpusvn_bytes,
            "attributes": (0x15).to_bytes(8, "little") + (0xE7).to_bytes(8, "little"),
            "mr_enclave": fill("qe-mrenclave" if sgx_qe else "td-qe-mrenclave", 32),
            "mr_signer": QE_MRSIGNER if sgx_qe else TD_QE_MRSIGNER,
            "isv_prod_id": (1 if sgx_qe else 2).to_bytes(2, "little"),
            "isv_svn": (8 if sgx_qe else 4).to_bytes(2, "little"),
        }
        for fname, v in s.qe_report:
            values[fname] = as_field_bytes("sgx", fname, v)
        bound = hashlib.sha256(attest_raw + s.qe_auth_data).digest() + bytes(32)
        values["report_data"] = s.qe_report_data if s.qe_report_data is not None else bound
        return encode_body("sgx", values)

    def _body(self) -> bytes:
        kind = self.body_kind
        values: dict[str, bytes]
        if kind == "sgx":
            values = sgx_body_defaults(self.pck_spec.extension.cpusvn_bytes)
        else:
            values = td_body_defaults()
        for fname, v in self._spec.body:
            values[fname] = as_field_bytes(kind, fname, v)
        return encode_body(kind, values)

    def qe_svn_value(self) -> int:
        """ISVSVN of the QE report (header QE SVN follows it for SGX)."""
        for fname, v in reversed(self._spec.qe_report):
            if fname == "isv_svn":
                return v if isinstance(v, int) else int.from_bytes(v, "little")
        return 8 if self._spec.tee == "sgx" else 4

    def build(self, pki: FakeIntelPKI) -> BuiltQuote:
        """Build, sign, then apply defects; also return the field layout."""
        s = self._spec
        fields: list[Field] = []

        def add(name_: str, start: int, size: int) -> None:
            fields.append(Field(name_, start, size))

        tee_type = s.tee_type if s.tee_type is not None else (0 if s.tee == "sgx" else 0x81)
        sgx = s.tee == "sgx"
        qe_svn = s.qe_svn if s.qe_svn is not None else (self.qe_svn_value() if sgx else 0)
        pce_svn = (
            s.pce_svn if s.pce_svn is not None else (self.pck_spec.extension.pcesvn if sgx else 0)
        )
        header = (
            struct.pack("<HHIHH", s.version, s.key_type, tee_type, qe_svn, pce_svn)
            + s.qe_vendor_id
            + s.user_data
        )
        if len(header) != 48:
            raise ValueError("header must be 48 bytes (qe_vendor_id 16, user_data 20)")
        for fname, off, size in HEADER_FIELDS:
            add(f"header.{fname}", off, size)
        body = self._body()
        signed = header
        if s.version == 5:
            btype = s.body_type if s.body_type is not None else (1 if sgx else 2)
            size = s.body_size if s.body_size is not None else len(body)
            signed += struct.pack("<HI", btype, size)
            add("body_descriptor.type", 48, 2)
            add("body_descriptor.size", 50, 4)
        body_off = len(signed)
        add("body", body_off, len(body))
        for fname, off, size in BODY_LAYOUTS[self.body_kind]:
            add(f"body.{fname}", body_off + off, size)
        signed += body

        attest = pki.key(s.attest_key)
        attest_raw = attest.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )[1:]
        quote_sig = sign_ecdsa_raw(attest, signed, hashes.SHA256())
        qe_report = self._qe_report(pki, attest_raw)
        qe_signer = (
            pki.key(s.qe_report_signer) if s.qe_report_signer else pki.key(self.pck_spec.key)
        )
        qe_sig = sign_ecdsa_raw(qe_signer, qe_report, hashes.SHA256())
        payload = self._cert_payload(pki)

        sig_off = len(signed) + 4
        parts: list[tuple[str, bytes]] = [("signature", quote_sig), ("attest_key", attest_raw)]
        qe_parts: list[tuple[str, bytes]] = [
            ("qe_report", qe_report),
            ("qe_report_signature", qe_sig),
            ("qe_auth_data_len", struct.pack("<H", len(s.qe_auth_data))),
            ("qe_auth_data", s.qe_auth_data),
            ("cert_data_type", struct.pack("<H", s.cert_type)),
            ("cert_data_size", struct.pack("<I", len(payload))),
            ("cert_data", payload),
        ]
        if s.version == 3:
            parts += qe_parts
        else:
            inner = b"".join(v for _, v in qe_parts)
            parts += [
                ("outer_cert_data_type", struct.pack("<H", s.outer_cert_type)),
                ("outer_cert_data_size", struct.pack("<I", len(inner))),
            ]
            parts += [(f"qe_cert_data.{n}", v) for n, v in qe_parts]
        sig_data = b"".join(v for _, v in parts)
        add("sig_data_len", len(signed), 4)
        pos = sig_off
        for pname, v in parts:
            add(pname, pos, len(v))
            pos += len(v)
        data = bytearray(
            signed + struct.pack("<I", len(sig_data) + s.sig_data_len_delta) + sig_data
        )
        for off, raw in s.mutations:
            data[off : off + len(raw)] = raw
        for off, mask in s.xors:
            data[off] ^= mask
        if s.pad_to is not None and len(data) < s.pad_to:
            data += bytes(s.pad_to - len(data))
        data += s.trailing
        if s.truncate_to is not None:
            del data[s.truncate_to :]
        return BuiltQuote(bytes(data), tuple(fields))

    def sign(self, pki: FakeIntelPKI) -> bytes:
        """The quote bytes."""
        return self.build(pki).data

    def layout(self, pki: FakeIntelPKI) -> tuple[Field, ...]:
        """Every field's absolute offset and size in the built quote."""
        return self.build(pki).fields

    def field_offset(self, pki: FakeIntelPKI, name_: str) -> int:
        """Absolute offset of one field (``body.report_data``, ``qe_report``, ...)."""
        return self.build(pki).field(name_).offset
