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

from enum import StrEnum
from typing import TYPE_CHECKING, Any

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


class Reason(StrEnum):
    """Stable reason codes. Values never change once released (docs/reasons.md)."""

    # --- configuration
    INVALID_CONFIGURATION = "invalid_configuration"
    INVALID_POLICY = "invalid_policy"
    INVALID_TRUST_STORE = "invalid_trust_store"
    INVALID_ARGUMENT = "invalid_argument"

    # --- evidence (exit 2)
    UNKNOWN_FORMAT = "unknown_format"
    TRUNCATED = "truncated"
    TRAILING_DATA = "trailing_data"
    RESERVED_NONZERO = "reserved_nonzero"
    MALFORMED = "malformed"
    MALFORMED_CERTIFICATE = "malformed_certificate"
    UNSUPPORTED_VERSION = "unsupported_version"
    UNSUPPORTED_TEE_TYPE = "unsupported_tee_type"
    UNSUPPORTED_KEY_TYPE = "unsupported_key_type"
    UNSUPPORTED_CERTIFICATION_DATA = "unsupported_certification_data"
    UNSUPPORTED_ALGORITHM = "unsupported_algorithm"
    UNSUPPORTED_PRODUCT = "unsupported_product"
    UNSUPPORTED_PROFILE = "unsupported_profile"

    # --- authenticity (exit 3)
    SIGNATURE_INVALID = "signature_invalid"
    QE_REPORT_SIGNATURE_INVALID = "qe_report_signature_invalid"
    QE_REPORT_DATA_MISMATCH = "qe_report_data_mismatch"
    QE_VENDOR_ID_UNKNOWN = "qe_vendor_id_unknown"
    QE_IDENTITY_MISMATCH = "qe_identity_mismatch"
    TDX_MODULE_MISMATCH = "tdx_module_mismatch"
    UNTRUSTED_ROOT = "untrusted_root"
    CHAIN_INVALID = "chain_invalid"
    CERTIFICATE_EXPIRED = "certificate_expired"
    CERTIFICATE_NOT_YET_VALID = "certificate_not_yet_valid"
    CERTIFICATE_PROFILE_INVALID = "certificate_profile_invalid"
    PRODUCT_MISMATCH = "product_mismatch"
    TCB_MISMATCH = "tcb_mismatch"
    CHIP_ID_MISMATCH = "chip_id_mismatch"
    KEY_TYPE_MISMATCH = "key_type_mismatch"
    BINDING_INVALID = "binding_invalid"
    CERTIFICATE_REVOKED = "certificate_revoked"

    # --- collateral (exit 4)
    COLLATERAL_MISSING = "collateral_missing"
    COLLATERAL_MALFORMED = "collateral_malformed"
    COLLATERAL_SIGNATURE_INVALID = "collateral_signature_invalid"
    COLLATERAL_CHAIN_INVALID = "collateral_chain_invalid"
    COLLATERAL_EXPIRED = "collateral_expired"
    COLLATERAL_NOT_YET_VALID = "collateral_not_yet_valid"
    COLLATERAL_MISMATCH = "collateral_mismatch"
    TDX_MODULE_IDENTITY_MISSING = "tdx_module_identity_missing"
    CRL_INVALID = "crl_invalid"
    CRL_EXPIRED = "crl_expired"
    CRL_NOT_YET_VALID = "crl_not_yet_valid"
    CRL_MISSING = "crl_missing"

    # --- policy (exit 5)
    TCB_STATUS_REJECTED = "tcb_status_rejected"
    TCB_NOT_SUPPORTED = "tcb_not_supported"
    ADVISORY_REJECTED = "advisory_rejected"
    DEBUG_ENABLED = "debug_enabled"
    ATTRIBUTE_REJECTED = "attribute_rejected"
    MEASUREMENT_MISMATCH = "measurement_mismatch"
    REPORT_DATA_MISMATCH = "report_data_mismatch"
    INIT_DATA_MISMATCH = "init_data_mismatch"
    TCB_BELOW_MINIMUM = "tcb_below_minimum"
    LIFECYCLE_REJECTED = "lifecycle_rejected"
    COLLATERAL_TOO_OLD = "collateral_too_old"
    POLICY_REJECTED = "policy_rejected"
    REGO_REJECTED = "rego_rejected"

    # --- EAR attestation-result tokens (cocoverify.integrations.ear; docs/ear.md)
    EAR_MALFORMED = "ear_malformed"
    EAR_ALGORITHM_REJECTED = "ear_algorithm_rejected"
    EAR_SIGNATURE_INVALID = "ear_signature_invalid"
    EAR_EXPIRED = "ear_expired"
    EAR_NOT_YET_VALID = "ear_not_yet_valid"


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

    def with_result(self, result: VerificationResult) -> CocoverifyError:
        """Attach the partial result (claims so far) and return self."""
        self.result = result
        return self

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
