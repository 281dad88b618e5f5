"""OCSP responses (RFC 6960) for the NVIDIA device chain, given as collateral: good, revoked,
unknown; signed by the issuer or a delegated responder; thisUpdate/nextUpdate against ``at``;
each defect with its reason and exit code, through ``verify()`` and the CLI (the response file
recognised by content), and ``require_crl`` / ``require_revocation_check`` satisfied by OCSP."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import pytest

import cocoverify
from cocoverify import CocoverifyError, Policy, Reason
from cocoverify.collateral import Collateral
from cocoverify.tee.nvidia.ocsp import ocsp_document
from cocoverify_testing.nvidia import (
    NOW,
    FakeNvidiaPki,
    build_report,
    ocsp_response,
    responder_certificate,
    unsuccessful_response,
)
from cocoverify_testing.nvidia.report import NONCE
from cocoverify_testing.pki import pem

from _shared.cli import run_cli

PKI = FakeNvidiaPki()
OTHER = FakeNvidiaPki("other")
DAY = _dt.timedelta(days=1)


def _verify(*responses: bytes, policy: Policy | None = None) -> cocoverify.VerificationResult:
    coll = Collateral.from_bytes(PKI.chain_pem(), source="chain.pem") + Collateral(
        documents=tuple(ocsp_document(r) for r in responses)
    )
    return cocoverify.verify(
        build_report(PKI),
        collateral=coll,
        trust=PKI.trust(),
        at=NOW,
        expected_report_data=NONCE,
        policy=policy,
    )


def _error(*responses: bytes) -> CocoverifyError:
    with pytest.raises(CocoverifyError) as err:
        _verify(*responses)
    return err.value


def test_good_responses_check_revocation() -> None:
    result = _verify(ocsp_response(PKI, "leaf"), ocsp_response(PKI, "brom", delegated=True))
    assert result.collateral["revocation_checked"] is True
    assert result.collateral["ocsp_checked"] == ("device certificate", "chain[1]")
    assert result.collateral["revocation_not_checked"] == ("chain[2]", "chain[3]")
    assert not any("revocation" in w for w in result.warnings)
    # another device's response names no certificate of this chain: ignored
    assert _verify(ocsp_response(OTHER, "leaf")).collateral["revocation_checked"] is False


def test_nonce_is_recorded_not_required() -> None:
    assert _verify(ocsp_response(PKI, "leaf", nonce=b"n" * 16)).accepted


@pytest.mark.parametrize(
    ("response", "reason", "exit_code"),
    [
        (lambda: ocsp_response(PKI, "leaf", "revoked"), Reason.CERTIFICATE_REVOKED, 3),
        (lambda: ocsp_response(PKI, "ica", "revoked"), Reason.CERTIFICATE_REVOKED, 3),
        (
            lambda: ocsp_response(PKI, "brom", "revoked", delegated=True),
            Reason.CERTIFICATE_REVOKED,
            3,
        ),
        (lambda: ocsp_response(PKI, "leaf", "unknown"), Reason.COLLATERAL_MISMATCH, 4),
        (
            lambda: ocsp_response(PKI, "leaf", next_update=NOW - DAY, this_update=NOW - 8 * DAY),
            Reason.COLLATERAL_EXPIRED,
            4,
        ),
        (lambda: ocsp_response(PKI, "leaf", omit_next_update=True), Reason.COLLATERAL_EXPIRED, 4),
        (
            lambda: ocsp_response(PKI, "leaf", this_update=NOW + DAY),
            Reason.COLLATERAL_NOT_YET_VALID,
            4,
        ),
        (
            # signed by another key under the issuer's name
            lambda: ocsp_response(PKI, "leaf", forged_by=OTHER.key("brom")),
            Reason.COLLATERAL_SIGNATURE_INVALID,
            4,
        ),
        (
            # a responder certified by another issuer
            lambda: ocsp_response(
                PKI,
                "leaf",
                responder=responder_certificate(OTHER, "ica")[0],
                signer=responder_certificate(OTHER, "ica")[1],
            ),
            Reason.COLLATERAL_CHAIN_INVALID,
            4,
        ),
        (
            # a responder without id-kp-OCSPSigning
            lambda: ocsp_response(
                PKI,
                "leaf",
                responder=responder_certificate(PKI, "brom", ocsp_signing=False)[0],
                signer=responder_certificate(PKI, "brom", ocsp_signing=False)[1],
            ),
            Reason.COLLATERAL_CHAIN_INVALID,
            4,
        ),
        (
            # an expired responder certificate
            lambda: ocsp_response(
                PKI,
                "leaf",
                responder=responder_certificate(PKI, "brom", not_after=NOW - DAY)[0],
                signer=responder_certificate(PKI, "brom")[1],
            ),
            Reason.COLLATERAL_EXPIRED,
            4,
        ),
        (unsuccessful_response, Reason.COLLATERAL_MALFORMED, 4),
    ],
    ids=[
        "revoked-leaf",
        "revoked-intermediate",
        "revoked-delegated",
        "unknown",
        "stale",
        "no-next-update",
        "not-yet-valid",
        "forged-signature",
        "responder-from-other-issuer",
        "responder-without-eku",
        "responder-expired",
        "unsuccessful",
    ],
)
def test_each_defect(response, reason: Reason, exit_code: int) -> None:  # type: ignore[no-untyped-def]
    err = _error(response())
    assert (err.reason, err.exit_code) == (reason, exit_code), err


def test_not_a_response_is_collateral_malformed() -> None:
    err = _error(b"\x30\x03\x02\x01\x00")
    assert (err.reason, err.exit_code) == (Reason.COLLATERAL_MALFORMED, 4)


def test_one_revoked_among_good_ones_rejects() -> None:
    err = _error(ocsp_response(PKI, "leaf"), ocsp_response(PKI, "identity", "revoked"))
    assert err.reason is Reason.CERTIFICATE_REVOKED


def test_require_revocation_by_ocsp() -> None:
    strict = Policy.from_dict({"require_crl": True})
    with pytest.raises(CocoverifyError) as err:
        _verify(policy=strict)
    assert (err.value.reason, err.value.exit_code) == (Reason.CRL_MISSING, 4)
    assert _verify(ocsp_response(PKI, "leaf"), policy=strict).accepted
    section = Policy.from_dict({"gpu": {"require_revocation_check": True}})
    with pytest.raises(CocoverifyError) as err:
        _verify(policy=section)
    assert (err.value.reason, err.value.exit_code) == (Reason.CRL_MISSING, 5)
    assert _verify(ocsp_response(PKI, "brom"), policy=section).accepted


def test_cli_reads_ocsp_response_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "report.bin").write_bytes(build_report(PKI))
    (tmp_path / "chain.pem").write_bytes(PKI.chain_pem())
    (tmp_path / "root.pem").write_bytes(pem(PKI.root))
    base = [
        "verify", str(tmp_path / "report.bin"), "--collateral", str(tmp_path / "chain.pem"),
        "--trust-root", str(tmp_path / "root.pem"), "--report-data", NONCE.hex(),
        "--at", NOW.isoformat(), "--format", "json",
    ]  # fmt: skip
    for status, code in (("good", 0), ("revoked", 3), ("unknown", 4)):
        (tmp_path / "leaf.ocsp").write_bytes(ocsp_response(PKI, "leaf", status))
        got, _ = run_cli(capsys, *base, "--collateral", str(tmp_path / "leaf.ocsp"))
        assert got == code, status
