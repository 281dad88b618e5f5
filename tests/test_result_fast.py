"""``result.fast_constructor``: the hot path's constructors build what the dataclass's own
``__init__`` builds, field for field (a reordered field would fail here)."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from types import MappingProxyType

import pytest

from cocoverify.reasons import Reason
from cocoverify.result import (
    Appraisal,
    RuleVerdict,
    VerificationResult,
    fast_constructor,
    new_appraisal,
)

AT = _dt.datetime(2025, 6, 1, tzinfo=_dt.UTC)


def _values(cls: type) -> dict[str, object]:
    # a distinct value per field, so a swapped pair cannot go unnoticed
    return {f.name: (f.name, i) for i, f in enumerate(dataclasses.fields(cls))}


@pytest.mark.parametrize("cls", [Appraisal, VerificationResult, RuleVerdict])
def test_fast_constructor_sets_every_field_in_order(cls: type) -> None:
    values = _values(cls)
    made = fast_constructor(cls)(*values.values())
    assert type(made) is cls
    assert {n: getattr(made, n) for n in values} == values
    assert made == cls(**values)
    with pytest.raises(ValueError):
        fast_constructor(cls)(*list(values.values())[:-1])


def test_hot_path_constructors_equal_the_keyword_ones() -> None:
    claims = MappingProxyType({"a": b"\x01"})
    values = _values(Appraisal)
    assert new_appraisal(*values.values()) == Appraisal(**values)  # type: ignore[arg-type]
    a = Appraisal(tee="tdx", claims=claims, tcb_status="UpToDate", report_data=b"r", debug=True)
    verdicts = (RuleVerdict("tee", True, actual="tdx"),)
    for reason in (None, Reason.TCB_STATUS_REJECTED):
        fast = VerificationResult.from_appraisal(a, at=AT, verdicts=verdicts, reason=reason)
        slow = VerificationResult(
            accepted=reason is None,
            tee="tdx",
            verified_at=AT,
            reason=reason,
            tcb_status="UpToDate",
            claims=claims,
            policy=verdicts,
        )
        assert fast == slow and fast.to_dict() == slow.to_dict()
