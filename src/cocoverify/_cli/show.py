"""``cocoverify show``: decoded evidence fields, no verification."""

from __future__ import annotations

import argparse
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
        from .._pipelines.amd import split_evidence
        from ..appraise.amd import product_from_cpuid, report_claims

        report, _table = split_evidence(data)
        fam, model = getattr(report, "cpuid_fam_id", None), getattr(report, "cpuid_mod_id", None)
        product = product_from_cpuid(fam, model) if fam is not None and model is not None else None
        # v2 reports carry no CPUID: TCB fields are decoded with the Milan/Genoa layout
        claims = report_claims(report, product or "Milan")
        return {"kind": "snp", "verified": False, "product": product, "claims": to_jsonable(claims)}
    from ..evidence import cca

    token = cca.parse_token(data)
    return {"kind": "cca", "verified": False, "claims": to_jsonable(token.to_claims())}


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
