"""The API reference (docs/api.md): pdoc builds it from the docstrings of the public modules
with every warning an error, the main pages name the main public functions, and every
Sphinx-style cross reference in those docstrings (``:func:`x```) names something that exists.
"""

from __future__ import annotations

import importlib
import inspect
import re
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import cocoverify.trust

pytest.importorskip("pdoc", reason="pdoc is in the dev extra (docs/api.md)")

ROOT = Path(__file__).resolve().parents[2]
#: scripts/apidoc.py's list of public modules (one list for the build and this test)
MODULES: list[str] = runpy.run_path(str(ROOT / "scripts" / "apidoc.py"))["MODULES"]

#: page -> names it must show (the main public functions and classes)
PAGES = {
    "cocoverify.html": ["verify", "Verifier", "VerificationResult", "Policy", "Collateral",
                        "TrustStore", "CocoverifyError"],
    "cocoverify/errors.html": ["CocoverifyError", "EvidenceError", "AuthenticityError",
                               "CollateralError", "PolicyRejected", "Reason"],
    "cocoverify/result.html": ["VerificationResult", "RuleVerdict"],
    "cocoverify/trust.html": ["TrustStore"],
    "cocoverify/policy.html": ["Policy"],
    "cocoverify/collateral.html": ["Collateral", "load_collateral"],
    "cocoverify/integrations/trustee.html": ["evaluate", "claims_for"],
    "cocoverify/integrations/ear.html": ["to_ear", "sign_ear", "verify_ear", "VERAISON_PROFILE"],
    "cocoverify/integrations/rego.html": ["evaluate_rego", "check_rego"],
    "cocoverify/integrations/kbs.html": ["runtime_data_digest", "initdata_digest"],
    "cocoverify/batch.html": ["verify_many"],
    "cocoverify/hazmat.html": ["decode_text"],
}  # fmt: skip

ROLE = re.compile(
    r":(?:py:)?(?:func|class|mod|data|meth|exc|attr|obj|const):`~?\.?([\w.]+)(?:\(\))?`"
)


def test_reference_builds_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "api"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "apidoc.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Warning" not in proc.stderr, proc.stderr
    assert (out / "index.html").is_file()
    for page, names in PAGES.items():
        html = (out / page).read_text(encoding="utf-8")
        for name in names:
            # pdoc gives every documented member an anchor named after it
            assert f'id="{name}"' in html, f"{page}: {name} not documented"
    # the cross references became links between the pages
    ear_page = (out / "cocoverify/integrations/ear.html").read_text(encoding="utf-8")
    assert 'href="../../cocoverify.html#VerificationResult"' in ear_page
    assert 'href="rego.html#RegoDecision"' in ear_page


def _resolves(name: str, module: ModuleType, owner: Any) -> bool:
    """A reference resolves as written, relative to its module, or inside its class."""
    for base in (None, module, owner):
        obj: Any = base
        parts = name.split(".")
        if base is None:  # a full dotted name: the longest importable module prefix
            for i in range(len(parts), 0, -1):
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                except ImportError:
                    continue
                parts = parts[i:]
                break
            else:
                continue
        if obj is None:
            continue
        for part in parts:
            obj = getattr(obj, part, _MISSING)
            if obj is _MISSING:
                break
        else:
            return True
    return False


_MISSING = object()


def _documented(module: ModuleType) -> Iterator[tuple[str, Any, Any]]:
    """(qualified name, object, owning class or None) of everything pdoc documents."""
    yield module.__name__, module, None
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    for name in names:
        obj = getattr(module, name)
        if not (inspect.isfunction(obj) or inspect.isclass(obj)):
            continue
        yield f"{module.__name__}.{name}", obj, obj if inspect.isclass(obj) else None
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_") and attr != "__init__":
                    continue
                if isinstance(member, property):
                    member = member.fget
                member = getattr(member, "__func__", member)
                if inspect.isfunction(member):
                    yield f"{module.__name__}.{name}.{attr}", member, obj


def broken_references(modules: list[str]) -> list[str]:
    broken = []
    for modname in modules:
        module = importlib.import_module(modname)
        for qualname, obj, owner in _documented(module):
            home = sys.modules.get(getattr(obj, "__module__", modname), module)
            for ref in ROLE.findall(inspect.getdoc(obj) or ""):
                if not (_resolves(ref, home, owner) or _resolves(ref, module, owner)):
                    broken.append(f"{qualname}: {ref}")
    return broken


def test_cross_references_resolve() -> None:
    assert broken_references(MODULES) == []


def test_a_broken_reference_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a docstring naming something that does not exist."""
    monkeypatch.setattr(
        cocoverify.trust.TrustStore, "__doc__", "See :func:`~cocoverify.trust.no_such_thing`."
    )
    assert broken_references(["cocoverify.trust"]) == [
        "cocoverify.trust.TrustStore: cocoverify.trust.no_such_thing"
    ]
