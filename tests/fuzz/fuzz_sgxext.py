"""Fuzz the SGX PCK certificate extension decoder on both backends (docs/intel.md,
docs/native.md).

    python tests/fuzz/fuzz_sgxext.py                    # atheris, else 20000 mutations
    python tests/fuzz/fuzz_sgxext.py --mutations 5000   # the mutation loop only

Each input is an extension value (DER); the Python and the native decoder must give the same
facts or the same error (ValueError/KeyError/IndexError, which parse_pck_extension turns into
ChainInvalid). Seeds: the extension of every PCK certificate in the Intel vectors.
"""

from __future__ import annotations

import sys
from typing import Any

import _harness
import seeds
from _parity import BACKENDS, selected

from cocoverify.tee.intel import sgxext
from cocoverify_testing.intel import FakeIntelPKI, sgx_pck

CERT = FakeIntelPKI().pck_cert(sgx_pck())  # its issuer (processor CA) decides the CA type


def _outcome(raw: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", sgxext._decode_sgx_extension(raw, CERT))
    except (ValueError, KeyError, IndexError) as exc:
        return ("error", type(exc), str(exc))


def target(data: bytes) -> None:
    results = []
    for name in BACKENDS:
        with selected(name):
            results.append(_outcome(data))
    if len(results) == 2 and results[0] != results[1]:
        raise AssertionError(f"sgx extension: {data.hex()}: {results[0]} != {results[1]}")


if __name__ == "__main__":
    _harness.main(target, seeds.sgx_extensions(), sys.argv)
