"""The claims of an Intel quote: the one place they are built (docs/intel.md).

``quote_claims`` holds every header and body field in snake_case (QVL ``QuoteStructures.h``
names; ``cocoverify show`` prints it before any verification); ``appraisal`` adds the PCK
facts, the TCB verdict and the dates of the collateral that authenticated them.

The added parts are read-only mappings (``result.freeze``) built once (``prepared.py``):
``pck_claims`` with the PCK chain's plan, ``tcb_claims`` with the verdict,
``collateral_claims`` per documents and CRLs used; only the quote's own fields are read per
call.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cocoverify.errors import Reason
from cocoverify.result import Appraisal, freeze
from cocoverify.tee.intel.documents import EnclaveIdentity, SimpleLevel, TcbInfo, TcbLevel
from cocoverify.tee.intel.parse import Quote, SgxReportBody, TdReportBody
from cocoverify.tee.intel.tcb import IntelTcbResult

if TYPE_CHECKING:
    from cocoverify.tee.intel.pck import PckInfo

__all__ = [
    "SGX_ATTRIBUTE_FLAGS",
    "TD_ATTRIBUTE_FLAGS",
    "appraisal",
    "collateral_claims",
    "pck_claims",
    "quote_claims",
    "tcb_claims",
]

#: SGX ATTRIBUTES.FLAGS bits (SGX SDK ``arch.h``).
SGX_ATTRIBUTE_FLAGS = {
    0: "init",
    1: "debug",
    2: "mode64bit",
    4: "provision_key",
    5: "einittoken_key",
    7: "kss",
}
#: TDATTRIBUTES bits: TUD bit 0, SEC bits 28, 30, 31, OTHER bit 63 (as go-tdx-guest
#: ``validate/validate.go`` and dcap-qvl ``quote.rs TDAttributes`` read them).
TD_ATTRIBUTE_FLAGS = {0: "debug", 28: "sept_ve_disable", 30: "pks", 31: "kl", 63: "perfmon"}


def _flags(value: int, names: dict[int, str]) -> Mapping[str, bool]:
    return MappingProxyType({name: bool(value >> bit & 1) for bit, name in names.items()})


def quote_claims(quote: Quote) -> dict[str, Any]:
    """Every header and body field, snake_case (no verification implied); the nested maps
    are read-only already (as ``result.freeze`` makes them)."""
    h = quote.header
    claims: dict[str, Any] = {
        "quote_version": h.version,
        "attestation_key_type": h.attestation_key_type,
        "tee_type": h.tee_type,
        "qe_svn": h.qe_svn,
        "pce_svn": h.pce_svn,
        "qe_vendor_id": h.qe_vendor_id,
        "user_data": h.user_data,
        "body_type": {1: "sgx", 2: "td10", 3: "td15"}[quote.body_type],
    }
    body = quote.body
    if isinstance(body, SgxReportBody):
        claims.update(
            cpu_svn=body.cpu_svn,
            misc_select=body.misc_select,
            attributes=body.attributes,
            attributes_flags=_flags(body.flags, SGX_ATTRIBUTE_FLAGS),
            xfrm=body.xfrm,
            mr_enclave=body.mr_enclave,
            mr_signer=body.mr_signer,
            isv_prod_id=body.isv_prod_id,
            isv_svn=body.isv_svn,
            config_id=body.config_id,
            config_svn=body.config_svn,
            isv_ext_prod_id=body.isv_ext_prod_id,
            isv_family_id=body.isv_family_id,
            report_data=body.report_data,
        )
    else:
        assert isinstance(body, TdReportBody)
        claims.update(
            tee_tcb_svn=body.tee_tcb_svn,
            mr_seam=body.mr_seam,
            mr_signer_seam=body.mr_signer_seam,
            seam_attributes=body.seam_attributes,
            td_attributes=body.td_attributes,
            td_attributes_flags=_flags(
                int.from_bytes(body.td_attributes, "little"), TD_ATTRIBUTE_FLAGS
            ),
            xfam=body.xfam,
            mr_td=body.mr_td,
            mr_config_id=body.mr_config_id,
            mr_owner=body.mr_owner,
            mr_owner_config=body.mr_owner_config,
            rtmr0=body.rtmrs[0],
            rtmr1=body.rtmrs[1],
            rtmr2=body.rtmrs[2],
            rtmr3=body.rtmrs[3],
            report_data=body.report_data,
        )
        if body.tee_tcb_svn2 is not None:
            claims["tee_tcb_svn2"] = body.tee_tcb_svn2
            claims["mr_service_td"] = body.mr_service_td
    qe = quote.qe_report
    claims["qe"] = MappingProxyType(
        {
            "isv_svn": qe.isv_svn,
            "isv_prod_id": qe.isv_prod_id,
            "mr_enclave": qe.mr_enclave,
            "mr_signer": qe.mr_signer,
            "misc_select": qe.misc_select,
            "attributes": qe.attributes,
        }
    )
    claims["certification_data_type"] = quote.certification.type
    return claims


def pck_claims(i: PckInfo) -> Mapping[str, Any]:
    """``pck``: the facts of the PCK leaf's SGX extension and its CA (read-only, as
    ``result.freeze`` makes it: the components as a tuple)."""
    return MappingProxyType(
        {
            "fmspc": i.fmspc,
            "pce_id": i.pce_id,
            "ppid": i.ppid,
            "cpu_svn": i.cpu_svn,
            "pce_svn": i.pce_svn,
            "tcb_components": tuple(i.tcb_components),
            "sgx_type": i.sgx_type,
            "platform_instance_id": i.platform_instance_id,
            "dynamic_platform": i.dynamic_platform,
            "cached_keys": i.cached_keys,
            "smt_enabled": i.smt_enabled,
            "ca": i.ca,
        }
    )


def _level(lv: TcbLevel | SimpleLevel | None) -> dict[str, Any] | None:
    if lv is None:
        return None
    return {"status": lv.status, "date": lv.date, "advisory_ids": list(lv.advisory_ids)}


def tcb_claims(v: IntelTcbResult, qe_ident: EnclaveIdentity) -> Mapping[str, Any]:
    """``tcb``: the verdict and the levels that produced it (read-only)."""
    out: Mapping[str, Any] = freeze(
        {
            "status": v.status,
            "date": v.tcb_date,
            "advisory_ids": list(v.advisory_ids),
            "platform_level": _level(v.platform_level),
            "sgx_level": _level(v.sgx_level),
            "qe_level": _level(v.qe_level),
            "tdx_module_level": _level(v.module_level),
            "tdx_module_id": v.module_id,
            "qe_identity_id": qe_ident.id,
        }
    )
    return out


def collateral_claims(
    tcb: TcbInfo,
    qe_ident: EnclaveIdentity,
    root_crl_next_update: _dt.datetime | None,
    pck_crl_next_update: _dt.datetime | None,
) -> Mapping[str, Any]:
    """``collateral``: dates and evaluation numbers of the documents and CRLs used
    (read-only)."""
    out: Mapping[str, Any] = freeze(
        {
            "tcb_info_issue_date": tcb.issue_date,
            "tcb_info_next_update": tcb.next_update,
            "tcb_info_version": tcb.version,
            "tcb_evaluation_data_number": tcb.evaluation_data_number,
            "qe_identity_issue_date": qe_ident.issue_date,
            "qe_identity_next_update": qe_ident.next_update,
            "qe_identity_evaluation_data_number": qe_ident.evaluation_data_number,
            "root_ca_crl_next_update": root_crl_next_update,
            "pck_crl_next_update": pck_crl_next_update,
            "revocation_checked": True,
        }
    )
    return out


def appraisal(
    quote: Quote,
    verdict: IntelTcbResult,
    *,
    pck: Mapping[str, Any],
    tcb: Mapping[str, Any],
    collateral: Mapping[str, Any],
) -> Appraisal:
    """The authenticated appraisal: claims, the TCB verdict, the collateral used, warnings.

    ``pck``, ``tcb`` and ``collateral`` are the read-only parts of ``pck_claims``,
    ``tcb_claims`` and ``collateral_claims``; the claims equal ``freeze`` of the whole.
    """
    claims = quote_claims(quote)
    claims["pck"] = pck
    claims["tcb"] = tcb
    claims["collateral"] = collateral
    warnings = []
    if quote.trailing:
        warnings.append(f"{quote.trailing} bytes after the quote were ignored (not signed)")
    if verdict.not_supported:
        warnings.append(verdict.not_supported)
    body = quote.body
    if isinstance(body, SgxReportBody):
        debug = bool(body.flags & 0x2)  # ATTRIBUTES.DEBUG (SGX SDK arch.h)
        init_data = body.config_id
    else:
        debug = bool(body.td_attributes[0] & 0x1)  # TDATTRIBUTES.DEBUG (TUD bit 0)
        init_data = body.mr_config_id
    return Appraisal(
        tee=quote.tee,
        claims=MappingProxyType(claims),
        tcb_status=verdict.status,
        advisory_ids=verdict.advisory_ids,
        tcb_date=verdict.tcb_date,
        tcb_error=Reason.TCB_NOT_SUPPORTED if verdict.status is None else None,
        collateral=collateral,
        warnings=tuple(warnings),
        report_data=body.report_data,
        init_data=init_data,
        debug=debug,
    )
