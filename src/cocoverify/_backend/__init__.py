"""Parser backend selection (style.md §4, rule 7).

Chosen by ``COCOVERIFY_BACKEND``: ``auto`` (default), ``python`` or ``native``. The native
(C, cffi) parsers are not built yet: ``native`` raises, ``auto`` uses Python and logs it at
debug level. X.509 and signature checks always go through ``cryptography``, whatever the
backend, so only parsing has to agree between backends.
"""

from __future__ import annotations

import logging
import os

from ..errors import ConfigurationError, Reason

__all__ = ["BACKEND", "FEATURES", "select_backend"]

log = logging.getLogger("cocoverify.backend")


def select_backend(requested: str | None = None) -> str:
    """The backend to use for ``requested`` (default: the environment variable)."""
    want = (requested or os.environ.get("COCOVERIFY_BACKEND", "auto")).lower()
    if want not in ("auto", "python", "native"):
        raise ConfigurationError(
            f"COCOVERIFY_BACKEND={want!r}: use auto, python or native",
            reason=Reason.INVALID_CONFIGURATION,
        )
    if want == "native":
        raise ConfigurationError(
            "COCOVERIFY_BACKEND=native: the native parsers are not built in this version",
            reason=Reason.INVALID_CONFIGURATION,
        )
    if want == "auto":
        log.debug("cocoverify: native parsers unavailable, using the Python backend")
    return "python"


BACKEND = select_backend()
#: What the selected backend parses.
FEATURES = frozenset({"intel-quote"})
