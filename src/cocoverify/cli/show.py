"""``cocoverify show``: decoded evidence or collateral, grouped for people; nothing verified.

Text by default (``show_text.render``), ``--format json`` for scripts: the ``describe``
dictionary of the evidence's TEE package (``kind``, ``verified``, ``claims`` as before, plus the
groups). A file that is no evidence is tried as collateral (``show_collateral``); neither is
exit 2 (unknown_format). A TDX quote with its event log (``--event-log``, or trustee's TDX
evidence JSON with ``cc_eventlog`` / ``aa_eventlog``) also shows the events and the RTMRs
replayed from them next to the quote's (``show_eventlog``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from cocoverify._core.io import EVIDENCE_LIMIT, read_capped
from cocoverify._core.text import decode_text
from cocoverify.cli.output import write_json
from cocoverify.cli.show_collateral import describe_collateral
from cocoverify.cli.show_eventlog import aael_view, event_log_view
from cocoverify.cli.show_text import cert_role, render
from cocoverify.cli.verify import read_evidence
from cocoverify.errors import CocoverifyError, ConfigurationError, EvidenceError, Reason
from cocoverify.registry import detect
from cocoverify.wrappers.azure import KINDS as AZURE_KINDS
from cocoverify.wrappers.azure.parse import parse_evidence as parse_azure
from cocoverify.wrappers.azure.parse import parse_hcl
from cocoverify.wrappers.tdx_eventlog import trustee_evidence

__all__ = ["describe", "register"]


def register(sub: Any) -> None:
    """Add the subcommand."""
    p: argparse.ArgumentParser = sub.add_parser(
        "show",
        help="print decoded evidence or collateral (nothing is verified)",
        description="Decode evidence (any supported kind) or a collateral file and print its "
        "fields grouped for people; nothing is verified. Exit 0, or 2 when the file is "
        "neither evidence nor collateral of a known kind.",
    )
    p.add_argument("evidence", metavar="FILE", help="evidence or collateral file, or - for stdin")
    p.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text for people (default) or json for scripts",
    )
    p.add_argument(
        "--event-log",
        metavar="FILE",
        help="TDX: the CC event log (CCEL, binary or base64): show its events and the RTMRs "
        "replayed from it next to the quote's",
    )
    p.add_argument("--aa-event-log", metavar="FILE", help="TDX: a legacy text AA event log (RTMR3)")
    p.set_defaults(func=run)


def _with_roles(doc: dict[str, Any]) -> dict[str, Any]:
    for cert in doc.get("certificates") or ():
        if isinstance(cert, dict) and "role" not in cert:
            cert["role"] = cert_role(cert)
    return doc


def _azure(data: bytes, doc: dict[str, Any]) -> None:
    """Azure evidence: the hardware report inside (SNP report or TD quote), described too."""
    ev = parse_azure(data)
    hw = ev.td_quote if ev.td_quote is not None else parse_hcl(ev.hcl_report).hw_report
    try:
        doc["hardware_report"] = _with_roles(detect(hw).describe(hw))
    except CocoverifyError as exc:
        doc["hardware_report"] = {"error": exc.reason.value, "message": str(exc.args[0])}


def describe(
    data: bytes,
    *,
    source: str = "<bytes>",
    event_log: bytes | None = None,
    aa_event_log: bytes | None = None,
) -> dict[str, Any]:
    """Decoded fields of any evidence kind, or of a collateral file (unverified).

    ``data`` as read: hex or base64 text of evidence is decoded here; collateral is
    recognised from the bytes as they are (PEM would pass for base64)."""
    raw, data = data, decode_text(data)
    trustee = trustee_evidence(data)
    if trustee is not None:
        data, ccel, aael = trustee
        event_log = event_log if event_log is not None else ccel
        aa_event_log = aa_event_log if aa_event_log is not None else aael
    try:
        spec = detect(data)
    except EvidenceError:
        if event_log is not None or aa_event_log is not None:
            raise
        return describe_collateral(raw, source)
    doc = _with_roles(spec.describe(data))
    if doc.get("kind") in AZURE_KINDS:
        _azure(data, doc)
    if event_log is not None or aa_event_log is not None:
        if doc.get("kind") != "tdx":
            raise EvidenceError(
                f"an event log goes with a TDX quote; this evidence is {doc.get('kind')}",
                reason=Reason.UNSUPPORTED_TEE_TYPE,
            )
        claims = doc["claims"]
        quoted = {f"rtmr{i}": str(claims[f"rtmr{i}"]) for i in range(4)}
        if event_log is not None:
            doc.update(event_log_view(event_log, quoted))
        if aa_event_log is not None:
            doc["aa_event_log"] = aael_view(aa_event_log, quoted["rtmr3"])
    return doc


def _read(path: str | None, what: str, *, text: bool) -> bytes | None:
    if path is None:
        return None
    try:  # capped, regular files only (docs/security.md "Input limits")
        raw = read_capped(path, EVIDENCE_LIMIT, kind="argument")
    except OSError as exc:
        raise ConfigurationError(
            f"{what} {path}: {exc.strerror}", reason=Reason.INVALID_ARGUMENT
        ) from None
    return raw if text else decode_text(raw)


def run(args: argparse.Namespace) -> int:
    """Print the decoded fields (text or JSON); 2 for input of no known kind."""
    try:
        raw = read_evidence(args.evidence)
    except OSError as exc:
        print(f"cocoverify: {args.evidence}: {exc.strerror}", file=sys.stderr)
        return 1
    event_log = _read(args.event_log, "--event-log", text=False)
    aa_event_log = _read(args.aa_event_log, "--aa-event-log", text=True)
    try:
        out = describe(raw, source=args.evidence, event_log=event_log, aa_event_log=aa_event_log)
    except CocoverifyError as exc:
        if args.format == "json":
            write_json(
                {
                    "error": type(exc).__name__,
                    "reason": exc.reason.value,
                    "message": str(exc.args[0]),
                }
            )
        else:
            print(
                f"cocoverify: {args.evidence}: {exc.reason.value}: {exc.args[0]}", file=sys.stderr
            )
        return exc.exit_code
    if args.format == "json":
        write_json(out)
    else:
        print(render(out, args.evidence))
    return 0
