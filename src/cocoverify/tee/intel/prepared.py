"""One collateral set with one trust store, its static checks done once (docs/performance.md,
"Caches").

``prepare(collateral, trust)`` returns the ``PreparedCollateral`` of a collateral set, found by
``Collateral.digest`` (the content of every item) and the pinned Intel roots, so a new
``Verifier`` over the same files, or collateral fetched again, finds the work already done.
It fills, on first use and then never again, bounded tables of plans (``_core.x509``,
``verify.py``, ``collateral.py``):

* the CRLs of each issuer (``CrlChoice``: signatures, issuers, extensions checked, revoked
  serials as sets), and whether a CRL of another issuer than the root was supplied;
* the TCB Info / QE Identity documents that fit a platform (``DocumentChoice``), and for each
  document and PCK root the TCB Signing certificates that verify it (``SignaturePlan``);
* the PCK chain of quotes that carry none (certification data types 1-4), from this
  collateral;
* the QE identity match and TCB verdict for a platform's TCB and a pair of documents, with
  the frozen ``tcb`` and ``collateral`` claims.

Every ``check`` / ``pick`` / ``select`` call compares the verification time, the pinned roots
and the Root CA CRL in force, on every call. Sizes: ``PREPARED`` 8 collateral sets; per set,
64 CRL choices, 64 document choices, 64 signature plans, 256 collateral-chain plans, 1024
verdicts and 256 collateral claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from cocoverify._core.x509 import fresh, signature_valid
from cocoverify.collateral import Collateral
from cocoverify.errors import CocoverifyError
from cocoverify.tee.intel.cache import LruCache
from cocoverify.tee.intel.claims import collateral_claims, tcb_claims
from cocoverify.tee.intel.collateral import (
    Document,
    DocumentChoice,
    SignaturePlan,
    document_choice,
    plan_signature,
)
from cocoverify.tee.intel.documents import EnclaveIdentity, SimpleLevel, TcbInfo
from cocoverify.tee.intel.parse import Quote
from cocoverify.tee.intel.pck import (
    PckInfo,
    PckPlan,
    intern_ca,
    pck_chain_for,
    plan_pck_chain,
    platform_for,
)
from cocoverify.tee.intel.tcb import IntelTcbResult, appraise_tcb, check_qe_identity, tcb_inputs
from cocoverify.tee.intel.verify import CrlCandidate, CrlChoice, crl_choice, other_issuers
from cocoverify.trust import TrustStore

__all__ = ["PREPARED", "PreparedCollateral", "Verdict", "prepare"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The QE identity match and the TCB verdict, or the error one of them raises."""

    error: CocoverifyError | None
    qe_level: SimpleLevel | None
    result: IntelTcbResult | None
    claims: Mapping[str, Any] | None  # frozen ``tcb`` claims

    def value(self) -> tuple[IntelTcbResult, Mapping[str, Any]]:
        """The verdict and its claims, or the error raised afresh."""
        if self.error is not None:
            raise fresh(self.error)
        assert self.result is not None and self.claims is not None
        return self.result, self.claims


class PreparedCollateral:
    """A collateral set and a trust store, with tables of what is static in them."""

    def __init__(self, collateral: Collateral, trust: TrustStore) -> None:
        self.collateral = collateral
        self.trust = trust
        self.pinned = trust.intel_roots
        self._crls: LruCache[tuple[str, str], CrlChoice] = LruCache("crl-choices", 64)
        self._others: LruCache[str, bool] = LruCache("other-crl-issuers", 64)
        self._documents: LruCache[tuple[object, ...], DocumentChoice[Any]] = LruCache(
            "document-choices", 64
        )
        self._signatures: LruCache[tuple[str, int, str], SignaturePlan] = LruCache(
            "signature-plans", 64
        )
        self._chains: LruCache[tuple[object, ...], PckPlan] = LruCache("collateral-chains", 256)
        self._verdicts: LruCache[tuple[object, ...], Verdict] = LruCache("verdicts", 1024)
        self._claims: LruCache[tuple[int, int, int, int], Mapping[str, Any]] = LruCache(
            "collateral-claims", 256
        )

    # --- the PCK chain --------------------------------------------------------------------

    def pck_plan(self, quote: Quote) -> PckPlan:
        """The plan of the quote's PCK chain (``pck.pck_chain_for``): type 5 from the
        per-platform table, types 1-4 from this collateral (errors are not kept: they
        name offsets of the quote)."""
        cert = quote.certification
        if cert.type == 5:
            return platform_for(cert.data).pck_plan(quote)
        key = (cert.type, cert.data, quote.qe_report.raw, quote.qe_report_signature)
        plan = self._chains.get(key)
        if plan is None:
            chain = pck_chain_for(quote, self.collateral)
            plan = self._chains.put(
                key, plan_pck_chain(chain, signed=signature_valid, intern=intern_ca)
            )
        return plan

    # --- CRLs -----------------------------------------------------------------------------

    def crl_choice(self, issuer: x509.Certificate, fp: str, what: str) -> CrlChoice:
        """The CRLs ``issuer`` (SHA-256 ``fp``) issued, for ``verify.pick_crls``."""
        return self._crls.get_or_build(
            (fp, what), lambda: crl_choice(self.collateral.crls, issuer, what)
        )

    def other_issuers(self, root: x509.Certificate, fp: str) -> bool:
        """Whether a CRL not issued by ``root`` was supplied."""
        found = self._others.get(fp)
        if found is None:
            found = self._others.put(fp, other_issuers(self.collateral.crls, root))
        return found

    # --- TCB Info and QE Identity ---------------------------------------------------------

    def tcb_infos(self, fmspc: bytes, tee_id: str) -> DocumentChoice[TcbInfo]:
        """The TCB Info documents for this FMSPC and TEE."""
        return self._documents.get_or_build(
            ("tcbInfo", fmspc, tee_id),
            lambda: document_choice(
                self.collateral.tcb_infos,
                "tcbInfo",
                TcbInfo,
                lambda t: t.fmspc == fmspc and t.id == tee_id,
                "TCB Info",
            ),
        )

    def qe_identities(self, qe_id: str) -> DocumentChoice[EnclaveIdentity]:
        """The QE Identity documents of this QE."""
        return self._documents.get_or_build(
            ("enclaveIdentity", qe_id),
            lambda: document_choice(
                self.collateral.qe_identities,
                "enclaveIdentity",
                EnclaveIdentity,
                lambda e: e.id == qe_id,
                f"QE Identity ({qe_id})",
            ),
        )

    def signature_plan(self, doc: Document[Any], plan: PckPlan) -> SignaturePlan:
        """Which TCB Signing certificates verify ``doc``, for the PCK root of ``plan``."""
        assert plan.root is not None
        root = plan.root
        return self._signatures.get_or_build(
            (doc.signed.member, doc.index, plan.root_fingerprint),
            lambda: plan_signature(
                doc.signed,
                certificates=self.collateral.certificates,
                pck_root=root,
                trust=self.trust,
            ),
        )

    # --- the verdict ----------------------------------------------------------------------

    def verdict(
        self,
        quote: Quote,
        info: PckInfo,
        tcb: Document[TcbInfo],
        qe_ident: Document[EnclaveIdentity],
    ) -> Verdict:
        """``check_qe_identity`` then ``appraise_tcb``, memoised by every input they read."""
        key = (tcb.index, qe_ident.index, info.tcb_components, info.pce_svn, tcb_inputs(quote))
        found = self._verdicts.get(key)
        if found is None:
            found = self._verdicts.put(key, _verdict(quote, info, tcb.model, qe_ident.model))
        return found

    def collateral_claims(
        self,
        tcb: Document[TcbInfo],
        qe_ident: Document[EnclaveIdentity],
        root_crl: CrlCandidate,
        pck_crl: CrlCandidate,
    ) -> Mapping[str, Any]:
        """The frozen ``collateral`` claims of the documents and CRLs used."""
        return self._claims.get_or_build(
            (tcb.index, qe_ident.index, root_crl.index, pck_crl.index),
            lambda: collateral_claims(
                tcb.model,
                qe_ident.model,
                root_crl.crl.next_update_utc,
                pck_crl.crl.next_update_utc,
            ),
        )


def _verdict(quote: Quote, info: PckInfo, tcb: TcbInfo, qe_ident: EnclaveIdentity) -> Verdict:
    try:
        qe_level = check_qe_identity(quote.qe_report, qe_ident)
        result = appraise_tcb(
            quote,
            pck_components=info.tcb_components,
            pck_pce_svn=info.pce_svn,
            tcb=tcb,
            qe_level=qe_level,
        )
    except CocoverifyError as exc:
        return Verdict(exc, None, None, None)
    return Verdict(None, qe_level, result, tcb_claims(result, qe_ident))


#: (collateral digest, pinned Intel roots) -> PreparedCollateral: 8 collateral sets.
PREPARED: LruCache[tuple[bytes, frozenset[str]], PreparedCollateral] = LruCache(
    "intel-collateral-sets", 8
)


def prepare(collateral: Collateral, trust: TrustStore) -> PreparedCollateral:
    """The ``PreparedCollateral`` of this collateral's content and these pinned roots."""
    key = (collateral.digest, trust.intel_roots)
    found = PREPARED.get(key)
    if found is None:
        found = PREPARED.put(key, PreparedCollateral(collateral, trust))
    return found
