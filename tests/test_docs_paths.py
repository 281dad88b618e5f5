"""The docs cite only what is in the repository: every repository path and every relative link
in README.md and docs/*.md exists (the example TEE of docs/adding-a-tee.md excepted)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from _shared import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_PATH = re.compile(
    r"(?<![\w./-])((?:src|tests|testing|csrc|scripts|benchmarks|vectors)/[\w./-]*\w/?)"
)
_LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
#: the worked example of docs/adding-a-tee.md names files that do not exist on purpose
_EXAMPLE = ("nvidia", "<name>", "<kind>")


def _paths(doc: Path) -> list[str]:
    text = doc.read_text()
    return [p for p in _PATH.findall(text) if not any(e in p for e in _EXAMPLE)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_repository_paths_exist(doc: Path) -> None:
    missing = sorted({p for p in _paths(doc) if "*" not in p and not (ROOT / p).exists()})
    assert not missing, f"{doc.name} names paths that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(doc: Path) -> None:
    links = [x for x in _LINK.findall(doc.read_text()) if "://" not in x]
    links = [x for x in links if not any(e in x for e in _EXAMPLE)]
    missing = sorted({x for x in links if not (doc.parent / x).exists()})
    assert not missing, f"{doc.name} links to files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_no_citation_of_notes_outside_the_repository(doc: Path) -> None:
    # the vendors' notes live in ../shared/docs, which is not part of this repository
    text = doc.read_text()
    cited = re.findall(r"\b(?:style|intel|amd|cca|eventlog|azure|nvidia|nitro)\.md §", text)
    assert not cited, f"{doc.name} cites notes outside the repository: {sorted(set(cited))}"
