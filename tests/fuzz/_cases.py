"""The accepted real and generated cases of tests/golden/outputs.py (the golden list, with
its verify() keyword arguments) as warm Verifiers. Not collected by pytest."""

from __future__ import annotations

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
