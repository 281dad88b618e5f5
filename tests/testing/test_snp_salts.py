"""The recorded RSA-PSS salts reproduce the committed SNP vectors, also in a busy process."""

from __future__ import annotations

import json
from pathlib import Path

from cocoverify.trust import fingerprint
from cocoverify_testing.snp import FakeAmdPKI, SnpReportBuilder, generate_vectors, salts

from _shared import PROJECT_VECTORS


def test_salt_file_is_what_the_committed_vectors_hold() -> None:
    recorded = json.loads(salts.SALTS_FILE.read_text(encoding="utf-8"))
    assert salts.harvest(PROJECT_VECTORS) == recorded


def test_snp_generation_in_process_reproduces_the_committed_files(tmp_path: Path) -> None:
    # authorities built outside a run (random salts, memoised) must not leak into the run
    milan = FakeAmdPKI("Milan")
    before = fingerprint(milan.ark)
    milan.vcek_for(SnpReportBuilder.for_product("Milan").sign(milan))
    entries = generate_vectors(tmp_path)
    committed = {
        c["id"]: c for c in json.loads((PROJECT_VECTORS / "manifest.json").read_text())["cases"]
    }
    assert entries == [committed[e["id"]] for e in entries]
    files = sorted(p.relative_to(tmp_path) for p in (tmp_path / "snp").rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(PROJECT_VECTORS) for p in (PROJECT_VECTORS / "snp").rglob("*") if p.is_file()
    )
    differ = [f for f in files if (tmp_path / f).read_bytes() != (PROJECT_VECTORS / f).read_bytes()]
    assert not differ
    assert fingerprint(milan.ark) == before  # outside the run: the same memoised ARK
