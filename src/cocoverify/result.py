"""Immutable results of verification."""

from __future__ import annotations

import dataclasses
import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar

from cocoverify.reasons import Reason

__all__ = ["Appraisal", "RuleVerdict", "VerificationResult", "freeze", "to_jsonable"]

T = TypeVar("T")


def freeze(value: Any) -> Any:
    """Deep-freeze dicts into read-only mappings and lists into tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return value


def to_jsonable(value: Any) -> Any:
    """Convert claims to JSON types: bytes as lower-case hex, datetimes as ISO 8601 Z."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | frozenset | set):
        items = [to_jsonable(v) for v in value]
        return sorted(items) if isinstance(value, frozenset | set) else items
    if isinstance(value, _dt.datetime):
        return format_time(value)
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def format_time(t: _dt.datetime) -> str:
    """ISO 8601 in UTC with a ``Z`` suffix."""
    return t.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class RuleVerdict:
    """One policy rule's outcome, with the values it compared."""

    rule: str
    passed: bool
    message: str = ""
    reason: Reason | None = None
    expected: Any = None
    actual: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"rule": self.rule, "passed": self.passed}
        if self.message:
            out["message"] = self.message
        if self.reason is not None:
            out["reason"] = self.reason.value
        if self.expected is not None:
            out["expected"] = to_jsonable(self.expected)
        if self.actual is not None:
            out["actual"] = to_jsonable(self.actual)
        return out


@dataclass(frozen=True, slots=True)
class Appraisal:
    """What a vendor pipeline hands to the policy stage: authenticated facts only.

    ``tcb_error`` is set when the TCB could not be appraised against authentic collateral
    (for Intel: no TCB level matches); the policy stage turns it into a rejection.
    ``report_data`` / ``init_data`` are the evidence fields that nonce and init-data
    bindings compare against.
    """

    tee: str
    claims: Mapping[str, Any]
    tcb_status: str | None = None
    advisory_ids: tuple[str, ...] = ()
    tcb_date: _dt.datetime | None = None
    tcb_error: Reason | None = None
    collateral: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()
    report_data: bytes | None = None
    init_data: bytes | None = None
    debug: bool = False
    #: (claims, static part, body bytes but report_data): set by a pipeline whose claims are
    #: a function of these, so that policy verdicts can be reused (``api.py``); not data
    policy_key: tuple[object, object, bytes] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """The outcome of :func:`cocoverify.verify`.

    ``verify()`` returns a result only when ``accepted`` is true; a rejected result
    travels on the raised error's ``.result``.
    """

    accepted: bool
    tee: str
    verified_at: _dt.datetime
    reason: Reason | None = None
    tcb_status: str | None = None
    advisory_ids: tuple[str, ...] = ()
    tcb_date: _dt.datetime | None = None
    claims: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    collateral: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    warnings: tuple[str, ...] = ()
    policy: tuple[RuleVerdict, ...] = ()

    @classmethod
    def from_appraisal(
        cls,
        appraisal: Appraisal,
        *,
        at: _dt.datetime,
        verdicts: tuple[RuleVerdict, ...] = (),
        reason: Reason | None = None,
    ) -> VerificationResult:
        """Build a result from an appraisal and the policy verdicts."""
        if cls is VerificationResult:  # every field, in order (``fast_constructor``)
            return _new_result(
                reason is None,
                appraisal.tee,
                at,
                reason,
                appraisal.tcb_status,
                appraisal.advisory_ids,
                appraisal.tcb_date,
                appraisal.claims,
                appraisal.collateral,
                appraisal.warnings,
                verdicts,
            )
        return cls(
            accepted=reason is None,
            tee=appraisal.tee,
            verified_at=at,
            reason=reason,
            tcb_status=appraisal.tcb_status,
            advisory_ids=appraisal.advisory_ids,
            tcb_date=appraisal.tcb_date,
            claims=appraisal.claims,
            collateral=appraisal.collateral,
            warnings=appraisal.warnings,
            policy=verdicts,
        )

    def failed_rules(self) -> tuple[RuleVerdict, ...]:
        """The policy rules that did not pass."""
        return tuple(v for v in self.policy if not v.passed)

    def to_dict(self) -> dict[str, Any]:
        """Stable JSON form (docs/result.md)."""
        return {
            "accepted": self.accepted,
            "tee": self.tee,
            "reason": self.reason.value if self.reason is not None else None,
            "tcb_status": self.tcb_status,
            "advisory_ids": list(self.advisory_ids),
            "tcb_date": format_time(self.tcb_date) if self.tcb_date else None,
            "verified_at": format_time(self.verified_at),
            "claims": to_jsonable(self.claims),
            "collateral": to_jsonable(self.collateral),
            "warnings": list(self.warnings),
            "policy": [v.to_dict() for v in self.policy],
        }


def fast_constructor(cls: type[T]) -> Callable[..., T]:
    """A constructor of the frozen, slotted dataclass ``cls`` taking every field
    positionally, in declaration order, that sets the slots directly: the object equals
    what ``cls(...)`` builds, at about a third of the cost (no keyword parsing, no
    ``object.__setattr__`` per field). For the per-verification hot path only; ``cls`` must
    have no ``__post_init__``. A wrong number of values raises ValueError."""
    assert not hasattr(cls, "__post_init__")
    setters = tuple(cls.__dict__[f.name].__set__ for f in dataclasses.fields(cls))  # type: ignore[arg-type]
    # one straight-line function per class, as ``dataclasses`` writes ``__init__``: half the
    # time of a loop over the setters; the source holds nothing but names and the count
    n = len(setters)
    names = ", ".join(f"v{i}" for i in range(n))
    lines = [
        "def make(*values):",
        f"    if len(values) != {n}:",
        f"        raise ValueError(f'{{len(values)}} values for {n} fields')",
        f"    {names}, = values",
        "    obj = new(cls)",
        *(f"    s{i}(obj, v{i})" for i in range(n)),
        "    return obj",
    ]
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    scope.update({f"s{i}": setter for i, setter in enumerate(setters)})
    exec("\n".join(lines), scope)
    make: Callable[..., T] = scope["make"]
    return make


#: ``Appraisal(...)`` with every field positionally (``fast_constructor``).
new_appraisal: Callable[..., Appraisal] = fast_constructor(Appraisal)
_new_result: Callable[..., VerificationResult] = fast_constructor(VerificationResult)


def with_evidence_field(
    a: Appraisal, claims: Mapping[str, Any], report_data: bytes, static: object
) -> Appraisal:
    """``a`` with other ``claims`` and ``report_data``, everything else as is, for a warm
    path whose evidence differs from ``a``'s only in its nonce field. ``static`` is the warm
    entry all else comes from: the policy may reuse verdicts through it (``policy_key``)."""
    return new_appraisal(  # Appraisal's fields, in order
        a.tee,
        claims,
        a.tcb_status,
        a.advisory_ids,
        a.tcb_date,
        a.tcb_error,
        a.collateral,
        a.warnings,
        report_data,
        a.init_data,
        a.debug,
        (claims, static, b""),
    )
