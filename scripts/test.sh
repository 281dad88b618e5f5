#!/usr/bin/env bash
# Set up with the test and lint tools, then run the whole suite (lint, types, tests).
cd "$(dirname "$0")/.."
. scripts/_venv.sh
if [ "${CI:-}" = true ]; then  # CI: the native core must build (-Werror) and not skip tests
  export COCOVERIFY_BUILD_NATIVE=${COCOVERIFY_BUILD_NATIVE:-1} COCOVERIFY_STRICT_BUILD=${COCOVERIFY_STRICT_BUILD:-1}
  export COCOVERIFY_REQUIRE_NATIVE=${COCOVERIFY_REQUIRE_NATIVE:-1}
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' -e testing/
. scripts/install-browser.sh  # headless Chromium for the fleet-report test (docs/batch.md)
echo "== ruff";   .venv/bin/ruff check src tests benchmarks vectors testing
echo "== mypy";   .venv/bin/mypy
echo "== import contracts"; .venv/bin/lint-imports
echo "== native checks (ASan/UBSan corpus, libFuzzer; bounded, skipped without a compiler)"
export NATIVE_FUZZ_SECONDS=${NATIVE_FUZZ_SECONDS:-60}
libfuzzer() {
  echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){(void)d;(void)n;return 0;}' \
    | clang -x c -fsanitize=fuzzer - -o /dev/null >/dev/null 2>&1
}
if [ "${CI:-}" = true ] && [ "$NATIVE_FUZZ_SECONDS" != 0 ] && ! libfuzzer; then
  # CI: libFuzzer comes with clang (its runtime is libclang-rt-N-dev on Debian 12+)
  echo "native-checks: installing clang for libFuzzer"
  command -v clang >/dev/null 2>&1 || apt_install clang || true
  if command -v clang >/dev/null 2>&1 && ! libfuzzer; then
    apt_install "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev" || true
  fi
  libfuzzer || echo "native-checks: no clang with libFuzzer, the libFuzzer steps are skipped"
fi
timeout 300 bash scripts/native-checks.sh
echo "== fuzzing and mutation sweep (atheris, sweep >= 100000 mutants; docs/security.md)"
timeout 900 bash scripts/fuzz-ci.sh
echo "== pytest (python $(.venv/bin/python -c 'import platform; print(platform.python_version())'))"
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
# The suite again on every other CPython present (3.12, 3.13; an absent one is skipped with a
# message), each in .venv-X.Y, two at a time. COCOVERIFY_PYTHONS="" skips this step.
echo "== pytest on the other CPythons (scripts/pythons.sh)"
bash scripts/pythons.sh "$@"
