"""Every module-level cache in src/cocoverify is listed, with its bound, in docs/caches.md.

A cache is found by its construction: an ``lru_cache`` / ``cache`` decorator or call, one of
the project's bounded memos (``Memo``, ``Lru``, ``ObjectMemo``, ``KeyMemo``), or a
module-level dict that starts empty and is filled at run time. A name is documented when
docs/caches.md names it as ``module.name`` (``cocoverify.`` left out), or in a row that
starts with its module and lists it after a comma.
"""

from __future__ import annotations

import ast
import re

from _shared import ROOT

SRC = ROOT / "src" / "cocoverify"
DOC = ROOT / "docs" / "caches.md"
MEMOS = ("Memo(", "Lru(", "ObjectMemo(", "KeyMemo(", "lru_cache", "functools.cache")


def _caches() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        module = ".".join(p for p in parts if p != "__init__")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                if any(
                    "lru_cache" in ast.unparse(d) or ast.unparse(d).endswith("cache")
                    for d in node.decorator_list
                ):
                    found.append((module, node.name))
            elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                target = node.targets[0] if isinstance(node, ast.Assign) else node.target
                value = ast.unparse(node.value)
                if any(m in value for m in MEMOS) or (
                    value in ("{}", "dict()", "OrderedDict()") and isinstance(node, ast.AnnAssign)
                ):
                    found.append((module, ast.unparse(target)))
    return found


def _documented(text: str, module: str, name: str) -> bool:
    if f"`{module}.{name}`" in text:
        return True
    # a row naming the module's first cache in full and this one after a comma
    pattern = rf"`{re.escape(module)}\.[A-Za-z_]+`[^|\n]*, `{re.escape(name)}`"
    return re.search(pattern, text) is not None


def test_the_scan_finds_the_known_caches() -> None:
    found = set(_caches())
    for known in [
        ("api", "_VERDICTS"),
        ("tee.snp.warm", "WARM"),
        ("tee.cca.pipeline", "_VERIFIED"),
        ("tee.intel.prepared", "PREPARED"),
        ("_core.x509", "signed_by"),
        ("_backend._native", "_keys"),
    ]:
        assert known in found


def test_every_cache_is_documented() -> None:
    text = DOC.read_text()
    missing = [f"{m}.{n}" for m, n in _caches() if not _documented(text, m, n)]
    assert not missing, f"add to docs/caches.md: {missing}"
