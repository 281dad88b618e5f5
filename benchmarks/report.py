"""One run, one table: cocoverify's speed and memory against its floors and dcap-qvl.

    python benchmarks/report.py            # a few minutes; prints Markdown on stdout
    python benchmarks/report.py --long     # RSS after 10,000 vs 1,000,000 verifies
    python benchmarks/report.py --json out.json   # also keep the raw numbers

Everything that is compared is measured side by side in one process with interleaved
rounds (each round runs every item once, in shuffled order; an item's number is the median
over rounds of the per-call time): the floors (one ECDSA P-256, one P-384 and one RSA-4096
PSS verify through ``cryptography``), dcap-qvl on the same quotes and collateral, and
cocoverify. That process runs once per backend (``COCOVERIFY_BACKEND=native`` and
``python``, each in its own subprocess), so every ratio is taken inside one process.
Process-level numbers (``cocoverify batch`` with 1 and 2 workers, import time, CLI wall
time, RSS growth) use fresh subprocesses of the default backend.

Evidence (benchmarks/corpus.py): real public quotes, SNP reports and CCA tokens from
``../shared/vectors``, and generated evidence from the TEST ONLY fake PKIs: many distinct
quotes of one platform (a cache cannot memoise a whole quote) and quotes of platforms never
seen before. The targets are those of docs/performance.md; "holds" is judged on the native
column (the default backend when the extension is built).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402  (benchmarks/ is not a package)

PY = sys.executable
UNIT = "u"  # one ECDSA P-256 verify through cryptography, measured in the same process


# --- the timing engine -----------------------------------------------------------------------


@dataclass
class Item:
    """One thing to time; ``fn`` does one call. ``budget``: how many calls ``fn`` can make
    (finite streams of never-seen evidence)."""

    name: str
    fn: Callable[[], object]
    budget: int | None = None
    outcome: str = ""
    k: int = 1
    used: int = 0
    samples: list[float] = field(default_factory=list)

    def calibrate(self, target: float, rounds: int) -> None:
        self.fn()  # first call: lazy imports, collateral checks, caches
        t0 = time.perf_counter()
        self.fn()
        self.fn()
        one = (time.perf_counter() - t0) / 2
        self.used = 3
        self.k = max(1, min(5000, int(target / max(one, 1e-7))))
        if self.budget is not None:
            self.k = max(1, min(self.k, (self.budget - self.used) // rounds))

    def run_once(self) -> None:
        fn, k = self.fn, self.k
        t0 = time.perf_counter()
        for _ in range(k):
            fn()
        self.samples.append((time.perf_counter() - t0) / k)
        self.used += k

    def summary(self) -> dict[str, Any]:
        return {
            "median": statistics.median(self.samples),
            "best": min(self.samples),
            "k": self.k,
            "rounds": len(self.samples),
            "outcome": self.outcome,
        }


def interleave(items: list[Item], rounds: int, target: float, seed: int = 9) -> None:
    """Calibrate every item, then ``rounds`` rounds of every item in shuffled order."""
    for it in items:
        it.calibrate(target, rounds)
    rng = random.Random(seed)
    for _ in range(rounds):
        order = items[:]
        rng.shuffle(order)
        for it in order:
            it.run_once()


def stream(pool: list[bytes]) -> Callable[[], bytes]:
    """Each element once, in order (IndexError past the end: the budget prevents it)."""
    it = iter(pool)
    return it.__next__


# --- the measuring worker (one per backend) ----------------------------------------------------


def _ecdsa_check(p384: bool = False) -> Callable[[], None]:
    """One ECDSA verify through ``cryptography``: a fresh key's signature over random bytes
    the size of a TDX v4 header and body (P-256, the unit) or of an SNP report's signed
    part (P-384)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    curve, alg, size = (
        (ec.SECP384R1(), hashes.SHA384(), 672) if p384 else (ec.SECP256R1(), hashes.SHA256(), 632)
    )
    key = ec.generate_private_key(curve)
    msg = os.urandom(size)
    sig = key.sign(msg, ec.ECDSA(alg))
    pub, algo = key.public_key(), ec.ECDSA(alg)
    return lambda: pub.verify(sig, msg, algo)


def _floors() -> list[Item]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    from cocoverify_testing.snp import amd_rsa_key

    items = [Item("floor/p256", _ecdsa_check()), Item("floor/p384", _ecdsa_check(p384=True))]
    rsa = amd_rsa_key("milan-ark")  # RSA-4096, the ARK/ASK/VCEK signature scheme
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
    msg = os.urandom(1200)
    sig = rsa.sign(msg, pss, hashes.SHA384())
    pub = rsa.public_key()
    items.append(Item("floor/rsa4096pss", lambda: pub.verify(sig, msg, pss, hashes.SHA384())))
    return items


def _dcap_item(
    name: str, next_quote: Callable[[], bytes], coll: Any, now: int, root: bytes | None
) -> Item:
    import dcap_qvl

    if root is None:

        def call() -> object:
            try:
                return dcap_qvl.verify(next_quote(), coll, now)
            except ValueError:
                return None

    else:

        def call() -> object:
            try:
                return dcap_qvl.verify_with_root_ca(next_quote(), coll, root, now)
            except ValueError:
                return None

    return Item(name, call)


def _dcap_outcome(quote: bytes, coll: Any, now: int, root: bytes | None) -> str:
    import dcap_qvl

    try:
        if root is None:
            return str(dcap_qvl.verify(quote, coll, now).status)
        return str(dcap_qvl.verify_with_root_ca(quote, coll, root, now).status)
    except ValueError as exc:
        return "error: " + str(exc).splitlines()[0].removeprefix("Verification failed: ")


def _coco_item(
    name: str, case: corpus.Case, next_evidence: Callable[[], bytes] | None = None
) -> Item:
    verify, at = case.verifier.verify, case.at
    err = corpus.CocoverifyError
    ev = case.evidence
    if next_evidence is None:

        def call() -> object:
            try:
                return verify(ev, at=at)
            except err:
                return None

    else:

        def call() -> object:
            try:
                return verify(next_evidence(), at=at)
            except err:
                return None

    return Item(name, call, outcome=case.outcome())


def _threads(
    verifier: Any, at: str, pool: list[bytes], per_thread: int, rounds: int
) -> dict[str, Any]:
    """Throughput of 2 threads sharing ``verifier`` over 1 thread (fresh quotes each call)."""
    err = corpus.CocoverifyError
    pos = [0]
    lock = threading.Lock()

    def take(n: int) -> list[bytes]:
        with lock:
            chunk = pool[pos[0] : pos[0] + n]
            pos[0] += n
        if len(chunk) < n:
            raise RuntimeError("thread benchmark ran out of distinct quotes")
        return chunk

    def work(chunk: list[bytes]) -> None:
        for q in chunk:
            with contextlib.suppress(err):
                verifier.verify(q, at=at)

    def timed(nthreads: int) -> float:
        chunks = [take(per_thread) for _ in range(nthreads)]
        barrier = threading.Barrier(nthreads + 1)

        def run(c: list[bytes]) -> None:
            barrier.wait()
            work(c)

        ts = [threading.Thread(target=run, args=(c,)) for c in chunks]
        for t in ts:
            t.start()
        t0 = time.perf_counter()
        barrier.wait()
        for t in ts:
            t.join()
        return time.perf_counter() - t0

    ratios = []
    for _ in range(rounds):
        one = timed(1)
        two = timed(2)
        ratios.append(2 * one / two)
    return {"speedup": statistics.median(ratios), "all": ratios, "per_thread": per_thread}


def _threads_floor(rounds: int, n: int) -> dict[str, Any]:
    """The same for bare P-256 verifies through cryptography (does it release the GIL?)."""
    check = _ecdsa_check()

    def work() -> None:
        for _ in range(n):
            check()

    def timed(k: int) -> float:
        ts = [threading.Thread(target=work) for _ in range(k)]
        t0 = time.perf_counter()
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        return time.perf_counter() - t0

    ratios = [2 * timed(1) / timed(2) for _ in range(rounds)]
    return {"speedup": statistics.median(ratios), "all": ratios}


def measure(rounds: int, target: float, quick: bool) -> dict[str, Any]:
    """Every in-process number of one backend, interleaved in one process."""
    import warnings

    warnings.simplefilter("ignore")  # real VCEKs with serial 0
    import cryptography

    from cocoverify import _backend

    env: dict[str, Any] = {
        "backend": _backend.backend(),
        "cryptography": cryptography.__version__,
    }
    try:
        import dcap_qvl

        env["dcap_qvl"] = dcap_qvl.__version__
        have_dcap = True
    except ImportError:
        have_dcap = False
    items = _floors()
    fi = corpus.FakeIntel()
    now = corpus.epoch(fi.at)
    n_distinct = 600 if quick else 6000
    n_new = 40 if quick else 160
    for tee in ("sgx", "tdx"):
        fi.check_distinct(tee)
        v = fi.verifier(tee)
        pool = fi.distinct(tee, n_distinct)
        case = corpus.Case(f"gen-{tee}", tee, pool[0], fi.at, v)
        it = _coco_item(f"coco/warm-gen/{tee}", case, stream(pool[1:]))
        it.budget = len(pool) - 1
        items.append(it)
        fresh = fi.new_platforms(tee, n_new)
        it = _coco_item(
            f"coco/new-gen/{tee}", corpus.Case("", tee, fresh[0], fi.at, v), stream(fresh[1:])
        )
        it.budget = len(fresh) - 1
        items.append(it)
        if have_dcap:
            coll = fi.dcap_collateral(tee)
            it = _dcap_item(f"dcap/warm-gen/{tee}", stream(pool), coll, now, fi.root_der)
            it.budget, it.outcome = len(pool), _dcap_outcome(pool[0], coll, now, fi.root_der)
            items.append(it)
            it = _dcap_item(f"dcap/new-gen/{tee}", stream(fresh), coll, now, fi.root_der)
            it.budget, it.outcome = len(fresh), _dcap_outcome(fresh[0], coll, now, fi.root_der)
            items.append(it)
    cases: dict[str, dict[str, str]] = {}
    for c in corpus.real_intel(with_peer=have_dcap):
        items.append(_coco_item(f"coco/real/{c.id}", c))
        cases[c.id] = {"tee": c.tee, "outcome": items[-1].outcome}
        if have_dcap:
            q = c.evidence
            at = corpus.epoch(c.at)
            it = _dcap_item(f"dcap/real/{c.id}", lambda q=q: q, c.dcap_collateral, at, None)
            it.outcome = _dcap_outcome(q, c.dcap_collateral, at, None)
            cases[c.id]["dcap"] = it.outcome
            items.append(it)
    for c in corpus.real_snp() + corpus.real_cca():
        it = _coco_item(f"coco/real/{c.id}", c)
        cases[c.id] = {"tee": c.tee, "outcome": it.outcome, **_facts(c)}
        items.append(it)
    snp = corpus.FakeSnp()
    pool = snp.distinct(200 if quick else 2000)
    it = _coco_item(
        "coco/warm-gen/snp", corpus.Case("", "snp", pool[0], snp.at, snp.verifier), stream(pool)
    )
    it.budget = len(pool)
    items.append(it)
    pool = snp.distinct(200 if quick else 2000, start=10**6, new_vm=True)
    it = _coco_item(
        "coco/new-gen/snp", corpus.Case("", "snp", pool[0], snp.at, snp.verifier), stream(pool)
    )
    it.budget = len(pool)
    items.append(it)
    cca = corpus.FakeCca()
    pool = cca.distinct(200 if quick else 2000)
    it = _coco_item(
        "coco/warm-gen/cca", corpus.Case("", "cca", pool[0], cca.at, cca.verifier), stream(pool)
    )
    it.budget = len(pool)
    items.append(it)
    pool = cca.distinct(200 if quick else 2000, start=10**6, new_platform=True)
    it = _coco_item(
        "coco/new-gen/cca", corpus.Case("", "cca", pool[0], cca.at, cca.verifier), stream(pool)
    )
    it.budget = len(pool)
    items.append(it)

    interleave(items, rounds, target)
    bench = {it.name: it.summary() for it in items}

    # 1 vs 2 threads sharing one Verifier, on never-seen quotes of a known platform
    warm = bench["coco/warm-gen/tdx"]["median"]
    per_thread = max(20, min(1500, int((0.05 if quick else 0.15) / warm)))
    t_rounds = 3 if quick else 9  # a round is ~0.15 s: a burst of load elsewhere skews one
    tpool = fi.distinct("tdx", 3 * per_thread * t_rounds + 1, start=10**6)
    tv = fi.verifier("tdx")
    tv.verify(tpool.pop(), at=fi.at)  # this Verifier's collateral is loaded and checked
    threads = _threads(tv, fi.at, tpool, per_thread, t_rounds)
    floor_n = max(20, int((0.05 if quick else 0.15) / bench["floor/p256"]["median"]))
    threads_floor = _threads_floor(t_rounds, floor_n)
    return {
        "env": env,
        "bench": bench,
        "cases": cases,
        "threads": threads,
        "threads_floor": threads_floor,
    }


#: The floor of each signature algorithm a CCA token names (COSE alg, RFC 9053 section 2.1).
COSE_FLOOR = {"ES256": "p256", "ES384": "p384"}


def _facts(c: corpus.Case) -> dict[str, str]:
    """SNP: the product. CCA: the floor, from the algorithms of the two signatures."""
    try:
        r = c.verifier.verify(c.evidence, at=c.at)
    except corpus.CocoverifyError as exc:
        r = exc.result
    claims = r.to_dict().get("claims", {}) if r is not None else {}
    if c.tee == "snp":
        return {"product": str(claims.get("product", ""))}
    algs = [str(claims.get(part, {}).get("alg", "")) for part in ("platform", "realm")]
    if all(a in COSE_FLOOR for a in algs):
        return {"floor": "+".join(COSE_FLOOR[a] for a in algs), "algs": "/".join(algs)}
    return {"floor": "p256+p384", "algs": "?"}


# --- new platform on real quotes (one fresh process per sample) -------------------------------

#: (warm-up, measured): two real quotes of different platforms checked against the same
#: collateral files. The first loads and uses the collateral; the second is timed once.
NEW_REAL = (
    ("sgx-v3-automata-quote-sgx", "sgx-v3-dcapqvl-sample"),
    ("sgx-v3-trustee-occlum", "sgx-v3-automata-quotev3"),
    ("tdx-v4-dcapqvl-tappd", "tdx-v4-dcapqvl-sample"),
    ("tdx-v4-trustee-azure", "tdx-v4-gotdx-cos113"),
)


def _leaf(quote: bytes) -> bytes:
    start = quote.find(b"-----BEGIN CERTIFICATE-----")
    return quote[start : quote.find(b"-----END CERTIFICATE-----", start)]


#: Generated platforms per TEE verified before the pair in a "warm process" run.
WARM_PLATFORMS = 20


def new_real_worker(pair: int, warm: bool) -> dict[str, Any]:
    """In this fresh process: verify quote A (collateral loaded and used), then time the
    first verification of quote B, a platform not seen yet; dcap-qvl and the floor on B.

    ``warm``: first verify quotes of :data:`WARM_PLATFORMS` generated platforms per TEE
    under the test PKI's own collateral, as a long-lived service has verified other
    platforms before; B's platform and the real collateral are still new. Without it the
    first verify of B also pays for code run for the first time in this interpreter."""
    import warnings

    warnings.simplefilter("ignore")
    a_id, b_id = NEW_REAL[pair]
    have = {c.id: c for c in corpus.real_intel()}
    if a_id not in have or b_id not in have:
        return {}
    if warm:
        fi = corpus.FakeIntel()
        for tee in ("sgx", "tdx"):
            other = fi.verifier(tee)
            for q in fi.new_platforms(tee, WARM_PLATFORMS, tag="warm"):
                other.verify(q, at=fi.at)
    a, b = have[a_id], have[b_id]
    if a.dcap_collateral.to_json() != b.dcap_collateral.to_json() or _leaf(a.evidence) == _leaf(
        b.evidence
    ):
        raise RuntimeError(f"{a_id} and {b_id}: not two platforms under one collateral set")
    verifier = a.verifier  # the collateral of A, which is B's too
    err = corpus.CocoverifyError
    with contextlib.suppress(err):
        verifier.verify(a.evidence, at=a.at)
    t0 = time.perf_counter()
    with contextlib.suppress(err):
        verifier.verify(b.evidence, at=b.at)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    with contextlib.suppress(err):
        verifier.verify(b.evidence, at=b.at)
    second = time.perf_counter() - t0
    import dcap_qvl

    now = corpus.epoch(b.at)
    with contextlib.suppress(ValueError):  # warm-up: A may be rejected (debug, TCB, ...)
        dcap_qvl.verify(a.evidence, a.dcap_collateral, now)
    items = [
        _floors()[0],
        Item("dcap", lambda: dcap_qvl.verify(b.evidence, b.dcap_collateral, now)),
    ]
    interleave(items, 5, 0.01)
    return {
        "tee": b.tee,
        "case": b_id,
        "after": a_id,
        "warm": warm,
        "first": first,
        "second": second,
        "dcap": items[1].summary()["median"],
        "p256": items[0].summary()["median"],
    }


def new_real(backends: list[str], reps: int) -> dict[str, Any]:
    """Median over ``reps`` fresh processes of each pair, per backend, cold and warm
    process (``new_real_worker``); keys ``native``, ``python``, ``native-warm``, ..."""
    out: dict[str, Any] = {}
    for backend in backends:
        for warm in (False, True):
            for i in range(len(NEW_REAL)):
                extra = ["--pair", str(i), *(["--warm"] if warm else [])]
                runs = [_worker("new-real", extra, backend) for _ in range(reps)]
                runs = [r for r in runs if r]
                if not runs:
                    continue
                med = {
                    k: statistics.median(r[k] for r in runs)
                    for k in ("first", "second", "dcap", "p256")
                }
                key = f"{backend}-warm" if warm else backend
                out.setdefault(key, []).append({**runs[0], **med, "reps": len(runs)})
    return out


# --- RSS over many verifies (its own process) ------------------------------------------------


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_worker(n1: int, n2: int, quick: bool) -> dict[str, Any]:
    """RSS after ``n1`` and after ``n2`` verifies of a mix of accepts and rejects of every
    vendor (real evidence, distinct generated evidence, tampered evidence, new platforms)."""
    import itertools
    import warnings

    warnings.simplefilter("ignore")
    from cocoverify import _backend

    fi = corpus.FakeIntel()
    snp, cca = corpus.FakeSnp(), corpus.FakeCca()
    size = 500 if quick else 5000
    streams: list[Iterable[tuple[corpus.Case, bytes]]] = []
    real = corpus.real_intel(with_peer=False) + corpus.real_snp() + corpus.real_cca()
    streams.append(itertools.cycle([(c, c.evidence) for c in real]))
    for tee in ("sgx", "tdx"):
        v = fi.verifier(tee)
        case = corpus.Case("", tee, b"", fi.at, v)
        good = fi.distinct(tee, size, start=2 * 10**6)
        bad = fi.distinct(tee, size // 5, start=3 * 10**6, tamper=True)
        fresh = fi.new_platforms(tee, 100 if quick else 1000, tag="rss")
        streams.append(itertools.cycle([(case, q) for q in good]))
        streams.append(itertools.cycle([(case, q) for q in bad + fresh]))
    scase = corpus.Case("", "snp", b"", snp.at, snp.verifier)
    sgood = snp.distinct(size // 5, start=10**6)
    sbad = snp.distinct(size // 20, start=2 * 10**6, tamper=True)
    streams.append(itertools.cycle([(scase, r) for r in sgood + sbad]))
    ccase = corpus.Case("", "cca", b"", cca.at, cca.verifier)
    streams.append(itertools.cycle([(ccase, t) for t in cca.distinct(size // 5, start=10**6)]))
    mix = itertools.cycle(streams)
    accepted = 0
    marks: list[tuple[int, int]] = []
    checkpoints = sorted({n1, n2, *(n1 + (n2 - n1) * i // 8 for i in range(1, 8))})
    t0 = time.perf_counter()
    done = 0
    for target in checkpoints:
        while done < target:
            case, ev = next(next(mix))
            accepted += case.verify(ev)
            done += 1
        gc.collect()
        marks.append((done, _rss()))
    return {
        "backend": _backend.backend(),
        "marks": marks,
        "accepted": accepted,
        "verifies": done,
        "seconds": time.perf_counter() - t0,
    }


# --- process-level numbers --------------------------------------------------------------------


def _env(backend: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if backend is not None:
        env["COCOVERIFY_BACKEND"] = backend
    return env


def _worker(mode: str, extra: list[str], backend: str | None) -> dict[str, Any]:
    cmd = [PY, str(Path(__file__).resolve()), "--worker", mode, *extra]
    out = subprocess.run(cmd, env=_env(backend), capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} worker ({backend}) failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _wall(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def import_times(n: int) -> dict[str, Any]:
    """Import time inside fresh interpreters (best of ``n``, interleaved) and wall time."""
    code = "import time; t = time.perf_counter(); import {}; print(time.perf_counter() - t)"
    mods = ["cocoverify", "cryptography.x509"]
    best: dict[str, float] = {m: float("inf") for m in mods}
    wall: dict[str, float] = {m: float("inf") for m in [*mods, "pass"]}
    for _ in range(n):
        for m in mods:
            t0 = time.perf_counter()
            out = subprocess.run(
                [PY, "-c", code.format(m)], capture_output=True, text=True, check=True
            )
            wall[m] = min(wall[m], time.perf_counter() - t0)
            best[m] = min(best[m], float(out.stdout.split()[-1]))
        wall["pass"] = min(wall["pass"], _wall([PY, "-c", "pass"]))
    probe = (
        "import sys, cocoverify; print(' '.join(m for m in "
        "('asyncio', 'yaml', 'cbor2', 'concurrent.futures', 'cocoverify.integrations', "
        "'cocoverify.batch', 'cocoverify.cli', 'cocoverify.collateral.sources', 'cffi') "
        "if m in sys.modules))"
    )
    eager = subprocess.run(
        [PY, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    return {"import": best, "wall": wall, "eager": eager}


def cli_wall(n: int) -> dict[str, Any]:
    """Wall time of ``cocoverify verify`` on a real TDX quote (best of ``n``)."""
    cases = [c for c in corpus.real_intel(with_peer=False) if c.id == "tdx-v4-dcapqvl-sample"]
    if not cases:
        return {}
    m = json.loads((corpus.SHARED / "intel" / "MANIFEST.json").read_text())
    c = next(x for x in m["cases"] if x["id"] == "tdx-v4-dcapqvl-sample")
    base = corpus.SHARED / "intel" / c["id"]
    files = c["files"]
    cmd = [PY, "-m", "cocoverify", "verify", str(base / files["quote"]), "--at", c["verify_at"]]
    for role in corpus.INTEL_ROLES:
        if role in files:
            cmd += ["--collateral", str(base / files[role])]
    return {
        "verify": min(_wall(cmd) for _ in range(n)),
        "pass": min(_wall([PY, "-c", "pass"]) for _ in range(n)),
    }


def p256_loop_worker(n: int) -> float:
    """In its own process: ``n`` bare P-256 verifies, started when the parent says "go" on
    stdin (after "ready" on stdout), so that processes run them at the same time."""
    check = _ecdsa_check()
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    for _ in range(n):
        check()
    return time.perf_counter() - t0


def _process_floor(n: int) -> float:
    """Throughput of 2 processes doing ``n`` bare P-256 verifies each over 1 process: what
    the two cores give separate processes right now (the batch row's floor)."""
    cmd = [PY, str(Path(__file__).resolve()), "--worker", "p256-loop", "--n", str(n)]

    def together(k: int) -> float:
        procs = [
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            for _ in range(k)
        ]
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        return max(float(json.loads(p.communicate()[0])) for p in procs)

    return 2 * together(1) / together(2)


def batch_times(rounds: int, quick: bool) -> dict[str, Any]:
    """``cocoverify batch`` with 1 and 2 workers on two folder sizes of distinct quotes;
    throughput from the slope between the sizes (start-up cancels out)."""
    fi = corpus.FakeIntel()
    # both sizes give each worker more than 256 quotes of the one attestation key, so its
    # P-256 table (built on a key's 256th verification, docs/native.md) is a start-up cost
    # in both runs and cancels in the slope like the others; 10,000 quotes between the two
    # keep start-up noise (about 20 ms) small against the per-item time
    small, big = (60, 240) if quick else (2000, 12000)
    quotes = []
    for tee in ("sgx", "tdx"):
        quotes += fi.distinct(tee, big // 2, start=5 * 10**6)
    quotes = [q for pair in zip(quotes[: big // 2], quotes[big // 2 :], strict=True) for q in pair]
    tmp = Path(tempfile.mkdtemp(prefix="cocoverify-bench-"))
    try:
        coll = tmp / "collateral"
        coll.mkdir()
        for f in {*fi.files("sgx"), *fi.files("tdx")}:
            shutil.copy(f, coll / f.name)
        root = tmp / "root.pem"
        root.write_bytes(fi.root_pem)
        dirs = {}
        for n in (small, big):
            d = tmp / f"q{n}"
            d.mkdir()
            for i, q in enumerate(quotes[:n]):
                (d / f"{i:05d}.bin").write_bytes(q)
            dirs[n] = d
        best: dict[tuple[int, int], float] = {}
        cpu: dict[tuple[int, int], float] = {}
        out = tmp / "out.jsonl"
        floor: list[float] = []
        paired = []  # per round: -j 1 and -j 2 run back to back, so a slow spell of the
        # host hits both (the best-of slopes below can pair a fast -j 1 with a slow -j 2)
        for i in range(rounds):
            this: dict[tuple[int, int], float] = {}
            for jobs in (1, 2) if i % 2 == 0 else (2, 1):
                for n in (small, big):
                    cmd = [
                        PY,
                        "-m",
                        "cocoverify",
                        "batch",
                        str(dirs[n]),
                        "--collateral",
                        str(coll),
                        "--trust-root",
                        str(root),
                        "--at",
                        fi.at,
                        "--jobs",
                        str(jobs),
                        "-q",
                        "-o",
                        str(out),
                    ]
                    t0 = time.perf_counter()
                    proc = subprocess.Popen(
                        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )
                    _, _, use = os.wait4(proc.pid, 0)  # the CLI with its workers (waited)
                    t = time.perf_counter() - t0
                    proc.returncode = 0  # reaped above; keeps Popen from waiting again
                    this[(jobs, n)] = t
                    if t < best.get((jobs, n), float("inf")):
                        best[(jobs, n)] = t
                        cpu[(jobs, n)] = use.ru_utime + use.ru_stime
                    lines = [json.loads(x) for x in out.read_text().splitlines() if x.strip()]
                    accepted = sum(1 for x in lines if x.get("accepted"))
                    if accepted != n:
                        raise RuntimeError(f"batch -j {jobs}: {accepted}/{n} accepted")
            two = this[(2, big)] - this[(2, small)]
            if two > 0:  # not always on --quick sizes, where start-up noise dominates
                paired.append((this[(1, big)] - this[(1, small)]) / two)
            floor.append(_process_floor(1000 if quick else 5000))
        slope = {j: (best[(j, big)] - best[(j, small)]) / (big - small) for j in (1, 2)}
        cpu_slope = {j: (cpu[(j, big)] - cpu[(j, small)]) / (big - small) for j in (1, 2)}
        return {
            "sizes": [small, big],
            "best": {f"j{j}_{n}": t for (j, n), t in best.items()},
            "per_item": {f"j{j}": t for j, t in slope.items()},
            # CPU per item over every process of the run (parent and workers)
            "cpu_per_item": {f"j{j}": t for j, t in cpu_slope.items()},
            "speedup": statistics.median(paired) if paired else slope[1] / slope[2],
            "paired": paired,
            "process_floor": statistics.median(floor),
            "best_speedup": slope[1] / slope[2],
            "wall_speedup": best[(1, big)] / best[(2, big)],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# --- rendering ------------------------------------------------------------------------------


def _batch_cpu(b: dict[str, Any]) -> str:
    """CPU per item over all processes, and the -j 2 speed-up two cores allow with it."""
    cpu = b.get("cpu_per_item")
    if not cpu or cpu["j2"] <= 0:
        return ""
    return (
        f"; CPU per item (parent and workers): -j 1 {_fmt_t(cpu['j1'])}, "
        f"-j 2 {_fmt_t(cpu['j2'])}, so two cores allow at most "
        f"{_fmt_x(2 * cpu['j1'] / cpu['j2'])} over -j 1"
    )


def _fmt_t(s: float | None) -> str:
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.2f} ms"
    return f"{s * 1e6:.0f} µs"


def _fmt_x(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}x"


class Report:
    def __init__(self, runs: dict[str, dict[str, Any]], proc: dict[str, Any], args: Any) -> None:
        self.runs = runs
        self.proc = proc
        self.args = args
        self.main = "native" if "native" in runs else next(iter(runs), "")
        self.lines: list[str] = []

    def t(self, backend: str, name: str) -> float | None:
        b = self.runs.get(backend, {}).get("bench", {}).get(name)
        return None if b is None else float(b["median"])

    def unit(self, backend: str) -> float | None:
        return self.t(backend, "floor/p256")

    def floor(self, backend: str, kind: str) -> float | None:
        p256, p384 = self.t(backend, "floor/p256"), self.t(backend, "floor/p384")
        if p256 is None or p384 is None:
            return None
        one = {"p256": p256, "p384": p384, "3p256": 3 * p256}
        return sum(one[k] for k in kind.split("+"))

    def cell(self, backend: str, seconds: float | None) -> str:
        u = self.unit(backend)
        if seconds is None:
            return "-"
        return f"{_fmt_t(seconds)} ({seconds / u:.1f} {UNIT})" if u else _fmt_t(seconds)

    def median_of(self, backend: str, names: list[str]) -> float | None:
        vals = [v for n in names if (v := self.t(backend, n)) is not None]
        return statistics.median(vals) if vals else None

    def row(self, *cells: str) -> None:
        self.lines.append("| " + " | ".join(cells) + " |")

    def verify_row(
        self,
        label: str,
        names: list[str],
        floor: str | list[str],
        floor_label: str,
        target: str,
        check: Callable[[float, float | None], bool] | None,
        dcap: list[str] | None = None,
    ) -> None:
        m = self.main
        cells = [
            self.cell(b, self.median_of(b, names)) if b in self.runs else "-"
            for b in ("native", "python")
        ]
        floors = [floor] * len(names) if isinstance(floor, str) else floor
        per_case = [
            t / fl
            for n, f in zip(names, floors, strict=True)
            if (t := self.t(m, n)) is not None and (fl := self.floor(m, f))
        ]
        ratio = statistics.median(per_case) if per_case else None
        peer_t, peer_x = "-", None
        if dcap:
            pairs = [
                (self.t(m, d), self.t(m, n))
                for n, d in zip(names, dcap, strict=True)
                if self.t(m, d) is not None and self.t(m, n) is not None
            ]
            if pairs:
                peer_t = _fmt_t(statistics.median(p for p, _ in pairs))
                peer_x = statistics.median(p / c for p, c in pairs if c)
        holds = (
            "-" if check is None or ratio is None else ("yes" if check(ratio, peer_x) else "**no**")
        )
        self.row(label, *cells, floor_label, _fmt_x(ratio), peer_t, _fmt_x(peer_x), target, holds)

    def render(self) -> str:
        L = self.lines
        m = self.main
        env = self.runs.get(m, {}).get("env", {})
        L.append("## cocoverify benchmark report")
        L.append("")
        L.append(
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} · {_git()} · "
            f"{platform.python_implementation()} {platform.python_version()} · "
            f"cryptography {env.get('cryptography', '?')} ({_openssl()}) · "
            f"dcap-qvl {env.get('dcap_qvl', 'not installed')} · "
            f"{os.cpu_count()} cores ({_cpu()}) · "
            f"backends measured: {', '.join(self.runs) or 'none'} · rounds {self.args.rounds} · "
            "load average at start/end: " + "/".join(f"{x:.1f}" for x in self.proc.get("load", []))
        )
        L.append("")
        u = self.unit(m)
        if self.runs:
            L.append(
                f"Unit {UNIT} = one ECDSA P-256 verify through `cryptography` in the same "
                f"process ({_fmt_t(u)} in the {m} run). Times are medians over interleaved "
                'rounds; "÷ floor" and "dcap-qvl ÷ cocoverify" are taken on the '
                f"{m} column, inside one process."
            )
            L.append("")
        self.row(
            "path",
            "native",
            "python",
            "floor",
            "÷ floor",
            "dcap-qvl",
            "dcap-qvl ÷ cocoverify",
            "target",
            "holds",
        )
        self.row(*["---"] * 9)
        if self.runs:
            self._verify_rows()
        self._process_rows()
        L.append("")
        dcap = self.median_of(m, ["dcap/warm-gen/sgx", "dcap/warm-gen/tdx"])
        if dcap is not None and u:
            L.append(
                f"dcap-qvl verifies a quote in {dcap / u:.1f} {UNIT} here (distinct generated "
                f'quotes), so "≥ 10x dcap-qvl" means ≤ {dcap / u / 10:.2f} {UNIT} per '
                "verification, against a floor of 1 u for the quote signature alone."
            )
            L.append("")
        if self.runs:
            self._details()
        else:
            self._process_notes()
        return "\n".join(L) + "\n"

    def _verify_rows(self) -> None:
        m = self.main
        for name, label in (
            ("floor/p256", "floor: ECDSA P-256 verify (`cryptography`)"),
            ("floor/p384", "floor: ECDSA P-384 verify"),
            ("floor/rsa4096pss", "floor: RSA-4096 PSS verify"),
        ):
            self.row(
                label,
                *[self.cell(b, self.t(b, name)) for b in ("native", "python")],
                "",
                "",
                "",
                "",
                "",
                "",
            )
        gen = {tee: (f"coco/warm-gen/{tee}", f"dcap/warm-gen/{tee}") for tee in ("sgx", "tdx")}
        for tee in ("sgx", "tdx"):
            self.verify_row(
                f"warm {tee.upper()}, known platform, distinct quotes (generated)",
                [gen[tee][0]],
                "p256",
                "1 P-256",
                "≤ 1.25 u; ≥ 10x dcap-qvl",
                lambda r, x: r <= 1.25 and x is not None and x >= 10,
                [gen[tee][1]],
            )
        cases = self.runs.get(m, {}).get("cases", {})
        for tee in ("sgx", "tdx"):
            ids = sorted(k for k, v in cases.items() if v["tee"] == tee and "dcap" in v)
            both = [k for k in ids if not cases[k]["dcap"].startswith("error")]
            self.verify_row(
                f"warm {tee.upper()}, real quotes (median of {len(both)}; same quote repeated)",
                [f"coco/real/{k}" for k in both],
                "p256",
                "1 P-256",
                "≥ 10x dcap-qvl",
                lambda r, x: x is not None and x >= 10,
                [f"dcap/real/{k}" for k in both],
            )
        for tee in ("sgx", "tdx"):
            self.verify_row(
                f"new platform {tee.upper()} (generated: new PCK leaf and QE report)",
                [f"coco/new-gen/{tee}"],
                "3p256",
                "3 P-256 (PCK leaf, QE report, quote)",
                "≤ dcap-qvl",
                lambda r, x: x is not None and x >= 1.0,
                [f"dcap/new-gen/{tee}"],
            )
        self._new_real_rows()
        for product in ("Milan", "Genoa", "Turin"):
            ids = sorted(
                k
                for k, v in cases.items()
                if v["tee"] == "snp" and v.get("product") == product and v["outcome"] == "accept"
            )
            self.verify_row(
                f"warm SNP {product} (real, median of {len(ids)})",
                [f"coco/real/{k}" for k in ids],
                "p384",
                "1 P-384",
                "≤ 1.1x",
                lambda r, x: r <= 1.1,
            )
        self.verify_row(
            "warm SNP, distinct reports (generated Milan)",
            ["coco/warm-gen/snp"],
            "p384",
            "1 P-384",
            "≤ 1.1x",
            lambda r, x: r <= 1.1,
        )
        self.verify_row(
            "SNP, a report of a new VM every call (generated Milan: the full pipeline)",
            ["coco/new-gen/snp"],
            "p384",
            "1 P-384",
            "-",
            None,
        )
        ids = sorted(k for k, v in cases.items() if v["tee"] == "cca" and v["outcome"] == "accept")
        self.verify_row(
            f"warm CCA (real, median of {len(ids)})",
            [f"coco/real/{k}" for k in ids],
            [cases[k]["floor"] for k in ids],
            "its two signatures (ES256 + ES384 or 2 ES384)",
            "≤ 1.1x",
            lambda r, x: r <= 1.1,
        )
        self.verify_row(
            "warm CCA, distinct tokens (generated, P-256 CPAK; platform token seen before)",
            ["coco/warm-gen/cca"],
            "p256+p384",
            "P-256 + P-384",
            "≤ 1.1x",
            lambda r, x: r <= 1.1,
        )
        self.verify_row(
            "CCA, a new platform token every call (generated, P-256 CPAK)",
            ["coco/new-gen/cca"],
            "p256+p384",
            "P-256 + P-384",
            "-",
            None,
        )

    def _new_real_rows(self) -> None:
        nr = self.proc.get("new-real")
        if not isinstance(nr, dict):
            if nr is not None:
                self.row("new platform, real quotes", f"error: {nr}", *[""] * 7)
            return
        for warm in ("", "-warm"):
            for tee in ("sgx", "tdx"):
                self._new_real_row(nr, tee, warm)

    def _new_real_row(self, nr: dict[str, Any], tee: str, warm: str) -> None:
        per = {
            b: [e for e in nr.get(b + warm, []) if e["tee"] == tee] for b in ("native", "python")
        }
        main = per.get(self.main) or []
        if not main:
            return
        cells = []
        for b in ("native", "python"):
            es = per[b]
            if not es:
                cells.append("-")
                continue
            t = statistics.median(e["first"] for e in es)
            u = statistics.median(e["p256"] for e in es)
            cells.append(f"{_fmt_t(t)} ({t / u:.1f} {UNIT})")
        ratio = statistics.median(e["first"] / (3 * e["p256"]) for e in main)
        peer_x = statistics.median(e["dcap"] / e["first"] for e in main)
        where = (
            f"a process that had verified {WARM_PLATFORMS} generated platforms per TEE first"
            if warm
            else "a fresh process"
        )
        self.row(
            f"new platform {tee.upper()}, real quotes (first verify after another platform's "
            f"quote used the same collateral, in {where}; {len(main)} pairs, median of "
            f"{main[0]['reps']} processes)",
            *cells,
            "3 P-256",
            _fmt_x(ratio),
            _fmt_t(statistics.median(e["dcap"] for e in main)),
            _fmt_x(peer_x),
            "≤ dcap-qvl",
            "yes" if peer_x >= 1.0 else "**no**",
        )

    def _process_rows(self) -> None:
        m = self.main
        th = {b: r.get("threads", {}).get("speedup") for b, r in self.runs.items()}
        fl = self.runs.get(m, {}).get("threads_floor", {}).get("speedup")
        sp = th.get(m)
        if self.runs:
            self.row(
                "2 threads ÷ 1 thread, one shared `Verifier` (throughput, distinct TDX quotes)",
                _fmt_x(th.get("native")),
                _fmt_x(th.get("python")),
                f"P-256 verifies in 2 threads: {_fmt_x(fl)}",
                "",
                "",
                "",
                "≥ 1.6x",
                "-" if sp is None else ("yes" if sp >= 1.6 else "**no**"),
            )
        b = self.proc.get("batch")
        if isinstance(b, dict):
            warm = self.median_of(m, ["coco/warm-gen/sgx", "coco/warm-gen/tdx"])
            per1 = b["per_item"]["j1"]
            over = per1 - warm if warm is not None else None
            self.row(
                "`cocoverify batch -j 2` ÷ `-j 1` (throughput, "
                f"{b['sizes'][0]} vs {b['sizes'][1]} files; median over "
                f"{len(b.get('paired', []))} rounds of the two run back to back)",
                f"{_fmt_x(b['speedup'])} (slopes of the best times "
                f"{_fmt_x(b.get('best_speedup'))}, wall {_fmt_x(b['wall_speedup'])})",
                "-",
                "P-256 verifies in 2 processes, same rounds: " + _fmt_x(b.get("process_floor")),
                _fmt_x(b["speedup"] / b["process_floor"]) if b.get("process_floor") else "-",
                "",
                "",
                "≥ 1.8x",
                "yes" if b["speedup"] >= 1.8 else "**no**",
            )
            if over is not None and warm:
                self.row(
                    "batch per-item overhead over an in-process warm verify (`-j 1`)",
                    f"{_fmt_t(over)} ({over / warm * 100:.0f}% of {_fmt_t(warm)})",
                    "-",
                    "0",
                    "",
                    "",
                    "",
                    "≤ 10%",
                    "yes" if over / warm <= 0.10 else "**no**",
                )
        elif b is not None:
            self.row(
                "`cocoverify batch` -j 2 ÷ -j 1", f"error: {b}", "", "", "", "", "", "≥ 1.8x", "?"
            )
        imp = self.proc.get("import")
        if isinstance(imp, dict):
            c, x = imp["import"]["cocoverify"], imp["import"]["cryptography.x509"]
            eager = ", ".join(imp["eager"]) or "none"
            self.row(
                f"`import cocoverify` (fresh interpreter, best of {self.args.import_n}; "
                f"eager: {eager})",
                _fmt_t(c),
                "-",
                f"`import cryptography.x509` {_fmt_t(x)}",
                _fmt_x(c / x),
                "",
                "",
                "≤ 1.5x",
                "yes" if c / x <= 1.5 else "**no**",
            )
            self.row(
                "interpreter wall: `python -c 'import cocoverify'`",
                _fmt_t(imp["wall"]["cocoverify"]),
                "-",
                f"`python -c pass` {_fmt_t(imp['wall']['pass'])}",
                _fmt_x(imp["wall"]["cocoverify"] / imp["wall"]["pass"]),
                "",
                "",
                "",
                "-",
            )
        cli = self.proc.get("cli")
        if isinstance(cli, dict) and cli:
            self.row(
                "CLI `cocoverify verify` wall (real TDX quote)",
                _fmt_t(cli["verify"]),
                "-",
                f"`python -c pass` {_fmt_t(cli['pass'])}",
                _fmt_x(cli["verify"] / cli["pass"]),
                "",
                "",
                "",
                "-",
            )
        rss = self.proc.get("rss")
        if isinstance(rss, dict):
            marks = rss["marks"]
            (n1, r1), (n2, r2) = marks[0], marks[-1]
            nh, rh = marks[len(marks) // 2]
            growth = (r2 - r1) / 2**20
            per = (r2 - rh) / max(1, n2 - nh)  # the second half: bounded caches are full
            self.row(
                f"RSS after {n2:,} vs {n1:,} warm verifies (mixed accept/reject, all vendors)",
                f"{growth:+.1f} MB ({r1 / 2**20:.0f} → {r2 / 2**20:.0f} MB); "
                f"{per:+.0f} B/verify over the last {n2 - nh:,}",
                "-",
                "flat",
                "",
                "",
                "",
                "≤ 5 MB (10k → 1M)",
                ("yes" if growth <= 5 else "**no**")
                if n2 >= 10**6 and n1 >= 10**4
                else "- (short run: see `--long`)",
            )
        elif rss is not None:
            self.row("RSS growth", f"error: {rss}", "", "", "", "", "", "≤ 5 MB", "?")

    def _details(self) -> None:
        L = self.lines
        m = self.main
        cases = self.runs.get(m, {}).get("cases", {})
        L.append("### Real Intel quotes, case by case (same quote and collateral for both)")
        L.append("")
        self.row(
            "case",
            "cocoverify outcome",
            "native",
            "python",
            "dcap-qvl outcome",
            "dcap-qvl",
            "dcap-qvl ÷ cocoverify",
        )
        self.row(*["---"] * 7)
        for k, v in sorted(cases.items()):
            if v["tee"] not in ("sgx", "tdx"):
                continue
            c, d = self.t(m, f"coco/real/{k}"), self.t(m, f"dcap/real/{k}")
            self.row(
                k,
                v["outcome"],
                *[self.cell(b, self.t(b, f"coco/real/{k}")) for b in ("native", "python")],
                v.get("dcap", "-"),
                _fmt_t(d),
                _fmt_x(d / c if c and d else None),
            )
        L.append("")
        L.append("### Real SNP reports and CCA tokens, case by case")
        L.append("")
        self.row("case", "outcome", "native", "python", "floor", "÷ floor")
        self.row(*["---"] * 6)
        for k, v in sorted(cases.items(), key=lambda kv: (kv[1]["tee"] == "cca", kv[0])):
            if v["tee"] not in ("snp", "cca"):
                continue
            kind = "p384" if v["tee"] == "snp" else v["floor"]
            t, fl = self.t(m, f"coco/real/{k}"), self.floor(m, kind)
            self.row(
                f"{v['tee']}/{k}" + (f" ({v['product']})" if v.get("product") else ""),
                v["outcome"],
                *[self.cell(b, self.t(b, f"coco/real/{k}")) for b in ("native", "python")],
                "1 P-384" if v["tee"] == "snp" else v["algs"],
                _fmt_x(t / fl if t and fl else None),
            )
        L.append("")
        self._process_notes()

    def _process_notes(self) -> None:
        L = self.lines
        thr = {b: r.get("threads") for b, r in self.runs.items()}
        if any(thr.values()):
            L.append(
                "Threads (median of rounds, per-thread calls): "
                + "; ".join(
                    f"{b}: {_fmt_x(t['speedup'])} ({t['per_thread']} calls/thread)"
                    for b, t in thr.items()
                    if t
                )
            )
        b = self.proc.get("batch")
        if isinstance(b, dict):
            L.append(
                "Batch best wall times: "
                + ", ".join(f"{k} {_fmt_t(v)}" for k, v in sorted(b["best"].items()))
                + f"; per item: -j 1 {_fmt_t(b['per_item']['j1'])}, "
                + f"-j 2 {_fmt_t(b['per_item']['j2'])}"
                + _batch_cpu(b)
                + "; -j 2 ÷ -j 1 per round: "
                + ", ".join(_fmt_x(x) for x in b.get("paired", []))
            )
        rss = self.proc.get("rss")
        if isinstance(rss, dict):
            L.append(
                f"RSS ({rss['backend']} backend, {rss['verifies']:,} verifies, "
                f"{rss['accepted']:,} accepted, "
                f"{rss['seconds']:.0f} s): "
                + ", ".join(f"{n:,}: {r / 2**20:.1f} MB" for n, r in rss["marks"])
            )
        for b, r in self.proc.get("errors", {}).items():
            L.append(f"Not measured: {b}: {r}")


def _git() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=HERE,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no git"
    return f"tree {rev}" + (" + uncommitted changes" if dirty else "")


def _openssl() -> str:
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return str(backend.openssl_version_text())
    except Exception:  # pragma: no cover - informational only
        return "OpenSSL ?"


def _cpu() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.machine()


# --- main -----------------------------------------------------------------------------------


def _backends(requested: str) -> list[str]:
    if requested != "both":
        return [requested]
    from cocoverify._backend import native_error

    return ["native", "python"] if native_error() is None else ["python"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    ap.add_argument("--target", type=float, default=0.02, help="seconds per item per round")
    ap.add_argument("--backends", default="both", choices=["both", "native", "python"])
    ap.add_argument("--long", action="store_true", help="RSS after 10,000 vs 1,000,000 verifies")
    ap.add_argument(
        "--rss",
        type=int,
        nargs=2,
        metavar=("N1", "N2"),
        help="RSS checkpoints (default 2,000 and 30,000)",
    )
    ap.add_argument("--import-n", type=int, default=10, help="fresh interpreters per import timing")
    ap.add_argument(
        "--quick", action="store_true", help="smoke run: fewer rounds and smaller pools"
    )
    ap.add_argument(
        "--skip", default="", help="comma list of: measure,new-real,batch,import,cli,rss"
    )
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    ap.add_argument(
        "--worker", choices=["measure", "rss", "new-real", "p256-loop"], help=argparse.SUPPRESS
    )
    ap.add_argument("--pair", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--warm", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=1000, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.quick:
        args.rounds = min(args.rounds, 3)
        args.import_n = min(args.import_n, 3)
    n1, n2 = (10_000, 1_000_000) if args.long else tuple(args.rss or (2_000, 30_000))
    if args.quick and not args.rss and not args.long:
        n1, n2 = 500, 3_000
    flags = ["--rounds", str(args.rounds), "--target", str(args.target)] + (
        ["--quick"] if args.quick else []
    )

    if args.worker == "measure":
        json.dump(measure(args.rounds, args.target, args.quick), sys.stdout)
        return 0
    if args.worker == "rss":
        json.dump(rss_worker(n1, n2, args.quick), sys.stdout)
        return 0
    if args.worker == "new-real":
        json.dump(new_real_worker(args.pair, args.warm), sys.stdout)
        return 0
    if args.worker == "p256-loop":
        json.dump(p256_loop_worker(args.n), sys.stdout)
        return 0

    skip = set(filter(None, args.skip.split(",")))
    runs: dict[str, dict[str, Any]] = {}
    proc: dict[str, Any] = {"errors": {}, "load": [os.getloadavg()[0]]}
    for backend in [] if "measure" in skip else _backends(args.backends):
        print(f"measuring the {backend} backend ...", file=sys.stderr, flush=True)
        try:
            runs[backend] = _worker("measure", flags, backend)
        except Exception as exc:  # keep the rest of the report
            proc["errors"][backend] = str(exc)[-500:]
    steps: list[tuple[str, Callable[[], Any]]] = [
        (
            "new-real",
            lambda: new_real(list(runs) or _backends(args.backends), 3 if args.quick else 7),
        ),
        ("batch", lambda: batch_times(2 if args.quick else 5, args.quick)),
        ("import", lambda: import_times(args.import_n)),
        ("cli", lambda: cli_wall(3 if args.quick else 7)),
        ("rss", lambda: _worker("rss", [*flags, "--rss", str(n1), str(n2)], None)),
    ]
    for name, step in steps:
        if name in skip:
            continue
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        try:
            proc[name] = step()
        except Exception as exc:
            proc[name] = f"{type(exc).__name__}: {str(exc)[-300:]}"
    proc["load"].append(os.getloadavg()[0])
    text = Report(runs, proc, args).render()
    sys.stdout.write(text)
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "process": proc}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
