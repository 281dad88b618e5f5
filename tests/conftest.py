"""Shared fixtures: the real vectors in ../shared (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
