"""The ``cocoverify`` argument parser and dispatch to one module per subcommand."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import cocoverify.cli.batch as batch
import cocoverify.cli.fetch as fetch
import cocoverify.cli.policy as policy_cmd
import cocoverify.cli.show as show
import cocoverify.cli.verify as verify
from cocoverify import __version__
from cocoverify._backend import describe
from cocoverify.errors import CocoverifyError

__all__ = ["run"]

EXIT_OK, EXIT_USAGE = 0, 1


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="cocoverify",
        description="Verify confidential-computing evidence (Intel SGX/TDX, AMD SEV-SNP, Arm CCA).",
        epilog="exit codes: 0 accepted, 1 usage/internal error, 2 evidence malformed or "
        "unsupported, 3 not authentic, 4 collateral missing/invalid/expired, 5 rejected by policy",
    )
    p.add_argument(
        "--version", action="version", version=f"cocoverify {__version__} ({describe()})"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verify.register(sub)
    show.register(sub)
    policy_cmd.register(sub)
    batch.register(sub)
    fetch.register(sub)
    return p


def run(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand; the exit code."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: 2 on usage errors; the contract says 1
        code = exc.code if isinstance(exc.code, int) else 1
        return EXIT_OK if code == 0 else EXIT_USAGE
    try:
        rc: int = args.func(args)
        return rc
    except CocoverifyError as exc:  # errors outside a verification (e.g. a bad policy file)
        print(f"cocoverify: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_USAGE
    except Exception as exc:
        print(f"cocoverify: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE
