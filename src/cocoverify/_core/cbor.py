"""Strict CBOR (RFC 8949): a bounded pre-scan, decoding, and typed reads of decoded maps.

CBOR is decoded by ``cbor2``. Before any byte string is handed to it, a small bounded
header scanner (:func:`check_cbor`) walks the item structure once and rejects what cbor2
tolerates: trailing bytes, indefinite lengths, non-minimal ("non-preferred") argument
encodings, reserved additional-information values, duplicate map keys (compared as
encoded bytes), nesting deeper than 16 and unexpected tags. It produces no values.

The readers below (:func:`bstr`, :func:`tstr`, ...) read integer-keyed claim maps
(RFC 8392 §3, RFC 9052 §3 header maps, RFC 9052 §7 COSE_Key) and raise
:class:`MalformedEvidence` naming the field.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import cbor2

from cocoverify.errors import MalformedEvidence, Reason

__all__ = [
    "MAX_DEPTH",
    "array_of",
    "as_bstr",
    "as_tstr",
    "as_uint",
    "bstr",
    "check_cbor",
    "claim",
    "claim_map",
    "decode_cbor",
    "int_keyed",
    "kind",
    "opt_bstr",
    "opt_choice",
    "opt_tstr",
    "tstr",
]

#: Deepest nesting accepted (arrays, maps and tags count one level each).
MAX_DEPTH = 16
_NO_TAGS: frozenset[int] = frozenset()
_T = TypeVar("_T")


# --- bounded header scanner ------------------------------------------------------------------


def _bad(
    where: str, offset: int, what: str, reason: Reason = Reason.MALFORMED
) -> MalformedEvidence:
    return MalformedEvidence(what, field=where, offset=offset, reason=reason)


def check_cbor(data: bytes, where: str, *, tags: frozenset[int] = _NO_TAGS) -> None:
    """Reject non-deterministic or ambiguous CBOR in ``data`` (one item, nothing after it).

    Checks (RFC 8949 §4.2.1 preferred serialization, §5.6 duplicate keys): definite
    lengths only, shortest argument encoding, no reserved additional information, no
    duplicate map keys, depth <= 16, only the tag numbers in ``tags``.
    """
    end = _scan(data, 0, 0, where, tags)
    if end != len(data):
        raise _bad(where, end, f"{len(data) - end} trailing bytes", Reason.TRAILING_DATA)


def _scan(data: bytes, pos: int, depth: int, where: str, tags: frozenset[int]) -> int:
    if depth > MAX_DEPTH:
        raise _bad(where, pos, f"CBOR nesting deeper than {MAX_DEPTH}")
    if pos >= len(data):
        raise _bad(where, pos, "CBOR item truncated", Reason.TRUNCATED)
    start = pos
    ib = data[pos]
    major, ai = ib >> 5, ib & 0x1F
    pos += 1
    # RFC 8949 §3: additional information 0-23 is the argument, 24-27 a 1/2/4/8-byte one
    if ai < 24:
        arg = ai
    elif ai <= 27:
        n = 1 << (ai - 24)
        if pos + n > len(data):
            raise _bad(where, start, "CBOR argument truncated", Reason.TRUNCATED)
        arg = int.from_bytes(data[pos : pos + n], "big")
        pos += n
        if major == 7:
            if ai == 24 and arg < 32:  # RFC 8949 §3.3
                raise _bad(where, start, "simple value in two bytes")
        elif arg < (24, 0x100, 0x10000, 0x100000000)[ai - 24]:
            raise _bad(where, start, "non-minimal CBOR length/argument encoding")
    elif ai == 31:
        raise _bad(where, start, "indefinite-length CBOR item")
    else:
        raise _bad(where, start, f"reserved CBOR additional information {ai}")
    remaining = len(data) - pos
    if major in (2, 3):
        if arg > remaining:
            raise _bad(where, start, "CBOR string truncated", Reason.TRUNCATED)
        return pos + arg
    if major == 4:
        if arg > remaining:
            raise _bad(where, start, "CBOR array truncated", Reason.TRUNCATED)
        for _ in range(arg):
            pos = _scan(data, pos, depth + 1, where, tags)
        return pos
    if major == 5:
        if 2 * arg > remaining:
            raise _bad(where, start, "CBOR map truncated", Reason.TRUNCATED)
        seen: set[bytes] = set()
        for _ in range(arg):
            key_start = pos
            pos = _scan(data, pos, depth + 1, where, tags)
            key = data[key_start:pos]
            if key in seen:
                raise _bad(where, key_start, "duplicate map key")
            seen.add(key)
            pos = _scan(data, pos, depth + 1, where, tags)
        return pos
    if major == 6:
        if arg not in tags:
            raise _bad(where, start, f"unexpected CBOR tag {arg}")
        return _scan(data, pos, depth + 1, where, tags)
    return pos  # major 0, 1, 7


def decode_cbor(
    data: bytes, where: str, *, tags: frozenset[int] = _NO_TAGS, dense: bool = False
) -> Any:
    """:func:`check_cbor` then decode with cbor2 (strict options, immutable containers).

    ``dense`` (many small items, as in a claim set, where the scanner costs most): first
    try a path as strict as the scanner. cbor2 decodes, and the value is returned when it
    holds only untagged CBOR types and the tags in ``tags``, nests at most 16 deep, and
    cbor2 writes it back as exactly ``data`` (cbor2 writes preferred serialization:
    definite lengths, shortest heads, distinct keys, one item). Anything else, accepted or
    not, goes through the scanner and the decoder, so errors are unchanged.
    """
    if not isinstance(data, bytes):
        raise MalformedEvidence("expected a byte string", field=where)
    if dense:
        try:
            value = cbor2.loads(data, **_LOADS)
        except Exception:  # rejected below, by the scanner or the decoder, with their errors
            pass
        else:
            if _plain(value, tags, 0) and cbor2.dumps(value) == data:
                return value
    check_cbor(data, where, tags=tags)
    try:
        return cbor2.loads(data, **_LOADS)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # e.g. invalid UTF-8 in a text string, keys equal as Python values (1 and 1.0)
        raise MalformedEvidence(f"undecodable CBOR ({exc})", field=where) from None


_LOADS: dict[str, Any] = {
    "allow_indefinite": False,
    "allow_duplicate_keys": False,
    "max_depth": MAX_DEPTH + 2,
    "immutable": True,
}
#: Values cbor2 decodes from, and writes as, untagged items (RFC 8949 §3.1): byte and text
#: strings, false/true/null, floats; integers within the 64-bit argument range.
_UNTAGGED = frozenset({bytes, str, bool, type(None), float})
_INT_MIN, _INT_MAX = -(1 << 64), (1 << 64) - 1


def _plain(value: Any, tags: frozenset[int], depth: int) -> bool:
    """``value`` (at ``depth``) holds only :data:`_UNTAGGED` values, 64-bit integers,
    arrays, maps and ``CBORTag`` s numbered in ``tags``, nested at most 16 deep (the items
    the scanner accepts, depth counted as it does). Anything else (a value cbor2 made of
    a semantic tag, a simple value, a bignum) is not plain."""
    if depth > MAX_DEPTH:
        return False
    t = type(value)
    if t in _UNTAGGED:
        return True
    if t is int:
        return bool(_INT_MIN <= value <= _INT_MAX)
    inner = depth + 1
    items: Iterable[Any]
    if t is tuple or t is list:
        items = value
    elif t is cbor2.frozendict or t is dict:
        items = itertools.chain.from_iterable(value.items())  # keys and values alike
    elif t is cbor2.CBORTag:
        return value.tag in tags and _plain(value.value, tags, inner)
    else:
        return False
    leaves_ok = inner <= MAX_DEPTH
    for item in items:
        ti = type(item)
        if leaves_ok and (ti in _UNTAGGED or (ti is int and _INT_MIN <= item <= _INT_MAX)):
            continue
        if not _plain(item, tags, inner):
            return False
    return True


# --- typed reads of decoded values -----------------------------------------------------------


def kind(value: Any) -> str:
    """The CBOR type of a decoded value, for error messages (``bstr``, ``map``, ``tag 18``)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, bytes):
        return "bstr"
    if isinstance(value, str):
        return "tstr"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, cbor2.CBORTag):
        return f"tag {value.tag}"
    return type(value).__name__


def int_keyed(value: Any, where: str) -> dict[int, Any]:
    """The integer-keyed entries of a CBOR map; text keys are unknown claims and ignored."""
    if not isinstance(value, Mapping):
        raise MalformedEvidence(f"expected a map, got {kind(value)}", field=where)
    out: dict[int, Any] = {}
    for k, v in value.items():
        if type(k) is int:
            out[k] = v
        elif not isinstance(k, str):
            raise MalformedEvidence(f"map key of type {kind(k)}", field=where)
    return out


def claim_map(claims: bytes | Mapping[Any, Any], where: str) -> dict[int, Any]:
    """A claim set given as CBOR bytes (decoded strictly, no tags) or as a decoded map."""
    if isinstance(claims, bytes):
        claims = decode_cbor(claims, where, dense=True)
    return int_keyed(claims, where)


def claim(m: Mapping[int, Any], key: int, where: str) -> Any:
    """The value of a mandatory claim ``key``."""
    if key not in m:
        raise MalformedEvidence(f"mandatory claim {key} missing", field=where)
    return m[key]


def as_bstr(v: Any, where: str, sizes: tuple[int, ...] | None = None) -> bytes:
    """``v`` as a byte string, of one of ``sizes`` when given."""
    if not isinstance(v, bytes):
        raise MalformedEvidence(f"expected bstr, got {kind(v)}", field=where)
    if sizes is not None and len(v) not in sizes:
        raise MalformedEvidence(
            f"{len(v)} bytes, expected {' or '.join(map(str, sizes))}", field=where
        )
    return v


def bstr(m: Mapping[int, Any], key: int, where: str, sizes: tuple[int, ...] | None = None) -> bytes:
    """Mandatory byte-string claim."""
    return as_bstr(claim(m, key, where), where, sizes)


def opt_bstr(
    m: Mapping[int, Any], key: int, where: str, sizes: tuple[int, ...] | None = None
) -> bytes | None:
    """Optional byte-string claim."""
    return None if key not in m else as_bstr(m[key], where, sizes)


def as_tstr(v: Any, where: str) -> str:
    """``v`` as a non-empty text string."""
    if not isinstance(v, str):
        raise MalformedEvidence(f"expected tstr, got {kind(v)}", field=where)
    if not v:
        raise MalformedEvidence("empty text string", field=where)
    return v


def tstr(m: Mapping[int, Any], key: int, where: str) -> str:
    """Mandatory non-empty text claim."""
    return as_tstr(claim(m, key, where), where)


def opt_tstr(m: Mapping[int, Any], key: int, where: str) -> str | None:
    """Optional non-empty text claim."""
    return None if key not in m else as_tstr(m[key], where)


def as_uint(v: Any, where: str) -> int:
    """``v`` as an unsigned integer (a bool is not one)."""
    if type(v) is not int or v < 0:
        raise MalformedEvidence(f"expected uint, got {kind(v)}", field=where)
    return v


def opt_choice(m: Mapping[int, Any], key: int, where: str, choices: tuple[int, ...]) -> int | None:
    """Optional unsigned integer claim that must be one of ``choices``."""
    if key not in m:
        return None
    v = as_uint(m[key], where)
    if v not in choices:
        raise MalformedEvidence(f"value {v} not one of {choices}", field=where)
    return v


def array_of(value: Any, where: str, item: Callable[[Any, str], _T]) -> tuple[_T, ...]:
    """Each element of an array read by ``item(element, "where[i]")``."""
    if not isinstance(value, list | tuple):
        raise MalformedEvidence(f"expected an array, got {kind(value)}", field=where)
    return tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))
