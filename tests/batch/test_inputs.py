"""Which files a batch verifies (batch/inputs.py): content detection, folders, globs,
``<file>.collateral/`` siblings."""

from __future__ import annotations

from pathlib import Path

from cocoverify.batch import (
    BatchConfig,
    BatchItem,
    InlineExecutor,
    Skipped,
    expand_inputs,
    looks_like_evidence,
    verify_many,
)

from _shared.batch import SAMPLE, SAMPLE_AT, SAMPLE_ROOT, sample_copy, sample_trust


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


def test_content_checked_on_the_workers_gives_the_same_records(tmp_path: Path) -> None:
    root = sample_copy(tmp_path)
    (root / "notes.txt").write_text("hello")
    (root / "sgx" / "hex.txt").write_text((SAMPLE / "sgx" / "quote.bin").read_bytes().hex())
    (root / "dangling.bin").symlink_to(root / "nowhere")  # found, cannot be read: skipped
    cfg = BatchConfig.create(at=SAMPLE_AT, trust=sample_trust())
    here = expand_inputs([str(root)])
    there = expand_inputs([str(root)], check_content=False)
    assert [e.path for e in here] == [e.path for e in there]
    assert all(isinstance(e, BatchItem) and e.only_evidence for e in there)
    # one file by two names: still verified once when found in a folder
    (root / "again.bin").symlink_to(root / "sgx" / "quote.bin")
    assert len(expand_inputs([str(root)], check_content=False)) == len(there)

    def records(entries: list[BatchItem | Skipped]) -> list[dict[str, object]]:
        items = [e for e in entries if isinstance(e, BatchItem)]
        results = iter(verify_many(items, config=cfg, executor=InlineExecutor()))
        return [e.record() if isinstance(e, Skipped) else next(results) for e in entries]

    assert records(here) == records(there)
    assert sum("skipped" in r for r in records(there)) == 2  # notes.txt, dangling.bin
