"""TCB Info and QE Identity models (cocoverify.tee.intel.documents): the closed schema, levels
sorted as QVL sorts them (``TcbLevel.cpp operator>``), not as served."""

from __future__ import annotations

import pytest

from cocoverify import CollateralInvalid

from _shared.intel import LEVELS, level, tcb_info


def test_levels_sorted_not_trusted_in_served_order() -> None:
    tcb = tcb_info(list(reversed(LEVELS)))
    assert [lv.status for lv in tcb.levels] == ["UpToDate", "OutOfDate", "ConfigurationNeeded"]


def test_duplicated_levels_rejected() -> None:
    with pytest.raises(CollateralInvalid):
        tcb_info([LEVELS[0], dict(LEVELS[0], tcbStatus="OutOfDate")])


def test_unknown_status_rejected() -> None:
    with pytest.raises(CollateralInvalid):
        tcb_info([level(1, 1, [1], "Great")])
