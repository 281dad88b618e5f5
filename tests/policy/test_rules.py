"""The policy engine (policy/__init__.py and the Intel sections): each rule accepting and
rejecting real SGX and TDX quotes: TCB status, advisories, measurements, report and init data
binding, debug and attribute masks, collateral age, the out-of-date grace period, allowed TEEs."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

import cocoverify
from cocoverify import (
    ConfigurationError,
    MeasurementMismatch,
    Policy,
    PolicyRejected,
    Reason,
    TcbRejected,
    load_collateral,
)

from _shared import require_shared

TDX = ("tdx-v4-dcapqvl-sample", "tdx_quote", "2025-07-04T10:16:31Z")
SGX = ("sgx-v3-dcapqvl-sample", "sgx_quote", "2025-07-04T10:28:44Z")
SGX_STATUS = "ConfigurationAndSWHardeningNeeded"


def _verify(case: tuple[str, str, str], policy: Policy, **kw: Any) -> cocoverify.VerificationResult:
    base = require_shared("intel") / case[0]
    return cocoverify.verify(
        (base / case[1]).read_bytes(),
        collateral=load_collateral([base]),
        at=case[2],
        policy=policy,
        **kw,
    )


def _claims(case: tuple[str, str, str]) -> Any:
    try:
        return _verify(case, Policy(accepted_tcb_statuses=frozenset({SGX_STATUS, "UpToDate"})))
    except PolicyRejected as exc:  # pragma: no cover - diagnostic
        raise AssertionError(exc) from None


def test_tcb_status_rule() -> None:
    with pytest.raises(TcbRejected) as ei:
        _verify(SGX, Policy())
    assert ei.value.status == SGX_STATUS
    r = _verify(SGX, Policy(accepted_tcb_statuses=frozenset({SGX_STATUS})))
    assert r.accepted and r.tcb_status == SGX_STATUS


def test_advisory_rules() -> None:
    statuses = frozenset({SGX_STATUS})
    with pytest.raises(TcbRejected) as ei:
        _verify(
            SGX,
            Policy(
                accepted_tcb_statuses=statuses, denied_advisory_ids=frozenset({"INTEL-SA-00615"})
            ),
        )
    assert ei.value.reason is Reason.ADVISORY_REJECTED
    with pytest.raises(TcbRejected) as ei:
        _verify(
            SGX,
            Policy(
                accepted_tcb_statuses=statuses, allowed_advisory_ids=frozenset({"INTEL-SA-00615"})
            ),
        )
    assert ei.value.reason is Reason.ADVISORY_REJECTED
    r = _verify(
        SGX,
        Policy(
            accepted_tcb_statuses=statuses,
            allowed_advisory_ids=frozenset({"INTEL-SA-00615", "INTEL-SA-00289"}),
        ),
    )
    assert r.accepted


def test_sgx_measurement_rules() -> None:
    claims = _claims(SGX).claims
    ok = {
        "accepted_tcb_statuses": [SGX_STATUS],
        "sgx": {
            "mr_enclave": [claims["mr_enclave"].hex()],
            "mr_signer": [claims["mr_signer"].hex()],
            "isv_prod_id": [claims["isv_prod_id"]],
            "min_isv_svn": claims["isv_svn"],
        },
    }
    assert _verify(SGX, Policy.from_dict(ok)).accepted
    for key, bad in (
        ("mr_enclave", ["00" * 32]),
        ("mr_signer", ["11" * 32]),
        ("isv_prod_id", [claims["isv_prod_id"] + 1]),
        ("min_isv_svn", claims["isv_svn"] + 1),
    ):
        doc = json.loads(json.dumps(ok))
        doc["sgx"][key] = bad
        with pytest.raises(MeasurementMismatch) as ei:
            _verify(SGX, Policy.from_dict(doc))
        assert ei.value.reason is Reason.MEASUREMENT_MISMATCH
        assert ei.value.claim == key


def test_tdx_measurement_rules() -> None:
    claims = _claims(TDX).claims
    names = ("mr_td", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "mr_seam", "mr_config_id")
    ok = {"tdx": {n: [claims[n].hex()] for n in names}}
    r = _verify(TDX, Policy.from_dict(ok))
    assert {v.rule for v in r.policy if v.passed} >= set(names)
    for n in names:
        doc = json.loads(json.dumps(ok))
        doc["tdx"][n] = ["ee" * 48]
        with pytest.raises(MeasurementMismatch) as ei:
            _verify(TDX, Policy.from_dict(doc))
        assert ei.value.claim == n
        assert ei.value.result is not None
        msg = ei.value.result.failed_rules()[0].message
        assert claims[n].hex() in msg  # the rejection explains itself


def test_report_data_binding() -> None:
    rd = _claims(TDX).claims["report_data"]
    assert _verify(TDX, Policy(), expected_report_data=rd).accepted
    assert _verify(TDX, Policy(), expected_report_data=rd.hex()).accepted
    with pytest.raises(PolicyRejected) as ei:
        _verify(TDX, Policy(), expected_report_data=bytes(64))
    assert ei.value.reason is Reason.REPORT_DATA_MISMATCH
    sgx_rd = _claims(SGX).claims["report_data"]
    prefix = sgx_rd.rstrip(b"\x00")  # shorter expectation: zero-padded to the field
    r = _verify(
        SGX, Policy(accepted_tcb_statuses=frozenset({SGX_STATUS})), expected_report_data=prefix
    )
    assert r.accepted


def test_init_data_binding() -> None:
    assert _verify(TDX, Policy(), expected_init_data=bytes(48)).accepted
    with pytest.raises(PolicyRejected) as ei:
        _verify(TDX, Policy(), expected_init_data=b"\x01" * 48)
    assert ei.value.reason is Reason.INIT_DATA_MISMATCH


def test_debug_and_attribute_rules() -> None:
    case = ("tdx-v4-trustee-q4", "tdx_quote_4.dat", "2023-07-01T01:00:00Z")
    base = require_shared("intel") / case[0]
    coll = load_collateral(
        [
            base / f
            for f in (
                "sample_tcbInfo_response",
                "sample_qeIdentity_response",
                "pckcrl",
                "rootcrl.der",
                "pck_crl_issuer_chain.pem",
                "tcb_info_issuer_chain.pem",
                "qe_identity_issuer_chain.pem",
            )
        ]
    )
    quote = (base / case[1]).read_bytes()
    with pytest.raises(PolicyRejected) as ei:
        cocoverify.verify(quote, collateral=coll, at=case[2])
    assert ei.value.reason is Reason.DEBUG_ENABLED
    permissive = Policy(
        unsafe_allow_debug=True,
        tdx=Policy.from_dict({"tdx": {"unsafe_allow_sept_ve_disabled": True}}).tdx,
    )
    assert cocoverify.verify(quote, collateral=coll, at=case[2], policy=permissive).accepted


def test_tcb_evaluation_number_and_collateral_age() -> None:
    r = _verify(TDX, Policy())
    n = r.collateral["tcb_evaluation_data_number"]
    assert _verify(TDX, Policy(min_tcb_evaluation_data_number=n)).accepted
    with pytest.raises(PolicyRejected) as ei:
        _verify(TDX, Policy(min_tcb_evaluation_data_number=n + 1))
    assert ei.value.reason is Reason.COLLATERAL_TOO_OLD
    assert _verify(TDX, Policy(max_collateral_age_days=30)).accepted
    with pytest.raises(PolicyRejected) as ei:
        _verify(TDX, Policy(max_collateral_age_days=0))
    assert ei.value.reason is Reason.COLLATERAL_TOO_OLD


def test_out_of_date_grace_period() -> None:
    case = ("tdx-v4-automata-quote-tdx-1025", "quote_tdx.bin", "2025-10-31T14:17:11Z")
    with pytest.raises(TcbRejected) as ei:
        _verify(case, Policy())
    assert ei.value.result is not None
    tcb_date = ei.value.result.tcb_date
    assert tcb_date is not None and ei.value.status == "OutOfDate"
    age = (dt.datetime(2025, 10, 31, 14, 17, 11, tzinfo=dt.UTC) - tcb_date).days
    assert _verify(case, Policy(out_of_date_grace_days=age + 1)).accepted
    with pytest.raises(TcbRejected):
        _verify(case, Policy(out_of_date_grace_days=age - 1))


def test_attribute_mask_rules() -> None:
    sgx = _claims(SGX).claims
    attrs = sgx["attributes"]
    statuses = [SGX_STATUS]
    # DEBUG (bit 1) must be clear and INIT (bit 0) set: mask 0x03, value 0x01
    mask, value = "03" + "00" * 15, "01" + "00" * 15
    ok = {
        "accepted_tcb_statuses": statuses,
        "sgx": {"attributes_mask": mask, "attributes_value": value},
    }
    assert attrs[0] & 0x03 == 0x01
    assert _verify(SGX, Policy.from_dict(ok)).accepted
    bad = {
        "accepted_tcb_statuses": statuses,
        "sgx": {"attributes_mask": mask, "attributes_value": "03" + "00" * 15},
    }
    with pytest.raises(PolicyRejected) as ei:
        _verify(SGX, Policy.from_dict(bad))
    assert ei.value.reason is Reason.ATTRIBUTE_REJECTED
    tdx = _claims(TDX).claims
    xfam = tdx["xfam"].hex()
    assert _verify(
        TDX, Policy.from_dict({"tdx": {"xfam_mask": "ff" * 8, "xfam_value": xfam}})
    ).accepted
    with pytest.raises(PolicyRejected) as ei:
        _verify(
            TDX,
            Policy.from_dict(
                {"tdx": {"td_attributes_mask": "ff" * 8, "td_attributes_value": "00" * 8}}
            ),
        )
    assert ei.value.reason is Reason.ATTRIBUTE_REJECTED
    with pytest.raises(ConfigurationError):
        Policy.from_dict({"tdx": {"xfam_mask": "ff" * 8}})
    p = Policy.from_dict(ok)
    assert Policy.from_dict(p.to_dict()) == p


def test_policy_pinning_one_tee_does_not_accept_another() -> None:
    sgx = _claims(SGX).claims
    pins = {"sgx": {"mr_signer": [sgx["mr_signer"].hex()]}}
    with pytest.raises(PolicyRejected) as ei:
        _verify(TDX, Policy.from_dict(pins))  # nothing stated for TDX
    assert ei.value.reason is Reason.POLICY_REJECTED
    assert ei.value.result is not None
    assert ei.value.result.failed_rules()[0].rule == "tee"
    assert _verify(TDX, Policy.from_dict({**pins, "allowed_tees": ["sgx", "tdx"]})).accepted
    with pytest.raises(PolicyRejected):
        _verify(TDX, Policy.from_dict({"allowed_tees": ["snp"]}))
    assert _verify(TDX, Policy()).accepted  # a policy pinning nothing restricts no TEE
    with pytest.raises(ConfigurationError):
        Policy.from_dict({"allowed_tees": ["sev"]})
