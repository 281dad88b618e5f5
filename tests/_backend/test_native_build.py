"""Build switches of the native core (setup.py, csrc/ffi_build.py; docs/native.md).

Each test builds into a temporary directory with ``setup.py build_ext``; nothing is written
into the source tree.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from _shared import ROOT

pytest.importorskip("cffi")


def _ffi_build() -> Any:
    spec = importlib.util.spec_from_file_location("_cv_ffi_build", ROOT / "csrc" / "ffi_build.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _setup(tmp: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "setup.py", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _build_ext(tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return _setup(
        tmp,
        "build_ext",
        "--build-lib",
        str(tmp / "lib"),
        "--build-temp",
        str(tmp / "temp"),
        **env,
    )


def _built(tmp: Path) -> list[Path]:
    return list((tmp / "lib").rglob("_native*.so")) + list((tmp / "lib").rglob("_native*.pyd"))


def test_strict_build_adds_werror(monkeypatch: pytest.MonkeyPatch) -> None:
    mod = _ffi_build()
    monkeypatch.delenv("COCOVERIFY_STRICT_BUILD", raising=False)
    assert "-Werror" not in mod.compile_args()
    assert "-std=c11" in mod.compile_args()
    monkeypatch.setenv("COCOVERIFY_STRICT_BUILD", "1")
    assert "-Werror" in mod.compile_args()


def test_cdef_is_the_header() -> None:
    mod = _ffi_build()
    assert "cv_dcap_parse" in mod.ffibuilder._cdefsources[0]
    for src in mod.SOURCES:
        assert (ROOT / "csrc" / src).is_file()


def test_links_libcrypto() -> None:
    mod = _ffi_build()
    assert "cv_crypto.c" in mod.SOURCES
    assert "cv_ecdsa_verify_key" in mod.ffibuilder._cdefsources[0]
    _incs, _libdirs, libs = mod.libcrypto_flags()
    assert "crypto" in libs


def test_bad_switch_value_is_refused(tmp_path: Path) -> None:
    res = _setup(tmp_path, "--name", COCOVERIFY_BUILD_NATIVE="maybe")
    assert res.returncode != 0
    assert "COCOVERIFY_BUILD_NATIVE" in res.stderr


def test_zero_skips_the_extension(tmp_path: Path) -> None:
    res = _build_ext(tmp_path, COCOVERIFY_BUILD_NATIVE="0")
    assert res.returncode == 0, res.stderr
    assert "not built" in res.stderr
    assert _built(tmp_path) == []


def test_auto_without_a_working_compiler_skips_visibly(tmp_path: Path) -> None:
    res = _build_ext(tmp_path, COCOVERIFY_BUILD_NATIVE="auto", CC="false", LDSHARED="false")
    assert res.returncode == 0, res.stderr
    assert "native parser core NOT built" in res.stderr
    assert "libssl-dev" in res.stderr
    assert _built(tmp_path) == []


def test_required_build_fails_without_a_compiler(tmp_path: Path) -> None:
    res = _build_ext(tmp_path, COCOVERIFY_BUILD_NATIVE="1", CC="false", LDSHARED="false")
    assert res.returncode != 0


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_strict_required_build_succeeds(tmp_path: Path) -> None:
    res = _build_ext(tmp_path, COCOVERIFY_BUILD_NATIVE="1", COCOVERIFY_STRICT_BUILD="1")
    assert res.returncode == 0, res.stderr
    assert "-Werror" in res.stdout + res.stderr
    assert len(_built(tmp_path)) == 1
