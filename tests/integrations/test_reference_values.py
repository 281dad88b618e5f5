"""The reference-value store (trustee's RVPS as a file) and ``query_reference_value`` in Rego."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from cocoverify import rego
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.integrations.reference import ReferenceValues, load_reference_values

AT = dt.datetime(2025, 7, 4, tzinfo=dt.UTC)
VALUES = {"snp_launch_measurement": ["aa", "bb"], "snp_smt_enabled": True, "svn": 3}


# --- the three document shapes ----------------------------------------------------------------


def test_plain_mapping() -> None:
    rv = load_reference_values(VALUES)
    assert rv.query("snp_launch_measurement") == ["aa", "bb"]
    assert rv.query("snp_smt_enabled") is True
    assert rv.query("absent") is None  # trustee: null when the id is unknown
    assert rv.document() == VALUES


def test_rvps_records_with_expiration() -> None:
    records = [
        {"version": "0.1.0", "name": "a", "expiration": "2025-07-03T00:00:00Z", "value": [1]},
        {"name": "b", "expiration": "2026-01-01T00:00:00Z", "value": [2]},
        {"name": "c", "value": [3]},
    ]
    rv = load_reference_values(records)
    # an expired reference value is absent at the verification time (trustee still serves it)
    assert rv.query("a", AT) is None and rv.query("a") == [1]
    assert rv.query("b", AT) == [2] and rv.query("c", AT) == [3]
    assert rv.document(AT) == {"b": [2], "c": [3]}


def test_rvps_sample_message() -> None:
    payload = base64.b64encode(json.dumps(VALUES).encode()).decode()
    msg = {"version": "0.1.0", "type": "sample", "payload": payload}
    assert load_reference_values(msg).document() == VALUES


def test_files_json_and_yaml(tmp_path: Path) -> None:
    j = tmp_path / "rv.json"
    j.write_text(json.dumps(VALUES))
    y = tmp_path / "rv.yaml"
    y.write_text('snp_launch_measurement: ["aa", "bb"]\nsnp_smt_enabled: true\nsvn: 3\n')
    assert load_reference_values(j).document() == VALUES
    assert load_reference_values(str(y)).document() == VALUES
    assert load_reference_values(j.read_bytes()).document() == VALUES


@pytest.mark.parametrize(
    "doc",
    [
        b'{"a": 1, "a": 2}',  # duplicate id
        b"a: 1\na: 2\n",
        b'{"a": NaN}',
        b"a: 2025-01-01\n",  # a YAML date is not a JSON value
        b"[1]",
        b'[{"name": "a"}]',
        b'[{"name": "a", "value": 1, "extra": 0}]',
        b'[{"name": "a", "value": 1}, {"name": "a", "value": 2}]',
        b'[{"name": "a", "value": 1, "expiration": "tomorrow"}]',
        b'{"type": "sample", "payload": "***"}',
        b'{"version": "9", "type": "sample", "payload": ""}',
        b"\xff",
        b"a: [",
        b"3",
    ],
)
def test_bad_documents_are_configuration_errors(doc: bytes) -> None:
    with pytest.raises(ConfigurationError) as err:
        load_reference_values(doc)
    assert err.value.reason is Reason.INVALID_ARGUMENT


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        load_reference_values(tmp_path / "absent.json")


def test_store_is_frozen() -> None:
    rv = ReferenceValues(values={"a": [1]})
    with pytest.raises(TypeError):
        rv.values["b"] = 2  # type: ignore[index]


# --- in Rego: query_reference_value and data.reference ----------------------------------------

pytest.importorskip("regopy", reason="the optional Rego engine (cocoverify[rego]) is absent")

POLICY = """
package policy
import rego.v1

by_function if input.m in query_reference_value("m")
by_data if input.m in data.reference.m
missing := query_reference_value("absent")
"""


@pytest.mark.parametrize(("m", "match"), [("aa", True), ("cc", False)])
def test_query_reference_value_and_data_reference(m: str, match: bool) -> None:
    out = rego.evaluate_rego(POLICY, {"m": m}, reference_values={"m": ["aa", "bb"]})
    assert out.get("by_function", False) is match
    assert out.get("by_data", False) is match
    assert out["missing"] is None


def test_without_a_store_every_reference_value_is_null() -> None:
    out = rego.evaluate_rego(POLICY, {"m": "aa"})
    assert out == {"missing": None}


def test_expired_values_do_not_match() -> None:
    records = [{"name": "m", "value": ["aa"], "expiration": "2025-01-01T00:00:00Z"}]
    out = rego.evaluate_rego(POLICY, {"m": "aa"}, reference_values=records, at=AT)
    assert "by_function" not in out and "by_data" not in out


def test_a_policy_defining_the_function_keeps_its_own() -> None:
    text = (
        'package policy\nquery_reference_value(id) := ["mine"]\nx := query_reference_value("a")\n'
    )
    assert rego.evaluate_rego(text, {}, reference_values={"a": ["rv"]})["x"] == ["mine"]


def test_other_packages_get_the_function_too() -> None:
    text = 'package kbs.policy\nx := query_reference_value("a")\n'
    assert rego.evaluate_rego(text, {}, query="data.kbs.policy.x", reference_values={"a": 1}) == 1


def test_reference_values_twice_is_an_error() -> None:
    with pytest.raises(ConfigurationError) as err:
        rego.evaluate_rego(POLICY, {}, data={"reference": {}}, reference_values={})
    assert err.value.reason is Reason.INVALID_ARGUMENT


@pytest.mark.parametrize(
    "text",
    [
        "package policy\nx := unknown_function(1)\n",  # regopy hands the error report to json
        "package policy\nx := 1 / 0\n",
        "package policy\nimport rego.v1\nx := input.a.b.c\n",
        "package policy\nx := time.parse_rfc3339_ns(input.s)\n",
    ],
)
def test_no_policy_ends_in_an_internal_error(text: str) -> None:
    try:
        rego.evaluate_rego(text, {"a": 1, "s": "not a time"})
    except ConfigurationError as exc:
        assert exc.reason is Reason.INVALID_POLICY


@pytest.mark.parametrize(
    "inp",
    [{"x": float("nan")}, {"x": float("inf")}, {"x": object()}, {"x": "\ud800"}],
)
def test_no_input_ends_in_an_internal_error(inp: Any) -> None:
    try:
        rego.evaluate_rego("package policy\nx := input.x\n", inp)
    except ConfigurationError as exc:
        assert exc.reason in (Reason.INVALID_POLICY, Reason.INVALID_ARGUMENT)


@pytest.mark.parametrize("n", [2**63, 2**64 - 1, -(2**63) - 1, 2**80])
def test_large_integers_reach_the_policy_exactly(n: int) -> None:
    # rego-cpp wraps integers beyond 64 bits when given Python objects; as JSON text it does not
    assert rego.evaluate_rego("package policy\nx := input.x\n", {"x": n})["x"] == n


@pytest.mark.parametrize("n", [2**63, 2**64 - 1])
def test_large_reference_values_reach_the_policy_exactly(n: int) -> None:
    text = 'package policy\nx := query_reference_value("n")\n'
    assert rego.evaluate_rego(text, {}, reference_values={"n": n})["x"] == n
