"""``python vectors/generate.py`` reproduces every committed file of ``vectors/`` byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from _shared import PROJECT_VECTORS

GENERATOR = PROJECT_VECTORS / "generate.py"


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.name != "generate.py"
        and "__pycache__" not in p.parts
        # vectors/real: real public samples copied with their provenance, not generated
        and p.relative_to(root).parts[0] != "real"
    }


def test_generator_reproduces_the_committed_vectors(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    fresh, committed = _tree(tmp_path), _tree(PROJECT_VECTORS)
    assert sorted(fresh) == sorted(committed)
    differ = [rel for rel in committed if fresh[rel] != committed[rel]]
    assert not differ, f"{len(differ)} files differ, e.g. {differ[:5]}"


def test_unknown_vendor_is_refused(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path), "--vendors", "amd"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "unknown vendor(s): amd" in run.stderr
