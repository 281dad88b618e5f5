"""SEV-SNP steps 2-7 of docs/snp.md ("Order of checks"), with what is static verified once.

The same checks as :mod:`.chain`, :mod:`.revocation` and :mod:`.verify`, in the same order
and with the same errors; what depends only on the certificates, CRLs and pinned ARKs (chain
links and their RSA-PSS signatures, profiles, the CRL signature and the revoked serials, the
VCEK/VLEK's KDS extensions and raw key) is computed once per content and replayed. Per call:
the certificate and CRL validity windows at ``at``, the report signature (ECDSA P-384,
``cocoverify._backend.ecdsa_verify``), and the binding of the report to the VCEK/VLEK.

Cache (bounded, thread-safe, keyed by DER digests, the trust store's pinned fingerprints
and the product): 256 plans, each the candidate paths of one VEK.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

from cocoverify._core.x509 import check_validity, common_name
from cocoverify.errors import CocoverifyError, SignatureInvalid, UnsupportedEvidence
from cocoverify.errors import Reason as _Reason
from cocoverify.tee.snp.chain import (
    chain_after_validity,
    chain_before_validity,
    chain_candidates,
    chain_names,
    first_ok,
    missing_role,
)
from cocoverify.tee.snp.facts import CertInfo, CrlInfo
from cocoverify.tee.snp.memo import Failure, Lru, Outcome, Rerun, capture, outcome
from cocoverify.tee.snp.parse import SigningKey, SnpReport
from cocoverify.tee.snp.revocation import RevocationPlan, apply_revocation, revocation_plan
from cocoverify.tee.snp.tcb import PRODUCTS, report_product
from cocoverify.tee.snp.verify import (
    KIND_NAMES,
    AmdChain,
    VekExtensions,
    check_binding,
    parse_vek_extensions,
    report_signature_error,
    report_signature_ok,
)
from cocoverify.trust import TrustStore

__all__ = ["MAX_PATHS", "authenticate", "clear_caches", "trust_key"]

#: Entries of each plan cache (candidate pairs, certificate paths).
MAX_PATHS = 256

_TrustKey = tuple[tuple[str, frozenset[str]], ...]


def trust_key(trust: TrustStore) -> _TrustKey:
    """The pinned ARK fingerprints per product: all a trust store says about AMD."""
    return tuple(trust.amd_arks.items())


@dataclass(frozen=True, slots=True)
class _Path:
    """VEK -> intermediate -> ARK as far as time does not enter."""

    vek: CertInfo
    inter: CertInfo
    ark: CertInfo
    names: tuple[str, str, str]
    #: (notBefore, notAfter) of VEK, intermediate, ARK
    windows: tuple[tuple[_dt.datetime, _dt.datetime], ...]
    before: Outcome
    after: Outcome
    extensions: VekExtensions | Failure | Rerun
    revocation: RevocationPlan
    fingerprints: tuple[str, str, str]


#: Per (VEK, certificate pool, CRLs, product, pinned ARKs): its candidate paths in order,
#: or why there are none.
_PLANS: Lru[tuple[object, ...], tuple[_Path, ...] | Failure | Rerun] = Lru(MAX_PATHS)


def clear_caches() -> None:
    """Forget every plan (tests of cold behaviour)."""
    _PLANS.clear()


def _make_path(
    vek: CertInfo,
    inter: CertInfo,
    ark: CertInfo,
    crls: tuple[CrlInfo, ...],
    product: str,
    trust: TrustStore,
) -> _Path:
    v, i, a = vek.cert, inter.cert, ark.cert
    before = outcome(lambda: chain_before_validity(v, i, a, product=product, trust=trust))
    return _Path(
        vek=vek,
        inter=inter,
        ark=ark,
        names=chain_names(v),
        windows=tuple((c.not_valid_before_utc, c.not_valid_after_utc) for c in (v, i, a)),
        before=before,
        # only reached when ``before`` passes
        after=outcome(lambda: chain_after_validity(v, i, a)) if before is None else None,
        extensions=capture(lambda: parse_vek_extensions(v)),
        revocation=revocation_plan(tuple(c.crl for c in crls), ark=a, intermediate=i, vek=v),
        fingerprints=(vek.sha256, inter.sha256, ark.sha256),
    )


def _plan(
    vek: CertInfo,
    certs: tuple[CertInfo, ...],
    crls: tuple[CrlInfo, ...],
    product: str,
    trust: TrustStore,
) -> tuple[_Path, ...] | Failure | Rerun:
    def make() -> tuple[_Path, ...]:
        by_object = {id(i.cert): i for i in certs}  # the objects handed to chain_candidates
        pairs = chain_candidates(vek.cert, [i.cert for i in certs], product=product, trust=trust)
        return tuple(
            _make_path(vek, by_object[id(i)], by_object[id(a)], crls, product, trust)
            for i, a in pairs
        )

    key = (
        vek.sha256,
        tuple(i.sha256 for i in certs),
        tuple(c.sha256 for c in crls),
        product,
        trust_key(trust),
    )
    return _PLANS.get_or_make(key, lambda: capture(make))


def _with_path(
    path: _Path,
    *,
    report: SnpReport,
    signed: bytes,
    product: str,
    kind: str,
    at: _dt.datetime,
    require_crl: bool,
) -> AmdChain:
    """Steps 4-7 on one path: the cached static outcomes replayed in the order of
    :func:`.chain.verify_chain_roles`, ``parse_vek_extensions``, :func:`.revocation.
    check_revocation`, then the per-call checks."""
    # step 4: the chain to the ARK pinned for the product
    if path.before is not None:
        path.before.check()
    for info, what, (not_before, not_after) in zip(
        (path.vek, path.inter, path.ark), path.names, path.windows, strict=True
    ):
        if at < not_before or at > not_after:
            check_validity(info.cert, at, what=what)
    if path.after is not None:
        path.after.check()
    ext = path.extensions
    if not isinstance(ext, VekExtensions):
        ext.check()
        raise AssertionError("unreachable: a failed check raises")
    # step 5: revocation
    crl = apply_revocation(path.revocation, at=at, require=require_crl)
    # step 6: the report signature, then step 7: the binding
    if not report_signature_ok(path.vek.point, report.signature, signed):
        raise report_signature_error()
    check_binding(ext, report, product=product, kind=kind)
    return AmdChain(
        product,
        kind,
        path.vek.cert,
        path.inter.cert,
        path.ark.cert,
        ext,
        crl,
        path.fingerprints,
    )


def authenticate(
    report: SnpReport,
    signed: bytes,
    certs: Sequence[CertInfo],
    crls: Sequence[CrlInfo],
    *,
    trust: TrustStore,
    at: _dt.datetime,
    require_crl: bool = False,
) -> AmdChain:
    """Steps 2-7 end to end; ``signed`` is the report's bytes 0x000..0x29F. Raises
    AuthenticityError / CollateralError / EvidenceError.

    Every candidate VEK and path is tried in order; the first that passes is the result,
    else the first failure is raised (:func:`.chain.first_ok`, nested as there).
    """
    if report.signing_key == SigningKey.NONE:
        raise SignatureInvalid(
            "the report is unsigned (SIGNING_KEY = none)", reason=_Reason.SIGNATURE_INVALID
        )
    # step 2: the product, from CPUID where present, else from the VEK's issuer
    cpuid_product = report_product(report)
    kind = KIND_NAMES[report.signing_key]
    pool = tuple(certs)
    crl_pool = tuple(crls)
    first: CocoverifyError | None = None
    # step 3: every candidate path is verified in full; the first that passes is the result
    for vek in _vek_candidates(pool, report, signed):
        try:
            product = cpuid_product or vek.issuer_product
            if product is None or product not in PRODUCTS:
                raise UnsupportedEvidence(
                    f"cannot tell the product: {kind} issuer is {common_name(vek.cert.issuer)!r}",
                    reason=_Reason.UNSUPPORTED_PRODUCT,
                )
            paths = _plan(vek, pool, crl_pool, product, trust)
            if not isinstance(paths, tuple):
                paths.check()
                raise AssertionError("unreachable: a failed check raises")
            attempt = functools.partial(
                _with_path,
                report=report,
                signed=signed,
                product=product,
                kind=kind,
                at=at,
                require_crl=require_crl,
            )
            return first_ok(attempt, paths)
        except CocoverifyError as exc:
            first = first or exc
    assert first is not None  # _vek_candidates returns at least one or raises
    raise first


def _vek_candidates(
    certs: tuple[CertInfo, ...], report: SnpReport, signed: bytes
) -> list[CertInfo]:
    """:func:`.verify.vek_candidates` on records: the VCEKs or VLEKs to try, those whose key
    verifies the report first."""
    want = KIND_NAMES[report.signing_key].lower()
    other = "vlek" if want == "vcek" else "vcek"
    same = [c for c in certs if c.role == want]
    if not same:
        raise missing_role(
            any(c.role == other for c in certs),
            f"the report is signed by a {want.upper()} but only a {other.upper()} was supplied",
            _Reason.KEY_TYPE_MISMATCH,
            f"no {want.upper()} certificate supplied (give it as collateral or in the "
            "extended report's certificate table)",
        )
    if len(same) > 1:
        same.sort(key=lambda c: not report_signature_ok(c.point, report.signature, signed))
    return same
