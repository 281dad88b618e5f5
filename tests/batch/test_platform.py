"""The record's ``platform`` object (batch/platform.py) on real evidence: identifiers per TEE,
dates, and the Intel update hint read only from the TCB Info the verification used. Anchors
are the vectors' manifests (dcap-qvl's levels for the Intel quotes)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import cocoverify
from cocoverify.batch import platform_facts
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.errors import CocoverifyError

from _shared import require_shared, shared_manifest
from _shared.batch import AMD_ROLES, CCA_AT, INTEL_ROLES


def _result(data: bytes, coll: Collateral, at: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0 (docs/snp.md)
        try:
            return cocoverify.verify(data, collateral=coll, at=at)
        except CocoverifyError as exc:
            assert exc.result is not None, exc
            return exc.result


def _intel(case_id: str) -> tuple[Any, Collateral, dict[str, Any]]:
    base = require_shared("intel")
    case = next(c for c in (shared_manifest("intel") or {})["cases"] if c["id"] == case_id)
    folder, files = base / case_id, case["files"]
    coll = load_collateral([str(folder / files[r]) for r in INTEL_ROLES if r in files])
    data = (folder / files["quote"]).read_bytes()
    return _result(data, coll, case["verify_at"]), coll, case


def test_real_tdx_quote_names_its_fmspc_dates_and_what_is_below_the_best_level() -> None:
    result, coll, case = _intel("tdx-v4-automata-quote-tdx-1025")
    facts = platform_facts(result, coll)
    assert (facts["kind"], facts["id"]) == ("FMSPC", case["expected"]["parse"]["fmspc"].lower())
    assert facts["label"] == "PCK CA platform, module TDX_01"
    # dcap-qvl: the platform's SGX level is OutOfDate, dated 2023-08-09
    assert facts["tcb_date"] == case["expected"]["qvl_rules_crosscheck"]["sgx_level"]["date"]
    # the earliest nextUpdate of the collateral: the PCK CRL's (2025-11-12T10:45:32Z)
    dates = [str(v) for k, v in result.to_dict()["collateral"].items() if k.endswith("next_update")]
    assert facts["next_update"] == min(dates) == "2025-11-12T10:45:32Z"
    # its CPUSVN is 06 06 02 02 03 01 00 03 ...; the best level (UpToDate, 2024-03-13) has 7, 7
    assert facts["update"] == {
        "tcb_date": "2024-03-13T00:00:00Z",
        "status": "UpToDate",
        "below": ["SGX component 0: 6 -> 7", "SGX component 1: 6 -> 7"],
    }
    assert json.loads(json.dumps(facts)) == facts  # JSON as it is


def test_a_tdx_module_below_its_level_is_named() -> None:
    result, coll, case = _intel("tdx-v4-trustee-azure")
    # dcap-qvl: module TDX_01 at isvsvn 2 is OutOfDate
    assert case["expected"]["qvl_rules_crosscheck"]["module_level"]["status"] == "OutOfDate"
    assert "TDX module: OutOfDate" in platform_facts(result, coll)["update"]["below"]


def test_only_the_tcb_info_that_judged_the_quote_is_read() -> None:
    result, coll, _ = _intel("tdx-v4-automata-quote-tdx-1025")
    (raw,) = coll.tcb_infos
    body = json.loads(raw)
    body["tcbInfo"]["issueDate"] = "2025-10-20T00:00:00Z"  # another TCB Info, same FMSPC
    other = Collateral(tcb_infos=(json.dumps(body).encode(),))
    assert platform_facts(result, other)["update"] is None
    assert platform_facts(result, None)["update"] is None
    assert platform_facts(result, Collateral(tcb_infos=(b"{not json",)))["update"] is None


def _amd(case_dir: str) -> dict[str, Any]:
    base = require_shared("amd")
    case = next(c for c in (shared_manifest("amd") or {})["cases"] if c["dir"] == case_dir)
    folder, files = base / case_dir, case["files"]
    coll = load_collateral([str(folder / files[r]) for r in AMD_ROLES if r in files])
    result = _result((folder / files["report"]).read_bytes(), coll, case["verification_time"])
    return platform_facts(result, coll)


def test_snp_reports_name_their_chip_id_product_and_reported_tcb() -> None:
    genoa = _amd("ms-genoa-v3-vcek")
    assert genoa["kind"] == "chip ID" and genoa["label"] == "Genoa"
    assert genoa["id"].startswith("b1e24a27bbc3a4d5") and len(genoa["id"]) == 128
    assert genoa["tcb"] == {"bootloader": 10, "tee": 0, "snp": 23, "microcode": 84}
    assert genoa["update"] is None and genoa["tcb_date"] is None
    # a VLEK-signed report with MASK_CHIP_ID: no chip to name
    assert _amd("anolis-milan-v2-vlek")["id"] == "masked"


def test_cca_token_names_its_instance_id() -> None:
    base = require_shared("cca")
    folder: Path = base / "ccatoken-good-cmw907-realm1"
    coll = load_collateral([str(folder / "platform-key.pem")])
    result = _result((folder / "token.cbor").read_bytes(), coll, CCA_AT)
    facts = platform_facts(result, coll)
    assert facts["kind"] == "instance ID"
    assert facts["id"] == result.to_dict()["claims"]["platform"]["instance_id"]
