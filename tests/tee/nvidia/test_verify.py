"""NVIDIA reports from the fake device PKI: the positive path, every one-defect negative with
its reason and exit code (API and CLI), revocation from CRLs, trustee's evidence JSON with
several devices, and detection never claiming another TEE's evidence."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import cocoverify
from cocoverify import CocoverifyError, Reason
from cocoverify.collateral import Collateral
from cocoverify.registry import detect
from cocoverify.result import to_jsonable
from cocoverify.tee.nvidia import detect as nvidia_detect
from cocoverify_testing.nvidia import (
    NEGATIVES,
    NOW,
    FakeNvidiaPki,
    ReportSpec,
    build_report,
    evidence_json,
)
from cocoverify_testing.nvidia.report import NONCE
from cocoverify_testing.pki import pem

PKI = FakeNvidiaPki()


def _collateral(chain_pem: bytes, *crls: object) -> Collateral:
    coll = Collateral.from_bytes(chain_pem, source="chain.pem")
    for crl in crls:
        coll = coll + Collateral.from_bytes(pem(crl), source="crl.pem")  # type: ignore[arg-type]
    return coll


def _verify(report: bytes, chain_pem: bytes, **kw: object) -> cocoverify.VerificationResult:
    return cocoverify.verify(
        report,
        collateral=kw.pop("collateral", None) or _collateral(chain_pem),  # type: ignore[arg-type]
        trust=PKI.trust(),
        at=NOW,
        expected_report_data=NONCE,
        **kw,  # type: ignore[arg-type]
    )


def test_fake_report_accepts() -> None:
    result = _verify(build_report(PKI), PKI.chain_pem())
    claims = to_jsonable(result.claims)
    assert claims["arch"] == "Hopper"
    assert claims["config"]["driver_version"] == "550.90.07"
    assert claims["config"]["fwid"] == PKI.fwid.hex()
    assert len(claims["measurements"]) == 64
    assert result.warnings == (
        "device certificate revocation not checked (no NVIDIA CRL or OCSP response given)",
    )
    assert result.collateral["revocation_checked"] is False


def test_trailing_bytes_after_signature_are_ignored() -> None:
    assert _verify(build_report(PKI, ReportSpec(trailing=b"\x00")), PKI.chain_pem()).accepted


def test_real_root_does_not_trust_fake_chain() -> None:
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(build_report(PKI), collateral=_collateral(PKI.chain_pem()), at=NOW)
    assert info.value.reason is Reason.UNTRUSTED_ROOT


@pytest.mark.parametrize("neg", NEGATIVES, ids=lambda n: n.name)
def test_negative(neg: object) -> None:
    assert dataclasses.is_dataclass(neg)
    report, chain = neg.make(PKI)  # type: ignore[attr-defined]
    with pytest.raises(CocoverifyError) as info:
        _verify(report, chain)
    assert info.value.reason is neg.reason, info.value  # type: ignore[attr-defined]
    assert info.value.exit_code == neg.exit_code  # type: ignore[attr-defined]


@pytest.mark.parametrize("neg", NEGATIVES, ids=lambda n: n.name)
def test_negative_cli(neg: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from _shared.cli import run_cli_json

    report, chain = neg.make(PKI)  # type: ignore[attr-defined]
    (tmp_path / "r.hex").write_text(report.hex())
    (tmp_path / "chain.pem").write_bytes(chain)
    (tmp_path / "root.pem").write_bytes(pem(PKI.root))
    code, out = run_cli_json(
        capsys, "verify", str(tmp_path / "r.hex"), "--collateral", str(tmp_path / "chain.pem"),
        "--report-data", NONCE.hex(), "--at", NOW.isoformat(), "--format", "json",
        "--trust-root", str(tmp_path / "root.pem"),
    )  # fmt: skip
    assert code == neg.exit_code  # type: ignore[attr-defined]
    assert out["reason"] == neg.reason.value  # type: ignore[attr-defined]


def test_crl_revokes_leaf_and_counts() -> None:
    report = build_report(PKI)
    ok = _verify(report, b"", collateral=_collateral(PKI.chain_pem(), PKI.crl("brom")))
    assert ok.collateral["revocation_checked"] is True and not ok.warnings
    with pytest.raises(CocoverifyError) as info:
        _verify(report, b"", collateral=_collateral(PKI.chain_pem(), PKI.crl("brom", ("leaf",))))
    assert info.value.reason is Reason.CERTIFICATE_REVOKED
    with pytest.raises(CocoverifyError) as info:
        _verify(report, b"", collateral=_collateral(PKI.chain_pem(), PKI.crl("ica", ("brom",))))
    assert info.value.reason is Reason.CERTIFICATE_REVOKED


def test_crl_from_wrong_key_is_invalid() -> None:
    other = FakeNvidiaPki(label="gpu7")
    forged = other.crl("brom")  # same issuer name, another key
    with pytest.raises(CocoverifyError) as info:
        _verify(build_report(PKI), b"", collateral=_collateral(PKI.chain_pem(), forged))
    assert info.value.reason is Reason.CRL_INVALID


def test_expired_leaf() -> None:
    import datetime as dt

    pki = FakeNvidiaPki(label="gpu-old", leaf_not_after=NOW - dt.timedelta(days=1))
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(
            build_report(pki), collateral=_collateral(pki.chain_pem()), trust=pki.trust(), at=NOW
        )
    assert info.value.reason is Reason.CERTIFICATE_EXPIRED


def test_evidence_json_two_devices() -> None:
    other = FakeNvidiaPki(label="gpu1", fwid=bytes(range(48)))
    data = evidence_json([(PKI, build_report(PKI)), (other, build_report(other))])
    result = cocoverify.verify(data, trust=PKI.trust(), at=NOW, expected_report_data=NONCE)
    devices = to_jsonable(result.claims)["devices"]
    assert [d["uuid"] for d in devices] == ["GPU-00000000", "GPU-00000001"]
    assert devices[1]["config"]["fwid"] == bytes(range(48)).hex()


def test_evidence_json_devices_with_different_nonces() -> None:
    other = FakeNvidiaPki(label="gpu1")
    data = evidence_json(
        [(PKI, build_report(PKI)), (other, build_report(other, ReportSpec(nonce=bytes(32))))]
    )
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(data, trust=PKI.trust(), at=NOW)
    assert info.value.reason is Reason.BINDING_INVALID


def test_evidence_json_blackwell_and_unsupported_arch() -> None:
    bw = FakeNvidiaPki(label="gb", chip="GB100")
    result = cocoverify.verify(
        evidence_json([(bw, build_report(bw))], arch="BLACKWELL"), trust=bw.trust(), at=NOW
    )
    assert result.claims["arch"] == "Blackwell"
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(
            evidence_json([(bw, build_report(bw))], arch="HOPPER"), trust=bw.trust(), at=NOW
        )
    assert info.value.reason is Reason.PRODUCT_MISMATCH
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(
            evidence_json([(bw, build_report(bw))], arch="LS10"), trust=bw.trust(), at=NOW
        )
    assert info.value.reason is Reason.UNSUPPORTED_PRODUCT


def test_detection_is_exact() -> None:
    report = build_report(PKI)
    assert detect(report).name == "nvidia"
    assert nvidia_detect(report[:40]) is None
    assert nvidia_detect(b"\x04\x00\x02\x00" + bytes(60)) is None
    assert nvidia_detect(b'{"quote": "AA=="}') is None


def test_detection_never_claims_other_evidence() -> None:
    from cocoverify._core.text import decode_text

    from _shared import SHARED_VECTORS

    root = Path(__file__).resolve().parents[3]
    # vectors/nvidia is NVIDIA evidence (generated); every other file must not be claimed
    files = [p for p in (root / "vectors").rglob("*") if p.is_file() and "nvidia" not in p.parts]
    if SHARED_VECTORS.exists():
        files += [
            p
            for p in SHARED_VECTORS.rglob("*")
            if p.is_file() and "nvidia" not in p.parts and p.stat().st_size < 2_000_000
        ]
    assert files
    for path in files:
        raw = path.read_bytes()
        for data in (raw, decode_text(raw)):
            assert nvidia_detect(data) is None, path
