"""Counting calls of a module function in a test (warm-path tests: how often the full
pipeline ran)."""

from __future__ import annotations

from typing import Any

import pytest

__all__ = ["Counting"]


class Counting:
    """Replaces ``module.name`` for the test with a wrapper that counts its calls."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
        self.runs = 0
        real = getattr(module, name)

        def counted(*args: Any, **kw: Any) -> Any:
            self.runs += 1
            return real(*args, **kw)

        monkeypatch.setattr(module, name, counted)
