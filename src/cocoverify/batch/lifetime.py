"""Worker processes die with the process that started them (docs/batch.md "Worker lifetime").

A ``ProcessPoolExecutor`` worker blocks on its task queue; when the parent is killed
(SIGKILL, OOM killer) nothing wakes it, so it lives on forever, holding the parent's stdout
and stderr pipes open (a reader of ``cocoverify batch | ...`` never sees end of file).
:func:`worker_init`, the pool's initializer, closes that hole twice over:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker when the
  *thread* that forked it ends, so the driver asks for it only from the main thread;
- everywhere, a daemon watchdog thread that exits the worker as soon as the parent is gone
  (a pidfd where the platform has one, else a poll of the parent pid every
  :data:`POLL_SECONDS`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import signal
import sys
import threading
import time
from typing import Final

__all__ = ["POLL_SECONDS", "parent_alive", "set_death_signal", "worker_init"]

#: How often the fallback watchdog looks at the parent (no pidfd).
POLL_SECONDS: Final = 0.25
#: Exit status of a worker whose parent went away.
ORPHAN_EXIT: Final = 70

_PR_SET_PDEATHSIG: Final = 1  # <linux/prctl.h>


def set_death_signal(sig: int = signal.SIGKILL) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent (thread) ends.

    False where there is no ``prctl`` (not Linux, no libc found) or it failed.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def parent_alive(parent_pid: int, *, direct: bool) -> bool:
    """Whether ``parent_pid`` still runs, seen from a worker.

    ``direct``: it is this process's parent. A dead parent's children are re-parented at
    once (even while it is an unreaped zombie), so ``getppid()`` changing is exact. Otherwise
    (a forkserver start) a signal-0 probe.
    """
    if direct:
        return os.getppid() == parent_pid
    try:
        os.kill(parent_pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _watch(parent_pid: int, direct: bool) -> None:
    pidfd = None
    if hasattr(os, "pidfd_open"):
        with contextlib.suppress(OSError):
            pidfd = os.pidfd_open(parent_pid)
    if pidfd is not None and parent_alive(parent_pid, direct=direct):
        select.select([pidfd], [], [])  # readable once the process has exited
    else:
        while parent_alive(parent_pid, direct=direct):
            time.sleep(POLL_SECONDS)
    os._exit(ORPHAN_EXIT)


def worker_init(parent_pid: int, death_signal: bool = True) -> None:
    """Process-pool initializer: tie this worker's life to ``parent_pid``.

    ``death_signal``: also use ``PR_SET_PDEATHSIG`` (only right when the pool's processes
    are forked by a thread that lives as long as the pool: the main thread). SIGINT is
    ignored: on Ctrl-C the parent shuts the pool down, and a worker left behind dies with it.
    """
    with contextlib.suppress(ValueError, OSError):  # not the main thread of the worker
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    direct = os.getppid() == parent_pid
    if death_signal and direct:
        set_death_signal(signal.SIGKILL)
    if not parent_alive(parent_pid, direct=direct):  # died before the signal was armed
        os._exit(ORPHAN_EXIT)
    threading.Thread(
        target=_watch, args=(parent_pid, direct), name="cocoverify-watchdog", daemon=True
    ).start()
