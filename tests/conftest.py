"""Shared fixtures: the real vectors in ../shared (skipped with a reason when absent), and the
parser ``backend`` every parser test runs on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cocoverify._backend import native_error

from _shared import (
    PROJECT_VECTORS,
    ROOT,
    SHARED_VECTORS,
    require_shared,
    shared_manifest,
)

__all__ = ["PROJECT_VECTORS", "ROOT", "SHARED_VECTORS", "require_shared", "shared_manifest"]


@pytest.fixture
def shared_vectors() -> Path:
    """Root of ../shared/vectors (skip when absent)."""
    if not SHARED_VECTORS.is_dir():
        pytest.skip(f"real vectors not available: {SHARED_VECTORS} is absent")
    return SHARED_VECTORS


@pytest.fixture(params=["native", "python"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each parser backend in turn (docs/native.md). Native skips, showing the import error,
    unless COCOVERIFY_REQUIRE_NATIVE is set (then a missing extension fails the test)."""
    name: str = request.param
    if name == "native":
        err = native_error()
        if err is not None:
            if os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
                pytest.fail(f"COCOVERIFY_REQUIRE_NATIVE is set, native backend missing: {err}")
            pytest.skip(f"native backend unavailable: {err}")
    return name
