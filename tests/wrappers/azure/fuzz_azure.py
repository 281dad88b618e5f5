"""Fuzz the Azure parsers and pipeline (docs/azure.md).

    python tests/wrappers/azure/fuzz_azure.py                   # atheris, else 20000 mutations
    python tests/wrappers/azure/fuzz_azure.py --mutations 5000  # the mutation loop only

One input feeds every parser (HCL report, TPMS_ATTEST, TPMT_SIGNATURE, var data, evidence
JSON) and, when it is evidence JSON, the pipeline with the fake hardware stand-in. Seeds: the
fake HCL/vTPM and, when ../shared is checked out, the real HCL reports and evidence.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "fuzz"))

import _harness

from cocoverify import CocoverifyError
from cocoverify.wrappers.azure import appraise_evidence, describe, detect
from cocoverify.wrappers.azure.parse import (
    parse_hcl,
    parse_tpm_attest,
    parse_tpm_signature,
    parse_var_data,
)
from cocoverify_testing.azure import AzureBuilder

BUILDER = AzureBuilder(version=1)
INNER = BUILDER.inner()
SHARED = Path(__file__).resolve().parents[4] / "shared" / "vectors" / "azure"


def seeds() -> list[bytes]:
    var = BUILDER.var_data()
    out = [BUILDER.evidence(), BUILDER.hcl(var), BUILDER.attest(), var]
    out += [p.read_bytes() for p in sorted(SHARED.glob("*/hcl-report.bin"))]
    out += [p.read_bytes() for p in sorted(SHARED.glob("*/evidence-v1.json"))[:1]]
    return out


def _quiet(call, data: bytes) -> None:  # type: ignore[no-untyped-def]
    with contextlib.suppress(CocoverifyError):
        call(data)


def target(data: bytes) -> None:
    for parse in (parse_hcl, parse_tpm_attest, parse_tpm_signature, parse_var_data):
        _quiet(parse, data)
    if detect(data) is not None:
        _quiet(describe, data)
        appraise_evidence(data, inner=INNER)


if __name__ == "__main__":
    _harness.main(target, seeds(), sys.argv)
