"""Every case of ../shared/vectors/{tdx-eventlog,azure,nvidia} through the CLI.

Most cases have their CLI test next to their ``verify()`` test (tests/wrappers/
test_tdx_eventlog.py, tests/wrappers/azure/test_real.py and test_tpm.py,
tests/tee/nvidia/test_real.py). This file adds the forms those do not run through the CLI
(trustee's TDX JSON with each CCEL, the legacy AAEL files, the Azure component files put
together as evidence, the NVIDIA report as trustee's evidence JSON) and checks that the
table below names every case of the three manifests, so a new shared case without a CLI test
fails here.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify._core.x509 import load_certificates

from _shared import SHARED_VECTORS, require_shared, shared_manifest
from _shared.cli import run_cli, run_cli_json

#: case id -> the test that runs it through the CLI
CLI_TESTS = {
    "tdx-eventlog": {
        "trustee-ccel-tdshim": "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote",
        "trustee-ccel-ovmf": "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote",
        "trustee-ccel-grub": "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote",
        "trustee-ccel-gcp": "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote",
        "trustee-ccel-grub-gke": "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote",
        "trustee-ccel-aael-alibabacloud": (
            "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote"
        ),
        "trustee-ccel-csv-sm3": "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote",
        "gotdx-cos113-ccel-with-quote": (
            "test_tdx_eventlog.py::test_cli_each_log_with_the_cos113_quote"
        ),
        "trustee-legacy-aael-text": "test_shared_cli.py::test_cli_legacy_aael_files",
    },
    "azure": {
        "trustee-az-snp-vtpm-v0": "azure/test_real.py::test_cli_gives_manifest_outcome",
        "trustee-az-snp-vtpm-v1": "azure/test_real.py::test_cli_gives_manifest_outcome",
        "trustee-az-snp-vtpm-v2": "azure/test_real.py::test_cli_gives_manifest_outcome",
        "trustee-az-tdx-vtpm-v0": "azure/test_real.py::test_cli_gives_manifest_outcome",
        "trustee-az-tdx-vtpm-v1": "azure/test_real.py::test_cli_gives_manifest_outcome",
        "trustee-az-snp-vtpm-components": "test_shared_cli.py::test_cli_azure_components",
        "trustee-tpm-generic": "azure/test_tpm.py::test_real_vector_accepts_with_its_ak_pinned",
    },
    "nvidia": {
        "trustee-hopper-local": "test_shared_cli.py::test_cli_nvidia_local_as_trustee_json",
        "trustee-hopper-chain-case1": "tee/nvidia/test_real.py::test_cli",
        "trustee-hopper-chain-case2": "tee/nvidia/test_real.py::test_cli",
        "trustee-hopper-chain-case3": "tee/nvidia/test_real.py::test_cli",
        "trustee-hopper-chain-case4": "tee/nvidia/test_real.py::test_cli",
    },
}

COS = SHARED_VECTORS / "intel" / "tdx-v4-gotdx-cos113"
COS_AT = "2025-10-31T14:17:11Z"
_COS_COLLATERAL = (
    "tcb_info.json",
    "identity.json",
    "pck_crl.der",
    "intel_root_ca_crl.der",
    "pck_crl_issuer_chain.pem",
    "tcb_info_issuer_chain.pem",
    "qe_identity_issuer_chain.pem",
)


def _cases(family: str) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in (shared_manifest(family) or {"cases": []})["cases"]}


def _case(family: str, case_id: str) -> dict[str, Any]:
    """One shared case; skips with the reason when ../shared is absent."""
    require_shared(family)
    return _cases(family)[case_id]


@pytest.mark.parametrize("family", sorted(CLI_TESTS))
def test_every_shared_case_has_a_cli_test(family: str) -> None:
    require_shared(family)
    assert set(_cases(family)) == set(CLI_TESTS[family])
    here = Path(__file__).resolve().parent
    for where in set(CLI_TESTS[family].values()):
        path, name = where.split("::")
        module = here / path if (here / path).is_file() else here.parent / path
        assert f"def {name}(" in module.read_text(), where


def _cos_args() -> list[str]:
    require_shared("tdx-eventlog")
    args = ["--at", COS_AT]
    for name in _COS_COLLATERAL:
        args += ["--collateral", str(COS / name)]
    return args


def _cos_expected(case: dict[str, Any], cos: dict[str, Any]) -> tuple[int, str | None]:
    replay = case["expected"]["replay"]
    if replay.get("as_rtmr") is None:
        return 2, "unsupported_algorithm"
    for reg in ("rtmr0", "rtmr1", "rtmr2", "rtmr3"):
        if replay["as_rtmr"][reg] != cos["expected"]["replay"]["as_rtmr"][reg]:
            return 3, "event_log_mismatch"
    return 0, None


@pytest.mark.parametrize(
    "case_id", sorted(i for i, c in _cases("tdx-eventlog").items() if "ccel" in c["files"])
)
def test_cli_trustee_json_with_each_ccel(
    case_id: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the same outcome as --event-log, with the log inside trustee's TDX evidence JSON
    args = _cos_args()
    cases = _cases("tdx-eventlog")
    case = cases[case_id]
    ccel = (SHARED_VECTORS / "tdx-eventlog" / case_id / case["files"]["ccel"]).read_bytes()
    quote = (COS / "cos-113-tdx-quote.dat").read_bytes()
    path = tmp_path / "evidence.json"
    path.write_text(
        json.dumps(
            {
                "quote": base64.b64encode(quote).decode(),
                "cc_eventlog": base64.b64encode(ccel).decode(),
            }
        )
    )
    code, doc = run_cli_json(capsys, "verify", str(path), *args, "--format", "json")
    want_code, want_reason = _cos_expected(case, cases["gotdx-cos113-ccel-with-quote"])
    assert code == want_code, doc
    if want_reason is None:
        assert doc["accepted"] is True
    else:
        assert doc["reason"] == want_reason


def test_cli_legacy_aael_files(capsys: pytest.CaptureFixture[str]) -> None:
    case = _case("tdx-eventlog", "trustee-legacy-aael-text")
    base = require_shared("tdx-eventlog") / case["id"]
    args = _cos_args()
    # none replays to COS-113's RTMR3 (all zero): each is event_log_mismatch naming rtmr3
    for name in case["files"]["aael_text"]:
        code, doc = run_cli_json(
            capsys, "verify", str(COS / "cos-113-tdx-quote.dat"), *args,
            "--aa-event-log", str(base / name), "--format", "json",
        )  # fmt: skip
        assert (code, doc["reason"]) == (3, "event_log_mismatch"), name
        assert "RTMR3" in doc["message"]
    # AAEL_quote_tdx (its RTMR3 is AAEL_data_1's) has no collateral anywhere: the quote is
    # verified before the log, so the CLI says what is missing (exit 4), not the replay
    code, doc = run_cli_json(
        capsys, "verify", str(base / case["files"]["quote"]), "--at", COS_AT,
        "--aa-event-log", str(base / "AAEL_data_1"), "--format", "json",
    )  # fmt: skip
    assert code == 4 and doc["reason"] in ("collateral_missing", "crl_missing"), doc


def test_cli_azure_components(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = _case("azure", "trustee-az-snp-vtpm-components")
    base = require_shared("azure") / case["id"]
    quote = json.loads((base / "tpm-quote-v1.json").read_text())
    vcek = load_certificates((base / "vcek.pem").read_bytes())[0]
    evidence = {
        "version": 1,
        "tpm_quote": quote,
        "hcl_report": base64.urlsafe_b64encode((base / "hcl-report.bin").read_bytes()).decode(),
        "vcek": base64.urlsafe_b64encode(vcek.public_bytes(Encoding.DER)).decode(),
    }
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(evidence))
    args = ["verify", str(path), "--collateral", str(base / "vcek.pem"), "--at", case["at"]]
    nonce = case["inputs"]["expected_report_data_hex"]
    code, doc = run_cli_json(capsys, *args, "--report-data", nonce, "--format", "json")
    assert code == 0 and doc["accepted"] and doc["tee"] == "az-snp-vtpm", doc
    code, _ = run_cli(capsys, *args, "--report-data", nonce[:-2] + "00")
    assert code == 5  # another nonce: report_data_mismatch
    pcrs = list(quote["pcrs"])
    pcrs[0] = ("00" if pcrs[0][:2] != "00" else "01") + pcrs[0][2:]
    path.write_text(json.dumps({**evidence, "tpm_quote": {**quote, "pcrs": pcrs}}))
    code, doc = run_cli_json(capsys, *args, "--report-data", nonce, "--format", "json")
    assert (code, doc["reason"]) == (3, "binding_invalid")


def test_cli_nvidia_local_as_trustee_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _case("nvidia", "trustee-hopper-local")
    base = require_shared("nvidia") / case["id"]
    evidence = {
        "device_evidence_list": [
            {
                "arch": "HOPPER",
                "uuid": case["inputs"]["uuid_given_by_test"],
                "evidence": (base / case["files"]["report_hex"]).read_text().strip(),
                "certificate": base64.b64encode(
                    (base / case["files"]["cert_chain_pem"]).read_bytes()
                ).decode(),
            }
        ]
    }
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps(evidence))
    nonce = case["inputs"]["expected_report_data_hex"]
    args = ["verify", str(path), "--at", case["at"], "--format", "json"]
    code, doc = run_cli_json(capsys, *args, "--report-data", nonce)
    assert code == 0 and doc["tee"] == "gpu", doc
    peer = json.loads((base / case["files"]["peer_claims"]).read_text())
    assert {k: doc["claims"][k] for k in ("arch", "measurements", "config")} == {
        k: peer[k] for k in ("arch", "measurements", "config")
    }
    code, doc = run_cli_json(capsys, *args, "--report-data", "00" * 32)
    assert (code, doc["reason"]) == (5, "report_data_mismatch")
