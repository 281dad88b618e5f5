"""Rendering results for people (text) and programs (JSON)."""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO

from cocoverify.batch import KEY_CLAIMS
from cocoverify.errors import CocoverifyError, CollateralUnavailable, MissingCollateral
from cocoverify.result import VerificationResult

__all__ = ["error_dict", "render_text", "use_colour", "write_json"]


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def error_dict(exc: CocoverifyError, tee: str | None) -> dict[str, Any]:
    """The JSON object for a rejection; includes claims whenever evidence was authenticated."""
    if exc.result is not None:
        out = exc.result.to_dict()
    else:
        out = {
            "accepted": False,
            "tee": tee,
            "reason": None,
            "tcb_status": None,
            "advisory_ids": [],
            "claims": None,
        }
    out["accepted"] = False
    out["reason"] = exc.reason.value
    out["error"] = type(exc).__name__
    out["message"] = str(exc.args[0]) if exc.args else ""
    out["exit_code"] = exc.exit_code
    if isinstance(exc, CollateralUnavailable) and exc.missing:
        out["missing"] = [_missing_dict(m) for m in exc.missing]
    return out


def _missing_dict(m: MissingCollateral) -> dict[str, Any]:
    return {"item": m.item, "tee": m.tee, "ids": dict(m.ids), "url": m.url, "note": m.note or None}


def _missing_lines(error: CollateralUnavailable, source: str) -> list[str]:
    """The missing collateral, one piece per entry with its identifiers and URL, and the
    command that fetches it all."""
    lines = [f"  missing collateral ({len(error.missing)}):"]
    for m in error.missing:
        ids = "  ".join(f"{k}={v}" for k, v in m.ids)
        lines.append(f"    - {m.item}" + (f"  {ids}" if ids else ""))
        if m.url:
            lines.append(f"      {m.url}")
        if m.note:
            lines.append(f"      ({m.note})")
    lines.append(
        f"  fetch it all: cocoverify fetch {source} -o DIR, "
        f"then: cocoverify verify {source} --collateral DIR (or: verify --online)"
    )
    return lines


def write_json(obj: Any, stream: TextIO | None = None) -> None:
    """One JSON document on one line."""
    (stream or sys.stdout).write(json.dumps(obj, sort_keys=False, separators=(",", ":")) + "\n")


def _c(text: str, code: str, colour: bool) -> str:
    return f"\033[{code}m{text}\033[0m" if colour else text


def render_text(
    result: VerificationResult | None,
    *,
    error: CocoverifyError | None,
    tee: str | None,
    source: str,
    colour: bool,
) -> str:
    """One verdict line, then the reasons and key facts."""
    lines = []
    if error is None and result is not None:
        head = _c("ACCEPTED", "1;32", colour)
        lines.append(f"{head} {source}: {result.tee} evidence, TCB {result.tcb_status or 'n/a'}")
    else:
        assert error is not None
        head = _c("REJECTED", "1;31", colour)
        lines.append(f"{head} {source}: {tee or 'unknown'} evidence: {error.reason.value}")
        message = str(error.args[0]) if error.args else error.reason.value
        if isinstance(error, CollateralUnavailable) and error.missing:
            # the list below says the rest of the message, readably
            lines.append(f"  reason: {message.split('; missing collateral: ')[0]}")
            lines.extend(_missing_lines(error, source))
        else:
            lines.append(f"  reason: {message}")
    if result is not None:
        if result.tcb_status is not None or result.advisory_ids:
            adv = ", ".join(result.advisory_ids) or "none"
            lines.append(f"  tcb status: {result.tcb_status}  advisories: {adv}")
        failed = result.failed_rules()
        for v in failed:
            lines.append("  " + _c("x", "31", colour) + f" {v.rule}: {v.message or 'failed'}")
        passed = [v.rule for v in result.policy if v.passed]
        if passed:
            lines.append("  " + _c("ok", "32", colour) + " " + ", ".join(passed))
        for name in KEY_CLAIMS:
            if name in result.claims:
                value = result.claims[name]
                shown = value.hex() if isinstance(value, bytes) else str(value)
                lines.append(f"  {name}: {shown}")
        for w in result.warnings:
            lines.append("  " + _c("warning", "33", colour) + f": {w}")
        lines.append(f"  verified at: {result.to_dict()['verified_at']}")
    return "\n".join(lines)
