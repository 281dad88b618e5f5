"""``cocoverify show`` for SEV-SNP reports: the fields grouped for people, nothing verified.

Groups (SEV-SNP ABI "ATTESTATION_REPORT Structure"): header, body, signature, the extended
report's certificate table, the identifiers that name the VCEK at AMD's KDS (product,
hardware ID = CHIP_ID or its first 8 bytes on Turin, REPORTED_TCB; KDS specification "Get
VCEK"), the TCB versions and the decoded POLICY and PLATFORM_INFO bits.
"""

from __future__ import annotations

from typing import Any

from cocoverify._core.certinfo import load_der_summary
from cocoverify.collateral.requests import amd_request
from cocoverify.errors import CocoverifyError
from cocoverify.result import to_jsonable
from cocoverify.tee.snp.certtable import CertTable
from cocoverify.tee.snp.claims import report_claims
from cocoverify.tee.snp.parse import SnpReport, split_evidence
from cocoverify.tee.snp.tcb import SPL_NAMES, TcbVersion, product_from_cpuid

__all__ = ["describe_report"]

_HEADER = (
    "version",
    "guest_svn",
    "vmpl",
    "signature_algo",
    "signing_key",
    "author_key_en",
    "mask_chip_key",
    "cpuid",
    "current_firmware",
    "committed_firmware",
)
_TCB = ("current_tcb", "reported_tcb", "committed_tcb", "launch_tcb")
_FLAGS = ("policy", "platform_info")


def _on(flags: dict[str, Any]) -> list[str]:
    return [k for k, v in flags.items() if v is True]


def _table(table: CertTable | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in table.entries if table is not None else ():
        item = load_der_summary(entry.data, f"{entry.role or 'unknown'} entry")
        item["note"] = f"certificate table entry {entry.guid} ({entry.role or 'unknown GUID'})"
        out.append(item)
    return out


def _identifiers(report: SnpReport, product: str | None, claims: dict[str, Any]) -> dict[str, Any]:
    key = claims["signing_key"]
    out: dict[str, Any] = {
        "product": product or "unknown (report v2 carries no CPUID: Milan/Genoa layout assumed)",
        "signing_key": key,
        "chip_id": claims["chip_id"],
        "hardware_id": report.chip_id[:8].hex() if product == "Turin" else claims["chip_id"],
        "reported_tcb": claims["reported_tcb"],
    }
    if not any(report.chip_id):
        out["hardware_id"] = "masked (all zero): the VCEK cannot be looked up by it"
    elif product is not None and key == "VCEK":
        tcb = TcbVersion.decode(report.reported_tcb, product).components()
        try:
            request = amd_request(
                product=product,
                hwid=report.chip_id,
                reported_tcb={SPL_NAMES[k]: v for k, v in tcb.items()},
                key_type="vcek",
            )
            # imported here: the KDS client loads HTTP code, which verifying never needs
            from cocoverify.collateral.amd_kds import AmdKds

            out["vcek_url"] = AmdKds().vcek_url(request)
        except CocoverifyError as exc:
            out["vcek_url"] = f"none: {exc.args[0] if exc.args else exc.reason.value}"
    if product is not None:
        kind = "vlek" if key == "VLEK" else "vcek"
        out["chain_url"] = f"https://kdsintf.amd.com/{kind}/v1/{product}/cert_chain"
    return out


def describe_report(data: bytes) -> dict[str, Any]:
    """The existing ``kind/verified/product/claims`` keys plus the groups of the text view."""
    report, table = split_evidence(data)
    fam, model = report.cpuid_fam_id, report.cpuid_mod_id
    product = product_from_cpuid(fam, model) if fam is not None and model is not None else None
    # v2 reports carry no CPUID: TCB fields are decoded with the Milan/Genoa layout
    claims: dict[str, Any] = to_jsonable(report_claims(report, product or "Milan"))
    r, s = report.signature_rs
    return {
        "kind": "snp",
        "verified": False,
        "product": product,
        "claims": claims,
        "identifiers": _identifiers(report, product, claims),
        "header": {k: claims[k] for k in _HEADER if k in claims},
        "body": {k: v for k, v in claims.items() if k not in (*_HEADER, *_TCB, *_FLAGS, "product")},
        "signature": {
            "algorithm": "ECDSA P-384 with SHA-384"
            if report.signature_algo == 1
            else f"unknown ({report.signature_algo})",
            "r": format(r, "096x"),
            "s": format(s, "096x"),
            "signed_by": claims["signing_key"],
        },
        "certificates": _table(table),
        "tcb": {k: claims[k] for k in _TCB},
        "flags": {
            "policy": _on(claims["policy"]),
            "policy_abi": f"{claims['policy']['abi_major']}.{claims['policy']['abi_minor']}",
            "platform_info": _on(claims["platform_info"]),
        },
    }
