"""``DateTimeProbe`` (_core/timeprobe.py): records the aware datetimes it is compared with,
both ways, and any other use taints it (the warm SNP path then keeps nothing)."""

from __future__ import annotations

import contextlib
import copy
import datetime as _dt
import pickle
from typing import Any

import pytest

from cocoverify._core.timeprobe import DateTimeProbe, interval_of

UTC = _dt.UTC
AT = _dt.datetime(2025, 6, 1, 12, 0, 0, 5, tzinfo=UTC)
US = 1_748_779_200_000_005  # AT in microseconds since the epoch


def _us(t: _dt.datetime) -> int:
    return (t - _dt.datetime(1970, 1, 1, tzinfo=UTC)) // _dt.timedelta(microseconds=1)


def test_us_constant() -> None:
    assert _us(AT) == US


def test_comparisons_both_ways_give_the_interval() -> None:
    p = DateTimeProbe(AT)
    before = AT - _dt.timedelta(days=3)
    after = AT + _dt.timedelta(days=2)
    assert before < p and p < after and not p > after and p >= before
    assert p.interval() == (_us(before) + 1, _us(after))
    q = DateTimeProbe(AT)
    assert q == AT and q <= AT
    assert q.interval() == (US, US + 1)
    assert DateTimeProbe(AT).interval() == (-(1 << 80), 1 << 80)


def test_the_probe_compares_as_its_time() -> None:
    p = DateTimeProbe(AT)
    assert p == AT and not p < AT and isinstance(p, _dt.datetime)


@pytest.mark.parametrize(
    "use",
    [
        hash,
        str,
        repr,
        lambda p: p.year,
        lambda p: p.timestamp(),
        lambda p: p.isoformat(),
        lambda p: p.replace(year=2000),
        lambda p: p - AT,
        lambda p: p + _dt.timedelta(1),
        lambda p: _dt.timedelta(1) + p,
        lambda p: AT - p,
        lambda p: f"{p:%Y}",
        lambda p: p.tzinfo,
        lambda p: p < AT.replace(tzinfo=None),
        copy.copy,
        pickle.dumps,
    ],
)
def test_any_other_use_taints_the_probe(use: Any) -> None:
    p = DateTimeProbe(AT)
    with contextlib.suppress(TypeError):  # naive against aware: still a use
        use(p)
    assert p.interval() is None


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        DateTimeProbe(AT.replace(tzinfo=None))


def test_interval_of() -> None:
    assert interval_of(10, [5, 20, 10]) == (10, 11)
    assert interval_of(10, [5, 20]) == (6, 20)
    assert interval_of(10, []) == (-(1 << 80), 1 << 80)
