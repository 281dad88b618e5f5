"""Shared driver of the Python fuzz targets in this folder (not collected by pytest).

With atheris installed (``pip install atheris``; libFuzzer options and a corpus folder pass
through, e.g. ``-atheris_runs=100000 -max_len=8192``; without a folder the seeds are the
corpus) a target runs under coverage-guided fuzzing. Without
it, ``--mutations N`` (default 20000) runs a reproducible random-mutation loop over the
seeds. A target may raise a :class:`cocoverify.CocoverifyError` (the input was refused as it
should be); anything else is a finding and stops the run.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import random
import sys
import tempfile
import types
from collections.abc import Callable, Sequence
from pathlib import Path

import cocoverify
from cocoverify import CocoverifyError

Target = Callable[[bytes], None]


def guarded(target: Target) -> Target:
    """``target`` with CocoverifyError (a verdict, not a crash) swallowed."""

    def run(data: bytes) -> None:
        with contextlib.suppress(CocoverifyError):
            target(data)

    return run


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One random edit: flip, set, insert, delete, truncate, duplicate a slice."""
    buf = bytearray(data or b"\x00")
    op = rng.randrange(6)
    i = rng.randrange(len(buf))
    if op == 0:
        buf[i] ^= 1 << rng.randrange(8)
    elif op == 1:
        buf[i] = rng.randrange(256)
    elif op == 2:
        buf[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    elif op == 3:
        del buf[i : i + rng.randrange(1, 9)]
    elif op == 4:
        del buf[i:]
    else:
        j = rng.randrange(i, len(buf) + 1)
        buf[j:j] = buf[i:j]
    return bytes(buf)


def mutation_loop(target: Target, seeds: Sequence[bytes], count: int, seed: int = 0) -> int:
    """Run ``count`` mutated inputs (1-3 edits of a seed each); returns how many ran."""
    rng = random.Random(seed)
    run = guarded(target)
    for seed_data in seeds:
        run(seed_data)
    for _ in range(count):
        data = rng.choice(list(seeds))
        for _ in range(rng.randrange(1, 4)):
            data = mutate(rng, data)
        run(data)
    return count + len(seeds)


def _instrument_project(instrument_func: Callable[..., object]) -> int:
    """Coverage instrumentation of cocoverify's own functions only (atheris.instrument_all
    also rewrites cryptography, yaml, cbor2...: ~45 s of start-up per target)."""
    root = str(Path(cocoverify.__file__).resolve().parent)
    count = 0
    for obj in gc.get_objects():
        code = getattr(obj, "__code__", None)
        if not isinstance(code, types.CodeType) or not code.co_filename.startswith(root):
            continue
        if "__ATHERIS_INSTRUMENTED__" in code.co_consts:
            continue
        with contextlib.suppress(Exception):  # atheris cannot rewrite a few code shapes
            instrument_func(obj)
            count += 1
    return count


def _seed_corpus(seeds: Sequence[bytes]) -> str:
    folder = tempfile.mkdtemp(prefix="cocoverify-fuzz-")
    for i, data in enumerate(seeds):
        with open(os.path.join(folder, f"seed-{i}"), "wb") as fh:
            fh.write(data)
    return folder


def main(target: Target, seeds: Sequence[bytes], argv: Sequence[str] | None = None) -> None:
    """atheris when installed (and not ``--mutations``), else the mutation loop."""
    args = list(sys.argv if argv is None else argv)
    logging.disable(logging.CRITICAL)  # "policy: unsafe_... is set" once per input otherwise
    if "--mutations" in args:
        count = int(args[args.index("--mutations") + 1])
    else:
        try:
            import atheris  # optional: only for coverage-guided runs
        except ImportError:
            count = 20000
        else:
            # the target's own seeds join any corpus folders given (read-only after the first)
            if not any(not a.startswith("-") for a in args[1:]):
                args.append(_seed_corpus([]))
            args.append(_seed_corpus(seeds))
            _instrument_project(atheris.instrument_func)  # cocoverify's modules loaded so far
            atheris.Setup(args, guarded(target))
            atheris.Fuzz()
            return
    ran = mutation_loop(target, seeds, count)
    print(f"{ran} inputs, no finding")
