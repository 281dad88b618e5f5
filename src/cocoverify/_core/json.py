"""One strict JSON reader: RFC 8259 §4 names unique, §6 no NaN/Infinity.

Duplicate keys are refused rather than resolved: last-wins (Python) and first-wins (some
Go readers) would let two verifiers read the same document differently.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["loads_strict", "no_duplicates"]


def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing a name that occurs twice in one object (ValueError)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259 §6)")


def loads_strict(text: str | bytes) -> Any:
    """Parse JSON text strictly; ValueError (never RecursionError) on anything else."""
    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
