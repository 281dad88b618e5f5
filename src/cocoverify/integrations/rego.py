"""Optional OPA Rego policies over verified claims, with trustee's input shape (docs/ear.md).

Install the extra: ``pip install cocoverify[rego]`` (``regopy``, Microsoft's rego-cpp).
The input is trustee's annotated-evidence object (``attestation-service/src/ear_token``,
``transform_claims``), and trustee's built-in ``query_reference_value(id)`` is provided from a
:class:`~cocoverify.integrations.reference.ReferenceValues` store (the same values are
``data.reference``), so an attestation-service policy (``package policy``, ``trust_claims``,
``extensions``) runs unchanged::

    rv = load_reference_values("reference-values.json")
    decision = check_rego(result, policy_text, reference_values=rv)  # PolicyRejected on "no"
    decision.trust_vector, decision.status                            # as trustee's AS derives

Decision rule: the query (default ``data.policy``) must give an object defining ``allow``
or ``trust_claims``. It allows when ``allow`` (if defined) is exactly ``true`` and the
``ear.status`` trustee's attestation service derives from ``trust_claims`` (if defined) is
``affirming`` -- what trustee's KBS ``affirming.rego`` requires. ``trust_claims`` keys must
be AR4SI claim names with integer values, ``extensions`` a list of ``{name, key, value}``,
as trustee reads them; anything else is a configuration error (fail closed).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from cocoverify.collateral import Collateral
from cocoverify.errors import ConfigurationError, PolicyRejected, Reason
from cocoverify.integrations.ear.token import annotated_evidence
from cocoverify.integrations.ear.vector import CLAIM_NAMES, ear_status
from cocoverify.integrations.reference import ReferenceValues, load_reference_values
from cocoverify.result import RuleVerdict, VerificationResult, to_jsonable
from cocoverify.trust import TrustStore

__all__ = [
    "ReferenceValues",
    "RegoDecision",
    "check_rego",
    "decide",
    "evaluate_policy",
    "evaluate_rego",
    "load_reference_values",
    "reject",
    "trustee_input",
]

_PACKAGE = re.compile(r"^[ \t]*package[ \t]+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", re.M | re.A)
_DEFINES_QRV = re.compile(r"^[ \t]*query_reference_value[ \t]*\(", re.M)
_ERRORMSG = re.compile(r"\(errormsg \d+:([^\n]*)\)")

#: trustee's RVPS built-in as Rego: the value under ``id``, null when absent (broker.rs).
_REFERENCE_MODULE = (
    "package {package}\n\nquery_reference_value(id) := object.get(data.reference, id, null)\n"
)


def _engine() -> ModuleType:
    # loaded on first use: regopy is an optional dependency (the ``rego`` extra)
    try:
        return importlib.import_module("regopy")
    except ImportError:
        raise ConfigurationError(
            "Rego policies need the optional engine: pip install 'cocoverify[rego]'",
            reason=Reason.INVALID_CONFIGURATION,
        ) from None


def _invalid(message: str) -> ConfigurationError:
    return ConfigurationError(f"rego: {message}", reason=Reason.INVALID_POLICY)


def _error_text(interp: Any, query: str) -> str:
    """rego-cpp's own message for a failed query (regopy hands its error report to json)."""
    try:
        rego_query = importlib.import_module("regopy.interpreter").rego_query
        output = importlib.import_module("regopy.output")
        rego_output_string, rego_free_output = output.rego_output_string, output.rego_free_output
        impl = rego_query(interp._impl, query)
        try:
            text = str(rego_output_string(impl))
        finally:
            rego_free_output(impl)
    except Exception:  # best effort: the message only
        return ""
    match = _ERRORMSG.search(text)
    return match.group(1).strip() if match else ""


def trustee_input(
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
    """The Rego ``input`` trustee's AS gives its policies (the annotated evidence).

    For SGX/TDX pass the quote as ``evidence`` (with ``collateral``/``trust``) to include the
    supplemental claims that need the collateral items, as ``trustee.evaluate`` emits them.
    """
    return annotated_evidence(
        result,
        runtime_data_claims=runtime_data_claims,
        init_data_claims=init_data_claims,
        claims=claims,
        evidence=evidence,
        collateral=collateral,
        trust=trust,
        verbose=verbose,
    )


def _data(
    data: Mapping[str, Any] | None,
    reference_values: ReferenceValues | Mapping[str, Any] | list[Any] | None,
    at: _dt.datetime | None,
) -> dict[str, Any]:
    out: dict[str, Any] = dict(data) if data is not None else {}
    if reference_values is not None:
        if "reference" in out:
            raise ConfigurationError(
                "rego: give reference values either as reference_values or as "
                "data['reference'], not both",
                reason=Reason.INVALID_ARGUMENT,
            )
        out["reference"] = load_reference_values(reference_values).document(at)
    out.setdefault("reference", {})
    return out


def evaluate_rego(
    policy_text: str,
    input: Mapping[str, Any],  # Rego's own name for it
    *,
    query: str = "data.policy",
    data: Mapping[str, Any] | None = None,
    reference_values: ReferenceValues | Mapping[str, Any] | list[Any] | None = None,
    at: _dt.datetime | None = None,
) -> Any:
    """Evaluate ``query`` over one Rego module; the JSON value, or None when undefined.

    ``query_reference_value(id)`` is defined in the module's package (unless the module
    defines it) and returns ``data.reference[id]`` or null, like trustee's RVPS built-in;
    ``data.reference`` holds ``reference_values`` (current at ``at``). Anything the engine
    cannot evaluate -- a module that does not compile, conflicting values, an unknown
    function, input it cannot take -- is a ConfigurationError with reason ``invalid_policy``.
    """
    if not isinstance(policy_text, str):
        raise ConfigurationError("rego: the policy must be text", reason=Reason.INVALID_ARGUMENT)
    regopy = _engine()
    try:
        # as JSON text: the engine reads 64-bit and larger integers exactly from text only
        data_text = json.dumps(to_jsonable(_data(data, reference_values, at)), allow_nan=False)
        input_text = json.dumps(to_jsonable(input), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ConfigurationError(
            f"rego: the input or data is not JSON ({exc})", reason=Reason.INVALID_ARGUMENT
        ) from None
    interp = regopy.Interpreter()
    try:
        interp.log_level = regopy.LogLevel.NONE  # rego-cpp prints errors on stdout otherwise
        interp.add_module("policy.rego", policy_text)
        package = _PACKAGE.search(policy_text)
        if package is not None and not _DEFINES_QRV.search(policy_text):
            module = _REFERENCE_MODULE.format(package=package.group(1))
            interp.add_module("cocoverify_reference_values.rego", module)
        interp.add_data_json(data_text)
        interp.set_input_term(input_text)
    except regopy.RegoError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "error"
        raise _invalid(first) from None
    except Exception as exc:  # the engine's bindings raise plain errors for input it refuses
        why = type(exc).__name__
        raise _invalid(f"the engine refused the policy or its input ({why})") from None
    try:
        out = interp.query(query)
    except regopy.RegoError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "error"
        raise _invalid(first) from None
    except Exception:  # regopy decodes rego-cpp's error report as JSON and fails
        detail = _error_text(interp, query)
        raise _invalid(f"evaluating {query} failed" + (f": {detail}" if detail else "")) from None
    if not out.ok():
        raise _invalid(f"evaluating {query} failed")
    results = out.results
    if not results or not results[0].expressions:
        return None
    return results[0].expressions[0]


@dataclass(frozen=True, slots=True)
class RegoDecision:
    """What a Rego policy said, and the appraisal trustee's attestation service makes of it.

    ``trust_claims`` are the policy's claims as it gave them; ``trust_vector`` is the EAR
    vector trustee builds (the set claims in AR4SI order; None without ``trust_claims``) and
    ``status`` its ``ear.status``; ``extensions`` are the ``{name, key, value}`` entries for the
    EAR; ``input`` is the annotated evidence the policy saw (None for :func:`decide`).
    """

    allowed: bool
    trust_claims: Mapping[str, int]
    value: Any
    why: str = ""
    status: str | None = None
    trust_vector: Mapping[str, int] | None = None
    extensions: tuple[Mapping[str, Any], ...] = ()
    input: Mapping[str, Any] | None = None


def _trust_claims(value: Mapping[str, Any]) -> dict[str, int]:
    raw = value.get("trust_claims", {})
    if not isinstance(raw, dict):
        raise _invalid("trust_claims is not an object")  # broker.rs: "not an object"
    claims: dict[str, int] = {}
    for name, v in raw.items():
        # broker.rs: the name must be an AR4SI claim (mut_by_name), the value an integer
        if name not in CLAIM_NAMES or not isinstance(v, int) or isinstance(v, bool):
            raise _invalid(f"trust_claims.{name}: not an AR4SI claim with an integer value")
        if not -128 <= v <= 127:  # trustee casts to i8 (wrapping); refused here
            raise _invalid(f"trust_claims.{name}: {v} outside -128..127")
        claims[name] = v
    return claims


def _extensions(value: Mapping[str, Any]) -> tuple[dict[str, Any], ...]:
    raw = value.get("extensions")
    if raw is None:
        return ()  # broker.rs: an undefined extensions rule is []
    if not isinstance(raw, list):
        raise _invalid("extensions is not a list of {name, key, value}")
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    keys: set[int] = set()
    for i, ext in enumerate(raw):
        if not isinstance(ext, dict) or not {"name", "key", "value"} <= set(ext):
            raise _invalid(f"extensions[{i}]: expected {{name, key, value}}")
        name, key = ext["name"], ext["key"]
        if not isinstance(name, str) or not isinstance(key, int) or isinstance(key, bool):
            raise _invalid(f"extensions[{i}]: name must be text and key an integer")
        if not -(2**31) <= key < 2**31:
            raise _invalid(f"extensions[{i}]: key {key} is not a 32-bit integer")
        if name in names or key in keys:  # ear Extensions::register refuses a second one
            raise _invalid(f"extensions[{i}]: name {name!r} or key {key} registered twice")
        names.add(name)
        keys.add(key)
        out.append({"name": name, "key": key, "value": ext["value"]})
    return tuple(out)


def decide(value: Any) -> RegoDecision:
    """Apply the decision rule (module docstring) to the query's value."""
    if not isinstance(value, dict):
        raise _invalid("the query gave no object (is the package 'policy'?)")
    if "allow" not in value and "trust_claims" not in value:
        raise _invalid("the policy defines neither allow nor trust_claims")
    claims = _trust_claims(value)
    extensions = _extensions(value)
    vector: dict[str, int] | None = None
    if claims:
        vector = {k: claims[k] for k in CLAIM_NAMES if k in claims}
    status = ear_status(vector) if vector is not None else None

    def decision(allowed: bool, why: str = "") -> RegoDecision:
        return RegoDecision(allowed, claims, value, why, status, vector, extensions)

    if "allow" in value and value["allow"] is not True:
        return decision(False, "allow is not true")
    if "trust_claims" in value:
        if vector is None:
            if "allow" not in value:
                # broker.rs: "At least one policy claim must be set" -- no token
                return decision(False, "no trust claim is set")
        elif status != "affirming":
            # trustee's KBS affirming.rego releases nothing unless every ear.status affirms
            return decision(False, f"ear.status is {status}, not affirming")
    return decision(True)


def evaluate_policy(
    result: VerificationResult,
    policy_text: str,
    *,
    query: str = "data.policy",
    data: Mapping[str, Any] | None = None,
    reference_values: ReferenceValues | Mapping[str, Any] | list[Any] | None = None,
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
    claims: Mapping[str, Any] | None = None,
    evidence: bytes | str | None = None,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
    verbose: bool = False,
) -> RegoDecision:
    """Run a policy over an accepted result as trustee's AS does; the decision, never raised.

    The input is :func:`trustee_input` (same keywords); reference values expire against the
    result's verification time. A result that is not accepted is a ConfigurationError: Rego
    can add rejections, never turn one into an "allowed".
    """
    if not result.accepted:
        raise ConfigurationError(
            "rego: the result was already rejected", reason=Reason.INVALID_ARGUMENT
        )
    inp = trustee_input(
        result,
        runtime_data_claims=runtime_data_claims,
        init_data_claims=init_data_claims,
        claims=claims,
        evidence=evidence,
        collateral=collateral,
        trust=trust,
        verbose=verbose,
    )
    value = evaluate_rego(
        policy_text,
        inp,
        query=query,
        data=data,
        reference_values=reference_values,
        at=result.verified_at,
    )
    return dataclasses.replace(decide(value), input=inp)


def reject(result: VerificationResult, decision: RegoDecision) -> PolicyRejected:
    """The PolicyRejected for a policy's "no": ``.result`` with a failed ``rego`` rule."""
    actual: dict[str, Any] = {"trust_claims": to_jsonable(dict(decision.trust_claims))}
    if decision.status is not None:
        actual["ear.status"] = decision.status
    verdict = RuleVerdict(
        "rego",
        False,
        f"Rego policy rejected: {decision.why}",
        reason=Reason.REGO_REJECTED,
        actual=actual,
    )
    rejected = dataclasses.replace(
        result, accepted=False, reason=Reason.REGO_REJECTED, policy=(*result.policy, verdict)
    )
    err = PolicyRejected(verdict.message, reason=Reason.REGO_REJECTED)
    err.result = rejected
    return err


def check_rego(
    result: VerificationResult,
    policy_text: str,
    *,
    query: str = "data.policy",
    data: Mapping[str, Any] | None = None,
    reference_values: ReferenceValues | Mapping[str, Any] | list[Any] | None = None,
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
    claims: Mapping[str, Any] | None = None,
    evidence: bytes | str | None = None,
    collateral: Collateral | None = None,
    trust: TrustStore | None = None,
    verbose: bool = False,
) -> RegoDecision:
    """Evaluate a Rego policy over an accepted result; raise PolicyRejected when it says no.

    The raised error has reason ``rego_rejected`` and ``.result`` = the result with an
    extra failed ``rego`` rule (``accepted`` false); :func:`evaluate_policy` is the same
    without raising.
    """
    decision = evaluate_policy(
        result,
        policy_text,
        query=query,
        data=data,
        reference_values=reference_values,
        runtime_data_claims=runtime_data_claims,
        init_data_claims=init_data_claims,
        claims=claims,
        evidence=evidence,
        collateral=collateral,
        trust=trust,
        verbose=verbose,
    )
    if not decision.allowed:
        raise reject(result, decision)
    return decision
