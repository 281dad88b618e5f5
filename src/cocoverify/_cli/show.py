"""``cocoverify show``: decoded evidence fields, no verification."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from ..errors import CocoverifyError
from ..evidence import decode_text, detect
from ..result import to_jsonable
from ._output import write_json
from .verify import read_evidence

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
    kind = detect(data)
    if kind == "intel":
        from .._pipelines.intel import quote_claims
        from ..evidence.intel import parse_quote

        q = parse_quote(data)
        return {"kind": q.tee, "verified": False, "claims": to_jsonable(quote_claims(q))}
    if kind == "snp":
        from ..evidence import snp

        view: Any = snp.parse_report(data)
    else:
        from ..evidence import cca

        view = cca.parse_token(data)
    if dataclasses.is_dataclass(view) and not isinstance(view, type):
        fields = dataclasses.asdict(view)
    else:
        fields = vars(view)
    return {"kind": kind, "verified": False, "claims": to_jsonable(fields)}


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
