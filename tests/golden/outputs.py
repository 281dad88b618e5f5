"""Full JSON output of every real and generated vector, through the public API only.

``python tests/golden/outputs.py > tests/golden/outputs.json`` records it; tests/test_golden.py
compares against the file, so a refactor that changes any verdict, reason, claim or key shows.
"""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cocoverify
from cocoverify import CocoverifyError, Policy, TrustStore, ear, load_collateral, trustee

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SHARED = ROOT.parent / "shared" / "vectors"
PROJECT = ROOT / "vectors"

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
AMD_ROLES = ("vcek", "vlek", "ask", "asvk", "ark", "crl")
CCA_ROLES = ("platform_key", "platform_key_jwk", "trust_anchor_store")
CCA_AT = "2026-01-01T00:00:00Z"
NO_TIME = "2025-01-01T00:00:00Z"  # parse-only cases name no time


def outcome(evidence: bytes, **kwargs: Any) -> dict[str, Any]:
    """verify() as JSON: the result, or the error with its result when authenticated."""
    try:
        result = cocoverify.verify(evidence, **kwargs)
    except CocoverifyError as exc:
        out: dict[str, Any] = {
            "error": type(exc).__name__,
            "reason": exc.reason.value,
            "exit_code": exc.exit_code,
            "message": str(exc.args[0]) if exc.args else "",
        }
        if exc.result is not None:
            out["result"] = exc.result.to_dict()
            out["trustee"] = trustee.claims_for(exc.result)
        out["ear_vector"] = ear.trust_vector(exc)
        return out
    return {
        "result": result.to_dict(),
        "trustee": trustee.claims_for(result),
        "ear_vector": ear.trust_vector(result),
    }


def _manifest(family: str) -> dict[str, Any] | None:
    path = SHARED / family / "MANIFEST.json"
    return json.loads(path.read_text()) if path.is_file() else None


def cases() -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """(id, evidence, verify kwargs) for every project and shared vector."""
    manifest = json.loads((PROJECT / "manifest.json").read_text())
    for c in manifest["cases"]:
        kw: dict[str, Any] = {
            "collateral": load_collateral([PROJECT / p for p in c["collateral"]]),
            "policy": Policy.from_dict(c["policy"]),
            "at": c["at"],
        }
        if c["trust"] is not None:
            kw["trust"] = TrustStore(**c["trust"])
        yield "project/" + c["id"], (PROJECT / c["evidence"]).read_bytes(), kw
    intel = _manifest("intel")
    for c in intel["cases"] if intel else []:
        base = SHARED / "intel" / c["id"]
        files = c["files"]
        coll = [base / files[r] for r in INTEL_ROLES if r in files]
        yield (
            "intel/" + c["id"],
            (base / files["quote"]).read_bytes(),
            {"collateral": load_collateral(coll), "at": c["verify_at"]},
        )
    amd = _manifest("amd")
    for c in amd["cases"] if amd else []:
        if "report" not in c["files"]:
            continue
        base = SHARED / "amd" / c["dir"]
        coll = [base / c["files"][r] for r in AMD_ROLES if r in c["files"]]
        yield (
            "amd/" + c["id"],
            (base / c["files"]["report"]).read_bytes(),
            {
                "collateral": load_collateral(coll),
                "at": c.get("verification_time", "2025-01-01T00:00:00Z"),
            },
        )
    cca = _manifest("cca")
    for c in cca["cases"] if cca else []:
        if c["kind"] != "cca-token":
            continue
        base = SHARED / "cca" / c["id"]
        for role in CCA_ROLES:
            if role in c["files"]:
                yield (
                    f"cca/{c['id']}/{role}",
                    (base / c["files"]["token"]).read_bytes(),
                    {"collateral": load_collateral([base / c["files"][role]]), "at": CCA_AT},
                )


def collect() -> dict[str, Any]:
    """Every case's outcome, by id."""
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0
        for cid, evidence, kw in cases():
            try:
                out[cid] = outcome(evidence, **kw)
            except CocoverifyError as exc:  # collateral that does not load
                out[cid] = {"load_error": exc.reason.value}
    return out


if __name__ == "__main__":
    json.dump(collect(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
