#!/usr/bin/env bash
# Run the test suite on every further CPython present (3.11, 3.12, 3.13 but the main .venv's
# own version), each in its own virtual environment .venv-<X.Y>. The main .venv
# (scripts/test.sh) keeps lint and types.
#
#   bash scripts/pythons.sh [PYTEST ARGS...]
#   COCOVERIFY_PYTHONS="3.12 3.13"   versions to run (default: all three; "" = none); an absent
#                                    one, or one without venv/ensurepip, is skipped with a message
#   COCOVERIFY_PYTHONS_JOBS=2        suites run at once (default: 2, one per core here)
#
# The native core is abi3 (cp311 stable ABI, docs/native.md): the _native.abi3.so that the main
# .venv built in src/cocoverify is imported as it is on every later CPython, so these venvs
# install with COCOVERIFY_BUILD_NATIVE=0 and never rewrite that file under a running test (set
# COCOVERIFY_REQUIRE_NATIVE=1, as CI does, to fail when it does not load). Without the file
# they build it (auto). tests/_backend/test_native_build.py still compiles it on each Python.
set -uo pipefail
cd "$(dirname "$0")/.."
VERSIONS=${COCOVERIFY_PYTHONS-"3.11 3.12 3.13"}
MAIN=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true)
JOBS=${COCOVERIFY_PYTHONS_JOBS:-2}

# find_python X.Y: print an interpreter that really is CPython X.Y, or nothing
find_python() {
  local v=$1 c
  for c in "python$v" "${PYENV_ROOT:-$HOME/.pyenv}/versions/$v"*/bin/"python$v" \
    "/usr/bin/python$v" "/usr/local/bin/python$v"; do
    if [ -x "$(command -v "$c" 2>/dev/null)" ] && "$c" -c "import sys, platform
assert platform.python_implementation() == 'CPython'
assert '%d.%d' % sys.version_info[:2] == '$v'" >/dev/null 2>&1; then
      command -v "$c"
      return 0
    fi
  done
  return 1
}

# setup X.Y PYTHON: create .venv-X.Y and install the package with the test tools
setup() {
  local v=$1 py=$2 venv=".venv-$1" native=auto
  if [ ! -x "$venv/bin/python" ]; then
    "$py" -m venv "$venv" || { echo "pythons: $py -m venv failed (python$v-venv missing?)"; return 1; }
  fi
  [ -e src/cocoverify/_native.abi3.so ] && native=0
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip &&
    COCOVERIFY_BUILD_NATIVE=$native "$venv/bin/python" -m pip install --quiet \
      --disable-pip-version-check -e '.[dev]' -e testing/
}

rc=0
declare -a ran=() pids=()
mkdir -p .ci-logs
for v in $VERSIONS; do
  if [ "$v" = "$MAIN" ]; then
    echo "== python $v: the main .venv's, already tested"
    continue
  fi
  py=$(find_python "$v") || { echo "== python $v: not installed here, skipped"; continue; }
  if ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "== python $v ($py): no venv/ensurepip (Debian: apt install python$v-venv), skipped"
    continue
  fi
  start=$SECONDS
  echo "== python $v ($py): installing into .venv-$v"
  if ! setup "$v" "$py" >".ci-logs/pytest-$v.log" 2>&1; then
    cat ".ci-logs/pytest-$v.log"
    echo "== python $v: install FAILED"
    rc=1
    continue
  fi
  echo "== python $v: installed in $((SECONDS - start)) s; pytest started"
  # each suite writes its own log; at most JOBS run at once
  (
    t0=$SECONDS
    ".venv-$v/bin/python" -m pytest -q -p no:cacheprovider "$@"
    code=$?
    echo "== python $v: pytest exit $code in $((SECONDS - t0)) s"
    exit $code
  ) >>".ci-logs/pytest-$v.log" 2>&1 &
  pids+=($!)
  ran+=("$v")
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do sleep 1; done
done
for i in "${!pids[@]}"; do
  v=${ran[$i]}
  wait "${pids[$i]}"
  code=$?
  echo "== python $v: pytest output"
  tail -n 40 ".ci-logs/pytest-$v.log"
  if [ "$code" -ne 0 ]; then
    echo "== python $v: FAILED (exit $code; whole log in .ci-logs/pytest-$v.log)"
    rc=1
  fi
done
exit $rc
