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
        ({"trust_claims": {"hardware": 2, "executables": 0}}, True),  # "none" claims pass
        # trustee's KBS affirming.rego denies a warning: so does the decision
        ({"trust_claims": {"hardware": 32}}, False),
        ({"trust_claims": {"hardware": 2, "configuration": 36}}, False),
        ({"allow": True, "trust_claims": {"executables": 33}}, False),
        ({"allow": True, "trust_claims": {}}, True),  # explicit allow
    ],
)
def test_only_an_affirming_status_is_allowed(value: dict[str, Any], allowed: bool) -> None:
    assert rego.decide(value).allowed is allowed


def test_status_and_vector_as_trustee_derives_them() -> None:
    # broker.rs: the vector holds the claims the policy sets; rust-ear
    # update_status_from_trust_vector: the worst tier, unset claims count as 0 ("none")
    d = rego.decide({"trust_claims": {"executables": 3, "hardware": 2, "configuration": 36}})
    assert d.trust_vector == {"configuration": 36, "executables": 3, "hardware": 2}
    assert list(d.trust_vector) == ["configuration", "executables", "hardware"]  # AR4SI order
    assert d.status == "warning" and not d.allowed
    d = rego.decide({"trust_claims": {"hardware": 97, "executables": 3}})
    assert d.status == "contraindicated" and not d.allowed
    assert rego.decide({"allow": True}).trust_vector is None  # no trust_claims: no vector


@pytest.mark.parametrize(
    "extensions",
    [
        "x",
        [{"name": "a", "key": 1}],
        [{"name": 1, "key": 1, "value": 0}],
        [{"name": "a", "key": True, "value": 0}],
        [{"name": "a", "key": 2**31, "value": 0}],
        [{"name": "a", "key": 1, "value": 0}, {"name": "a", "key": 2, "value": 0}],
        [{"name": "a", "key": 1, "value": 0}, {"name": "b", "key": 1, "value": 0}],
    ],
)
def test_malformed_extensions_are_configuration_errors(extensions: Any) -> None:
    with pytest.raises(ConfigurationError) as err:
        rego.decide({"trust_claims": {"hardware": 2}, "extensions": extensions})
    assert err.value.reason is Reason.INVALID_POLICY


def test_extensions_are_kept() -> None:
    ext = [{"name": "ear.trustee.identifiers", "key": -18, "value": {"validated": {}}, "x": 1}]
    d = rego.decide({"trust_claims": {"hardware": 2}, "extensions": ext})
    assert d.extensions == ({"name": "ear.trustee.identifiers", "key": -18,
                             "value": {"validated": {}}},)  # fmt: skip


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
        assert all(ear.tier(v) in ("affirming", "none") for v in d.trust_claims.values())
        assert d.status in (None, "affirming")
