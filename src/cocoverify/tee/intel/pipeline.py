"""Intel SGX/TDX pipeline: the steps of QVL ``QuoteVerifier::verify`` in order, each failing
closed with its own reason (docs/intel.md, "Order of checks").

 1. parse the quote (exit 2);
 2. PCK chain to the pinned root, valid at ``at``; quote signature; QE report signature;
    QE report binding; QE vendor ID (exit 3);
 3. Root CA CRL and PCK CRL verified (exit 4) and applied (revoked: exit 3);
 4. TCB Info and QE Identity: selected by FMSPC / TEE, signature by the TCB Signing chain,
    issue/next-update window, FMSPC / PCE-ID / id consistency (exit 4);
 5. QE identity match (exit 3);
 6. TDX module identity (exit 3, or 4 when missing), TCB level matching and merging ->
    status, advisories (policy decides, exit 5).
"""

from __future__ import annotations

import datetime as _dt

from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import intel_request
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import CollateralInvalid, Reason
from cocoverify.result import Appraisal
from cocoverify.tee.intel.claims import appraisal
from cocoverify.tee.intel.collateral import (
    SignedJson,
    check_window,
    select_document,
    verify_signed_json,
)
from cocoverify.tee.intel.documents import EnclaveIdentity, TcbInfo
from cocoverify.tee.intel.parse import parse_quote
from cocoverify.tee.intel.pck import pck_chain_for
from cocoverify.tee.intel.tcb import appraise_tcb, check_qe_identity
from cocoverify.tee.intel.verify import authenticate_quote, verify_crls
from cocoverify.trust import TrustStore

__all__ = ["appraise_quote"]


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
    # 1. parse (QVL Quote::parse, Quote::validate)
    quote = parse_quote(data)
    # 2. PCK chain, quote and QE report signatures (QVL QuoteVerifier::verify steps 1, 7, 9)
    pck = authenticate_quote(quote, pck_chain_for(quote, collateral), trust=trust, at=at)
    if source is not None:
        # fetched collateral is verified exactly like supplied files (docs/collateral-sources.md)
        request = intel_request(fmspc=pck.info.fmspc, ca=pck.info.ca, tee=quote.tee)
        collateral = collateral + source.fetch(request, at=at)
    # 3. Root CA CRL and PCK CRL, revocation (QVL QuoteVerifier::verify step 2)
    root_crl, pck_crl = verify_crls(pck, collateral, at)
    info = pck.info

    def verify_signed(signed: SignedJson) -> object:
        return verify_signed_json(
            signed, collateral=collateral, pck=pck, root_crl=root_crl, trust=trust, at=at
        )

    # 4. TCB Info for this FMSPC and TEE, QE Identity for this QE (steps 3, 4, 8), signed by
    #    the TCB Signing chain, current at `at`
    tee_id = "TDX" if quote.tee == "tdx" else "SGX"
    _, tcb = select_document(
        collateral.tcb_infos,
        "tcbInfo",
        TcbInfo,
        lambda t: t.fmspc == info.fmspc and t.id == tee_id,
        at,
        "TCB Info",
        verify_signed,
    )
    qe_id = "TD_QE" if quote.tee == "tdx" else "QE"
    _, qe_ident = select_document(
        collateral.qe_identities,
        "enclaveIdentity",
        EnclaveIdentity,
        lambda e: e.id == qe_id,
        at,
        f"QE Identity ({qe_id})",
        verify_signed,
    )
    check_window("TCB Info", tcb.issue_date, tcb.next_update, at)
    check_window("QE Identity", qe_ident.issue_date, qe_ident.next_update, at)
    # QVL QuoteVerifier::verify step 4: PCE-ID of the PCK leaf equals the TCB Info's
    if tcb.pce_id != info.pce_id:
        raise CollateralInvalid(
            f"TCB Info PCE-ID {tcb.pce_id.hex()} is not the PCK's {info.pce_id.hex()}",
            reason=Reason.COLLATERAL_MISMATCH,
        )
    # 5. QE identity match (QVL QuoteVerifier::verify step 8)
    qe_level = check_qe_identity(quote.qe_report, qe_ident)
    # 6. TDX module identity (step 6), TCB level matching and merging (step 10)
    verdict = appraise_tcb(
        quote,
        pck_components=info.tcb_components,
        pck_pce_svn=info.pce_svn,
        tcb=tcb,
        qe_level=qe_level,
    )
    return appraisal(
        quote, pck, verdict, tcb=tcb, qe_ident=qe_ident, root_crl=root_crl, pck_crl=pck_crl
    )
