"""The whole Intel pipeline (cocoverify.tee.intel.pipeline) on quotes built with the
TEST-ONLY fake Intel PKI: each valid quote verifies, and no single changed byte does.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cocoverify import CocoverifyError

from _shared.intel import built, verify


def test_the_fixtures_verify() -> None:
    for kind in ("sgx3", "sgx5", "tdx4", "td15"):
        assert verify(built(kind).data).tcb_status == "UpToDate"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["sgx3", "sgx5", "tdx4", "td15"]),
    pos=st.integers(0, 10**6),
    mask=st.integers(1, 255),
)
def test_no_single_byte_change_of_a_quote_is_accepted(kind: str, pos: int, mask: int) -> None:
    data = built(kind).data
    mutated = bytearray(data)
    mutated[pos % len(data)] ^= mask
    with pytest.raises(CocoverifyError):
        verify(bytes(mutated))
