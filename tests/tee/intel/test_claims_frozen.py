"""``claims.tcb_claims`` builds its read-only mapping directly: equal, value for value and
type for type, to ``freeze`` of the plain dict it replaced."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import pytest

from cocoverify.result import freeze
from cocoverify.tee.intel import claims
from cocoverify.tee.intel.documents import SimpleLevel
from cocoverify.tee.intel.tcb import IntelTcbResult

from _shared.intel import level, tcb_info

D = _dt.datetime(2024, 3, 13, tzinfo=_dt.UTC)


def _old(v: IntelTcbResult, qe_id: str) -> Mapping[str, Any]:
    out: Mapping[str, Any] = freeze(
        {
            "status": v.status,
            "date": v.tcb_date,
            "advisory_ids": list(v.advisory_ids),
            "platform_level": claims._level(v.platform_level),
            "sgx_level": claims._level(v.sgx_level),
            "qe_level": claims._level(v.qe_level),
            "tdx_module_level": claims._level(v.module_level),
            "tdx_module_id": v.module_id,
            "qe_identity_id": qe_id,
        }
    )
    return out


def _typed(value: Any) -> Any:
    """Values with their types, nested (MappingProxyType and tuple kept apart from dict and
    list)."""
    if isinstance(value, Mapping):
        return (type(value), {k: _typed(v) for k, v in value.items()})
    if isinstance(value, tuple | list):
        return (type(value), [_typed(v) for v in value])
    return (type(value), value)


class _Ident:
    id = "TD_QE"


TCB = tcb_info([level(2, 11, [1], "UpToDate", ["INTEL-SA-1", "INTEL-SA-2"])])
QE = SimpleLevel(8, D, "OutOfDate", ("INTEL-SA-3",))


@pytest.mark.parametrize(
    "result",
    [
        IntelTcbResult(
            "OutOfDate",
            ("INTEL-SA-1", "INTEL-SA-3"),
            D,
            TCB.levels[0],
            TCB.levels[0],
            QE,
            QE,
            "TDX_01",
            None,
        ),
        IntelTcbResult("UpToDate", (), D, TCB.levels[0], TCB.levels[0], QE, None, None, None),
        IntelTcbResult(None, (), None, None, None, None, None, None, "no level"),
    ],
)
def test_tcb_claims_equal_freeze(result: IntelTcbResult) -> None:
    new = claims.tcb_claims(result, _Ident())  # type: ignore[arg-type]
    assert isinstance(new, MappingProxyType)
    assert _typed(new) == _typed(_old(result, "TD_QE"))
