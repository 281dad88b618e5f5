"""NVIDIA GPU pipeline: the steps of docs/nvidia.md "Order of checks", in that order.

trustee (``report.rs`` ``try_new``) checks the signature before the chain; we authenticate
the device certificate first (chain to the pinned root, FWID present, revocation when CRLs are
given), then the report signature with it, then the FWID binding. The nonce (report data) and
the measurements are the policy's.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import Any

from cryptography import x509

from cocoverify.collateral import Collateral
from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import ChainInvalid, CollateralError, Reason
from cocoverify.result import Appraisal, freeze
from cocoverify.tee.nvidia.claims import report_claims
from cocoverify.tee.nvidia.evidence import DeviceEvidence, looks_like_json, parse_device_list
from cocoverify.tee.nvidia.parse import OPAQUE_FWID, SpdmReport, parse_report
from cocoverify.tee.nvidia.verify import (
    FWID_OID,
    load_chain,
    root_fingerprint,
    verify_device_chain,
    verify_fwid,
    verify_revocation,
    verify_signature,
)
from cocoverify.trust import TrustStore

__all__ = ["appraise_device", "appraise_report", "arch_of"]


def arch_of(chain: Sequence[x509.Certificate]) -> str:
    """Hopper (GH100) or Blackwell (GB1xx/GB2xx) from the device chain's subjects."""
    names = " ".join(c.subject.rfc4514_string() for c in chain)
    if "GH100" in names:
        return "Hopper"
    if "GB1" in names or "GB2" in names:
        return "Blackwell"
    return "unknown"


def _has_fwid(cert: x509.Certificate) -> bool:
    return any(ext.oid == FWID_OID for ext in cert.extensions)


def chain_from_collateral(
    report: SpdmReport, collateral: Collateral, trust: TrustStore
) -> tuple[x509.Certificate, ...]:
    """The device chain among the collateral's chains, recognised by content: the one whose
    leaf FWID is the report's, else one ending in a pinned NVIDIA root or carrying an FWID,
    else the only chain given."""
    chains = collateral.chains
    reported = report.opaque_value(OPAQUE_FWID)
    for chain in chains:
        ext = [e for e in chain[0].extensions if e.oid == FWID_OID]
        value = ext[0].value if ext else None
        raw = value.value if isinstance(value, x509.UnrecognizedExtension) else b""
        if reported is not None and raw[-48:] == reported:
            return chain
    for chain in chains:
        if trust.is_nvidia_root(chain[-1]) or any(_has_fwid(c) for c in chain):
            return chain
    if len(chains) == 1:
        return chains[0]
    raise CollateralError(
        "no NVIDIA device certificate chain: give it with --collateral (PEM, leaf first)",
        reason=Reason.COLLATERAL_MISSING,
    )


def appraise_device(
    report: SpdmReport,
    chain: Sequence[x509.Certificate],
    *,
    trust: TrustStore,
    at: _dt.datetime,
    crls: Sequence[x509.CertificateRevocationList] = (),
    arch: str | None = None,
    uuid: str = "unknown",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Steps 2-7 for one parsed report: (claims, collateral record)."""
    # 2-4. chain to the pinned root, validity at `at`, FWID extension present
    leaf = verify_device_chain(chain, trust=trust, at=at)
    # 5. revocation from the CRLs given (none given: not checked; docs/nvidia.md)
    applied = verify_revocation(chain, crls, at=at)
    # 6. ECDSA P-384 / SHA-384 over request || response up to the signature
    verify_signature(report, leaf)
    # 7. the report's FWID is the device certificate's
    verify_fwid(report, leaf)
    found = arch_of(chain)
    name = arch or found
    if arch is not None and found != "unknown" and found != arch:
        raise ChainInvalid(
            f"arch {arch} given, but the device certificate chain is {found}'s",
            reason=Reason.PRODUCT_MISMATCH,
        )
    record = {
        "root_sha256": root_fingerprint(chain),
        "certificate_subject": leaf.subject.rfc4514_string(),
        "certificate_serial": f"{leaf.serial_number:x}",
        "revocation_checked": applied > 0,
        "crls_applied": applied,
    }
    return report_claims(report, arch=name, uuid=uuid), record


def _device(d: DeviceEvidence, *, trust: TrustStore, at: _dt.datetime, crls: Any) -> Any:
    report = parse_report(d.report)
    claims, record = appraise_device(
        report, load_chain(d.chain_pem), trust=trust, at=at, crls=crls, arch=d.arch, uuid=d.uuid
    )
    return report, claims, record


def appraise_report(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,  # unused: offline; RIM and OCSP services not called
    require_crl: bool = False,
) -> Appraisal:
    """Verify a raw report (chain from the collateral) or trustee's ``nvidia`` evidence JSON
    (each device with its own chain); the policy (nonce, measurements) is the caller's."""
    crls = collateral.crls
    if looks_like_json(data):
        # 1. trustee's device_evidence_list, each entry parsed
        devices = [_device(d, trust=trust, at=at, crls=crls) for d in parse_device_list(data)]
    else:
        # 1. request || response
        report = parse_report(data)
        chain = chain_from_collateral(report, collateral, trust)
        claims, record = appraise_device(report, chain, trust=trust, at=at, crls=crls)
        devices = [(report, claims, record)]
    nonces = {r.nonce for r, _, _ in devices}
    if len(nonces) != 1:
        raise ChainInvalid(
            "the devices' reports are bound to different nonces", reason=Reason.BINDING_INVALID
        )
    warnings = []
    if not all(rec["revocation_checked"] for _, _, rec in devices):
        warnings.append("device certificate revocation not checked (no NVIDIA CRL given)")
    if require_crl and warnings:
        raise CollateralError(
            "require_crl: no CRL for the NVIDIA device certificate chain",
            reason=Reason.CRL_MISSING,
        )
    if len(devices) == 1:
        claims, record = devices[0][1], devices[0][2]
    else:
        claims = {"devices": [c for _, c, _ in devices]}
        record = {"devices": [r for _, _, r in devices]}
    return Appraisal(
        tee="gpu",
        claims=freeze(claims),
        collateral=freeze(record),
        warnings=tuple(warnings),
        report_data=nonces.pop(),
    )
