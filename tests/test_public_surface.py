"""The public names of the cocoverify package and the shape of its exception tree."""

from __future__ import annotations

import cocoverify


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
