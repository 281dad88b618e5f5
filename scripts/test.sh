#!/usr/bin/env bash
# Set up with the test and lint tools, then run the whole suite (lint, types, tests).
cd "$(dirname "$0")/.."
. scripts/_venv.sh
if [ "${CI:-}" = true ]; then  # CI: the native core must build (-Werror) and not skip tests
  export COCOVERIFY_BUILD_NATIVE=${COCOVERIFY_BUILD_NATIVE:-1} COCOVERIFY_STRICT_BUILD=${COCOVERIFY_STRICT_BUILD:-1}
  export COCOVERIFY_REQUIRE_NATIVE=${COCOVERIFY_REQUIRE_NATIVE:-1}
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' -e testing/
echo "== ruff";   .venv/bin/ruff check src tests benchmarks vectors testing
echo "== mypy";   .venv/bin/mypy
echo "== import contracts"; .venv/bin/lint-imports
echo "== native checks (ASan/UBSan corpus, libFuzzer; bounded, skipped without a compiler)"
NATIVE_FUZZ_SECONDS=${NATIVE_FUZZ_SECONDS:-60} timeout 170 bash scripts/native-checks.sh
echo "== pytest"; .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
