"""The accepted real and generated cases of tests/golden/outputs.py (the golden list, with
its verify() keyword arguments) as warm Verifiers. Not collected by pytest."""

from __future__ import annotations

import base64
import json
import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cocoverify import Policy, TrustStore, Verifier, load_collateral
from cocoverify.collateral import Collateral

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the golden module

from golden import outputs as golden  # noqa: E402

GOLDEN = HERE.parent / "golden" / "outputs.json"


@dataclass(frozen=True)
class Case:
    id: str
    evidence: bytes
    kwargs: dict[str, Any]  # golden's verify() keyword arguments

    @property
    def at(self) -> Any:
        return self.kwargs["at"]

    def verifier(self) -> Verifier:
        kw = {k: v for k, v in self.kwargs.items() if k != "at"}
        return Verifier(**kw)


def accepted() -> Iterator[Case]:
    """Every case the golden file records as accepted (real ones when ../shared exists)."""
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0
        for cid, evidence, kw in golden.cases():
            out = recorded.get(cid, {})
            if "result" in out and "error" not in out:
                yield Case(cid, evidence, kw)


def accepted_with_files() -> Iterator[tuple[Case, list[Path]]]:
    """``accepted()`` with each case's collateral files: golden's own list, recorded as
    golden's ``cases()`` hands them to ``load_collateral`` (one call per case)."""
    recorded = json.loads(GOLDEN.read_text(encoding="utf-8"))
    last: list[Path] = []

    def recording(paths: Iterable[str | os.PathLike[str]]) -> Collateral:
        last[:] = [Path(p) for p in paths]
        return load_collateral(last)

    golden.load_collateral = recording  # type: ignore[assignment,attr-defined]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for cid, evidence, kw in golden.cases():
                out = recorded.get(cid, {})
                if "result" in out and "error" not in out:
                    yield Case(cid, evidence, kw), list(last)
    finally:
        golden.load_collateral = load_collateral  # type: ignore[attr-defined]


def project(cid: str) -> Case:
    """One generated case of vectors/manifest.json by id (no ../shared needed)."""
    manifest = json.loads((golden.PROJECT / "manifest.json").read_text(encoding="utf-8"))
    c = next(c for c in manifest["cases"] if c["id"] == cid)
    kw: dict[str, Any] = {
        "collateral": load_collateral([golden.PROJECT / p for p in c["collateral"]]),
        "policy": Policy.from_dict(c["policy"]),
        "at": c["at"],
    }
    if c["trust"] is not None:
        kw["trust"] = TrustStore(**c["trust"])
    return Case("project/" + cid, (golden.PROJECT / c["evidence"]).read_bytes(), kw)


def _shared_manifest(family: str) -> dict[str, Any] | None:
    path = golden.SHARED / family / "MANIFEST.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _candidates() -> Iterator[tuple[Case, list[Path]]]:
    """Real Nitro, NVIDIA, Azure and TDX event-log evidence of ../shared, which the golden
    list does not hold, as (case, collateral files)."""
    nitro = _shared_manifest("nitro")
    for c in nitro["cases"] if nitro else []:
        doc = c.get("files", {}).get("attestation_doc")
        if doc and c.get("verification_time") and not c["id"].startswith("neg-"):
            path = golden.SHARED / "nitro" / c.get("dir", c["id"]) / doc
            if path.is_file():
                yield (
                    Case(f"nitro/{c['id']}", path.read_bytes(), {"at": c["verification_time"]}),
                    [],
                )
    nvidia = _shared_manifest("nvidia")
    for c in nvidia["cases"] if nvidia else []:
        files, base = c.get("files", {}), golden.SHARED / "nvidia" / c.get("dir", c["id"])
        if "report_hex" in files and "cert_chain_pem" in files and c.get("at"):
            chain = base / files["cert_chain_pem"]
            kw = {"collateral": load_collateral([chain]), "at": c["at"]}
            yield Case(f"nvidia/{c['id']}", (base / files["report_hex"]).read_bytes(), kw), [chain]
    azure = _shared_manifest("azure")
    for c in azure["cases"] if azure else []:
        evidence = golden.SHARED / "azure" / c.get("dir", c["id"]) / c["files"].get("evidence", "")
        if evidence.is_file() and c.get("at"):
            yield Case(f"azure/{c['id']}", evidence.read_bytes(), {"at": c["at"]}), []
    # the one real CCEL with its own quote, as trustee's TDX evidence JSON
    cos = golden.SHARED / "intel" / "tdx-v4-gotdx-cos113"
    log = golden.SHARED / "tdx-eventlog" / "gotdx-cos113-ccel-with-quote" / "cos-113-intel-tdx.bin"
    if cos.is_dir() and log.is_file():
        names = (
            "tcb_info.json",
            "identity.json",
            "pck_crl.der",
            "intel_root_ca_crl.der",
            "pck_crl_issuer_chain.pem",
            "tcb_info_issuer_chain.pem",
            "qe_identity_issuer_chain.pem",
        )
        files = [cos / n for n in names]
        evidence = json.dumps(
            {
                "quote": base64.b64encode((cos / "cos-113-tdx-quote.dat").read_bytes()).decode(),
                "cc_eventlog": base64.b64encode(log.read_bytes()).decode(),
            }
        ).encode()
        kw = {"collateral": load_collateral(files), "at": "2025-10-31T14:17:11Z"}
        yield Case("tdx-eventlog/gotdx-cos113-trustee-json", evidence, kw), files


def real_extra() -> Iterator[tuple[Case, list[Path]]]:
    """``_candidates()`` that verify as they are (the sweep mutates accepted evidence only)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for case, files in _candidates():
            try:
                case.verifier().verify(case.evidence, at=case.at)
            except Exception:
                continue
            yield case, files
