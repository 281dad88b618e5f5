"""Policy documents: the secure default, JSON and YAML forms round-tripping, invalid documents
rejected, unsafe switches required."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cocoverify import ConfigurationError, Policy, Reason


def test_default_policy_is_secure() -> None:
    p = Policy()
    assert p.accepted_tcb_statuses == frozenset({"UpToDate"})
    assert not p.unsafe_allow_debug
    assert not p.tdx.unsafe_allow_sept_ve_disabled
    assert Policy.from_dict({}) == p == Policy.from_dict(None)


def test_roundtrip_json_and_yaml(tmp_path: Path) -> None:
    doc = {
        "accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"],
        "allowed_advisory_ids": ["INTEL-SA-00615"],
        "denied_advisory_ids": ["INTEL-SA-00289"],
        "sgx": {"mr_signer": ["aa" * 32], "min_isv_svn": 2, "isv_prod_id": [1]},
        "tdx": {"rtmr2": ["0x" + "bb" * 48]},
    }
    p = Policy.from_dict(doc)
    assert Policy.from_dict(p.to_dict()) == p
    (tmp_path / "p.json").write_text(json.dumps(doc))
    (tmp_path / "p.yaml").write_text(
        "accepted_tcb_statuses: [UpToDate, SWHardeningNeeded]\n"
        "allowed_advisory_ids: [INTEL-SA-00615]\n"
        "denied_advisory_ids: [INTEL-SA-00289]\n"
        "sgx:\n  mr_signer: ['" + "aa" * 32 + "']\n  min_isv_svn: 2\n  isv_prod_id: [1]\n"
        "tdx:\n  rtmr2: ['0x" + "bb" * 48 + "']\n"
    )
    assert Policy.from_file(tmp_path / "p.json") == p == Policy.from_file(tmp_path / "p.yaml")


@pytest.mark.parametrize(
    "doc",
    [
        {"acepted_tcb_statuses": ["UpToDate"]},
        {"accepted_tcb_statuses": ["Uptodate"]},
        {"accepted_tcb_statuses": []},
        {"sgx": {"mr_enclave": ["abcd"]}},
        {"sgx": {"mr_enclave": ["zz" * 32]}},
        {"sgx": {"min_isv_svn": -1}},
        {"sgx": {"min_isv_svn": "3"}},
        {"tdx": {"rtmr0": ["aa" * 32]}},
        {"tdx": {"unsafe_allow_sept_ve_disabled": "yes"}},
        {"unsafe_allow_debug": 1},
        {"sgx": ["not", "a", "mapping"]},
        ["not a mapping"],
    ],
)
def test_invalid_policies_rejected(doc: Any) -> None:
    with pytest.raises(ConfigurationError) as ei:
        Policy.from_dict(doc)
    assert ei.value.reason is Reason.INVALID_POLICY


def test_revoked_needs_an_unsafe_switch() -> None:
    with pytest.raises(ConfigurationError):
        Policy.from_dict({"accepted_tcb_statuses": ["UpToDate", "Revoked"]})
    p = Policy.from_dict({"accepted_tcb_statuses": ["Revoked"], "unsafe_accept_revoked": True})
    assert Policy.from_dict(p.to_dict()) == p
