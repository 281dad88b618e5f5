#!/usr/bin/env bash
# Headless Chromium for the fleet-report browser test (tests/batch/test_report_browser.py,
# docs/batch.md "Fleet report"). Sourced by scripts/test.sh after scripts/_venv.sh (which
# defines apt_install), or run alone. Never fails the caller: without chromium the browser
# test skips, except in CI (CI=true), where it fails.
if ! declare -F apt_install >/dev/null 2>&1; then
  cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
  . scripts/_venv.sh
fi
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  echo "cocoverify: installing chromium (headless) for the fleet-report browser test" >&2
  apt_install chromium fonts-dejavu-core \
    || echo "cocoverify: chromium not installed; the browser test will skip (fail in CI)" >&2
fi
true
