"""Bounded reads of input files (docs/security.md "Input limits").

Every file the command line (and ``load_collateral``, ``Policy.from_file``) reads goes through
:func:`read_capped`: a regular file (or ``-``, standard input) of at most ``limit`` bytes,
read without first taking the whole file. A FIFO, device, directory or socket is refused
before anything is read (``/dev/zero`` never fills memory, a FIFO never blocks). Errors
are the input's own class, so the exit code follows the input:

=============  =========================================  ====
kind           error                                      exit
=============  =========================================  ====
``evidence``   ``MalformedEvidence`` (``malformed``)      2
``collateral`` ``CollateralInvalid`` (``collateral_malformed``) 4
``policy``     ``ConfigurationError`` (``invalid_policy``)      1
``argument``   ``ConfigurationError`` (``invalid_argument``)    1
=============  =========================================  ====

An ``OSError`` of ``open`` (no such file, permission) is raised unchanged: each caller
already maps it to its own message and class.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from typing import Literal

from cocoverify.errors import (
    CocoverifyError,
    CollateralInvalid,
    ConfigurationError,
    MalformedEvidence,
    Reason,
)

__all__ = [
    "ARGUMENT_LIMIT",
    "COLLATERAL_LIMIT",
    "EVIDENCE_LIMIT",
    "LIST_LIMIT",
    "MAX_NESTING",
    "POLICY_LIMIT",
    "InputKind",
    "input_error",
    "nesting_depth",
    "read_capped",
]

MiB = 1 << 20

#: Evidence (raw, hex, base64 or JSON such as trustee's with an event log) and event logs.
#: The largest real evidence known is 64 KiB (a CCEL log as JSON); 8 MiB leaves 128x.
EVIDENCE_LIMIT = 8 * MiB
#: One collateral file (a certificate chain, CRL, TCB Info, a dcap-qvl collateral JSON,
#: a CCA trust-anchor store). Real ones are below 200 KiB.
COLLATERAL_LIMIT = 16 * MiB
#: A policy file (JSON or YAML).
POLICY_LIMIT = 1 * MiB
#: Other files named by an argument: trust roots, EAR key, Rego policy, reference values.
ARGUMENT_LIMIT = 4 * MiB
#: A list of inputs (batch manifests and path lists).
LIST_LIMIT = 64 * MiB

InputKind = Literal["evidence", "collateral", "policy", "argument"]

_CHUNK = 1 << 20


def _size(n: int) -> str:
    return f"{n // MiB} MiB" if n % MiB == 0 else f"{n} bytes"


def input_error(kind: InputKind, message: str) -> CocoverifyError:
    """The error of ``kind``'s class for an input that cannot be read as one."""
    if kind == "evidence":
        return MalformedEvidence(message, reason=Reason.MALFORMED)
    if kind == "collateral":
        return CollateralInvalid(message, reason=Reason.COLLATERAL_MALFORMED)
    if kind == "policy":
        return ConfigurationError(message, reason=Reason.INVALID_POLICY)
    return ConfigurationError(message, reason=Reason.INVALID_ARGUMENT)


def _too_large(kind: InputKind, name: str, limit: int) -> CocoverifyError:
    return input_error(
        kind,
        f'{kind} {name}: larger than the {_size(limit)} limit (docs/security.md "Input limits")',
    )


def _read_fd(fd: int, limit: int, size: int) -> bytes:
    """At most ``limit + 1`` bytes of ``fd`` (one more than allowed shows an excess);
    ``size`` from fstat: one read of ``size + 1`` bytes is enough unless the file grew."""
    left = limit + 1
    first = os.read(fd, min(size + 1, left))
    if len(first) <= size:  # short of what was asked: the end of the file
        return first
    parts = [first]
    left -= len(first)
    while left > 0:
        chunk = os.read(fd, min(left, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def read_capped(
    path: str | os.PathLike[str], limit: int, *, kind: InputKind, stdin: bool = False
) -> bytes:
    """The bytes of regular file ``path`` (with ``stdin``, ``-`` is standard input), at
    most ``limit``.

    Larger, or not a regular file (FIFO, device, directory, socket): the error of
    ``kind``'s class (:func:`input_error`) naming the limit or the file type.
    """
    name = os.fspath(path)
    if stdin and name == "-":
        data: bytes = sys.stdin.buffer.read(limit + 1)  # reads until limit + 1 or EOF
        if len(data) > limit:
            raise _too_large(kind, "<stdin>", limit)
        return data
    # O_NONBLOCK: opening a FIFO with no writer returns at once (then refused below)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(name, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            what = _file_type(st) + ("; pipe into - instead" if stdin else "")
            raise input_error(kind, f"{kind} {name}: not a regular file ({what})")
        if st.st_size > limit:  # refused before reading (a sparse 2 GB file answers at once)
            raise _too_large(kind, name, limit)
        data = _read_fd(fd, limit, st.st_size)
    finally:
        os.close(fd)
    if len(data) > limit:  # the file grew while it was read
        raise _too_large(kind, name, limit)
    return data


def _file_type(st: os.stat_result) -> str:
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


#: Deepest ``[``/``{`` nesting a policy document may have (real ones nest 4 or 5 deep).
MAX_NESTING = 64

# brackets, and what hides them: JSON/YAML double-quoted strings, YAML single-quoted strings
# (opened only where a token starts) and YAML comments
_NEST_TOKENS = re.compile(
    rb"[\[\]{}]"
    rb'|"(?:[^"\\]|\\.)*"?'
    rb"|(?:^|(?<=[\s\[{,:?-]))'(?:[^']|'')*'?"
    rb"|(?:^|(?<=\s))#[^\n]*",
    re.MULTILINE | re.DOTALL,
)


def nesting_depth(text: bytes, *, stop_above: int | None = None) -> int:
    """The deepest ``[``/``{`` nesting of JSON or YAML flow text, found in one linear pass
    before parsing (YAML's pure-Python scanner is quadratic in it: 10^5 levels took
    seconds before its RecursionError). Exact for JSON; for YAML an upper bound except
    where a block scalar holds a bracket, which never hides a flow collection's depth.
    ``stop_above``: return as soon as the depth exceeds it."""
    depth = deepest = 0
    for m in _NEST_TOKENS.finditer(text):
        c = m.group()
        if c in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if stop_above is not None and deepest > stop_above:
                break
        elif c in (b"]", b"}"):
            depth = max(depth - 1, 0)
    return deepest
