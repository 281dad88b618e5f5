"""The documentation keeps up with the code."""

from __future__ import annotations

from cocoverify import Reason

from _shared import ROOT


def test_every_reason_code_is_documented() -> None:
    doc = (ROOT / "docs" / "reasons.md").read_text()
    missing = [r.value for r in Reason if f"`{r.value}`" not in doc]
    assert not missing, f"undocumented reason codes: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    head = readme[: readme.index("## ")]
    assert "bash scripts/demo.sh" in head and "bash scripts/test.sh" in head
    assert (ROOT / "scripts" / "demo.sh").is_file() and (ROOT / "scripts" / "test.sh").is_file()
