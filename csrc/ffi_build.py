"""cffi API-mode build of ``cocoverify._native`` (docs/native.md).

The cdef is read from ``cv_ffi.h`` (our own header: plain declarations, no macros), so the
C ABI is written once. ``COCOVERIFY_STRICT_BUILD=1`` adds ``-Werror`` (CI); C asserts stay
on unless the caller passes ``-DNDEBUG``. The extension links OpenSSL's libcrypto (>= 3.0):
``pkg-config libcrypto`` supplies the flags when it knows them, else ``-lcrypto`` with the
default search paths (Debian: ``libssl-dev``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
#: Every C source of the native core; SNP and CBOR parsers will be added here.
SOURCES = ["cv_reader.c", "cv_dcap.c", "cv_crypto.c", "cv_snp.c", "cv_sgxext.c"]


def _rel(name: str) -> str:
    # setuptools wants paths relative to the project root (setup.py's directory)
    return os.path.relpath(HERE / name, HERE.parent)


def compile_args() -> list[str]:
    """C flags: C11 and warnings; -Werror when COCOVERIFY_STRICT_BUILD=1."""
    args = ["-std=c11", "-Wall", "-Wextra"]
    if os.environ.get("COCOVERIFY_STRICT_BUILD") == "1":
        args.append("-Werror")
    return args


def libcrypto_flags() -> tuple[list[str], list[str], list[str]]:
    """(include dirs, library dirs, libraries) for libcrypto, from pkg-config when present."""
    incs: list[str] = []
    libdirs: list[str] = []
    libs: list[str] = []
    if shutil.which("pkg-config"):
        res = subprocess.run(
            ["pkg-config", "--cflags", "--libs", "libcrypto >= 3.0"],
            capture_output=True,
            text=True,
            check=False,
        )
        if res.returncode == 0:
            for flag in res.stdout.split():
                if flag.startswith("-I"):
                    incs.append(flag[2:])
                elif flag.startswith("-L"):
                    libdirs.append(flag[2:])
                elif flag.startswith("-l"):
                    libs.append(flag[2:])
    return incs, libdirs, libs or ["crypto"]


_INCS, _LIBDIRS, _LIBS = libcrypto_flags()
ffibuilder = FFI()
ffibuilder.cdef((HERE / "cv_ffi.h").read_text(encoding="utf-8"))
ffibuilder.set_source(
    "cocoverify._native",
    '#include <stddef.h>\n#include <stdint.h>\n#include "cv_ffi.h"\n',
    sources=[_rel(s) for s in SOURCES],
    include_dirs=[_rel("."), *_INCS],
    library_dirs=_LIBDIRS,
    libraries=_LIBS,
    extra_compile_args=compile_args(),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
