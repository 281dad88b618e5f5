"""The collateral an Intel quote needs beyond the PCK chain: TCB Info and QE Identity
(QVL ``TcbInfo.cpp``, ``EnclaveIdentityV2.cpp``, ``TCBSigningChain.cpp``).

* the signed-JSON envelope ``{"<member>": {...}, "signature": "<hex>"}`` with the exact
  served text of the member (the signature covers those bytes, not a re-serialisation);
* the signer: a TCB Signing certificate chained to the pinned root (the PCK chain's), valid
  at ``at`` and not on the Root CA CRL;
* which document a quote uses (FMSPC, TEE, QE id; preferring one current at ``at`` whose
  signature verifies), and the issue/next-update window.

The documents' schema (the frozen models) is in ``documents.py``.

Each step has a static half computed once per collateral set (``prepared.py``): a
``DocumentChoice`` (the documents that fit a platform, parsed, their dates as microseconds)
and a ``SignaturePlan`` (which TCB Signing certificates verify a document, their chains'
links); ``DocumentChoice.select`` and ``SignaturePlan.check`` compare the verification time
and the Root CA CRL in force on every call.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify._core.json import loads_strict
from cocoverify._core.signatures import verify_ecdsa_raw
from cocoverify._core.x509 import (
    ChainPlan,
    common_name,
    epoch_us,
    fresh,
    plan_chain,
    revoked_serials,
    signed_by,
)
from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralError, CollateralInvalid, CollateralUnavailable, Reason
from cocoverify.result import format_time
from cocoverify.tee.intel.documents import (
    EnclaveIdentity,
    TcbInfo,
    parse_enclave_identity,
    parse_tcb_info,
)
from cocoverify.tee.intel.pck import PckChain
from cocoverify.trust import TrustStore

__all__ = [
    "Document",
    "DocumentChoice",
    "SignaturePlan",
    "SignedJson",
    "check_document_window",
    "check_window",
    "common_window",
    "document_choice",
    "load_signed_json",
    "plan_signature",
    "select_document",
    "verify_signed_json",
]

_SHA256 = hashes.SHA256()


# --- the signed-JSON envelope -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedJson:
    """A PCS response body: the parsed inner object and the exact signed text."""

    member: str
    body: dict[str, Any]
    signed_text: bytes
    signature: bytes


_SIG_HEX = re.compile(r"[0-9A-Fa-f]{128}")


@functools.lru_cache(maxsize=256)
def load_signed_json(raw: bytes, member: str) -> SignedJson:
    """Split ``{"<member>": {...}, "signature": "<hex>"}`` keeping the member's exact text.

    Memoised by the raw bytes (pure); callers must treat ``body`` as read-only.
    """
    try:
        text = raw.decode("utf-8")
        doc = loads_strict(text)
        if not isinstance(doc, dict) or not isinstance(doc.get(member), dict):
            raise ValueError(f"no {member} object")
        sig_hex = doc.get("signature")
        # raw r||s, 128 hex digits exactly (bytes.fromhex would also take spaces)
        if not isinstance(sig_hex, str) or _SIG_HEX.fullmatch(sig_hex) is None:
            raise ValueError("signature is not 128 hex digits")
        signature = bytes.fromhex(sig_hex)
        span = _member_span(text, member)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise CollateralInvalid(
            f"{member}: malformed ({exc})", reason=Reason.COLLATERAL_MALFORMED
        ) from None
    return SignedJson(
        member=member,
        body=doc[member],
        signed_text=text[span[0] : span[1]].encode("utf-8"),
        signature=signature,
    )


def _member_span(text: str, member: str) -> tuple[int, int]:
    """Character span of a top-level member's value, using the stdlib scanner."""
    decoder = json.JSONDecoder()
    ws = " \t\n\r"
    pos = 0
    while text[pos] in ws:
        pos += 1
    if text[pos] != "{":
        raise ValueError("not an object")
    pos += 1
    while True:
        while text[pos] in ws:
            pos += 1
        key, pos = decoder.raw_decode(text, pos)
        while text[pos] in ws:
            pos += 1
        if text[pos] != ":":
            raise ValueError("expected ':'")
        pos += 1
        while text[pos] in ws:
            pos += 1
        start = pos
        _, pos = decoder.raw_decode(text, pos)
        if key == member:
            return start, pos
        while text[pos] in ws:
            pos += 1
        if text[pos] != ",":
            raise ValueError(f"member {member!r} not found")
        pos += 1


# --- the signer: a TCB Signing certificate ----------------------------------------------------


@functools.lru_cache(maxsize=256)
def _signs(cert: x509.Certificate, signature: bytes, text: bytes) -> bool:
    """Memoised: ``cert``'s key verifies the raw r||s ``signature`` over ``text``."""
    key = cert.public_key()
    return isinstance(key, ec.EllipticCurvePublicKey) and verify_ecdsa_raw(
        key, signature, text, _SHA256
    )


@dataclass(frozen=True, slots=True)
class SignerPlan:
    """One TCB Signing certificate that verifies a document: its issuer among the supplied
    certificates and the PCK root (a pinned one preferred), and that chain's plan."""

    signer: x509.Certificate
    #: no issuer certificate supplied
    error: CollateralInvalid | None
    chain: ChainPlan | None
    #: the issuer is not the PCK chain's root
    other_root: bool
    serial: int

    def check(self, pinned: frozenset[str], at_us: int, revoked: frozenset[int]) -> None:
        """(signer, root) chain to the pinned root, valid at ``at_us``; the same root as the
        PCK chain; the signer not on the Root CA CRL (``revoked``)."""
        if self.error is not None:
            raise fresh(self.error)
        assert self.chain is not None
        self.chain.check(pinned, at_us)
        # One root for everything (QVL trusts one root): the Root CA CRL checked here is the
        # PCK root's, so a signer under another pinned root would escape its own root's CRL.
        if self.other_root:
            raise CollateralInvalid(
                "TCB Signing certificate chains to another root than the PCK chain",
                reason=Reason.COLLATERAL_CHAIN_INVALID,
            )
        if self.serial in revoked:
            raise CollateralInvalid(
                "TCB Signing certificate is revoked", reason=Reason.COLLATERAL_CHAIN_INVALID
            )


@dataclass(frozen=True, slots=True)
class SignaturePlan:
    """Which supplied TCB Signing certificates verify a document's signature, in order."""

    #: no TCB Signing certificate, or none verifies
    error: CollateralError | None
    signers: tuple[SignerPlan, ...]

    def check(
        self, pinned: frozenset[str], at_us: int, revoked: frozenset[int]
    ) -> x509.Certificate:
        """The first signer whose checks pass; the first one's defect when none does."""
        if self.error is not None:
            raise fresh(self.error)
        first_error: CollateralInvalid | None = None
        for signer in self.signers:
            try:
                signer.check(pinned, at_us, revoked)
            except CollateralInvalid as exc:
                first_error = first_error or exc
                continue
            return signer.signer
        assert first_error is not None
        raise first_error


def plan_signature(
    signed: SignedJson,
    *,
    certificates: Sequence[x509.Certificate],
    pck_root: x509.Certificate,
    trust: TrustStore,
) -> SignaturePlan:
    """The static half of ``verify_signed_json`` for one document and one PCK root."""
    signers = [c for c in certificates if "TCB Signing" in common_name(c.subject)]
    if not signers:
        missing = CollateralUnavailable(
            f"no TCB Signing certificate for the {signed.member}", reason=Reason.COLLATERAL_MISSING
        )
        return SignaturePlan(missing, ())
    verifying = [c for c in signers if _signs(c, signed.signature, signed.signed_text)]
    if not verifying:
        invalid = CollateralInvalid(
            f"{signed.member} signature does not verify", reason=Reason.COLLATERAL_SIGNATURE_INVALID
        )
        return SignaturePlan(invalid, ())
    return SignaturePlan(
        None, tuple(_plan_signer(s, certificates, pck_root, trust) for s in verifying)
    )


def _plan_signer(
    signer: x509.Certificate,
    certificates: Sequence[x509.Certificate],
    pck_root: x509.Certificate,
    trust: TrustStore,
) -> SignerPlan:
    roots = [
        c for c in (*certificates, pck_root) if c.subject == signer.issuer and signed_by(signer, c)
    ]
    root = next((c for c in roots if trust.is_intel_root(c)), roots[0] if roots else None)
    if root is None:
        error = CollateralInvalid(
            "TCB Signing certificate: no issuer certificate supplied",
            reason=Reason.COLLATERAL_CHAIN_INVALID,
        )
        return SignerPlan(signer, error, None, False, signer.serial_number)
    chain = plan_chain(
        (signer, root),
        names=("TCB Signing certificate", "root CA certificate"),
        collateral=True,
    )
    return SignerPlan(signer, None, chain, root != pck_root, signer.serial_number)


def verify_signed_json(
    signed: SignedJson,
    *,
    collateral: Collateral,
    pck: PckChain,
    root_crl: x509.CertificateRevocationList,
    trust: TrustStore,
    at: _dt.datetime,
) -> x509.Certificate:
    """Signature by a TCB Signing certificate chained to the pinned root (QVL
    ``TCBSigningChain.cpp``; the signed text: QVL ``TcbInfo.cpp``).

    Intel re-issues the TCB Signing certificate with the same key (2018-2025 and 2025-2032
    generations), so several supplied certificates may verify the signature: the first whose
    chain is valid at ``at`` and not revoked is used; if none is, the first one's defect is
    reported. File order therefore cannot make a valid document fail.
    """
    plan = plan_signature(
        signed, certificates=collateral.certificates, pck_root=pck.root, trust=trust
    )
    return plan.check(trust.intel_roots, epoch_us(at), revoked_serials(root_crl))


# --- which document, and when -----------------------------------------------------------------

M = TypeVar("M", TcbInfo, EnclaveIdentity)


@functools.lru_cache(maxsize=256)
def _parsed(raw: bytes, member: str) -> tuple[SignedJson, Any]:
    """Signed JSON split and modelled, memoised by the raw bytes (both steps are pure)."""
    signed = load_signed_json(raw, member)
    model = (
        parse_tcb_info(signed.body) if member == "tcbInfo" else parse_enclave_identity(signed.body)
    )
    return signed, model


@dataclass(frozen=True, slots=True)
class Document(Generic[M]):
    """A parsed document, its position in the collateral and its window in microseconds."""

    index: int
    signed: SignedJson
    model: M
    issue: int
    next_update: int


@dataclass(frozen=True, slots=True)
class DocumentChoice(Generic[M]):
    """The documents that fit a platform, in collateral order, or why there are none."""

    error: CollateralError | None
    fitting: tuple[Document[M], ...]

    def select(self, at_us: int, verify: Callable[[Document[M]], object]) -> Document[M]:
        """The preferred document whose signature ``verify`` accepts: current at ``at_us``
        first, then the newest; when none verifies, the preferred one's error is raised."""
        if self.error is not None:
            raise fresh(self.error)
        docs = self.fitting
        if len(docs) > 1:
            docs = tuple(
                sorted(
                    docs,
                    key=lambda d: (d.issue <= at_us <= d.next_update, d.issue),
                    reverse=True,
                )
            )
        first_error: CollateralError | None = None
        for doc in docs:
            try:
                verify(doc)
            except CollateralError as exc:
                first_error = first_error or exc
                continue
            return doc
        assert first_error is not None
        raise first_error


def document_choice(
    raws: tuple[bytes, ...],
    member: str,
    model: type[M],
    fits: Callable[[M], bool],
    what: str,
) -> DocumentChoice[M]:
    """The static half of ``select_document``.

    A malformed document is reported only when no well-formed one fits: a collateral store
    may hold documents of other platforms (or of versions this verifier does not read),
    and those must not make this quote fail.
    """
    docs: list[Document[M]] = []
    malformed: CollateralInvalid | None = None
    seen: set[bytes] = set()
    for i, r in enumerate(raws):
        if r in seen:
            # the same bytes again (a file and a dcap-qvl bundle of it): the first copy is
            # tried first and the copy could only fail as it did, so it changes nothing
            continue
        seen.add(r)
        try:
            signed, parsed = _parsed(r, member)
        except CollateralInvalid as exc:
            malformed = malformed or exc
            continue
        assert isinstance(parsed, model)
        docs.append(
            Document(i, signed, parsed, epoch_us(parsed.issue_date), epoch_us(parsed.next_update))
        )
    if not docs and malformed is None:
        none = CollateralUnavailable(f"no {what} supplied", reason=Reason.COLLATERAL_MISSING)
        return DocumentChoice(none, ())
    fitting = tuple(d for d in docs if fits(d.model))
    if not fitting and malformed is not None:
        return DocumentChoice(malformed, ())
    if not fitting:
        mismatch = CollateralInvalid(
            f"no {what} supplied for this platform (FMSPC / TEE type)",
            reason=Reason.COLLATERAL_MISMATCH,
        )
        return DocumentChoice(mismatch, ())
    return DocumentChoice(None, fitting)


def select_document(
    raws: tuple[bytes, ...],
    member: str,
    model: type[M],
    fits: Callable[[M], bool],
    at: _dt.datetime,
    what: str,
    verify: Callable[[SignedJson], object],
) -> tuple[SignedJson, M]:
    """Pick the collateral document that fits the quote; prefer one valid at ``at``.

    A malformed document is reported only when no well-formed one fits (``document_choice``).
    The preferred document whose signature ``verify`` accepts is taken, so an injected
    unsigned document cannot displace a genuine one; when none verifies, the preferred one's
    error is raised.
    """
    choice = document_choice(raws, member, model, fits, what)
    doc = choice.select(epoch_us(at), lambda d: verify(d.signed))
    return doc.signed, doc.model


def check_window(
    what: str, issue: _dt.datetime, next_update: _dt.datetime, at: _dt.datetime
) -> None:
    """issueDate <= at <= nextUpdate (QVL ``TCBInfoVerifier.cpp``, ``EnclaveIdentityV2.cpp``:
    expired when at > nextUpdate; an issue date in the future is refused too, as the peer
    dcap-qvl does)."""
    _check_window(what, issue, next_update, epoch_us(issue), epoch_us(next_update), epoch_us(at))


def check_document_window(what: str, doc: Document[Any], at_us: int) -> None:
    """``check_window`` of a selected document, ``at_us`` in microseconds."""
    m = doc.model
    _check_window(what, m.issue_date, m.next_update, doc.issue, doc.next_update, at_us)


def _check_window(
    what: str,
    issue: _dt.datetime,
    next_update: _dt.datetime,
    issue_us: int,
    next_update_us: int,
    at_us: int,
) -> None:
    if at_us > next_update_us:
        raise CollateralInvalid(
            f"{what} expired at {format_time(next_update)}",
            reason=Reason.COLLATERAL_EXPIRED,
            valid_from=issue,
        )
    if at_us < issue_us:
        raise CollateralInvalid(
            f"{what} issued at {format_time(issue)}, after the verification time",
            reason=Reason.COLLATERAL_NOT_YET_VALID,
        )


def common_window(collateral: Collateral) -> tuple[_dt.datetime, _dt.datetime] | None:
    """The span in which every TCB Info, QE Identity and CRL given is within its issue date
    and next update, or None (for the ``--at`` hint of an expiry: errors.with_at_hint)."""
    spans: list[tuple[_dt.datetime, _dt.datetime]] = []
    for raw, member in [(r, "tcbInfo") for r in collateral.tcb_infos] + [
        (r, "enclaveIdentity") for r in collateral.qe_identities
    ]:
        try:
            body = loads_strict(raw)[member]
            spans.append((_iso(body["issueDate"]), _iso(body["nextUpdate"])))
        except (ValueError, KeyError, TypeError, RecursionError):
            continue
    for crl in collateral.crls:
        if crl.next_update_utc is not None:
            spans.append((crl.last_update_utc, crl.next_update_utc))
    if not spans:
        return None
    start, end = max(s for s, _ in spans), min(e for _, e in spans)
    return (start, end) if start <= end else None


def _iso(text: Any) -> _dt.datetime:
    value = _dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("no time zone")
    return value.astimezone(_dt.UTC)
