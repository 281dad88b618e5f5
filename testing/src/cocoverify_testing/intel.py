"""TEST ONLY. A fake Intel DCAP PKI, signed collateral and SGX/TDX quote builders.

Everything is deterministic (fixed keys from :func:`cocoverify_testing.pki.ec_key`,
RFC 6979 ECDSA, fixed serials and times around :data:`NOW`), so regenerating gives
byte-identical files. Shapes mirror the real Intel artefacts (intel.md; the real
collateral in ``shared/vectors/intel``): subject DNs, PEM chains leaf first, DER CRLs
with CRL Number + AKI, compact PCS JSON bodies whose signature covers the exact text of
the signed member.

* :class:`FakeIntelPKI`: root, PCK Platform/Processor CA, TCB Signing, CRLs, PCK leaves
  (:class:`PckSpec`, SGX extension :class:`SgxExtension`), signed TCB Info
  (:class:`TcbInfo`) and QE Identity (:class:`QeIdentity`).
* :class:`QuoteBuilder`: SGX v3, TDX v4, v5 (body types 1/2/3); fluent, immutable.
* :func:`generate_vectors`: the project's own Intel vectors (``vectors/intel``).

Never trust anything produced here: the keys are derived from public labels.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import shutil
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify_testing.pki import (
    CA_KEY_USAGE,
    LEAF_KEY_USAGE,
    UTC,
    CertSpec,
    ec_key,
    issue,
    make_crl,
    name,
    pem,
    sign_ecdsa_raw,
)

__all__ = [
    "ALL_TCB_STATUSES",
    "AT",
    "BODY_SIZES",
    "HEADER_FIELDS",
    "INTEL_QE_VENDOR_ID",
    "NOW",
    "PCK_NAME",
    "PLATFORM_CA_NAME",
    "PROCESSOR_CA_NAME",
    "QE_MRSIGNER",
    "ROOT_NAME",
    "SGX_EXTENSION_OID",
    "SGX_FMSPC",
    "SGX_LEVELS",
    "SGX_PLATFORM_TCB",
    "SGX_REPORT_FIELDS",
    "TCB_SIGNING_NAME",
    "TD10_FIELDS",
    "TD15_FIELDS",
    "TDX_FMSPC",
    "TDX_LEVELS",
    "TDX_MODULE_IDENTITIES",
    "TDX_TEE_TCB_SVN",
    "TD_QE_MRSIGNER",
    "BuiltQuote",
    "CertKnobs",
    "CrlKnobs",
    "EnclaveTcbLevel",
    "FakeIntelPKI",
    "Field",
    "PckSpec",
    "QeIdentity",
    "QuoteBuilder",
    "SgxExtension",
    "TcbInfo",
    "TcbLevel",
    "TdxModuleIdentity",
    "add_space",
    "der_bool",
    "der_enum",
    "der_int",
    "der_octets",
    "der_oid",
    "der_seq",
    "generate_vectors",
    "sgx_pck",
    "sgx_qe_identity",
    "sgx_tcb_info",
    "td_qe_identity",
    "tdx_pck",
    "tdx_tcb_info",
    "write_samples",
]

#: The fixed "current time" of the fake PKI; every default is valid at this instant.
NOW = _dt.datetime(2025, 6, 1, 0, 0, 0, tzinfo=UTC)

#: Intel's QE vendor ID (intel.md §2.1).
INTEL_QE_VENDOR_ID = bytes.fromhex("939A7233F79C4CA9940A0DB3957F0607")

#: PCK certificate SGX extension (intel.md §4).
SGX_EXTENSION_OID = "1.2.840.113741.1.13.1"

#: Every status the vectors' "accept all" policy lists (policy.INTEL_TCB_STATUSES).
ALL_TCB_STATUSES = (
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
    "TDRelaunchAdvised",
    "TDRelaunchAdvisedConfigurationNeeded",
)

_INTEL = {"O": "Intel Corporation", "L": "Santa Clara", "ST": "CA", "C": "US"}
ROOT_NAME = name(CN="Intel SGX Root CA", **_INTEL)
PLATFORM_CA_NAME = name(CN="Intel SGX PCK Platform CA", **_INTEL)
PROCESSOR_CA_NAME = name(CN="Intel SGX PCK Processor CA", **_INTEL)
PCK_NAME = name(CN="Intel SGX PCK Certificate", **_INTEL)
TCB_SIGNING_NAME = name(CN="Intel SGX TCB Signing", **_INTEL)


def _t(text: str) -> _dt.datetime:
    return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


_ROOT_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"
_PCK_CRL_URL = (
    "https://api.trustedservices.intel.com/sgx/certification/v4/pckcrl?ca={}&encoding=der"
)

# Real QE measurements (intel.md §5.2): SGX QE and TDX TD_QE.
QE_MRSIGNER = bytes.fromhex("8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF")
TD_QE_MRSIGNER = bytes.fromhex("DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5")

SGX_FMSPC = bytes.fromhex("00906EA10000")
TDX_FMSPC = bytes.fromhex("90C06F000000")


def _iso(t: _dt.datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_PCK_NOT_BEFORE = _t("2024-06-01T08:00:00Z")
_PCK_NOT_AFTER = _t("2031-06-01T08:00:00Z")
_TCB_ISSUE = _t("2025-05-20T10:00:00Z")
_TCB_NEXT = _t("2025-06-19T10:00:00Z")
_QE_ISSUE = _t("2025-05-20T10:30:00Z")
_QE_NEXT = _t("2025-06-19T10:30:00Z")


def _serial(label: str) -> int:
    """A 159-bit positive serial derived from a label (Intel uses 20-byte serials)."""
    return int.from_bytes(hashlib.sha1(label.encode()).digest(), "big") >> 1


def _fill(label: str, n: int) -> bytes:
    """Deterministic filler bytes for measurements."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}:{i}".encode()).digest()
        i += 1
    return out[:n]


# --- a tiny DER writer (X.690) -------------------------------------------------------------


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_len(len(content)) + content


def der_oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER."""
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _int_content(n: int) -> bytes:
    return n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True)


def der_int(n: int) -> bytes:
    """INTEGER (minimal two's complement)."""
    return _tlv(0x02, _int_content(n))


def der_enum(n: int) -> bytes:
    """ENUMERATED."""
    return _tlv(0x0A, _int_content(n))


def der_octets(data: bytes) -> bytes:
    """OCTET STRING."""
    return _tlv(0x04, data)


def der_bool(value: bool) -> bytes:
    """BOOLEAN (DER: 0xFF for true)."""
    return _tlv(0x01, b"\xff" if value else b"\x00")


def der_seq(*items: bytes) -> bytes:
    """SEQUENCE of already encoded items."""
    return _tlv(0x30, b"".join(items))


# --- PCK certificate SGX extension (intel.md §4) -------------------------------------------


@dataclass(frozen=True)
class SgxExtension:
    """The Intel SGX extension of a PCK leaf. ``cpusvn`` defaults to the 16 component SVNs."""

    fmspc: bytes = SGX_FMSPC
    pce_id: bytes = b"\x00\x00"
    tcb_components: tuple[int, ...] = (5, 5, 2, 2, 4, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    pcesvn: int = 13
    cpusvn: bytes | None = None
    ppid: bytes = field(default_factory=lambda: _fill("ppid", 16))
    sgx_type: int = 0
    #: Platform-CA leaves only (7 entries); None for Processor-CA leaves (5 entries).
    platform_instance_id: bytes | None = None
    #: (dynamic platform, cached keys, SMT enabled); Platform-CA leaves only.
    configuration: tuple[bool, bool, bool] | None = None
    #: Exact DER of the extension value instead of the encoding of the fields above
    #: (malformed-extension tests); the fields still drive the quote's CPUSVNs.
    raw: bytes | None = None

    @property
    def cpusvn_bytes(self) -> bytes:
        """CPUSVN as carried in .2.18 (and in report bodies)."""
        return self.cpusvn if self.cpusvn is not None else bytes(self.tcb_components)

    def encode(self) -> bytes:
        """DER of the extension value: SEQUENCE OF SEQUENCE {OID, value}."""
        if self.raw is not None:
            return self.raw
        base = SGX_EXTENSION_OID
        tcb = [
            der_seq(der_oid(f"{base}.2.{i + 1}"), der_int(svn))
            for i, svn in enumerate(self.tcb_components)
        ]
        tcb.append(der_seq(der_oid(f"{base}.2.17"), der_int(self.pcesvn)))
        tcb.append(der_seq(der_oid(f"{base}.2.18"), der_octets(self.cpusvn_bytes)))
        entries = [
            der_seq(der_oid(f"{base}.1"), der_octets(self.ppid)),
            der_seq(der_oid(f"{base}.2"), der_seq(*tcb)),
            der_seq(der_oid(f"{base}.3"), der_octets(self.pce_id)),
            der_seq(der_oid(f"{base}.4"), der_octets(self.fmspc)),
            der_seq(der_oid(f"{base}.5"), der_enum(self.sgx_type)),
        ]
        if self.platform_instance_id is not None:
            entries.append(der_seq(der_oid(f"{base}.6"), der_octets(self.platform_instance_id)))
        if self.configuration is not None:
            conf = [
                der_seq(der_oid(f"{base}.7.{i + 1}"), der_bool(v))
                for i, v in enumerate(self.configuration)
            ]
            entries.append(der_seq(der_oid(f"{base}.7"), der_seq(*conf)))
        return der_seq(*entries)


# --- certificate and CRL knobs -------------------------------------------------------------


@dataclass(frozen=True)
class CertKnobs:
    """One certificate's overridable facts. ``signer``: key label that signs it instead of
    the proper issuer (the issuer *name* stays right, so only the signature is wrong)."""

    serial: int
    not_before: _dt.datetime
    not_after: _dt.datetime
    key: str
    signer: str | None = None


@dataclass(frozen=True)
class CrlKnobs:
    """One CRL's overridable facts; ``signer`` as in :class:`CertKnobs`."""

    this_update: _dt.datetime
    next_update: _dt.datetime
    revoked: tuple[int, ...] = ()
    number: int = 1
    signer: str | None = None


@dataclass(frozen=True)
class PckSpec:
    """A PCK leaf: issuing CA (``platform`` or ``processor``), key, validity, extension."""

    ca: str = "processor"
    key: str = "intel-pck-sgx"
    serial: int = _serial("intel-pck-sgx")
    not_before: _dt.datetime = _PCK_NOT_BEFORE
    not_after: _dt.datetime = _PCK_NOT_AFTER
    extension: SgxExtension = field(default_factory=SgxExtension)
    signer: str | None = None

    def with_tcb(self, components: Sequence[int], pcesvn: int | None = None) -> PckSpec:
        """The same leaf with other TCB component SVNs (CPUSVN follows) and PCESVN."""
        ext = replace(
            self.extension,
            tcb_components=tuple(components),
            pcesvn=self.extension.pcesvn if pcesvn is None else pcesvn,
            cpusvn=None,
        )
        return replace(self, extension=ext)


def sgx_pck() -> PckSpec:
    """The default SGX platform: a Processor-CA leaf (5 extension entries)."""
    return PckSpec()


def tdx_pck() -> PckSpec:
    """The default TDX platform: a Platform-CA leaf (7 extension entries)."""
    return PckSpec(
        ca="platform",
        key="intel-pck-tdx",
        serial=_serial("intel-pck-tdx"),
        extension=SgxExtension(
            fmspc=TDX_FMSPC,
            sgx_type=1,
            platform_instance_id=_fill("platform-instance", 16),
            configuration=(True, True, True),
        ),
    )


# --- collateral models (intel.md §5) -------------------------------------------------------

_COMPONENT_LABELS: Mapping[int, dict[str, str]] = {
    0: {"category": "BIOS", "type": "Early Microcode Update"},
    1: {"category": "OS/VMM", "type": "SGX Late Microcode Update"},
    2: {"category": "OS/VMM", "type": "TXT SINIT"},
}
_TDX_COMPONENT_LABELS: Mapping[int, dict[str, str]] = {
    0: {"category": "OS/VMM", "type": "TDX Module"},
    1: {"category": "OS/VMM", "type": "TDX Module"},
    2: {"category": "OS/VMM", "type": "TDX Late Microcode Update"},
}


def _components(svns: Sequence[int], labels: Mapping[int, dict[str, str]]) -> list[Any]:
    return [{"svn": s, **labels.get(i, {})} for i, s in enumerate(svns)]


@dataclass(frozen=True)
class TcbLevel:
    """One platform TCB level; ``tdx`` only in TDX TCB Info."""

    sgx: tuple[int, ...]
    pcesvn: int
    status: str
    date: str = "2025-02-12T00:00:00Z"
    advisories: tuple[str, ...] = ()
    tdx: tuple[int, ...] | None = None

    def to_json(self, version: int) -> dict[str, Any]:
        """The PCS member order."""
        tcb: dict[str, Any]
        if version == 2:
            tcb = {f"sgxtcbcomp{i + 1:02d}svn": s for i, s in enumerate(self.sgx)}
            tcb["pcesvn"] = self.pcesvn
        else:
            tcb = {"sgxtcbcomponents": _components(self.sgx, _COMPONENT_LABELS)}
            tcb["pcesvn"] = self.pcesvn
            if self.tdx is not None:
                tcb["tdxtcbcomponents"] = _components(self.tdx, _TDX_COMPONENT_LABELS)
        out: dict[str, Any] = {"tcb": tcb, "tcbDate": self.date, "tcbStatus": self.status}
        if self.advisories:
            out["advisoryIDs"] = list(self.advisories)
        return out


@dataclass(frozen=True)
class EnclaveTcbLevel:
    """A QE identity or TDX module TCB level."""

    isvsvn: int
    status: str
    date: str = "2025-02-12T00:00:00Z"
    advisories: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The PCS member order."""
        out: dict[str, Any] = {
            "tcb": {"isvsvn": self.isvsvn},
            "tcbDate": self.date,
            "tcbStatus": self.status,
        }
        if self.advisories:
            out["advisoryIDs"] = list(self.advisories)
        return out


@dataclass(frozen=True)
class TdxModuleIdentity:
    """A ``tdxModuleIdentities`` entry (``id`` = ``TDX_%02X`` of the module major version)."""

    id: str
    mrsigner: bytes = bytes(48)
    attributes: bytes = bytes(8)
    attributes_mask: bytes = b"\xff" * 8
    levels: tuple[EnclaveTcbLevel, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The PCS member order."""
        return {
            "id": self.id,
            "mrsigner": self.mrsigner.hex().upper(),
            "attributes": self.attributes.hex().upper(),
            "attributesMask": self.attributes_mask.hex().upper(),
            "tcbLevels": [lv.to_json() for lv in self.levels],
        }


@dataclass(frozen=True)
class TcbInfo:
    """TCB Info v2 (SGX, no ``id``) or v3 (``id`` SGX/TDX), serialised in PCS member order."""

    id: str | None
    version: int
    fmspc: bytes
    levels: tuple[TcbLevel, ...]
    issue_date: _dt.datetime = _TCB_ISSUE
    next_update: _dt.datetime = _TCB_NEXT
    pce_id: bytes = b"\x00\x00"
    tcb_type: int = 0
    evaluation_data_number: int = 17
    tdx_module: TdxModuleIdentity | None = None
    tdx_module_identities: tuple[TdxModuleIdentity, ...] | None = None
    fmspc_lower_case: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``tcbInfo`` member value."""
        out: dict[str, Any] = {}
        if self.id is not None:
            out["id"] = self.id
        out["version"] = self.version
        out["issueDate"] = _iso(self.issue_date)
        out["nextUpdate"] = _iso(self.next_update)
        fmspc = self.fmspc.hex()
        out["fmspc"] = fmspc if self.fmspc_lower_case else fmspc.upper()
        out["pceId"] = self.pce_id.hex().upper()
        out["tcbType"] = self.tcb_type
        out["tcbEvaluationDataNumber"] = self.evaluation_data_number
        if self.tdx_module is not None:
            m = self.tdx_module.to_json()
            out["tdxModule"] = {k: m[k] for k in ("mrsigner", "attributes", "attributesMask")}
        if self.tdx_module_identities is not None:
            out["tdxModuleIdentities"] = [i.to_json() for i in self.tdx_module_identities]
        out["tcbLevels"] = [lv.to_json(self.version) for lv in self.levels]
        return out


@dataclass(frozen=True)
class QeIdentity:
    """QE Identity v2 (``QE`` or ``TD_QE``), serialised in PCS member order."""

    id: str
    mrsigner: bytes
    isvprodid: int
    levels: tuple[EnclaveTcbLevel, ...]
    version: int = 2
    issue_date: _dt.datetime = _QE_ISSUE
    next_update: _dt.datetime = _QE_NEXT
    evaluation_data_number: int = 17
    miscselect: bytes = bytes(4)
    miscselect_mask: bytes = b"\xff" * 4
    attributes: bytes = b"\x11" + bytes(15)
    attributes_mask: bytes = bytes.fromhex("FBFFFFFFFFFFFFFF") + bytes(8)

    def to_json(self) -> dict[str, Any]:
        """The ``enclaveIdentity`` member value."""
        return {
            "id": self.id,
            "version": self.version,
            "issueDate": _iso(self.issue_date),
            "nextUpdate": _iso(self.next_update),
            "tcbEvaluationDataNumber": self.evaluation_data_number,
            "miscselect": self.miscselect.hex().upper(),
            "miscselectMask": self.miscselect_mask.hex().upper(),
            "attributes": self.attributes.hex().upper(),
            "attributesMask": self.attributes_mask.hex().upper(),
            "mrsigner": self.mrsigner.hex().upper(),
            "isvprodid": self.isvprodid,
            "tcbLevels": [lv.to_json() for lv in self.levels],
        }


_SA = "INTEL-SA-"

#: SGX platform levels, highest first; the comment names the platform TCB that reaches each.
SGX_LEVELS = (
    TcbLevel((5, 5, 2, 2, 4, 1, 3, *[0] * 9), 13, "UpToDate", "2025-02-12T00:00:00Z"),
    TcbLevel(
        (5, 5, 2, 2, 4, 1, 2, *[0] * 9),
        13,
        "SWHardeningNeeded",
        "2025-02-12T00:00:00Z",
        (_SA + "00615",),
    ),
    TcbLevel(
        (5, 5, 2, 2, 4, 1, 1, *[0] * 9),
        13,
        "ConfigurationAndSWHardeningNeeded",
        "2025-02-12T00:00:00Z",
        (_SA + "00289", _SA + "00615"),
    ),
    TcbLevel(
        (5, 5, 2, 2, 4, 1, 0, *[0] * 9),
        13,
        "ConfigurationNeeded",
        "2025-02-12T00:00:00Z",
        (_SA + "00289",),
    ),
    TcbLevel(
        (4, 4, 2, 2, 4, 1, 3, *[0] * 9), 13, "OutOfDate", "2024-03-13T00:00:00Z", (_SA + "00828",)
    ),
    TcbLevel(
        (4, 4, 2, 2, 4, 1, 0, *[0] * 9),
        13,
        "OutOfDateConfigurationNeeded",
        "2024-03-13T00:00:00Z",
        (_SA + "00289", _SA + "00828"),
    ),
    TcbLevel(
        (3, 3, 2, 2, 4, 1, 0, *[0] * 9), 10, "Revoked", "2018-01-04T00:00:00Z", (_SA + "00233",)
    ),
)

#: Platform TCB (16 component SVNs) that reaches each SGX level, plus one that reaches none.
SGX_PLATFORM_TCB: Mapping[str, tuple[int, ...]] = {
    "UpToDate": (5, 5, 2, 2, 4, 1, 3, *[0] * 9),
    "SWHardeningNeeded": (5, 5, 2, 2, 4, 1, 2, *[0] * 9),
    "ConfigurationAndSWHardeningNeeded": (5, 5, 2, 2, 4, 1, 1, *[0] * 9),
    "ConfigurationNeeded": (5, 5, 2, 2, 4, 1, 0, *[0] * 9),
    "OutOfDate": (4, 4, 2, 2, 4, 1, 3, *[0] * 9),
    "OutOfDateConfigurationNeeded": (4, 4, 2, 2, 4, 1, 0, *[0] * 9),
    "Revoked": (3, 3, 2, 2, 4, 1, 0, *[0] * 9),
    "NotSupported": (2, 2, 2, 2, 4, 1, 3, *[0] * 9),
}

_TDX_SGX_A = (5, 5, 2, 2, 4, 1, 3, *[0] * 9)
_TDX_SGX_B = (5, 5, 2, 2, 4, 1, 0, *[0] * 9)

#: TDX platform levels, highest first (SGX components, PCESVN, then TDX components).
TDX_LEVELS = (
    TcbLevel(_TDX_SGX_A, 13, "UpToDate", "2025-02-12T00:00:00Z", (), (3, 1, 2, *[0] * 13)),
    TcbLevel(
        _TDX_SGX_A,
        13,
        "OutOfDate",
        "2024-03-13T00:00:00Z",
        (_SA + "00960",),
        (3, 1, 1, *[0] * 13),
    ),
    TcbLevel(
        _TDX_SGX_B,
        13,
        "ConfigurationNeeded",
        "2025-02-12T00:00:00Z",
        (_SA + "00289",),
        (3, 1, 2, *[0] * 13),
    ),
)

#: Default TEE_TCB_SVN: module ISVSVN 3, module major version 1 (TDX_01), microcode 2.
TDX_TEE_TCB_SVN = bytes((3, 1, 2, *[0] * 13))

TDX_MODULE_IDENTITIES = (
    TdxModuleIdentity(
        "TDX_03",
        levels=(EnclaveTcbLevel(3, "UpToDate", "2025-02-12T00:00:00Z"),),
    ),
    TdxModuleIdentity(
        "TDX_01",
        levels=(
            EnclaveTcbLevel(3, "UpToDate", "2025-02-12T00:00:00Z"),
            EnclaveTcbLevel(1, "OutOfDate", "2024-03-13T00:00:00Z", (_SA + "00960",)),
        ),
    ),
)


def sgx_tcb_info(**overrides: Any) -> TcbInfo:
    """The default SGX TCB Info v3 (``version=2`` drops ``id`` and uses v2 level form)."""
    info = TcbInfo(id="SGX", version=3, fmspc=SGX_FMSPC, levels=SGX_LEVELS)
    if overrides.get("version") == 2:
        info = replace(info, id=None)
    return replace(info, **overrides)


def tdx_tcb_info(**overrides: Any) -> TcbInfo:
    """The default TDX TCB Info v3 with ``tdxModule`` and ``tdxModuleIdentities``."""
    info = TcbInfo(
        id="TDX",
        version=3,
        fmspc=TDX_FMSPC,
        levels=TDX_LEVELS,
        tdx_module=TdxModuleIdentity("TDX"),
        tdx_module_identities=TDX_MODULE_IDENTITIES,
    )
    return replace(info, **overrides)


def sgx_qe_identity(**overrides: Any) -> QeIdentity:
    """The default ``QE`` identity (levels: ISVSVN 8 UpToDate, 6 OutOfDate)."""
    ident = QeIdentity(
        id="QE",
        mrsigner=QE_MRSIGNER,
        isvprodid=1,
        levels=(
            EnclaveTcbLevel(8, "UpToDate", "2024-03-13T00:00:00Z"),
            EnclaveTcbLevel(6, "OutOfDate", "2021-11-10T00:00:00Z", (_SA + "00615",)),
        ),
    )
    return replace(ident, **overrides)


def td_qe_identity(**overrides: Any) -> QeIdentity:
    """The default ``TD_QE`` identity (levels: ISVSVN 4 UpToDate, 2 OutOfDate)."""
    ident = QeIdentity(
        id="TD_QE",
        mrsigner=TD_QE_MRSIGNER,
        isvprodid=2,
        levels=(
            EnclaveTcbLevel(4, "UpToDate", "2024-03-13T00:00:00Z"),
            EnclaveTcbLevel(2, "OutOfDate", "2023-08-09T00:00:00Z", (_SA + "00837",)),
        ),
    )
    return replace(ident, **overrides)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


# --- the fake PKI --------------------------------------------------------------------------


def _ca_knobs(label: str) -> CertKnobs:
    return CertKnobs(
        serial=_serial(label),
        not_before=_t("2018-05-21T10:50:10Z"),
        not_after=_t("2033-05-21T10:50:10Z"),
        key=label,
    )


_PLATFORM_CA_KNOBS = _ca_knobs("intel-pck-platform-ca")
_PROCESSOR_CA_KNOBS = _ca_knobs("intel-pck-processor-ca")


@dataclass(frozen=True)
class FakeIntelPKI:
    """A deterministic imitation of Intel's SGX PKI (TEST ONLY).

    Override any knob with :func:`dataclasses.replace` (or :meth:`but`); certificates and
    CRLs are built lazily and cached per instance. ``root_key`` selects the root key, so
    ``FakeIntelPKI(root_key="rogue")`` is a look-alike PKI with Intel's names.
    """

    root_key: str = "intel-root"
    root: CertKnobs = CertKnobs(
        serial=_serial("intel-root"),
        not_before=_t("2018-05-21T10:45:10Z"),
        not_after=_t("2049-12-31T23:59:59Z"),
        key="intel-root",
    )
    platform_ca: CertKnobs = _PLATFORM_CA_KNOBS
    processor_ca: CertKnobs = _PROCESSOR_CA_KNOBS
    tcb_signing: CertKnobs = CertKnobs(
        serial=_serial("intel-tcb-signing"),
        not_before=_t("2025-05-06T10:31:04Z"),
        not_after=_t("2032-05-06T10:31:04Z"),
        key="intel-tcb-signing",
    )
    root_crl_knobs: CrlKnobs = CrlKnobs(
        this_update=_t("2025-03-20T11:21:57Z"), next_update=_t("2026-04-03T11:21:57Z")
    )
    platform_crl_knobs: CrlKnobs = CrlKnobs(
        this_update=_t("2025-05-20T10:00:35Z"), next_update=_t("2025-06-19T10:00:35Z")
    )
    processor_crl_knobs: CrlKnobs = CrlKnobs(
        this_update=_t("2025-05-20T10:01:12Z"), next_update=_t("2025-06-19T10:01:12Z")
    )

    def but(self, **changes: Any) -> FakeIntelPKI:
        """A copy with some knobs changed (fresh caches)."""
        return replace(self, **changes)

    # keys
    @staticmethod
    def key(label: str) -> ec.EllipticCurvePrivateKey:
        """The P-256 test key for ``label``."""
        return ec_key(label, "P-256")

    @property
    def tcb_signing_key(self) -> ec.EllipticCurvePrivateKey:
        """The key that signs TCB Info and QE Identity."""
        return self.key(self.tcb_signing.key)

    # certificates
    def _issue(
        self,
        knobs: CertKnobs,
        subject: x509.Name,
        *,
        issuer: x509.Name,
        issuer_key: str,
        ca: bool,
        path_length: int | None,
        crl_url: str | None,
        unrecognized: Sequence[x509.UnrecognizedExtension] = (),
    ) -> x509.Certificate:
        exts: list[x509.ExtensionType] = []
        if crl_url is not None:
            exts.append(
                x509.CRLDistributionPoints(
                    [
                        x509.DistributionPoint(
                            [x509.UniformResourceIdentifier(crl_url)], None, None, None
                        )
                    ]
                )
            )
        spec = CertSpec(
            subject=subject,
            public_key=self.key(knobs.key).public_key(),
            serial=knobs.serial,
            not_before=knobs.not_before,
            not_after=knobs.not_after,
            ca=ca,
            path_length=path_length,
            key_usage=CA_KEY_USAGE if ca else LEAF_KEY_USAGE,
            extensions=exts,
            unrecognized=unrecognized,
        )
        return issue(spec, issuer=issuer, issuer_key=self.key(knobs.signer or issuer_key))

    @cached_property
    def root_cert(self) -> x509.Certificate:
        """Self-signed root, Intel's subject name."""
        knobs = replace(self.root, key=self.root_key)
        return self._issue(
            knobs,
            ROOT_NAME,
            issuer=ROOT_NAME,
            issuer_key=self.root_key,
            ca=True,
            path_length=1,
            crl_url=_ROOT_CRL_URL,
        )

    @cached_property
    def platform_ca_cert(self) -> x509.Certificate:
        """Intel SGX PCK Platform CA."""
        return self._issue(
            self.platform_ca,
            PLATFORM_CA_NAME,
            issuer=ROOT_NAME,
            issuer_key=self.root_key,
            ca=True,
            path_length=0,
            crl_url=_ROOT_CRL_URL,
        )

    @cached_property
    def processor_ca_cert(self) -> x509.Certificate:
        """Intel SGX PCK Processor CA."""
        return self._issue(
            self.processor_ca,
            PROCESSOR_CA_NAME,
            issuer=ROOT_NAME,
            issuer_key=self.root_key,
            ca=True,
            path_length=0,
            crl_url=_ROOT_CRL_URL,
        )

    @cached_property
    def tcb_signing_cert(self) -> x509.Certificate:
        """Intel SGX TCB Signing (signs TCB Info and QE Identity)."""
        return self._issue(
            self.tcb_signing,
            TCB_SIGNING_NAME,
            issuer=ROOT_NAME,
            issuer_key=self.root_key,
            ca=False,
            path_length=None,
            crl_url=_ROOT_CRL_URL,
        )

    def ca_cert(self, ca: str) -> x509.Certificate:
        """The PCK CA certificate for ``platform`` or ``processor``."""
        return self.platform_ca_cert if ca == "platform" else self.processor_ca_cert

    def _ca_knobs(self, ca: str) -> CertKnobs:
        return self.platform_ca if ca == "platform" else self.processor_ca

    def pck_cert(self, spec: PckSpec) -> x509.Certificate:
        """A PCK leaf with the SGX extension, issued by ``spec.ca``."""
        knobs = CertKnobs(
            serial=spec.serial,
            not_before=spec.not_before,
            not_after=spec.not_after,
            key=spec.key,
            signer=spec.signer,
        )
        ext = x509.UnrecognizedExtension(
            x509.ObjectIdentifier(SGX_EXTENSION_OID), spec.extension.encode()
        )
        return self._issue(
            knobs,
            PCK_NAME,
            issuer=self.ca_cert(spec.ca).subject,
            issuer_key=self._ca_knobs(spec.ca).key,
            ca=False,
            path_length=None,
            crl_url=_PCK_CRL_URL.format(spec.ca),
            unrecognized=(ext,),
        )

    def pck_chain(
        self, spec: PckSpec
    ) -> tuple[x509.Certificate, x509.Certificate, x509.Certificate]:
        """Leaf, intermediate, root."""
        return (self.pck_cert(spec), self.ca_cert(spec.ca), self.root_cert)

    # CRLs
    def _crl(self, knobs: CrlKnobs, issuer: x509.Name, key: str) -> x509.CertificateRevocationList:
        return make_crl(
            issuer=issuer,
            issuer_key=self.key(knobs.signer or key),
            this_update=knobs.this_update,
            next_update=knobs.next_update,
            revoked_serials=knobs.revoked,
            crl_number=knobs.number,
        )

    @cached_property
    def root_crl(self) -> x509.CertificateRevocationList:
        """Root CA CRL (revokes intermediates and the TCB Signing cert)."""
        return self._crl(self.root_crl_knobs, ROOT_NAME, self.root_key)

    @cached_property
    def platform_crl(self) -> x509.CertificateRevocationList:
        """PCK CRL of the Platform CA."""
        return self._crl(self.platform_crl_knobs, PLATFORM_CA_NAME, self.platform_ca.key)

    @cached_property
    def processor_crl(self) -> x509.CertificateRevocationList:
        """PCK CRL of the Processor CA."""
        return self._crl(self.processor_crl_knobs, PROCESSOR_CA_NAME, self.processor_ca.key)

    def pck_crl(self, ca: str) -> x509.CertificateRevocationList:
        """The PCK CRL of ``platform`` or ``processor``."""
        return self.platform_crl if ca == "platform" else self.processor_crl

    # signed collateral
    def sign_body(
        self, member: str, value: Mapping[str, Any], *, signer: str | None = None
    ) -> bytes:
        """``{"<member>":<compact value>,"signature":"<hex r||s>"}``; the signature covers
        the exact value text (intel.md §5.1)."""
        text = _compact(value)
        key = self.key(signer) if signer is not None else self.tcb_signing_key
        sig = sign_ecdsa_raw(key, text.encode(), hashes.SHA256())
        return ('{"' + member + '":' + text + ',"signature":"' + sig.hex() + '"}').encode()

    def tcb_info_body(self, info: TcbInfo, *, signer: str | None = None) -> bytes:
        """A signed TCB Info response body."""
        return self.sign_body("tcbInfo", info.to_json(), signer=signer)

    def qe_identity_body(self, ident: QeIdentity, *, signer: str | None = None) -> bytes:
        """A signed QE Identity response body."""
        return self.sign_body("enclaveIdentity", ident.to_json(), signer=signer)

    def tcb_signing_chain_pem(self) -> bytes:
        """TCB Signing cert then root (the PCS issuer-chain order)."""
        return pem(self.tcb_signing_cert, self.root_cert)

    def pck_crl_issuer_chain_pem(self, ca: str) -> bytes:
        """PCK CA then root."""
        return pem(self.ca_cert(ca), self.root_cert)

    def root_fingerprint(self) -> str:
        """SHA-256 of the root's DER (for ``TrustStore(intel_roots=...)``)."""
        return hashlib.sha256(self.root_cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def add_space(body: bytes) -> bytes:
    """The signed member text with one space added after its first ``:`` (signature breaks)."""
    start = body.index(b":") + 1  # after the member name
    inner = body.index(b":", start + 1)
    return body[: inner + 1] + b" " + body[inner + 1 :]


# --- quote layout (intel.md §2) ------------------------------------------------------------


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

_BODY_LAYOUTS: Mapping[str, tuple[tuple[str, int, int], ...]] = {
    "sgx": SGX_REPORT_FIELDS,
    "td10": TD10_FIELDS,
    "td15": TD15_FIELDS,
}
BODY_SIZES: Mapping[str, int] = {"sgx": 384, "td10": 584, "td15": 648}
_BODY_TYPE_KIND: Mapping[int, str] = {1: "sgx", 2: "td10", 3: "td15"}

#: SGX ATTRIBUTES.DEBUG (flags bit 1) and TDATTRIBUTES bits (intel.md §7).
SGX_ATTR_DEBUG = 1 << 1
TD_ATTR_DEBUG = 1 << 0
TD_ATTR_SEPT_VE_DISABLE = 1 << 28


def _sgx_body_defaults(cpusvn: bytes) -> dict[str, bytes]:
    return {
        "cpusvn": cpusvn,
        "attributes": (0x05).to_bytes(8, "little") + (0x03).to_bytes(8, "little"),
        "mr_enclave": _fill("app-mrenclave", 32),
        "mr_signer": _fill("app-mrsigner", 32),
        "isv_prod_id": (1).to_bytes(2, "little"),
        "isv_svn": (2).to_bytes(2, "little"),
        "report_data": _fill("sgx-report-data", 64),
    }


def _td_body_defaults() -> dict[str, bytes]:
    out = {
        "tee_tcb_svn": TDX_TEE_TCB_SVN,
        "mr_seam": _fill("mr-seam", 48),
        "td_attributes": TD_ATTR_SEPT_VE_DISABLE.to_bytes(8, "little"),
        "xfam": (0x602E7).to_bytes(8, "little"),
        "mr_td": _fill("mr-td", 48),
        "report_data": _fill("td-report-data", 64),
    }
    for i in range(4):
        out[f"rtmr{i}"] = _fill(f"rtmr{i}", 48)
    return out


def _encode_body(kind: str, values: Mapping[str, bytes]) -> bytes:
    buf = bytearray(BODY_SIZES[kind])
    for fname, off, size in _BODY_LAYOUTS[kind]:
        v = values.get(fname)
        if v is None:
            continue
        if len(v) != size:
            raise ValueError(f"{fname}: {len(v)} bytes, layout says {size}")
        buf[off : off + size] = v
    return bytes(buf)


def _as_field_bytes(kind: str, fname: str, value: bytes | int) -> bytes:
    sizes = {n: s for n, _, s in _BODY_LAYOUTS[kind]}
    if fname not in sizes:
        raise KeyError(f"{fname} is not a field of the {kind} body")
    if isinstance(value, int):
        return value.to_bytes(sizes[fname], "little")
    return bytes(value)


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
    user_data: bytes = field(default_factory=lambda: _fill("qe-user-data", 20))
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
        if s.version == 5 and s.body_type is not None and s.body_type in _BODY_TYPE_KIND:
            return _BODY_TYPE_KIND[s.body_type]
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
        _as_field_bytes(self.body_kind, name, value)
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
        _as_field_bytes("sgx", name, value)
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
            enc = _fill(f"encrypted-ppid-{s.cert_type}", 256 if s.cert_type == 2 else 384)
            return enc + ext.cpusvn_bytes + ext.pcesvn.to_bytes(2, "little") + ext.pce_id
        if s.cert_type == 4:
            return pem(pki.pck_cert(spec))
        if s.cert_type == 5:
            chain = pki.pck_chain(spec)
            if s.der_chain:
                return b"".join(c.public_bytes(serialization.Encoding.DER) for c in chain)
            return pem(*chain) + (b"\x00" if s.nul_terminator else b"")
        return _fill(f"certification-data-{s.cert_type}", 64)

    def _qe_report(self, pki: FakeIntelPKI, attest_raw: bytes) -> bytes:
        s = self._spec
        sgx_qe = s.tee == "sgx"
        values: dict[str, bytes] = {
            "cpusvn": self.pck_spec.extension.cpusvn_bytes,
            "attributes": (0x15).to_bytes(8, "little") + (0xE7).to_bytes(8, "little"),
            "mr_enclave": _fill("qe-mrenclave" if sgx_qe else "td-qe-mrenclave", 32),
            "mr_signer": QE_MRSIGNER if sgx_qe else TD_QE_MRSIGNER,
            "isv_prod_id": (1 if sgx_qe else 2).to_bytes(2, "little"),
            "isv_svn": (8 if sgx_qe else 4).to_bytes(2, "little"),
        }
        for fname, v in s.qe_report:
            values[fname] = _as_field_bytes("sgx", fname, v)
        bound = hashlib.sha256(attest_raw + s.qe_auth_data).digest() + bytes(32)
        values["report_data"] = s.qe_report_data if s.qe_report_data is not None else bound
        return _encode_body("sgx", values)

    def _body(self) -> bytes:
        kind = self.body_kind
        values: dict[str, bytes]
        if kind == "sgx":
            values = _sgx_body_defaults(self.pck_spec.extension.cpusvn_bytes)
        else:
            values = _td_body_defaults()
        for fname, v in self._spec.body:
            values[fname] = _as_field_bytes(kind, fname, v)
        return _encode_body(kind, values)

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
        for fname, off, size in _BODY_LAYOUTS[self.body_kind]:
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


# --- the project's vectors -----------------------------------------------------------------

AT = _iso(NOW)

#: CLI exit code implied by each reason the Intel vectors expect (errors.py classes).
_EXIT: Mapping[str, int] = {
    **dict.fromkeys(
        [
            "truncated",
            "trailing_data",
            "unsupported_version",
            "unsupported_tee_type",
            "unsupported_key_type",
            "unsupported_certification_data",
        ],
        2,
    ),
    **dict.fromkeys(
        [
            "signature_invalid",
            "qe_report_signature_invalid",
            "qe_report_data_mismatch",
            "qe_vendor_id_unknown",
            "qe_identity_mismatch",
            "tdx_module_mismatch",
            "untrusted_root",
            "certificate_expired",
            "certificate_not_yet_valid",
            "certificate_revoked",
        ],
        3,
    ),
    **dict.fromkeys(
        [
            "tdx_module_identity_missing",
            "crl_invalid",
            "crl_expired",
            "collateral_mismatch",
            "collateral_signature_invalid",
            "collateral_expired",
            "collateral_not_yet_valid",
            "collateral_chain_invalid",
            "collateral_missing",
        ],
        4,
    ),
    **dict.fromkeys(
        [
            "tcb_status_rejected",
            "tcb_not_supported",
            "debug_enabled",
            "attribute_rejected",
            "measurement_mismatch",
        ],
        5,
    ),
}

ACCEPT_ALL_POLICY: Mapping[str, Any] = {
    "accepted_tcb_statuses": list(ALL_TCB_STATUSES),
    "unsafe_accept_revoked": True,
}

_DAY = _dt.timedelta(days=1)
_DER = serialization.Encoding.DER
_C = "intel/common/"


def _tcb_svn(*svns: int) -> bytes:
    return bytes((*svns, *[0] * (16 - len(svns))))


class _Vectors:
    """Writes the Intel vector files under ``outdir`` and collects manifest entries.

    One defect per negative case; everything else is the common, valid-at-``NOW``
    collateral of ``intel/common/``.
    """

    def __init__(self, outdir: Path) -> None:
        self.out = outdir
        self.pki = FakeIntelPKI()
        self.cases: list[dict[str, Any]] = []
        self.trust = {"intel_roots": [self.pki.root_fingerprint()]}
        self.sgx = QuoteBuilder.sgx()
        self.tdx = QuoteBuilder.tdx()
        self.td15 = QuoteBuilder.tdx(version=5, body_type=3)
        self.files = self._common()

    # --- plumbing
    def write(self, rel: str, data: bytes) -> str:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return rel

    def case_file(self, case_id: str, fname: str, data: bytes) -> str:
        return self.write(f"intel/cases/{case_id}/{fname}", data)

    def _common(self) -> dict[str, str]:
        pki = self.pki
        return {
            "root_crl": self.write(_C + "root_ca_crl.der", pki.root_crl.public_bytes(_DER)),
            "platform_crl": self.write(
                _C + "pck_crl_platform.der", pki.platform_crl.public_bytes(_DER)
            ),
            "processor_crl": self.write(
                _C + "pck_crl_processor.der", pki.processor_crl.public_bytes(_DER)
            ),
            "platform_chain": self.write(
                _C + "pck_crl_issuer_chain_platform.pem", pki.pck_crl_issuer_chain_pem("platform")
            ),
            "processor_chain": self.write(
                _C + "pck_crl_issuer_chain_processor.pem",
                pki.pck_crl_issuer_chain_pem("processor"),
            ),
            "signing_chain": self.write(_C + "tcb_signing_chain.pem", pki.tcb_signing_chain_pem()),
            "sgx_tcb": self.write(_C + "sgx_tcb_info.json", pki.tcb_info_body(sgx_tcb_info())),
            "sgx_tcb_v2": self.write(
                _C + "sgx_tcb_info_v2.json",
                pki.tcb_info_body(sgx_tcb_info(version=2, fmspc_lower_case=True)),
            ),
            "sgx_qe": self.write(
                _C + "sgx_qe_identity.json", pki.qe_identity_body(sgx_qe_identity())
            ),
            "tdx_tcb": self.write(_C + "tdx_tcb_info.json", pki.tcb_info_body(tdx_tcb_info())),
            "tdx_qe": self.write(
                _C + "tdx_qe_identity.json", pki.qe_identity_body(td_qe_identity())
            ),
        }

    def collateral(self, tee: str, **replace_: str | None) -> list[str]:
        """The common files of ``tee`` by role; ``role=path`` replaces, ``role=None`` drops."""
        ca = "processor" if tee == "sgx" else "platform"
        roles: dict[str, str | None] = {
            "root_crl": self.files["root_crl"],
            "pck_crl": self.files[f"{ca}_crl"],
            "pck_crl_chain": self.files[f"{ca}_chain"],
            "signing_chain": self.files["signing_chain"],
            "tcb_info": self.files[f"{tee}_tcb"],
            "qe_identity": self.files[f"{tee}_qe"],
        }
        for role, value in replace_.items():
            if role not in roles:
                raise KeyError(role)
            roles[role] = value
        return [v for v in roles.values() if v is not None]

    def add(
        self,
        case_id: str,
        quote: bytes | QuoteBuilder,
        expected: str,
        description: str,
        *features: str,
        collateral: list[str] | None = None,
        policy: Mapping[str, Any] | None = None,
        tcb_status: str | None = None,
        evidence_rel: str | None = None,
    ) -> str:
        """One manifest entry; ``quote`` builders are signed by the common PKI."""
        platform = case_id.split(".", 1)[0]
        data = quote.sign(self.pki) if isinstance(quote, QuoteBuilder) else quote
        rel = evidence_rel or self.write(f"intel/quotes/{case_id}.bin", data)
        version = int.from_bytes(data[:2], "little")
        entry: dict[str, Any] = {
            "id": case_id,
            "platform": platform,
            "evidence": rel,
            "collateral": collateral if collateral is not None else self.collateral(platform),
            "trust": self.trust,
            "policy": dict(policy) if policy is not None else None,
            "at": AT,
            "expected": expected,
            "exit_code": 0 if expected == "accept" else _EXIT[expected],
        }
        if tcb_status is not None:
            entry["expected_tcb_status"] = tcb_status
        entry["features"] = [platform, f"quote_v{version}", *features]
        entry["description"] = description
        self.cases.append(entry)
        return rel

    def status_pair(
        self, case_id: str, quote: QuoteBuilder, status: str, description: str, *features: str
    ) -> None:
        """The default policy rejects ``status``; a policy accepting every status accepts it."""
        rel = self.add(
            case_id,
            quote,
            "tcb_status_rejected",
            description + " (default policy)",
            *features,
            "tcb_status",
            tcb_status=status,
        )
        self.add(
            case_id + ".accepted",
            quote,
            "accept",
            description + " (policy accepts every status)",
            *features,
            "tcb_status",
            "policy",
            policy=ACCEPT_ALL_POLICY,
            tcb_status=status,
            evidence_rel=rel,
        )

    # --- the groups
    def good(self) -> None:
        ok = "UpToDate"
        self.add("sgx.good.v3", self.sgx, "accept", "SGX v3, UpToDate", "good", tcb_status=ok)
        self.add(
            "sgx.good.v5",
            QuoteBuilder.sgx(version=5),
            "accept",
            "SGX v5 (body type 1), nested certification data type 6",
            "body_type_1",
            "good",
            tcb_status=ok,
        )
        self.add(
            "sgx.good.tcb_info_v2",
            self.sgx,
            "accept",
            "SGX v3 with TCB Info version 2 (sgxtcbcompNNsvn form, no id)",
            "tcb_info_v2",
            "good",
            collateral=self.collateral("sgx", tcb_info=self.files["sgx_tcb_v2"]),
            tcb_status=ok,
        )
        self.add("tdx.good.v4", self.tdx, "accept", "TDX v4 (TD10), TDX_01", "good", tcb_status=ok)
        self.add(
            "tdx.good.v5_td10",
            QuoteBuilder.tdx(version=5, body_type=2),
            "accept",
            "TDX v5, body type 2 (TD10)",
            "body_type_2",
            "good",
            tcb_status=ok,
        )
        self.add(
            "tdx.good.v5_td15",
            self.td15,
            "accept",
            "TDX v5, body type 3 (TD15), TEE_TCB_SVN2 and MRSERVICETD zero",
            "body_type_3",
            "good",
            tcb_status=ok,
        )
        self.add(
            "tdx.good.zero_padded",
            self.tdx.pad(8000),
            "accept",
            "TDX v4 zero-padded to 8000 bytes, as real TDX quote buffers are",
            "trailing_zero_padding",
            "good",
            tcb_status=ok,
        )

    def tcb(self) -> None:
        slugs = {
            "SWHardeningNeeded": "sw_hardening_needed",
            "ConfigurationNeeded": "configuration_needed",
            "ConfigurationAndSWHardeningNeeded": "configuration_and_sw_hardening_needed",
            "OutOfDate": "out_of_date",
            "OutOfDateConfigurationNeeded": "out_of_date_configuration_needed",
            "Revoked": "revoked",
        }
        for status, slug in slugs.items():
            self.status_pair(
                f"sgx.tcb.{slug}",
                self.sgx.platform_tcb(SGX_PLATFORM_TCB[status]),
                status,
                f"SGX platform TCB matches the {status} level",
            )
        self.status_pair(
            "sgx.tcb.qe_out_of_date",
            self.sgx.qe_report_field("isv_svn", 7),
            "OutOfDate",
            "QE ISVSVN 7 matches the OutOfDate QE level; UpToDate platform merges to OutOfDate",
            "qe_identity",
        )
        self.add(
            "sgx.tcb.not_supported",
            self.sgx.platform_tcb(SGX_PLATFORM_TCB["NotSupported"]),
            "tcb_not_supported",
            "SGX platform TCB below every level",
            "tcb_status",
        )
        low_module = _tcb_svn(2, 1, 2)  # module ISVSVN 2: TDX_01's OutOfDate level
        self.status_pair(
            "tdx.tcb.out_of_date",
            self.tdx.tee_tcb_svn(_tcb_svn(3, 1, 1)),
            "OutOfDate",
            "TEE_TCB_SVN[2]=1 matches the TDX OutOfDate level",
        )
        self.status_pair(
            "tdx.tcb.module_out_of_date",
            self.tdx.tee_tcb_svn(low_module),
            "OutOfDate",
            "module ISVSVN 2 matches TDX_01's OutOfDate level; UpToDate merges to OutOfDate",
            "tdx_module",
        )
        self.status_pair(
            "tdx.tcb.module_out_of_date_configuration_needed",
            self.tdx.platform_tcb(_TDX_SGX_B).tee_tcb_svn(low_module),
            "OutOfDateConfigurationNeeded",
            "ConfigurationNeeded platform level merged with module OutOfDate",
            "tdx_module",
        )
        self.status_pair(
            "tdx.tcb.qe_out_of_date",
            self.tdx.qe_report_field("isv_svn", 3),
            "OutOfDate",
            "TD_QE ISVSVN 3 matches the OutOfDate QE level; merges to OutOfDate",
            "qe_identity",
        )
        self.status_pair(
            "tdx.tcb.td_relaunch_advised",
            self.td15.tee_tcb_svn(low_module).tee_tcb_svn2(TDX_TEE_TCB_SVN),
            "TDRelaunchAdvised",
            "TD15: module OutOfDate, TEE_TCB_SVN2 reaches the latest module and TDX level",
            "body_type_3",
            "td_relaunch",
        )
        self.add(
            "tdx.tcb.not_supported",
            self.tdx.tee_tcb_svn(_tcb_svn(3, 1, 0)),
            "tcb_not_supported",
            "TEE_TCB_SVN[2]=0 is below every TDX level",
            "tcb_status",
        )

    def module(self) -> None:
        for case_id, quote, reason, desc in (
            (
                "tdx.module.identity_missing",
                self.tdx.tee_tcb_svn(_tcb_svn(3, 2, 2)),
                "tdx_module_identity_missing",
                "module major version 2: no TDX_02 identity",
            ),
            (
                "tdx.module.mrsignerseam_mismatch",
                self.tdx.mr_signer_seam(b"\x01" * 48),
                "tdx_module_mismatch",
                "MRSIGNERSEAM differs from TDX_01 mrsigner",
            ),
            (
                "tdx.module.seamattributes_mismatch",
                self.tdx.seam_attributes(1),
                "tdx_module_mismatch",
                "SEAMATTRIBUTES non-zero",
            ),
        ):
            self.add(case_id, quote, reason, desc, "tdx_module")

    def chain(self) -> None:
        rogue = FakeIntelPKI(root_key="rogue-root")
        rid = "sgx.chain.untrusted_root"
        rogue_files = [
            self.case_file(rid, "root_ca_crl.der", rogue.root_crl.public_bytes(_DER)),
            self.case_file(rid, "pck_crl_processor.der", rogue.processor_crl.public_bytes(_DER)),
            self.case_file(
                rid, "pck_crl_issuer_chain.pem", rogue.pck_crl_issuer_chain_pem("processor")
            ),
            self.case_file(rid, "tcb_signing_chain.pem", rogue.tcb_signing_chain_pem()),
            self.case_file(rid, "tcb_info.json", rogue.tcb_info_body(sgx_tcb_info())),
            self.case_file(rid, "qe_identity.json", rogue.qe_identity_body(sgx_qe_identity())),
        ]
        self.add(
            rid,
            self.sgx.sign(rogue),
            "untrusted_root",
            "a consistent look-alike PKI with Intel's names but another root key",
            "pck_chain",
            collateral=rogue_files,
        )
        pck = sgx_pck()
        ca = self.pki.processor_ca
        for case_id, quote, reason, desc in (
            (
                "sgx.chain.pck_expired",
                self.sgx.pck(replace(pck, not_after=NOW - _DAY)),
                "certificate_expired",
                "PCK leaf notAfter one day before at",
            ),
            (
                "sgx.chain.pck_not_yet_valid",
                self.sgx.pck(replace(pck, not_before=NOW + _DAY)),
                "certificate_not_yet_valid",
                "PCK leaf notBefore one day after at",
            ),
            (
                "sgx.chain.intermediate_expired",
                self.sgx.sign(self.pki.but(processor_ca=replace(ca, not_after=NOW - _DAY))),
                "certificate_expired",
                "PCK Processor CA notAfter one day before at",
            ),
            (
                "sgx.chain.intermediate_not_yet_valid",
                self.sgx.sign(self.pki.but(processor_ca=replace(ca, not_before=NOW + _DAY))),
                "certificate_not_yet_valid",
                "PCK Processor CA notBefore one day after at",
            ),
        ):
            self.add(case_id, quote, reason, desc, "pck_chain")

    def crl(self) -> None:
        pki = self.pki
        root_knobs, proc_knobs = pki.root_crl_knobs, pki.processor_crl_knobs
        stale = CrlKnobs(NOW - 31 * _DAY, NOW - _DAY)
        for case_id, role, crl, reason, desc in (
            (
                "sgx.crl.pck_revoked",
                "pck_crl",
                pki.but(
                    processor_crl_knobs=replace(
                        proc_knobs, revoked=(_serial("unrelated"), sgx_pck().serial)
                    )
                ).processor_crl,
                "certificate_revoked",
                "PCK leaf serial listed in the Processor CA CRL",
            ),
            (
                "sgx.crl.intermediate_revoked",
                "root_crl",
                pki.but(
                    root_crl_knobs=replace(root_knobs, revoked=(pki.processor_ca.serial,))
                ).root_crl,
                "certificate_revoked",
                "PCK Processor CA serial listed in the Root CA CRL",
            ),
            (
                "sgx.crl.pck_crl_bad_signature",
                "pck_crl",
                pki.but(
                    processor_crl_knobs=replace(proc_knobs, signer="not-the-processor-ca")
                ).processor_crl,
                "crl_invalid",
                "Processor CA CRL signed by another key (issuer name right)",
            ),
            (
                "sgx.crl.root_crl_bad_signature",
                "root_crl",
                pki.but(root_crl_knobs=replace(root_knobs, signer="not-the-root")).root_crl,
                "crl_invalid",
                "Root CA CRL signed by another key (issuer name right)",
            ),
            (
                "sgx.crl.pck_crl_stale",
                "pck_crl",
                pki.but(processor_crl_knobs=stale).processor_crl,
                "crl_expired",
                "Processor CA CRL nextUpdate one day before at",
            ),
            (
                "sgx.crl.root_crl_stale",
                "root_crl",
                pki.but(root_crl_knobs=stale).root_crl,
                "crl_expired",
                "Root CA CRL nextUpdate one day before at",
            ),
        ):
            f = self.case_file(case_id, "crl.der", crl.public_bytes(_DER))
            self.add(
                case_id,
                self.sgx,
                reason,
                desc,
                "crl",
                collateral=self.collateral("sgx", **{role: f}),
            )
        self.add(
            "sgx.crl.other_ca_only",
            self.sgx,
            "crl_invalid",
            "only the Platform CA CRL is given for a Processor-CA PCK leaf",
            "crl",
            collateral=self.collateral(
                "sgx",
                pck_crl=self.files["platform_crl"],
                pck_crl_chain=self.files["platform_chain"],
            ),
        )

    def collateral_cases(self) -> None:
        pki = self.pki
        good = pki.tcb_info_body(sgx_tcb_info())
        at = good.rindex(b'"signature":"') + len(b'"signature":"')
        bad_sig = good[:at] + (b"1" if good[at : at + 1] == b"0" else b"0") + good[at + 1 :]
        bad_signer = pki.but(tcb_signing=replace(pki.tcb_signing, signer="not-the-root"))
        past = {"issue_date": NOW - 31 * _DAY, "next_update": NOW - _DAY}
        future = {"issue_date": NOW + _DAY, "next_update": NOW + 31 * _DAY}
        cases: list[tuple[str, str, bytes | None, str, str]] = [
            (
                "sgx.collateral.fmspc_mismatch",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(fmspc=bytes.fromhex("00906EA50000"))),
                "collateral_mismatch",
                "TCB Info for another FMSPC",
            ),
            (
                "sgx.collateral.pceid_mismatch",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(pce_id=b"\x00\x01")),
                "collateral_mismatch",
                "TCB Info pceId 0001, PCK leaf PCE-ID 0000",
            ),
            (
                "tdx.collateral.tcb_info_id_sgx",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(fmspc=TDX_FMSPC)),
                "collateral_mismatch",
                "TCB Info id SGX (right FMSPC) for a TDX quote",
            ),
            (
                "sgx.collateral.tcb_info_added_space",
                "tcb_info",
                add_space(good),
                "collateral_signature_invalid",
                "one space added inside the signed tcbInfo text",
            ),
            (
                "sgx.collateral.tcb_info_bad_signature",
                "tcb_info",
                bad_sig,
                "collateral_signature_invalid",
                "first hex digit of the TCB Info signature changed",
            ),
            (
                "sgx.collateral.tcb_info_expired",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(**past)),
                "collateral_expired",
                "TCB Info nextUpdate one day before at",
            ),
            (
                "sgx.collateral.tcb_info_issued_in_future",
                "tcb_info",
                pki.tcb_info_body(sgx_tcb_info(**future)),
                "collateral_not_yet_valid",
                "TCB Info issueDate one day after at",
            ),
            (
                "sgx.collateral.qe_identity_expired",
                "qe_identity",
                pki.qe_identity_body(sgx_qe_identity(**past)),
                "collateral_expired",
                "QE Identity nextUpdate one day before at",
            ),
            (
                "sgx.collateral.tcb_signer_not_signed_by_root",
                "signing_chain",
                bad_signer.tcb_signing_chain_pem(),
                "collateral_chain_invalid",
                "TCB Signing certificate (Intel root issuer name) signed by another key",
            ),
            (
                "sgx.collateral.tcb_info_missing",
                "tcb_info",
                None,
                "collateral_missing",
                "no TCB Info among the collateral",
            ),
        ]
        for case_id, role, body, reason, desc in cases:
            tee = case_id.split(".", 1)[0]
            fname = "tcb_signing_chain.pem" if role == "signing_chain" else "collateral.json"
            f = self.case_file(case_id, fname, body) if body is not None else None
            self.add(
                case_id,
                self.sgx if tee == "sgx" else self.tdx,
                reason,
                desc,
                "collateral",
                collateral=self.collateral(tee, **{role: f}),
            )

    def authenticity(self) -> None:
        sgx, tdx, pki = self.sgx, self.tdx, self.pki
        debug_qe_attrs = (0x17).to_bytes(8, "little") + (0xE7).to_bytes(8, "little")
        for case_id, quote, reason, desc, feature in (
            (
                "sgx.qe.report_data_mismatch",
                sgx.qe_report_data(bytes(64)),
                "qe_report_data_mismatch",
                "QE REPORTDATA does not bind key + auth data (QE report still signed)",
                "qe_report",
            ),
            (
                "sgx.qe.report_signature_invalid",
                sgx.flip(sgx.field_offset(pki, "qe_report_signature") + 5),
                "qe_report_signature_invalid",
                "one bit of the QE report signature flipped",
                "qe_report",
            ),
            (
                "tdx.qe.report_signature_invalid",
                tdx.flip(tdx.field_offset(pki, "qe_cert_data.qe_report_signature") + 5),
                "qe_report_signature_invalid",
                "one bit of the nested QE report signature flipped",
                "qe_report",
            ),
            (
                "sgx.quote.signature_invalid",
                sgx.flip(sgx.field_offset(pki, "body.report_data")),
                "signature_invalid",
                "one REPORTDATA bit flipped after signing",
                "signature",
            ),
            (
                "tdx.quote.signature_invalid",
                tdx.flip(tdx.field_offset(pki, "body.report_data")),
                "signature_invalid",
                "one REPORTDATA bit flipped after signing",
                "signature",
            ),
            (
                "sgx.qe_identity.mrsigner_mismatch",
                sgx.qe_report_field("mr_signer", b"\x5a" * 32),
                "qe_identity_mismatch",
                "QE MRSIGNER differs from the QE identity",
                "qe_identity",
            ),
            (
                "sgx.qe_identity.isvprodid_mismatch",
                sgx.qe_report_field("isv_prod_id", 2),
                "qe_identity_mismatch",
                "QE ISVPRODID 2, identity says 1",
                "qe_identity",
            ),
            (
                "sgx.qe_identity.miscselect_mismatch",
                sgx.qe_report_field("miscselect", 1),
                "qe_identity_mismatch",
                "QE MISCSELECT bit 0 set under mask FFFFFFFF",
                "qe_identity",
            ),
            (
                "sgx.qe_identity.attributes_mismatch",
                sgx.qe_report_field("attributes", debug_qe_attrs),
                "qe_identity_mismatch",
                "QE ATTRIBUTES DEBUG bit set (inside the mask)",
                "qe_identity",
            ),
            (
                "tdx.qe_identity.mrsigner_mismatch",
                tdx.qe_report_field("mr_signer", QE_MRSIGNER),
                "qe_identity_mismatch",
                "TD quote whose QE has the SGX QE's MRSIGNER",
                "qe_identity",
            ),
            (
                "sgx.header.qe_vendor_id_unknown",
                sgx.qe_vendor_id(bytes(16)),
                "qe_vendor_id_unknown",
                "QE vendor ID all zero (quote properly signed)",
                "header",
            ),
        ):
            self.add(case_id, quote, reason, desc, feature)

    def format(self) -> None:
        sgx, tdx = self.sgx, self.tdx
        for case_id, quote, reason, desc in (
            (
                "sgx.header.key_type_3",
                sgx.key_type(3),
                "unsupported_key_type",
                "attestation key type 3 (ECDSA-384)",
            ),
            ("sgx.header.version_6", sgx.version(6), "unsupported_version", "quote version 6"),
            (
                "sgx.header.tee_type_tdx_in_v3",
                sgx.tee_type(0x81),
                "unsupported_tee_type",
                "v3 quote with TEE type 0x81",
            ),
            (
                "tdx.header.v5_body_type_9",
                QuoteBuilder.tdx(version=5).body_type(9),
                "unsupported_version",
                "v5 body descriptor type 9 (TD10-sized body)",
            ),
            (
                "sgx.cert_data.type_7",
                sgx.cert_data_type(7),
                "unsupported_certification_data",
                "certification data type 7 (platform manifest)",
            ),
            (
                "sgx.sig_data_len_too_large",
                sgx.sig_data_len_delta(1),
                "truncated",
                "signature data length one more than the bytes present",
            ),
            (
                "tdx.trailing.nonzero",
                tdx.append(bytes(16) + b"\x01"),
                "accept",
                "16 zero bytes then 0x01 after a complete quote: ignored, as QVL does "
                "(outside the signed region; reported as a warning)",
            ),
        ):
            self.add(case_id, quote, reason, desc, "format")

    def truncation(self) -> None:
        for tee, base in (("sgx", self.sgx), ("tdx", self.tdx)):
            built = base.build(self.pki)
            seen: set[int] = set()
            for f in built.fields:
                if f.offset < 8 or f.offset in seen:
                    continue  # fewer than 8 bytes cannot be recognised as a quote at all
                seen.add(f.offset)
                self.add(
                    f"{tee}.truncated.{f.name.replace('.', '_')}",
                    built.data[: f.offset],
                    "truncated",
                    f"quote cut where {f.name} starts (offset {f.offset})",
                    "truncation",
                )
            last = built.fields[-1]
            self.add(
                f"{tee}.truncated.cert_data_middle",
                built.data[: last.offset + last.size // 2],
                "truncated",
                "quote cut in the middle of the PCK chain",
                "truncation",
            )

    def policy(self) -> None:
        for case_id, quote, reason, desc in (
            (
                "sgx.policy.debug",
                self.sgx.attributes(0x05 | SGX_ATTR_DEBUG),
                "debug_enabled",
                "SGX ATTRIBUTES.DEBUG set",
            ),
            (
                "tdx.policy.debug",
                self.tdx.td_attributes(TD_ATTR_SEPT_VE_DISABLE | TD_ATTR_DEBUG),
                "debug_enabled",
                "TDATTRIBUTES.DEBUG set",
            ),
            (
                "tdx.policy.sept_ve_disable_clear",
                self.tdx.td_attributes(0),
                "attribute_rejected",
                "TDATTRIBUTES.SEPT_VE_DISABLE clear",
            ),
            (
                "tdx.policy.mr_service_td_nonzero",
                self.td15.mr_service_td(b"\x11" * 48),
                "measurement_mismatch",
                "TD15 MRSERVICETD non-zero, policy lists none",
            ),
        ):
            self.add(case_id, quote, reason, desc, "policy")


def generate_vectors(outdir: str | Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/intel/...`` and return the manifest entries (paths relative to outdir).

    Deterministic: the same bytes every run. ``<outdir>/intel`` is recreated.
    """
    out = Path(outdir)
    shutil.rmtree(out / "intel", ignore_errors=True)
    v = _Vectors(out)
    for group in (
        v.good,
        v.tcb,
        v.module,
        v.chain,
        v.crl,
        v.collateral_cases,
        v.authenticity,
        v.format,
        v.truncation,
        v.policy,
    ):
        group()
    return v.cases


def write_samples(outdir: str | Path) -> list[str]:
    """``<outdir>/{sgx,tdx}/quote.bin`` + ``collateral/`` and ``<outdir>/trust/`` (demo)."""
    out = Path(outdir)
    shutil.rmtree(out, ignore_errors=True)
    pki = FakeIntelPKI()
    written: list[str] = []

    def put(rel: str, data: bytes) -> None:
        p = out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        written.append(rel)

    put("trust/intel_root_ca.pem", pem(pki.root_cert))
    for tee, builder, ca, tcb, ident in (
        ("sgx", QuoteBuilder.sgx(), "processor", sgx_tcb_info(), sgx_qe_identity()),
        ("tdx", QuoteBuilder.tdx(), "platform", tdx_tcb_info(), td_qe_identity()),
    ):
        put(f"{tee}/quote.bin", builder.sign(pki))
        put(f"{tee}/collateral/tcb_info.json", pki.tcb_info_body(tcb))
        put(f"{tee}/collateral/qe_identity.json", pki.qe_identity_body(ident))
        put(f"{tee}/collateral/tcb_info_issuer_chain.pem", pki.tcb_signing_chain_pem())
        put(f"{tee}/collateral/pck_crl.der", pki.pck_crl(ca).public_bytes(_DER))
        put(f"{tee}/collateral/pck_crl_issuer_chain.pem", pki.pck_crl_issuer_chain_pem(ca))
        put(f"{tee}/collateral/root_ca_crl.der", pki.root_crl.public_bytes(_DER))
    return written
