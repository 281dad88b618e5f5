"""The differential oracle's two sides: dcap-qvl (PyPI, the test extra) and cocoverify on the
same Intel quote, collateral and time (docs/security.md "Differential oracle")."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cocoverify import CocoverifyError, Policy, TrustStore, Verifier, load_collateral
from cocoverify._core.text import decode_text

from _shared import PROJECT_VECTORS, SHARED_VECTORS

#: every TCB status, Revoked included: both sides report the status, the oracle compares it
ALL_STATUSES = (
    "UpToDate",
    "SWHardeningNeeded",
    "ConfigurationNeeded",
    "ConfigurationAndSWHardeningNeeded",
    "OutOfDate",
    "OutOfDateConfigurationNeeded",
    "Revoked",
    "TDRelaunchAdvised",
    "TDRelaunchAdvisedConfigurationNeeded",
)
INTEL_ROLES = (
    "tcb_info",
    "qe_identity",
    "pck_crl",
    "root_ca_crl",
    "pck_crl_issuer_chain",
    "tcb_info_issuer_chain",
    "qe_identity_issuer_chain",
    "pck_cert_chain",
)


@dataclass(frozen=True)
class OracleCase:
    id: str
    quote: bytes  # decoded
    at: str
    verifier: Verifier
    peer_collateral: Any  # dcap_qvl.QuoteCollateralV3, or None when a document is missing
    root_der: bytes | None  # None: dcap-qvl's own Intel root


def _epoch(at: str) -> int:
    return int(_dt.datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp())


def _policy(base: dict[str, Any] | None) -> Policy:
    doc = dict(base or {})
    doc["accepted_tcb_statuses"] = list(ALL_STATUSES)
    doc["unsafe_accept_revoked"] = True
    return Policy.from_dict(doc)


def ours(case: OracleCase) -> str:
    """``ok:<TCB status>`` or ``error:<reason>``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = case.verifier.verify(case.quote, at=case.at)
        except CocoverifyError as exc:
            return f"error:{exc.reason.value}"
    return f"ok:{result.tcb_status}"


def peer(case: OracleCase) -> str:
    """``ok:<TCB status>``, ``error:<dcap-qvl's message>`` or ``no-collateral``."""
    import dcap_qvl  # the test extra (pyproject); the oracle tests skip without it

    if case.peer_collateral is None:
        return "no-collateral"
    try:
        if case.root_der is None:
            report = dcap_qvl.verify(case.quote, case.peer_collateral, _epoch(case.at))
        else:
            report = dcap_qvl.verify_with_root_ca(
                case.quote, case.peer_collateral, case.root_der, _epoch(case.at)
            )
    except ValueError as exc:
        return "error:" + str(exc).replace("Verification failed: ", "").splitlines()[0]
    return f"ok:{report.status}"


# --- the real vectors ---------------------------------------------------------------------


def real_cases() -> Iterator[OracleCase]:
    """../shared/vectors/intel: every case, with the dcap-qvl collateral shipped beside it."""
    import dcap_qvl

    path = SHARED_VECTORS / "intel" / "MANIFEST.json"
    if not path.is_file():
        return
    for c in json.loads(path.read_text(encoding="utf-8"))["cases"]:
        base = SHARED_VECTORS / "intel" / c["id"]
        files = c["files"]
        coll = load_collateral([base / files[r] for r in INTEL_ROLES if r in files])
        peer_coll = None
        if "collateral_dcapqvl" in files:
            text = (base / files["collateral_dcapqvl"]).read_text(encoding="utf-8")
            peer_coll = dcap_qvl.QuoteCollateralV3.from_json(text)
        yield OracleCase(
            "intel/" + c["id"],
            decode_text((base / files["quote"]).read_bytes()),
            c["verify_at"],
            Verifier(collateral=coll, policy=_policy(None)),
            peer_coll,
            None,
        )


# --- the generated vectors ----------------------------------------------------------------

_SIGNED = re.compile(
    rb'^\{"(tcbInfo|enclaveIdentity)":(.*),"signature":"([0-9a-fA-F]+)"\}\s*$', re.S
)


def _peer_collateral(paths: list[Path]) -> Any:
    """The files of a generated case as a dcap_qvl.QuoteCollateralV3 (None: one missing)."""
    import dcap_qvl

    parts: dict[str, Any] = {}
    for p in paths:
        raw = p.read_bytes()
        if p.suffix == ".der":
            crl = x509.load_der_x509_crl(raw)
            root = "Root" in crl.issuer.rfc4514_string()
            parts["root_ca_crl" if root else "pck_crl"] = raw
        elif p.suffix == ".pem":
            key = "pck_crl_issuer_chain" if "pck_crl" in p.name else "tcb_info_issuer_chain"
            parts[key] = raw.decode()
        elif m := _SIGNED.match(raw):
            member = "tcb_info" if m.group(1) == b"tcbInfo" else "qe_identity"
            parts[member] = m.group(2).decode()
            parts[member + "_signature"] = bytes.fromhex(m.group(3).decode())
    if "tcb_info_issuer_chain" in parts:
        parts["qe_identity_issuer_chain"] = parts["tcb_info_issuer_chain"]
    try:
        return dcap_qvl.QuoteCollateralV3(**parts)
    except TypeError:  # a document is missing: dcap-qvl cannot run
        return None


def _root_der(paths: list[Path], fingerprints: frozenset[str]) -> bytes | None:
    """The trusted (fake) root's DER, from the case's PEM chains."""
    for p in paths:
        if p.suffix == ".pem":
            for cert in x509.load_pem_x509_certificates(p.read_bytes()):
                der = cert.public_bytes(serialization.Encoding.DER)
                if hashlib.sha256(der).hexdigest() in fingerprints:
                    return der
    return None


def generated_cases() -> Iterator[OracleCase]:
    """vectors/manifest.json: every SGX/TDX case whose evidence is a quote (vectors/intel)."""
    manifest = json.loads((PROJECT_VECTORS / "manifest.json").read_text(encoding="utf-8"))
    for c in manifest["cases"]:
        if not c["evidence"].startswith("intel/"):
            continue
        paths = [PROJECT_VECTORS / p for p in c["collateral"]]
        trust = TrustStore(**c["trust"]) if c["trust"] else None
        root = _root_der(paths, trust.intel_roots) if trust is not None else None
        yield OracleCase(
            "project/" + c["id"],
            (PROJECT_VECTORS / c["evidence"]).read_bytes(),
            c["at"],
            Verifier(collateral=load_collateral(paths), trust=trust, policy=_policy(c["policy"])),
            _peer_collateral(paths),
            root,
        )
