#!/usr/bin/env bash
# CI fuzzing and mutation sweep (docs/security.md "Fuzzing in CI", "Mutation sweep").
#  1. atheris: every Python fuzz target of tests/fuzz/runner.py (DCAP quote, SNP report, SGX
#     extension, CCA token, event log, Azure HCL/vTPM, NVIDIA, Nitro, IBM SE, collateral JSON,
#     policy files, trustee JSON), FUZZ_SECONDS of wall time in all (default 240) over
#     FUZZ_JOBS processes (default 2), FUZZ_INPUT_TIMEOUT seconds per input (default 10).
#  2. The mutation sweep (tests/fuzz/sweep.py): every SWEEP_STRIDE-th byte (default 2; the seed,
#     SWEEP_SEED, default the day of the year, shifts which, so two days cover every byte) of
#     every accepted case's evidence and SWEEP_COLLATERAL_SAMPLE bytes of each collateral file,
#     on both backends; at least SWEEP_MIN mutants (default 100000), none accepted unless
#     tests/fuzz/unsigned.py says why (tests/fuzz/open_findings.py: reported, counted apart).
# A finding fails the run; fuzz inputs are kept in tests/fuzz/regressions/<target>/ (replayed by
# tests/fuzz/test_regressions.py). FUZZ_SECONDS=0 skips step 1, SWEEP_MIN=0 SWEEP=0 step 2.
# Without atheris (not Linux, or not installed) step 1 is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python; [ -x "$PY" ] || PY=python3
FUZZ_SECONDS=${FUZZ_SECONDS:-240}
export SWEEP_MIN=${SWEEP_MIN:-100000} SWEEP_STRIDE=${SWEEP_STRIDE:-2}
export SWEEP_SEED=${SWEEP_SEED:-$((10#$(date +%j)))}
status=0
start=$(date +%s)
if [ "$FUZZ_SECONDS" = 0 ]; then
  echo "fuzz-ci: [1] atheris SKIPPED (FUZZ_SECONDS=0)"
elif ! "$PY" -c "import atheris" 2>/dev/null; then
  echo "fuzz-ci: [1] atheris SKIPPED, not installed (pip install atheris: Linux wheels)"
else
  echo "fuzz-ci: [1] atheris, ${FUZZ_SECONDS}s over ${FUZZ_JOBS:-2} processes"
  "$PY" tests/fuzz/runner.py --seconds "$FUZZ_SECONDS" || status=1
fi
mid=$(date +%s)
if [ "${SWEEP:-1}" = 0 ]; then
  echo "fuzz-ci: [2] mutation sweep SKIPPED (SWEEP=0)"
else
  echo "fuzz-ci: [2] mutation sweep, at least $SWEEP_MIN mutants"
  "$PY" tests/fuzz/sweep.py --min-mutants "$SWEEP_MIN" || status=1
fi
end=$(date +%s)
echo "fuzz-ci: atheris $((mid - start))s, sweep $((end - mid))s, status $status"
exit $status
