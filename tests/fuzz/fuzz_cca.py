"""Fuzz the Arm CCA token parsers (CMW collection, legacy tag 399, platform and realm COSE
tokens) and the CCA pipeline (docs/cca.md).

    python tests/fuzz/fuzz_cca.py                    # atheris if installed, else 20000 mutations
    python tests/fuzz/fuzz_cca.py --mutations 5000   # the mutation loop only

Each input: detect, describe, parse_token, parse_platform_token and verify() with generated
cases' collateral (a platform key, a JWK, a trust-anchor store). CCA parses in Python on
either backend. Seeds: tests/fuzz/seeds.py (real and generated tokens).
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import _cases
import _harness
import seeds

from cocoverify import CocoverifyError
from cocoverify.tee.cca import describe, detect
from cocoverify.tee.cca.parse import parse_token
from cocoverify.tee.cca.platform import parse_platform_token

warnings.simplefilter("ignore")
CASES = [_cases.project(f"cca.accept.{n}") for n in ("p256", "jwk", "ta_store", "legacy399")]
VERIFIERS = [(c.verifier(), c.at) for c in CASES]


def target(data: bytes) -> None:
    detect(data)
    with contextlib.suppress(CocoverifyError):
        describe(data)
    with contextlib.suppress(CocoverifyError):
        parse_platform_token(data)
    with contextlib.suppress(CocoverifyError):
        parse_token(data)
    for verifier, at in VERIFIERS:
        with contextlib.suppress(CocoverifyError):
            verifier.verify(data, at=at)


if __name__ == "__main__":
    _harness.main(target, seeds.cca_tokens() + [c.evidence for c in CASES], sys.argv)
