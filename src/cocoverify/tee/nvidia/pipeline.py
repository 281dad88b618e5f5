"""NVIDIA GPU pipeline: the steps of docs/nvidia.md "Order of checks", in that order.

trustee (``report.rs`` ``try_new``) checks the signature before the chain; we authenticate
the device certificate first (chain to the pinned root, FWID present, revocation when CRLs or
OCSP responses are given), then the report signature with it, then the FWID binding. RIMs
given as collateral are selected by the device's driver and VBIOS versions and recorded as
reference values (their signature NOT verified). The nonce (report data) and the
measurements are the policy's.
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
from cocoverify.tee.nvidia.ocsp import check_ocsp, ocsp_responses
from cocoverify.tee.nvidia.parse import OPAQUE_FWID, SpdmReport, parse_report
from cocoverify.tee.nvidia.rim import Rim, reference_blocks, rims_for, rims_in
from cocoverify.tee.nvidia.verify import (
    FWID_OID,
    chain_names,
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
    ocsp: Sequence[Any] = (),
    rims: Sequence[Rim] = (),
    arch: str | None = None,
    uuid: str = "unknown",
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Steps 2-8 for one parsed report: (claims, collateral record)."""
    # 2-4. chain to the pinned root, validity at `at`, FWID extension present
    leaf = verify_device_chain(chain, trust=trust, at=at)
    # 5. revocation from the CRLs and OCSP responses given (none: not checked; docs/nvidia.md)
    by_crl = verify_revocation(chain, crls, at=at)
    by_ocsp = [c.certificate for c in check_ocsp(chain, ocsp, chain_names(len(chain)), at=at)]
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
    covered = set(by_crl) | set(by_ocsp)
    record: dict[str, Any] = {
        "root_sha256": root_fingerprint(chain),
        "certificate_subject": leaf.subject.rfc4514_string(),
        "certificate_serial": f"{leaf.serial_number:x}",
        "revocation_checked": bool(covered),
        "crls_applied": len(by_crl),
        "ocsp_checked": by_ocsp,
        "revocation_not_checked": [n for n in chain_names(len(chain))[:-1] if n not in covered],
    }
    claims = report_claims(report, arch=name, uuid=uuid)
    if rims:
        # 8. the RIMs of this device's driver and VBIOS versions: reference values
        record["rim"] = _rim_record(claims, rims)
        claims["reference_rims"] = record["rim"]["rims"]
    return claims, record


def _rim_record(claims: dict[str, Any], rims: Sequence[Rim]) -> dict[str, Any]:
    config = claims["config"]
    versions = [config.get("driver_version", ""), config.get("vbios_version", "")]
    chosen = rims_for(rims, versions)
    if not chosen:
        raise CollateralError(
            f"RIMs given for version(s) {sorted({r.version for r in rims})}, none for this "
            f"device's driver {versions[0]!r} or VBIOS {versions[1]!r}",
            reason=Reason.COLLATERAL_MISMATCH,
        )
    blocks = reference_blocks(chosen)
    return {
        "rims": [r.record() for r in chosen],
        "reference_blocks": {
            str(i): sorted(v.hex() for v in vs) for i, vs in sorted(blocks.items())
        },
        "signature_verified": False,
    }


def _device(d: DeviceEvidence, *, trust: TrustStore, at: _dt.datetime, **coll: Any) -> Any:
    report = parse_report(d.report)
    claims, record = appraise_device(
        report, load_chain(d.chain_pem), trust=trust, at=at, arch=d.arch, uuid=d.uuid, **coll
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
    coll: dict[str, Any] = {
        "crls": collateral.crls,
        "ocsp": ocsp_responses(collateral),
        "rims": rims_in(collateral),
    }
    if looks_like_json(data):
        # 1. trustee's device_evidence_list, each entry parsed
        devices = [_device(d, trust=trust, at=at, **coll) for d in parse_device_list(data)]
    else:
        # 1. request || response
        report = parse_report(data)
        chain = chain_from_collateral(report, collateral, trust)
        claims, record = appraise_device(report, chain, trust=trust, at=at, **coll)
        devices = [(report, claims, record)]
    nonces = {r.nonce for r, _, _ in devices}
    if len(nonces) != 1:
        raise ChainInvalid(
            "the devices' reports are bound to different nonces", reason=Reason.BINDING_INVALID
        )
    warnings = []
    if not all(rec["revocation_checked"] for _, _, rec in devices):
        warnings.append(
            "device certificate revocation not checked (no NVIDIA CRL or OCSP response given)"
        )
        if require_crl:
            raise CollateralError(
                "require_crl: no CRL or OCSP response for the NVIDIA device certificate chain",
                reason=Reason.CRL_MISSING,
            )
    if coll["rims"]:
        warnings.append(
            "NVIDIA RIM signature NOT verified (XML-DSig not implemented): the RIM reference "
            "values are taken as given"
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
