# Sourced by demo.sh and test.sh: a Python 3.11+ virtual environment in .venv, and the system
# packages the build needs (python3-venv, libssl-dev) installed with apt when missing.
set -euo pipefail

# apt_install PKG...: install Debian/Ubuntu packages when apt-get exists and we are root or
# have passwordless sudo; otherwise say so and return 1 (callers carry on without them).
apt_install() {
  local sudo=""
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "cocoverify: no apt-get here, not installing $* (install it yourself)" >&2
    return 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo="sudo -n"
    else
      echo "cocoverify: not root and no passwordless sudo, not installing $*" >&2
      return 1
    fi
  fi
  if [ -z "${_COCOVERIFY_APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq >/dev/null || return 1
    _COCOVERIFY_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
    >/dev/null
}

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "cocoverify needs Python 3.11 or newer (set PYTHON=...)" >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    # Debian/Ubuntu ship venv separately
    rm -rf .venv
    apt_install python3-venv || true
    "$PY" -m venv .venv
  fi
fi

# The native core links OpenSSL's libcrypto >= 3.0 (docs/native.md): without its headers the
# build is skipped (COCOVERIFY_BUILD_NATIVE=auto) or fails (=1). Debian: libssl-dev.
if [ "${COCOVERIFY_BUILD_NATIVE:-auto}" != 0 ] && command -v "${CC:-cc}" >/dev/null 2>&1 \
  && ! printf '#include <openssl/evp.h>\n' | "${CC:-cc}" -E -x c - >/dev/null 2>&1; then
  echo "cocoverify: libcrypto headers missing, installing libssl-dev" >&2
  apt_install libssl-dev pkg-config \
    || echo "cocoverify: without libssl-dev the native core is not built" >&2
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
