"""The entry point: ``python -m cocoverify`` runs the CLI."""

from __future__ import annotations

import subprocess
import sys


def test_console_script_runs() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cocoverify", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0 and "cocoverify" in proc.stdout
