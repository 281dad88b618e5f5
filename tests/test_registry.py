"""The registry is the one list of evidence kinds: everything per kind is read from a TeeSpec."""

from __future__ import annotations

from cocoverify import registry
from cocoverify.batch import KEY_CLAIMS


def test_key_claims_come_from_the_specs_in_registry_order() -> None:
    expected = [c for spec in registry.TEES for c in spec.key_claims]
    assert list(KEY_CLAIMS) == [*dict.fromkeys(expected), "report_data"]
    intel = registry.spec_for("tdx").key_claims
    assert KEY_CLAIMS[: len(intel)] == intel and "mr_td" in intel


def test_every_kind_has_a_unique_name_and_tee_values() -> None:
    names = [spec.name for spec in registry.TEES]
    tees = [t for spec in registry.TEES for t in spec.tees]
    assert len(set(names)) == len(names) and len(set(tees)) == len(tees)
    for tee in tees:
        assert tee in registry.spec_for(tee).tees
