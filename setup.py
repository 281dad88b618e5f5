"""Build hook for the optional native core (everything else is in pyproject.toml).

The extension is C11 linked with OpenSSL's libcrypto >= 3.0 (csrc/ffi_build.py).

``COCOVERIFY_BUILD_NATIVE`` selects what happens to ``cocoverify._native`` (docs/native.md):

* ``auto`` (default): build it when a C compiler works; otherwise print why and install the
  pure-Python package (the ``auto`` backend then uses Python).
* ``1``: the extension is required; a failed build fails the install.
* ``0``: do not build it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

MODE = os.environ.get("COCOVERIFY_BUILD_NATIVE", "auto").strip().lower()
if MODE not in ("auto", "1", "0"):
    sys.exit(f"COCOVERIFY_BUILD_NATIVE={MODE!r}: use auto, 1 or 0")


def _skip(why: str) -> None:
    print(
        f"cocoverify: native parser core NOT built ({why}); the Python backend will be used. "
        "It needs a C compiler and OpenSSL >= 3.0 headers (Debian/Ubuntu: libssl-dev). "
        "Set COCOVERIFY_BUILD_NATIVE=1 to make this an error.",
        file=sys.stderr,
    )


class OptionalBuildExt(build_ext):
    """In ``auto`` mode a compiler failure skips the extension instead of failing."""

    def run(self) -> None:
        if MODE == "1":
            super().run()
            return
        try:
            super().run()
        except Exception as exc:  # no compiler, missing headers, ...: fall back
            _skip(f"{type(exc).__name__}: {exc}")

    def build_extension(self, ext: Extension) -> None:
        if MODE == "1":
            super().build_extension(ext)
            return
        try:
            super().build_extension(ext)
        except Exception as exc:
            _skip(f"{type(exc).__name__}: {exc}")


kwargs: dict[str, Any] = {}
if MODE == "0":
    print("cocoverify: COCOVERIFY_BUILD_NATIVE=0, native parser core not built", file=sys.stderr)
else:
    kwargs["cffi_modules"] = ["csrc/ffi_build.py:ffibuilder"]
    kwargs["cmdclass"] = {"build_ext": OptionalBuildExt}
    # the extension uses the stable ABI (cffi builds _native.abi3.so): tag the wheel so
    kwargs["options"] = {"bdist_wheel": {"py_limited_api": "cp311"}}

setup(**kwargs)
