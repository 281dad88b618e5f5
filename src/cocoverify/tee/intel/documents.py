"""TCB Info and QE Identity as frozen models (QVL ``TcbInfo.cpp``, ``TcbLevel.cpp``,
``EnclaveIdentityV2.cpp``): the documents' schema, closed (known statuses only, 16 components,
no duplicated levels, levels sorted as QVL sorts them). No crypto: ``collateral.py`` checks
the signatures and picks the document a quote uses.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from dataclasses import dataclass
from typing import Any

from cocoverify.errors import CollateralInvalid, Reason

__all__ = [
    "PLATFORM_STATUSES",
    "SIMPLE_STATUSES",
    "EnclaveIdentity",
    "ModuleIdentity",
    "SimpleLevel",
    "TcbInfo",
    "TcbLevel",
    "parse_enclave_identity",
    "parse_tcb_info",
]

#: Platform level statuses (QVL Verifiers/TcbStatus.h).
PLATFORM_STATUSES = frozenset(
    {
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
        "OutOfDate",
        "OutOfDateConfigurationNeeded",
        "Revoked",
    }
)
#: QE identity and TDX module levels.
SIMPLE_STATUSES = frozenset({"UpToDate", "OutOfDate", "Revoked"})


def _bad(msg: str) -> CollateralInvalid:
    return CollateralInvalid(msg, reason=Reason.COLLATERAL_MALFORMED)


def _time(where: str, value: Any) -> _dt.datetime:
    if not isinstance(value, str):
        raise _bad(f"{where}: expected a date string")
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _bad(f"{where}: not ISO 8601: {value!r}") from None
    if t.tzinfo is None:
        raise _bad(f"{where}: no time zone")
    return t.astimezone(_dt.UTC)


def _int(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(f"{where}: expected a non-negative integer")
    return value


def _hex(where: str, value: Any, n: int) -> bytes:
    if not isinstance(value, str):
        raise _bad(f"{where}: expected hex text")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise _bad(f"{where}: not hex") from None
    if len(raw) != n:
        raise _bad(f"{where}: expected {n} bytes, got {len(raw)}")
    return raw


def _advisories(where: str, level: dict[str, Any]) -> tuple[str, ...]:
    ids = level.get("advisoryIDs", [])
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _bad(f"{where}.advisoryIDs: expected a list of strings")
    return tuple(ids)


def _status(where: str, value: Any, allowed: frozenset[str]) -> str:
    # go-tdx-guest pcs.TcbComponentStatus: unknown statuses are rejected (closed enum)
    if value not in allowed:
        raise _bad(f"{where}.tcbStatus: unknown status {value!r}")
    return str(value)


@dataclass(frozen=True, slots=True)
class TcbLevel:
    """One TCB level of TCB Info."""

    sgx: tuple[int, ...]
    pce_svn: int
    tdx: tuple[int, ...] | None
    date: _dt.datetime
    status: str
    advisory_ids: tuple[str, ...]

    @property
    def sort_key(self) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
        """QVL ``TcbLevel.cpp`` ``operator>``: SGX components, PCESVN, TDX components."""
        return (self.sgx, self.pce_svn, self.tdx or ())


@dataclass(frozen=True, slots=True)
class SimpleLevel:
    """A QE identity or TDX module level: isvsvn threshold."""

    isv_svn: int
    date: _dt.datetime
    status: str
    advisory_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ModuleIdentity:
    """A TDX module identity (``tdxModuleIdentities[]`` entry or ``tdxModule``)."""

    id: str
    mr_signer: bytes
    attributes: bytes
    attributes_mask: bytes
    levels: tuple[SimpleLevel, ...]


@dataclass(frozen=True, slots=True)
class TcbInfo:
    """TCB Info v2 (SGX) or v3 (SGX/TDX) (QVL ``TcbInfo.cpp``)."""

    id: str
    version: int
    issue_date: _dt.datetime
    next_update: _dt.datetime
    fmspc: bytes
    pce_id: bytes
    tcb_type: int
    evaluation_data_number: int
    tdx_module: ModuleIdentity | None
    tdx_module_identities: tuple[ModuleIdentity, ...]
    levels: tuple[TcbLevel, ...]  # sorted descending (QVL order)


@dataclass(frozen=True, slots=True)
class EnclaveIdentity:
    """QE Identity v2 (QVL ``EnclaveIdentityV2.cpp``)."""

    id: str
    version: int
    issue_date: _dt.datetime
    next_update: _dt.datetime
    evaluation_data_number: int
    misc_select: bytes
    misc_select_mask: bytes
    attributes: bytes
    attributes_mask: bytes
    mr_signer: bytes
    isv_prod_id: int
    levels: tuple[SimpleLevel, ...]  # listed order


def _simple_levels(where: str, value: Any) -> tuple[SimpleLevel, ...]:
    if not isinstance(value, list) or not value:
        raise _bad(f"{where}: expected a non-empty list")
    out = []
    for i, lv in enumerate(value):
        w = f"{where}[{i}]"
        if not isinstance(lv, dict) or not isinstance(lv.get("tcb"), dict):
            raise _bad(f"{w}: malformed level")
        out.append(
            SimpleLevel(
                isv_svn=_int(f"{w}.tcb.isvsvn", lv["tcb"].get("isvsvn")),
                date=_time(f"{w}.tcbDate", lv.get("tcbDate")),
                status=_status(w, lv.get("tcbStatus"), SIMPLE_STATUSES),
                advisory_ids=_advisories(w, lv),
            )
        )
    return tuple(out)


def _module(where: str, value: Any, with_levels: bool) -> ModuleIdentity:
    if not isinstance(value, dict):
        raise _bad(f"{where}: expected an object")
    return ModuleIdentity(
        id=str(value.get("id", "")),
        mr_signer=_hex(f"{where}.mrsigner", value.get("mrsigner"), 48),
        attributes=_hex(f"{where}.attributes", value.get("attributes"), 8),
        attributes_mask=_hex(f"{where}.attributesMask", value.get("attributesMask"), 8),
        levels=_simple_levels(f"{where}.tcbLevels", value.get("tcbLevels")) if with_levels else (),
    )


def _components(where: str, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or len(value) != 16:
        raise _bad(f"{where}: expected 16 components")
    out = []
    for i, c in enumerate(value):
        if not isinstance(c, dict):
            raise _bad(f"{where}[{i}]: expected an object")
        out.append(_int(f"{where}[{i}].svn", c.get("svn")))
    return tuple(out)


def parse_tcb_info(body: dict[str, Any]) -> TcbInfo:
    """Validate and model a ``tcbInfo`` object (QVL TcbInfo.cpp, TcbLevel.cpp)."""
    version = _int("tcbInfo.version", body.get("version"))
    if version not in (2, 3):
        raise _bad(f"tcbInfo.version {version} is not supported (2 or 3)")
    tee_id = body.get("id", "SGX") if version == 3 else "SGX"
    if version == 3 and tee_id not in ("SGX", "TDX"):
        raise _bad(f"tcbInfo.id {tee_id!r}")
    if "id" not in body and version == 3:
        raise _bad("tcbInfo.id missing")
    tcb_type = _int("tcbInfo.tcbType", body.get("tcbType"))
    if tcb_type != 0:
        raise _bad(f"tcbInfo.tcbType {tcb_type} (must be 0)")
    is_tdx = tee_id == "TDX"
    levels_raw = body.get("tcbLevels")
    if not isinstance(levels_raw, list) or not levels_raw:
        raise _bad("tcbInfo.tcbLevels: expected a non-empty list")
    levels = []
    for i, lv in enumerate(levels_raw):
        w = f"tcbInfo.tcbLevels[{i}]"
        if not isinstance(lv, dict) or not isinstance(lv.get("tcb"), dict):
            raise _bad(f"{w}: malformed level")
        tcb = lv["tcb"]
        tdx = None
        if version == 2:
            sgx = tuple(
                _int(f"{w}.tcb.sgxtcbcomp{n:02d}svn", tcb.get(f"sgxtcbcomp{n:02d}svn"))
                for n in range(1, 17)
            )
        else:
            sgx = _components(f"{w}.tcb.sgxtcbcomponents", tcb.get("sgxtcbcomponents"))
            if is_tdx:
                tdx = _components(f"{w}.tcb.tdxtcbcomponents", tcb.get("tdxtcbcomponents"))
        levels.append(
            TcbLevel(
                sgx=sgx,
                pce_svn=_int(f"{w}.tcb.pcesvn", tcb.get("pcesvn")),
                tdx=tdx,
                date=_time(f"{w}.tcbDate", lv.get("tcbDate")),
                status=_status(w, lv.get("tcbStatus"), PLATFORM_STATUSES),
                advisory_ids=_advisories(w, lv),
            )
        )
    levels.sort(key=lambda lv: lv.sort_key, reverse=True)
    for a, b in itertools.pairwise(levels):
        if a.sort_key == b.sort_key:
            raise _bad("tcbInfo.tcbLevels: duplicated TCB levels")
    module = None
    identities: tuple[ModuleIdentity, ...] = ()
    if is_tdx:
        module = _module("tcbInfo.tdxModule", body.get("tdxModule"), with_levels=False)
        raw_ids = body.get("tdxModuleIdentities", [])
        if not isinstance(raw_ids, list):
            raise _bad("tcbInfo.tdxModuleIdentities: expected a list")
        identities = tuple(
            _module(f"tcbInfo.tdxModuleIdentities[{i}]", m, with_levels=True)
            for i, m in enumerate(raw_ids)
        )
    return TcbInfo(
        id=tee_id,
        version=version,
        issue_date=_time("tcbInfo.issueDate", body.get("issueDate")),
        next_update=_time("tcbInfo.nextUpdate", body.get("nextUpdate")),
        fmspc=_hex("tcbInfo.fmspc", body.get("fmspc"), 6),
        pce_id=_hex("tcbInfo.pceId", body.get("pceId"), 2),
        tcb_type=tcb_type,
        evaluation_data_number=_int(
            "tcbInfo.tcbEvaluationDataNumber", body.get("tcbEvaluationDataNumber", 0)
        ),
        tdx_module=module,
        tdx_module_identities=identities,
        levels=tuple(levels),
    )


def parse_enclave_identity(body: dict[str, Any]) -> EnclaveIdentity:
    """Validate and model an ``enclaveIdentity`` object (QVL EnclaveIdentityV2.cpp)."""
    version = _int("enclaveIdentity.version", body.get("version"))
    if version != 2:
        raise _bad(f"enclaveIdentity.version {version} is not supported (2)")
    ident = body.get("id")
    if ident not in ("QE", "QVE", "TD_QE"):
        raise _bad(f"enclaveIdentity.id {ident!r}")
    return EnclaveIdentity(
        id=str(ident),
        version=version,
        issue_date=_time("enclaveIdentity.issueDate", body.get("issueDate")),
        next_update=_time("enclaveIdentity.nextUpdate", body.get("nextUpdate")),
        evaluation_data_number=_int(
            "enclaveIdentity.tcbEvaluationDataNumber", body.get("tcbEvaluationDataNumber", 0)
        ),
        misc_select=_hex("enclaveIdentity.miscselect", body.get("miscselect"), 4),
        misc_select_mask=_hex("enclaveIdentity.miscselectMask", body.get("miscselectMask"), 4),
        attributes=_hex("enclaveIdentity.attributes", body.get("attributes"), 16),
        attributes_mask=_hex("enclaveIdentity.attributesMask", body.get("attributesMask"), 16),
        mr_signer=_hex("enclaveIdentity.mrsigner", body.get("mrsigner"), 32),
        isv_prod_id=_int("enclaveIdentity.isvprodid", body.get("isvprodid")),
        levels=_simple_levels("enclaveIdentity.tcbLevels", body.get("tcbLevels")),
    )
