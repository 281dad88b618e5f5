"""TEST ONLY. ``vectors/azure/``: generated ``az-snp-vtpm`` and ``az-tdx-vtpm`` vectors for
``vectors/generate.py``.

The evidence is trustee's ``az-snp-vtpm`` JSON built by :class:`AzureBuilder` with a real fake
SNP report (``FakeAmdPKI("Milan")``) in its HCL report and the VCEK in its ``vcek`` field; the
ASK and ARK are collateral (``azure/common/``), the fake ARK pinned through ``trust``.
Negatives carry exactly one defect each: every defect of :data:`DEFECTS` that applies to SNP,
plus an unpinned ARK and policy rejections. ``az-tdx-vtpm`` evidence carries a real fake TD
quote (``FakeIntelPKI``, Intel collateral in ``azure/common-tdx/``) whose REPORTDATA binds the
var data; its negatives are every defect that applies to TDX and an unpinned root.
Deterministic: fixed RSA keys
(``keys/azure-ak-<n>.pem``), PKCS#1 v1.5 and RFC 6979 signatures, the AMD certificates'
RSA-PSS salts from one ``pss_signing_run``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from cocoverify.trust import fingerprint
from cocoverify_testing.azure import DEFECTS, AzureBuilder
from cocoverify_testing.intel.collateral import td_qe_identity, tdx_tcb_info
from cocoverify_testing.intel.pki import NOW as INTEL_NOW
from cocoverify_testing.intel.pki import FakeIntelPKI
from cocoverify_testing.manifest import write_file
from cocoverify_testing.pki import iso, pem, pss_signing_run
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, salts

__all__ = ["generate_vectors"]

AMD = FakeAmdPKI("Milan")
INTEL = FakeIntelPKI()
_TDX_ONLY = ("tdreport_report_data",)
_SNP_ONLY = ("vmpl_1",)
_DER = serialization.Encoding.DER
#: CLI exit code of each reason the Azure vectors expect
_EXIT = {
    "accept": 0,
    "signature_invalid": 3,
    "binding_invalid": 3,
    "untrusted_root": 3,
    "malformed": 2,
    "unsupported_tee_type": 2,
    "unsupported_algorithm": 2,
    "trailing_data": 2,
    "truncated": 2,
    "unsupported_version": 2,
    "policy_rejected": 5,
    "measurement_mismatch": 5,
}


def _cases() -> list[tuple[str, bytes, str, dict[str, Any] | None, bool, str]]:
    """(id, evidence, expected, policy, pinned, description)."""
    good = AzureBuilder(amd=AMD)
    out: list[tuple[str, bytes, str, dict[str, Any] | None, bool, str]] = [
        ("azure.good.v2", good.evidence(), "accept", None, True, "version 2 evidence"),
        (
            "azure.good.v1",
            AzureBuilder(amd=AMD, version=1).evidence(),
            "accept",
            None,
            True,
            "version 1 evidence",
        ),
    ]
    for defect, reason in DEFECTS.items():
        if defect in _TDX_ONLY:
            continue
        out.append((f"azure.{defect}", good.evidence(defect), reason, None, True, defect))
    out += [
        (
            "azure.untrusted_ark",
            good.evidence(),
            "untrusted_root",
            None,
            False,
            "the real AMD roots pinned: the fake ARK is not",
        ),
        (
            "azure.policy.secure_boot",
            AzureBuilder(
                amd=AMD,
                vm_configuration={
                    "console-enabled": False,
                    "secure-boot": False,
                    "tpm-enabled": True,
                    "vmUniqueId": "00000000-0000-0000-0000-000000000001",
                },
            ).evidence(),
            "policy_rejected",
            {"az-snp-vtpm": {"secure_boot": True}},
            True,
            "secure boot off, the policy requires it",
        ),
        (
            "azure.policy.pcr",
            good.evidence(),
            "measurement_mismatch",
            {"az-snp-vtpm": {"pcrs": {"4": ["00" * 32]}}},
            True,
            "PCR4 is not the policy's value",
        ),
    ]
    return out


def _tdx_cases() -> list[tuple[str, bytes, str, dict[str, Any] | None, bool, str]]:
    """az-tdx-vtpm: (id, evidence, expected, policy, pinned, description)."""
    good = AzureBuilder(kind="az-tdx-vtpm", intel=INTEL)
    out: list[tuple[str, bytes, str, dict[str, Any] | None, bool, str]] = [
        ("azure.tdx.good.v2", good.evidence(), "accept", None, True, "version 2 evidence"),
        (
            "azure.tdx.good.v1",
            AzureBuilder(kind="az-tdx-vtpm", intel=INTEL, version=1).evidence(),
            "accept",
            None,
            True,
            "version 1 evidence",
        ),
    ]
    for defect, reason in DEFECTS.items():
        if defect in _SNP_ONLY:
            continue
        out.append((f"azure.tdx.{defect}", good.evidence(defect), reason, None, True, defect))
    out.append(
        (
            "azure.tdx.untrusted_root",
            good.evidence(),
            "untrusted_root",
            None,
            False,
            "the real Intel root pinned: the fake one is not",
        )
    )
    return out


def generate_vectors(outdir: str | Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/azure/`` and return the manifest entries (paths relative to
    ``outdir``); ``<outdir>/azure`` is recreated."""
    out = Path(outdir)
    shutil.rmtree(out / "azure", ignore_errors=True)
    salts.load()  # the AMD certificates are RSA-PSS signed: reproducible salts
    with pss_signing_run():
        return _write(out)


def _write(out: Path) -> list[dict[str, Any]]:
    common = [
        write_file(out, "azure/common/ask.pem", pem(AMD.ask)),
        write_file(out, "azure/common/ark.pem", pem(AMD.ark)),
    ]
    intel = [
        write_file(out, f"azure/common-tdx/{name}", data)
        for name, data in (
            ("tcb_info.json", INTEL.tcb_info_body(tdx_tcb_info())),
            ("qe_identity.json", INTEL.qe_identity_body(td_qe_identity())),
            ("tcb_info_issuer_chain.pem", INTEL.tcb_signing_chain_pem()),
            ("pck_crl.der", INTEL.pck_crl("platform").public_bytes(_DER)),
            ("pck_crl_issuer_chain.pem", INTEL.pck_crl_issuer_chain_pem("platform")),
            ("root_ca_crl.der", INTEL.root_crl.public_bytes(_DER)),
        )
    ]
    intel_root = write_file(out, "azure/common-tdx/intel_root_ca.pem", pem(INTEL.root_cert))
    kinds = (
        ("az-snp-vtpm", _cases(), common, {"amd_arks": {"Milan": [fingerprint(AMD.ark)]}},
         [common[1]], iso(VECTOR_TIME)),
        ("az-tdx-vtpm", _tdx_cases(), intel, {"intel_roots": [fingerprint(INTEL.root_cert)]},
         [intel_root], iso(INTEL_NOW)),
    )  # fmt: skip
    entries = []
    for kind, cases, collateral, pinned, roots, at in kinds:
        for case_id, evidence, expected, policy, is_pinned, description in cases:
            entries.append(
                {
                    "id": case_id,
                    "platform": kind,
                    "evidence": write_file(out, f"azure/{case_id}/evidence.json", evidence),
                    "collateral": collateral,
                    "trust": pinned if is_pinned else None,
                    "trust_files": roots if is_pinned else [],
                    "policy": policy,
                    "at": at,
                    "expected": expected,
                    "exit_code": _EXIT[expected],
                    "description": description,
                }
            )
    return entries
