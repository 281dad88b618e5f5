"""SEV-SNP claims: the one place they are built (docs/snp.md, "Claims").

Every report field in snake_case (SEV-SNP ABI §7.3, ATTESTATION_REPORT), TCBs decoded with
the product's layout, and the appraisal's ``collateral`` summary of what authenticated it.
"""

from __future__ import annotations

from typing import Any

from cocoverify.result import Appraisal, freeze
from cocoverify.tee.snp.parse import SigningKey, SnpReport
from cocoverify.tee.snp.tcb import TcbVersion
from cocoverify.tee.snp.verify import AmdChain
from cocoverify.trust import fingerprint

__all__ = ["appraisal", "report_claims"]


def _tcb(raw: bytes, product: str) -> dict[str, Any]:
    parts: dict[str, Any] = dict(TcbVersion.decode(raw, product).components())
    parts["raw_u64"] = int.from_bytes(raw, "little")
    return parts


def _firmware(major: int, minor: int, build: int) -> dict[str, int]:
    return {"major": major, "minor": minor, "build": build}


def report_claims(report: SnpReport, product: str) -> dict[str, Any]:
    """Every report field in snake_case, TCBs decoded for ``product``."""
    r = report
    claims: dict[str, Any] = {
        "version": r.version,
        "product": product,
        "signing_key": SigningKey.NAMES[r.signing_key],
        "guest_svn": r.guest_svn,
        "policy": r.guest_policy.to_dict(),
        "family_id": r.family_id,
        "image_id": r.image_id,
        "vmpl": r.vmpl,
        "signature_algo": r.signature_algo,
        "platform_info": r.platform.to_dict(),
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
        "current_tcb": _tcb(r.current_tcb, product),
        "reported_tcb": _tcb(r.reported_tcb, product),
        "committed_tcb": _tcb(r.committed_tcb, product),
        "launch_tcb": _tcb(r.launch_tcb, product),
        "current_firmware": _firmware(r.current_major, r.current_minor, r.current_build),
        "committed_firmware": _firmware(r.committed_major, r.committed_minor, r.committed_build),
    }
    if r.cpuid_fam_id is not None:
        claims["cpuid"] = {
            "family": r.cpuid_fam_id,
            "model": r.cpuid_mod_id,
            "stepping": r.cpuid_step,
        }
    if r.launch_mit_vector is not None:
        claims["launch_mit_vector"] = r.launch_mit_vector
        claims["current_mit_vector"] = r.current_mit_vector
    return claims


def appraisal(
    report: SnpReport, chain: AmdChain, *, cert_table: bool, unknown_guids: list[str]
) -> Appraisal:
    """The authenticated appraisal: claims, what authenticated them, and the warnings."""
    info: dict[str, Any] = {
        "product": chain.product,
        "signing_key": chain.kind,
        "vek_sha256": fingerprint(chain.vek),
        "intermediate_sha256": fingerprint(chain.intermediate),
        "ark_sha256": fingerprint(chain.ark),
        "vek_not_after": chain.vek.not_valid_after_utc,
        "revocation_checked": chain.crl.checked,
        "cert_table": cert_table,
    }
    if chain.crl.checked:
        info["crl_this_update"] = chain.crl.this_update
        info["crl_next_update"] = chain.crl.next_update
    if unknown_guids:
        info["cert_table_unknown_guids"] = unknown_guids
    if chain.extensions.csp_id is not None:
        info["csp_id"] = chain.extensions.csp_id
    warnings: list[str] = []
    if not chain.crl.checked:
        warnings.append(
            "revocation not checked: no CRL issued by the ARK was supplied "
            "(set require_crl to make it mandatory)"
        )
    return Appraisal(
        tee="snp",
        claims=freeze(report_claims(report, chain.product)),
        collateral=freeze(info),
        warnings=tuple(warnings),
        report_data=report.report_data,
        init_data=report.host_data,
        debug=report.guest_policy.debug,
    )
