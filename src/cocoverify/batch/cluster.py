"""Dask (``distributed``) as a batch engine, without depending on it (docs/batch.md "Dask").

``distributed`` is imported only by :func:`connect` (``cocoverify batch --scheduler``); a
:class:`distributed.Client` handed to ``verify_many`` is recognised by its class, which
exists only once the caller has imported ``distributed`` itself.
"""

from __future__ import annotations

import importlib
import sys
from concurrent.futures import Executor
from typing import Any

from cocoverify.errors import ConfigurationError, Reason

__all__ = ["client_executor", "connect", "is_dask_client"]

_INSTALL = "pip install 'cocoverify[dask]'"


def is_dask_client(obj: object) -> bool:
    """Whether ``obj`` is a ``distributed.Client`` (never imports ``distributed``)."""
    module = sys.modules.get("distributed.client")
    client = getattr(module, "Client", None)
    return isinstance(client, type) and isinstance(obj, client)


def client_executor(client: Any) -> tuple[Executor, int]:
    """An executor on ``client`` and the cluster's thread count (at least 1).

    Tasks are submitted ``pure=False``: two chunks with the same paths are two
    verifications (a file may change between them), never one cached result.
    """
    threads = sum(int(n) for n in client.nthreads().values())
    executor: Executor = client.get_executor(pure=False)
    return executor, max(1, threads)


def connect(address: str, *, timeout: float = 30.0) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address``.

    A clear :class:`ConfigurationError` when ``distributed`` is not installed or the
    scheduler cannot be reached.
    """
    try:
        client_class: Any = importlib.import_module("distributed").Client  # the 'dask' extra
    except ImportError:
        raise ConfigurationError(
            f"--scheduler needs Dask's distributed package: {_INSTALL}",
            reason=Reason.INVALID_ARGUMENT,
        ) from None
    try:
        return client_class(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigurationError(
            f"--scheduler {address}: cannot reach the Dask scheduler ({exc})",
            reason=Reason.INVALID_ARGUMENT,
        ) from None
