#!/usr/bin/env bash
# Set up with the test and lint tools, then run the whole suite (lint, types, tests).
cd "$(dirname "$0")/.."
. scripts/_venv.sh
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
echo "== ruff";   .venv/bin/ruff check src tests benchmarks vectors
echo "== mypy";   .venv/bin/mypy
echo "== pytest"; .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
