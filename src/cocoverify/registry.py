"""The one list of TEEs: detection, pipeline, policy sections and what each needs.

Adding a TEE is one folder under ``tee/`` plus one :class:`TeeSpec` here
(docs/adding-a-tee.md). Nothing else in the package lists TEEs.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol

from cocoverify.collateral import Collateral
from cocoverify.collateral.requests import CollateralRequest
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import EvidenceError, Reason
from cocoverify.result import Appraisal
from cocoverify.tee import cca, ibmse, intel, nitro, nvidia, snp
from cocoverify.tee.intel import requests as intel_requests
from cocoverify.tee.snp import requests as snp_requests
from cocoverify.trust import TrustStore
from cocoverify.wrappers import azure, tdx_eventlog
from cocoverify.wrappers.azure.parse import parse_evidence, parse_hcl

__all__ = [
    "TEES",
    "CollateralRequests",
    "Pipeline",
    "TeeSpec",
    "collateral_requests",
    "detect",
    "key_claims",
    "peek_tee",
    "policy_sections",
    "spec_for",
]


class Pipeline(Protocol):
    """What each TEE package offers: authenticated appraisal of one piece of evidence."""

    def __call__(
        self,
        data: bytes,
        *,
        collateral: Collateral,
        trust: TrustStore,
        at: _dt.datetime,
        source: CollateralSource | None = None,
        require_crl: bool = False,
    ) -> Appraisal: ...


class CollateralRequests(Protocol):
    """What a TEE package offers to ``cocoverify fetch`` and ``verify --online``: the typed
    requests (``collateral/requests.py``) for the collateral this evidence needs, read from
    the evidence (nothing verified). ``collateral``: what is already at hand (a VCEK naming
    a v2 report's product, a PCK chain for quotes without one); ``product``: an explicit
    AMD product for reports that do not name it."""

    def __call__(
        self, data: bytes, *, collateral: Collateral | None = None, product: str | None = None
    ) -> tuple[CollateralRequest, ...]: ...


@dataclass(frozen=True, slots=True)
class TeeSpec:
    """One TEE package as the rest of cocoverify sees it."""

    #: package name under ``cocoverify.tee`` (and of its tests, docs and test PKI)
    name: str
    #: the ``tee`` values its results carry
    tees: tuple[str, ...]
    #: the ``tee`` value when the bytes are this TEE's evidence, else None (no exceptions)
    detect: Callable[[bytes], str | None]
    #: parse -> verify -> collateral -> TCB -> claims, up to the TCB verdict
    appraise: Pipeline
    #: decoded fields for ``cocoverify show``, nothing verified
    describe: Callable[[bytes], dict[str, Any]]
    #: policy sections by ``tee`` value (the policy document's top-level keys)
    policy_sections: Mapping[str, Any]
    #: collateral the pipeline uses besides the evidence (documentation and error hints)
    collateral: tuple[str, ...] = ()
    #: TCB statuses the TEE's appraisal can yield (the policy's accepted_tcb_statuses)
    tcb_statuses: frozenset[str] = frozenset()
    #: the claims that identify what ran (batch records and the CLI's text view show them)
    key_claims: tuple[str, ...] = ()
    #: the online collateral the evidence needs (None: no collateral service serves it)
    requests: CollateralRequests | None = None


def _hardware(data: bytes) -> TeeSpec:
    """The TEE package of a hardware report inside wrapped evidence (no wrapper specs)."""
    for spec in TEES:
        if spec.name not in _WRAPPERS and spec.detect(data) is not None:
            return spec
    raise EvidenceError(
        "the hardware report inside the wrapped evidence is of no known kind",
        reason=Reason.UNKNOWN_FORMAT,
    )


@functools.lru_cache(maxsize=64)
def _evidence_collateral(item: bytes) -> Collateral:
    """A collateral file carried in evidence, by content (64 entries; errors not kept)."""
    return Collateral.from_bytes(item, source="evidence")


def _appraise_azure(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,
    require_crl: bool = False,
) -> Appraisal:
    """Azure evidence; its hardware report goes through that TEE's own pipeline."""

    def inner(hw: bytes, files: tuple[bytes, ...]) -> Appraisal:
        extra = collateral
        for item in files:  # what the evidence carries (the VCEK), recognised by content
            extra = extra + _evidence_collateral(item)
        return _hardware(hw).appraise(
            hw,
            collateral=extra,
            trust=trust,
            at=at,
            source=source,
            require_crl=require_crl,
        )

    return azure.appraise_evidence(data, inner=inner)


def _requests_azure(
    data: bytes, *, collateral: Collateral | None = None, product: str | None = None
) -> tuple[CollateralRequest, ...]:
    """The hardware report's requests; the VCEK the evidence carries may name the product."""
    ev = parse_evidence(data)
    hcl = parse_hcl(ev.hcl_report)
    extra = collateral if collateral is not None else Collateral()
    if hcl.kind == "az-snp-vtpm":
        hw = hcl.snp_report
        if ev.vcek:
            extra = extra + _evidence_collateral(ev.vcek)
    else:
        hw = ev.td_quote or b""
    return collateral_requests(hw, collateral=extra, product=product)


#: specs whose evidence wraps another TEE's
_WRAPPERS = ("azure", "tpm")


TEES: tuple[TeeSpec, ...] = (
    TeeSpec(
        name="intel",
        tees=("sgx", "tdx"),
        detect=intel.detect,
        appraise=intel.appraise_quote,
        describe=intel.describe,
        policy_sections=MappingProxyType(intel.POLICY_SECTIONS),
        collateral=(
            "PCK certificate chain (in the quote, type 5) or PCK certificate",
            "PCK CRL and its issuer chain",
            "Intel SGX Root CA CRL",
            "TCB Info (SGX or TDX) for the FMSPC, with its signing chain",
            "QE Identity (QE or TD_QE), with its signing chain",
        ),
        tcb_statuses=intel.TCB_STATUSES,
        requests=intel_requests.collateral_requests,
        key_claims=(
            "mr_enclave",
            "mr_signer",
            "isv_prod_id",
            "isv_svn",
            "mr_td",
            "rtmr0",
            "rtmr1",
            "rtmr2",
            "rtmr3",
            "mr_config_id",
        ),
    ),
    TeeSpec(
        name="snp",
        tees=("snp",),
        detect=snp.detect,
        appraise=snp.appraise_report,
        describe=snp.describe,
        policy_sections=MappingProxyType(snp.POLICY_SECTIONS),
        collateral=("VCEK or VLEK", "ASK or ASVK", "ARK (pinned)", "CRL (optional)"),
        key_claims=("measurement", "host_data", "vmpl", "product"),
        requests=snp_requests.collateral_requests,
    ),
    # before cca, whose detect claims every COSE_Sign1 by its first byte: nitro.detect claims
    # only a COSE_Sign1 whose payload is a map with the NSM document's text keys
    TeeSpec(
        name="nitro",
        tees=("nitro",),
        detect=nitro.detect,
        appraise=nitro.appraise_document,
        describe=nitro.describe,
        policy_sections=MappingProxyType(nitro.POLICY_SECTIONS),
        collateral=("none: the document carries its chain to the pinned AWS Nitro root",),
        key_claims=("module_id", "pcr0", "pcr1", "pcr2"),
    ),
    TeeSpec(
        name="cca",
        tees=("cca",),
        detect=cca.detect,
        appraise=cca.appraise_token,
        describe=cca.describe,
        policy_sections=MappingProxyType(cca.POLICY_SECTIONS),
        collateral=("CPAK: PEM public key, JWK / JWK set or trust-anchor store",),
        key_claims=("realm_initial_measurement", "platform_implementation_id"),
    ),
    TeeSpec(
        name="ibmse",
        tees=("se",),
        detect=ibmse.detect,
        appraise=ibmse.appraise_response,
        describe=ibmse.describe,
        policy_sections=MappingProxyType(ibmse.POLICY_SECTIONS),
        collateral=(
            "the request's secret (measurement key and nonce), or the RSA key that wrapped it",
        ),
        key_claims=("cuid",),
    ),
    # last: claims only SPDM 1.1 GET_MEASUREMENTS || MEASUREMENTS (11 e0 .. at 37: 11 60) or
    # JSON with a device_evidence_list key, which no earlier kind starts with
    TeeSpec(
        name="nvidia",
        tees=("gpu",),
        detect=nvidia.detect,
        appraise=nvidia.appraise_report,
        describe=nvidia.describe,
        policy_sections=MappingProxyType(nvidia.POLICY_SECTIONS),
        collateral=(
            "device certificate chain, PEM leaf first (in trustee's evidence JSON or as a file)",
            "CRLs of the chain's CAs (optional; revocation is not checked without them)",
        ),
    ),
    # claims only trustee's az-snp-vtpm / az-tdx-vtpm evidence JSON (an object with
    # hcl_report or report + vcek), which no earlier kind starts with
    TeeSpec(
        name="azure",
        tees=azure.KINDS,
        detect=azure.detect,
        appraise=_appraise_azure,
        describe=azure.describe,
        policy_sections=MappingProxyType(azure.POLICY_SECTIONS),
        collateral=(
            "az-snp-vtpm: ASK and ARK (the VCEK is in the evidence), CRL (optional)",
            "az-tdx-vtpm: the TD quote's DCAP collateral (TCB Info, QE Identity, CRLs)",
        ),
        requests=_requests_azure,
    ),
    # trustee's generic tpm evidence JSON ({ak_public, tpm_quote}); verified only under an
    # attestation key the caller pins as collateral
    TeeSpec(
        name="tpm",
        tees=("tpm",),
        detect=azure.detect_tpm,
        appraise=azure.appraise_tpm,
        describe=azure.describe_tpm,
        policy_sections=MappingProxyType(azure.TPM_POLICY_SECTIONS),
        collateral=("the attestation key (PEM or DER public key), pinned",),
    ),
)


def detect(data: bytes) -> TeeSpec:
    """The TEE whose evidence ``data`` is; ``EvidenceError(unknown_format)`` otherwise."""
    for spec in TEES:
        if spec.detect(data) is not None:
            return spec
    if len(data) < 8:
        raise EvidenceError(
            f"evidence of {len(data)} bytes is too short to recognise", reason=Reason.UNKNOWN_FORMAT
        )
    raise EvidenceError(
        "evidence is of no supported kind (" + ", ".join(spec.name for spec in TEES) + ")",
        reason=Reason.UNKNOWN_FORMAT,
    )


def collateral_requests(
    data: bytes, *, collateral: Collateral | None = None, product: str | None = None
) -> tuple[CollateralRequest, ...]:
    """The typed collateral requests for ``data`` (any supported evidence, wrappers
    included); ``()`` when its TEE has no collateral service (its collateral is carried in
    the evidence or pinned by the caller: ``TeeSpec.collateral`` says which)."""
    spec = detect(data)
    if spec.requests is None:
        return ()
    return spec.requests(data, collateral=collateral, product=product)


def peek_tee(data: bytes) -> str | None:
    """Best-effort ``tee`` value from the first bytes, for reports about unparseable evidence."""
    for spec in TEES:
        tee = spec.detect(data)
        if tee is not None:
            return tee
    return None


def spec_for(tee: str) -> TeeSpec:
    """The spec whose results carry ``tee`` (``"sgx"`` -> the intel spec)."""
    for spec in TEES:
        if tee in spec.tees:
            return spec
    raise KeyError(tee)


#: policy sections of wrappers that keep the inner evidence's ``tee`` (an event log on a TDX
#: quote): the engine runs one when its ``applies(appraisal)`` is true (docs/eventlog.md)
WRAPPER_POLICY_SECTIONS: tuple[Mapping[str, Any], ...] = (tdx_eventlog.POLICY_SECTIONS,)


def key_claims() -> tuple[str, ...]:
    """Every spec's key claims in registry order, then ``report_data`` (the nonce binding)."""
    names = [c for spec in TEES for c in spec.key_claims]
    return tuple(dict.fromkeys([*names, "report_data"]))


def policy_sections() -> dict[str, Any]:
    """Every policy section class, by its key in the policy document."""
    out = {key: cls for spec in TEES for key, cls in spec.policy_sections.items()}
    for sections in WRAPPER_POLICY_SECTIONS:
        out.update(sections)
    return out
