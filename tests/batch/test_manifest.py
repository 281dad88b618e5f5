"""JSON-lines manifests (batch/manifest.py): parsing and its errors with line numbers, each
line's own time, expected report data and collateral in one run, and collateral folders
loaded once per distinct folder per worker process."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import cocoverify.batch.worker as worker
from cocoverify.batch import (
    BatchConfig,
    BatchItem,
    InlineExecutor,
    manifest_item,
    parse_manifest,
    read_manifest,
    verify_many,
)
from cocoverify.errors import ConfigurationError, Reason

from _shared.batch import SAMPLE, SAMPLE_AT, sample_trust

LATE = "2025-07-01T00:00:00Z"  # after the sample TCB Info's nextUpdate (2025-06-19)


def _sample_fleet(root: Path, n: int = 6) -> tuple[Path, str]:
    """``n`` copies of the sample SGX quote and one shared collateral folder."""
    (root / "q").mkdir(parents=True)
    shutil.copytree(SAMPLE / "sgx" / "collateral", root / "coll")
    for i in range(n):
        shutil.copy(SAMPLE / "sgx" / "quote.bin", root / "q" / f"{i}.bin")
    [rec] = verify_many(
        [BatchItem(str(root / "q" / "0.bin"), collateral=(str(root / "coll"),))],
        config=BatchConfig.create(at=SAMPLE_AT, trust=sample_trust()),
        executor=InlineExecutor(),
    )
    return root, rec["claims"]["report_data"]


def _write(path: Path, lines: list[Any]) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def test_lines_become_items_relative_to_the_manifest_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.bin.collateral").mkdir()
    manifest = _write(
        tmp_path / "sub" / "m.jsonl",
        [
            {"path": "a.bin"},
            "",
            {
                "path": "b.bin",
                "at": "2025-07-04T12:28:44+02:00",
                "report_data": "0xABcd",
                "collateral": "coll",
                "id": "node-7",
            },
            {"path": "/abs/c.bin", "collateral": ["x", "/abs/y"]},
        ],
    )
    a, b, c = read_manifest(str(manifest))
    sub = str(tmp_path / "sub")
    assert a == BatchItem(os.path.join(sub, "a.bin"))
    assert b.path == os.path.join(sub, "b.bin")
    assert b.at == "2025-07-04T10:28:44Z"  # normalised to UTC
    assert b.report_data == bytes.fromhex("abcd") and b.id == "node-7"
    # its own collateral, then the <file>.collateral/ convention
    assert b.collateral == (os.path.join(sub, "coll"), os.path.join(sub, "b.bin.collateral"))
    assert c.collateral == (os.path.join(sub, "x"), "/abs/y") and c.path == "/abs/c.bin"
    # --collateral-from-dir applies to listed files too
    (a2, *_) = read_manifest(str(manifest), collateral_from_dir=True)
    assert a2.collateral_dir == sub


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("{not json", "not JSON"),
        ('["a.bin"]', "expected a JSON object"),
        ('{"path": "a.bin", "nonce": "00"}', "unknown key 'nonce'"),
        ('{"at": "2025-01-01T00:00:00Z"}', "'path' is missing"),
        ('{"path": ""}', "path: expected a non-empty string"),
        ('{"path": 7}', "path: expected a non-empty string"),
        ('{"path": "a.bin", "at": "yesterday"}', "at:"),
        ('{"path": "a.bin", "at": null}', "at: expected a non-empty string"),
        ('{"path": "a.bin", "report_data": "xyz"}', "report_data: not hex"),
        ('{"path": "a.bin", "report_data": "abc"}', "report_data: not hex"),
        ('{"path": "a.bin", "report_data": "0x"}', "report_data: 0 bytes"),
        ('{"path": "a.bin", "report_data": "' + "00" * 1025 + '"}', "report_data: 1025 bytes"),
        ('{"path": "a.bin", "collateral": []}', "collateral: expected"),
        ('{"path": "a.bin", "collateral": [3]}', "collateral: expected"),
        ('{"path": "a.bin", "id": 5}', "id: expected a non-empty string"),
        ('{"path": "a.bin", "path": "b.bin"}', "duplicate key 'path'"),
        ('{"path": "first.bin"}', "path '"),  # repeated from line 1
        ('{"path": "other.bin", "id": "one"}', "id 'one' is already on line 1"),
    ],
)
def test_bad_lines_are_argument_errors_naming_the_line(line: str, what: str) -> None:
    text = io.StringIO('{"path": "first.bin", "id": "one"}\n\n' + line + "\n")
    with pytest.raises(ConfigurationError) as info:
        list(parse_manifest(text, name="fleet.jsonl"))
    assert info.value.reason is Reason.INVALID_ARGUMENT
    assert info.value.exit_code == 1
    message = str(info.value.args[0])
    assert message.startswith("fleet.jsonl:3: ") and what in message, message


def test_unreadable_manifest_is_an_argument_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        read_manifest(str(tmp_path / "absent.jsonl"))
    assert info.value.reason is Reason.INVALID_ARGUMENT


def test_each_line_has_its_own_time_and_report_data_in_one_run(tmp_path: Path) -> None:
    root, report_data = _sample_fleet(tmp_path, 4)
    wrong = "ff" + report_data[2:]
    lines = [
        {"path": "q/0.bin", "collateral": "coll", "at": SAMPLE_AT, "id": "in-window"},
        {"path": "q/1.bin", "collateral": "coll", "at": LATE, "id": "after-next-update"},
        {"path": "q/2.bin", "collateral": "coll", "report_data": report_data},
        {"path": "q/3.bin", "collateral": "coll", "report_data": wrong},
    ]
    items = read_manifest(str(_write(root / "m.jsonl", lines)))
    cfg = BatchConfig.create(at=SAMPLE_AT, trust=sample_trust())  # lines 3-4: this time
    recs = list(verify_many(items, config=cfg, executor=InlineExecutor()))
    assert [r["exit_code"] for r in recs] == [0, 4, 0, 5]
    assert [r.get("id") for r in recs] == ["in-window", "after-next-update", None, None]
    assert [r["verified_at"] for r in recs[:1]] == [SAMPLE_AT]
    assert recs[1]["reason"] in (Reason.CRL_EXPIRED.value, Reason.COLLATERAL_EXPIRED.value)
    assert recs[3]["reason"] == Reason.REPORT_DATA_MISMATCH.value
    # the same items as dicts (relative to the working directory) give the same records
    as_dicts = [
        {**line, "path": str(root / line["path"]), "collateral": str(root / "coll")}
        for line in lines
    ]
    assert list(verify_many(as_dicts, config=cfg, executor=InlineExecutor())) == recs
    with pytest.raises(ConfigurationError):
        list(verify_many([{"path": "x", "colateral": "y"}], executor=InlineExecutor()))
    # on a process pool too
    assert list(verify_many(items, config=cfg, max_workers=2)) == recs


def test_manifest_item_checks_like_a_line() -> None:
    assert manifest_item({"path": "a"}, folder="/f") == BatchItem("/f/a")
    with pytest.raises(ConfigurationError, match="unknown key"):
        manifest_item({"path": "a", "extra": 1})


def _log_loads(log: str) -> None:
    """Pool initializer: record every collateral load of this worker process."""
    real = worker.load_collateral

    def counting(paths: Any) -> Any:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps([os.getpid(), list(paths)]) + "\n")
        return real(paths)

    worker.load_collateral = counting  # type: ignore[assignment]


def test_collateral_folders_load_once_per_folder_per_worker(tmp_path: Path) -> None:
    root, _ = _sample_fleet(tmp_path, 40)
    shutil.copytree(root / "coll", root / "coll2")
    lines = [
        {
            "path": f"q/{i}.bin",
            "collateral": "coll" if i % 2 else "coll2",
            "at": SAMPLE_AT if i % 3 else "2025-06-02T00:00:00Z",
        }
        for i in range(40)
    ]
    items = read_manifest(str(_write(root / "m.jsonl", lines)))
    cfg = BatchConfig.create(at=SAMPLE_AT, trust=sample_trust())
    log = tmp_path / "loads.log"
    ctx = multiprocessing.get_context("fork")  # the initializer patches the forked module
    with ProcessPoolExecutor(2, mp_context=ctx, initializer=_log_loads, initargs=(str(log),)) as ex:
        recs = list(verify_many(items, config=cfg, executor=ex, chunksize=3))
    assert all(r["accepted"] for r in recs), recs[0]
    loads = [json.loads(x) for x in log.read_text().splitlines()]
    per_worker: dict[int, list[str]] = {}
    for pid, paths in loads:
        per_worker.setdefault(pid, []).extend(paths)
    assert per_worker  # the workers did load
    for paths in per_worker.values():
        assert sorted(paths) == sorted(set(paths)), paths  # each folder once per worker
        assert set(paths) <= {str(root / "coll"), str(root / "coll2")}
    # and in this process: one load per folder, however many items and times
    for fn in (worker._cached_item_collateral, worker._cached_item_verifier):
        fn.cache_clear()
    list(verify_many(items, config=cfg, executor=InlineExecutor()))
    assert worker._cached_item_collateral.cache_info().misses == 2
    assert worker._cached_item_verifier.cache_info().misses == 2
