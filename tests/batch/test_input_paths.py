"""Batch input paths: ``..`` is resolved through symbolic links, never folded lexically, and two
names of one file are verified once."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from cryptography import x509

import cocoverify
from cocoverify.batch import BatchConfig, InlineExecutor, expand_inputs, verify_many

from _shared import PROJECT_VECTORS

SAMPLE = PROJECT_VECTORS / "sample"
SAMPLE_AT = "2025-06-01T00:00:00Z"
SAMPLE_ROOT = SAMPLE / "trust" / "intel_root_ca.pem"


def _config() -> Any:
    trust = cocoverify.TrustStore.from_certificates(
        intel=x509.load_pem_x509_certificates(SAMPLE_ROOT.read_bytes())
    )
    return BatchConfig.create(trust=trust, at=SAMPLE_AT)


def test_dot_dot_paths_are_not_folded_lexically(tmp_path: Path) -> None:
    # tmp/link -> tmp/a/b, so tmp/link/../q.bin is tmp/a/q.bin, but normpath says tmp/q.bin
    (tmp_path / "a" / "b").mkdir(parents=True)
    os.symlink(tmp_path / "a" / "b", tmp_path / "link")
    shutil.copy(SAMPLE / "sgx" / "quote.bin", tmp_path / "a" / "q.bin")
    (tmp_path / "q.bin").write_bytes(b"\x00" * 9)  # a different file at the folded path
    asked = str(tmp_path / "link" / ".." / "q.bin")
    [item] = expand_inputs([asked])
    assert os.path.realpath(item.path) == os.path.realpath(tmp_path / "a" / "q.bin")
    cfg = _config()
    [rec] = verify_many([item], config=cfg, executor=InlineExecutor())
    assert rec["tee"] == "sgx"  # the quote was read, not the 9 zero bytes
    # two names for one file are verified once
    entries = expand_inputs([asked, str(tmp_path / "a" / "q.bin")])
    assert len(entries) == 1
