"""SEV-SNP claims: the one place they are built (docs/snp.md, "Claims").

Every report field in snake_case (SEV-SNP ABI §7.3, ATTESTATION_REPORT), TCBs decoded with
the product's layout, and the appraisal's ``collateral`` summary of what authenticated it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from cocoverify.result import Appraisal
from cocoverify.tee.snp.parse import GuestPolicy, PlatformInfo, SigningKey, SnpReport
from cocoverify.tee.snp.tcb import TcbVersion
from cocoverify.tee.snp.verify import AmdChain
from cocoverify.trust import fingerprint

__all__ = ["appraisal", "frozen_report_claims", "report_claims"]


def _tcb(raw: bytes, product: str) -> dict[str, Any]:
    parts: dict[str, Any] = dict(TcbVersion.decode(raw, product).components())
    parts["raw_u64"] = int.from_bytes(raw, "little")
    return parts


def _firmware(major: int, minor: int, build: int) -> dict[str, int]:
    return {"major": major, "minor": minor, "build": build}


def _cpuid(family: int | None, model: int | None, stepping: int | None) -> dict[str, Any]:
    return {"family": family, "model": model, "stepping": stepping}


def _policy(raw: int) -> dict[str, Any]:
    return GuestPolicy.from_int(raw).to_dict()


def _platform(raw: int) -> dict[str, Any]:
    return PlatformInfo.from_int(raw).to_dict()


def _frozen(build: Callable[..., dict[str, Any]]) -> Callable[..., Mapping[str, Any]]:
    """``build`` with its result read-only (as ``result.freeze`` makes it), memoised by the
    decoded values (bounded: 1024 entries; the mapping is never mutated, so shared)."""

    @functools.lru_cache(maxsize=1024)
    def frozen(*args: Any) -> Mapping[str, Any]:
        return MappingProxyType(build(*args))

    return frozen


_PLAIN = (_tcb, _firmware, _cpuid, _policy, _platform)
_FROZEN = tuple(_frozen(f) for f in _PLAIN)


def report_claims(report: SnpReport, product: str) -> dict[str, Any]:
    """Every report field in snake_case, TCBs decoded for ``product``."""
    return _report_claims(report, product, _PLAIN)


def frozen_report_claims(report: SnpReport, product: str) -> Mapping[str, Any]:
    """:func:`report_claims` as ``result.freeze`` returns it (read-only mappings)."""
    return MappingProxyType(_report_claims(report, product, _FROZEN))


def _report_claims(
    report: SnpReport, product: str, parts: tuple[Callable[..., Any], ...]
) -> dict[str, Any]:
    tcb, firmware, cpuid, policy, platform = parts
    r = report
    claims: dict[str, Any] = {
        "version": r.version,
        "product": product,
        "signing_key": SigningKey.NAMES[r.signing_key],
        "guest_svn": r.guest_svn,
        "policy": policy(r.policy),
        "family_id": r.family_id,
        "image_id": r.image_id,
        "vmpl": r.vmpl,
        "signature_algo": r.signature_algo,
        "platform_info": platform(r.platform_info),
        "author_key_en": r.author_key_en,
        "mask_chip_key": r.mask_chip_key,
        "report_data": r.report_data,
        "measurement": r.measurement,
        "host_data": r.host_data,
        "id_key_digest": r.id_key_digest,
        "author_key_digest": r.author_key_digest,
        "report_id": r.report_id,
        "report_id_ma": r.report_id_ma,
        "chip_id": r.chip_id,
        "chip_id_masked": r.chip_id_masked,
        "current_tcb": tcb(r.current_tcb, product),
        "reported_tcb": tcb(r.reported_tcb, product),
        "committed_tcb": tcb(r.committed_tcb, product),
        "launch_tcb": tcb(r.launch_tcb, product),
        "current_firmware": firmware(r.current_major, r.current_minor, r.current_build),
        "committed_firmware": firmware(r.committed_major, r.committed_minor, r.committed_build),
    }
    if r.cpuid_fam_id is not None:
        claims["cpuid"] = cpuid(r.cpuid_fam_id, r.cpuid_mod_id, r.cpuid_step)
    if r.launch_mit_vector is not None:
        claims["launch_mit_vector"] = r.launch_mit_vector
        claims["current_mit_vector"] = r.current_mit_vector
    return claims


def appraisal(
    report: SnpReport, chain: AmdChain, *, cert_table: bool, unknown_guids: list[str]
) -> Appraisal:
    """The authenticated appraisal: claims, what authenticated them, and the warnings."""
    vek_fp, inter_fp, ark_fp = chain.fingerprints or (
        fingerprint(chain.vek),
        fingerprint(chain.intermediate),
        fingerprint(chain.ark),
    )
    info: dict[str, Any] = {
        "product": chain.product,
        "signing_key": chain.kind,
        "vek_sha256": vek_fp,
        "intermediate_sha256": inter_fp,
        "ark_sha256": ark_fp,
        "vek_not_after": chain.vek.not_valid_after_utc,
        "revocation_checked": chain.crl.checked,
        "cert_table": cert_table,
    }
    if chain.crl.checked:
        info["crl_this_update"] = chain.crl.this_update
        info["crl_next_update"] = chain.crl.next_update
    if unknown_guids:
        info["cert_table_unknown_guids"] = tuple(unknown_guids)
    if chain.extensions.csp_id is not None:
        info["csp_id"] = chain.extensions.csp_id
    claims = frozen_report_claims(report, chain.product)
    warnings: list[str] = []
    if not chain.crl.checked:
        warnings.append(
            "revocation not checked: no CRL issued by the ARK was supplied "
            "(set require_crl to make it mandatory)"
        )
    return Appraisal(
        tee="snp",
        claims=claims,
        # str, bool, datetime and a tuple of str: read-only as ``result.freeze`` makes it
        collateral=MappingProxyType(info),
        warnings=tuple(warnings),
        report_data=report.report_data,
        init_data=report.host_data,
        debug=bool(claims["policy"]["debug"]),
    )
