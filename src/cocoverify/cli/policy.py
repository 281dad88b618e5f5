"""``cocoverify policy check FILE``: validate a policy file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from cocoverify.policy.check import check_file

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser("policy", help="policy file tools")
    psub = p.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = psub.add_parser("check", help="validate a policy file and print its normal form")
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    """0 and the normalised policy when valid; 1 and every located error otherwise."""
    policy, problems = check_file(args.file)
    if problems or policy is None:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} error(s) in {args.file}", file=sys.stderr)
        return 1
    print(json.dumps(policy.to_dict(), indent=2))
    return 0
