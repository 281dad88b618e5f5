"""cocoverify: verify confidential-computing evidence end to end.

Intel SGX/TDX DCAP quotes, AMD SEV-SNP attestation reports and Arm CCA attestation tokens,
through one call::

    import cocoverify
    result = cocoverify.verify(evidence, collateral=["collateral/"], at="2025-07-04T10:28:44Z")
    result.tcb_status, result.claims["mr_enclave"]

``verify`` returns only on acceptance; every rejection raises a
:class:`~cocoverify.errors.CocoverifyError` with a stable ``.reason``.
"""

from __future__ import annotations

from cocoverify.api import Verifier, averify, verify
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.errors import (
    AuthenticityError,
    ChainInvalid,
    CocoverifyError,
    CollateralError,
    CollateralInvalid,
    CollateralUnavailable,
    ConfigurationError,
    EvidenceError,
    MalformedEvidence,
    MeasurementMismatch,
    PolicyRejected,
    Reason,
    Revoked,
    SignatureInvalid,
    TcbRejected,
    UnsupportedEvidence,
)
from cocoverify.policy import Policy
from cocoverify.result import RuleVerdict, VerificationResult
from cocoverify.trust import TrustStore

__version__ = "0.1.0"

__all__ = [
    "AuthenticityError",
    "ChainInvalid",
    "CocoverifyError",
    "Collateral",
    "CollateralError",
    "CollateralInvalid",
    "CollateralUnavailable",
    "ConfigurationError",
    "EvidenceError",
    "MalformedEvidence",
    "MeasurementMismatch",
    "Policy",
    "PolicyRejected",
    "Reason",
    "Revoked",
    "RuleVerdict",
    "SignatureInvalid",
    "TcbRejected",
    "TrustStore",
    "UnsupportedEvidence",
    "VerificationResult",
    "Verifier",
    "__version__",
    "averify",
    "load_collateral",
    "verify",
]
