#!/usr/bin/env python3
"""Long run of the mutation sweep and the fuzzers (not in CI; docs/security.md "Long-run
figures").

    nice -n 19 .venv/bin/python scripts/soak.py --duration 3600 --json soak.json
    .venv/bin/python scripts/soak.py --duration 600 --parts libfuzzer

Parts (run side by side, one process each, for the whole duration):

* ``libfuzzer``: the C targets of csrc/fuzz (fuzz_dcap, fuzz_dcap_verify, fuzz_snp,
  fuzz_sgxext) built with clang -fsanitize=fuzzer,address,undefined, in turns of
  ``--turn`` seconds; executions counted from libFuzzer's final stats;
* ``atheris``: every Python target of tests/fuzz/runner.py, in turns;
* ``sweep``: rounds of the mutation sweep (tests/fuzz/sweep.py), each with a new seed.

A crash, hang or disagreement is a finding: its input lands in tests/fuzz/regressions/
<target>/ (replayed by tests/fuzz/test_regressions.py) and the exit status is 1. Prints the
totals (mutants, executions per target, findings) and writes them as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "tests" / "fuzz"
sys.path[:0] = [str(FUZZ), str(ROOT / "tests")]

import runner  # noqa: E402  (tests/fuzz, after the path above)
import seeds  # noqa: E402
import sweep  # noqa: E402

C_TARGETS = {
    "fuzz_dcap": ("dcap", ["cv_reader.c", "cv_dcap.c", "cv_crypto.c"], True),
    "fuzz_dcap_verify": ("dcap", ["cv_reader.c", "cv_dcap.c", "cv_crypto.c"], True),
    "fuzz_snp": ("snp", ["cv_reader.c", "cv_snp.c"], False),
    "fuzz_sgxext": ("sgxext", ["cv_reader.c", "cv_sgxext.c"], False),
}
_STAT = re.compile(rb"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(rb"Done (\d+) runs")


def _crypto_flags() -> list[str]:
    try:
        out = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "libcrypto >= 3.0"],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return ["-lcrypto"]
    return out.split() or ["-lcrypto"]


def build_c_targets(work: Path) -> dict[str, Path]:
    """clang libFuzzer builds of csrc/fuzz (ASan + UBSan, as scripts/native-checks.sh)."""
    if shutil.which("clang") is None:
        print("soak: clang not installed, libFuzzer part skipped", flush=True)
        return {}
    out: dict[str, Path] = {}
    for name, (_, srcs, crypto) in C_TARGETS.items():
        exe = work / name
        cmd = ["clang", "-std=c11", "-g", "-O1", "-UNDEBUG", f"-I{ROOT / 'csrc'}"]
        cmd += ["-fsanitize=fuzzer,address,undefined", "-fno-sanitize-recover=all"]
        cmd += [str(ROOT / "csrc" / "fuzz" / f"{name}.c")] + [str(ROOT / "csrc" / s) for s in srcs]
        cmd += (_crypto_flags() if crypto else []) + ["-o", str(exe)]
        subprocess.run(cmd, check=True)
        out[name] = exe
    return out


def run_libfuzzer(exe: Path, corpus: Path, seed_dir: Path, seconds: int, target: str) -> int:
    """One turn of a libFuzzer binary; returns the executions (raises Finding on a crash)."""
    regress = runner.REGRESSIONS / f"native-{target}"
    regress.mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), f"-max_total_time={seconds}", "-max_len=16384", "-timeout=10"]
    cmd += ["-rss_limit_mb=2048", "-print_final_stats=1", f"-artifact_prefix={regress}/"]
    cmd += [str(corpus), str(seed_dir)]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1")
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    m = _STAT.search(proc.stderr) or _DONE.search(proc.stderr)
    runs = int(m.group(1)) if m else 0
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace")[-3000:]
        raise runner.Finding(target, runs, tail)
    if regress.is_dir() and not any(regress.iterdir()):
        regress.rmdir()
    return runs


def part_libfuzzer(deadline: float, turn: int, work: Path) -> dict[str, Any]:
    exes = build_c_targets(work)
    execs = dict.fromkeys(exes, 0)
    findings: list[str] = []
    for name in exes:
        seeds.write_corpus(C_TARGETS[name][0], work / f"seeds_{name}")
        (work / f"corpus_{name}").mkdir(exist_ok=True)
    live = list(exes)
    while live and time.time() < deadline - 5:
        for name in list(live):
            left = int(deadline - time.time())
            if left < 5:
                break
            try:
                runs = run_libfuzzer(
                    exes[name],
                    work / f"corpus_{name}",
                    work / f"seeds_{name}",
                    min(turn, left),
                    name,
                )
                execs[name] += runs
                print(f"soak: libfuzzer {name} +{runs} ({execs[name]})", flush=True)
            except runner.Finding as f:
                execs[name] += f.runs
                findings.append(f"{name}: {f.detail[-400:]}")
                live.remove(name)  # its crash is kept; the others go on
            except OSError as exc:  # e.g. the corpus folder removed under us: next turn
                print(f"soak: {name}: {exc!r}", flush=True)
    return {"executions": execs, "findings": findings}


def part_atheris(deadline: float, turn: int, work: Path) -> dict[str, Any]:
    # at nice 19 on a shared machine a 10 s per-input limit fires on starvation, not hangs
    os.environ.setdefault("FUZZ_INPUT_TIMEOUT", "60")
    execs = dict.fromkeys(runner.TARGETS, 0)
    findings: list[str] = []
    live = list(runner.TARGETS)
    while live and time.time() < deadline - 10:
        for name in list(live):
            left = int(deadline - time.time())
            if left < 10:
                break
            res = runner.run_target(name, min(turn, left), work / "atheris")
            execs[name] += res.runs
            print(f"soak: atheris {name} +{res.runs} ({execs[name]})", flush=True)
            if res.finding:
                findings.append(f"{name}: {res.finding[-400:]}")
                live.remove(name)
    return {"executions": execs, "findings": findings}


def part_sweep(deadline: float, turn: int, work: Path) -> dict[str, Any]:
    total = sweep.Report()
    rounds = 0
    workers = int(os.environ.get("SWEEP_WORKERS", "2"))
    while time.time() < deadline - 30:
        report = sweep.run(seed=rounds, workers=workers, deadline=deadline)
        total.add(report)
        rounds += 1
        print(
            f"soak: sweep round {rounds}: {report.mutants} mutants, total {total.mutants}, "
            f"{len(total.findings)} findings",
            flush=True,
        )
    return {
        "mutants": total.mutants,
        "evidence_mutants": total.evidence_mutants,
        "collateral_mutants": total.collateral_mutants,
        "by_backend": dict(total.by_backend),
        "rounds": rounds,
        "accepted_unsigned": dict(total.by_rule),
        "open": dict(total.open),
        "findings": [f.describe() for f in total.findings],
    }


PARTS = {"libfuzzer": part_libfuzzer, "atheris": part_atheris, "sweep": part_sweep}


def _part(name: str, deadline: float, turn: int, work: str, queue: Any) -> None:
    try:
        queue.put((name, PARTS[name](deadline, turn, Path(work))))
    except Exception as exc:  # reported as a finding of the part, the others go on
        queue.put((name, {"findings": [f"{name} part failed: {exc!r}"]}))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=3600, help="seconds (default 3600)")
    ap.add_argument("--parts", default="libfuzzer,atheris,sweep")
    ap.add_argument("--turn", type=int, default=300, help="seconds per fuzz target per turn")
    ap.add_argument("--json", type=Path, help="write the totals here")
    args = ap.parse_args(argv)
    parts = [p for p in args.parts.split(",") if p]
    start = time.time()
    deadline = start + args.duration
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    with tempfile.TemporaryDirectory(prefix="cocoverify-soak-") as work:
        procs = [
            ctx.Process(target=_part, args=(p, deadline, args.turn, work, queue)) for p in parts
        ]
        for p in procs:
            p.start()
        results = dict(queue.get() for _ in procs)
        for p in procs:
            p.join()
    totals: dict[str, Any] = {
        "date": datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(time.time() - start),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "parts": results,
    }
    execs = {
        **results.get("libfuzzer", {}).get("executions", {}),
        **results.get("atheris", {}).get("executions", {}),
    }
    totals["fuzz_executions"] = sum(execs.values())
    totals["mutants"] = results.get("sweep", {}).get("mutants", 0)
    findings = [f for r in results.values() for f in r.get("findings", [])]
    totals["findings"] = findings
    print(json.dumps(totals, indent=1))
    if args.json:
        args.json.write_text(json.dumps(totals, indent=1) + "\n", encoding="utf-8")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
