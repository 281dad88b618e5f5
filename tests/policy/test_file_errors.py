"""Every kind of policy-file mistake gives an error that names the file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoverify import ConfigurationError, Policy, Reason

CASES = [
    # (document, line, key path in the message)
    ("accepted_tcb_statuses: [UpToDate]\nbogus: 1\n", 2, "bogus"),
    ("accepted_tcb_statuses: [Uptodate]\n", None, "accepted_tcb_statuses"),
    ("sgx:\n  mr_enclave:\n    - 'abcd'\n", 3, "sgx.mr_enclave[0]"),
    ("sgx:\n  mr_signer: ['zz']\n", 2, "sgx.mr_signer[0]"),
    ("sgx:\n  min_isv_svn: -1\n", 2, "sgx.min_isv_svn"),
    ("tdx:\n  rtmr0: ['" + "aa" * 32 + "']\n", 2, "tdx.rtmr0[0]"),
    ("tdx:\n  unsafe_allow_sept_ve_disabled: yes please\n", 2, "tdx.unsafe_allow_sept_ve_disabled"),
    ("unsafe_allow_debug: 1\n", 1, "unsafe_allow_debug"),
    ("snp: 3\n", 1, "snp"),
    ("snp:\n  min_reported_tcb: {bootlader: 3}\n", 2, "snp.min_reported_tcb.bootlader"),
    ("snp:\n  vmpl: [x]\n", 2, "snp.vmpl[0]"),
    ("snp:\n  min_firmware_version: '1.x'\n", 2, "snp.min_firmware_version"),
    ("cca:\n  allowed_lifecycle_states: [foo]\n", 2, "cca.allowed_lifecycle_states"),
    (
        "cca:\n  platform_sw_components: [{measurement: zz}]\n",
        2,
        "cca.platform_sw_components[0].measurement",
    ),
    ('{\n  "sgx": {\n    "isv_prod_id": ["one"]\n  }\n}\n', 3, "sgx.isv_prod_id[0]"),
]


@pytest.mark.parametrize(("doc", "line", "key"), CASES, ids=[c[2] for c in CASES])
def test_located_errors(tmp_path: Path, doc: str, line: int | None, key: str) -> None:
    f = tmp_path / "policy.yaml"
    f.write_text(doc)
    with pytest.raises(ConfigurationError) as ei:
        Policy.from_file(f)
    assert ei.value.reason is Reason.INVALID_POLICY
    message = str(ei.value)
    assert key in message and str(f) in message
    if line is not None:
        assert ei.value.details.get("line") == line
        assert f"{f}:{line}:" in message


@pytest.mark.parametrize("doc", ["tdx:\n  rtmr1: [\n", '{"sgx": {"mr_enclave": ["ab"]},}'])
def test_syntax_errors_say_where(tmp_path: Path, doc: str) -> None:
    f = tmp_path / "policy.yaml"
    f.write_text(doc)
    with pytest.raises(ConfigurationError) as ei:
        Policy.from_file(f)
    assert "line" in str(ei.value)


def test_policy_errors_name_line_and_key(tmp_path: Path) -> None:
    f = tmp_path / "p.yaml"
    f.write_text("accepted_tcb_statuses: [UpToDate]\ntdx:\n  mr_td:\n    - 'aa'\n")
    with pytest.raises(ConfigurationError) as ei:
        Policy.from_file(f)
    assert ei.value.details["line"] == 4
    assert "tdx.mr_td[0]" in str(ei.value)
    f.write_text('{\n  "sgx": {\n    "mr_signer": [],\n    "bogus": 1\n  }\n}\n')
    with pytest.raises(ConfigurationError) as ei:
        Policy.from_file(f)
    assert ei.value.details["line"] == 4 and "sgx.bogus" in str(ei.value)
