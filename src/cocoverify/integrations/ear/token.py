"""Unsigned EAR claims for a verification outcome, shaped like trustee's AS token.

Trustee ``attestation-service/src/ear_token/{mod.rs,broker.rs}``: top-level ``eat_profile``,
``iat``/``exp``, ``iss``, ``ear.verifier-id`` and one appraisal per device under ``submods``
(``cpu0``). With :data:`VERAISON_PROFILE` (the profile of draft-fv-rats-ear, which veraison's
EAR libraries accept) every appraisal carries only the draft's claims and Veraison's
registered extensions (docs/ear.md "Profiles").
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from cocoverify import __version__
from cocoverify.collateral import Collateral
from cocoverify.errors import CocoverifyError, ConfigurationError, Reason
from cocoverify.hazmat import decode_text
from cocoverify.integrations.ear.vector import (
    CLAIM_NAMES,
    NO_CLAIM,
    ear_status,
    fail_closed,
    trust_vector,
)
from cocoverify.integrations.trustee.claims import claims_for, intel_supplemental
from cocoverify.result import VerificationResult, format_time, to_jsonable
from cocoverify.trust import TrustStore

if TYPE_CHECKING:
    from cocoverify.integrations.rego import RegoDecision

__all__ = [
    "PROFILE",
    "TRUSTEE_PROFILE",
    "VERAISON_PROFILE",
    "annotated_evidence",
    "epoch_seconds",
    "tee_claims",
    "to_composite_ear",
    "to_ear",
]

#: Our EAT profile; ``TRUSTEE_PROFILE`` reproduces trustee's AS token.
PROFILE: Final = "tag:github.com,2025:cocoverify"
TRUSTEE_PROFILE: Final = "tag:github.com,2024:confidential-containers/Trustee"
#: The EAR draft's profile (draft-fv-rats-ear "EAT Profile"; veraison/ear ``EatProfile``).
VERAISON_PROFILE: Final = "tag:github.com,2023:veraison/ear"

_INIT_DATA_CLAIM: Final = {
    "sgx": "config_id",
    "tdx": "mr_config_id",
    "snp": "host_data",
    "cca": "realm_personalization_value",
}
_REPORT_DATA_CLAIM: Final = {"cca": "realm_challenge"}


def tee_claims(
    result: VerificationResult,
    *,
    evidence: bytes | str | None = None,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
) -> dict[str, Any]:
    """The TEE's claims as trustee's verifier returns them, for the Rego/EAR input.

    :func:`~cocoverify.integrations.trustee.claims_for` plus, for SGX/TDX when the quote
    (``evidence``) is given, the supplemental claims that need the collateral items
    (``root_key_id``, the issue/expiration dates, the CRL numbers: ``intel_supplemental``).
    A result whose claims are not a whole claim set of its TEE (a hand-made one) gets
    cocoverify's own claims plus ``tcb_status``/``advisory_ids``/``tcb_date`` (docs/ear.md).
    """
    try:
        out = claims_for(result)
    except ConfigurationError:  # not a whole claim set: our own names
        out = dict(to_jsonable(result.claims))
        out.setdefault("tcb_status", result.tcb_status)
        out.setdefault("advisory_ids", list(result.advisory_ids))
        if result.tcb_date is not None:
            out.setdefault("tcb_date", format_time(result.tcb_date))
        return out
    if evidence is not None and result.tee in ("tdx", "sgx"):
        out.update(
            intel_supplemental(
                decode_text(evidence.encode("ascii") if isinstance(evidence, str) else evidence),
                result,
                collateral=collateral if collateral is not None else Collateral(),
                trust=trust if trust is not None else TrustStore.default(),
            )
        )
    return out


def annotated_evidence(
    result: VerificationResult,
    *,
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
    claims: Mapping[str, Any] | None = None,
    evidence: bytes | str | None = None,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
    verbose: bool = False,
) -> dict[str, Any]:
    """trustee's ``ear.veraison.annotated-evidence`` / Rego input (``transform_claims``).

    ``{"<tee>": claims minus report_data/init_data, "report_data", "init_data",
    "runtime_data_claims", "init_data_claims"}``. The TEE's claims are ``claims`` when given
    (e.g. from ``trustee.evaluate``), else :func:`tee_claims` (``evidence``, ``collateral``
    and ``trust`` add the Intel supplemental claims). Like trustee without ``verbose_token``,
    ``additional-evidence`` is dropped from ``runtime_data_claims`` unless ``verbose``.
    """
    if claims is not None:
        tee_part: dict[str, Any] = to_jsonable(dict(claims))
    else:
        tee_part = tee_claims(result, evidence=evidence, collateral=collateral, trust=trust)
    rd_name = _REPORT_DATA_CLAIM.get(result.tee, "report_data")
    id_name = _INIT_DATA_CLAIM.get(result.tee, "init_data")
    report_data = tee_part.pop("report_data", None)
    if report_data is None:
        report_data = to_jsonable(result.claims.get(rd_name))
    init_data = tee_part.pop("init_data", None)
    if init_data is None:
        init_data = to_jsonable(result.claims.get(id_name))
    runtime = to_jsonable(runtime_data_claims)
    if not verbose and isinstance(runtime, dict):
        runtime.pop("additional-evidence", None)  # broker.rs: only with verbose_token
    return {
        result.tee: tee_part,
        "report_data": report_data,
        "init_data": init_data,
        "runtime_data_claims": runtime,
        "init_data_claims": to_jsonable(init_data_claims),
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


def _only_rego_rejected(outcome: VerificationResult | CocoverifyError) -> bool:
    """A rejection whose only failed rule is the Rego policy's (or no rejection at all)."""
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    if result is None:
        return False
    if isinstance(outcome, VerificationResult) and outcome.accepted:
        return True
    failed = result.failed_rules()
    return bool(failed) and all(v.rule == "rego" for v in failed)


def _trustee_vector(
    decision: RegoDecision, outcome: VerificationResult | CocoverifyError
) -> dict[str, int]:
    """The trust vector trustee's AS builds from the policy (its set claims, AR4SI order)."""
    assert decision.trust_vector is not None
    vector = {k: decision.trust_vector[k] for k in CLAIM_NAMES if k in decision.trust_vector}
    if not _only_rego_rejected(outcome) or (
        not decision.allowed and ear_status(vector) == "affirming"
    ):
        fail_closed(vector, outcome)  # cocoverify's own rejection is never affirming/warning
    return vector


def to_ear(
    outcome: VerificationResult | CocoverifyError,
    *,
    iat: _dt.datetime | int | None = None,
    ttl: _dt.timedelta = _dt.timedelta(minutes=5),
    issuer: str = "cocoverify",
    profile: str = PROFILE,
    policy_id: str = "default",
    developer: str = "https://github.com/cocoverify/cocoverify",
    build: str | None = None,
    submod: str = "cpu0",
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
    trust_claims: Mapping[str, int] | None = None,
    decision: RegoDecision | None = None,
    evidence: bytes | str | None = None,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
) -> dict[str, Any]:
    """Unsigned EAR claims for a verification outcome.

    ``decision`` (a trustee policy's :class:`~cocoverify.integrations.rego.RegoDecision`)
    gives the appraisal trustee's attestation service issues: the policy's trust vector
    (only the claims it sets), ``ear.status`` derived from it, its extensions and the
    annotated evidence it saw. A rejection by cocoverify's own policy is still never
    affirming or warning (docs/ear.md). ``trust_claims`` instead replaces the built-in
    mapping with a whole vector (claims left out are 0).

    ``iat`` defaults to the result's verification time (``at``), never the wall clock, so
    the same inputs give the same claims; ``exp = iat + ttl``. A rejection without a result
    (not authentic, malformed, no collateral) still yields a vector, with
    ``ear.status`` ``contraindicated`` or ``none``. ``evidence``/``collateral``/``trust``
    add the Intel supplemental claims to the annotated evidence (:func:`tee_claims`).
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
    if trust_claims is not None and decision is not None:
        raise ConfigurationError(
            "to_ear: give trust_claims or decision, not both", reason=Reason.INVALID_ARGUMENT
        )
    if decision is not None and decision.trust_vector is not None:
        vector = _trustee_vector(decision, outcome)
    elif trust_claims is not None:
        vector = _caller_vector(trust_claims, outcome)
    else:
        vector = trust_vector(outcome)
    appraisal: dict[str, Any] = {
        "ear.status": ear_status(vector),
        "ear.trustworthiness-vector": vector,
        "ear.appraisal-policy-id": policy_id,
    }
    if result is not None:
        if decision is not None and decision.input is not None:
            appraisal["ear.veraison.annotated-evidence"] = to_jsonable(decision.input)
        else:
            appraisal["ear.veraison.annotated-evidence"] = annotated_evidence(
                result,
                runtime_data_claims=runtime_data_claims,
                init_data_claims=init_data_claims,
                evidence=evidence,
                collateral=collateral,
                trust=trust,
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
    if profile == VERAISON_PROFILE:
        # no private claim names: the summary is the policy's outcome, a registered
        # Veraison extension (veraison/ear ``VeraisonPolicyClaims``), without nulls
        claims_out = {k: v for k, v in summary.items() if v is not None}
        appraisal["ear.veraison.policy-claims"] = claims_out
    else:
        appraisal["cocoverify.result"] = summary
    for ext in decision.extensions if decision is not None else ():
        # broker.rs: each {name, key, value} of data.policy.extensions, by name
        if ext["name"] in appraisal:
            raise ConfigurationError(
                f"to_ear: extension {ext['name']!r} collides with an appraisal claim",
                reason=Reason.INVALID_POLICY,
            )
        appraisal[ext["name"]] = to_jsonable(ext["value"])
    return {
        "eat_profile": profile,
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "iss": issuer,
        "ear.verifier-id": {"developer": developer, "build": build},
        "submods": {submod: appraisal},
    }


def to_composite_ear(
    parts: Mapping[str, VerificationResult | CocoverifyError],
    *,
    iat: _dt.datetime | int | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """One EAR with a submodule per device (``{"cpu0": outcome, "gpu0": outcome}``), each
    appraised as :func:`to_ear` appraises it; ``iat`` defaults to the first part's
    verification time."""
    if not parts:
        raise ConfigurationError("to_composite_ear: no parts", reason=Reason.INVALID_ARGUMENT)
    if iat is None:
        for outcome in parts.values():
            result = outcome if isinstance(outcome, VerificationResult) else outcome.result
            if result is not None:
                iat = result.verified_at
                break
    ear: dict[str, Any] | None = None
    for name, outcome in parts.items():
        one = to_ear(outcome, iat=iat, submod=name, **kwargs)
        if ear is None:
            ear = one
        else:
            ear["submods"].update(one["submods"])
    assert ear is not None
    return ear
