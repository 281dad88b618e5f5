"""Fuzz the SEV-SNP report parser on both backends and the SNP pipeline (docs/snp.md,
docs/native.md).

    python tests/fuzz/fuzz_snp.py                    # atheris if installed, else 20000 mutations
    python tests/fuzz/fuzz_snp.py --mutations 5000   # the mutation loop only

Each input: parse_report on the Python and the native backend must agree (else
AssertionError, a finding); detect, describe and verify() with a generated case's collateral
(Milan VCEK, and the certificate table form) must end the same way on both.
"""

from __future__ import annotations

import sys
import warnings

import _cases
import _harness
import seeds
from _parity import same_on_both

from cocoverify.tee.snp import describe, detect
from cocoverify.tee.snp.parse import parse_report

warnings.simplefilter("ignore")
CASES = [_cases.project("snp.accept.milan_v3_vcek"), _cases.project("snp.accept.cert_table")]
VERIFIERS = [(c.verifier(), c.at) for c in CASES]


def _verdict(data: bytes, i: int) -> object:
    verifier, at = VERIFIERS[i]
    return verifier.verify(data, at=at).tee


def target(data: bytes) -> None:
    same_on_both(lambda: parse_report(data), "parse_report", data)
    detect(data)
    same_on_both(lambda: describe(data), "describe", data)
    for i in range(len(VERIFIERS)):
        same_on_both(lambda i=i: _verdict(data, i), "verify", data)


if __name__ == "__main__":
    _harness.main(target, seeds.snp_reports() + [c.evidence for c in CASES], sys.argv)
