"""Fuzz the collateral readers: TCB Info and QE Identity JSON (signed-text split, documents),
the collateral bag's classifier (JSON, PEM, DER, dcap-qvl JSON) and the Intel pipeline given
the fuzzed document (docs/intel.md, docs/trust-and-collateral.md).

    python tests/fuzz/fuzz_collateral.py                    # atheris, else 20000 mutations
    python tests/fuzz/fuzz_collateral.py --mutations 5000   # the mutation loop only

Seeds: every TCB Info / QE Identity of the real and generated vectors (v2, v3, SGX, TDX).
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import _cases
import _harness
import seeds

from cocoverify import CocoverifyError, Verifier
from cocoverify.collateral import classify_file, load_collateral
from cocoverify.tee.intel.collateral import load_signed_json
from cocoverify.tee.intel.documents import parse_enclave_identity, parse_tcb_info

warnings.simplefilter("ignore")
CASE = _cases.project("sgx.good.v3")
# the case's collateral without its two JSON documents: the fuzzed one stands in
_JSON = ("sgx_tcb_info.json", "sgx_qe_identity.json")
BASE = load_collateral(
    [
        p
        for p in sorted((_cases.golden.PROJECT / "intel" / "common").glob("*"))
        if p.name not in _JSON
        and "platform" not in p.name
        and "v2" not in p.name
        and "tdx" not in p.name
    ]
)
TRUST = CASE.kwargs["trust"]


def target(data: bytes) -> None:
    with contextlib.suppress(CocoverifyError):
        parse_tcb_info(load_signed_json(data, "tcbInfo").body)
    with contextlib.suppress(CocoverifyError):
        parse_enclave_identity(load_signed_json(data, "enclaveIdentity").body)
    found = classify_file(data, "fuzz.json")
    if found is not None:
        Verifier(trust=TRUST, collateral=BASE + found).verify(CASE.evidence, at=CASE.at)


if __name__ == "__main__":
    _harness.main(target, seeds.collateral_json(), sys.argv)
