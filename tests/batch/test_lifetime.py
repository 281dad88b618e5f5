"""Workers die with their parent (batch/lifetime.py): a SIGKILL of ``cocoverify batch`` leaves
no worker running and no one holding its pipes; the watchdog alone does it too."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from _shared.batch import SAMPLE, SAMPLE_AT, SAMPLE_ROOT

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self/stat").exists(),
    reason="reads process state from Linux /proc",
)


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, ppid) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            st = _stat(int(entry.name))
            if st is not None and st[1] == pid:
                out.append(int(entry.name))
    return out


def _running(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def _wait_gone(pids: list[int], seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = [p for p in pids if _running(p)]
        if not left:
            return []
        time.sleep(0.05)
    return [p for p in pids if _running(p)]


def _kill(pids: list[int]) -> None:
    """Clean up after a failure: only the processes this test started."""
    for pid in pids:
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


def _fleet(tmp_path: Path, n: int) -> Path:
    root = tmp_path / "fleet"
    root.mkdir()
    quote = SAMPLE / "sgx" / "quote.bin"
    first = root / "q0.bin"
    first.write_bytes(quote.read_bytes())
    for i in range(1, n):
        os.link(first, root / f"q{i}.bin")  # distinct paths, one file's bytes
    return root


def test_sigkill_of_cocoverify_batch_takes_its_workers(tmp_path: Path) -> None:
    root = _fleet(tmp_path, 4000)
    argv = [sys.executable, "-m", "cocoverify", "batch", str(root), "-j", "2", "-q",
            "--collateral", str(SAMPLE / "sgx" / "collateral"), "--at", SAMPLE_AT,
            "--trust-root", str(SAMPLE_ROOT)]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # the workers are mid-batch now
        assert b'"accepted":true' in first
        deadline = time.monotonic() + 10
        while len(workers) < 2 and time.monotonic() < deadline:
            workers = _children(proc.pid)
            time.sleep(0.02)
        assert len(workers) == 2 and all(_running(p) for p in workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait_gone(workers, 5.0) == []
        # nobody holds the parent's stdout any more: the reader sees end of file
        done = threading.Event()
        threading.Thread(target=lambda: (proc.stdout.read(), done.set()), daemon=True).start()  # type: ignore[union-attr]
        assert done.wait(5.0), "a worker still holds the parent's stdout"
    finally:
        _kill([proc.pid, *workers])
        proc.wait(timeout=10)


@pytest.mark.parametrize("death_signal", [True, False])
def test_workers_exit_when_the_parent_dies(tmp_path: Path, death_signal: bool) -> None:
    # death_signal False: the watchdog alone (pools forked from a thread other than main)
    script = tmp_path / "pool.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, time
        from concurrent.futures import ProcessPoolExecutor
        from cocoverify.batch.lifetime import worker_init

        def pid(_: int) -> int:
            time.sleep(0.05)
            return os.getpid()

        if __name__ == "__main__":
            pool = ProcessPoolExecutor(2, initializer=worker_init,
                                       initargs=(os.getpid(), {death_signal}))
            print(" ".join(map(str, sorted(set(pool.map(pid, range(8)))))), flush=True)
            time.sleep(60)
    """)
    )
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        assert proc.stdout is not None
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert workers and all(_running(p) for p in workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait_gone(workers, 5.0) == []
    finally:
        _kill([proc.pid, *workers])
        proc.wait(timeout=10)
