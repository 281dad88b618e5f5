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
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from cocoverify.errors import Reason
from cocoverify.result import Appraisal, freeze, new_appraisal
from cocoverify.tee.intel.documents import EnclaveIdentity, SimpleLevel, TcbInfo, TcbLevel
from cocoverify.tee.intel.parse import (
    SGX_REPORT_SIZE,
    TD15_SIZE,
    Quote,
    SgxReportBody,
    TdReportBody,
)
from cocoverify.tee.intel.tcb import IntelTcbResult

if TYPE_CHECKING:
    from cocoverify.tee.intel.pck import PckInfo

__all__ = [
    "SGX_ATTRIBUTE_FLAGS",
    "TD_ATTRIBUTE_FLAGS",
    "StaticParts",
    "appraisal",
    "body_claims",
    "collateral_claims",
    "pck_claims",
    "quote_claims",
    "raw_body_claims",
    "static_parts",
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


#: (flag table, value) -> read-only flag map: bounded (cleared when full).
_FLAG_MAPS: dict[tuple[int, int], Mapping[str, bool]] = {}


def _flags(value: int, names: dict[int, str]) -> Mapping[str, bool]:
    key = (id(names), value)
    found = _FLAG_MAPS.get(key)
    if found is None:
        found = MappingProxyType({name: bool(value >> bit & 1) for bit, name in names.items()})
        if len(_FLAG_MAPS) >= 256:
            _FLAG_MAPS.clear()
        _FLAG_MAPS[key] = found
    return found


def _header_claims(quote: Quote) -> dict[str, Any]:
    h = quote.header
    return {
        "quote_version": h.version,
        "attestation_key_type": h.attestation_key_type,
        "tee_type": h.tee_type,
        "qe_svn": h.qe_svn,
        "pce_svn": h.pce_svn,
        "qe_vendor_id": h.qe_vendor_id,
        "user_data": h.user_data,
        "body_type": {1: "sgx", 2: "td10", 3: "td15"}[quote.body_type],
    }


def body_claims(body: SgxReportBody | TdReportBody) -> dict[str, Any]:
    """The claims of the report body (the part of a quote that changes per quote)."""
    return raw_body_claims(body.raw)


def raw_body_claims(raw: bytes) -> dict[str, Any]:
    """``body_claims`` from the body's bytes: an SGX report body (384 bytes) or a TD report
    body (584 or 648), sliced as ``parse.py`` slices them (QVL ``QuoteStructures.h``)."""
    if len(raw) == SGX_REPORT_SIZE:
        attributes = raw[48:64]
        return {
            "cpu_svn": raw[0:16],
            "misc_select": int.from_bytes(raw[16:20], "little"),
            "attributes": attributes,
            "attributes_flags": _flags(int.from_bytes(raw[48:56], "little"), SGX_ATTRIBUTE_FLAGS),
            "xfrm": raw[56:64],
            "mr_enclave": raw[64:96],
            "mr_signer": raw[128:160],
            "isv_prod_id": int.from_bytes(raw[256:258], "little"),
            "isv_svn": int.from_bytes(raw[258:260], "little"),
            "config_id": raw[192:256],
            "config_svn": int.from_bytes(raw[260:262], "little"),
            "isv_ext_prod_id": raw[32:48],
            "isv_family_id": raw[304:320],
            "report_data": raw[320:384],
        }
    claims = {
        "tee_tcb_svn": raw[0:16],
        "mr_seam": raw[16:64],
        "mr_signer_seam": raw[64:112],
        "seam_attributes": raw[112:120],
        "td_attributes": raw[120:128],
        "td_attributes_flags": _flags(int.from_bytes(raw[120:128], "little"), TD_ATTRIBUTE_FLAGS),
        "xfam": raw[128:136],
        "mr_td": raw[136:184],
        "mr_config_id": raw[184:232],
        "mr_owner": raw[232:280],
        "mr_owner_config": raw[280:328],
        "rtmr0": raw[328:376],
        "rtmr1": raw[376:424],
        "rtmr2": raw[424:472],
        "rtmr3": raw[472:520],
        "report_data": raw[520:584],
    }
    if len(raw) == TD15_SIZE:
        claims["tee_tcb_svn2"] = raw[584:600]
        claims["mr_service_td"] = raw[600:648]
    return claims


def _tail_claims(quote: Quote) -> dict[str, Any]:
    qe = quote.qe_report
    return {
        "qe": MappingProxyType(
            {
                "isv_svn": qe.isv_svn,
                "isv_prod_id": qe.isv_prod_id,
                "mr_enclave": qe.mr_enclave,
                "mr_signer": qe.mr_signer,
                "misc_select": qe.misc_select,
                "attributes": qe.attributes,
            }
        ),
        "certification_data_type": quote.certification.type,
    }


def quote_claims(quote: Quote) -> dict[str, Any]:
    """Every header and body field, snake_case (no verification implied); the nested maps
    are read-only already (as ``result.freeze`` makes them)."""
    claims = _header_claims(quote)
    claims.update(body_claims(quote.body))
    claims.update(_tail_claims(quote))
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


def _frozen_level(lv: TcbLevel | SimpleLevel | None) -> Mapping[str, Any] | None:
    """``freeze(_level(lv))``, built read-only at once."""
    if lv is None:
        return None
    return MappingProxyType(
        {"status": lv.status, "date": lv.date, "advisory_ids": tuple(lv.advisory_ids)}
    )


def tcb_claims(v: IntelTcbResult, qe_ident: EnclaveIdentity) -> Mapping[str, Any]:
    """``tcb``: the verdict and the levels that produced it (read-only); equal to ``freeze``
    of the same dict with ``_level`` (tests/tee/intel/test_claims_frozen.py)."""
    return MappingProxyType(
        {
            "status": v.status,
            "date": v.tcb_date,
            "advisory_ids": tuple(v.advisory_ids),
            "platform_level": _frozen_level(v.platform_level),
            "sgx_level": _frozen_level(v.sgx_level),
            "qe_level": _frozen_level(v.qe_level),
            "tdx_module_level": _frozen_level(v.module_level),
            "tdx_module_id": v.module_id,
            "qe_identity_id": qe_ident.id,
        }
    )


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


@dataclass(frozen=True, slots=True)
class StaticParts:
    """What an appraisal takes from everything but the report body: the claims before and
    after the body's, the TCB verdict, the collateral facts and the warnings."""

    tee: str
    head: dict[str, Any]
    tail: dict[str, Any]
    verdict: IntelTcbResult
    collateral: Mapping[str, Any]
    warnings: tuple[str, ...]

    def appraisal(self, raw: bytes) -> Appraisal:
        """The appraisal of a quote with these static parts and this report body (bytes)."""
        claims = self.head.copy()
        body = raw_body_claims(raw)
        claims.update(body)
        claims.update(self.tail)
        if len(raw) == SGX_REPORT_SIZE:
            debug = bool(raw[48] & 0x2)  # ATTRIBUTES.DEBUG (SGX SDK arch.h)
            init_data = body["config_id"]
        else:
            debug = bool(raw[120] & 0x1)  # TDATTRIBUTES.DEBUG (TUD bit 0)
            init_data = body["mr_config_id"]
        verdict = self.verdict
        mapping = MappingProxyType(claims)
        # the body but REPORTDATA (SGX 320:384, TD 520:584): what the policy may read of it
        rest = raw[:320] if len(raw) == SGX_REPORT_SIZE else raw[:520] + raw[584:]
        return new_appraisal(  # Appraisal's fields, in order
            self.tee,
            mapping,
            verdict.status,
            verdict.advisory_ids,
            verdict.tcb_date,
            Reason.TCB_NOT_SUPPORTED if verdict.status is None else None,
            self.collateral,
            self.warnings,
            body["report_data"],
            init_data,
            debug,
            (mapping, self, rest),
        )


def static_parts(
    quote: Quote,
    verdict: IntelTcbResult,
    *,
    pck: Mapping[str, Any],
    tcb: Mapping[str, Any],
    collateral: Mapping[str, Any],
) -> StaticParts:
    """The ``StaticParts`` of an authenticated quote (see ``appraisal``)."""
    tail = _tail_claims(quote)
    tail["pck"] = pck
    tail["tcb"] = tcb
    tail["collateral"] = collateral
    warnings = []
    if quote.trailing:
        warnings.append(f"{quote.trailing} bytes after the quote were ignored (not signed)")
    if verdict.not_supported:
        warnings.append(verdict.not_supported)
    return StaticParts(quote.tee, _header_claims(quote), tail, verdict, collateral, tuple(warnings))


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
    parts = static_parts(quote, verdict, pck=pck, tcb=tcb, collateral=collateral)
    return parts.appraisal(quote.body.raw)
