"""Fuzz the policy file reader (JSON and YAML, duplicate keys, key paths) and Policy.from_dict
(docs/policy.md).

    python tests/fuzz/fuzz_policy.py                    # atheris if installed, else 20000 mutations
    python tests/fuzz/fuzz_policy.py --mutations 5000   # the mutation loop only

Each input is a policy file's bytes; a policy that loads is also evaluated against an
accepted generated SGX case (its verdict may be anything, but only a CocoverifyError may be
raised). Seeds: the generated cases' policies as JSON and YAML, the documented examples.
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import _cases
import _harness
import seeds

from cocoverify import CocoverifyError, Policy
from cocoverify.policy.files import parse_document

warnings.simplefilter("ignore")
CASE = _cases.project("sgx.good.v3")
VERIFIER = CASE.verifier()


def target(data: bytes) -> None:
    policy = Policy.from_dict(parse_document(data, "fuzz.yaml"))
    with contextlib.suppress(CocoverifyError):
        VERIFIER.verify(CASE.evidence, at=CASE.at, policy=policy)
    Policy.from_dict(policy.to_dict())  # the file form round-trips


if __name__ == "__main__":
    _harness.main(target, seeds.policies(), sys.argv)
