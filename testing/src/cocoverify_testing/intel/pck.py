"""TEST ONLY. PCK leaf certificates: the Intel SGX extension and the leaf's facts.

The extension is hand-encoded DER (``cocoverify_testing.der``) so that malformed variants
can be produced; its shape follows QVL ``Src/AttestationParsers/src/ParserUtils.h`` and
``X509/*.cpp``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from cocoverify_testing.der import der_bool, der_enum, der_int, der_octets, der_oid, der_seq
from cocoverify_testing.pki import fill, serial_from_label, utc

__all__ = [
    "SGX_EXTENSION_OID",
    "SGX_FMSPC",
    "TDX_FMSPC",
    "PckSpec",
    "SgxExtension",
    "sgx_pck",
    "tdx_pck",
]

#: PCK certificate SGX extension.
SGX_EXTENSION_OID = "1.2.840.113741.1.13.1"

SGX_FMSPC = bytes.fromhex("00906EA10000")
TDX_FMSPC = bytes.fromhex("90C06F000000")

_PCK_NOT_BEFORE = utc("2024-06-01T08:00:00Z")
_PCK_NOT_AFTER = utc("2031-06-01T08:00:00Z")


@dataclass(frozen=True)
class SgxExtension:
    """The Intel SGX extension of a PCK leaf. ``cpusvn`` defaults to the 16 component SVNs."""

    fmspc: bytes = SGX_FMSPC
    pce_id: bytes = b"\x00\x00"
    tcb_components: tuple[int, ...] = (5, 5, 2, 2, 4, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    pcesvn: int = 13
    cpusvn: bytes | None = None
    ppid: bytes = field(default_factory=lambda: fill("ppid", 16))
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


@dataclass(frozen=True)
class PckSpec:
    """A PCK leaf: issuing CA (``platform`` or ``processor``), key, validity, extension."""

    ca: str = "processor"
    key: str = "intel-pck-sgx"
    serial: int = serial_from_label("intel-pck-sgx")
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
        serial=serial_from_label("intel-pck-tdx"),
        extension=SgxExtension(
            fmspc=TDX_FMSPC,
            sgx_type=1,
            platform_instance_id=fill("platform-instance", 16),
            configuration=(True, True, True),
        ),
    )
