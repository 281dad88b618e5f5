"""The SGX and TDX policy sections (cocoverify.tee.intel.policy)."""

from __future__ import annotations

from typing import Any

import pytest

import cocoverify
from cocoverify import Policy, Reason

# --- a masked rule whose value has bits outside the mask silently rejected everything ---


@pytest.mark.parametrize(
    "section",
    [
        {"sgx": {"attributes_mask": "02" + "00" * 15, "attributes_value": "01" + "00" * 15}},
        {"sgx": {"misc_select_mask": "00000000", "misc_select_value": "01000000"}},
        {"tdx": {"td_attributes_mask": "00" * 8, "td_attributes_value": "01" + "00" * 7}},
        {"tdx": {"xfam_mask": "0f" + "00" * 7, "xfam_value": "10" + "00" * 7}},
    ],
)
def test_masked_value_outside_its_mask_is_a_policy_error(section: dict[str, Any]) -> None:
    with pytest.raises(cocoverify.ConfigurationError) as ei:
        Policy.from_dict(section)
    assert ei.value.reason is Reason.INVALID_POLICY
