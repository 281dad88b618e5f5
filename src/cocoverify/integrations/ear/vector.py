"""AR4SI trustworthiness vectors: tiers and the mapping of a verification outcome.

Code points and tiers are draft-ietf-rats-ar4si §2.3 (tiers: affirming 2..31, warning
32..95, contraindicated 96..127, none -1..1); the mapping is documented in docs/ear.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from cocoverify.errors import (
    AuthenticityError,
    CocoverifyError,
    CollateralError,
    EvidenceError,
    Reason,
    Revoked,
)
from cocoverify.result import VerificationResult

__all__ = [
    "CLAIM_NAMES",
    "STATUSES",
    "TIERS",
    "ear_status",
    "fail_closed",
    "tier",
    "trust_vector",
]

#: AR4SI trustworthiness claims, in trustee's order (trustee ``attestation-service/src/ear_token``).
CLAIM_NAMES: Final = (
    "instance-identity",
    "configuration",
    "executables",
    "file-system",
    "hardware",
    "runtime-opaque",
    "storage-opaque",
    "sourced-data",
)

# AR4SI code points used here (draft-ietf-rats-ar4si §2.3.x; docs/ear.md has the table)
VERIFIER_MALFUNCTION: Final = -1
NO_CLAIM: Final = 0
UNEXPECTED_EVIDENCE: Final = 1
CRYPTO_VALIDATION_FAILED: Final = 99
TRUSTWORTHY_INSTANCE: Final = 2
UNTRUSTWORTHY_INSTANCE: Final = 96
UNRECOGNIZED_INSTANCE: Final = 97
APPROVED_CONFIG: Final = 2
UNSAFE_CONFIG: Final = 32
UNSUPPORTABLE_CONFIG: Final = 96
APPROVED_RUNTIME: Final = 2
CONTRAINDICATED_RUNTIME: Final = 96
GENUINE_HARDWARE: Final = 2
UNSAFE_HARDWARE: Final = 32
CONTRAINDICATED_HARDWARE: Final = 96
UNRECOGNIZED_HARDWARE: Final = 97
ENCRYPTED_MEMORY_RUNTIME: Final = 2
VISIBLE_MEMORY_RUNTIME: Final = 96

#: The tiers, best to worst but "none" first (draft-ietf-rats-ar4si §2.3.1).
TIERS: Final = ("none", "affirming", "warning", "contraindicated")
STATUSES: Final = frozenset(TIERS)

#: TCB status -> (hardware, configuration or None = unchanged). Intel's TCB Info ``tcbStatus``
#: values (QVL ``QuoteVerification.h``); Revoked would be terminal (raised), kept for
#: completeness.
_TCB_STATUS: Final[Mapping[str, tuple[int, int | None]]] = {
    "UpToDate": (GENUINE_HARDWARE, None),
    "SWHardeningNeeded": (UNSAFE_HARDWARE, None),
    "ConfigurationNeeded": (GENUINE_HARDWARE, UNSAFE_CONFIG),
    "ConfigurationAndSWHardeningNeeded": (UNSAFE_HARDWARE, UNSAFE_CONFIG),
    "OutOfDate": (UNSAFE_HARDWARE, None),
    "OutOfDateConfigurationNeeded": (UNSAFE_HARDWARE, UNSAFE_CONFIG),
    "TDRelaunchAdvised": (UNSAFE_HARDWARE, None),
    "TDRelaunchAdvisedConfigurationNeeded": (UNSAFE_HARDWARE, UNSAFE_CONFIG),
    "Revoked": (CONTRAINDICATED_HARDWARE, None),
}

_HW_RULE_REASONS: Final = frozenset(
    {
        Reason.TCB_STATUS_REJECTED,
        Reason.ADVISORY_REJECTED,
        Reason.TCB_BELOW_MINIMUM,
        Reason.COLLATERAL_TOO_OLD,
    }
)
#: Rule names that pin code identity (executables); everything else is configuration.
_EXEC_RULES: Final = frozenset(
    {
        # SGX enclave and TDX module / TD identity
        "mr_enclave", "mr_signer", "mr_td", "rtmr0", "rtmr1", "rtmr2", "rtmr3",
        "mr_seam", "mr_signer_seam", "mr_service_td",
        # SNP launch digest; CCA realm and platform software
        "measurement", "realm_initial_measurement", "platform_implementation_id",
    }
)  # fmt: skip


def _is_exec_rule(name: str) -> bool:
    return (
        name in _EXEC_RULES
        or "measurement" in name
        or name.startswith(("rem", "realm_extensible", "sw_component"))
    )


def tier(value: int) -> str:
    """AR4SI tier of one claim value (draft-ietf-rats-ar4si §2.3.1)."""
    if -1 <= value <= 1:
        return "none"
    if 2 <= value <= 31 or -32 <= value <= -2:
        return "affirming"
    if 32 <= value <= 95 or -96 <= value <= -33:
        return "warning"
    return "contraindicated"


def ear_status(vector: Mapping[str, int]) -> str:
    """The worst tier of the vector (none < affirming < warning < contraindicated)."""
    worst = 0
    for value in vector.values():
        worst = max(worst, TIERS.index(tier(value)))
    return TIERS[worst]


def trust_vector(outcome: VerificationResult | CocoverifyError) -> dict[str, int]:
    """AR4SI trustworthiness vector for a result or a rejection (docs/ear.md, mapping)."""
    vector = dict.fromkeys(CLAIM_NAMES, NO_CLAIM)
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    if result is None:
        assert isinstance(outcome, CocoverifyError)
        # rejected before authentication: nothing about the platform is known
        if isinstance(outcome, Revoked):
            vector["instance-identity"] = UNTRUSTWORTHY_INSTANCE
            vector["hardware"] = CONTRAINDICATED_HARDWARE
        elif isinstance(outcome, AuthenticityError):
            vector["instance-identity"] = CRYPTO_VALIDATION_FAILED
        elif isinstance(outcome, EvidenceError):
            vector["instance-identity"] = UNEXPECTED_EVIDENCE
        elif isinstance(outcome, CollateralError):
            vector["hardware"] = UNRECOGNIZED_HARDWARE
        else:
            vector["instance-identity"] = VERIFIER_MALFUNCTION
        return vector

    # authentic evidence (a result exists only after authentication)
    vector["instance-identity"] = TRUSTWORTHY_INSTANCE
    vector["hardware"] = GENUINE_HARDWARE
    vector["configuration"] = APPROVED_CONFIG
    vector["runtime-opaque"] = ENCRYPTED_MEMORY_RUNTIME
    if result.tcb_status is not None:
        hw, cfg = _TCB_STATUS.get(result.tcb_status, (UNRECOGNIZED_HARDWARE, None))
        vector["hardware"] = hw
        if cfg is not None:
            vector["configuration"] = cfg
    exec_rules = [v for v in result.policy if _is_exec_rule(v.rule)]
    if exec_rules:
        vector["executables"] = APPROVED_RUNTIME
    for v in result.policy:
        if v.rule == "debug" and v.actual is True:
            vector["runtime-opaque"] = VISIBLE_MEMORY_RUNTIME  # debug: memory readable
        if v.passed:
            continue
        if v.reason is Reason.REPORT_DATA_MISMATCH:
            vector["instance-identity"] = UNRECOGNIZED_INSTANCE
        elif v.reason is Reason.TCB_NOT_SUPPORTED:
            vector["hardware"] = UNRECOGNIZED_HARDWARE
        elif v.reason in _HW_RULE_REASONS:
            vector["hardware"] = CONTRAINDICATED_HARDWARE
        elif v.reason is Reason.MEASUREMENT_MISMATCH or _is_exec_rule(v.rule):
            vector["executables"] = CONTRAINDICATED_RUNTIME
        else:  # debug, attributes, init data, lifecycle, Rego and any other rule
            vector["configuration"] = UNSUPPORTABLE_CONFIG
    fail_closed(vector, outcome)
    return vector


def _rejected(outcome: VerificationResult | CocoverifyError) -> bool:
    if isinstance(outcome, VerificationResult):
        return not outcome.accepted
    return True


def fail_closed(vector: dict[str, int], outcome: VerificationResult | CocoverifyError) -> None:
    """A rejection is never affirming or warning (docs/ear.md "AR4SI mapping").

    With a result (authentic evidence, rejected by a rule, Rego or any later step) the EAR
    must be ``contraindicated``; without one, ``none`` (nothing known) is also allowed.
    """
    if not _rejected(outcome):
        return
    status = ear_status(vector)
    has_result = outcome.result is not None if isinstance(outcome, CocoverifyError) else True
    if status == "contraindicated" or (status == "none" and not has_result):
        return
    vector["configuration"] = UNSUPPORTABLE_CONFIG
