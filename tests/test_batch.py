"""Batch verification: the library engine, input expansion, and ``cocoverify batch``."""

from __future__ import annotations

import io
import json
import pickle
import shutil
import warnings
from collections.abc import Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cocoverify
from cocoverify import Policy, Reason, TrustStore
from cocoverify.batch import (
    BatchConfig,
    BatchItem,
    InlineExecutor,
    Skipped,
    batch_exit_code,
    expand_inputs,
    looks_like_evidence,
    record_for,
    verify_many,
)
from cocoverify.cli import main
from cocoverify.cli.batch import Progress, summary_table
from cocoverify.errors import CocoverifyError

from _shared import PROJECT_VECTORS, require_shared, shared_manifest

SAMPLE = PROJECT_VECTORS / "sample"
SAMPLE_AT = "2025-06-01T00:00:00Z"
SAMPLE_ROOT = SAMPLE / "trust" / "intel_root_ca.pem"
INTEL_ROLES = ("tcb_info", "qe_identity", "pck_crl", "root_ca_crl", "pck_crl_issuer_chain",
               "tcb_info_issuer_chain", "qe_identity_issuer_chain", "pck_cert_chain")  # fmt: skip
AMD_ROLES = ("vcek", "vlek", "ask", "asvk", "ark", "crl")
CCA_AT = "2026-01-01T00:00:00Z"


def _direct(
    data: bytes, path: str, cfg: BatchConfig, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What one ``verify()`` call says, as a batch record."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result = cocoverify.verify(
                data,
                collateral=list(cfg.collateral) + list(extra),
                policy=cfg.policy(),
                trust=cfg.trust(),
                at=cfg.at,
            )
        except CocoverifyError as exc:
            from cocoverify._core.text import decode_text
            from cocoverify.registry import peek_tee

            return record_for(path, exc, tee=peek_tee(decode_text(data)))
        return record_for(path, result)


def _sample_copy(tmp_path: Path) -> Path:
    """Project sample quotes, each with a ``<file>.collateral/`` sibling (our own files)."""
    root = tmp_path / "fleet"
    for tee in ("sgx", "tdx"):
        d = root / tee
        d.mkdir(parents=True)
        shutil.copy(SAMPLE / tee / "quote.bin", d / "quote.bin")
        shutil.copytree(SAMPLE / tee / "collateral", d / "quote.bin.collateral")
    return root


# --- real vectors of all three vendors through verify_many ----------------------------------


def _intel_items() -> Iterator[tuple[BatchItem, bytes]]:
    base = require_shared("intel")
    for case in (shared_manifest("intel") or {})["cases"]:
        files = case["files"]
        if "quote" not in files:
            continue
        folder = base / case["id"]
        coll = tuple(str(folder / files[r]) for r in INTEL_ROLES if r in files)
        path = folder / files["quote"]
        cfg = BatchConfig.create(at=case["verify_at"], collateral=coll)
        yield BatchItem(str(path), config=cfg), path.read_bytes()


def _amd_items() -> Iterator[tuple[BatchItem, bytes]]:
    base = require_shared("amd")
    for case in (shared_manifest("amd") or {})["cases"]:
        files = case["files"]
        if "report" not in files:
            continue
        folder = base / case["dir"]
        coll = tuple(str(folder / files[r]) for r in AMD_ROLES if r in files)
        at = case.get("verification_time") or "2025-01-01T00:00:00Z"
        cfg = BatchConfig.create(at=at, collateral=coll)
        path = folder / files["report"]
        yield BatchItem(str(path), config=cfg), path.read_bytes()


def _cca_items() -> Iterator[tuple[BatchItem, bytes]]:
    base = require_shared("cca")
    for case in (shared_manifest("cca") or {})["cases"]:
        files = case["files"]
        if case["kind"] != "cca-token" or "token" not in files:
            continue
        role = next((r for r in ("platform_key", "platform_key_jwk", "trust_anchor_store")
                     if r in files), None)  # fmt: skip
        if role is None:
            continue
        folder = base / case["id"]
        cfg = BatchConfig.create(at=CCA_AT, collateral=[str(folder / files[role])])
        path = folder / files["token"]
        yield BatchItem(str(path), config=cfg), path.read_bytes()


@pytest.mark.parametrize("vendor", ["intel", "amd", "cca"])
def test_real_vectors_batch_equals_verify(vendor: str) -> None:
    pairs = list({"intel": _intel_items, "amd": _amd_items, "cca": _cca_items}[vendor]())
    assert pairs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0 (amd.md §6.1)
        records = list(verify_many([i for i, _ in pairs], executor=InlineExecutor()))
    assert [r["path"] for r in records] == [i.path for i, _ in pairs]
    for (item, data), rec in zip(pairs, records, strict=True):
        assert item.config is not None
        expected = _direct(data, item.path, item.config)
        assert rec == expected, item.path
    # the real vectors exercise both outcomes
    assert any(r["accepted"] for r in records)
    assert any(not r["accepted"] for r in records)


def test_real_intel_vectors_on_a_process_pool() -> None:
    pairs = list(_intel_items())
    inline = list(verify_many([i for i, _ in pairs], executor=InlineExecutor()))
    pooled = list(verify_many([i for i, _ in pairs], max_workers=2, window=3))
    assert pooled == inline


def test_any_executor_works_like_dask() -> None:
    # dask.distributed.Client.get_executor() is a concurrent.futures.Executor too
    pairs = list(_intel_items())[:6]
    with ThreadPoolExecutor(max_workers=3) as pool:
        threaded = list(verify_many([i for i, _ in pairs], executor=pool, window=2))
    assert threaded == list(verify_many([i for i, _ in pairs], executor=InlineExecutor()))


# --- the project's own generated vectors ----------------------------------------------------


def test_project_vectors_through_verify_many() -> None:
    manifest_path = PROJECT_VECTORS / "manifest.json"
    if not manifest_path.is_file():
        pytest.skip("vectors/manifest.json not generated")
    manifest = json.loads(manifest_path.read_text())
    items = []
    for case in manifest["cases"]:
        trust = TrustStore(**case["trust"]) if case.get("trust") else None
        cfg = BatchConfig.create(
            at=case["at"],
            policy=case.get("policy"),
            trust=trust,
            collateral=[str(PROJECT_VECTORS / c) for c in case["collateral"]],
        )
        items.append(BatchItem(str(PROJECT_VECTORS / case["evidence"]), config=cfg))
    records = list(verify_many(items, max_workers=2))
    for case, rec in zip(manifest["cases"], records, strict=True):
        if case["expected"] == "accept":
            assert rec["accepted"], case["id"]
        else:
            assert rec["reason"] == case["expected"], case["id"]
        assert rec["exit_code"] == case["exit_code"], case["id"]


# --- engine behaviour -----------------------------------------------------------------------


def test_config_is_picklable_and_hashable() -> None:
    trust = TrustStore.from_certificates(intel=[])
    pol = Policy.from_dict({"accepted_tcb_statuses": ["UpToDate", "SWHardeningNeeded"]})
    cfg = BatchConfig.create(collateral=["a", Path("b")], policy=pol, trust=trust, at=SAMPLE_AT)
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg and hash(again) == hash(cfg)
    assert again.policy() == pol
    assert again.trust() == trust
    assert again.collateral == ("a", "b")
    assert BatchConfig.create(at=SAMPLE_AT).trust() == TrustStore.default()
    item = BatchItem("x", data=b"1", collateral=("c",), config=cfg)
    assert pickle.loads(pickle.dumps(item)) == item


def test_config_takes_now_once() -> None:
    cfg = BatchConfig.create()
    assert cfg.at.endswith("Z")
    with pytest.raises(cocoverify.ConfigurationError):
        BatchConfig.create(at="yesterday")


def test_one_bad_item_never_stops_the_batch(tmp_path: Path) -> None:
    root = _sample_copy(tmp_path)
    cfg = BatchConfig.create(at=SAMPLE_AT, trust=_sample_trust())
    sgx, tdx = root / "sgx" / "quote.bin", root / "tdx" / "quote.bin"
    items = [
        BatchItem(str(sgx), collateral=(f"{sgx}.collateral",)),
        BatchItem("garbage", data=b"\x00" * 7),
        BatchItem(str(tmp_path / "missing.bin")),
        BatchItem(str(tdx), collateral=(f"{tdx}.collateral",)),
    ]
    recs = list(verify_many(items, config=cfg, executor=InlineExecutor()))
    assert [r["accepted"] for r in recs] == [True, False, False, True]
    assert recs[1]["reason"] == Reason.UNKNOWN_FORMAT.value and recs[1]["exit_code"] == 2
    assert recs[2]["exit_code"] == 1 and recs[2]["error"] == "FileNotFoundError"


class _FlakyExecutor(Executor):
    """Fails to submit the second task and breaks the fourth (a lost worker)."""

    def __init__(self) -> None:
        self.n = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.n += 1
        if self.n == 2:
            raise RuntimeError("cluster unavailable")
        fut: Future[Any] = Future()
        if self.n == 4:
            fut.set_exception(OSError("worker lost"))
        else:
            fut.set_result(fn(*args, **kwargs))
        return fut


def test_executor_failures_become_records() -> None:
    cfg = BatchConfig.create(at=SAMPLE_AT)
    items = [BatchItem(f"x{i}", data=b"\x00" * 8) for i in range(5)]
    recs = list(verify_many(items, config=cfg, executor=_FlakyExecutor()))
    assert [r["path"] for r in recs] == [f"x{i}" for i in range(5)]
    assert recs[1]["error"] == "RuntimeError" and recs[1]["exit_code"] == 1
    assert recs[3]["error"] == "OSError" and recs[3]["exit_code"] == 1
    assert {recs[i]["exit_code"] for i in (0, 2, 4)} == {2}


def test_window_bounds_tasks_in_flight() -> None:
    class Counting(InlineExecutor):
        submitted = 0

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            Counting.submitted += 1
            return super().submit(fn, *args, **kwargs)

    cfg = BatchConfig.create(at=SAMPLE_AT)
    gen = verify_many((BatchItem(str(i), data=b"\x00" * 8) for i in range(10)), config=cfg,
                      executor=Counting(), window=3)  # fmt: skip
    next(gen)
    assert Counting.submitted == 3
    gen.close()


def test_plain_paths_are_items(tmp_path: Path) -> None:
    f = tmp_path / "q.bin"
    f.write_bytes(b"\x00" * 8)
    (rec,) = verify_many([f], config=BatchConfig.create(at=SAMPLE_AT), executor=InlineExecutor())
    assert rec["path"] == str(f) and rec["reason"] == "unknown_format"


def _sample_trust() -> TrustStore:
    from cocoverify._core.x509 import load_certificates

    return TrustStore.from_root_certificates(load_certificates(SAMPLE_ROOT.read_bytes()))


# --- inputs ---------------------------------------------------------------------------------


def test_looks_like_evidence() -> None:
    assert looks_like_evidence((SAMPLE / "sgx" / "quote.bin").read_bytes())
    assert looks_like_evidence((SAMPLE / "sgx" / "quote.bin").read_bytes().hex().encode())
    assert not looks_like_evidence(SAMPLE_ROOT.read_bytes())
    assert not looks_like_evidence((SAMPLE / "sgx" / "collateral" / "tcb_info.json").read_bytes())
    assert not looks_like_evidence((SAMPLE / "sgx" / "collateral" / "pck_crl.der").read_bytes())
    assert not looks_like_evidence(b"")


def test_expand_inputs(tmp_path: Path) -> None:
    root = _sample_copy(tmp_path)
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


def test_batch_exit_code() -> None:
    ok = {"exit_code": 0, "accepted": True}
    skipped = {"path": "x", "skipped": "not evidence"}
    assert batch_exit_code([]) == 0
    assert batch_exit_code([ok, skipped]) == 0
    assert batch_exit_code([ok, {"exit_code": 5}]) == 5
    assert batch_exit_code([{"exit_code": 5}, {"exit_code": 3}, {"exit_code": 4}]) == 3
    assert batch_exit_code([{"exit_code": 5}, {"exit_code": 2}]) == 2
    assert batch_exit_code([{"exit_code": 5}, {"exit_code": 1}, {"exit_code": 2}]) == 1


# --- the CLI --------------------------------------------------------------------------------


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line]


def _verify_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    rc = main(["verify", *argv, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


_SAME = ("accepted", "tee", "reason", "tcb_status", "advisory_ids", "exit_code")


def test_cli_batch_real_intel_equals_verify(capsys: pytest.CaptureFixture[str]) -> None:
    base = require_shared("intel")
    # two cases whose collateral windows both contain this time
    at = "2025-07-04T10:28:44Z"
    dirs = [base / "sgx-v3-dcapqvl-sample", base / "tdx-v4-dcapqvl-sample"]
    rc = main(["batch", *map(str, dirs), "--collateral-from-dir", "--at", at, "--jobs", "2"])
    captured = capsys.readouterr()
    recs = _lines(captured.out)
    assert [Path(r["path"]).name for r in recs] == ["sgx_quote", "tdx_quote"]
    assert "files verified" in captured.err and "\r" not in captured.err
    for rec in recs:
        vrc, out = _verify_json(capsys, rec["path"], "--collateral",
                                str(Path(rec["path"]).parent), "--at", at)  # fmt: skip
        for key in _SAME:
            assert rec[key] == out.get(key, 0 if key == "exit_code" else None), key
        assert vrc == rec["exit_code"]
        for name, value in rec["claims"].items():
            assert out["claims"][name] == value
    # the SGX sample is ConfigurationAndSWHardeningNeeded: rejected by the default policy
    assert [r["accepted"] for r in recs] == [False, True]
    assert rc == 5


@pytest.mark.parametrize(
    ("vendor", "case_id"),
    [
        ("amd", "ms-genoa-v3-vcek"),
        ("amd", "neg-turin-tampered-measurement"),
        ("cca", "ccatoken-good-cmw907-realm1"),
        ("cca", "derived-b-realm-sig-bitflip"),
    ],
)
def test_cli_batch_real_amd_and_cca(
    capsys: pytest.CaptureFixture[str], vendor: str, case_id: str
) -> None:
    base = require_shared(vendor)
    case = next(c for c in (shared_manifest(vendor) or {})["cases"] if c["id"] == case_id)
    files = case["files"]
    folder = base / case.get("dir", case["id"])
    if vendor == "amd":
        ev, at, roles = files["report"], case["verification_time"], AMD_ROLES
    else:
        ev, at, roles = files["token"], CCA_AT, ("platform_key",)
    argv = [str(folder / ev), "--at", at]
    for role in roles:
        if role in files:
            argv += ["--collateral", str(folder / files[role])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0 (amd.md §6.1)
        rc = main(["batch", *argv, "--jobs", "1", "--quiet"])
        (rec,) = _lines(capsys.readouterr().out)
        vrc, out = _verify_json(capsys, *argv)
    assert rc == vrc == rec["exit_code"]
    for key in _SAME:
        assert rec[key] == out.get(key, 0 if key == "exit_code" else None), key
    assert rec["accepted"] is ("neg" not in case_id and "bitflip" not in case_id)


def test_cli_batch_exit_codes_and_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _sample_copy(tmp_path)
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1"]
    # all accepted
    assert main(["batch", str(root), *common]) == 0
    recs = _lines(capsys.readouterr().out)
    assert [r["accepted"] for r in recs] == [True, True]
    # a policy rejection -> 5
    pol = tmp_path / "pol.yaml"
    pol.write_text("sgx:\n  mr_enclave: ['" + "00" * 32 + "']\n")
    assert main(["batch", str(root), *common, "--policy", str(pol)]) == 5
    capsys.readouterr()
    # plus malformed evidence -> 2
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x03\x00\x02\x00" + b"\x00" * 100)
    assert main(["batch", str(root), str(bad), *common, "--policy", str(pol)]) == 2
    capsys.readouterr()
    # plus a file that cannot be read -> 1
    missing = str(tmp_path / "missing.bin")
    assert main(["batch", str(root), str(bad), missing, *common]) == 1
    out = capsys.readouterr().out
    assert [r["exit_code"] for r in _lines(out)] == [0, 0, 2, 1]


def test_cli_batch_skipped_and_show_skipped(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    root = _sample_copy(tmp_path)
    (root / "readme.json").write_text("{}")
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1"]
    assert main(["batch", str(root), *common]) == 0
    cap = capsys.readouterr()
    assert all("skipped" not in r for r in _lines(cap.out))
    assert "skipped (not evidence)  1" in cap.err
    assert main(["batch", str(root), *common, "--show-skipped", "--quiet"]) == 0
    cap = capsys.readouterr()
    assert _lines(cap.out)[0] == {"path": str(root / "readme.json"), "skipped": "not evidence"}
    assert cap.err == ""


def test_cli_batch_resume(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = _sample_copy(tmp_path)
    out = tmp_path / "out.jsonl"
    sgx, tdx = str(root / "sgx" / "quote.bin"), str(root / "tdx" / "quote.bin")
    common = ["--at", SAMPLE_AT, "--trust-root", str(SAMPLE_ROOT), "--jobs", "1", "-o", str(out)]
    assert main(["batch", sgx, *common]) == 0
    assert capsys.readouterr().out == ""  # stdout stays empty with --output
    assert [r["path"] for r in _lines(out.read_text())] == [sgx]
    # a crash left half a line behind: that file's record is dropped and it is redone
    with open(out, "a") as fh:
        fh.write('{"path": "' + tdx + '", "acc')
    assert main(["batch", sgx, tdx, *common, "--resume"]) == 0
    err = capsys.readouterr().err
    assert "already in output (--resume)  1" in err
    assert [r["path"] for r in _good_lines(out)] == [sgx, tdx]
    # a new file is added; earlier rejections still decide the exit code
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 9)
    assert main(["batch", str(bad), *common, "--resume"]) == 2
    assert main(["batch", sgx, tdx, str(bad), *common, "--resume"]) == 2
    assert [r["path"] for r in _good_lines(out)] == [sgx, tdx, str(bad)]
    capsys.readouterr()


def _good_lines(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def test_cli_batch_usage_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["batch", str(tmp_path), "--resume"]) == 1
    assert main(["batch", str(tmp_path), "--jobs", "-1"]) == 1
    assert main(["batch", str(tmp_path), "--collateral", str(tmp_path / "nope")]) == 4
    assert main(["batch", str(tmp_path), "--at", "noon"]) == 1
    capsys.readouterr()


def test_cli_batch_stdout_is_pure_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    root = _sample_copy(tmp_path)
    main(["batch", str(root), "--at", SAMPLE_AT, "--jobs", "2", "--trust-root", str(SAMPLE_ROOT)])
    out = capsys.readouterr().out
    assert all(json.loads(line)["path"] for line in out.splitlines())


# --- progress bar and summary ---------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    piped = io.StringIO()
    p = Progress(2, piped)
    p.update({"accepted": True})
    p.update({"accepted": False})
    p.close()
    assert piped.getvalue() == ""
    tty = _Tty()
    p = Progress(2, tty)
    p.update({"accepted": True})
    p.update({"accepted": False})
    p.close()
    text = tty.getvalue()
    assert text.startswith("\r[") and "2/2" in text and "rejected 1" in text
    assert text.endswith("\n")


def test_summary_table() -> None:
    recs = [
        {"accepted": True, "exit_code": 0, "tee": "sgx"},
        {"accepted": False, "exit_code": 5, "tee": "tdx", "reason": "tcb_status_rejected"},
        {"accepted": False, "exit_code": 1, "tee": None, "reason": None, "error": "OSError"},
        {"path": "x", "skipped": "not evidence"},
    ]
    table = summary_table(recs, elapsed=2.0, resumed=3)
    rows = {k.strip(): v.strip() for k, v in (line.rsplit("  ", 1) for line in table.splitlines())}
    assert rows["files verified"] == "3"
    assert rows["accepted"] == "1" and rows["rejected"] == "2"
    assert rows["exit 5 (policy)"] == "1" and rows["exit 1 (error)"] == "1"
    assert rows["skipped (not evidence)"] == "1"
    assert rows["already in output (--resume)"] == "3"
    assert rows["reason tcb_status_rejected"] == "1" and rows["reason OSError"] == "1"
    assert rows["tee sgx"] == "1"
    assert rows["time"].startswith("2.00s (1.5 files/s)")


# --- property: any bytes give exactly one well-formed record --------------------------------


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
