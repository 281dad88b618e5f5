"""TEST ONLY. ``vectors/nvidia/``: generated NVIDIA GPU vectors for ``vectors/generate.py``.

Each case is one file of evidence (a raw report or trustee's ``nvidia`` evidence JSON) with
its collateral files (the device chain PEM for raw reports, CRLs, OCSP responses, RIMs), the
fake root pinned through ``trust``, the verification time :data:`NOW`. Negatives carry
exactly one defect: the report and chain negatives of :data:`NEGATIVES`, plus revocation
(CRL, OCSP), RIM, evidence-JSON and policy defects. Deterministic (RFC 6979 signatures).
"""

from __future__ import annotations

import datetime as _dt
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cocoverify.trust import fingerprint
from cocoverify_testing.manifest import write_file
from cocoverify_testing.nvidia.pki import NOW, FakeNvidiaPki
from cocoverify_testing.nvidia.report import NEGATIVES, build_report, evidence_json
from cocoverify_testing.nvidia.revocation import build_rim, ocsp_response
from cocoverify_testing.pki import fill, iso, pem

__all__ = ["generate_vectors"]

PKI = FakeNvidiaPki()
ROGUE = FakeNvidiaPki("rogue")  # same names, other keys
_DRIVER = "550.90.07"
_DAY = _dt.timedelta(days=1)


@dataclass(frozen=True)
class _Case:
    """One vector: evidence bytes, collateral files (name -> bytes), outcome."""

    id: str
    evidence: bytes
    name: str
    collateral: dict[str, bytes]
    expected: str
    exit_code: int
    description: str
    policy: dict[str, Any] | None = None
    features: list[str] = field(default_factory=list)


def _rim(block_changes: dict[int, bytes] | None = None, version: str = _DRIVER) -> bytes:
    values = {i: [fill(f"nvidia-measurement-{i + 1}", 48)] for i in range(64)}
    for index, value in (block_changes or {}).items():
        values[index] = [value]
    return build_rim(version, values, tag_id=f"FAKE_RIM_{version}")


def _raw(case_id: str, expected: str, code: int, description: str, **extra: bytes) -> _Case:
    """The good raw report with the good chain plus the extra collateral files."""
    return _Case(
        case_id,
        build_report(PKI),
        "report.bin",
        {"chain.pem": PKI.chain_pem(), **extra},
        expected,
        code,
        description,
    )


def _cases() -> list[_Case]:
    second = FakeNvidiaPki("gpu1")
    out = [
        _raw("nvidia.good.raw", "accept", 0, "raw report, chain as collateral"),
        _Case(
            "nvidia.good.trustee_json",
            evidence_json([(PKI, build_report(PKI)), (second, build_report(second))]),
            "evidence.json",
            {},
            "accept",
            0,
            "trustee's nvidia evidence JSON with two GPUs, each with its chain",
        ),
        _raw(
            "nvidia.good.crl",
            "accept",
            0,
            "revocation checked by a CRL",
            **{"brom.crl.pem": pem(PKI.crl("brom"))},
        ),
        _raw(
            "nvidia.good.ocsp",
            "accept",
            0,
            "revocation checked by OCSP (issuer-signed and delegated responses)",
            **{
                "leaf.ocsp.der": ocsp_response(PKI, "leaf"),
                "brom.ocsp.der": ocsp_response(PKI, "brom", delegated=True),
            },
        ),
        _raw(
            "nvidia.good.rim",
            "accept",
            0,
            "reference values from a RIM (its signature is not verified)",
            **{"driver.swidtag": _rim()},
        ),
    ]
    for neg in NEGATIVES:
        report, chain = neg.make(PKI)
        out.append(
            _Case(
                f"nvidia.{neg.name}",
                report,
                "report.bin",
                {"chain.pem": chain},
                neg.reason.value,
                neg.exit_code,
                f"one defect: {neg.name}",
            )
        )
    revoked: list[tuple[str, str, int, str, dict[str, bytes]]] = [
        ("crl.revoked_leaf", "certificate_revoked", 3, "the BROM CRL lists the device cert",
         {"brom.crl.pem": pem(PKI.crl("brom", ("leaf",)))}),
        ("crl.forged", "crl_invalid", 4, "a CRL under the BROM's name, another key",
         {"brom.crl.pem": pem(ROGUE.crl("brom"))}),
        ("ocsp.revoked_leaf", "certificate_revoked", 3, "OCSP says the device cert is revoked",
         {"leaf.ocsp.der": ocsp_response(PKI, "leaf", "revoked")}),
        ("ocsp.revoked_intermediate", "certificate_revoked", 3, "OCSP revokes the ICA",
         {"ica.ocsp.der": ocsp_response(PKI, "ica", "revoked")}),
        ("ocsp.unknown", "collateral_mismatch", 4, "the responder does not know the cert",
         {"leaf.ocsp.der": ocsp_response(PKI, "leaf", "unknown")}),
        ("ocsp.stale", "collateral_expired", 4, "nextUpdate before the verification time",
         {"leaf.ocsp.der": ocsp_response(PKI, "leaf", this_update=NOW - 10 * _DAY,
                                         next_update=NOW - 3 * _DAY)}),
        ("ocsp.forged", "collateral_signature_invalid", 4, "signed with another key",
         {"leaf.ocsp.der": ocsp_response(PKI, "leaf", forged_by=ROGUE.key("brom"))}),
        ("rim.mismatch", "measurement_mismatch", 5, "the RIM's index 4 (block 5) differs",
         {"driver.swidtag": _rim({4: fill("not-the-measurement", 48)})}),
        ("rim.other_version", "collateral_mismatch", 4, "a RIM for another driver version",
         {"driver.swidtag": _rim(version="535.00.00")}),
    ]  # fmt: skip
    for case_id, expected, code, description, files in revoked:
        out.append(_raw(f"nvidia.{case_id}", expected, code, description, **files))
    out += [
        _Case(
            "nvidia.json.arch_mismatch",
            evidence_json([(PKI, build_report(PKI))], arch="BLACKWELL"),
            "evidence.json",
            {},
            "product_mismatch",
            3,
            "arch BLACKWELL given for a GH100 (Hopper) chain",
        ),
        _Case(
            "nvidia.json.switch",
            evidence_json([(PKI, build_report(PKI))], arch="LS10"),
            "evidence.json",
            {},
            "unsupported_product",
            2,
            "an NVSwitch (LS10) entry",
        ),
        _Case(
            "nvidia.policy.driver_version",
            build_report(PKI),
            "report.bin",
            {"chain.pem": PKI.chain_pem()},
            "policy_rejected",
            5,
            "the policy allows another driver version",
            policy={"gpu": {"driver_versions": ["535.00.00"]}},
        ),
        _Case(
            "nvidia.policy.require_revocation",
            build_report(PKI),
            "report.bin",
            {"chain.pem": PKI.chain_pem()},
            "crl_missing",
            4,
            "require_crl without a CRL or OCSP response",
            policy={"require_crl": True},
        ),
    ]
    return out


def generate_vectors(outdir: str | Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/nvidia/<id>/`` and return the manifest entries (paths relative to
    ``outdir``); ``<outdir>/nvidia`` is recreated."""
    out = Path(outdir)
    shutil.rmtree(out / "nvidia", ignore_errors=True)
    trust = {"nvidia_roots": [fingerprint(PKI.root)]}
    roots = [write_file(out, "nvidia/common/root.pem", pem(PKI.root))]
    entries = []
    for case in _cases():
        folder = Path("nvidia") / case.id
        evidence = write_file(out, folder / case.name, case.evidence)
        collateral = [
            write_file(out, folder / name, data) for name, data in sorted(case.collateral.items())
        ]
        entries.append(
            {
                "id": case.id,
                "platform": "gpu",
                "evidence": evidence,
                "collateral": collateral,
                "trust": trust,
                "trust_files": roots,
                "policy": case.policy,
                "at": iso(NOW),
                "expected": case.expected,
                "exit_code": case.exit_code,
                "description": case.description,
            }
        )
    return entries
