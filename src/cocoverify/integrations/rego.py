"""Optional OPA Rego policies over verified claims, with trustee's input shape (docs/ear.md).

Install the extra: ``pip install cocoverify[rego]`` (``regopy``, Microsoft's rego-cpp).
The input is trustee's annotated-evidence object (``attestation-service/src/ear_token``,
``transform_claims``), so an existing Confidential Containers AS policy (``package policy``,
``trust_claims``) runs unchanged::

    decision = check_rego(result, policy_text)       # raises PolicyRejected when it says no
    decision.trust_claims                             # {"hardware": 2, ...} for the EAR

Decision rule: the query (default ``data.policy``) must give an object. It rejects when
``allow`` is defined and not ``true``, when any ``trust_claims`` value is in the AR4SI
contraindicated tier (96..127, -97..-128), or, without ``allow``, when no ``trust_claims``
value is affirming or warning (an empty or all-zero vector affirms nothing). A policy that
defines neither ``allow`` nor ``trust_claims`` is a configuration error (fail closed). Only
``trust_claims`` keys that are AR4SI claim names are accepted, as trustee does.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from cocoverify.errors import ConfigurationError, PolicyRejected, Reason
from cocoverify.integrations.ear.token import annotated_evidence
from cocoverify.integrations.ear.vector import CLAIM_NAMES, ear_status, tier
from cocoverify.result import RuleVerdict, VerificationResult, to_jsonable

__all__ = ["RegoDecision", "check_rego", "decide", "evaluate_rego", "trustee_input"]


def _engine() -> ModuleType:
    # loaded on first use: regopy is an optional dependency (the ``rego`` extra)
    try:
        return importlib.import_module("regopy")
    except ImportError:
        raise ConfigurationError(
            "Rego policies need the optional engine: pip install 'cocoverify[rego]'",
            reason=Reason.INVALID_CONFIGURATION,
        ) from None


def trustee_input(
    result: VerificationResult,
    *,
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
) -> dict[str, Any]:
    """The Rego ``input`` trustee's AS gives its policies (the annotated evidence)."""
    return annotated_evidence(
        result, runtime_data_claims=runtime_data_claims, init_data_claims=init_data_claims
    )


def evaluate_rego(
    policy_text: str,
    input: Mapping[str, Any],  # Rego's own name for it
    *,
    query: str = "data.policy",
    data: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate ``query`` over one Rego module; the JSON value, or None when undefined.

    A module that does not compile, or an evaluation error (e.g. conflicting values), is a
    :class:`~cocoverify.errors.ConfigurationError` with reason ``invalid_policy``.
    """
    regopy = _engine()
    interp = regopy.Interpreter()
    interp.log_level = regopy.LogLevel.NONE  # rego-cpp prints errors on stdout otherwise
    try:
        interp.add_module("policy.rego", policy_text)
        if data is not None:
            interp.add_data(to_jsonable(data))
        interp.set_input(to_jsonable(input))
        out = interp.query(query)
    except regopy.RegoError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "error"
        raise ConfigurationError(f"rego: {first}", reason=Reason.INVALID_POLICY) from None
    if not out.ok():
        raise ConfigurationError(f"rego: evaluating {query} failed", reason=Reason.INVALID_POLICY)
    results = out.results
    if not results or not results[0].expressions:
        return None
    return results[0].expressions[0]


@dataclass(frozen=True, slots=True)
class RegoDecision:
    """What a Rego policy said: ``allowed``, its ``trust_claims`` and the raw value."""

    allowed: bool
    trust_claims: Mapping[str, int]
    value: Any
    why: str = ""


def decide(value: Any) -> RegoDecision:
    """Apply the decision rule (module docstring) to the query's value."""
    if not isinstance(value, dict):
        raise ConfigurationError(
            "rego: the query gave no object (is the package 'policy'?)",
            reason=Reason.INVALID_POLICY,
        )
    if "allow" not in value and "trust_claims" not in value:
        raise ConfigurationError(
            "rego: the policy defines neither allow nor trust_claims",
            reason=Reason.INVALID_POLICY,
        )
    claims_raw = value.get("trust_claims", {})
    if not isinstance(claims_raw, dict):
        raise ConfigurationError(
            "rego: trust_claims is not an object", reason=Reason.INVALID_POLICY
        )
    claims: dict[str, int] = {}
    for name, v in claims_raw.items():
        if name not in CLAIM_NAMES or not isinstance(v, int) or isinstance(v, bool):
            raise ConfigurationError(
                f"rego: trust_claims.{name}: not an AR4SI claim with an integer value",
                reason=Reason.INVALID_POLICY,
            )
        if not -128 <= v <= 127:
            raise ConfigurationError(
                f"rego: trust_claims.{name}: {v} outside -128..127", reason=Reason.INVALID_POLICY
            )
        claims[name] = v
    if "allow" in value and value["allow"] is not True:
        return RegoDecision(False, claims, value, "allow is not true")
    bad = sorted(n for n, v in claims.items() if tier(v) == "contraindicated")
    if bad:
        return RegoDecision(False, claims, value, f"contraindicated: {', '.join(bad)}")
    if "allow" not in value and ear_status(claims) not in ("affirming", "warning"):
        # trustee refuses to issue a token when no trust claim is set; an empty or all-"none"
        # vector affirms nothing, so without an explicit allow it is not an acceptance
        return RegoDecision(False, claims, value, "no trust claim affirms anything")
    return RegoDecision(True, claims, value)


def check_rego(
    result: VerificationResult,
    policy_text: str,
    *,
    query: str = "data.policy",
    data: Mapping[str, Any] | None = None,
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
) -> RegoDecision:
    """Evaluate a Rego policy over an accepted result; raise PolicyRejected when it says no.

    The raised error has reason ``rego_rejected`` and ``.result`` = the result with an
    extra failed ``rego`` rule (``accepted`` false). A result that is not accepted is a
    ConfigurationError: Rego can add rejections, never turn one into an "allowed".
    """
    if not result.accepted:
        raise ConfigurationError(
            "check_rego: the result was already rejected", reason=Reason.INVALID_ARGUMENT
        )
    value = evaluate_rego(
        policy_text,
        trustee_input(
            result, runtime_data_claims=runtime_data_claims, init_data_claims=init_data_claims
        ),
        query=query,
        data=data,
    )
    decision = decide(value)
    if not decision.allowed:
        verdict = RuleVerdict(
            "rego",
            False,
            f"Rego policy rejected: {decision.why}",
            reason=Reason.REGO_REJECTED,
            actual=to_jsonable(dict(decision.trust_claims)),
        )
        rejected = dataclasses.replace(
            result, accepted=False, reason=Reason.REGO_REJECTED, policy=(*result.policy, verdict)
        )
        err = PolicyRejected(verdict.message, reason=Reason.REGO_REJECTED)
        err.result = rejected
        raise err
    return decision
