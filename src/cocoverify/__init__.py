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

from ._api import Verifier, averify, verify
from .collateral import Collateral, load_collateral
from .errors import (
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
from .policy import Policy
from .result import RuleVerdict, VerificationResult
from .trust import TrustStore

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
