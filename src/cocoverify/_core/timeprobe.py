"""Verification times that record what they are compared with, so a warm path can reuse a
pipeline run for every time at which each comparison has the same outcome.

A pipeline runs once with the time as a probe: ``TimeProbe`` (an ``int`` of microseconds)
or ``DateTimeProbe`` (an aware ``datetime``). Each comparison with a plain number or
datetime is recorded; between two consecutive recorded values every comparison has one
outcome, so the pipeline takes the same path and returns the same appraisal. Any other use
of the probe (hashing, arithmetic, formatting, conversion, attribute reads) taints it, and
a tainted probe gives no interval.
"""

from __future__ import annotations

import datetime as _dt
import operator
from collections.abc import Iterable
from typing import Any

__all__ = ["DateTimeProbe", "TimeProbe", "interval_of"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MICROSECOND = _dt.timedelta(microseconds=1)


def interval_of(at: int, seen: Iterable[int]) -> tuple[int, int]:
    """``[lo, hi)``: the numbers at which every comparison of ``at`` with each of ``seen``
    has the outcome it has for ``at``."""
    lo, hi = -(1 << 80), 1 << 80
    for b in seen:
        if at < b:
            hi = min(hi, b)
        elif at == b:
            lo, hi = max(lo, b), min(hi, b + 1)
        else:
            lo = max(lo, b + 1)
    return lo, hi


def _tainting(name: str) -> Any:
    base = getattr(int, name)

    def method(self: TimeProbe, *args: Any) -> Any:
        self.tainted = True
        return base(self.value, *args)

    method.__name__ = name
    return method


def _comparing(op: Any) -> Any:
    def method(self: TimeProbe, other: object) -> Any:
        if type(other) is int:
            self.seen.append(other)
        else:
            self.tainted = True
        return op(self.value, other)

    return method


class TimeProbe(int):
    """A verification time (microseconds) that records what it is compared with."""

    value: int
    seen: list[int]
    tainted: bool

    def __new__(cls, value: int) -> TimeProbe:
        probe = int.__new__(cls, value)
        probe.value = int(value)
        probe.seen = []
        probe.tainted = False
        return probe

    # Python tries a subclass's reflected comparison first (``b < probe`` calls
    # ``probe.__gt__(b)``), so every comparison with an int lands here.
    __lt__ = _comparing(operator.lt)
    __le__ = _comparing(operator.le)
    __gt__ = _comparing(operator.gt)
    __ge__ = _comparing(operator.ge)
    __eq__ = _comparing(operator.eq)
    __ne__ = _comparing(operator.ne)

    for _name in [
        "__hash__",
        "__bool__",
        "__int__",
        "__index__",
        "__float__",
        "__format__",
        "__repr__",
        "__str__",
        "__add__",
        "__radd__",
        "__sub__",
        "__rsub__",
        "__mul__",
        "__rmul__",
        "__floordiv__",
        "__rfloordiv__",
        "__truediv__",
        "__rtruediv__",
        "__mod__",
        "__rmod__",
        "__divmod__",
        "__rdivmod__",
        "__pow__",
        "__rpow__",
        "__neg__",
        "__pos__",
        "__abs__",
        "__invert__",
        "__and__",
        "__rand__",
        "__or__",
        "__ror__",
        "__xor__",
        "__rxor__",
        "__lshift__",
        "__rlshift__",
        "__rshift__",
        "__rrshift__",
        "__round__",
        "__trunc__",
        "__floor__",
        "__ceil__",
        "to_bytes",
        "bit_length",
    ]:
        locals()[_name] = _tainting(_name)
    del _name

    def interval(self) -> tuple[int, int] | None:
        """``[lo, hi)``: the times at which every recorded comparison has the outcome it had
        (None when the probe was used otherwise)."""
        if self.tainted:
            return None
        return interval_of(self.value, self.seen)


def _us(t: _dt.datetime) -> int:
    return (t - _EPOCH) // _MICROSECOND


#: What a ``DateTimeProbe`` may read of itself without tainting.
_OWN = frozenset({"seen", "tainted", "interval", "__class__", "__dict__"})


def _dt_comparing(op: Any) -> Any:
    base = getattr(_dt.datetime, op)

    def method(self: DateTimeProbe, other: object) -> Any:
        d = object.__getattribute__(self, "__dict__")
        if type(other) is _dt.datetime and other.tzinfo is not None:
            d["seen"].append(other)
        else:
            d["tainted"] = True
        return base(self, other)

    method.__name__ = op
    return method


def _dt_tainting(name: str) -> Any:
    base = getattr(_dt.datetime, name)

    def method(self: DateTimeProbe, *args: Any) -> Any:
        object.__getattribute__(self, "__dict__")["tainted"] = True
        return base(self, *args)

    method.__name__ = name
    return method


class DateTimeProbe(_dt.datetime):
    """An aware verification time that records the aware datetimes it is compared with.
    Reading any attribute, arithmetic, hashing or formatting taints it."""

    seen: list[_dt.datetime]
    tainted: bool

    def __new__(cls, at: _dt.datetime) -> DateTimeProbe:
        if at.tzinfo is None:
            raise ValueError("DateTimeProbe needs an aware datetime")
        probe = _dt.datetime.__new__(
            cls,
            at.year,
            at.month,
            at.day,
            at.hour,
            at.minute,
            at.second,
            at.microsecond,
            at.tzinfo,
            fold=at.fold,
        )
        d = object.__getattribute__(probe, "__dict__")
        d["seen"] = []
        d["tainted"] = False
        return probe

    def __getattribute__(self, name: str) -> Any:
        if name not in _OWN:
            object.__getattribute__(self, "__dict__")["tainted"] = True
        return object.__getattribute__(self, name)

    # the reflected comparison of a subclass is tried first (``b < probe`` calls
    # ``probe.__gt__(b)``), so every comparison with a datetime lands here
    __lt__ = _dt_comparing("__lt__")
    __le__ = _dt_comparing("__le__")
    __gt__ = _dt_comparing("__gt__")
    __ge__ = _dt_comparing("__ge__")
    __eq__ = _dt_comparing("__eq__")
    __ne__ = _dt_comparing("__ne__")

    for _name in [
        "__hash__",
        "__add__",
        "__radd__",
        "__sub__",
        "__rsub__",
        "__format__",
        "__repr__",
        "__str__",
        "__reduce__",
        "__reduce_ex__",
    ]:
        locals()[_name] = _dt_tainting(_name)
    del _name

    def interval(self) -> tuple[int, int] | None:
        """``[lo, hi)`` in microseconds since the epoch: the times at which every recorded
        comparison has the outcome it had (None when the probe was used otherwise)."""
        d = object.__getattribute__(self, "__dict__")
        if d["tainted"]:
            return None
        plain = _dt.datetime(
            *(_dt.datetime.timetuple(self)[:6]),
            _dt.datetime.__getattribute__(self, "microsecond"),
            tzinfo=_dt.datetime.__getattribute__(self, "tzinfo"),
        )
        return interval_of(_us(plain), (_us(b) for b in d["seen"]))
