"""Duplicate keys in policy files are errors (JSON and YAML), with the key and both lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from cocoverify.errors import ConfigurationError
from cocoverify.policy import Policy
from cocoverify.policy.check import check_text
from cocoverify.policy.files import parse_document, parse_with_duplicates

LOOSE_AFTER_STRICT_YAML = b"""accepted_tcb_statuses: [UpToDate]
tdx:
  mr_td: ["%s"]
accepted_tcb_statuses: [UpToDate, OutOfDate, SWHardeningNeeded]
""" % (b"ab" * 48)

LOOSE_AFTER_STRICT_JSON = b"""{
  "accepted_tcb_statuses": ["UpToDate"],
  "accepted_tcb_statuses": ["UpToDate", "OutOfDate"]
}
"""


@pytest.mark.parametrize(
    ("text", "suffix", "first", "second"),
    [(LOOSE_AFTER_STRICT_YAML, "yaml", 1, 4), (LOOSE_AFTER_STRICT_JSON, "json", 2, 3)],
)
def test_from_file_refuses_a_duplicate(
    tmp_path: Path, text: bytes, suffix: str, first: int, second: int
) -> None:
    path = tmp_path / f"p.{suffix}"
    path.write_bytes(text)
    with pytest.raises(ConfigurationError) as err:
        Policy.from_file(path)
    assert err.value.reason.value == "invalid_policy"
    message = str(err.value.args[0])
    assert "accepted_tcb_statuses" in message and f"lines {first} and {second}" in message
    assert message.startswith(f"{path}:{second}:")


def test_nested_duplicates_and_merge_keys() -> None:
    doc = b"tdx:\n  rtmr0: []\n  rtmr1: []\n  rtmr0: []\nsnp:\n  vmpl: [0]\n"
    _, dups = parse_with_duplicates(doc, "p")
    assert [(d.key, d.first, d.second) for d in dups] == [("rtmr0", 2, 4)]
    # a YAML merge key is not a duplicate of the keys it brings in
    merged = b"base: &b {vmpl: [0]}\nsnp:\n  <<: *b\n  vmpl: [1]\n"
    assert parse_with_duplicates(merged, "p")[1] == []
    # the same key in two different mappings is no duplicate
    assert parse_document(b"sgx: {isv_prod_id: [1]}\nsnp: {vmpl: [0]}\n", "p") is not None


def test_json_duplicates_inside_sections() -> None:
    doc = b'{"snp": {"vmpl": [0],\n "vmpl": [1]}}'
    _, dups = parse_with_duplicates(doc, "p")
    assert [(d.key, d.first, d.second) for d in dups] == [("vmpl", 1, 2)]


def test_check_lists_every_duplicate() -> None:
    doc = b"a: 1\nb: 2\na: 3\nb: 4\n"
    policy, problems = check_text(doc, "p.yaml")
    assert policy is None
    dups = [p for p in problems if "duplicate key" in p.message]
    assert [p.where for p in dups] == ["p.yaml:3", "p.yaml:4"]
