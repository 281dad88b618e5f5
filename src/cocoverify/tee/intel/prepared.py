"""The tables behind warm Intel verification: every one the pipeline uses, with its size.

Each table maps content (bytes, SHA-256 digests, integers) to the output of a pure function
of it: what depends on the certificates, CRLs and documents alone is computed once; the
plans' ``check`` / ``pick`` / ``select`` methods compare the verification time, the pinned
roots and the Root CA CRL in force on every call, and the quote signature is checked on
every call. Tables are ``cache.Memo``: bounded, oldest dropped first, safe to share.

Per platform (keys: bytes of the quote):

* ``PLATFORMS``: type-5 certification data -> ``pck.Platform`` (the PCK chain's plan, its
  SGX extension facts, the frozen ``pck`` claims; no certificate of the quote but the shared
  CA certificates). 1024 entries of a few KB.
* ``pck.CAS`` (CA certificates by fingerprint, 64), ``pck.CA_BLOCKS`` (CA certificates by
  the bytes they were read from, 64), ``pck.CA_LINKS`` (CA-to-CA signature results by
  fingerprints, 256): a new platform under known CAs reads and checks only its leaf.
* ``pckleaf.CA_ENTRIES`` (64), ``pckleaf.NAMES`` (256), ``pckleaf.ORDERS`` (64): a new leaf
  under CA certificates read before is read without decoding its names again.
* ``verify.QE_REPORTS``: (leaf point, QE report, QE report signature) that verified, 1024.
* ``parse.HEADERS`` and ``parse.QE_REPORT_VIEWS``: header and QE report views by their bytes,
  1024 each.

Per collateral set: ``PREPARED`` maps (``Collateral.digest``, pinned Intel roots) to a
``PreparedCollateral`` (8 sets), so a new ``Verifier`` over the same files, or collateral
fetched again, finds the work done. Each holds:

* a ``Context`` per (root, PCK CA, FMSPC, TEE), 64: the CRLs of both issuers (``CrlChoice``:
  signatures, issuers, extensions checked, revoked serials as sets), whether a CRL of
  another issuer was supplied, the TCB Info / QE Identity documents that fit
  (``DocumentChoice``), which TCB Signing certificates verify each (``SignaturePlan``), and
  the frozen ``collateral`` claims per documents and CRLs used (bounded by the set's size);
* the PCK chain of quotes that carry none (certification data types 1-4), 256;
* ``warm``: the ``warm.WarmEntry`` of each platform (attestation key and TD TCB fields)
  verified under this set, 512: the whole warm path of ``pipeline.py``;
* the QE identity match and TCB verdict, keyed by the documents, the PCK's TCB and every
  quote field they read (``tcb.tcb_inputs``), with the frozen ``tcb`` claims, 1024.

Below them, memoised helpers shared with the hazmat functions: ``collateral.load_signed_json``,
``collateral._parsed`` and ``collateral._signs`` (256 each), ``_core.x509.signed_by`` (4096)
and the CRL signature memo (1024). ``clear_caches`` empties them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cocoverify._core import x509 as _x509
from cocoverify._core.x509 import fresh, signature_valid
from cocoverify.collateral import Collateral
from cocoverify.errors import CocoverifyError
from cocoverify.tee.intel import collateral as _documents
from cocoverify.tee.intel import parse as _parse
from cocoverify.tee.intel import verify as _verify
from cocoverify.tee.intel.cache import Memo
from cocoverify.tee.intel.claims import collateral_claims, pck_claims, tcb_claims
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
    CA_BLOCKS,
    CA_LINKS,
    CAS,
    PckInfo,
    PckPlan,
    Platform,
    intern_ca,
    pck_chain_for,
    plan_pck_chain,
    read_platform,
)
from cocoverify.tee.intel.pckleaf import CA_ENTRIES, NAMES, ORDERS, prime, read_new_leaf
from cocoverify.tee.intel.tcb import IntelTcbResult, appraise_tcb, check_qe_identity, tcb_inputs
from cocoverify.tee.intel.verify import CrlCandidate, CrlChoice, crl_choice, other_issuers
from cocoverify.tee.intel.warm import WARM_SIZE, WarmEntry
from cocoverify.trust import TrustStore

__all__ = [
    "PLATFORMS",
    "PREPARED",
    "Context",
    "PreparedCollateral",
    "Verdict",
    "clear_caches",
    "platform_for",
    "prepare",
]

#: Type-5 certification data -> Platform: 1024 entries.
PLATFORMS: Memo[bytes, Platform] = Memo("intel-platforms", 1024)


def platform_for(data: bytes) -> Platform:
    """The ``Platform`` of type-5 certification data."""
    found = PLATFORMS.get(data)
    if found is None:
        # a new leaf under CA certificates read before (pckleaf.py), else read it all and
        # ready the tables for the next leaf under these CA certificates
        found = read_new_leaf(data, claims=pck_claims)
        if found is None:
            found = read_platform(data, claims=pck_claims)
            if found.plan is not None:
                prime(data, claims=pck_claims)
        found = PLATFORMS.put(data, found)
    return found


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


@dataclass(frozen=True, slots=True)
class Context:
    """What one collateral set holds for one PCK root, PCK CA, FMSPC and TEE."""

    root_crls: CrlChoice
    pck_crls: CrlChoice
    other_issuers: bool
    tcb_infos: DocumentChoice[TcbInfo]
    qe_identities: DocumentChoice[EnclaveIdentity]
    #: (member, document index) -> plan, for every document that fits
    signatures: Mapping[tuple[str, int], SignaturePlan]
    #: (TCB Info, QE Identity, Root CA CRL, PCK CRL indexes) -> frozen ``collateral`` claims;
    #: filled on use, bounded by the collateral's own size
    claims: dict[tuple[int, int, int, int], Mapping[str, Any]] = field(default_factory=dict)

    def collateral_claims(
        self,
        tcb: Document[TcbInfo],
        qe_ident: Document[EnclaveIdentity],
        root_crl: CrlCandidate,
        pck_crl: CrlCandidate,
    ) -> Mapping[str, Any]:
        """The frozen ``collateral`` claims of the documents and CRLs used."""
        key = (tcb.index, qe_ident.index, root_crl.index, pck_crl.index)
        found = self.claims.get(key)
        if found is None:
            found = collateral_claims(
                tcb.model, qe_ident.model, root_crl.crl.next_update_utc, pck_crl.crl.next_update_utc
            )
            found = self.claims.setdefault(key, found)
        return found


class PreparedCollateral:
    """A collateral set and a trust store, with tables of what is static in them."""

    def __init__(self, collateral: Collateral, trust: TrustStore) -> None:
        self.collateral = collateral
        self.trust = trust
        self.pinned = trust.intel_roots
        self._contexts: Memo[tuple[str, str, bytes, str], Context] = Memo("contexts", 64)
        self._chains: Memo[tuple[object, ...], PckPlan] = Memo("collateral-chains", 256)
        self._verdicts: Memo[tuple[object, ...], Verdict] = Memo("verdicts", 1024)
        #: warm_key -> WarmEntry (``warm.py``)
        self.warm: Memo[bytes, WarmEntry] = Memo("intel-warm", WARM_SIZE)

    def pck_plan(self, quote: Quote) -> PckPlan:
        """The plan of the quote's PCK chain (``pck.pck_chain_for``): type 5 from
        ``PLATFORMS``, types 1-4 from this collateral (errors are not kept: they name
        offsets of the quote)."""
        cert = quote.certification
        if cert.type == 5:
            return platform_for(cert.data).pck_plan(quote)
        key = (cert.type, cert.data, quote.qe_report.raw, quote.qe_report_signature)
        plan = self._chains.get(key)
        if plan is None:
            chain = pck_chain_for(quote, self.collateral)
            plan = plan_pck_chain(
                chain, signed=signature_valid, intern=intern_ca, claims=pck_claims
            )
            plan = self._chains.put(key, plan)
        return plan

    def context(self, plan: PckPlan, fmspc: bytes, tee: str) -> Context:
        """The ``Context`` of a PCK chain's root and CA, its FMSPC and the TEE."""
        key = (plan.root_fingerprint, plan.intermediate_fingerprint, fmspc, tee)
        found = self._contexts.get(key)
        if found is None:
            found = self._contexts.put(key, self._context(plan, fmspc, tee))
        return found

    def _context(self, plan: PckPlan, fmspc: bytes, tee: str) -> Context:
        root, inter = plan.root, plan.intermediate
        assert root is not None and inter is not None
        crls = self.collateral.crls
        tee_id = "TDX" if tee == "tdx" else "SGX"
        qe_id = "TD_QE" if tee == "tdx" else "QE"
        tcb_infos = document_choice(
            self.collateral.tcb_infos,
            "tcbInfo",
            TcbInfo,
            lambda t: t.fmspc == fmspc and t.id == tee_id,
            "TCB Info",
        )
        qe_identities = document_choice(
            self.collateral.qe_identities,
            "enclaveIdentity",
            EnclaveIdentity,
            lambda e: e.id == qe_id,
            f"QE Identity ({qe_id})",
        )
        docs: list[Document[Any]] = [*tcb_infos.fitting, *qe_identities.fitting]
        return Context(
            root_crls=crl_choice(crls, root, "Root CA CRL"),
            pck_crls=crl_choice(crls, inter, "PCK CRL"),
            other_issuers=other_issuers(crls, root),
            tcb_infos=tcb_infos,
            qe_identities=qe_identities,
            signatures={
                (d.signed.member, d.index): plan_signature(
                    d.signed,
                    certificates=self.collateral.certificates,
                    pck_root=root,
                    trust=self.trust,
                )
                for d in docs
            },
        )

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
PREPARED: Memo[tuple[bytes, frozenset[str]], PreparedCollateral] = Memo("intel-collateral-sets", 8)


def prepare(collateral: Collateral, trust: TrustStore) -> PreparedCollateral:
    """The ``PreparedCollateral`` of this collateral's content and these pinned roots."""
    key = (collateral.digest, trust.intel_roots)
    found = PREPARED.get(key)
    if found is None:
        found = PREPARED.put(key, PreparedCollateral(collateral, trust))
    return found


def clear_caches() -> None:
    """Empty every Intel table and the memoised X.509 / document helpers (tests and cold
    benchmarks: the next verification starts from nothing)."""
    for memo in (
        PLATFORMS,
        PREPARED,
        CAS,
        CA_BLOCKS.memo,
        CA_LINKS,
        CA_ENTRIES,
        NAMES,
        ORDERS,
        _verify.QE_REPORTS,
        _parse.HEADERS,
        _parse.QE_REPORT_VIEWS,
    ):
        memo.clear()
    _x509.signed_by.cache_clear()
    _x509._crl_der_signed_by.cache_clear()
    _documents._signs.cache_clear()
    _documents._parsed.cache_clear()
    _documents.load_signed_json.cache_clear()
