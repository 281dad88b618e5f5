"""SNP claims and the appraisal: TCBs decoded per product, REPORT_DATA and HOST_DATA bound."""

from __future__ import annotations

import pytest

from cocoverify import verify
from cocoverify.collateral import Collateral
from cocoverify.errors import PolicyRejected, Reason

from _shared.snp import AT, MB, TB, TRUST, M, T, verify_with


def test_accepts_and_binds_report_data_and_host_data() -> None:
    rep = MB.set(report_data=b"\x11" * 64, host_data=b"\x22" * 32).sign(M)
    res = verify(
        rep,
        collateral=Collateral(chains=((M.vcek_for(rep), M.ask, M.ark),)),
        trust=TRUST,
        at=AT,
        expected_report_data=b"\x11" * 64,
        expected_init_data=b"\x22" * 32,
    )
    assert res.claims["product"] == "Milan" and res.collateral["signing_key"] == "VCEK"
    assert res.collateral["revocation_checked"] is False
    assert any("revocation not checked" in w for w in res.warnings)
    with pytest.raises(PolicyRejected) as exc:
        verify(
            rep,
            collateral=Collateral(chains=((M.vcek_for(rep), M.ask, M.ark),)),
            trust=TRUST,
            at=AT,
            expected_report_data=b"\x12" * 64,
        )
    assert exc.value.reason is Reason.REPORT_DATA_MISMATCH
    with pytest.raises(PolicyRejected) as exc:
        verify(
            rep,
            collateral=Collateral(chains=((M.vcek_for(rep), M.ask, M.ark),)),
            trust=TRUST,
            at=AT,
            expected_init_data=b"\x23" * 32,
        )
    assert exc.value.reason is Reason.INIT_DATA_MISMATCH


def test_turin_claims_carry_fmc() -> None:
    rep = TB.sign(T)
    res = verify_with(rep, T.vcek_for(rep), T.ask, T.ark)
    assert res.claims["reported_tcb"]["fmc"] == 1
    assert (
        "fmc"
        not in verify_with(MB.sign(M), M.vcek_for(MB.sign(M)), M.ask, M.ark).claims["reported_tcb"]
    )
