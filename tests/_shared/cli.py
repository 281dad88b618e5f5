"""Running the command line in-process (``cocoverify.cli.main``) and reading what it printed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cocoverify.cli import main

__all__ = ["json_lines", "run_cli", "run_cli_json"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The exit code and stdout of ``cocoverify ARGV``."""
    rc = main(list(argv))
    return rc, capsys.readouterr().out


def run_cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    """The exit code and JSON document of ``cocoverify ARGV --format json``."""
    rc, out = run_cli(capsys, *argv, "--format", "json")
    return rc, json.loads(out)


def json_lines(text: str) -> list[dict[str, Any]]:
    """The records of JSON-lines output (``cocoverify batch``)."""
    return [json.loads(line) for line in text.splitlines() if line]
