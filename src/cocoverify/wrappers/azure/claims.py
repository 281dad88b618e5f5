"""The one place Azure claims are built: trustee's keys (strings) plus typed ones."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cocoverify.result import Appraisal, freeze
from cocoverify.wrappers.azure.parse import AzureEvidence, HclReport, TpmAttest, VarData

__all__ = ["build_claims", "trustee_snp_claims", "trustee_tpm_claims"]


def _flag(value: Any) -> str:
    return "true" if value else "false"


def trustee_snp_claims(snp: Mapping[str, Any]) -> dict[str, Any]:
    """trustee ``parse_tee_evidence_az``: SNP fields as strings (docs/azure.md "Claims")."""
    policy = snp.get("policy", {})
    tcb = snp.get("reported_tcb", {})
    plat = snp.get("platform_info", {})
    measurement = snp.get("measurement", b"")
    return {
        "policy_abi_major": str(policy.get("abi_major")),
        "policy_abi_minor": str(policy.get("abi_minor")),
        "policy_smt_allowed": _flag(policy.get("smt")),
        "policy_migrate_ma": _flag(policy.get("migrate_ma")),
        "policy_debug_allowed": _flag(policy.get("debug")),
        "policy_single_socket": _flag(policy.get("single_socket")),
        "reported_tcb_bootloader": str(tcb.get("bootloader")),
        "reported_tcb_tee": str(tcb.get("tee")),
        "reported_tcb_snp": str(tcb.get("snp")),
        "reported_tcb_microcode": str(tcb.get("microcode")),
        "platform_tsme_enabled": _flag(plat.get("tsme_en")),
        "platform_smt_enabled": _flag(plat.get("smt_en")),
        "measurement": base64.b64encode(bytes(measurement)).decode("ascii"),
    }


def trustee_tpm_claims(attest: TpmAttest, pcrs: tuple[bytes, ...]) -> dict[str, Any]:
    """trustee ``extend_claim``: ``report_data`` / ``init_data`` hex, ``tpm.pcrNN`` hex."""
    out: dict[str, Any] = {"report_data": attest.extra_data.hex()}
    if len(pcrs) > 8:
        out["init_data"] = pcrs[8].hex()
    out["tpm"] = {f"pcr{i:02d}": p.hex() for i, p in enumerate(pcrs)}
    return out


def build_claims(
    ev: AzureEvidence, hcl: HclReport, var: VarData, attest: TpmAttest, inner: Appraisal
) -> Mapping[str, Any]:
    """trustee's keys first (drop-in), then ``azure`` (typed) and ``hardware`` (inner claims)."""
    claims: dict[str, Any] = {}
    if ev.kind == "az-snp-vtpm":
        claims.update(trustee_snp_claims(inner.claims))
    claims.update(trustee_tpm_claims(attest, ev.pcrs))
    fz = MappingProxyType
    # built frozen (read-only mappings, tuples) rather than walked by result.freeze
    claims["tpm"] = fz(claims["tpm"])
    claims["azure"] = fz(
        {
            "evidence_version": ev.version,
            "hcl": fz(
                {
                    "version": hcl.version,
                    "request_type": hcl.request_type,
                    "status": hcl.status,
                    "report_type": "snp" if hcl.report_type == 2 else "tdx",
                    "variable_data": hcl.var_data,
                }
            ),
            "vm_configuration": freeze(dict(var.vm_configuration)),
            "user_data": var.user_data,
            "attestation_key": fz({"kty": "RSA", "n": var.ak_n, "e": var.ak_e}),
            "tpm_quote": fz(
                {
                    "qualified_signer": attest.qualified_signer,
                    "extra_data": attest.extra_data,
                    "clock": attest.clock,
                    "reset_count": attest.reset_count,
                    "restart_count": attest.restart_count,
                    "safe": bool(attest.safe),
                    "firmware_version": attest.firmware_version,
                    "pcr_selection": tuple(
                        fz({"hash_alg": s.hash_alg, "pcrs": s.pcrs}) for s in attest.selections
                    ),
                    "pcr_digest": attest.pcr_digest,
                }
            ),
            "pcrs": fz({str(i): p for i, p in enumerate(ev.pcrs)}),
        }
    )
    # the inner claims are frozen by their pipeline already (not walked again)
    claims["hardware"] = fz({"tee": inner.tee, "claims": inner.claims})
    out = claims
    return MappingProxyType(out)
