"""Per-item collateral in batch runs: a file's own ``<file>.collateral/`` folder is its alone, and
collateral replaced on disk is read again by a long-lived process (no stale cached copy)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from cryptography import x509

import cocoverify
from cocoverify.batch import BatchConfig, BatchItem, InlineExecutor, expand_inputs, verify_many

from _shared import PROJECT_VECTORS

SAMPLE = PROJECT_VECTORS / "sample"
SAMPLE_AT = "2025-06-01T00:00:00Z"
SAMPLE_ROOT = SAMPLE / "trust" / "intel_root_ca.pem"


def _config() -> Any:
    trust = cocoverify.TrustStore.from_certificates(
        intel=x509.load_pem_x509_certificates(SAMPLE_ROOT.read_bytes())
    )
    return BatchConfig.create(trust=trust, at=SAMPLE_AT)


def test_collateral_from_dir_does_not_reach_into_sibling_collateral(tmp_path: Path) -> None:
    # fleet/a.bin has no collateral of its own; fleet/b.bin.collateral/ belongs to b.bin
    fleet = tmp_path / "fleet"
    fleet.mkdir()
    shutil.copy(SAMPLE / "sgx" / "quote.bin", fleet / "a.bin")
    shutil.copy(SAMPLE / "sgx" / "quote.bin", fleet / "b.bin")
    shutil.copytree(SAMPLE / "sgx" / "collateral", fleet / "b.bin.collateral")
    (fleet / "case").mkdir()
    shutil.copytree(SAMPLE / "sgx" / "collateral", fleet / "case" / "collateral")
    entries = expand_inputs([str(fleet)], collateral_from_dir=True)
    items = [e for e in entries if isinstance(e, BatchItem)]
    assert [Path(i.path).name for i in items] == ["a.bin", "b.bin"]
    recs = list(verify_many(items, config=_config(), executor=InlineExecutor()))
    assert recs[0]["exit_code"] == 4  # no collateral: not b.bin's
    assert recs[1]["accepted"] is True
    # collateral directly in the folder is still used
    for f in (SAMPLE / "sgx" / "collateral").iterdir():
        shutil.copy(f, fleet / f.name)
    (fleet / "README.txt").write_text("not collateral")
    recs = list(verify_many([BatchItem(str(fleet / "a.bin"), collateral_dir=str(fleet))],
                            config=_config(), executor=InlineExecutor()))  # fmt: skip
    assert recs[0]["accepted"] is True


def test_replaced_collateral_is_not_shadowed_by_a_cached_copy(tmp_path: Path) -> None:
    # a long-lived process (InlineExecutor, Dask, threads) must see new collateral files,
    # e.g. a fresh CRL: the per-process caches were keyed by path only
    shared, sibling = tmp_path / "shared", tmp_path / "q.bin.collateral"
    shared.mkdir()
    sibling.mkdir()
    shutil.copy(SAMPLE / "sgx" / "quote.bin", tmp_path / "q.bin")
    base = _config()
    cfg = BatchConfig.create(collateral=[str(shared)], at=SAMPLE_AT, trust=base.trust())
    item = BatchItem(str(tmp_path / "q.bin"), collateral=(str(sibling),))

    def run() -> dict[str, Any]:
        [rec] = verify_many([item], config=cfg, executor=InlineExecutor())
        return rec

    assert run()["exit_code"] == 4
    for f in (SAMPLE / "sgx" / "collateral").iterdir():
        shutil.copy(f, shared / f.name)
    assert run()["accepted"] is True  # shared collateral re-read
    for f in shared.iterdir():
        shutil.move(f, sibling / f.name)
    assert run()["accepted"] is True  # per-item collateral re-read
    for f in sibling.iterdir():
        f.unlink()
    assert run()["exit_code"] == 4
