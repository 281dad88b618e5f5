"""NVIDIA real reports: every case of ../shared/vectors/nvidia/MANIFEST.json gives its
manifest outcome through ``verify()`` and ``cocoverify verify REPORT --collateral CHAIN
--report-data HEX``, read in place; the claims are trustee's golden claims.

The chain-only cases (trustee's cert_chain.rs tests) run the real report with that chain as
collateral: trustee's error for each is our reason (root only: chain_invalid; ICA missing:
chain_invalid; leaf removed: no FWID extension).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import CocoverifyError, Reason
from cocoverify._core.x509 import load_certificates
from cocoverify.result import to_jsonable
from cocoverify.tee.nvidia.claims import TRUSTEE_KEYS
from cocoverify.tee.nvidia.verify import device_root, leaf_fwid
from cocoverify.trust import NVIDIA_DEVICE_ROOT_SHA256, fingerprint

from _shared import require_shared, shared_manifest
from _shared.cli import run_cli, run_cli_json

_MANIFEST = shared_manifest("nvidia")
_CASES: dict[str, dict[str, Any]] = {c["id"]: c for c in (_MANIFEST or {}).get("cases", [])}
_LOCAL = "trustee-hopper-local"
_REASONS = {
    "trustee-hopper-chain-case1": None,
    "trustee-hopper-chain-case2": Reason.CHAIN_INVALID,
    "trustee-hopper-chain-case3": Reason.CHAIN_INVALID,
    "trustee-hopper-chain-case4": Reason.CERTIFICATE_PROFILE_INVALID,
}


def _files(case_id: str) -> tuple[Path, dict[str, Any]]:
    return require_shared("nvidia") / case_id, _CASES[case_id]


def _report() -> tuple[bytes, str, str]:
    folder, case = _files(_LOCAL)
    report = (folder / case["files"]["report_hex"]).read_bytes()
    return report, case["inputs"]["expected_report_data_hex"], case["at"]


def test_bundled_root_is_the_shared_root_and_pinned() -> None:
    base = require_shared("nvidia")
    (shared,) = load_certificates((base / "roots" / "nvidia_device_root.pem").read_bytes())
    assert shared == device_root()
    assert fingerprint(device_root()) == NVIDIA_DEVICE_ROOT_SHA256
    assert fingerprint(device_root()) == _MANIFEST["nvidia_device_root"]["sha256_fingerprint"]  # type: ignore[index]


def test_local_case_accepts_with_trustee_claims() -> None:
    folder, case = _files(_LOCAL)
    report, nonce, at = _report()
    chain = folder / case["files"]["cert_chain_pem"]
    result = cocoverify.verify(report, collateral=[chain], expected_report_data=nonce, at=at)
    assert case["expected"]["outcome"] == "accept"
    assert result.tee == "gpu"
    claims = to_jsonable(result.claims)
    golden = json.loads((folder / case["files"]["peer_claims"]).read_text())
    uuid = case["inputs"]["uuid_given_by_test"]
    assert {k: claims[k] for k in TRUSTEE_KEYS} == golden | {"uuid": "unknown"}
    assert golden["uuid"] == uuid
    assert claims["config"]["fwid"] == case["expected"]["fwid"]
    assert len(claims["measurement_blocks"]) == case["expected"]["own_parse"]["response"]["nblocks"]
    assert result.collateral["root_sha256"] == NVIDIA_DEVICE_ROOT_SHA256


def test_local_case_as_trustee_evidence_json_gives_trustee_claims_exactly() -> None:
    folder, case = _files(_LOCAL)
    report, nonce, at = _report()
    chain = (folder / case["files"]["cert_chain_pem"]).read_bytes()
    raw = bytes.fromhex(report.decode().strip())
    for encoded in (raw.hex(), base64.b64encode(raw).decode()):
        evidence = {
            "device_evidence_list": [
                {
                    "arch": "HOPPER",
                    "uuid": case["inputs"]["uuid_given_by_test"],
                    "evidence": encoded,
                    "certificate": base64.b64encode(chain).decode(),
                }
            ]
        }
        result = cocoverify.verify(json.dumps(evidence), expected_report_data=nonce, at=at)
        claims = to_jsonable(result.claims)
        golden = json.loads((folder / case["files"]["peer_claims"]).read_text())
        assert {k: claims[k] for k in TRUSTEE_KEYS} == golden


def test_local_case_wrong_nonce_rejects() -> None:
    folder, case = _files(_LOCAL)
    report, _, at = _report()
    (neg,) = case["expected"]["peer_negative"]
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(
            report,
            collateral=[folder / case["files"]["cert_chain_pem"]],
            expected_report_data=neg["given_report_data_hex"],
            at=at,
        )
    assert info.value.reason is Reason.REPORT_DATA_MISMATCH
    assert info.value.exit_code == 5


def test_signing_cert_fwid() -> None:
    folder, case = _files(_LOCAL)
    (leaf,) = load_certificates((folder / case["files"]["signing_cert"]).read_bytes())
    assert leaf_fwid(leaf).hex() == case["expected"]["fwid"]


@pytest.mark.parametrize("case_id", sorted(_REASONS))
def test_chain_cases(case_id: str) -> None:
    folder, case = _files(case_id)
    report, nonce, at = _report()
    chain = folder / case["files"]["cert_chain_pem"]
    expected = _REASONS[case_id]
    if expected is None:
        assert case["expected"]["outcome"] == "accept"
        result = cocoverify.verify(report, collateral=[chain], expected_report_data=nonce, at=at)
        assert (
            leaf_fwid(load_certificates(chain.read_bytes())[0]).hex()
            == case["inputs"]["expected_fwid"]
        )
        assert result.accepted
        return
    assert case["expected"]["outcome"] == "reject"
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(report, collateral=[chain], expected_report_data=nonce, at=at)
    assert info.value.reason is expected
    assert info.value.exit_code == 3


@pytest.mark.parametrize("case_id", sorted(_REASONS))
def test_cli(case_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    folder, case = _files(case_id)
    local, _ = _files(_LOCAL)
    _, nonce, at = _report()
    report = local / _CASES[_LOCAL]["files"]["report_hex"]
    chain = folder / case["files"]["cert_chain_pem"]
    code, out = run_cli_json(
        capsys, "verify", str(report), "--collateral", str(chain), "--report-data", nonce,
        "--at", at, "--format", "json",
    )  # fmt: skip
    expected = _REASONS[case_id]
    if expected is None:
        assert code == 0 and out["accepted"] and out["tee"] == "gpu"
    else:
        assert code == 3 and out["reason"] == expected.value


def test_cli_binary_report_and_wrong_nonce(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, case = _files(_LOCAL)
    report, nonce, at = _report()
    binary = tmp_path / "report.bin"
    binary.write_bytes(bytes.fromhex(report.decode().strip()))
    chain = str(folder / case["files"]["cert_chain_pem"])
    code, _ = run_cli(
        capsys, "verify", str(binary), "--collateral", chain, "--report-data", nonce, "--at", at
    )
    assert code == 0
    code, _ = run_cli(
        capsys, "verify", str(binary), "--collateral", chain, "--report-data", "00" * 32, "--at", at
    )
    assert code == 5


def test_no_chain_is_collateral_missing() -> None:
    report, nonce, at = _report()
    with pytest.raises(CocoverifyError) as info:
        cocoverify.verify(report, expected_report_data=nonce, at=at)
    assert info.value.reason is Reason.COLLATERAL_MISSING
    assert info.value.exit_code == 4


def test_trustee_adapter_nvidia_evidence_and_claims() -> None:
    from cocoverify.integrations.trustee import verify_evidence
    from cocoverify.integrations.trustee.claims import claims_for

    folder, case = _files(_LOCAL)
    report, nonce, at = _report()
    chain = (folder / case["files"]["cert_chain_pem"]).read_bytes()
    evidence = {
        "device_evidence_list": [
            {
                "arch": "HOPPER",
                "uuid": case["inputs"]["uuid_given_by_test"],
                "evidence": report.decode().strip(),
                "certificate": base64.b64encode(chain).decode(),
            }
        ]
    }
    # KBS passes a 48-byte digest; trustee cuts it to the 32-byte nonce
    result = verify_evidence("nvidia", evidence, bytes.fromhex(nonce) + bytes(16), at=at)
    golden = json.loads((folder / case["files"]["peer_claims"]).read_text())
    assert claims_for(result) == golden
    with pytest.raises(CocoverifyError) as info:
        verify_evidence("nvidia", evidence, bytes(32), at=at)
    assert info.value.reason is Reason.REPORT_DATA_MISMATCH
