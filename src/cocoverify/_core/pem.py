"""PEM text read block by block, refusing damaged blocks (RFC 7468 section 2 and 3).

Used for collateral files (docs/trust-and-collateral.md "Damaged collateral files"). A
lenient regular expression finds the well-formed blocks and silently passes over a block
without its END line (a truncated download) or with a damaged BEGIN line; this reader names
the line of any such damage instead:

* a boundary line is ``-----BEGIN <label>-----`` or ``-----END <label>-----`` exactly
  (surrounding whitespace allowed); any other line that holds ``BEGIN`` or ``END`` next to
  a run of dashes is a damaged boundary;
* every BEGIN has an END of the same label before the next BEGIN or the end of the text;
  an END without a BEGIN is damage too (the BEGIN line was lost);
* between them: base64 lines only (any line length; whitespace around a line ignored),
  or RFC 1421 header lines (``Proc-Type: ...``) before the base64, and the base64 must
  decode (strictly: no stray characters, correct padding) to at least one byte.

Text outside blocks is explanatory text (RFC 7468 section 5.2), e.g. ``openssl x509 -text``
output or ``subject=`` lines, and is ignored.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass

__all__ = ["PemBlock", "PemError", "read_pem"]

_LABEL = rb"(?:[\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?"
_BOUNDARY = re.compile(rb"-----(BEGIN|END) (" + _LABEL + rb")-----")
_DAMAGED = re.compile(rb"(BEGIN|END).*---|---.*(BEGIN|END)")
_BASE64_LINE = re.compile(rb"[A-Za-z0-9+/=]+")
_HEADER = re.compile(rb"[A-Za-z0-9-]+:.*")


class PemError(ValueError):
    """Damaged PEM text; ``.line`` is the 1-based line of the damage."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


@dataclass(frozen=True, slots=True)
class PemBlock:
    """One block: its label, the decoded bytes, the line of its BEGIN, and the block in
    canonical layout with its own base64 lines (for a PEM loader's own checks)."""

    label: str
    der: bytes
    line: int
    text: bytes


def _boundaries(line: bytes) -> list[tuple[bytes, bytes]] | None:
    """The boundaries a line consists of (one, or an END glued to the next BEGIN as
    ``cat`` makes of a file without its final newline); None if it is no boundary line."""
    found = _BOUNDARY.findall(line)
    if found and b"".join(b"-----" + k + b" " + lab + b"-----" for k, lab in found) == line:
        return found
    return None


#: A run of text: printable ASCII and whitespace (PEM text never holds other bytes).
_TEXT_RUN = re.compile(rb"[\x20-\x7e\t\n\r\f\v]+")
_MARKER = re.compile(rb"-----(?:BEGIN|END) ")


def read_pem(data: bytes) -> list[PemBlock]:
    """Every PEM block of ``data`` in order; PemError on the first damaged one.

    ``data`` may be binary with PEM text inside (a quote's certification data, a CBOR text
    string): each run of text bytes holding a boundary is read from its first boundary to
    the end of its last one; bytes around a run are not PEM text. A byte that is not text
    inside a block ends the run there, so the block has no END line: damaged.
    """
    blocks: list[PemBlock] = []
    for run in _TEXT_RUN.finditer(data):
        text = run.group()
        first = _MARKER.search(text)
        if first is None:
            continue
        last = list(_MARKER.finditer(text))[-1]
        closed = _BOUNDARY.match(text, last.start())
        end = closed.end() if closed else len(text)
        lines_before = data.count(b"\n", 0, run.start() + first.start())
        blocks += _read_run(text[first.start() : end], lines_before)
    return blocks


def _read_run(data: bytes, lines_before: int) -> list[PemBlock]:
    blocks: list[PemBlock] = []
    label: bytes | None = None  # inside a block: its label
    begin = 0
    body: list[bytes] = []
    in_base64 = False
    for number, raw in enumerate(data.split(b"\n"), lines_before + 1):
        line = raw.strip()
        marks = _boundaries(line)
        if marks is None:
            if _DAMAGED.search(line):
                raise PemError(number, "damaged PEM boundary line")
            if label is None:
                continue  # explanatory text
            if _BASE64_LINE.fullmatch(line):
                body.append(line)
                in_base64 = True
            elif not line and not in_base64:
                continue  # the blank line after RFC 1421 headers
            elif _HEADER.fullmatch(line) and not in_base64:
                continue
            else:
                raise PemError(number, f"not base64 inside the block begun at line {begin}")
            continue
        for kind, lab in marks:
            if kind == b"BEGIN":
                if label is not None:
                    raise PemError(begin, f"BEGIN {label.decode()} has no END line")
                label, begin, body, in_base64 = lab, number, [], False
                continue
            if label is None:
                raise PemError(number, f"END {lab.decode()} without a BEGIN line")
            if lab != label:
                raise PemError(
                    number, f"END {lab.decode()} closes BEGIN {label.decode()} (line {begin})"
                )
            try:
                der = binascii.a2b_base64(b"".join(body), strict_mode=True)
            except binascii.Error as exc:
                raise PemError(begin, f"bad base64 in the block ({exc})") from None
            if not der:
                raise PemError(begin, "empty PEM block")
            text = b"-----BEGIN %s-----\n%s\n-----END %s-----\n" % (label, b"\n".join(body), label)
            blocks.append(PemBlock(label.decode(), der, begin, text))
            label = None
    if label is not None:
        raise PemError(begin, f"BEGIN {label.decode()} has no END line (truncated?)")
    return blocks
