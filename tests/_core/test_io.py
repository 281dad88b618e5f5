"""Bounded reads (cocoverify._core.io, docs/security.md "Input limits").

Issue 11 regressions: a 2 GB file, ``/dev/zero``, a FIFO or a directory given as evidence,
collateral or policy was read whole (or forever); each is now refused at once, with the
error class of the input it was given as.
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

import pytest

from cocoverify import CollateralInvalid, ConfigurationError, MalformedEvidence, Reason
from cocoverify._core.io import (
    EVIDENCE_LIMIT,
    MAX_NESTING,
    InputKind,
    nesting_depth,
    read_capped,
)

KINDS: dict[InputKind, tuple[type[Exception], Reason]] = {
    "evidence": (MalformedEvidence, Reason.MALFORMED),
    "collateral": (CollateralInvalid, Reason.COLLATERAL_MALFORMED),
    "policy": (ConfigurationError, Reason.INVALID_POLICY),
    "argument": (ConfigurationError, Reason.INVALID_ARGUMENT),
}


def _special(kind: str, tmp_path: Path) -> str:
    if kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)  # no writer: opening it without O_NONBLOCK would block forever
        return str(path)
    if kind == "directory":
        return str(tmp_path)
    if kind == "sparse_2g":
        path = tmp_path / "sparse.bin"
        with open(path, "wb") as fh:
            fh.truncate(2 << 30)
        return str(path)
    assert kind == "dev_zero"
    return "/dev/zero"


@pytest.mark.parametrize("special", ["fifo", "directory", "sparse_2g", "dev_zero"])
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_special_and_huge_files_are_refused_at_once(
    kind: InputKind, special: str, tmp_path: Path
) -> None:
    if special == "dev_zero" and not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero on this system")
    path = _special(special, tmp_path)
    cls, reason = KINDS[kind]
    start = time.monotonic()
    with pytest.raises(cls) as ei:
        read_capped(path, 1 << 20, kind=kind)
    assert time.monotonic() - start < 2.0
    assert ei.value.reason is reason  # type: ignore[attr-defined]
    message = str(ei.value)
    assert (
        ("1 MiB limit" in message) if special == "sparse_2g" else ("not a regular file" in message)
    )


def test_limit_is_inclusive(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)
    assert read_capped(path, 100, kind="evidence") == b"x" * 100
    with pytest.raises(MalformedEvidence, match="99 bytes limit"):
        read_capped(path, 99, kind="evidence")


def test_missing_file_is_the_callers_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_capped(tmp_path / "absent", 10, kind="collateral")


def test_stdin_is_capped_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"y" * 11)))
    with pytest.raises(MalformedEvidence, match="<stdin>: larger than"):
        read_capped("-", 10, kind="evidence", stdin=True)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"y" * 10)))
    assert read_capped("-", 10, kind="evidence", stdin=True) == b"y" * 10


def test_dash_is_a_file_name_unless_stdin_is_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-").write_bytes(b"file")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"stdin")))
    assert read_capped("-", 10, kind="policy") == b"file"


def test_evidence_limit_leaves_a_wide_margin_over_real_evidence() -> None:
    """The largest real evidence (a trustee CCEL JSON) is 64 KiB; the limit is 128 times it."""
    assert EVIDENCE_LIMIT >= 128 * 64 * 1024


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[[[", "b": "\\"[["}', 1),
        (b"a: it's [x]\n", 1),
        (b"a: '[[[' # [[[\nb: [[1]]\n", 2),
        (b"key: value]]]]\nb: [[1]]\n", 2),
    ],
)
def test_nesting_depth(text: bytes, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_nesting_depth_stops_early() -> None:
    start = time.monotonic()
    assert nesting_depth(b"[" * (1 << 20), stop_above=MAX_NESTING) == MAX_NESTING + 1
    assert time.monotonic() - start < 0.5


def test_a_file_larger_than_fstat_says_is_read_whole_and_capped() -> None:
    """/proc files say size 0 (as a file that grew after fstat would be short)."""
    if not os.path.isfile("/proc/self/status"):
        pytest.skip("no /proc on this system")
    assert b"Name:" in read_capped("/proc/self/status", 1 << 20, kind="evidence")
    with pytest.raises(MalformedEvidence, match="limit"):
        read_capped("/proc/self/status", 10, kind="evidence")
