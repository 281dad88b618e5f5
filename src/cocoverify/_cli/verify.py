"""``cocoverify verify``: one evidence file, one verdict, a meaningful exit code."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cryptography import x509

from .. import _api
from ..authenticate.x509util import load_certificates
from ..collateral import load_collateral
from ..errors import CocoverifyError, ConfigurationError, Reason
from ..evidence import decode_text, peek_tee
from ..policy import Policy
from ..trust import TrustStore
from ._output import error_dict, render_text, use_colour, write_json

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "verify",
        help="verify one piece of evidence",
        description="Verify evidence (raw bytes, hex or base64 text; kind detected from content).",
    )
    p.add_argument("evidence", metavar="EVIDENCE", help="evidence file, or - for stdin")
    p.add_argument(
        "--collateral",
        action="append",
        default=[],
        metavar="PATH",
        help="collateral file or directory (repeatable; recognised by content)",
    )
    p.add_argument("--at", metavar="ISO8601", help="verification time (default: now)")
    p.add_argument("--policy", metavar="FILE", help="policy file (JSON or YAML)")
    p.add_argument(
        "--report-data",
        "--nonce",
        dest="report_data",
        metavar="HEX",
        help="expected report data / nonce (hex; zero-padded to the field)",
    )
    p.add_argument(
        "--init-data",
        dest="init_data",
        metavar="HEX",
        help="expected init-data digest (MRCONFIGID / CONFIGID / HOST_DATA / RPV)",
    )
    p.add_argument(
        "--trust-root",
        action="append",
        default=[],
        metavar="PEM",
        help="pin these root certificates instead of the built-in vendor roots "
        "(test PKIs, pre-production); ARK-<product> roots count for AMD",
    )
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=run)


def read_evidence(path: str) -> bytes:
    """Read the evidence file (``-`` = stdin)."""
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as fh:
        return fh.read()


def _trust(paths: list[str]) -> TrustStore | None:
    if not paths:
        return None
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            with open(path, "rb") as fh:
                certs.extend(load_certificates(fh.read(), what=path))
        except OSError as exc:
            raise ConfigurationError(
                f"{path}: {exc.strerror}", reason=Reason.INVALID_TRUST_STORE
            ) from None
    return TrustStore.from_root_certificates(certs)


def run(args: argparse.Namespace) -> int:
    """Verify and print; the exit code is the error class's."""
    try:
        raw = read_evidence(args.evidence)
    except OSError as exc:
        print(f"cocoverify: {args.evidence}: {exc.strerror}", file=sys.stderr)
        return 1
    data = decode_text(raw)
    tee = peek_tee(data)
    result = None
    error: CocoverifyError | None = None
    try:
        policy = Policy.from_file(args.policy) if args.policy else Policy.default()
        collateral = load_collateral(args.collateral)
        trust = _trust(args.trust_root)
        result = _api.verify(
            data,
            collateral=collateral,
            policy=policy,
            at=args.at,
            trust=trust,
            expected_report_data=args.report_data,
            expected_init_data=args.init_data,
        )
    except CocoverifyError as exc:
        error = exc
        result = exc.result
    if args.format == "json":
        if error is None:
            assert result is not None
            write_json(result.to_dict())
        else:
            write_json(error_dict(error, tee))
    else:
        print(
            render_text(
                result, error=error, tee=tee, source=args.evidence, colour=use_colour(sys.stdout)
            )
        )
    return 0 if error is None else error.exit_code
