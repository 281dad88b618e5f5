"""TEST ONLY. Intel collateral bodies: TCB Info (v2/v3) and QE Identity v2, PCS member order.

Shapes follow QVL ``Src/AttestationParsers/src/Json/TcbInfo.cpp``, ``TcbLevel.cpp`` and
``Verifiers/EnclaveIdentityV2.cpp``. The default TCB levels are chosen so that every TCB
status is reached by real level matching (see ``vectors/README.md``). Signing is
:meth:`cocoverify_testing.intel.FakeIntelPKI.sign_body`.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from cocoverify_testing.intel.pck import SGX_FMSPC, TDX_FMSPC
from cocoverify_testing.pki import iso, utc

__all__ = [
    "ALL_TCB_STATUSES",
    "QE_MRSIGNER",
    "SGX_LEVELS",
    "SGX_PLATFORM_TCB",
    "TDX_LEVELS",
    "TDX_MODULE_IDENTITIES",
    "TDX_TEE_TCB_SVN",
    "TD_QE_MRSIGNER",
    "EnclaveTcbLevel",
    "QeIdentity",
    "TcbInfo",
    "TcbLevel",
    "TdxModuleIdentity",
    "add_space",
    "compact_json",
    "sgx_qe_identity",
    "sgx_tcb_info",
    "td_qe_identity",
    "tdx_tcb_info",
]

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

# The real QE Identity values (PCS QE Identity v2 responses): SGX QE and TDX TD_QE.
QE_MRSIGNER = bytes.fromhex("8C4F5775D796503E96137F77C68A829A0056AC8DED70140B081B094490C57BFF")
TD_QE_MRSIGNER = bytes.fromhex("DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5")


_TCB_ISSUE = utc("2025-05-20T10:00:00Z")
_TCB_NEXT = utc("2025-06-19T10:00:00Z")
_QE_ISSUE = utc("2025-05-20T10:30:00Z")
_QE_NEXT = utc("2025-06-19T10:30:00Z")


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
        out["issueDate"] = iso(self.issue_date)
        out["nextUpdate"] = iso(self.next_update)
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
            "issueDate": iso(self.issue_date),
            "nextUpdate": iso(self.next_update),
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


def compact_json(value: Any) -> str:
    """The compact JSON text PCS signs (no spaces, ASCII)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def add_space(body: bytes) -> bytes:
    """The signed member text with one space added after its first ``:`` (signature breaks)."""
    start = body.index(b":") + 1  # after the member name
    inner = body.index(b":", start + 1)
    return body[: inner + 1] + b" " + body[inner + 1 :]
