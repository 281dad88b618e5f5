"""Arm CCA: the project's generated vectors (cocoverify_testing.cca.generate_vectors)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest

import cocoverify
from cocoverify import CocoverifyError, MalformedEvidence, Policy
from cocoverify.cli import main as cli_main
from cocoverify_testing.cca import generate_vectors


@pytest.fixture(scope="module")
def vectors(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    root = tmp_path_factory.mktemp("vectors")
    return root, generate_vectors(root)


def _entries() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as d:
        return generate_vectors(Path(d))


ENTRIES = _entries()

# For claim defects the error must name the claim (MalformedEvidence.field).
FIELDS = {
    "cca.platform.profile_missing": "platform.profile",
    "cca.platform.challenge_missing": "platform.challenge",
    "cca.platform.implementation_id_missing": "platform.implementation_id",
    "cca.platform.instance_id_missing": "platform.instance_id",
    "cca.platform.config_missing": "platform.config",
    "cca.platform.lifecycle_missing": "platform.lifecycle",
    "cca.platform.sw_components_missing": "platform.sw_components",
    "cca.platform.hash_algo_id_missing": "platform.hash_algo_id",
    "cca.platform.client_id_missing": "platform.client_id",
    "cca.platform.challenge_array": "platform.challenge",
    "cca.platform.challenge_31": "platform.challenge",
    "cca.platform.implementation_id_33": "platform.implementation_id",
    "cca.platform.instance_id_32": "platform.instance_id",
    "cca.platform.instance_id_type": "platform.instance_id",
    "cca.platform.lifecycle_out_of_range": "platform.lifecycle",
    "cca.platform.sw_components_empty": "platform.sw_components",
    "cca.platform.sw_component_no_measurement": "platform.sw_components[0].measurement",
    "cca.platform.sw_component_no_signer": "platform.sw_components[0].signer_id",
    "cca.platform.sw_component_measurement_20": "platform.sw_components[0].measurement",
    "cca.platform.verification_service_empty": "platform.verification_service",
    "cca.realm.challenge_missing": "realm.challenge",
    "cca.realm.personalization_value_missing": "realm.personalization_value",
    "cca.realm.initial_measurement_missing": "realm.initial_measurement",
    "cca.realm.extensible_measurements_missing": "realm.extensible_measurements",
    "cca.realm.hash_algo_id_missing": "realm.hash_algo_id",
    "cca.realm.public_key_missing": "realm.public_key",
    "cca.realm.public_key_hash_algo_id_missing": "realm.public_key_hash_algo_id",
    "cca.realm.instance_id_missing": "realm.instance_id",
    "cca.realm.mec_policy_missing": "realm.mec_policy",
    "cca.realm.mec_policy_2": "realm.mec_policy",
    "cca.realm.challenge_32": "realm.challenge",
    "cca.realm.rpv_32": "realm.personalization_value",
    "cca.realm.rim_20": "realm.initial_measurement",
    "cca.realm.rems_3": "realm.extensible_measurements",
    "cca.realm.rems_5": "realm.extensible_measurements",
    "cca.realm.rem_20": "realm.extensible_measurements[3]",
    "cca.realm.raw_rak_wrong_length": "realm.public_key",
    "cca.realm.rak_off_curve": "realm.public_key",
    "cca.realm.duplicate_claim": "realm.payload",
    "cca.platform.duplicate_claim": "platform.payload",
    "cca.container.content_format": "container.platform.content_format",
    "cca.container.platform_missing": "container.platform",
    "cca.container.realm_missing": "container.realm",
    "cca.cose.platform_untagged": "platform.cose",
    "cca.cose.realm_untagged": "realm.cose",
}


def test_manifest_entries_are_well_formed() -> None:
    ids = [e["id"] for e in ENTRIES]
    assert len(ids) == len(set(ids))
    assert set(FIELDS) <= set(ids)
    for e in ENTRIES:
        assert e["platform"] == "cca" and e["trust"] is None
        assert e["expected"] == "accept" or e["exit_code"] in (2, 3, 4, 5)
        json.dumps(e)


def test_generation_is_deterministic(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate_vectors(a)
    generate_vectors(b)
    for e in ENTRIES:
        assert (a / e["evidence"]).read_bytes() == (b / e["evidence"]).read_bytes(), e["id"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_vector(entry: dict[str, Any], vectors: tuple[Path, list[dict[str, Any]]]) -> None:
    root, _ = vectors
    data = (root / entry["evidence"]).read_bytes()
    collateral = [root / c for c in entry["collateral"]]
    policy = Policy.from_dict(entry["policy"])
    if entry["expected"] == "accept":
        result = cocoverify.verify(data, collateral=collateral, policy=policy, at=entry["at"])
        assert result.accepted
        return
    with pytest.raises(CocoverifyError) as err:
        cocoverify.verify(data, collateral=collateral, policy=policy, at=entry["at"])
    assert err.value.reason.value == entry["expected"]
    assert err.value.exit_code == entry["exit_code"]
    if entry["id"] in FIELDS:
        assert isinstance(err.value, MalformedEvidence)
        assert err.value.field == FIELDS[entry["id"]]


@pytest.mark.parametrize(
    "case_id", ["cca.accept.p384_cmw907", "cca.sig.platform_bitflip", "cca.cose.alg_missing"]
)
def test_cli_json_contract(
    case_id: str,
    vectors: tuple[Path, list[dict[str, Any]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, entries = vectors
    entry = next(e for e in entries if e["id"] == case_id)
    args = ["verify", str(root / entry["evidence"])]
    for c in entry["collateral"]:
        args += ["--collateral", str(root / c)]
    args += ["--at", entry["at"], "--format", "json"]
    code = cli_main(args)
    out = json.loads(capsys.readouterr().out)
    assert code == entry["exit_code"]
    if entry["expected"] == "accept":
        assert out["accepted"] is True and out["tee"] == "cca"
        assert len(out["claims"]["realm"]["challenge"]) == 128  # hex
    else:
        assert out["reason"] == entry["expected"]
