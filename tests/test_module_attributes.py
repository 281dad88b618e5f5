"""Backend selection is visible and testable (style.md §4)."""

from __future__ import annotations

import logging

import pytest

import cocoverify
from cocoverify import ConfigurationError
from cocoverify._backend import BACKEND, FEATURES, select_backend


def test_backend_attributes() -> None:
    assert BACKEND == "python"
    assert "intel-quote" in FEATURES


def test_native_request_fails_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigurationError):
        select_backend("native")
    monkeypatch.setenv("COCOVERIFY_BACKEND", "bogus")
    with pytest.raises(ConfigurationError):
        select_backend()


def test_auto_falls_back_with_a_debug_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="cocoverify.backend"):
        assert select_backend("auto") == "python"
    assert "Python backend" in caplog.text


def test_public_surface() -> None:
    for name in (
        "verify",
        "averify",
        "Verifier",
        "Policy",
        "TrustStore",
        "Reason",
        "VerificationResult",
        "load_collateral",
        "CocoverifyError",
    ):
        assert name in cocoverify.__all__
    assert issubclass(cocoverify.MalformedEvidence, ValueError)
    assert issubclass(cocoverify.TcbRejected, cocoverify.PolicyRejected)
    assert cocoverify.AuthenticityError.exit_code == 3
