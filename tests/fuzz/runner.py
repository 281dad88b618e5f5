"""Run the atheris fuzz targets for a bounded time each (CI: scripts/fuzz-ci.sh; long runs:
scripts/soak.py). Not collected by pytest.

    python tests/fuzz/runner.py --seconds 240          # every target, the budget split evenly
    python tests/fuzz/runner.py --seconds 60 dcap snp  # some targets

Each target runs in its own process under atheris (libFuzzer) with the seeds of
tests/fuzz/seeds.py plus the target's own, a per-input timeout (``FUZZ_INPUT_TIMEOUT``,
default 10 s) and a memory limit. A crash, a hang, an exception that is not a
CocoverifyError or a native/pure disagreement (an AssertionError of the target) is a
finding: libFuzzer writes the input to tests/fuzz/regressions/<target>/, which
tests/fuzz/test_regressions.py replays as ordinary tests, and the run fails.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import seeds  # noqa: E402  (tests/fuzz/seeds.py; this folder is not a package)

REGRESSIONS = HERE / "regressions"

#: target name -> (script, seed set of tests/fuzz/seeds.py)
TARGETS: dict[str, tuple[Path, str]] = {
    "dcap": (HERE / "fuzz_dcap.py", "dcap"),
    "snp": (HERE / "fuzz_snp.py", "snp"),
    "sgxext": (HERE / "fuzz_sgxext.py", "sgxext"),
    "cca": (HERE / "fuzz_cca.py", "cca"),
    "eventlog": (ROOT / "tests" / "wrappers" / "fuzz_tdx_eventlog.py", "eventlog"),
    "azure": (ROOT / "tests" / "wrappers" / "azure" / "fuzz_azure.py", "azure"),
    "nvidia": (HERE / "fuzz_nvidia.py", "nvidia"),
    "nitro": (HERE / "fuzz_nitro.py", "nitro"),
    "ibmse": (HERE / "fuzz_ibmse.py", "policy"),  # its own seeds; a few JSON documents more
    "collateral": (HERE / "fuzz_collateral.py", "collateral"),
    "policy": (HERE / "fuzz_policy.py", "policy"),
    "trustee": (HERE / "fuzz_trustee.py", "trustee"),
}
_STAT = re.compile(r"stat::number_of_executed_units:\s*(\d+)")
_DONE = re.compile(r"Done (\d+) runs")
_PULSE = re.compile(r"^#(\d+)\s", re.M)  # libFuzzer's progress lines


class Finding(Exception):
    """A fuzz target stopped on an input (kept in tests/fuzz/regressions/<target>/)."""

    def __init__(self, target: str, runs: int, detail: str) -> None:
        super().__init__(f"{target}: {detail[-200:]}")
        self.target, self.runs, self.detail = target, runs, detail


@dataclass
class Result:
    target: str
    runs: int
    seconds: float
    finding: str | None = None


def run_target(name: str, seconds: int, work: Path, regressions: Path = REGRESSIONS) -> Result:
    """Fuzz ``name`` for ``seconds`` under atheris; returns its executions and finding."""
    script, seed_set = TARGETS[name]
    corpus, seed_dir = work / f"corpus_{name}", work / f"seeds_{name}"
    corpus.mkdir(parents=True, exist_ok=True)
    if not seed_dir.exists():
        seeds.write_corpus(seed_set, seed_dir)
    regress = regressions / name
    regress.mkdir(parents=True, exist_ok=True)
    timeout = int(os.environ.get("FUZZ_INPUT_TIMEOUT", "10"))
    cmd = [sys.executable, str(script), f"-max_total_time={seconds}", f"-timeout={timeout}"]
    cmd += ["-rss_limit_mb=3072", "-max_len=65536", "-print_final_stats=1"]
    cmd += [f"-artifact_prefix={regress}/", str(corpus), str(seed_dir)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(ROOT / "tests")]))
    start = time.monotonic()
    # start-up (imports, warm Verifiers, instrumentation) is not fuzzing time and takes long
    # on a loaded machine: the hard stop is generous, and is not a finding by itself
    limit = 2 * seconds + 300
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, env=env, timeout=limit, check=False
        )
        out, code = proc.stderr + proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        err = exc.stderr or b""
        out = err if isinstance(err, str) else err.decode(errors="replace")
        print(f"fuzz {name}: stopped after {limit}s (loaded machine?)", file=sys.stderr)
        code = 0
    m = _STAT.search(out) or _DONE.search(out)
    runs = int(m.group(1)) if m else max(map(int, _PULSE.findall(out)), default=0)
    kept = sorted(regress.iterdir()) if regress.is_dir() else []
    if not kept and regress.is_dir():
        regress.rmdir()
    finding = None if code == 0 else out[-4000:] + "".join(f"\nkept: {p}" for p in kept)
    return Result(name, runs, time.monotonic() - start, finding)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="bounded atheris runs of tests/fuzz targets")
    ap.add_argument("targets", nargs="*", help=f"default: all of {', '.join(TARGETS)}")
    ap.add_argument("--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "240")))
    ap.add_argument("--jobs", type=int, default=int(os.environ.get("FUZZ_JOBS", "2")))
    ap.add_argument("--work", type=Path, default=None, help="corpus folder (default: temporary)")
    args = ap.parse_args(argv)
    names = args.targets or list(TARGETS)
    unknown = set(names) - set(TARGETS)
    if unknown:
        ap.error(f"unknown targets: {sorted(unknown)}")
    # the budget is wall time: jobs targets at once, each its share less ~10 s of start-up
    each = max(5, args.seconds * args.jobs // len(names) - 10)
    with tempfile.TemporaryDirectory(prefix="cocoverify-fuzz-") as tmp:
        work = args.work or Path(tmp)
        with ThreadPoolExecutor(args.jobs) as pool:
            results = list(pool.map(lambda n: run_target(n, each, work), names))
    failed = 0
    for r in results:
        status = "FINDING" if r.finding else "ok"
        print(f"fuzz {r.target:11s} {r.runs:9d} executions in {r.seconds:6.1f}s  {status}")
        if r.finding:
            failed += 1
            print(r.finding, file=sys.stderr)
    print(f"fuzz: {sum(r.runs for r in results)} executions, {failed} findings")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
