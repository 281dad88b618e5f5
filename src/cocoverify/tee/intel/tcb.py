"""The TCB verdict exactly as QVL computes it (QVL ``QuoteVerifier::verify``,
``Checks/TcbLevelCheck.cpp``, ``TdxModuleCheck.cpp``, ``TDRelaunchCheck.cpp``).

QE identity match and QE TCB level (``EnclaveReportVerifier.cpp``), TDX module identity and
module TCB level (``TdxModuleCheck.cpp``), platform level matching over the levels sorted
by ``TcbLevel.cpp operator>``, status merging (``convergeTcbStatusWithQeTcbStatus``) and TD
relaunch (``TDRelaunchCheck.cpp``). Advisory IDs are the union of the matched levels'.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass

from cocoverify.errors import AuthenticityError, CollateralInvalid, Reason
from cocoverify.tee.intel.documents import (
    PLATFORM_STATUSES,
    EnclaveIdentity,
    ModuleIdentity,
    SimpleLevel,
    TcbInfo,
    TcbLevel,
)
from cocoverify.tee.intel.parse import Quote, SgxReportBody, TdReportBody

__all__ = [
    "TCB_STATUSES",
    "IntelTcbResult",
    "appraise_tcb",
    "check_qe_identity",
    "check_tdx_module",
    "tcb_inputs",
]

#: Every status the TCB verdict can take: the platform statuses (QVL ``TcbStatus.h``) and
#: the TD relaunch ones (QVL ``TDRelaunchCheck.cpp``).
TCB_STATUSES = PLATFORM_STATUSES | {"TDRelaunchAdvised", "TDRelaunchAdvisedConfigurationNeeded"}


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
    """QE identity match (QVL ``QuoteVerifier::verify`` step 8, ``EnclaveReportVerifier.cpp``);
    returns the QE level."""
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
    """TDX module identity (QVL ``QuoteVerifier::verify`` step 6) and module TCB level
    (``TdxModuleCheck.cpp``).

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
    """Module / QE status merged into the platform status (QVL ``TcbLevelCheck.cpp``,
    ``convergeTcbStatusWithQeTcbStatus``)."""
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
    """QVL ``checkTcbLevel`` and the status merges (``TcbLevelCheck.cpp``)."""
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


def tcb_inputs(quote: Quote) -> tuple[object, ...]:
    """Every field of ``quote`` that ``check_qe_identity`` and ``appraise_tcb`` read (of the
    QE report: MISCSELECT, ATTRIBUTES, MRSIGNER, ISVPRODID, ISVSVN; for a TD, the module and
    TEE TCB fields): with the PCK's TCB and the documents, this determines their result, so
    it keys their memo (``prepared.py``). A new platform's QE report differs in its REPORTDATA
    and CPUSVN, which neither reads: its verdict is found."""
    qe = quote.qe_report
    head = (
        quote.header.version,
        quote.body_type,
        qe.misc_select,
        qe.attributes,
        qe.mr_signer,
        qe.isv_prod_id,
        qe.isv_svn,
    )
    body = quote.body
    if isinstance(body, TdReportBody):
        return (
            *head,
            body.tee_tcb_svn,
            body.mr_signer_seam,
            body.seam_attributes,
            body.tee_tcb_svn2,
        )
    return head


def _td_relaunch(
    quote: Quote,
    tcb: TcbInfo,
    sgx_level: TcbLevel,
    tdx_status: str,
    module_level: SimpleLevel,
    qe_level: SimpleLevel,
) -> str:
    """QVL ``TDRelaunchCheck.cpp``: TD 1.5 bodies only."""
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
