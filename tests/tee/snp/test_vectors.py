"""The project's own SNP vectors (cocoverify_testing.snp.generate_vectors), one defect each."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from cocoverify import verify
from cocoverify.collateral import load_collateral
from cocoverify.errors import CocoverifyError
from cocoverify.policy import Policy
from cocoverify.trust import TrustStore
from cocoverify_testing.snp import generate_vectors


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    out = tmp_path_factory.mktemp("snp-vectors")
    return out, generate_vectors(out)


def _trust(spec: dict[str, Any] | None) -> TrustStore:
    if spec is None:
        return TrustStore.default()
    arks = {p: frozenset(v) for p, v in spec.get("amd_arks", {}).items()}
    return TrustStore(amd_arks=arks)


def _outcome(base: Path, e: dict[str, Any]) -> tuple[str, int]:
    logging.getLogger("cocoverify.policy").setLevel(logging.ERROR)
    try:
        verify(
            (base / e["evidence"]).read_bytes(),
            collateral=load_collateral([base / c for c in e["collateral"]]),
            trust=_trust(e["trust"]),
            at=e["at"],
            policy=Policy.from_dict(e["policy"]),
        )
    except CocoverifyError as exc:
        return exc.reason.value, exc.exit_code
    return "accept", 0


def test_entries(generated: tuple[Path, list[dict[str, Any]]]) -> None:
    base, entries = generated
    failures = []
    for e in entries:
        got = _outcome(base, e)
        if got != (e["expected"], e["exit_code"]):
            failures.append((e["id"], e["expected"], e["exit_code"], got))
    assert not failures


def test_manifest_shape(generated: tuple[Path, list[dict[str, Any]]]) -> None:
    base, entries = generated
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    keys = {
        "id",
        "platform",
        "evidence",
        "collateral",
        "trust",
        "policy",
        "at",
        "expected",
        "exit_code",
        "features",
        "source",
    }
    for e in entries:
        assert set(e) == keys
        assert e["platform"] == "snp" and e["id"].startswith("snp.")
        assert not Path(e["evidence"]).is_absolute()
        assert (base / e["evidence"]).is_file()
        assert all((base / c).is_file() for c in e["collateral"])
        assert set(e["trust"]) == {"amd_arks"}


def test_the_defects_the_issue_asks_for(generated: tuple[Path, list[dict[str, Any]]]) -> None:
    _, entries = generated
    expected = {e["id"]: e["expected"] for e in entries}
    wanted = {
        "snp.chain.wrong_product_ark": "product_mismatch",
        "snp.chain.unpinned_ark": "untrusted_root",
        "snp.chain.ask_not_signed_by_ark": "chain_invalid",
        "snp.chain.vcek_not_signed_by_ask": "chain_invalid",
        "snp.chain.ask_expired": "certificate_expired",
        "snp.chain.vcek_not_yet_valid": "certificate_not_yet_valid",
        "snp.binding.turin_tcb_fmc": "tcb_mismatch",
        "snp.binding.milan_tcb_microcode": "tcb_mismatch",
        "snp.binding.hwid_mismatch": "chip_id_mismatch",
        "snp.accept.masked_chip_id": "accept",
        "snp.chain.vlek_presented_as_vcek": "key_type_mismatch",
        "snp.crl.ask_revoked": "certificate_revoked",
        "snp.crl.stale": "crl_expired",
        "snp.crl.bad_signature": "crl_invalid",
        "snp.signature.tampered_measurement": "signature_invalid",
        "snp.parse.unsupported_signature_algo": "unsupported_algorithm",
        "snp.parse.truncated_1183": "truncated",
    }
    assert {k: expected.get(k) for k in wanted} == wanted
