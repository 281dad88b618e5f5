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
from typing import Any

from cocoverify import _backend
from cocoverify._backend._contract import QuoteFields
from cocoverify._core.x509 import common_name, epoch_us
from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import IntelRequest, intel_request
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import (
    CocoverifyError,
    CollateralInvalid,
    CollateralUnavailable,
    MissingCollateral,
    Reason,
    missing_message,
    raise_with_at_hint,
)
from cocoverify.result import Appraisal
from cocoverify.tee.intel.claims import static_parts
from cocoverify.tee.intel.collateral import Document, check_document_window, common_window
from cocoverify.tee.intel.parse import (
    _parse_fields_python,
    quote_from_fields,
)
from cocoverify.tee.intel.prepared import Context, PreparedCollateral, prepare
from cocoverify.tee.intel.verify import check_quote_signatures, pick_crls
from cocoverify.tee.intel.warm import TimeProbe, WarmEntry, warm_key
from cocoverify.trust import TrustStore

__all__ = ["PCS", "ROOT_CA_CRL_URL", "appraise_quote", "missing_collateral"]

#: Intel PCS (Intel SGX/TDX PCS API v4).
PCS = "https://api.trustedservices.intel.com"
#: The Root CA CRL: the CRL distribution point of the Intel SGX Root CA certificate.
ROOT_CA_CRL_URL = "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der"


def missing_collateral(
    context: Context, collateral: Collateral, request: IntelRequest
) -> tuple[MissingCollateral, ...]:
    """Every piece of collateral ``context`` lacks, each with its PCS v4 URL: TCB Info for
    the FMSPC and TEE, QE Identity, the PCK CRL of the CA type, the Root CA CRL and the
    TCB Signing issuer chain (served in the responses' issuer-chain headers)."""
    tee, fmspc = request.tee, request.fmspc.hex()
    api = f"{PCS}/{tee}/certification/v4"
    tcb_url = f"{api}/tcb?fmspc={fmspc}"
    out: list[MissingCollateral] = []
    ids: tuple[tuple[str, str], ...]
    if isinstance(context.tcb_infos.error, CollateralUnavailable):
        ids = (("fmspc", fmspc), ("tee", tee))
        out.append(MissingCollateral(f"{tee.upper()} TCB Info", tee, ids, tcb_url, request))
    if isinstance(context.qe_identities.error, CollateralUnavailable):
        ids = (("id", "TD_QE" if tee == "tdx" else "QE"), ("tee", tee))
        url = f"{api}/qe/identity"
        out.append(MissingCollateral("QE Identity", tee, ids, url, request))
    if context.pck_crls.missing is not None and not context.other_issuers:
        url = f"{PCS}/sgx/certification/v4/pckcrl?ca={request.ca}&encoding=der"
        ids = (("ca", request.ca),)
        out.append(MissingCollateral("PCK CRL", tee, ids, url, request))
    if context.root_crls.missing is not None:
        out.append(MissingCollateral("Root CA CRL", tee, (), ROOT_CA_CRL_URL, request))
    if not any("TCB Signing" in common_name(c.subject) for c in collateral.certificates):
        note = "the TCB-Info-Issuer-Chain header of the TCB Info response"
        out.append(MissingCollateral("TCB Signing issuer chain", tee, (), tcb_url, request, note))
    return tuple(out)


def appraise_quote(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,
    require_crl: bool = False,
) -> Appraisal:
    """Verify an SGX or TDX quote up to the TCB verdict.

    What is static (chains, collateral signatures, CRL signatures, TCB levels) comes from
    the tables of ``pck.py`` and ``prepared.py``, keyed by content; the verification time,
    the pinned roots and the quote signature are checked here on every call. Missing
    collateral is reported all at once (``CollateralUnavailable.missing``); an expiry met
    at the current time suggests ``--at`` (``errors.raise_with_at_hint``).
    """
    del require_crl  # the Root CA CRL and the PCK CRL are always required (QVL)
    try:
        # 1. parse (QVL Quote::parse, Quote::validate); the quote signature is checked in
        #    the same native call, its result used at step 2
        fields, signature_valid = _backend.parse_and_verify_quote(data, _parse_fields_python)
        at_us: int = epoch_us(at)
        prepared = prepare(collateral, trust)
        # warm: every byte but the body and the quote signature verified before, and every
        # time check answers as it did then (warm.py); a collateral source may add collateral
        warm = source is None and signature_valid
        if warm:
            key = warm_key(data, fields)
            entry = prepared.warm.get(key)
            if entry is not None and entry.matches(data, fields, at_us):
                b = fields.body_offset
                return entry.parts.appraisal(data[b : b + fields.body_size])
        return _appraise(
            data, fields, signature_valid, prepared, collateral, trust, at, at_us, source, warm
        )
    except CocoverifyError as exc:
        raise_with_at_hint(exc, at, lambda: common_window(collateral))


def _appraise(
    data: bytes,
    fields: QuoteFields,
    signature_valid: bool,
    prepared: PreparedCollateral,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    at_us: int,
    source: CollateralSource | None,
    warm: bool,
) -> Appraisal:
    """Steps 1-6 after the parse, for a quote the warm table did not answer."""
    if warm:
        key = warm_key(data, fields)
        at_us = probe = TimeProbe(at_us)
    quote = quote_from_fields(data, fields)
    # 2. PCK chain, quote and QE report signatures (QVL QuoteVerifier::verify steps 1, 7, 9)
    plan = prepared.pck_plan(quote)
    info = plan.check(prepared.pinned, at_us)
    check_quote_signatures(quote, plan, quote_signature_valid=signature_valid)
    request = intel_request(fmspc=info.fmspc, ca=info.ca, tee=quote.tee)
    source_error = ""
    if source is not None:
        # fetched collateral is verified exactly like supplied files (docs/collateral-sources.md);
        # a source that cannot answer leaves the supplied collateral to decide
        try:
            prepared = prepare(collateral + source.fetch(request, at=at), trust)
        except CollateralUnavailable as exc:
            source_error = str(exc.args[0]) if exc.args else exc.reason.value
    context = prepared.context(plan, info.fmspc, quote.tee)
    try:
        # 3. Root CA CRL and PCK CRL, revocation (QVL QuoteVerifier::verify step 2)
        root_crl, pck_crl = pick_crls(
            context.root_crls,
            context.pck_crls,
            other_issuers=context.other_issuers,
            leaf_issuer_cn=plan.leaf_issuer_cn,
            intermediate_serial=plan.intermediate_serial,
            leaf_serial=plan.leaf_serial,
            at_us=at_us,
        )
        signatures, pinned, revoked = context.signatures, prepared.pinned, root_crl.revoked

        def verify_signed(doc: Document[Any]) -> object:
            return signatures[doc.signed.member, doc.index].check(pinned, at_us, revoked)

        # 4. TCB Info for this FMSPC and TEE, QE Identity for this QE (steps 3, 4, 8), signed
        #    by the TCB Signing chain, current at `at`
        tcb = context.tcb_infos.select(at_us, verify_signed)
        qe_ident = context.qe_identities.select(at_us, verify_signed)
    except CollateralUnavailable as exc:
        # the same reason; the message and ``.missing`` name every missing piece at once
        missing = missing_collateral(context, prepared.collateral, request)
        if not missing and not source_error:
            raise
        lead = str(exc.args[0]) if exc.args else exc.reason.value
        if source_error:
            lead += f" (the collateral source could not help: {source_error})"
        raise CollateralUnavailable(
            missing_message(lead, missing), reason=exc.reason, missing=missing
        ) from None
    check_document_window("TCB Info", tcb, at_us)
    check_document_window("QE Identity", qe_ident, at_us)
    # QVL QuoteVerifier::verify step 4: PCE-ID of the PCK leaf equals the TCB Info's
    if tcb.model.pce_id != info.pce_id:
        raise CollateralInvalid(
            f"TCB Info PCE-ID {tcb.model.pce_id.hex()} is not the PCK's {info.pce_id.hex()}",
            reason=Reason.COLLATERAL_MISMATCH,
        )
    # 5. QE identity match (QVL QuoteVerifier::verify step 8), 6. TDX module identity
    #    (step 6), TCB level matching and merging (step 10)
    verdict, tcb_part = prepared.verdict(quote, info, tcb, qe_ident).value()
    assert plan.claims is not None
    parts = static_parts(
        quote,
        verdict,
        pck=plan.claims,
        tcb=tcb_part,
        collateral=context.collateral_claims(tcb, qe_ident, root_crl, pck_crl),
    )
    if warm:
        interval = probe.interval()
        if interval is not None:
            prepared.warm.set(key, WarmEntry.of(data, fields, interval, parts))
    return parts.appraisal(quote.body.raw)
