"""Fuzz trustee's evidence JSON readers (every TEE of the trustee adapter, docs/trustee.md)
and the verify() recognition of trustee TDX JSON with event logs (docs/eventlog.md).

    python tests/fuzz/fuzz_trustee.py                    # atheris, else 20000 mutations
    python tests/fuzz/fuzz_trustee.py --mutations 5000   # the mutation loop only

Seeds: the trustee evidence JSON of the real vectors (Azure, TDX with CCEL/AAEL, NVIDIA).
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import _cases
import _harness
import seeds

from cocoverify import CocoverifyError, trustee
from cocoverify.integrations.trustee.evidence import AZURE_TEES

warnings.simplefilter("ignore")
CASE = _cases.project("tdx.good.v4")
VERIFIER = CASE.verifier()
TEES = (*trustee.TEES, *AZURE_TEES, "se")


def target(data: bytes) -> None:
    for tee in TEES:
        with contextlib.suppress(CocoverifyError):
            trustee.parse_evidence(tee, data)
    VERIFIER.verify(data, at=CASE.at)


if __name__ == "__main__":
    _harness.main(target, seeds.trustee_json(), sys.argv)
