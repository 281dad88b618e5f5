"""The TCB verdict (cocoverify.tee.intel.tcb) on hand-made collateral, as QVL computes it
(``TcbLevelCheck.cpp``, ``TdxModuleCheck.cpp``, ``TDRelaunchCheck.cpp``): matching, merging,
QE identity, TDX module identity, TD relaunch."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cocoverify import AuthenticityError, CollateralInvalid, Policy, Reason, TcbRejected
from cocoverify.tee.intel.documents import SimpleLevel, parse_enclave_identity
from cocoverify.tee.intel.parse import (
    CertificationData,
    Quote,
    QuoteHeader,
    SgxReportBody,
    TdReportBody,
)
from cocoverify.tee.intel.tcb import appraise_tcb, check_qe_identity
from cocoverify_testing import intel as fi
from cocoverify_testing.intel import EnclaveTcbLevel, QuoteBuilder

from _shared.intel import DATE, LEVELS, PKI, SIGNER, collateral, level, tcb_info, verify


def _sgx_body(**kw: Any) -> SgxReportBody:
    fields: dict[str, Any] = dict(
        cpu_svn=bytes(16),
        misc_select=0,
        isv_ext_prod_id=bytes(16),
        attributes=bytes.fromhex("11000000000000000000000000000000"),
        mr_enclave=bytes(32),
        mr_signer=b"\x8c" * 32,
        config_id=bytes(64),
        isv_prod_id=1,
        isv_svn=8,
        config_svn=0,
        isv_family_id=bytes(16),
        report_data=bytes(64),
        raw=bytes(384),
    )
    fields.update(kw)
    return SgxReportBody(**fields)


def _quote(
    svn: list[int],
    svn2: list[int] | None = None,
    *,
    signer: str = SIGNER,
    seam_attrs: bytes = bytes(8),
    version: int = 4,
) -> Quote:
    body = TdReportBody(
        tee_tcb_svn=bytes(svn + [0] * (16 - len(svn))),
        mr_seam=bytes(48),
        mr_signer_seam=bytes.fromhex(signer),
        seam_attributes=seam_attrs,
        td_attributes=bytes(8),
        xfam=bytes(8),
        mr_td=bytes(48),
        mr_config_id=bytes(48),
        mr_owner=bytes(48),
        mr_owner_config=bytes(48),
        rtmrs=(bytes(48),) * 4,
        report_data=bytes(64),
        tee_tcb_svn2=bytes(svn2 + [0] * (16 - len(svn2))) if svn2 is not None else None,
        mr_service_td=bytes(48) if svn2 is not None else None,
        raw=b"",
    )
    header = QuoteHeader(
        version=version,
        attestation_key_type=2,
        tee_type=0x81,
        qe_svn=0,
        pce_svn=0,
        qe_vendor_id=bytes(16),
        user_data=bytes(20),
    )
    return Quote(
        header=header,
        body_type=3 if svn2 is not None else 2,
        body=body,
        signed_region=b"",
        signature=b"",
        attestation_key=b"",
        qe_report=_sgx_body(),
        qe_report_signature=b"",
        qe_auth_data=b"",
        certification=CertificationData(5, b"", 0),
        length=0,
        trailing=0,
    )


QE_OK = SimpleLevel(8, dt.datetime(2024, 3, 13, tzinfo=dt.UTC), "UpToDate", ())
QE_OOD = SimpleLevel(6, QE_OK.date, "OutOfDate", ("INTEL-SA-QE",))


def _appraise(quote: Quote, tcb: Any, comps: int = 3, pce: int = 11, qe: SimpleLevel = QE_OK):
    return appraise_tcb(quote, pck_components=[comps] * 16, pck_pce_svn=pce, tcb=tcb, qe_level=qe)


def test_up_to_date_and_tdx_components_from_index_2() -> None:
    # TEE_TCB_SVN[0..1] (module SVN, major) are judged by the module identity, not the level
    v = _appraise(_quote([4, 1, 4]), tcb_info(LEVELS))
    assert v.status == "UpToDate" and v.advisory_ids == ()
    v = _appraise(_quote([4, 1, 3]), tcb_info(LEVELS))
    assert v.status == "OutOfDate" and v.advisory_ids == ("INTEL-SA-1",)


def test_index_0_compared_when_module_major_is_zero() -> None:
    # module major 0: indexes 0 and 1 are compared too, and 0 < 1 at index 1 on every level
    assert _appraise(_quote([9, 0, 4]), tcb_info(LEVELS)).status is None
    levels = [level(3, 11, [3, 0, 4], "UpToDate"), level(2, 11, [2, 0, 3], "OutOfDate")]
    assert _appraise(_quote([2, 0, 4]), tcb_info(levels)).status == "OutOfDate"
    assert _appraise(_quote([3, 0, 4]), tcb_info(levels)).status == "UpToDate"


def test_sgx_components_and_pcesvn_gate_the_level() -> None:
    v = _appraise(_quote([4, 1, 4]), tcb_info(LEVELS), comps=2)
    assert v.status == "OutOfDate"
    v = _appraise(_quote([4, 1, 4]), tcb_info(LEVELS), pce=10)
    assert v.status is None and v.not_supported


def test_no_tdx_level() -> None:
    v = _appraise(_quote([4, 1, 1]), tcb_info(LEVELS))
    assert v.status is None


def test_module_out_of_date_merges() -> None:
    v = _appraise(_quote([3, 1, 4]), tcb_info(LEVELS))
    assert v.status == "OutOfDate" and "INTEL-SA-MOD" in v.advisory_ids
    v = _appraise(_quote([3, 1, 2]), tcb_info(LEVELS))  # ConfigurationNeeded level + module OOD
    assert v.status == "OutOfDateConfigurationNeeded"


def test_module_level_not_supported() -> None:
    v = _appraise(_quote([1, 1, 4]), tcb_info(LEVELS))
    assert v.status is None


def test_module_identity_missing_and_mismatch() -> None:
    with pytest.raises(CollateralInvalid) as ei:
        _appraise(_quote([4, 3, 4]), tcb_info(LEVELS))
    assert ei.value.reason is Reason.TDX_MODULE_IDENTITY_MISSING
    with pytest.raises(AuthenticityError) as ei2:
        _appraise(_quote([4, 1, 4], signer="bb" * 48), tcb_info(LEVELS))
    assert ei2.value.reason is Reason.TDX_MODULE_MISMATCH
    with pytest.raises(AuthenticityError) as ei3:
        _appraise(_quote([4, 1, 4], seam_attrs=b"\x01" + bytes(7)), tcb_info(LEVELS))
    assert ei3.value.reason is Reason.TDX_MODULE_MISMATCH


def test_qe_status_merges_and_advisories_union() -> None:
    v = _appraise(_quote([4, 1, 4]), tcb_info(LEVELS), qe=QE_OOD)
    assert v.status == "OutOfDate" and v.advisory_ids == ("INTEL-SA-QE",)
    v = _appraise(_quote([4, 1, 2]), tcb_info(LEVELS), qe=QE_OOD)
    assert v.status == "OutOfDateConfigurationNeeded"
    assert v.advisory_ids == ("INTEL-SA-2", "INTEL-SA-QE")
    revoked = SimpleLevel(1, QE_OK.date, "Revoked", ())
    assert _appraise(_quote([4, 1, 4]), tcb_info(LEVELS), qe=revoked).status == "Revoked"


def test_td_relaunch_advised() -> None:
    # module OutOfDate (svn 3 < 4) on a TD 1.5 body whose TEE_TCB_SVN2 is already current
    q = _quote([3, 1, 4], svn2=[4, 1, 4])
    assert _appraise(q, tcb_info(LEVELS)).status == "TDRelaunchAdvised"
    q = _quote([3, 1, 4], svn2=[3, 1, 4])  # the update is not there yet
    assert _appraise(q, tcb_info(LEVELS)).status == "OutOfDate"
    q = _quote([3, 1, 2], svn2=[4, 1, 4])  # ConfigurationNeeded level
    assert _appraise(q, tcb_info(LEVELS)).status == "TDRelaunchAdvisedConfigurationNeeded"
    q = _quote([3, 1, 4], svn2=[9, 0, 4])  # SVN2[1] == 0: compare with the highest level
    assert _appraise(q, tcb_info(LEVELS)).status == "TDRelaunchAdvised"
    q = _quote([3, 1, 4], svn2=[4, 7, 4])  # no identity for the new module major
    with pytest.raises(CollateralInvalid):
        _appraise(q, tcb_info(LEVELS))
    q = _quote([3, 1, 4], svn2=[4, 1, 4])
    assert _appraise(q, tcb_info(LEVELS), qe=QE_OOD).status == "OutOfDate"  # QE OOD: no relaunch


def test_qe_identity_checks() -> None:
    ident = parse_enclave_identity(
        {
            "id": "QE",
            "version": 2,
            "issueDate": DATE,
            "nextUpdate": "2024-04-13T00:00:00Z",
            "tcbEvaluationDataNumber": 17,
            "miscselect": "00000000",
            "miscselectMask": "FFFFFFFF",
            "attributes": "11000000000000000000000000000000",
            "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
            "mrsigner": "8c" * 32,
            "isvprodid": 1,
            "tcbLevels": [
                {"tcb": {"isvsvn": 8}, "tcbDate": DATE, "tcbStatus": "UpToDate"},
                {"tcb": {"isvsvn": 6}, "tcbDate": DATE, "tcbStatus": "OutOfDate"},
            ],
        }
    )
    assert check_qe_identity(_sgx_body(), ident).status == "UpToDate"  # type: ignore[union-attr]
    assert check_qe_identity(_sgx_body(isv_svn=7), ident).status == "OutOfDate"  # type: ignore[union-attr]
    assert check_qe_identity(_sgx_body(isv_svn=5), ident) is None
    # MODE64BIT (bit 2) is masked out; DEBUG (bit 1) is not
    masked = bytes.fromhex("15000000000000000000000000000000")
    assert check_qe_identity(_sgx_body(attributes=masked), ident) is not None
    for kw in (
        {"misc_select": 1},
        {"mr_signer": bytes(32)},
        {"isv_prod_id": 2},
        {"attributes": bytes.fromhex("13000000000000000000000000000000")},
    ):
        with pytest.raises(AuthenticityError) as ei:
            check_qe_identity(_sgx_body(**kw), ident)
        assert ei.value.reason is Reason.QE_IDENTITY_MISMATCH


# --- tcbDate (grace periods) came from the platform level even when the QE made it stale -


def test_tcb_date_is_the_earliest_level_that_produced_the_status() -> None:
    qe_date = "2021-11-10T00:00:00Z"
    ident = fi.sgx_qe_identity(
        levels=(
            EnclaveTcbLevel(8, "UpToDate", "2024-03-13T00:00:00Z"),
            EnclaveTcbLevel(6, "OutOfDate", qe_date),
        )
    )
    quote = QuoteBuilder.sgx().qe_report_field("isv_svn", 6).sign(PKI)
    coll = collateral(qe=PKI.qe_identity_body(ident))
    with pytest.raises(TcbRejected) as ei:
        verify(quote, coll)
    result = ei.value.result
    assert result is not None and result.tcb_status == "OutOfDate"
    assert result.tcb_date == dt.datetime(2021, 11, 10, tzinfo=dt.UTC)
    # the platform level (2025-02-12) is recent; a 200-day grace from it would accept
    with pytest.raises(TcbRejected):
        verify(quote, coll, policy=Policy(out_of_date_grace_days=200))
