"""Caches never change a verdict.

Every real and generated vector (``tests/golden/outputs.py``'s ``cases()``) is verified, in one
fresh process per backend: cold (each case once, in manifest order, from empty caches); warm
(twice with one long-lived ``Verifier`` per case); in shuffled order through ``Verifier``\\ s
shared by every case with the same trust store (collateral and policy per call), twice; and
from 4 threads sharing those ``Verifier``\\ s, each thread in its own shuffled order. Every full
JSON result must equal ``tests/golden/outputs.json``, recorded case by case before any cache
existed. A sample of cases also runs in a fresh process each. A few cases are also verified at
several times (before, inside and after their validity windows) in rotated orders through
shared ``Verifier``\\ s: time-dependent checks must give the same outcome whatever came first.

``python tests/test_cache_safety.py MODE...`` prints the outcomes of the modes (``cold warm
shuffled threads``) as JSON: what the tests run in a subprocess.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import random
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
import outputs

from cocoverify import CocoverifyError, TrustStore, Verifier, ear, trustee
from cocoverify._backend import native_error
from cocoverify.result import VerificationResult

HERE = Path(__file__).resolve().parent
MODES = ("cold", "warm", "shuffled", "threads")
SEED = 20260109  # shuffles are reproducible; the order is in the failure message
THREADS = 4
#: How many cases per vendor family run in a fresh process each (per backend).
SAMPLE_PER_FAMILY = 2

Outcome = dict[str, Any]


def _as_json(value: Outcome) -> Outcome:
    out: Outcome = json.loads(json.dumps(value))
    return out


def outcome_of(call: Callable[[], VerificationResult]) -> Outcome:
    """``outputs.outcome`` for any verify call (here: a long-lived ``Verifier``)."""
    try:
        result = call()
    except CocoverifyError as exc:
        out: Outcome = {
            "error": type(exc).__name__,
            "reason": exc.reason.value,
            "exit_code": exc.exit_code,
            "message": str(exc.args[0]) if exc.args else "",
        }
        if exc.result is not None:
            out["result"] = exc.result.to_dict()
            out["trustee"] = trustee.claims_for(exc.result)
        out["ear_vector"] = ear.trust_vector(exc)
        return _as_json(out)
    return _as_json(
        {
            "result": result.to_dict(),
            "trustee": trustee.claims_for(result),
            "ear_vector": ear.trust_vector(result),
        }
    )


Case = tuple[str, bytes, dict[str, Any]]


def _load_cases() -> list[Case]:
    """Every case whose collateral loads (the others are ``load_error`` entries)."""
    return list(outputs.cases())


def _cold(cases: list[Case]) -> dict[str, list[Outcome]]:
    return {cid: [_as_json(outputs.outcome(ev, **kw))] for cid, ev, kw in cases}


def _warm(cases: list[Case]) -> dict[str, list[Outcome]]:
    out: dict[str, list[Outcome]] = {}
    for cid, ev, kw in cases:
        verifier = Verifier(**{k: v for k, v in kw.items() if k != "at"})
        call = functools.partial(verifier.verify, ev, at=kw["at"])
        out[cid] = [outcome_of(call) for _ in range(2)]
    return out


class _Shared:
    """One long-lived Verifier per distinct trust store; collateral and policy per call."""

    def __init__(self) -> None:
        self._by_trust: list[tuple[TrustStore | None, Verifier]] = []

    def verifier(self, trust: TrustStore | None) -> Verifier:
        for t, v in self._by_trust:
            if t == trust:
                return v
        v = Verifier(trust=trust)
        self._by_trust.append((trust, v))
        return v

    def outcome(self, case: Case) -> Outcome:
        _, ev, kw = case
        v = self.verifier(kw.get("trust"))
        return outcome_of(
            lambda: v.verify(ev, at=kw["at"], collateral=kw["collateral"], policy=kw.get("policy"))
        )


def _shuffled(cases: list[Case]) -> dict[str, list[Outcome]]:
    shared = _Shared()
    for case in cases:  # create every Verifier first: the shuffles then share them
        shared.verifier(case[2].get("trust"))
    out: dict[str, list[Outcome]] = {cid: [] for cid, _, _ in cases}
    rng = random.Random(SEED)
    for _ in range(2):
        order = cases[:]
        rng.shuffle(order)
        for case in order:
            out[case[0]].append(shared.outcome(case))
    return out


def _threads(cases: list[Case]) -> dict[str, list[Outcome]]:
    shared = _Shared()
    for case in cases:
        shared.verifier(case[2].get("trust"))
    results: list[list[tuple[str, Outcome]]] = [[] for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        order = cases[:]
        random.Random(SEED + i).shuffle(order)
        barrier.wait()
        try:
            for case in order:
                results[i].append((case[0], shared.outcome(case)))
        except BaseException as exc:  # surfaced below, never lost in the thread
            errors.append(exc)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    if errors:
        raise errors[0]
    out: dict[str, list[Outcome]] = {cid: [] for cid, _, _ in cases}
    for per_thread in results:
        for cid, o in per_thread:
            out[cid].append(o)
    return out


#: Cases verified at several times in one process (time-dependent checks are never cached):
#: their own time, past a CRL / TCB Info nextUpdate, before the certificates, after them.
TIME_CASES = (
    "project/sgx.good.v3",
    "project/tdx.good.v4",
    "project/snp.accept.milan_v3_vcek",
    "project/cca.accept.p256",
    "intel/tdx-v4-dcapqvl-sample",
    "intel/sgx-v3-automata-quotev3",
    "amd/ms-milan-v3-vcek",
    "amd/trustee-milan-v3-vlek",
)
OFFSETS_DAYS = (0, 40, -1825, 1200)


def _shift(at: str, days: int) -> str:
    when = _dt.datetime.fromisoformat(at.replace("Z", "+00:00")) + _dt.timedelta(days=days)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _times(cases: list[Case], rotation: int) -> dict[str, list[Outcome]]:
    """Every TIME_CASES case at every offset, the offsets rotated by ``rotation`` (so each case
    is first seen, cold, at a different time in each rotation), then all again shuffled."""
    chosen = [c for c in cases if c[0] in TIME_CASES]
    shared = _Shared()
    offsets = OFFSETS_DAYS[rotation:] + OFFSETS_DAYS[:rotation]
    combos = [(off, case) for off in offsets for case in chosen]
    out: dict[str, list[Outcome]] = {}
    shuffled = combos[:]
    random.Random(SEED + rotation).shuffle(shuffled)
    for off, (cid, ev, kw) in combos + shuffled:
        out.setdefault(f"{cid}@{off}", []).append(
            shared.outcome((cid, ev, {**kw, "at": _shift(kw["at"], off)}))
        )
    return out


RUNNERS: dict[str, Callable[[list[Case]], dict[str, list[Outcome]]]] = {
    "cold": _cold,
    "warm": _warm,
    "shuffled": _shuffled,
    "threads": _threads,
}


def run_modes(modes: list[str]) -> dict[str, dict[str, list[Outcome]]]:
    """Each mode's outcomes by case id, in the order given, in this process."""
    out: dict[str, dict[str, list[Outcome]]] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # real VCEKs have serial 0
        cases = _load_cases()
        for mode in modes:
            if mode.startswith("times:"):
                out[mode] = _times(cases, int(mode.removeprefix("times:")))
            else:
                out[mode] = RUNNERS[mode](cases)
    return out


# --- the tests ----------------------------------------------------------------------------------

GOLDEN: dict[str, Outcome] = json.loads((outputs.HERE / "outputs.json").read_text())
BACKENDS = ("native", "python")


def _available(backend: str) -> str | None:
    """Why ``backend`` cannot run here (None when it can)."""
    if backend == "native" and native_error() is not None:
        return f"native backend unavailable: {native_error()}"
    return None


def _need(backend: str) -> None:
    why = _available(backend)
    if why is not None:
        if os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
            pytest.fail(f"COCOVERIFY_REQUIRE_NATIVE is set: {why}")
        pytest.skip(why)


#: One case in a fresh process: load the cases up to it (nothing after), verify, print.
ONE_CASE = """
import json, sys, warnings
sys.path.insert(0, sys.argv[1])
import outputs
warnings.simplefilter("ignore")
evidence, kw = next((ev, kw) for cid, ev, kw in outputs.cases() if cid == sys.argv[2])
json.dump(outputs.outcome(evidence, **kw), sys.stdout)
"""


def _subprocess(backend: str, args: list[str]) -> Any:
    env = dict(os.environ, COCOVERIFY_BACKEND=backend)
    proc = subprocess.run(
        [sys.executable, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
    )
    if proc.returncode != 0:
        raise AssertionError(f"{backend} {args}: exit {proc.returncode}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout)


def _sample() -> list[str]:
    """A fixed sample: SAMPLE_PER_FAMILY cases of each family (project/sgx, intel, amd, ...)."""
    families: dict[str, list[str]] = {}
    for cid in sorted(GOLDEN):
        if "load_error" in GOLDEN[cid]:
            continue
        if not cid.startswith("project/") and not outputs.SHARED.is_dir():
            continue  # a real vector, and ../shared is absent
        parts = cid.split("/")
        family = parts[0] + ("/" + parts[1].split(".")[0] if parts[0] == "project" else "")
        families.setdefault(family, []).append(cid)
    rng = random.Random(SEED)
    return sorted(
        cid
        for ids in families.values()
        for cid in rng.sample(ids, min(SAMPLE_PER_FAMILY, len(ids)))
    )


SAMPLE = _sample()


@functools.cache
def _runs() -> dict[tuple[str, str], Any]:
    """In fresh processes, on every available backend, two at a time: every mode in one
    process (key ``(backend, "modes")``), and each sampled case alone (``(backend, cid)``)."""
    backends = [b for b in BACKENDS if _available(b) is None]
    times = [f"times:{k}" for k in range(len(OFFSETS_DAYS))]
    jobs = [(b, "modes") for b in backends]
    jobs += [(b, t) for b in backends for t in times]
    jobs += [(b, cid) for b in backends for cid in SAMPLE]

    def run(job: tuple[str, str]) -> Any:
        backend, what = job
        if what == "modes":
            return _subprocess(backend, [str(Path(__file__).resolve()), *MODES])
        if what.startswith("times:"):
            return _subprocess(backend, [str(Path(__file__).resolve()), what])[what]
        return _subprocess(backend, ["-c", ONE_CASE, str(HERE / "golden"), what])

    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        return dict(zip(jobs, pool.map(run, jobs), strict=True))


def _first_difference(got: Any, want: Any, path: str = "") -> str:
    if isinstance(got, dict) and isinstance(want, dict):
        for k in sorted(set(got) | set(want)):
            if got.get(k) != want.get(k):
                return _first_difference(got.get(k), want.get(k), f"{path}.{k}")
    return f"{path or '<root>'}: got {got!r}, golden {want!r}"


def test_every_case_is_covered() -> None:
    cases = {cid for cid, _, _ in _load_cases()}
    if not outputs.SHARED.is_dir():
        pytest.skip(f"real vectors not available: {outputs.SHARED} is absent")
    assert {cid for cid in GOLDEN if "load_error" not in GOLDEN[cid]} <= cases
    assert len(SAMPLE) >= 10


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_equal_golden(backend: str, mode: str) -> None:
    """cold / warm / shuffled / threads: every outcome of every case equals the golden one."""
    _need(backend)
    got = _runs()[(backend, "modes")][mode]
    bad = []
    for cid, outcomes in sorted(got.items()):
        want = GOLDEN[cid]
        expected_n = {"cold": 1, "warm": 2, "shuffled": 2, "threads": THREADS}[mode]
        assert len(outcomes) == expected_n, cid
        for i, o in enumerate(outcomes):
            if o != want:
                bad.append(f"{cid} (run {i + 1}): {_first_difference(o, want)}")
    assert not bad, f"{len(bad)} outcomes differ from tests/golden/outputs.json:\n" + "\n".join(
        bad[:20]
    )


@pytest.mark.parametrize("cid", SAMPLE)
@pytest.mark.parametrize("backend", BACKENDS)
def test_fresh_process_per_case(backend: str, cid: str) -> None:
    """The case alone in a new process (every cache empty) gives the golden outcome."""
    _need(backend)
    got = _runs()[(backend, cid)]
    assert got == GOLDEN[cid], _first_difference(got, GOLDEN[cid])


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_is_checked_on_every_call(backend: str) -> None:
    """A case verified at several times, in several orders, through shared Verifiers: each
    (case, time) gives one outcome whichever time came first; its own time gives the golden."""
    _need(backend)
    runs = [_runs()[(backend, f"times:{k}")] for k in range(len(OFFSETS_DAYS))]
    keys = set(runs[0])
    assert keys, "no time case available"
    for key in sorted(keys):
        outcomes = [o for r in runs for o in r[key]]
        assert all(o == outcomes[0] for o in outcomes), f"{key}: outcome depends on the order"
        cid, off = key.rsplit("@", 1)
        if off == "0":
            assert outcomes[0] == GOLDEN[cid], _first_difference(outcomes[0], GOLDEN[cid])
    verdicts = {
        cid: {runs[0][f"{cid}@{off}"][0].get("reason", "accept") for off in OFFSETS_DAYS}
        for cid in {k.rsplit("@", 1)[0] for k in keys}
    }
    assert any(len(v) > 1 for v in verdicts.values()), f"no verdict depends on time: {verdicts}"


if __name__ == "__main__":
    json.dump(run_modes(sys.argv[1:]), sys.stdout)
