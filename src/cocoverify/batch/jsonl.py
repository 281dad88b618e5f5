"""The JSON line of a batch record, fast, and the read-only objects records share
(docs/batch.md "Output cost").

:func:`record_line` gives exactly what ``json.JSONEncoder(separators=(",", ":")).encode``
gives (compact, ASCII, keys in insertion order): strings go through the same
``encode_basestring_ascii``, anything unusual through that encoder itself. The ``platform``
object of a record is a :class:`ReadOnlyDict` shared by every record of one platform
(batch/platform.py caches it); it refuses changes and carries its own JSON text, so it is
serialised once per platform, not once per record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any, Final, NoReturn

__all__ = ["ReadOnlyDict", "ReadOnlyList", "read_only", "record_line", "string_text", "value_text"]

#: The CLI's line format: compact separators, ASCII (``ensure_ascii``), insertion order.
ENCODER: Final = json.JSONEncoder(separators=(",", ":"))
_encode = ENCODER.encode
_string: Any = getattr(json.encoder, "c_encode_basestring_ascii", None)
if _string is None:  # no C accelerator: the same function json uses then
    _string = json.encoder.py_encode_basestring_ascii
#: A ``str`` as the encoder writes it (quoted, ASCII).
string_text: Final[Callable[[str], str]] = _string


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(
        "read-only: this object is shared by the batch records of one platform; "
        "copy it first (copy.deepcopy or dict(...))"
    )


class ReadOnlyDict(dict[str, Any]):
    """A ``dict`` that refuses changes, with its JSON text (``json``) computed once."""

    __slots__ = ("json",)
    json: str

    __setitem__ = __delitem__ = setdefault = pop = popitem = clear = update = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_dict, (list(self.items()), self.json))


class ReadOnlyList(list[Any]):
    """A ``list`` that refuses changes."""

    __slots__ = ()

    __setitem__ = __delitem__ = append = extend = insert = remove = _refuse
    pop = clear = sort = reverse = __iadd__ = __imul__ = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadOnlyList, (list(self),))


def _rebuild_dict(items: Iterable[tuple[str, Any]], text: str) -> ReadOnlyDict:
    out = ReadOnlyDict(items)  # dict.__init__ fills it without the refused methods
    out.json = text
    return out


def read_only(value: Any) -> Any:
    """``value`` with its dicts and lists made read-only (deep); the top dict gets its
    JSON text."""
    if isinstance(value, dict):
        out = ReadOnlyDict((k, read_only(v)) for k, v in value.items())
        out.json = _encode(value)
        return out
    if isinstance(value, list):
        return ReadOnlyList(read_only(v) for v in value)
    return value


class _Unusual(Exception):
    """A key the fast path does not write (not a ``str``): the encoder writes the record."""


#: Key texts (``"name":``) seen so far; records have a fixed set of keys. Bounded.
_KEYS: dict[str, str] = {}
_KEYS_MAX: Final = 512


def _key(k: Any) -> str:
    if type(k) is not str:
        raise _Unusual
    text: str = _string(k) + ":"
    if len(_KEYS) < _KEYS_MAX:
        _KEYS[k] = text
    return text


def _object(obj: dict[str, Any]) -> str:
    keys, write = _KEYS, _WRITE
    return (
        "{"
        + ",".join(
            [(keys.get(k) or _key(k)) + write.get(type(v), _encode)(v) for k, v in obj.items()]
        )
        + "}"
    )


def _list(items: list[Any]) -> str:
    if all(type(x) is str for x in items):  # advisory_ids
        return "[" + ",".join(map(_string, items)) + "]"
    return _encode(items)


def _platform(value: ReadOnlyDict) -> str:
    return value.json


#: How the fast path writes a value of each exact type (others: the encoder). bool before
#: int: ``type(True)`` is ``bool``, so the dict keeps them apart.
_WRITE: Final[dict[type, Any]] = {
    str: _string,
    int: int.__repr__,
    bool: {True: "true", False: "false"}.__getitem__,
    type(None): lambda _: "null",
    ReadOnlyDict: _platform,
    dict: _object,
    list: _list,
}


def value_text(value: Any) -> str:
    """Any JSON-ready value as the encoder writes it."""
    try:
        out: str = _WRITE.get(type(value), _encode)(value)
    except _Unusual:
        return _encode(value)
    return out


def record_line(rec: dict[str, Any]) -> str:
    """``rec`` as one compact ASCII JSON text, byte for byte what ``ENCODER.encode(rec)``
    writes."""
    if type(rec) is not dict:
        return _encode(rec)
    try:
        return _object(rec)
    except _Unusual:
        return _encode(rec)
