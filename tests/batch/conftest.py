"""A mixed fleet for the manifest and report tests: every real Intel and AMD vector of
../shared (each with its own time and collateral) plus generated negatives from vectors/,
listed in one JSON-lines manifest whose paths are relative to its folder."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from _shared import PROJECT_VECTORS, SHARED_VECTORS, require_shared, shared_manifest
from _shared.batch import AMD_ROLES, INTEL_ROLES, SAMPLE_ROOT

#: Generated negatives (and two positives) from vectors/manifest.json: the test PKIs.
GENERATED = (
    "sgx.tcb.revoked",
    "sgx.tcb.out_of_date",
    "sgx.tcb.sw_hardening_needed",
    "tdx.tcb.td_relaunch_advised",
    "tdx.good.v4",
    "sgx.quote.signature_invalid",
    "sgx.collateral.tcb_info_expired",
    "sgx.crl.pck_revoked",
    "snp.accept.genoa_v3_vcek",
    "snp.chain.vcek_expired",
)
#: A file whose name is markup: the report must show it as text.
HOSTILE_NAME = "<script>document.title='pwned'.bin"


@dataclass(frozen=True)
class Fleet:
    """The manifest, the --trust-root arguments it needs, and what each line is."""

    manifest: Path
    trust_roots: tuple[str, ...]
    lines: tuple[dict[str, Any], ...]

    def trust_args(self) -> list[str]:
        return [a for root in self.trust_roots for a in ("--trust-root", root)]


def _roles(folder: Path, files: dict[str, str], roles: tuple[str, ...]) -> list[str]:
    return [str(folder / files[r]) for r in roles if r in files]


def build_fleet(root: Path) -> Fleet:
    """Copy the evidence under ``root`` and write ``root/manifest.jsonl``."""
    intel, amd = require_shared("intel"), require_shared("amd")
    lines: list[dict[str, Any]] = []

    def add(src: Path, rel: str, **line: Any) -> None:
        dest = root / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, dest)
        lines.append({"path": rel, **line})

    for case in (shared_manifest("intel") or {})["cases"]:
        files = case["files"]
        if "quote" in files:
            folder = intel / case["id"]
            add(
                folder / files["quote"],
                f"intel/{case['id']}/{files['quote']}",
                at=case["verify_at"],
                collateral=_roles(folder, files, INTEL_ROLES),
            )
    for case in (shared_manifest("amd") or {})["cases"]:
        files = case["files"]
        if "report" in files and case.get("verification_time"):
            folder = amd / case["dir"]
            coll = root / "amd" / case["dir"] / "collateral"  # a folder, relative to the manifest
            coll.mkdir(parents=True)
            for path in _roles(folder, files, AMD_ROLES):
                shutil.copy(path, coll)
            add(
                folder / files["report"],
                f"amd/{case['dir']}/report.bin",
                at=case["verification_time"],
                collateral=f"amd/{case['dir']}/collateral",
            )
    generated = {
        c["id"]: c for c in json.loads((PROJECT_VECTORS / "manifest.json").read_text())["cases"]
    }
    for cid in GENERATED:
        case = generated[cid]
        add(
            PROJECT_VECTORS / case["evidence"],
            f"generated/{cid}.bin",
            at=case["at"],
            collateral=[str(PROJECT_VECTORS / c) for c in case["collateral"]],
            id=cid,
        )
    add(PROJECT_VECTORS / "manifest.json", f"generated/{HOSTILE_NAME}", at="2025-06-01T00:00:00Z")
    manifest = root / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    roots = [str(SAMPLE_ROOT), str(intel / "IntelSGXRootCA.der")]
    roots += sorted(str(p) for p in (amd / "roots").glob("*_ark.pem"))
    roots += [
        str(PROJECT_VECTORS / "snp" / c / "ark.pem")
        for c in ("accept.milan_v3_vcek", "accept.genoa_v3_vcek", "accept.turin_v5_vcek")
    ]
    return Fleet(manifest, tuple(roots), tuple(lines))


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    if not SHARED_VECTORS.is_dir():
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    return build_fleet(tmp_path_factory.mktemp("fleet"))
