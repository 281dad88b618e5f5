"""The cocoverify wheel and sdist carry no private key and no test PKI.

The fake PKIs and their private keys live in the separate TEST-ONLY distribution
``cocoverify-testing`` (``testing/``); nothing of it may ship in ``cocoverify``. The build
runs on a copy of the working tree (what git tracks plus untracked, not ignored files), so
it writes no ``build/`` or ``*.egg-info`` into the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from _shared import ROOT

FORBIDDEN_PATHS = ("cocoverify_testing", "testing/keys", "cocoverify/testing/")
PRIVATE_KEY = b"PRIVATE KEY"
SNP_PRODUCTS = ("milan", "genoa", "turin")
SNP_ROLES = ("ark", "ask", "asvk")


def _copy_of_the_tree(dest: Path) -> Path:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    for rel in filter(None, listed.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():  # a file deleted but not yet staged is listed too
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy_of_the_tree(tmp_path_factory.mktemp("tree"))


def _build_env() -> dict[str, str]:
    return {**os.environ, "COCOVERIFY_BUILD_NATIVE": "0", "PIP_NO_INDEX": "1"}


@pytest.fixture(scope="module")
def wheel(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run = subprocess.run(
        [*pip, "wheel", str(tree), "--no-deps", "--no-build-isolation", "-w", str(out)],
        env=_build_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (built,) = out.glob("cocoverify-*.whl")
    return built


@pytest.fixture(scope="module")
def sdist(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist, through the PEP 517 hook that ``python -m build --no-isolation`` calls."""
    out = tmp_path_factory.mktemp("sdist")
    code = "import sys, setuptools.build_meta as b; print(b.build_sdist(sys.argv[1]))"
    run = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=tree,
        env=_build_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    (built,) = out.glob("cocoverify-*.tar.gz")
    return built


def _wheel_members(path: Path) -> Iterator[tuple[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if not info.is_dir():
                yield info.filename, zf.read(info)


def _sdist_members(path: Path) -> Iterator[tuple[str, bytes]]:
    with tarfile.open(path) as tf:
        for member in tf.getmembers():
            f = tf.extractfile(member) if member.isfile() else None
            if f is not None:
                yield member.name, f.read()


def _offences(members: Iterator[tuple[str, bytes]]) -> tuple[list[str], list[str], list[str]]:
    names, keys, bad_paths = [], [], []
    for name, data in members:
        names.append(name)
        if PRIVATE_KEY in data:
            keys.append(name)
        if any(p in name for p in FORBIDDEN_PATHS):
            bad_paths.append(name)
    return names, keys, bad_paths


def test_wheel_has_no_private_key_and_no_test_pki(wheel: Path) -> None:
    names, keys, bad_paths = _offences(_wheel_members(wheel))
    assert "cocoverify/__init__.py" in names  # the wheel is really the package
    # AMD's ARK/ASK/ASVK per product (tee/snp/bundled.py): a report plus its VCEK verifies
    shipped = {f"cocoverify/tee/snp/_data/{p}_{r}.der" for p in SNP_PRODUCTS for r in SNP_ROLES}
    assert shipped <= set(names), shipped - set(names)
    assert not keys, f"files with a private key: {keys}"
    assert not bad_paths, f"test-only paths: {bad_paths}"


def test_sdist_has_no_private_key_and_no_test_pki(sdist: Path) -> None:
    names, keys, bad_paths = _offences(_sdist_members(sdist))
    assert any(n.endswith("src/cocoverify/__init__.py") for n in names)
    assert not keys, f"files with a private key: {keys}"
    assert not bad_paths, f"test-only paths: {bad_paths}"


def test_manifest_in_prunes_the_testing_distribution() -> None:
    lines = (ROOT / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    assert "prune testing" in [line.strip() for line in lines]


def test_pyproject_packages_only_cocoverify_from_src() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = config["tool"]["setuptools"]
    assert setuptools["packages"]["find"]["where"] == ["src"]
    for package, patterns in setuptools.get("package-data", {}).items():
        assert "testing" not in package
        for pattern in patterns:
            assert not any(word in pattern for word in ("testing", "keys", ".pem")), pattern
    assert not (ROOT / "src" / "cocoverify" / "testing").exists()
    assert not list((ROOT / "src").rglob("*.pem"))


def test_testing_distribution_ships_its_keys_and_salts() -> None:
    config = tomllib.loads((ROOT / "testing" / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["name"] == "cocoverify-testing"
    data = config["tool"]["setuptools"]["package-data"]["cocoverify_testing"]
    assert {"py.typed", "keys/*.pem", "snp/pss_salts.json"} <= set(data)
    package = ROOT / "testing" / "src" / "cocoverify_testing"
    assert list((package / "keys").glob("*.pem"))
    assert (package / "snp" / "pss_salts.json").is_file()


def test_native_wheel_is_tagged_abi3_and_carries_the_licence(
    tree: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # the native core is built for the stable ABI (_native.abi3.so): one wheel for 3.11+
    out = tmp_path_factory.mktemp("native-wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run = subprocess.run(
        [*pip, "wheel", str(tree), "--no-deps", "--no-build-isolation", "-w", str(out)],
        env={**os.environ, "COCOVERIFY_BUILD_NATIVE": "1", "PIP_NO_INDEX": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0 and "error: command" in run.stdout + run.stderr:
        pytest.skip("no C toolchain here: the native wheel cannot be built")
    assert run.returncode == 0, run.stdout + run.stderr
    (built,) = out.glob("cocoverify-*.whl")
    assert "-cp311-abi3-" in built.name
    with zipfile.ZipFile(built) as zf:
        names = zf.namelist()
    assert any(n.endswith("_native.abi3.so") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
