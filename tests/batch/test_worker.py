"""One record per item (batch/worker.py): any bytes give exactly one well-formed record."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cocoverify.batch import BatchConfig, BatchItem, InlineExecutor, verify_many

from _shared.batch import SAMPLE, SAMPLE_AT

_PROP_CFG = BatchConfig.create(at=SAMPLE_AT)
_QUOTE = (SAMPLE / "sgx" / "quote.bin").read_bytes()


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.binary(max_size=2000), st.binary(min_size=1, max_size=64).map(
    lambda b: _QUOTE[: len(b) * 17] + b)))  # fmt: skip
def test_any_bytes_give_one_record(data: bytes) -> None:
    (rec,) = verify_many([BatchItem("p", data=data)], config=_PROP_CFG, executor=InlineExecutor())
    assert rec["path"] == "p" and rec["accepted"] is False
    assert rec["exit_code"] in (2, 3, 4, 5)
    assert rec["reason"] is not None
    json.dumps(rec)
