"""``cocoverify show``: decoded evidence fields, no verification."""

from __future__ import annotations

import argparse
from typing import Any

from cocoverify._core.text import decode_text
from cocoverify.cli.output import write_json
from cocoverify.cli.verify import read_evidence
from cocoverify.errors import CocoverifyError
from cocoverify.registry import detect

__all__ = ["describe", "register"]


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "show", help="print the decoded evidence as JSON (nothing is verified)"
    )
    p.add_argument("evidence", metavar="EVIDENCE")
    p.set_defaults(func=run)


def describe(data: bytes) -> dict[str, Any]:
    """Decoded fields of any evidence kind (unverified)."""
    return detect(data).describe(data)


def run(args: argparse.Namespace) -> int:
    """Print the decoded fields."""
    try:
        out = describe(decode_text(read_evidence(args.evidence)))
    except CocoverifyError as exc:
        write_json(
            {"error": type(exc).__name__, "reason": exc.reason.value, "message": str(exc.args[0])}
        )
        return exc.exit_code
    write_json(out)
    return 0
