"""Helpers shared by the tests; import them ``from _shared import ...`` (never from conftest).

This package: locating the real vectors in ../shared (tests skip with a reason when absent).
Its submodules hold the helpers of one area:

* ``_shared.cli``: running the CLI in-process and reading its output;
* ``_shared.batch``: a fleet of sample evidence and the manifests' collateral roles;
* ``_shared.loopback``: a local HTTP server, a transport sending every URL to it, a fake clock;
* ``_shared.collateral``: PCS- and KDS-shaped responses from the test PKIs, source arguments.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent  # tests/_shared/__init__.py -> repository
SHARED_VECTORS = Path(
    os.environ.get("COCOVERIFY_SHARED_VECTORS", ROOT.parent / "shared" / "vectors")
)
PROJECT_VECTORS = ROOT / "vectors"


def shared_manifest(vendor: str) -> dict[str, Any] | None:
    """The MANIFEST.json of ../shared/vectors/<vendor>, or None when absent."""
    path = SHARED_VECTORS / vendor / "MANIFEST.json"
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def require_shared(vendor: str) -> Path:
    """The vendor folder of the shared vectors; skips the test when ../shared is absent."""
    base = SHARED_VECTORS / vendor
    if not (base / "MANIFEST.json").is_file():
        pytest.skip(f"real vectors not available: {base} is absent (../shared not checked out)")
    return base
