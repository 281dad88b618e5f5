"""Intel TCB appraisal exactly as QVL does it (intel.md §5, §6).

TCB Info v2/v3 and QE Identity v2 are parsed into frozen models (closed status enums,
16 components, no duplicated levels); then: QE identity match and QE TCB level (§6.1 step 8),
TDX module identity (step 6, §6.3), platform level matching (§6.2), status merging and TD
relaunch (§6.4). Advisory IDs are the union of the matched levels'.
"""

from __future__ import annotations

import datetime as _dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cocoverify.errors import (
    AuthenticityError,
    CollateralInvalid,
    Reason,
)
from cocoverify.tee.intel.parse import Quote, SgxReportBody, TdReportBody

__all__ = [
    "PLATFORM_STATUSES",
    "EnclaveIdentity",
    "IntelTcbResult",
    "TcbInfo",
    "TcbLevel",
    "appraise_tcb",
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
#: Every status the TCB verdict can take: platform statuses and the TD relaunch ones (§6.4).
TCB_STATUSES = PLATFORM_STATUSES | {"TDRelaunchAdvised", "TDRelaunchAdvisedConfigurationNeeded"}
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
        """QVL TcbLevel operator> (§6.2)."""
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
    """TCB Info v2 (SGX) or v3 (SGX/TDX) (intel.md §5.1)."""

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
    """QE Identity v2 (intel.md §5.2)."""

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


@dataclass(frozen=True, slots=True)
class IntelTcbResult:
    """The TCB verdict and the levels that produced it."""

    status: str | None  # None when no level matches (tcb_not_supported)
    advisory_ids: tuple[str, ...]
    tcb_date: _dt.datetime | None
    platform_level: TcbLevel | None
    sgx_level: TcbLevel | None
    qe_level: SimpleLevel | None
    module_level: SimpleLevel | None
    module_id: str | None
    not_supported: str | None  # why, when status is None


def _and(a: bytes, b: bytes) -> bytes:
    return bytes(x & y for x, y in zip(a, b, strict=True))


def check_qe_identity(qe: SgxReportBody, ident: EnclaveIdentity) -> SimpleLevel | None:
    """QE identity match (§6.1 step 8, EnclaveReportVerifier.cpp); returns the QE level."""
    misc = qe.misc_select.to_bytes(4, "little")
    if _and(misc, ident.misc_select_mask) != ident.misc_select:
        raise AuthenticityError(
            "QE MISCSELECT does not match the QE identity", reason=Reason.QE_IDENTITY_MISMATCH
        )
    if _and(qe.attributes, ident.attributes_mask) != ident.attributes:
        raise AuthenticityError(
            "QE ATTRIBUTES do not match the QE identity", reason=Reason.QE_IDENTITY_MISMATCH
        )
    if qe.mr_signer != ident.mr_signer:
        raise AuthenticityError(
            "QE MRSIGNER does not match the QE identity", reason=Reason.QE_IDENTITY_MISMATCH
        )
    if qe.isv_prod_id != ident.isv_prod_id:
        raise AuthenticityError(
            "QE ISVPRODID does not match the QE identity", reason=Reason.QE_IDENTITY_MISMATCH
        )
    # first level in listed order with isvsvn <= QE ISVSVN
    return next((lv for lv in ident.levels if lv.isv_svn <= qe.isv_svn), None)


def _module_identity(tcb: TcbInfo, major: int) -> ModuleIdentity | None:
    want = f"TDX_{major:02X}"
    return next((m for m in tcb.tdx_module_identities if m.id.upper() == want), None)


def check_tdx_module(quote: Quote, tcb: TcbInfo) -> tuple[SimpleLevel | None, str | None, bool]:
    """TDX module identity (§6.1 step 6) and module TCB level (§6.3).

    Returns (module level, module id, module_checked). Raises on mismatch or missing identity.
    """
    body = quote.body
    assert isinstance(body, TdReportBody)
    assert tcb.tdx_module is not None
    expected = tcb.tdx_module
    major = body.tee_tcb_svn[1]
    ident = None
    if quote.header.version > 3 and major > 0:
        ident = _module_identity(tcb, major)
        if ident is None:
            raise CollateralInvalid(
                f"TCB Info has no TDX module identity TDX_{major:02X}",
                reason=Reason.TDX_MODULE_IDENTITY_MISSING,
            )
        expected = ident
    if body.mr_signer_seam != expected.mr_signer:
        raise AuthenticityError(
            "MRSIGNERSEAM is not the TDX module signer of the TCB Info",
            reason=Reason.TDX_MODULE_MISMATCH,
        )
    # QVL compares SEAMATTRIBUTES without the mask, and requires them zero
    if any(body.seam_attributes) or body.seam_attributes != expected.attributes:
        raise AuthenticityError(
            "SEAMATTRIBUTES do not match the TDX module identity", reason=Reason.TDX_MODULE_MISMATCH
        )
    if ident is None:
        return None, None, False
    level = next((lv for lv in ident.levels if body.tee_tcb_svn[0] >= lv.isv_svn), None)
    return level, ident.id, True


def _sgx_match(level: TcbLevel, comps: Sequence[int], pce_svn: int) -> bool:
    return all(c >= lc for c, lc in zip(comps, level.sgx, strict=True)) and pce_svn >= level.pce_svn


_OOD = {
    "UpToDate": "OutOfDate",
    "SWHardeningNeeded": "OutOfDate",
    "ConfigurationNeeded": "OutOfDateConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded": "OutOfDateConfigurationNeeded",
}


def _converge(status: str, other: str | None) -> str:
    """Module / QE status merged into the platform status (§6.4)."""
    if other == "OutOfDate":
        return _OOD.get(status, status)
    if other == "Revoked":
        return "Revoked"
    return status


def appraise_tcb(
    quote: Quote,
    *,
    pck_components: Sequence[int],
    pck_pce_svn: int,
    tcb: TcbInfo,
    qe_level: SimpleLevel | None,
) -> IntelTcbResult:
    """QVL checkTcbLevel + merges (§6.2-§6.4). Module identity must already be checked."""
    body = quote.body
    tdx = isinstance(body, TdReportBody) and tcb.id == "TDX"
    module_level: SimpleLevel | None = None
    module_id: str | None = None
    module_checked = False
    if tdx:
        module_level, module_id, module_checked = check_tdx_module(quote, tcb)

    def none(why: str, sgx_level: TcbLevel | None = None) -> IntelTcbResult:
        return IntelTcbResult(
            None, (), None, None, sgx_level, qe_level, module_level, module_id, why
        )

    if qe_level is None:
        return none("no QE identity level matches the QE ISVSVN")
    sgx_level = next((lv for lv in tcb.levels if _sgx_match(lv, pck_components, pck_pce_svn)), None)
    if sgx_level is None:
        return none("no TCB level matches the PCK's SGX components and PCESVN")
    platform = sgx_level
    status = sgx_level.status
    if tdx:
        assert isinstance(body, TdReportBody)
        start = 2 if body.tee_tcb_svn[1] > 0 else 0
        svn = body.tee_tcb_svn
        tdx_level = next(
            (
                lv
                for lv in tcb.levels
                if _sgx_match(lv, pck_components, pck_pce_svn)
                and lv.tdx is not None
                and all(svn[i] >= lv.tdx[i] for i in range(start, 16))
            ),
            None,
        )
        if tdx_level is None:
            return none("no TCB level matches the TEE_TCB_SVN", sgx_level)
        platform = tdx_level
        status = tdx_level.status
        if module_checked:
            if module_level is None:
                return none("no TDX module level matches the module ISVSVN", sgx_level)
            status = _converge(status, module_level.status)
            status = _td_relaunch(quote, tcb, sgx_level, status, module_level, qe_level)
    status = _converge(status, qe_level.status)
    advisories: list[str] = []
    for lv in (platform, module_level, qe_level):
        if lv is not None:
            advisories.extend(a for a in lv.advisory_ids if a not in advisories)
    # tcbDate: the earliest of the levels that produced the status (docs/intel.md), so an
    # OutOfDate grace period never counts from a newer component's date
    dates = [lv.date for lv in (platform, module_level, qe_level) if lv is not None]
    return IntelTcbResult(
        status,
        tuple(sorted(advisories)),
        min(dates),
        platform,
        sgx_level,
        qe_level,
        module_level,
        module_id,
        None,
    )


def _td_relaunch(
    quote: Quote,
    tcb: TcbInfo,
    sgx_level: TcbLevel,
    tdx_status: str,
    module_level: SimpleLevel,
    qe_level: SimpleLevel,
) -> str:
    """TDRelaunchCheck.cpp (§6.4): TD 1.5 bodies only."""
    body = quote.body
    if quote.body_type != 3 or not isinstance(body, TdReportBody) or body.tee_tcb_svn2 is None:
        return tdx_status
    if qe_level.status in ("OutOfDate", "Revoked"):
        return tdx_status
    if sgx_level.status not in (
        "UpToDate",
        "SWHardeningNeeded",
        "ConfigurationNeeded",
        "ConfigurationAndSWHardeningNeeded",
    ):
        return tdx_status
    if tdx_status not in ("OutOfDate", "OutOfDateConfigurationNeeded"):
        return tdx_status
    if module_level.status != "OutOfDate":
        return tdx_status
    highest = tcb.levels[0]
    if highest.tdx is None:
        return tdx_status
    svn2 = body.tee_tcb_svn2
    if svn2[1] == 0:
        ok = svn2[0] >= highest.tdx[0] and svn2[2] >= highest.tdx[2]
    else:
        ident = _module_identity(tcb, svn2[1])
        if ident is None:
            raise CollateralInvalid(
                f"TCB Info has no TDX module identity TDX_{svn2[1]:02X} for TEE_TCB_SVN2",
                reason=Reason.TDX_MODULE_IDENTITY_MISSING,
            )
        ok = svn2[0] >= ident.levels[0].isv_svn and svn2[2] >= highest.tdx[2]
    if not ok:
        return tdx_status
    config = "Configuration" in sgx_level.status or "Configuration" in tdx_status
    return "TDRelaunchAdvisedConfigurationNeeded" if config else "TDRelaunchAdvised"
