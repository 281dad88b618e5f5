"""``cocoverify policy check``: every error of a policy file in one run, each located.

The document is built with :meth:`Policy.from_dict` (the same validation as loading, so check
and load never disagree). On an error its key path (the message's first field, as for
``from_file``) is located and that key is taken out of the document (the whole top-level key,
or the one key inside a TEE section), and the rest is validated again, until the remainder
builds. Every duplicated key is an error too (``files.parse_with_duplicates``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from cocoverify._core.io import MAX_NESTING, nesting_depth
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.policy import Policy
from cocoverify.policy.files import locate, parse_with_duplicates, read_policy

__all__ = ["PolicyProblem", "check_file", "check_text"]

#: at most this many errors are collected (each one removes a key: a bound on the loop)
MAX_ERRORS = 200


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One error: where (``FILE:LINE``), the message and the key path."""

    where: str
    message: str
    path: str | None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _drop(doc: dict[str, Any], path: str) -> bool:
    """Remove what ``path`` (``tdx.mr_td[0]``) names from ``doc``; False when nothing is."""
    parts = re.findall(r"[^.\[\]]+", path)
    if not parts or parts[0] not in doc:
        return False
    top = parts[0]
    section = doc[top]
    if len(parts) > 1 and isinstance(section, dict) and parts[1] in section and len(section) > 1:
        doc[top] = {k: v for k, v in section.items() if k != parts[1]}
    else:
        del doc[top]
    return True


def check_text(text: bytes, source: str) -> tuple[Policy | None, list[PolicyProblem]]:
    """The policy (None when any error) and every error found, in document order."""
    if nesting_depth(text, stop_above=MAX_NESTING) > MAX_NESTING:
        return None, [PolicyProblem(source, f"nested deeper than {MAX_NESTING} levels", None)]
    try:
        doc, duplicates = parse_with_duplicates(text, source)
    except ConfigurationError as exc:
        return None, [PolicyProblem(source, _strip(str(exc.args[0]), source), None)]
    except RecursionError:  # YAML block nesting (indentation) deeper than Python's stack
        return None, [PolicyProblem(source, "nested too deeply", None)]
    problems = [
        PolicyProblem(
            f"{source}:{d.second}" if d.second else source, _strip(str(e.args[0]), source), d.key
        )
        for d in duplicates
        for e in [d.error(source)]
    ]
    if doc is not None and not isinstance(doc, dict):
        problems.append(PolicyProblem(source, "policy: expected a mapping", None))
        return None, problems
    remaining: dict[str, Any] = dict(doc or {})
    policy: Policy | None = None
    for _ in range(MAX_ERRORS):
        try:
            policy = Policy.from_dict(remaining)
            break
        except ConfigurationError as exc:
            message = str(exc.args[0])
            path = message.split(":", 1)[0]
            line = locate(text, path)
            problems.append(PolicyProblem(f"{source}:{line}" if line else source, message, path))
            if not _drop(remaining, path):
                break
    problems.sort(key=lambda p: _line(p.where))
    return (policy if not problems else None), problems


def _strip(message: str, source: str) -> str:
    """A message without its ``SOURCE[:LINE]:`` prefix (the problem carries it)."""
    return re.sub(r"^" + re.escape(source) + r"(:\d+)?: ", "", message)


def _line(where: str) -> int:
    tail = where.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def check_file(path: str | os.PathLike[str]) -> tuple[Policy | None, list[PolicyProblem]]:
    """:func:`check_text` of a file; an unreadable file is one problem."""
    source = os.fspath(path)
    try:
        text = read_policy(path)
    except OSError as exc:
        return None, [PolicyProblem(source, str(exc.strerror), None)]
    except ConfigurationError as exc:  # too large, or not a regular file
        return None, [PolicyProblem(source, _strip(str(exc.args[0]), source), None)]
    return check_text(text, source)


def first_error(problems: list[PolicyProblem]) -> ConfigurationError:
    """The first problem as the error loading raises (``invalid_policy``)."""
    p = problems[0]
    return ConfigurationError(str(p), reason=Reason.INVALID_POLICY)
