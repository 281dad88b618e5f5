"""Benchmarks read the real vectors in ../shared when present, and the evidence of
benchmarks/corpus.py."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))
