"""Fuzz the DCAP quote parser (SGX/TDX, v3-v5) on both backends and the whole Intel pipeline
(docs/intel.md, docs/native.md).

    python tests/fuzz/fuzz_dcap.py                    # atheris if installed, else 20000 mutations
    python tests/fuzz/fuzz_dcap.py --mutations 5000   # the mutation loop only

Each input: the field table, the quote view and parse+signature check on the Python and the
native backend must agree (else AssertionError, a finding); then verify() with the generated
SGX and TDX collateral on both backends must end the same way. Seeds: tests/fuzz/seeds.py.
"""

from __future__ import annotations

import sys
import warnings

import _cases
import _harness
import seeds
from _parity import same_on_both

from cocoverify.tee.intel.parse import parse_and_verify_quote, parse_quote, parse_quote_fields

warnings.simplefilter("ignore")
CASES = [_cases.project("sgx.good.v3"), _cases.project("tdx.good.v4")]
VERIFIERS = [(c.verifier(), c.at) for c in CASES]


def _verdict(data: bytes, i: int) -> object:
    verifier, at = VERIFIERS[i]
    result = verifier.verify(data, at=at)
    return result.tee, result.claims.get("tcb_status")


def target(data: bytes) -> None:
    same_on_both(lambda: parse_quote_fields(data), "parse_quote_fields", data)
    parsed = same_on_both(lambda: parse_quote(data), "parse_quote", data)
    same_on_both(lambda: parse_and_verify_quote(data), "parse_and_verify_quote", data)
    if parsed[0] != "ok":
        return
    for i in range(len(VERIFIERS)):
        same_on_both(lambda i=i: _verdict(data, i), "verify", data)


if __name__ == "__main__":
    _harness.main(target, seeds.dcap_quotes() + [c.evidence for c in CASES], sys.argv)
