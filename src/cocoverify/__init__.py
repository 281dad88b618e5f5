"""cocoverify: verify confidential-computing evidence end to end.

Intel SGX/TDX DCAP quotes, AMD SEV-SNP attestation reports and Arm CCA attestation tokens,
through one call::

    import cocoverify
    result = cocoverify.verify(evidence, collateral=["collateral/"], at="2025-07-04T10:28:44Z")
    result.tcb_status, result.claims["mr_enclave"]

``verify`` returns only on acceptance; every rejection raises a
:class:`~cocoverify.errors.CocoverifyError` with a stable ``.reason``.

``import cocoverify`` loads only the errors; every other public name is imported on first
use (module ``__getattr__``), so a CLI or service that never verifies pays nothing for the
verifier, asyncio or the X.509 stack.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
    MissingCollateral,
    PolicyRejected,
    Reason,
    Revoked,
    SignatureInvalid,
    TcbRejected,
    UnsupportedEvidence,
)

if TYPE_CHECKING:
    from cocoverify._backend import backend
    from cocoverify.api import Verifier, averify, verify
    from cocoverify.collateral import Collateral, load_collateral
    from cocoverify.policy import Policy
    from cocoverify.result import RuleVerdict, VerificationResult
    from cocoverify.trust import TrustStore

__version__ = "0.1.0"

#: Public name -> the module that defines it, imported on first access.
_LAZY: dict[str, str] = {
    "Collateral": "cocoverify.collateral",
    "Policy": "cocoverify.policy",
    "RuleVerdict": "cocoverify.result",
    "TrustStore": "cocoverify.trust",
    "VerificationResult": "cocoverify.result",
    "Verifier": "cocoverify.api",
    "averify": "cocoverify.api",
    "backend": "cocoverify._backend",
    "load_collateral": "cocoverify.collateral",
    "verify": "cocoverify.api",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'cocoverify' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
    "MissingCollateral",
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
    "backend",
    "load_collateral",
    "verify",
]
