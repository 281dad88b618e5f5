"""scripts/pythons.sh (the suite on every other CPython, run by scripts/test.sh): a version that
is not installed, or the main .venv's own, is skipped with a message and no failure."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "pythons.sh"


def _run(versions: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COCOVERIFY_PYTHONS": versions}
    return subprocess.run(
        ["bash", str(SCRIPT), "--collect-only"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_absent_python_is_skipped_cleanly() -> None:
    run = _run("3.99")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "python 3.99: not installed here, skipped" in run.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_main_venv_version_is_not_run_twice() -> None:
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv here (scripts/test.sh creates it)")
    main = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-c",
         "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    run = _run(main)
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"python {main}: the main .venv's, already tested" in run.stdout
