"""The entry point: ``python -m cocoverify`` runs the CLI."""

from __future__ import annotations

import os
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


def test_bad_backend_setting_is_a_usage_error_not_a_traceback() -> None:
    env = {**os.environ, "COCOVERIFY_BACKEND": "bogus"}
    proc = subprocess.run(
        [sys.executable, "-m", "cocoverify", "--version"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert proc.returncode == 1
    assert "COCOVERIFY_BACKEND" in proc.stderr and "Traceback" not in proc.stderr


def test_version_names_the_backend() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "cocoverify", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "backend" in proc.stdout
