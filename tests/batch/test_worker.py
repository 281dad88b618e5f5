"""One record per item (batch/worker.py): any bytes give exactly one well-formed record."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cocoverify.batch import BatchConfig, BatchItem, InlineExecutor, verify_many

from _shared.batch import SAMPLE, SAMPLE_AT

_PROP_CFG = BatchConfig.create(at=SAMPLE_AT)
_QUOTE = (SAMPLE / "sgx" / "quote.bin").read_bytes()


@settings(max_examples=100, deadline=None)
@given(st.one_of(st.binary(max_size=2000), st.binary(min_size=1, max_size=64).map(
    lambda b: _QUOTE[: len(b) * 17] + b)))  # fmt: skip
def test_any_bytes_give_one_record(data: bytes) -> None:
    (rec,) = verify_many([BatchItem("p", data=data)], config=_PROP_CFG, executor=InlineExecutor())
    assert rec["path"] == "p" and rec["accepted"] is False
    assert rec["exit_code"] in (2, 3, 4, 5)
    assert rec["reason"] is not None
    json.dumps(rec)


def _open_read(path: str) -> bytes | tuple[str, str]:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except OSError as exc:
        return type(exc).__name__, str(exc)


def _item_read(path: str) -> bytes | tuple[str, str]:
    try:
        return BatchItem(path).read()
    except OSError as exc:
        return type(exc).__name__, str(exc)


def test_item_read_equals_open_read(tmp_path: Path) -> None:
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "big").write_bytes(bytes(range(256)) * 700)  # more than one read
    cases = ["empty", "big", ".", "missing", "big/below-a-file"]
    paths = [str(tmp_path / c) for c in cases] + [str(SAMPLE / "sgx" / "quote.bin")]
    if Path("/proc/version").exists():
        paths.append("/proc/version")  # no size in stat: read to the end
    for path in paths:
        assert _item_read(path) == _open_read(path), path
    assert BatchItem("x", data=b"given").read() == b"given"
