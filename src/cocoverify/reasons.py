"""Stable reason codes: every rejection and configuration error carries one (docs/reasons.md).

Tests assert these codes, never message text. A value never changes once released.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Reason"]


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
    EVENT_LOG_MISMATCH = "event_log_mismatch"

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
