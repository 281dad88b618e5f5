"""Errors raised by cocoverify.

Every error carries a stable :class:`Reason` code in ``.reason``; callers and tests
match on the code, never on the message text. The tree::

    CocoverifyError
    ├── ConfigurationError(ValueError)      bad policy / trust store / arguments
    ├── EvidenceError(ValueError)           input cannot be understood      (CLI exit 2)
    │   ├── MalformedEvidence               .offset, .field
    │   └── UnsupportedEvidence             version / TEE type / algorithm
    ├── AuthenticityError                   evidence not genuine            (CLI exit 3)
    │   ├── SignatureInvalid
    │   ├── ChainInvalid                    untrusted root, validity, profile/extension
    │   └── Revoked
    ├── CollateralError                                                     (CLI exit 4)
    │   ├── CollateralUnavailable           missing: the caller may choose to fail open
    │   └── CollateralInvalid               bad signature, expired, wrong FMSPC/product
    └── PolicyRejected                      authentic, but not acceptable   (CLI exit 5)
        ├── TcbRejected                     .status, .advisories
        └── MeasurementMismatch             .claim, .expected, .actual

Errors raised by :func:`cocoverify.verify` after the evidence was authenticated carry
the partial result in ``.result`` (claims, TCB status), so a rejection explains itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cocoverify.reasons import Reason

if TYPE_CHECKING:
    from cocoverify.result import VerificationResult

__all__ = [
    "AuthenticityError",
    "ChainInvalid",
    "CocoverifyError",
    "CollateralError",
    "CollateralInvalid",
    "CollateralUnavailable",
    "ConfigurationError",
    "EvidenceError",
    "MalformedEvidence",
    "MeasurementMismatch",
    "PolicyRejected",
    "Reason",
    "Revoked",
    "SignatureInvalid",
    "TcbRejected",
    "UnsupportedEvidence",
]


class CocoverifyError(Exception):
    """Base of every error cocoverify raises on purpose."""

    default_reason: Reason = Reason.INVALID_CONFIGURATION
    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        reason: Reason | None = None,
        result: VerificationResult | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.reason: Reason = reason if reason is not None else self.default_reason
        self.result: VerificationResult | None = result
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return f"{self.reason.value}: {self.args[0]}"


class ConfigurationError(CocoverifyError, ValueError):
    """The policy, trust store or an argument is invalid."""

    default_reason = Reason.INVALID_CONFIGURATION
    exit_code = 1


class EvidenceError(CocoverifyError, ValueError):
    """The evidence cannot be understood."""

    default_reason = Reason.MALFORMED
    exit_code = 2


class MalformedEvidence(EvidenceError):
    """A length, reserved field or encoding is wrong; ``.field`` and ``.offset`` name where."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        offset: int | None = None,
        reason: Reason | None = None,
        **details: Any,
    ) -> None:
        where = ""
        if field is not None:
            where = f" [{field}" + (f" @ offset {offset:#x}" if offset is not None else "") + "]"
        super().__init__(message + where, reason=reason, **details)
        self.field = field
        self.offset = offset


class UnsupportedEvidence(EvidenceError):
    """Well-formed, but a version, TEE type, key type or algorithm cocoverify does not support."""

    default_reason = Reason.UNSUPPORTED_VERSION


class AuthenticityError(CocoverifyError):
    """The evidence is not genuine: a signature, chain or binding fails."""

    default_reason = Reason.SIGNATURE_INVALID
    exit_code = 3


class SignatureInvalid(AuthenticityError):
    """A signature over the evidence does not verify."""


class ChainInvalid(AuthenticityError):
    """A certificate chain is broken, untrusted, out of validity or of the wrong profile."""

    default_reason = Reason.CHAIN_INVALID


class Revoked(AuthenticityError):
    """A certificate in the chain is revoked."""

    default_reason = Reason.CERTIFICATE_REVOKED


class CollateralError(CocoverifyError):
    """Collateral is missing or cannot be used."""

    default_reason = Reason.COLLATERAL_MISSING
    exit_code = 4


class CollateralUnavailable(CollateralError):
    """Collateral needed for the verdict was not supplied or could not be fetched."""


class CollateralInvalid(CollateralError):
    """Collateral is malformed, badly signed, out of date, or for another platform."""

    default_reason = Reason.COLLATERAL_MALFORMED


class PolicyRejected(CocoverifyError):
    """The evidence is authentic but the policy does not accept it."""

    default_reason = Reason.POLICY_REJECTED
    exit_code = 5


class TcbRejected(PolicyRejected):
    """The TCB status (or an advisory) is not accepted; ``.status``, ``.advisories``."""

    default_reason = Reason.TCB_STATUS_REJECTED

    def __init__(
        self,
        message: str,
        *,
        status: str | None = None,
        advisories: tuple[str, ...] = (),
        reason: Reason | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, reason=reason, **details)
        self.status = status
        self.advisories = advisories


class MeasurementMismatch(PolicyRejected):
    """A claim differs from the policy's expectation; ``.claim``, ``.expected``, ``.actual``."""

    default_reason = Reason.MEASUREMENT_MISMATCH

    def __init__(
        self,
        message: str,
        *,
        claim: str | None = None,
        expected: Any = None,
        actual: Any = None,
        reason: Reason | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, reason=reason, **details)
        self.claim = claim
        self.expected = expected
        self.actual = actual
