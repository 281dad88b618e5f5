"""``import cocoverify`` stays light: heavy and optional modules load on first use
(cocoverify/__init__.py, api.py), and every public name still resolves from the package."""

from __future__ import annotations

import json
import subprocess
import sys

import cocoverify

# never imported by ``import cocoverify`` nor by building a Verifier
_OPTIONAL = (
    "asyncio",
    "yaml",
    "distributed",
    "cocoverify.integrations",
    "cocoverify.collateral.intel_pcs",
    "cocoverify.collateral.amd_kds",
    "cocoverify.collateral.http",
    "cocoverify.collateral.cache",
    "cocoverify.batch",
    "cocoverify.cli",
)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return set(json.loads(out))


def test_import_loads_only_the_errors() -> None:
    loaded = _modules_after("import cocoverify")
    heavy = ("cryptography", "cbor2", "cocoverify.api", "cocoverify.registry", *_OPTIONAL)
    assert not {m for m in loaded for h in heavy if m == h or m.startswith(h + ".")}


def test_verifier_does_not_load_optional_modules() -> None:
    loaded = _modules_after("import cocoverify\ncocoverify.Verifier()")
    assert "cocoverify.api" in loaded
    assert not {m for m in loaded for h in _OPTIONAL if m == h or m.startswith(h + ".")}


def test_every_public_name_resolves() -> None:
    for name in cocoverify.__all__:
        assert getattr(cocoverify, name) is not None, name
        assert name in dir(cocoverify)
    from cocoverify.api import Verifier, verify

    assert cocoverify.Verifier is Verifier and cocoverify.verify is verify
    namespace: dict[str, object] = {}
    exec("from cocoverify import *", namespace)
    assert set(cocoverify.__all__) <= set(namespace)
