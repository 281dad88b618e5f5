"""The PCK certificate chain (QVL ``PckCertVerifier.cpp``; SGX extension: QVL
``AttestationParsers`` ``ParserUtils.h``, ``X509/*.cpp``).

* where the chain comes from: certification data type 5 (read strictly: the data is not
  signed), else the collateral (types 1-4; type 4 carries the leaf alone);
* the chain to the pinned Intel SGX Root CA, valid at ``at``, with QVL's CN profile;
* the Intel SGX extension of the leaf (OID 1.2.840.113741.1.13.1), decoded strictly.

What depends on the chain alone (its links, the profile, the extension, the leaf key) is a
``PckPlan``, computed once per chain content (``prepared.PLATFORMS``): facts, and no
certificate object but the CA certificates shared through ``CAS``. ``PckPlan.check`` adds
the pinned roots and the verification time on every call.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cocoverify._core.signatures import verify_ecdsa_raw
from cocoverify._core.x509 import (
    CertificateReuse,
    ChainPlan,
    common_name,
    epoch_us,
    fingerprint,
    fresh,
    is_ca,
    load_certificates,
    plan_chain,
    signature_valid,
    signed_by,
)
from cocoverify.collateral import Collateral
from cocoverify.errors import (
    ChainInvalid,
    CocoverifyError,
    CollateralUnavailable,
    MalformedEvidence,
    Reason,
)
from cocoverify.tee.intel.cache import Memo
from cocoverify.tee.intel.parse import Quote
from cocoverify.tee.intel.sgxext import SGX_EXT_OID, PckInfo, parse_pck_extension
from cocoverify.trust import TrustStore

__all__ = [
    "CAS",
    "CA_BLOCKS",
    "CA_LINKS",
    "SGX_EXT_OID",
    "ChainNames",
    "PckChain",
    "PckInfo",
    "PckPlan",
    "Platform",
    "ca_link",
    "chain_order",
    "intern_ca",
    "order_chain",
    "parse_pck_extension",
    "pck_chain_for",
    "plan_pck_chain",
    "read_platform",
    "verify_pck_chain",
]

_SHA256 = hashes.SHA256()


@dataclass(frozen=True, slots=True)
class PckChain:
    """An authenticated PCK chain and its extension facts."""

    leaf: x509.Certificate
    intermediate: x509.Certificate
    root: x509.Certificate
    info: PckInfo


def order_chain(certs: Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """Leaf first, following issuer links (files list the root first or last: QVL's
    synthetic sample lists it first)."""
    if not certs:
        return ()
    leaves = [c for c in certs if c.subject not in {x.issuer for x in certs if x is not c}]
    leaf = leaves[0] if leaves else certs[0]
    out = [leaf]
    while out[-1].issuer != out[-1].subject and len(out) <= len(certs):
        parent = next((c for c in certs if c.subject == out[-1].issuer and c not in out), None)
        if parent is None:
            break
        out.append(parent)
    return tuple(out)


def chain_order(names: Sequence[tuple[x509.Name, x509.Name]]) -> tuple[int, ...]:
    """``order_chain`` of pairwise different certificates (DER), given their (subject,
    issuer): the positions, leaf first. A function of the names alone, so ``pckleaf.py``
    keeps it by the names' bytes."""
    if not names:
        return ()
    n = range(len(names))
    leaves = [i for i in n if names[i][0] not in {names[j][1] for j in n if j != i}]
    out = [leaves[0] if leaves else 0]
    while names[out[-1]][1] != names[out[-1]][0] and len(out) <= len(names):
        issuer = names[out[-1]][1]
        parent = next((i for i in n if names[i][0] == issuer and i not in out), None)
        if parent is None:
            break
        out.append(parent)
    return tuple(out)


# --- where the chain comes from ---------------------------------------------------------------

#: Type-5 PEM text exactly as Intel's QE writes it (docs/intel.md; RFC 7468 section 3 strict
#: form, as every real quote has it): per certificate a BEGIN line, the base64 in lines of 64
#: characters (the last one 4..64, padded), an END line, each ended by one LF; then NUL
#: padding only. CRLF, other line lengths, a missing final LF: malformed.
_B64 = rb"[A-Za-z0-9+/]"
_PEM_STRICT = re.compile(
    rb"(?:-----BEGIN CERTIFICATE-----\n(?:" + _B64 + rb"{64}\n)*"
    rb"(?:" + _B64 + rb"{4}){0,15}(?:" + _B64 + rb"{4}|" + _B64 + rb"{3}=|" + _B64 + rb"{2}==)\n"
    rb"-----END CERTIFICATE-----\n)+\x00*"
)


def _read_certificates(
    data: bytes, *, reuse: CertificateReuse | None = None
) -> tuple[x509.Certificate, ...]:
    """Certificates of type 4/5 certification data, read strictly (QVL ``QuoteStructures.h``).

    The data is not signed, so it must hold certificates and nothing else: PEM in the form
    the QE writes, or concatenated DER (QVL's sample), each optionally NUL-padded. Any other
    byte (a changed line break, text between or after blocks) is malformed.
    """
    if data.startswith(b"-----BEGIN"):
        if _PEM_STRICT.fullmatch(data) is None:
            raise MalformedEvidence(
                "PCK certificate chain: not strict PEM certificates",
                reason=Reason.MALFORMED_CERTIFICATE,
            )
        return load_certificates(data, what="PCK certificate chain", reuse=reuse)
    return load_certificates(data, what="PCK certificate chain", zero_padding=True, reuse=reuse)


def _malformed_data(quote: Quote, message: str) -> MalformedEvidence:
    return MalformedEvidence(
        message,
        field="certification_data.data",
        offset=quote.certification.offset + 6,
        reason=Reason.MALFORMED_CERTIFICATE,
    )


def _cert_data_certificates(quote: Quote) -> tuple[x509.Certificate, ...]:
    """``_read_certificates`` of the quote's certification data; errors name its offset."""
    try:
        return _read_certificates(quote.certification.data)
    except MalformedEvidence as exc:
        raise _malformed_data(quote, str(exc.args[0])) from None


def _type5_chain(certs: tuple[x509.Certificate, ...]) -> tuple[x509.Certificate, ...]:
    """Type 5 must carry exactly the chain's certificates (QVL: three), ordered leaf first."""
    ordered = order_chain(certs)
    if len(ordered) != len(certs):
        raise ChainInvalid(
            f"certification data carries {len(certs)} certificates, "
            f"{len(ordered)} of them form the PCK chain",
            reason=Reason.CHAIN_INVALID,
        )
    return ordered


def _is_pck_leaf(cert: x509.Certificate) -> bool:
    return "SGX PCK Certificate" in common_name(cert.subject)


def _complete(
    leaf: x509.Certificate, pool: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    """``leaf`` followed by its issuers found in ``pool`` (issuer name and signature)."""
    out = [leaf]
    while out[-1].issuer != out[-1].subject and len(out) < 3:
        parent = next(
            (c for c in pool if c.subject == out[-1].issuer and signed_by(out[-1], c)), None
        )
        if parent is None:
            break
        out.append(parent)
    return tuple(out)


def pck_chain_for(quote: Quote, collateral: Collateral) -> tuple[x509.Certificate, ...]:
    """The PCK chain: certification data type 5, else from the collateral (types 1-4).

    Type 5 must carry exactly the chain's certificates (QVL: three). For types 1-4 (no
    chain in the quote; type 4 carries the leaf alone) candidate chains are the collateral's
    PCK chains and, for type 4, the quote's leaf completed from the collateral; the one whose
    leaf key verifies the QE report signature is taken, so other platforms' PCK chains in
    the collateral cannot steer the choice (the signature is checked again afterwards).
    """
    cert = quote.certification
    if cert.type == 5:
        return _type5_chain(_cert_data_certificates(quote))
    candidates: list[tuple[x509.Certificate, ...]] = []
    if cert.type == 4:
        leaves = _cert_data_certificates(quote)
        if len(leaves) != 1:
            raise _malformed_data(
                quote,
                f"certification data type 4 holds {len(leaves)} certificates, not the PCK leaf",
            )
        completed = _complete(leaves[0], collateral.certificates)
        if len(completed) == 3:  # else its CA and root were not supplied
            candidates.append(completed)
    for chain in collateral.chains:
        ordered = order_chain(chain)
        if ordered and _is_pck_leaf(ordered[0]):
            candidates.append(ordered)
    if not candidates:
        raise CollateralUnavailable(
            f"certification data type {cert.type} carries no PCK chain and none was supplied",
            reason=Reason.COLLATERAL_MISSING,
        )
    for chain in candidates:
        key = chain[0].public_key()
        if isinstance(key, ec.EllipticCurvePublicKey) and verify_ecdsa_raw(
            key, quote.qe_report_signature, quote.qe_report.raw, _SHA256
        ):
            return chain
    return candidates[0]


# --- the chain to the pinned root -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PckPlan:
    """``verify_pck_chain`` split: what depends on the chain alone, computed once.

    Holds facts, not the chain: the leaf's key and serial, the extension facts, and the CA
    certificates (which ``plan_pck_chain`` may share between plans through ``intern``).
    """

    count: int
    chain: ChainPlan | None  # None unless count == 3
    #: CN profile or SGX extension defect, raised after the validity checks
    error: CocoverifyError | None
    info: PckInfo | None
    #: raw X||Y of a P-256 leaf key; ``leaf_key`` holds any other EC key; both None: not EC
    leaf_point: bytes | None
    leaf_key: ec.EllipticCurvePublicKey | None
    leaf_serial: int
    leaf_issuer_cn: str
    intermediate: x509.Certificate | None
    intermediate_fingerprint: str
    intermediate_serial: int
    root: x509.Certificate | None
    root_fingerprint: str
    #: what ``plan_pck_chain``'s ``claims`` made of ``info`` (the frozen ``pck`` claims)
    claims: Mapping[str, Any] | None = None

    def check(self, pinned: frozenset[str], at_us: int) -> PckInfo:
        """The checks of ``verify_pck_chain``, in its order, at ``at_us`` (microseconds)."""
        if self.chain is None:
            raise ChainInvalid(
                f"PCK chain has {self.count} certificates, expected 3", reason=Reason.CHAIN_INVALID
            )
        self.chain.check(pinned, at_us)
        if self.error is not None:
            raise fresh(self.error)
        assert self.info is not None
        return self.info


@dataclass(frozen=True, slots=True)
class ChainNames:
    """What ``plan_pck_chain`` reads from the names of a chain and its CA certificates,
    when the caller has it already (``pckleaf.py``: from the names' bytes)."""

    leaf_cn: str
    leaf_issuer_cn: str
    intermediate_cn: str
    intermediate_fingerprint: str
    root_fingerprint: str


def plan_pck_chain(
    chain: Sequence[x509.Certificate],
    *,
    signed: Callable[[x509.Certificate, x509.Certificate], bool] = signed_by,
    ca_links: bool = False,
    intern: Callable[[str, x509.Certificate], x509.Certificate] | None = None,
    claims: Callable[[PckInfo], Mapping[str, Any]] | None = None,
    names: ChainNames | None = None,
) -> PckPlan:
    """The static half of ``verify_pck_chain`` (QVL ``PckCertVerifier.cpp``).

    ``signed`` checks a link (see ``_core.x509.plan_chain``); ``ca_links``: the links
    between the CA certificates go through ``ca_link`` instead (kept by fingerprints);
    ``intern`` maps a CA certificate to the one instance kept for its fingerprint;
    ``claims`` describes the extension facts once; ``names``: the common names and CA
    fingerprints, equal to what would be read from ``chain``.
    """
    if len(chain) != 3:
        return PckPlan(len(chain), None, None, None, None, None, 0, "", None, "", 0, None, "")
    leaf, inter, root = chain
    if names is None:
        names = ChainNames(
            common_name(leaf.subject),
            common_name(leaf.issuer),
            common_name(inter.subject),
            fingerprint(inter),
            fingerprint(root),
        )
    inter_fp, root_fp = names.intermediate_fingerprint, names.root_fingerprint
    link = signed
    if ca_links:

        def link(child: x509.Certificate, parent: x509.Certificate) -> bool:
            if child is leaf:
                return signed(child, parent)
            child_fp = root_fp if child is root else inter_fp
            return ca_link(child, child_fp, parent, root_fp if parent is root else inter_fp)

    plan = plan_chain(
        chain,
        names=("PCK certificate", "PCK CA certificate", "root CA certificate"),
        signed=link,
        root_fingerprint=root_fp,
    )
    error: CocoverifyError | None = None
    info = None
    if "SGX PCK Certificate" not in names.leaf_cn or "CA" not in names.intermediate_cn:
        error = ChainInvalid(
            "PCK chain certificates do not have Intel's PCK profile",
            reason=Reason.CERTIFICATE_PROFILE_INVALID,
        )
    else:
        try:
            info = parse_pck_extension(leaf, issuer_cn=names.leaf_issuer_cn)
        except ChainInvalid as exc:
            error = exc
    key = leaf.public_key()
    point = other = None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]
        else:
            other = key
    if intern is not None:
        inter, root = intern(inter_fp, inter), intern(plan.root_fingerprint, root)
    return PckPlan(
        count=3,
        chain=plan,
        error=error,
        info=info,
        leaf_point=point,
        leaf_key=other,
        leaf_serial=leaf.serial_number,
        leaf_issuer_cn=names.leaf_issuer_cn,
        intermediate=inter,
        intermediate_fingerprint=inter_fp,
        intermediate_serial=inter.serial_number,
        root=root,
        root_fingerprint=plan.root_fingerprint,
        claims=claims(info) if claims is not None and info is not None else None,
    )


def verify_pck_chain(
    chain: Sequence[x509.Certificate], *, trust: TrustStore, at: _dt.datetime
) -> PckChain:
    """Leaf, PCK CA and root to the pinned root, valid at ``at``; CN profile; SGX extension.

    QVL ``QuoteVerification.cpp`` (three certificates), ``PckCertVerifier.cpp`` (links, CN
    phrases of ``X509Constants.cpp``).
    """
    info = plan_pck_chain(chain).check(trust.intel_roots, epoch_us(at))
    leaf, inter, root = chain
    return PckChain(leaf=leaf, intermediate=inter, root=root, info=info)


# --- the per-platform table -------------------------------------------------------------------

#: CA certificates (PCK CAs, roots) by SHA-256 fingerprint, shared by every plan: 64 entries.
CAS: Memo[str, x509.Certificate] = Memo("intel-ca-certificates", 64)


def intern_ca(fp: str, cert: x509.Certificate) -> x509.Certificate:
    """The one kept instance of the CA certificate whose SHA-256 is ``fp``."""
    return CAS.get_or_build(fp, lambda: cert)


class _CaBlocks:
    """CA certificates by the bytes (PEM block or DER) they were read from: a new
    platform's chain reads only its leaf (``load_certificates``'s ``reuse``)."""

    def __init__(self, maxsize: int) -> None:
        self.memo: Memo[bytes, x509.Certificate] = Memo("intel-ca-blocks", maxsize)

    def get(self, block: bytes) -> x509.Certificate | None:
        return self.memo.get(block)

    def add(self, block: bytes, cert: x509.Certificate) -> None:
        if is_ca(cert):
            self.memo.put(block, cert)


#: CA certificates read from certification data, by their bytes: 64 entries.
CA_BLOCKS = _CaBlocks(64)

#: (child, issuer) SHA-256 fingerprints -> ``signature_valid``, for the links between CA
#: certificates (PCK CA to root, root to itself), the same for every platform: 256 entries.
CA_LINKS: Memo[tuple[str, str], bool] = Memo("intel-ca-links", 256)


def ca_link(
    child: x509.Certificate, child_fp: str, parent: x509.Certificate, parent_fp: str
) -> bool:
    """``signature_valid`` of a link between CA certificates, kept in ``CA_LINKS``."""
    key = (child_fp, parent_fp)
    found = CA_LINKS.get(key)
    if found is None:
        found = CA_LINKS.put(key, signature_valid(child, parent))
    return found


@dataclass(frozen=True, slots=True)
class Platform:
    """Type-5 certification data read once: the defect of its bytes, or the chain's plan."""

    #: not certificates (MalformedEvidence; its offset is the quote's, given per call)
    malformed: str | None
    #: not exactly the PCK chain (ChainInvalid)
    error: CocoverifyError | None
    plan: PckPlan | None

    def pck_plan(self, quote: Quote) -> PckPlan:
        """The plan, or the error ``pck_chain_for`` raises for these bytes in ``quote``."""
        if self.malformed is not None:
            raise _malformed_data(quote, self.malformed)
        if self.error is not None:
            raise fresh(self.error)
        assert self.plan is not None
        return self.plan


def read_platform(
    data: bytes, *, claims: Callable[[PckInfo], Mapping[str, Any]] | None = None
) -> Platform:
    """Type-5 certification data read once (``pck_chain_for``, then ``plan_pck_chain``)."""
    try:
        # CA certificates read before are taken as they were read and checked then
        chain = _type5_chain(_read_certificates(data, reuse=CA_BLOCKS))
    except MalformedEvidence as exc:
        return Platform(str(exc.args[0]), None, None)
    except ChainInvalid as exc:
        return Platform(None, exc, None)
    # the leaf's link is new with each platform: checked, and kept in no table
    plan = plan_pck_chain(
        chain, signed=signature_valid, ca_links=True, intern=intern_ca, claims=claims
    )
    return Platform(None, None, plan)
