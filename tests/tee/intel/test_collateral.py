"""TCB Info and QE Identity documents (cocoverify.tee.intel.collateral): strict models, the
signed-JSON envelope, and which document a quote uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from cocoverify import (
    Collateral,
    CollateralInvalid,
    Reason,
)
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import (
    NOW,
)
from tee.intel._helpers import (
    LEVELS,
    PKI,
    built,
    collateral,
    level,
    tcb_info,
    verify,
)


def test_levels_sorted_not_trusted_in_served_order() -> None:
    tcb = tcb_info(list(reversed(LEVELS)))
    assert [lv.status for lv in tcb.levels] == ["UpToDate", "OutOfDate", "ConfigurationNeeded"]


def test_duplicated_levels_rejected() -> None:
    with pytest.raises(CollateralInvalid):
        tcb_info([LEVELS[0], dict(LEVELS[0], tcbStatus="OutOfDate")])


def test_unknown_status_rejected() -> None:
    with pytest.raises(CollateralInvalid):
        tcb_info([level(1, 1, [1], "Great")])


# --- the signature hex of PCS JSON accepted whitespace -----------------------------------


def test_signature_hex_must_be_exactly_128_digits() -> None:
    body = PKI.tcb_info_body(fi.sgx_tcb_info())
    i = body.index(b'"signature":"') + len(b'"signature":"')
    spaced = body[: i + 2] + b" " + body[i + 2 :]
    with pytest.raises(CollateralInvalid) as ei:
        verify(built("sgx3").data, collateral(tcb=spaced))
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED
    upper = body[:i] + body[i : i + 128].upper() + body[i + 128 :]
    assert verify(built("sgx3").data, collateral(tcb=upper)).accepted


# --- one malformed document of another platform failed every quote ------------------------


def test_malformed_document_of_another_platform_is_ignored() -> None:
    future = PKI.sign_body("tcbInfo", {"id": "SGX", "version": 4, "fmspc": "AABBCCDDEEFF"})
    coll = Collateral(tcb_infos=(future,)) + collateral()
    assert verify(built("sgx3").data, coll).accepted
    with pytest.raises(CollateralInvalid) as ei:
        verify(built("sgx3").data, replace(collateral(), tcb_infos=(future,)))
    assert ei.value.reason is Reason.COLLATERAL_MALFORMED


# --- an injected, unsigned TCB Info displaced the genuine one ----------------------------


def test_unsigned_newer_document_does_not_displace_the_genuine_one() -> None:
    newer = fi.sgx_tcb_info(issue_date=NOW - dt.timedelta(hours=1))
    forged = PKI.tcb_info_body(newer, signer="not-intel")
    genuine = PKI.tcb_info_body(fi.sgx_tcb_info())
    coll = replace(collateral(), tcb_infos=(forged, genuine))
    assert verify(built("sgx3").data, coll).accepted
    with pytest.raises(CollateralInvalid) as ei:
        verify(built("sgx3").data, replace(collateral(), tcb_infos=(forged,)))
    assert ei.value.reason is Reason.COLLATERAL_SIGNATURE_INVALID
