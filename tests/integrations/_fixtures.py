"""Evidence, collateral and keys shared by the integrations tests (TEST ONLY).

Builders from ``cocoverify_testing`` for each TEE, the real Intel vectors of ../shared, the
trustee evidence forms (standard base64 quote, the AS REST base64url form, the ``sev`` crate's
serde report) and fixed EAR signing keys. Import as ``from integrations._fixtures import ...``
(tests/ is on the test path).
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

import cocoverify
from cocoverify import Collateral, Reason, TrustStore, load_collateral
from cocoverify.result import RuleVerdict, VerificationResult, freeze
from cocoverify.tee.snp.parse import parse_report
from cocoverify_testing.cca import CcaTokenBuilder
from cocoverify_testing.intel import (
    NOW,
    FakeIntelPKI,
    QuoteBuilder,
    sgx_qe_identity,
    sgx_tcb_info,
    td_qe_identity,
    tdx_tcb_info,
)
from cocoverify_testing.pki import ec_key
from cocoverify_testing.snp import VECTOR_TIME, FakeAmdPKI, SnpReportBuilder

from _shared import require_shared, shared_manifest

__all__ = [
    "AMD_PKI",
    "AT",
    "INTEL_PKI",
    "INTEL_TRUST",
    "NOW",
    "P256",
    "P384",
    "VECTOR_TIME",
    "T",
    "cca_token",
    "evidence_quote",
    "intel_case_folder",
    "intel_collateral",
    "intel_quote",
    "intel_verify",
    "jws_parts",
    "le",
    "real_intel_case",
    "rest_form",
    "serde_report",
    "snp_cert_chain",
    "snp_report",
    "snp_verify",
    "synthetic_result",
]

# --- Intel: the fake PKI and its collateral -------------------------------------------------

INTEL_PKI = FakeIntelPKI()
INTEL_TRUST = TrustStore(intel_roots=frozenset({INTEL_PKI.root_fingerprint()}))


@functools.cache
def intel_collateral(tee: str) -> Collateral:
    pki, der = INTEL_PKI, Encoding.DER
    ca = "processor" if tee == "sgx" else "platform"
    tcb, ident = (
        (sgx_tcb_info(), sgx_qe_identity()) if tee == "sgx" else (tdx_tcb_info(), td_qe_identity())
    )
    items = [
        pki.tcb_info_body(tcb),
        pki.qe_identity_body(ident),
        pki.tcb_signing_chain_pem(),
        pki.pck_crl(ca).public_bytes(der),
        pki.pck_crl_issuer_chain_pem(ca),
        pki.root_crl.public_bytes(der),
    ]
    coll = Collateral()
    for item in items:
        coll = coll + Collateral.from_bytes(item)
    return coll


def intel_quote(tee: str, *, report_data: bytes = b"", config: bytes | None = None) -> bytes:
    b = QuoteBuilder.sgx() if tee == "sgx" else QuoteBuilder.tdx()
    b = b.report_data(report_data)
    if config is not None:
        b = b.config_id(config) if tee == "sgx" else b.mr_config_id(config)
    return b.sign(INTEL_PKI)


def intel_verify(tee: str, quote: bytes, **kw: Any) -> cocoverify.VerificationResult:
    return cocoverify.verify(
        quote, collateral=intel_collateral(tee), trust=INTEL_TRUST, at=NOW, **kw
    )


# --- Intel: the real vectors of ../shared ---------------------------------------------------

_INTEL = shared_manifest("intel")
_REAL = {c["id"]: c for c in (_INTEL["cases"] if _INTEL else [])}
_ROLES = (
    "tcb_info",
    "qe_identity",
    "pck_crl",
    "root_ca_crl",
    "pck_crl_issuer_chain",
    "tcb_info_issuer_chain",
    "qe_identity_issuer_chain",
)


def real_intel_case(case_id: str) -> tuple[dict[str, Any], bytes, Collateral]:
    """(manifest case, quote, collateral) of a real Intel vector; skips when ../shared is absent."""
    base: Path = require_shared("intel") / case_id
    case = _REAL[case_id]
    coll = load_collateral([base / case["files"][r] for r in _ROLES if r in case["files"]])
    return case, (base / case["files"]["quote"]).read_bytes(), coll


# --- SNP and CCA --------------------------------------------------------------------------

AMD_PKI = FakeAmdPKI("Milan")


def snp_report(*, report_data: bytes = bytes(64), host_data: bytes = bytes(32)) -> bytes:
    b = SnpReportBuilder.for_product("Milan").set(report_data=report_data, host_data=host_data)
    return b.sign(AMD_PKI)


def snp_verify(report: bytes, **kw: Any) -> cocoverify.VerificationResult:
    coll = Collateral(chains=((AMD_PKI.vcek_for(report), AMD_PKI.ask, AMD_PKI.ark),))
    return cocoverify.verify(
        report, collateral=coll, trust=AMD_PKI.trust_store(), at=VECTOR_TIME, **kw
    )


def snp_cert_chain(report: bytes) -> list[dict[str, Any]]:
    """Trustee's ``cert_chain`` (sev ``CertTableEntry`` serde form) for ``report``."""
    return [
        {"cert_type": t, "data": list(c.public_bytes(Encoding.DER))}
        for t, c in (("VCEK", AMD_PKI.vcek_for(report)), ("ASK", AMD_PKI.ask), ("ARK", AMD_PKI.ark))
    ]


def cca_token(*, challenge: bytes, rpv: bytes | None = None) -> tuple[bytes, Collateral]:
    b = CcaTokenBuilder().with_challenge(challenge)
    if rpv is not None:
        b = b.with_realm_claim(44235, rpv)
    return b.sign(), Collateral.from_bytes(b.platform.cpak_pem())


# --- trustee evidence forms -----------------------------------------------------------------


def le(n: int, size: int) -> str:
    """Hex of a little-endian integer, as trustee writes quote fields."""
    return n.to_bytes(size, "little").hex()


def evidence_quote(quote: bytes) -> dict[str, str]:
    """``TdxEvidence`` / ``SgxEvidence``: the quote in standard base64."""
    return {"quote": base64.b64encode(quote).decode()}


def rest_form(obj: dict[str, Any]) -> str:
    """The AS REST ``evidence`` string: base64url, no padding, of the JSON bytes."""
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _serde_tcb(raw: bytes) -> dict[str, Any]:
    # Milan layout (AMD SEV-SNP ABI spec, TCB_VERSION): byte 0 BL, 1 TEE, 6 SNP, 7 microcode
    return {"fmc": None, "bootloader": raw[0], "tee": raw[1], "snp": raw[6], "microcode": raw[7]}


def serde_report(data: bytes) -> dict[str, Any]:
    """The sev crate's serde form of a report, written from the report's field table."""
    r = parse_report(data)
    return {
        "version": r.version,
        "guest_svn": r.guest_svn,
        "policy": r.policy,
        "family_id": list(r.family_id),
        "image_id": list(r.image_id),
        "vmpl": r.vmpl,
        "sig_algo": r.signature_algo,
        "current_tcb": _serde_tcb(r.current_tcb),
        "plat_info": r.platform_info,
        "key_info": r.key_info,
        "report_data": list(r.report_data),
        "measurement": list(r.measurement),
        "host_data": list(r.host_data),
        "id_key_digest": list(r.id_key_digest),
        "author_key_digest": list(r.author_key_digest),
        "report_id": list(r.report_id),
        "report_id_ma": list(r.report_id_ma),
        "reported_tcb": _serde_tcb(r.reported_tcb),
        "cpuid_fam_id": r.cpuid_fam_id,
        "cpuid_mod_id": r.cpuid_mod_id,
        "cpuid_step": r.cpuid_step,
        "chip_id": list(r.chip_id),
        "committed_tcb": _serde_tcb(r.committed_tcb),
        "current": {"major": r.current_major, "minor": r.current_minor, "build": r.current_build},
        "committed": {
            "major": r.committed_major,
            "minor": r.committed_minor,
            "build": r.committed_build,
        },
        "launch_tcb": _serde_tcb(r.launch_tcb),
        "signature": {"r": list(data[0x2A0:0x2E8]), "s": list(data[0x2E8:0x330])},
    }


# --- EAR: a fixed time, fixed keys and a hand-made result -----------------------------------

AT = dt.datetime(2025, 7, 4, 10, 28, 44, tzinfo=dt.UTC)
T = int(AT.timestamp())
P256 = ec_key("ear-signer-p256", "P-256")
P384 = ec_key("ear-signer-p384", "P-384")


def synthetic_result(
    *,
    tcb_status: str | None = "UpToDate",
    policy: tuple[RuleVerdict, ...] = (RuleVerdict("debug", True, actual=False),),
    accepted: bool = True,
    tee: str = "sgx",
) -> VerificationResult:
    """A hand-made SGX-like result (not a whole claim set: EAR falls back to our claim names)."""
    return VerificationResult(
        accepted=accepted,
        tee=tee,
        verified_at=AT,
        tcb_status=tcb_status,
        claims=freeze({"report_data": b"\x01" * 64, "config_id": b"\x00" * 64}),
        policy=policy,
        reason=None if accepted else Reason.POLICY_REJECTED,
    )


def jws_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A compact JWS read without any check: (header, payload, signature text)."""
    h, p, s = token.split(".")
    pad = lambda x: x + "=" * (-len(x) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(h))),
        json.loads(base64.urlsafe_b64decode(pad(p))),
        s,
    )


def intel_case_folder(case_id: str) -> tuple[Path, dict[str, Any]]:
    """(folder, manifest case) of a real Intel vector; skips when ../shared is absent."""
    base = require_shared("intel")
    manifest = shared_manifest("intel") or {}
    case = next(c for c in manifest["cases"] if c["id"] == case_id)
    return base / case_id, case
