"""The mutation sweep (docs/security.md "Mutation sweep"): every accepted real and generated
case of tests/golden/outputs.py, every byte of its evidence mutated once per round (a bit
flip or a byte replacement, alternating) and a sample of the bytes of each collateral file;
no mutant may be accepted unless a rule of tests/fuzz/unsigned.py explains it, and an
explained one must give the original's claims. Mutants alternate between the Python and the
native backend. Not collected by pytest (tests/fuzz/test_sweep.py runs a slice).

    python tests/fuzz/sweep.py                       # one round, 2 processes
    python tests/fuzz/sweep.py --seed 3 --collateral 32 --workers 1 --only intel/

Exit status 1 on a finding (it is printed with the case, the file, the offset and the bytes).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import multiprocessing
import os
import random
import sys
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _cases  # noqa: E402  (tests/fuzz, not a package)
import open_findings  # noqa: E402
import unsigned  # noqa: E402
from _parity import BACKENDS, selected  # noqa: E402

from cocoverify import CocoverifyError, VerificationResult, Verifier  # noqa: E402
from cocoverify.collateral import Collateral  # noqa: E402

#: Collateral bytes mutated per file and round (CI default; the soak raises it).
COLLATERAL_SAMPLE = int(os.environ.get("SWEEP_COLLATERAL_SAMPLE", "24"))
CHUNK = 1024  # evidence offsets per job


@dataclass(frozen=True)
class CollateralFile:
    name: str
    raw: bytes
    items: Collateral  # as load_collateral reads the file


@dataclass(frozen=True)
class SweepCase:
    case: _cases.Case
    files: tuple[CollateralFile, ...]  # its collateral files, as golden loads them (read once)
    claims: Any  # the original's verdict (an explained acceptance must give the same)
    #: ("evidence" or file name, DER of the certificates in it) for the evidence and each file
    certificates: tuple[tuple[str, frozenset[bytes]], ...]


@dataclass(frozen=True)
class Finding:
    case: str
    where: str  # "evidence" or a collateral file name
    offset: int
    before: int
    after: int
    backend: str
    why: str

    def describe(self) -> str:
        return (
            f"{self.case}: {self.where}[{self.offset}] {self.before:#04x}->{self.after:#04x} "
            f"({self.backend}): {self.why}"
        )


@dataclass
class Report:
    mutants: int = 0
    evidence_mutants: int = 0
    collateral_mutants: int = 0
    unsigned_accepted: int = 0
    by_rule: Counter[str] = field(default_factory=Counter)
    open: Counter[str] = field(default_factory=Counter)  # known, reported verifier bugs
    by_backend: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    cases: int = 0
    seconds: float = 0.0

    def add(self, other: Report) -> None:
        self.mutants += other.mutants
        self.evidence_mutants += other.evidence_mutants
        self.collateral_mutants += other.collateral_mutants
        self.unsigned_accepted += other.unsigned_accepted
        self.by_rule.update(other.by_rule)
        self.open.update(other.open)
        self.by_backend.update(other.by_backend)
        self.findings += other.findings


def load_cases(only: str = "") -> list[SweepCase]:
    """The accepted golden cases and the accepted real Nitro, NVIDIA, Azure and event-log
    evidence golden does not list, with their collateral files and original claims."""
    out = []
    for case in itertools.chain(_cases.accepted_with_files(), _cases.real_extra()):
        if not case[0].id.startswith(only):
            continue
        c, paths = case
        files = []
        for p in paths:
            raw = p.read_bytes()
            files.append(CollateralFile(p.name, raw, Collateral.from_bytes(raw, source=str(p))))
        certs = [("evidence", unsigned.certificates_in(c.evidence))]
        certs += [(f.name, unsigned.certificates_in(f.raw)) for f in files]
        verdict = _verdict(c.verifier().verify(c.evidence, at=c.at))
        out.append(SweepCase(c, tuple(files), verdict, tuple(certs)))
    return out


def _mutated(data: bytes, offset: int, rng: random.Random, flip: bool) -> bytes:
    buf = bytearray(data)
    if flip:
        buf[offset] ^= 1 << rng.randrange(8)
    else:
        buf[offset] = (buf[offset] + rng.randrange(1, 256)) % 256
    return bytes(buf)


def _verdict(result: VerificationResult) -> Any:
    return (result.tee, dict(result.claims), result.tcb_status, result.advisory_ids)


@dataclass(frozen=True)
class Raised:
    """verify() raised something other than a CocoverifyError (CLI: "internal error")."""

    error: str


def _accepted(verifier: Verifier, evidence: bytes, at: Any) -> Any:
    """The verdict when ``evidence`` is accepted, None when refused (a CocoverifyError)."""
    try:
        return _verdict(verifier.verify(evidence, at=at))
    except CocoverifyError:
        return None
    except Exception as exc:  # a finding, reported with the mutant
        return Raised(f"{type(exc).__name__}: {exc}")


def _judge(
    sc: SweepCase,
    where: str,
    offset: int,
    orig: bytes,
    mut: bytes,
    claims: Any,
    backend: str,
    rep: Report,
) -> None:
    """Record an accepted (or raising) mutant: explained by an unsigned rule with the same
    verdict, a known open finding, or a new finding."""
    before, after = orig[offset], mut[offset]
    elsewhere = frozenset().union(*(c for name, c in sc.certificates if name != where))
    m = unsigned.Mutant(sc.case.id, where, offset, orig, mut, elsewhere)
    if isinstance(claims, Raised):
        why = f"raised {claims.error} (not a CocoverifyError)"
    else:
        rule = unsigned.explain(m)
        if rule is not None and (not rule.same_claims or claims == sc.claims):
            rep.unsigned_accepted += 1
            rep.by_rule[rule.name] += 1
            return
        why = "accepted, and no rule of tests/fuzz/unsigned.py explains it"
        if rule is not None:
            why = f"accepted under rule {rule.name!r} but with another verdict"
    known = open_findings.match(m, why)
    if known is not None:
        rep.open[known.name] += 1
        return
    rep.findings.append(Finding(sc.case.id, where, offset, before, after, backend, why))


def _evidence_job(sc: SweepCase, seed: int, start: int, stop: int, stride: int) -> Report:
    rep = Report()
    verifier = sc.case.verifier()
    ev = sc.case.evidence
    rng = random.Random(f"{sc.case.id}/{seed}/{start}")
    for i in range(start, min(stop, len(ev))):
        if (i - seed) % stride:
            continue
        k = i // stride + seed  # alternates over the offsets this round mutates
        backend = BACKENDS[k % len(BACKENDS)]
        mut = _mutated(ev, i, rng, flip=(k // len(BACKENDS)) % 2 == 0)
        with selected(backend):
            claims = _accepted(verifier, mut, sc.case.at)
        rep.mutants += 1
        rep.evidence_mutants += 1
        rep.by_backend[backend] += 1
        if claims is not None:
            _judge(sc, "evidence", i, ev, mut, claims, backend, rep)
    return rep


def _collateral_job(sc: SweepCase, seed: int, sample: int) -> Report:
    rep = Report()
    kw = {k: v for k, v in sc.case.kwargs.items() if k not in ("at", "collateral")}
    rng = random.Random(f"{sc.case.id}/{seed}/collateral")
    for n, cf in enumerate(sc.files):
        others = Collateral()
        for other in sc.files:
            others = others if other is cf else others + other.items
        raw = cf.raw
        for k in range(min(sample, len(raw))):
            i = rng.randrange(len(raw))
            mut = _mutated(raw, i, rng, flip=rng.random() < 0.5)
            backend = BACKENDS[(n + k + seed) % len(BACKENDS)]
            rep.mutants += 1
            rep.collateral_mutants += 1
            rep.by_backend[backend] += 1
            try:
                coll = others + Collateral.from_bytes(mut, source=cf.name)
            except CocoverifyError:
                continue  # refused on load: rejected
            except Exception as exc:  # a finding: loading may only raise CocoverifyError
                err = Raised(f"{type(exc).__name__} on load: {exc}")
                _judge(sc, cf.name, i, raw, mut, err, backend, rep)
                continue
            with selected(backend):
                try:
                    verifier = Verifier(collateral=coll, **kw)
                except CocoverifyError:
                    continue
                claims = _accepted(verifier, sc.case.evidence, sc.case.at)
            if claims is not None:
                _judge(sc, cf.name, i, raw, mut, claims, backend, rep)
    return rep


_CASES: list[SweepCase] = []  # the parent's, inherited by the forked workers


def _job(job: tuple[str, int, int, int, int, int]) -> Report:
    kind, index, seed, a, b, stride = job
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "evidence":
            return _evidence_job(_CASES[index], seed, a, b, stride)
        return _collateral_job(_CASES[index], seed, a)


def _jobs(seed: int, sample: int, stride: int) -> Iterator[tuple[str, int, int, int, int, int]]:
    for index, sc in enumerate(_CASES):
        if sample and sc.files:
            yield ("collateral", index, seed, sample, 0, 1)
        for start in range(0, len(sc.case.evidence), CHUNK * stride):
            yield ("evidence", index, seed, start, start + CHUNK * stride, stride)


def run(
    *,
    seed: int = 0,
    workers: int = 2,
    sample: int = COLLATERAL_SAMPLE,
    only: str = "",
    deadline: float | None = None,
    stride: int = 1,
) -> Report:
    """One round over every accepted case (stops at ``deadline``): every ``stride``-th
    evidence byte, ``sample`` bytes of each collateral file."""
    start = time.monotonic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not _CASES or only:
            _CASES[:] = load_cases(only)
    total = Report(cases=len(_CASES))
    jobs = list(_jobs(seed, sample, stride))
    random.Random(seed).shuffle(jobs)  # mixes long and short jobs over the workers
    if workers <= 1:
        results: Iterator[Report] = map(_job, jobs)
        pool = None
    else:
        pool = multiprocessing.get_context("fork").Pool(workers)
        results = pool.imap_unordered(_job, jobs)
    try:
        for rep in results:
            total.add(rep)
            if deadline is not None and time.time() > deadline:
                break
    finally:
        if pool is not None:
            pool.terminate()
    total.seconds = time.monotonic() - start
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="mutation sweep of the accepted cases")
    ap.add_argument("--seed", type=int, default=int(os.environ.get("SWEEP_SEED", "0")))
    ap.add_argument("--workers", type=int, default=int(os.environ.get("SWEEP_WORKERS", "2")))
    ap.add_argument("--collateral", type=int, default=COLLATERAL_SAMPLE, help="bytes per file")
    ap.add_argument("--only", default="", help="case id prefix, e.g. intel/ or project/sgx")
    ap.add_argument(
        "--stride",
        type=int,
        default=int(os.environ.get("SWEEP_STRIDE", "1")),
        help="every n-th evidence byte (the seed shifts which)",
    )
    ap.add_argument("--min-mutants", type=int, default=int(os.environ.get("SWEEP_MIN", "0")))
    ap.add_argument("--findings", type=Path, help="write every finding here (JSON)")
    args = ap.parse_args(argv)
    logging.disable(logging.CRITICAL)  # "policy: unsafe_... is set" once per mutant otherwise
    rep = run(
        seed=args.seed,
        workers=args.workers,
        sample=args.collateral,
        only=args.only,
        stride=args.stride,
    )
    print(
        f"sweep: {rep.cases} cases, {rep.mutants} mutants ({rep.evidence_mutants} evidence, "
        f"{rep.collateral_mutants} collateral; {dict(rep.by_backend)}) in {rep.seconds:.1f}s, "
        f"{rep.unsigned_accepted} accepted by an unsigned-by-design rule {dict(rep.by_rule)}, "
        f"open (reported) {dict(rep.open)}, {len(rep.findings)} findings"
    )
    if args.findings:
        rows = [f.__dict__ for f in rep.findings]
        args.findings.write_text(json.dumps(rows, indent=0), encoding="utf-8")
    for f in rep.findings[:50]:
        print("FINDING", f.describe())
    if rep.mutants < args.min_mutants:
        print(f"sweep: fewer than {args.min_mutants} mutants (is ../shared missing?)")
        return 1
    return 1 if rep.findings else 0


if __name__ == "__main__":
    sys.exit(main())
