"""Unsigned EAR claims for a verification outcome, shaped like trustee's AS token.

Trustee ``attestation-service/src/ear_token/{mod.rs,broker.rs}``: top-level ``eat_profile``,
``iat``/``exp``, ``iss``, ``ear.verifier-id`` and one appraisal per device under ``submods``
(``cpu0``).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, Final

from cocoverify import __version__
from cocoverify.errors import CocoverifyError, ConfigurationError, Reason
from cocoverify.integrations.ear.vector import (
    CLAIM_NAMES,
    NO_CLAIM,
    ear_status,
    fail_closed,
    trust_vector,
)
from cocoverify.integrations.trustee.claims import claims_for
from cocoverify.result import VerificationResult, format_time, to_jsonable

__all__ = ["PROFILE", "TRUSTEE_PROFILE", "annotated_evidence", "epoch_seconds", "to_ear"]

#: Our EAT profile; ``TRUSTEE_PROFILE`` reproduces trustee's AS token.
PROFILE: Final = "tag:github.com,2025:cocoverify"
TRUSTEE_PROFILE: Final = "tag:github.com,2024:confidential-containers/Trustee"

_INIT_DATA_CLAIM: Final = {
    "sgx": "config_id",
    "tdx": "mr_config_id",
    "snp": "host_data",
    "cca": "realm_personalization_value",
}
_REPORT_DATA_CLAIM: Final = {"cca": "realm_challenge"}


def annotated_evidence(
    result: VerificationResult,
    *,
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
) -> dict[str, Any]:
    """trustee's ``ear.veraison.annotated-evidence`` / Rego input (``transform_claims``).

    ``{"<tee>": claims minus report_data/init_data, "report_data", "init_data",
    "runtime_data_claims", "init_data_claims"}``. The claim names are trustee's
    (:func:`cocoverify.integrations.trustee.claims_for`); a result whose claims are not a
    whole claim set of its TEE (a hand-made one) gets cocoverify's own claims plus
    ``tcb_status``/``advisory_ids``/``tcb_date`` (docs/ear.md).
    """
    tee_claims: dict[str, Any]
    try:
        tee_claims = claims_for(result)
    except ConfigurationError:  # not a whole claim set: our own names
        tee_claims = to_jsonable(result.claims)
        tee_claims.setdefault("tcb_status", result.tcb_status)
        tee_claims.setdefault("advisory_ids", list(result.advisory_ids))
        if result.tcb_date is not None:
            tee_claims.setdefault("tcb_date", format_time(result.tcb_date))
    rd_name = _REPORT_DATA_CLAIM.get(result.tee, "report_data")
    id_name = _INIT_DATA_CLAIM.get(result.tee, "init_data")
    report_data = tee_claims.pop("report_data", None)
    if report_data is None:
        report_data = to_jsonable(result.claims.get(rd_name))
    init_data = tee_claims.pop("init_data", None)
    if init_data is None:
        init_data = to_jsonable(result.claims.get(id_name))
    return {
        result.tee: tee_claims,
        "report_data": report_data,
        "init_data": init_data,
        "runtime_data_claims": runtime_data_claims,
        "init_data_claims": init_data_claims,
    }


def epoch_seconds(t: _dt.datetime | int) -> int:
    """A JWT NumericDate (RFC 7519 §2): integer seconds, or an aware datetime."""
    if isinstance(t, int) and not isinstance(t, bool):
        return t
    if not isinstance(t, _dt.datetime):
        raise ConfigurationError(
            "time: expected a datetime or integer seconds", reason=Reason.INVALID_ARGUMENT
        )
    if t.tzinfo is None:
        raise ConfigurationError(
            "time: a naive datetime is ambiguous; give a timezone", reason=Reason.INVALID_ARGUMENT
        )
    return int(t.timestamp())


def _caller_vector(
    trust_claims: Mapping[str, int], outcome: VerificationResult | CocoverifyError
) -> dict[str, int]:
    """The caller's trust claims (e.g. a Rego policy's) as a whole, fail-closed vector."""
    unknown = set(trust_claims) - set(CLAIM_NAMES)
    if unknown:
        raise ConfigurationError(
            f"to_ear: unknown trust claims {sorted(unknown)}", reason=Reason.INVALID_ARGUMENT
        )
    vector = dict.fromkeys(CLAIM_NAMES, NO_CLAIM)
    for k, v in trust_claims.items():
        if not isinstance(v, int) or isinstance(v, bool) or not -128 <= v <= 127:
            raise ConfigurationError(
                f"to_ear: trust claim {k}: {v!r} is not an integer in -128..127",
                reason=Reason.INVALID_ARGUMENT,
            )
        vector[k] = v
    fail_closed(vector, outcome)  # the caller's vector cannot affirm a rejection
    return vector


def to_ear(
    outcome: VerificationResult | CocoverifyError,
    *,
    iat: _dt.datetime | int | None = None,
    ttl: _dt.timedelta = _dt.timedelta(minutes=5),
    issuer: str = "cocoverify",
    profile: str = PROFILE,
    policy_id: str = "default_cpu",
    developer: str = "https://github.com/cocoverify/cocoverify",
    build: str | None = None,
    submod: str = "cpu0",
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
    trust_claims: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Unsigned EAR claims for a verification outcome.

    ``trust_claims`` (e.g. a Rego policy's, as trustee does) replaces the built-in
    mapping; claims it leaves out are 0 (no claim).

    ``iat`` defaults to the result's verification time (``at``), never the wall clock, so
    the same inputs give the same claims; ``exp = iat + ttl``. A rejection without a result
    (not authentic, malformed, no collateral) still yields a vector, with
    ``ear.status`` ``contraindicated`` or ``none``.
    """
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    if iat is None:
        if result is None:
            raise ConfigurationError(
                "to_ear: give iat for an error without a result", reason=Reason.INVALID_ARGUMENT
            )
        iat = result.verified_at
    issued = epoch_seconds(iat)
    if ttl.total_seconds() <= 0:
        raise ConfigurationError("to_ear: ttl must be positive", reason=Reason.INVALID_ARGUMENT)
    if build is None:
        build = f"cocoverify {__version__}"
    if trust_claims is not None:
        vector = _caller_vector(trust_claims, outcome)
    else:
        vector = trust_vector(outcome)
    appraisal: dict[str, Any] = {
        "ear.status": ear_status(vector),
        "ear.trustworthiness-vector": vector,
        "ear.appraisal-policy-id": policy_id,
    }
    if result is not None:
        appraisal["ear.veraison.annotated-evidence"] = annotated_evidence(
            result, runtime_data_claims=runtime_data_claims, init_data_claims=init_data_claims
        )
    summary: dict[str, Any] = {
        "accepted": isinstance(outcome, VerificationResult) and outcome.accepted,
        "reason": None if isinstance(outcome, VerificationResult) else outcome.reason.value,
        "tee": result.tee if result is not None else None,
        "tcb_status": result.tcb_status if result is not None else None,
        "advisory_ids": list(result.advisory_ids) if result is not None else [],
    }
    if isinstance(outcome, VerificationResult) and outcome.reason is not None:
        summary["reason"] = outcome.reason.value
    appraisal["cocoverify.result"] = summary
    return {
        "eat_profile": profile,
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "iss": issuer,
        "ear.verifier-id": {"developer": developer, "build": build},
        "submods": {submod: appraisal},
    }
