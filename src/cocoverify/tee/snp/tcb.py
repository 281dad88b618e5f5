"""SEV-SNP product identification and claims (amd.md §3, §4).

The product decides the TCB byte layout, so it is known before any TCB is decoded: from
CPUID_FAM_ID / CPUID_MOD_ID in v3+ reports, otherwise from the authenticated certificate
chain (see :mod:`cocoverify.tee.snp.verify`).
"""

from __future__ import annotations

from typing import Any

from cocoverify.tee.snp.parse import SigningKey, SnpReport, TcbVersion

__all__ = ["product_from_cpuid", "report_claims"]


def product_from_cpuid(family: int, model: int) -> str | None:
    """Product line from the report's CPUID bytes, or None if unknown (amd.md §4 step 1).

    Family 0x19 models 0x00-0x0F are Milan, 0x10-0x1F and 0xA0-0xAF (Siena/Bergamo,
    Genoa certificates) are Genoa; family 0x1A models 0x00-0x11 are Turin. Venice (family
    0x1A, higher models) has no certificate chain yet and is reported as unknown.
    """
    if family == 0x19:
        if model <= 0x0F:
            return "Milan"
        if 0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF:
            return "Genoa"
    if family == 0x1A and model <= 0x11:
        return "Turin"
    return None


def _tcb(raw: bytes, product: str) -> dict[str, Any]:
    parts: dict[str, Any] = dict(TcbVersion.decode(raw, product).components())
    parts["raw_u64"] = int.from_bytes(raw, "little")
    return parts


def report_claims(report: SnpReport, product: str) -> dict[str, Any]:
    """Every report field in snake_case, TCBs decoded for ``product`` (amd.md §1-§3)."""
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
        "current_firmware": {
            "major": r.current_major,
            "minor": r.current_minor,
            "build": r.current_build,
        },
        "committed_firmware": {
            "major": r.committed_major,
            "minor": r.committed_minor,
            "build": r.committed_build,
        },
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
