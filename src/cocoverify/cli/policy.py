"""``cocoverify policy check FILE`` (every error, located) and ``policy init EVIDENCE`` (a
commented policy pinning verified evidence; docs/policy.md)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import cocoverify.api as _api
from cocoverify._core.io import EVIDENCE_LIMIT, read_capped
from cocoverify._core.text import decode_text
from cocoverify.cli.verify import (
    _trust,  # the --trust-root loader verify uses
    read_evidence,
)
from cocoverify.collateral import load_collateral
from cocoverify.errors import CocoverifyError, ConfigurationError, Reason
from cocoverify.policy import Policy, tcb_statuses
from cocoverify.policy.check import check_file
from cocoverify.policy.template import policy_yaml

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser("policy", help="policy file tools")
    psub = p.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = psub.add_parser(
        "check", help="validate a policy file: its normal form, or every error with its line"
    )
    check.add_argument("file", metavar="FILE")
    check.set_defaults(func=run_check)
    init = psub.add_parser(
        "init",
        help="write a commented policy that pins this (verified) evidence",
        description="Verify EVIDENCE (exit with the verification's code when it fails), then "
        "write a YAML policy pinning its measurements and its current TCB status.",
    )
    init.add_argument("evidence", metavar="EVIDENCE", help="evidence file, or - for stdin")
    init.add_argument("--collateral", action="append", default=[], metavar="PATH")
    init.add_argument("--at", metavar="ISO8601", help="verification time (default: now)")
    init.add_argument("--trust-root", action="append", default=[], metavar="PEM")
    init.add_argument("--event-log", metavar="FILE", help="TDX: the CC event log")
    init.add_argument("-o", "--output", metavar="FILE", help="write here (default: stdout)")
    init.set_defaults(func=run_init)


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


def _read(path: str | None) -> bytes | None:
    if path is None:
        return None
    try:  # capped, regular files only (docs/security.md "Input limits")
        return decode_text(read_capped(path, EVIDENCE_LIMIT, kind="argument"))
    except OSError as exc:
        raise ConfigurationError(
            f"--event-log {path}: {exc.strerror}", reason=Reason.INVALID_ARGUMENT
        ) from None


def run_init(args: argparse.Namespace) -> int:
    """Verify, then print or write the policy; the verification's exit code when it fails."""
    try:
        raw = read_evidence(args.evidence)
    except OSError as exc:
        print(f"cocoverify: {args.evidence}: {exc.strerror}", file=sys.stderr)
        return 1
    # the evidence must verify; its TCB status is what the policy accepts, so any status
    # but Revoked passes here (debug evidence and the sections' defaults still reject)
    relaxed = Policy(accepted_tcb_statuses=tcb_statuses() - {"Revoked"})
    try:
        result = _api.verify(
            decode_text(raw),
            collateral=load_collateral(args.collateral),
            policy=relaxed,
            at=args.at,
            trust=_trust(args.trust_root),
            event_log=_read(args.event_log),
        )
    except CocoverifyError as exc:
        if isinstance(exc, ConfigurationError):
            raise
        print(
            f"cocoverify: {args.evidence} does not verify ({exc.reason.value}): {exc.args[0]}",
            file=sys.stderr,
        )
        return exc.exit_code
    text = policy_yaml(result, source=args.evidence)
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise ConfigurationError(
                f"-o {args.output}: {exc.strerror}", reason=Reason.INVALID_ARGUMENT
            ) from None
    else:
        sys.stdout.write(text)
    return 0
