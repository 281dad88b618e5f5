"""The Rego decision rule (``rego.decide``) on the query's value: no engine needed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cocoverify import ear, rego
from cocoverify.errors import ConfigurationError, Reason


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ({"trust_claims": {}}, False),  # trustee: no trust claim set, no token
        ({"trust_claims": {"hardware": 0, "executables": 1}}, False),  # all "none"
        ({"trust_claims": {"hardware": 2}}, True),
        ({"trust_claims": {"hardware": 32}}, True),
        ({"allow": True, "trust_claims": {}}, True),  # explicit allow
    ],
)
def test_without_allow_some_trust_claim_must_affirm(value: dict[str, Any], allowed: bool) -> None:
    assert rego.decide(value).allowed is allowed


# --- property: the decision rule never crashes ------------------------------------------------


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-300, 300) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["allow", "trust_claims", "hardware", "executables", "x"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_decide_only_decides_or_raises_configuration_errors(value: Any) -> None:
    try:
        d = rego.decide(value)
    except ConfigurationError as exc:
        assert exc.reason is Reason.INVALID_POLICY
        return
    assert isinstance(value, dict)
    if d.allowed:
        assert value.get("allow", True) is True
        assert all(ear.tier(v) != "contraindicated" for v in d.trust_claims.values())
