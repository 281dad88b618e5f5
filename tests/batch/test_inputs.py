"""Which files a batch verifies (batch/inputs.py): content detection, folders, globs,
``<file>.collateral/`` siblings."""

from __future__ import annotations

from pathlib import Path

from cocoverify.batch import BatchItem, Skipped, expand_inputs, looks_like_evidence

from _shared.batch import SAMPLE, SAMPLE_ROOT, sample_copy


def test_looks_like_evidence() -> None:
    assert looks_like_evidence((SAMPLE / "sgx" / "quote.bin").read_bytes())
    assert looks_like_evidence((SAMPLE / "sgx" / "quote.bin").read_bytes().hex().encode())
    assert not looks_like_evidence(SAMPLE_ROOT.read_bytes())
    assert not looks_like_evidence((SAMPLE / "sgx" / "collateral" / "tcb_info.json").read_bytes())
    assert not looks_like_evidence((SAMPLE / "sgx" / "collateral" / "pck_crl.der").read_bytes())
    assert not looks_like_evidence(b"")


def test_expand_inputs(tmp_path: Path) -> None:
    root = sample_copy(tmp_path)
    (root / "notes.txt").write_text("hello")
    (root / ".hidden").write_bytes((SAMPLE / "sgx" / "quote.bin").read_bytes())
    explicit = root / "notes.txt"
    entries = expand_inputs([str(root), str(explicit), str(root / "sgx" / "quote.bin")])
    paths = [e.path for e in entries]
    sgx, tdx = str(root / "sgx" / "quote.bin"), str(root / "tdx" / "quote.bin")
    # folder: sorted, recursive, content-detected, collateral dirs and dot files left out;
    # explicit files always verified; duplicates once
    assert paths == [str(root / "notes.txt"), sgx, tdx]
    assert isinstance(entries[0], Skipped)
    assert isinstance(entries[1], BatchItem)
    assert entries[1].collateral == (sgx + ".collateral",)
    # glob
    entries = expand_inputs([str(root / "*" / "*")])
    assert [e.path for e in entries] == [sgx, tdx]  # collateral dirs are not inputs
    entries = expand_inputs([str(root / "**" / "*.der")])
    assert entries == []
    # --collateral-from-dir adds the file's own folder; explicit missing files are kept
    entries = expand_inputs([sgx, str(root / "nope.bin")], collateral_from_dir=True)
    assert isinstance(entries[0], BatchItem)
    assert entries[0].collateral == (sgx + ".collateral",)
    assert entries[0].collateral_dir == str(root / "sgx")  # loaded one level deep
    assert isinstance(entries[1], BatchItem)
