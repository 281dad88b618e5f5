"""Command line: a thin layer over the public API.

Exit codes (a contract for scripts and CI pipelines):
0 accepted; 1 usage or internal error; 2 evidence malformed or unsupported; 3 not authentic;
4 collateral missing or invalid; 5 authentic but rejected by policy.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from cocoverify.errors import CocoverifyError

__all__ = ["main"]

EXIT_OK, EXIT_USAGE, EXIT_EVIDENCE, EXIT_AUTH, EXIT_COLLATERAL, EXIT_POLICY = range(6)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cocoverify`` command."""
    try:
        # imported here: loading the verifier selects the backend, and a bad
        # COCOVERIFY_BACKEND must be a usage error (exit 1), not a traceback
        from cocoverify.cli.app import run
    except CocoverifyError as exc:
        print(f"cocoverify: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run(argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
