"""Speed, as ratios against a baseline measured side by side (never timed assertions).

Run: ``pytest benchmarks --benchmark-enable --benchmark-group-by=group``. The baseline of each
group is the cost of a step every verifier must pay anyway (one ECDSA P-256 verification
through ``cryptography``), so the table reads as "a full verification costs N signature
checks".
"""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

import cocoverify
from cocoverify import Policy, Verifier, load_collateral
from cocoverify.tee.intel.parse import parse_quote

from _shared import require_shared

CASES = [
    ("tdx-v4-dcapqvl-sample", "tdx_quote", "2025-07-04T10:16:31Z"),
    ("sgx-v3-automata-quotev3", "quote.bin", "2025-08-30T05:09:06Z"),
]


@pytest.fixture(scope="module")
def baseline_signature() -> Any:
    key = ec.generate_private_key(ec.SECP256R1())
    msg = b"x" * 632
    sig = key.sign(msg, ec.ECDSA(hashes.SHA256()))
    pub = key.public_key()
    return lambda: pub.verify(sig, msg, ec.ECDSA(hashes.SHA256()))


@pytest.mark.benchmark(group="baseline")
def test_baseline_one_ecdsa_verify(benchmark: Any, baseline_signature: Any) -> None:
    benchmark(baseline_signature)


@pytest.mark.parametrize(("case", "quote", "at"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.benchmark(group="parse")
def test_parse_quote(benchmark: Any, case: str, quote: str, at: str) -> None:
    data = (require_shared("intel") / case / quote).read_bytes()
    benchmark(parse_quote, data)


@pytest.mark.parametrize(("case", "quote", "at"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.benchmark(group="verify")
def test_verify_end_to_end(benchmark: Any, case: str, quote: str, at: str) -> None:
    base = require_shared("intel") / case
    data = (base / quote).read_bytes()
    statuses = frozenset({"UpToDate", "SWHardeningNeeded"})
    verifier = Verifier(
        collateral=load_collateral([base]), policy=Policy(accepted_tcb_statuses=statuses)
    )
    result = benchmark(verifier.verify, data, at=at)
    assert isinstance(result, cocoverify.VerificationResult)
