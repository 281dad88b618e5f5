"""Intel SGX/TDX pipeline: parse -> authenticate -> collateral -> appraise (intel.md §6.1).

Order (each step fails closed with its own reason):
 1. parse the quote (exit 2);
 2. PCK chain to the pinned root, validity at ``at``; quote signature; QE report signature;
    QE report binding; QE vendor ID (exit 3);
 3. Root CA CRL and PCK CRL verified (exit 4) and applied (revoked: exit 3);
 4. TCB Info and QE Identity: selected by FMSPC / TEE, signature by the TCB Signing chain,
    issue/next-update window, FMSPC / PCE-ID / id consistency (exit 4);
 5. QE identity match (exit 3), TDX module identity (exit 3, or 4 when missing);
 6. TCB level matching and merging -> status, advisories (policy decides, exit 5).
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import intel_request
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import CollateralError, CollateralInvalid, CollateralUnavailable, Reason
from cocoverify.result import Appraisal, format_time, freeze
from cocoverify.tee.intel.parse import Quote, SgxReportBody, TdReportBody, parse_quote
from cocoverify.tee.intel.tcb import (
    EnclaveIdentity,
    IntelTcbResult,
    TcbInfo,
    appraise_tcb,
    check_qe_identity,
    parse_enclave_identity,
    parse_tcb_info,
)
from cocoverify.tee.intel.verify import (
    PckChain,
    SignedJson,
    authenticate_quote,
    load_signed_json,
    pck_chain_for,
    verify_crls,
    verify_signed_json,
)
from cocoverify.trust import TrustStore

__all__ = ["appraise_quote", "quote_claims"]

M = TypeVar("M", TcbInfo, EnclaveIdentity)


@functools.lru_cache(maxsize=256)
def _parsed(raw: bytes, member: str) -> tuple[SignedJson, Any]:
    """Signed JSON split and modelled, memoised by the raw bytes (both steps are pure)."""
    signed = load_signed_json(raw, member)
    model = (
        parse_tcb_info(signed.body) if member == "tcbInfo" else parse_enclave_identity(signed.body)
    )
    return signed, model


def _select(
    raws: tuple[bytes, ...],
    member: str,
    model: type[M],
    fits: Callable[[M], bool],
    at: _dt.datetime,
    what: str,
    verify: Callable[[SignedJson], object],
) -> tuple[SignedJson, M]:
    """Pick the collateral document that fits the quote; prefer one valid at ``at``.

    A malformed document is reported only when no well-formed one fits: a collateral store
    may hold documents of other platforms (or of versions this verifier does not read),
    and those must not make this quote fail. Likewise the preferred document whose
    signature ``verify`` accepts is taken, so an injected unsigned document cannot displace
    a genuine one; when none verifies, the preferred one's error is raised.
    """
    docs: list[tuple[SignedJson, M]] = []
    malformed: CollateralInvalid | None = None
    for r in raws:
        try:
            signed, parsed = _parsed(r, member)
        except CollateralInvalid as exc:
            malformed = malformed or exc
            continue
        assert isinstance(parsed, model)
        docs.append((signed, parsed))
    if not docs and malformed is None:
        raise CollateralUnavailable(f"no {what} supplied", reason=Reason.COLLATERAL_MISSING)
    fitting = [(s, m) for s, m in docs if fits(m)]
    if not fitting and malformed is not None:
        raise malformed
    if not fitting:
        raise CollateralInvalid(
            f"no {what} supplied for this platform (FMSPC / TEE type)",
            reason=Reason.COLLATERAL_MISMATCH,
        )
    fitting.sort(
        key=lambda d: (d[1].issue_date <= at <= d[1].next_update, d[1].issue_date), reverse=True
    )
    first_error: CollateralError | None = None
    for doc in fitting:
        try:
            verify(doc[0])
        except CollateralError as exc:
            first_error = first_error or exc
            continue
        return doc
    assert first_error is not None
    raise first_error


def _check_window(
    what: str, issue: _dt.datetime, next_update: _dt.datetime, at: _dt.datetime
) -> None:
    # intel.md §6.5: expired when at > nextUpdate; issue date in the future is refused too
    if at > next_update:
        raise CollateralInvalid(
            f"{what} expired at {format_time(next_update)}", reason=Reason.COLLATERAL_EXPIRED
        )
    if at < issue:
        raise CollateralInvalid(
            f"{what} issued at {format_time(issue)}, after the verification time",
            reason=Reason.COLLATERAL_NOT_YET_VALID,
        )


def appraise_quote(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,
    require_crl: bool = False,
) -> Appraisal:
    """Verify an SGX or TDX quote up to the TCB verdict."""
    quote = parse_quote(data)
    chain = pck_chain_for(quote, collateral)
    pck = authenticate_quote(quote, chain, trust=trust, at=at)
    if source is not None:
        # fetched collateral is verified exactly like supplied files (collateral-sources.md)
        request = intel_request(fmspc=pck.info.fmspc, ca=pck.info.ca, tee=quote.tee)
        collateral = collateral + source.fetch(request, at=at)
    root_crl, pck_crl = verify_crls(pck, collateral, at)
    tee_id = "TDX" if quote.tee == "tdx" else "SGX"
    info = pck.info

    def verify_signed(signed: SignedJson) -> object:
        return verify_signed_json(
            signed, collateral=collateral, pck=pck, root_crl=root_crl, trust=trust, at=at
        )

    _, tcb = _select(
        collateral.tcb_infos,
        "tcbInfo",
        TcbInfo,
        lambda t: t.fmspc == info.fmspc and t.id == tee_id,
        at,
        "TCB Info",
        verify_signed,
    )
    qe_id = "TD_QE" if quote.tee == "tdx" else "QE"
    _, qe_ident = _select(
        collateral.qe_identities,
        "enclaveIdentity",
        EnclaveIdentity,
        lambda e: e.id == qe_id,
        at,
        f"QE Identity ({qe_id})",
        verify_signed,
    )
    _check_window("TCB Info", tcb.issue_date, tcb.next_update, at)
    _check_window("QE Identity", qe_ident.issue_date, qe_ident.next_update, at)
    # QVL QuoteVerifier step 4: PCE-ID of the PCK leaf equals the TCB Info's
    if tcb.pce_id != info.pce_id:
        raise CollateralInvalid(
            f"TCB Info PCE-ID {tcb.pce_id.hex()} is not the PCK's {info.pce_id.hex()}",
            reason=Reason.COLLATERAL_MISMATCH,
        )
    qe_level = check_qe_identity(quote.qe_report, qe_ident)
    verdict = appraise_tcb(
        quote,
        pck_components=info.tcb_components,
        pck_pce_svn=info.pce_svn,
        tcb=tcb,
        qe_level=qe_level,
    )
    collateral_facts = {
        "tcb_info_issue_date": tcb.issue_date,
        "tcb_info_next_update": tcb.next_update,
        "tcb_info_version": tcb.version,
        "tcb_evaluation_data_number": tcb.evaluation_data_number,
        "qe_identity_issue_date": qe_ident.issue_date,
        "qe_identity_next_update": qe_ident.next_update,
        "qe_identity_evaluation_data_number": qe_ident.evaluation_data_number,
        "root_ca_crl_next_update": root_crl.next_update_utc,
        "pck_crl_next_update": pck_crl.next_update_utc,
        "revocation_checked": True,
    }
    claims = quote_claims(quote)
    claims.update(_pck_claims(pck))
    claims.update(_tcb_claims(verdict, qe_ident))
    claims["collateral"] = collateral_facts
    warnings = []
    if quote.trailing:
        warnings.append(f"{quote.trailing} bytes after the quote were ignored (not signed)")
    if verdict.not_supported:
        warnings.append(verdict.not_supported)
    body = quote.body
    if isinstance(body, SgxReportBody):
        debug = bool(body.flags & 0x2)  # ATTRIBUTES.DEBUG (intel.md §7)
        init_data = body.config_id
    else:
        debug = bool(body.td_attributes[0] & 0x1)  # TDATTRIBUTES.DEBUG (TUD bit 0)
        init_data = body.mr_config_id
    return Appraisal(
        tee=quote.tee,
        claims=freeze(claims),
        tcb_status=verdict.status,
        advisory_ids=verdict.advisory_ids,
        tcb_date=verdict.tcb_date,
        tcb_error=Reason.TCB_NOT_SUPPORTED if verdict.status is None else None,
        collateral=freeze(collateral_facts),
        warnings=tuple(warnings),
        report_data=body.report_data,
        init_data=init_data,
        debug=debug,
    )


def _flags(value: int, names: dict[int, str]) -> dict[str, bool]:
    return {name: bool(value >> bit & 1) for bit, name in names.items()}


_SGX_FLAGS = {
    0: "init",
    1: "debug",
    2: "mode64bit",
    4: "provision_key",
    5: "einittoken_key",
    7: "kss",
}
_TD_FLAGS = {0: "debug", 28: "sept_ve_disable", 30: "pks", 31: "kl", 63: "perfmon"}


def quote_claims(quote: Quote) -> dict[str, Any]:
    """Every header and body field, snake_case (no verification implied)."""
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
            attributes_flags=_flags(body.flags, _SGX_FLAGS),
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
            td_attributes_flags=_flags(int.from_bytes(body.td_attributes, "little"), _TD_FLAGS),
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
    claims["qe"] = {
        "isv_svn": qe.isv_svn,
        "isv_prod_id": qe.isv_prod_id,
        "mr_enclave": qe.mr_enclave,
        "mr_signer": qe.mr_signer,
        "misc_select": qe.misc_select,
        "attributes": qe.attributes,
    }
    claims["certification_data_type"] = quote.certification.type
    return claims


def _pck_claims(pck: PckChain) -> dict[str, Any]:
    i = pck.info
    return {
        "pck": {
            "fmspc": i.fmspc,
            "pce_id": i.pce_id,
            "ppid": i.ppid,
            "cpu_svn": i.cpu_svn,
            "pce_svn": i.pce_svn,
            "tcb_components": list(i.tcb_components),
            "sgx_type": i.sgx_type,
            "platform_instance_id": i.platform_instance_id,
            "dynamic_platform": i.dynamic_platform,
            "cached_keys": i.cached_keys,
            "smt_enabled": i.smt_enabled,
            "ca": i.ca,
        }
    }


def _tcb_claims(v: IntelTcbResult, qe_ident: EnclaveIdentity) -> dict[str, Any]:
    def level(lv: Any) -> dict[str, Any] | None:
        if lv is None:
            return None
        return {"status": lv.status, "date": lv.date, "advisory_ids": list(lv.advisory_ids)}

    return {
        "tcb": {
            "status": v.status,
            "date": v.tcb_date,
            "advisory_ids": list(v.advisory_ids),
            "platform_level": level(v.platform_level),
            "sgx_level": level(v.sgx_level),
            "qe_level": level(v.qe_level),
            "tdx_module_level": level(v.module_level),
            "tdx_module_id": v.module_id,
            "qe_identity_id": qe_ident.id,
        }
    }
