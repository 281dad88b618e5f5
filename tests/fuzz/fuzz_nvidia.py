"""Fuzz the NVIDIA SPDM report parser and pipeline (docs/nvidia.md).

    python tests/fuzz/fuzz_nvidia.py                    # atheris if installed, else 20000 mutations
    python tests/fuzz/fuzz_nvidia.py --mutations 5000   # the mutation loop only

Seeds: a fake report, trustee's evidence JSON around it and, when ../shared is checked out,
the real Hopper report. The chain is the fake PKI's, given as collateral.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _harness

import cocoverify
from cocoverify._core.text import decode_text
from cocoverify.collateral import Collateral
from cocoverify.tee.nvidia import describe, detect
from cocoverify_testing.nvidia import FakeNvidiaPki, build_report, evidence_json

PKI = FakeNvidiaPki()
TRUST = PKI.trust()
COLLATERAL = Collateral.from_bytes(PKI.chain_pem(), source="chain.pem")
SHARED = Path(__file__).resolve().parents[3] / "shared" / "vectors" / "nvidia"


def seeds() -> list[bytes]:
    report = build_report(PKI)
    out = [report, evidence_json([(PKI, report)])]
    real = SHARED / "trustee-hopper-local" / "hopperAttestationReport.txt"
    if real.exists():
        out.append(decode_text(real.read_bytes()))
    return out


def target(data: bytes) -> None:
    detect(data)
    try:
        describe(data)
    finally:
        cocoverify.verify(data, at="2026-01-01T00:00:00Z", trust=TRUST, collateral=COLLATERAL)


if __name__ == "__main__":
    _harness.main(target, seeds(), sys.argv)
