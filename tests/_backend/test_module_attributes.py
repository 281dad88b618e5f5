"""Backend selection is visible and testable (docs/native.md, "Selecting the backend"):
``BACKEND``, ``FEATURES``, ``select_backend`` and ``backend_for`` of cocoverify._backend."""

from __future__ import annotations

import logging
import os
import sys

import pytest

import cocoverify
import cocoverify._backend as backend_mod
from cocoverify import ConfigurationError
from cocoverify._backend import (
    BACKEND,
    FEATURES,
    NATIVE_FEATURES,
    PYTHON_FEATURES,
    backend_for,
    native_error,
    select_backend,
)


def test_backend_attributes() -> None:
    want = os.environ.get("COCOVERIFY_BACKEND", "auto").lower()
    if want == "python" or native_error() is not None:
        assert BACKEND == "python"
    else:
        assert BACKEND == "native"
    assert (NATIVE_FEATURES if BACKEND == "native" else PYTHON_FEATURES) == FEATURES
    assert "intel-quote" in FEATURES


def test_features_per_backend() -> None:
    parsers = {"intel-quote", "snp-report", "sgx-extension"}
    assert frozenset({*parsers, "ecdsa-verify", "intel-quote-verify"}) == NATIVE_FEATURES
    python = frozenset({*parsers, "cca-token", "ecdsa-verify", "intel-quote-verify"})
    assert python == PYTHON_FEATURES


def test_native_is_built_when_required() -> None:
    if not os.environ.get("COCOVERIFY_REQUIRE_NATIVE"):
        pytest.skip("COCOVERIFY_REQUIRE_NATIVE is not set")
    assert native_error() is None
    assert select_backend("native") == "native"


def test_native_request_fails_loudly_when_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_mod, "_NATIVE_ERROR", "ImportError: no _native")
    with pytest.raises(ConfigurationError):
        select_backend("native")
    assert select_backend("python") == "python"
    monkeypatch.setenv("COCOVERIFY_BACKEND", "bogus")
    with pytest.raises(ConfigurationError):
        select_backend()


def test_native_request_when_built() -> None:
    if native_error() is not None:
        pytest.skip(f"native backend unavailable: {native_error()}")
    assert select_backend("native") == "native"
    assert select_backend("auto") == "native"


def test_auto_falls_back_with_a_debug_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(backend_mod, "_NATIVE_ERROR", "ImportError: no _native")
    with caplog.at_level(logging.DEBUG, logger="cocoverify.backend"):
        assert select_backend("auto") == "python"
    assert "Python backend" in caplog.text
    assert "ImportError: no _native" in caplog.text


def test_probe_reports_import_error_and_stale_abi(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cocoverify._native", None)  # import now fails
    monkeypatch.delattr(cocoverify, "_native", raising=False)
    monkeypatch.delitem(sys.modules, "cocoverify._backend._native", raising=False)
    monkeypatch.delattr(backend_mod, "_native", raising=False)
    assert "Error: " in (backend_mod._probe_native() or "")
    monkeypatch.undo()
    if native_error() is not None:
        pytest.skip(f"native backend unavailable: {native_error()}")
    monkeypatch.setattr(backend_mod, "NATIVE_ABI_VERSION", 999)
    assert "ABI" in (backend_mod._probe_native() or "")


def test_backend_for_features(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backend_mod, "BACKEND", "native")
    assert backend_for("intel-quote") == "native"
    assert backend_for("snp-report") == "native"
    assert backend_for("sgx-extension") == "native"
    assert backend_for("cca-token") == "python"
    monkeypatch.setattr(backend_mod, "BACKEND", "python")
    assert backend_for("intel-quote") == "python"
    assert backend_for("snp-report") == "python"
