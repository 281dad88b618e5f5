"""Appraisal policy: one document for every TEE, secure by default.

A :class:`Policy` says which TCB statuses and advisories are acceptable, whether debug
evidence may pass (never by default), and per TEE which measurements are allowed. An
empty policy accepts only ``UpToDate`` non-debug evidence and pins no measurement.
Anything permissive is spelled ``unsafe_*``. Load from JSON or YAML with
:meth:`Policy.from_file`; unknown keys and bad values raise ``ConfigurationError``
(reason ``invalid_policy``) naming the key.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cocoverify import registry
from cocoverify._core.io import MAX_NESTING, POLICY_LIMIT, nesting_depth, read_capped
from cocoverify._core.rules import binding_rule, opt_int, reject_unknown_keys, rule_min
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.policy.files import locate, parse_document
from cocoverify.result import Appraisal, RuleVerdict
from cocoverify.tee.cca.policy import CcaPolicy
from cocoverify.tee.intel.policy import SgxPolicy, TdxPolicy
from cocoverify.tee.snp.policy import SnpPolicy

__all__ = ["INTEL_TCB_STATUSES", "CcaPolicy", "Policy", "SgxPolicy", "SnpPolicy", "TdxPolicy"]

log = logging.getLogger("cocoverify.policy")

#: Policy sections by their key in the document (one per ``tee`` value), from the registry.
_cache: dict[int, dict[str, Any]] = {}


def section_classes() -> dict[str, Any]:
    """Policy section classes by document key, read from the registry (cached per registry)."""
    key = id(registry.TEES)
    if key not in _cache:
        _cache.clear()
        _cache[key] = registry.policy_sections()
    return _cache[key]


def tcb_statuses() -> frozenset[str]:
    """Every TCB status a TEE's appraisal can yield (Intel's spelling for SGX/TDX)."""
    return frozenset().union(*(spec.tcb_statuses for spec in registry.TEES))


#: The TCB statuses a policy may accept, as of import (use :func:`tcb_statuses`).
INTEL_TCB_STATUSES: frozenset[str] = tcb_statuses()

_COMMON_KEYS = (
    "accepted_tcb_statuses",
    "allowed_advisory_ids",
    "denied_advisory_ids",
    "unsafe_allow_debug",
    "unsafe_accept_revoked",
    "allowed_tees",
    "require_crl",
    "min_tcb_evaluation_data_number",
    "out_of_date_grace_days",
    "max_collateral_age_days",
)


def _str_set(where: str, value: Any) -> frozenset[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple | frozenset | set) or not all(
        isinstance(v, str) for v in value
    ):
        raise ConfigurationError(
            f"{where}: expected a list of strings", reason=Reason.INVALID_POLICY
        )
    return frozenset(value)


def _bool(where: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigurationError(f"{where}: expected true or false", reason=Reason.INVALID_POLICY)
    return value


@dataclass(frozen=True, slots=True, init=False)
class Policy:
    """The appraisal policy. Immutable and validated when built.

    Common knobs are attributes; each TEE's section is ``policy.<tee>`` (``policy.tdx``),
    built from the registry: ``Policy(tdx=TdxPolicy(...))``.
    """

    accepted_tcb_statuses: frozenset[str] = frozenset({"UpToDate"})
    allowed_advisory_ids: frozenset[str] | None = None
    denied_advisory_ids: frozenset[str] = frozenset()
    unsafe_allow_debug: bool = False
    unsafe_accept_revoked: bool = False
    allowed_tees: frozenset[str] | None = None
    require_crl: bool = False
    min_tcb_evaluation_data_number: int | None = None
    out_of_date_grace_days: int | None = None
    max_collateral_age_days: int | None = None
    sections: tuple[tuple[str, Any], ...] = ()
    #: derived once when built (the policy is immutable): sections by key, the TEEs it pins,
    #: and the wrapper sections that decide for themselves whether they apply
    _by_key: Any = field(init=False, default=None, compare=False, repr=False)
    _pinned: tuple[str, ...] = field(init=False, default=(), compare=False, repr=False)
    _wrapping: tuple[tuple[str, Any], ...] = field(
        init=False, default=(), compare=False, repr=False
    )

    def __init__(
        self,
        *,
        accepted_tcb_statuses: frozenset[str] = frozenset({"UpToDate"}),
        allowed_advisory_ids: frozenset[str] | None = None,
        denied_advisory_ids: frozenset[str] = frozenset(),
        unsafe_allow_debug: bool = False,
        unsafe_accept_revoked: bool = False,
        allowed_tees: frozenset[str] | None = None,
        require_crl: bool = False,
        min_tcb_evaluation_data_number: int | None = None,
        out_of_date_grace_days: int | None = None,
        max_collateral_age_days: int | None = None,
        sections: tuple[tuple[str, Any], ...] = (),
        **by_name: Any,
    ) -> None:
        given = {**dict(sections), **by_name}  # dataclasses.replace() passes ``sections``
        known = section_classes()
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise TypeError(f"Policy: unknown section {unknown[0]!r}")
        for key, cls in known.items():
            if key in given and not isinstance(given[key], cls):
                raise TypeError(f"Policy: {key} must be a {cls.__name__}")
        values = {
            "accepted_tcb_statuses": accepted_tcb_statuses,
            "allowed_advisory_ids": allowed_advisory_ids,
            "denied_advisory_ids": denied_advisory_ids,
            "unsafe_allow_debug": unsafe_allow_debug,
            "unsafe_accept_revoked": unsafe_accept_revoked,
            "allowed_tees": allowed_tees,
            "require_crl": require_crl,
            "min_tcb_evaluation_data_number": min_tcb_evaluation_data_number,
            "out_of_date_grace_days": out_of_date_grace_days,
            "max_collateral_age_days": max_collateral_age_days,
            "sections": tuple((k, given.get(k) or cls()) for k, cls in known.items()),
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)
        built: tuple[tuple[str, Any], ...] = self.sections
        object.__setattr__(self, "_by_key", MappingProxyType(dict(built)))
        object.__setattr__(
            self,
            "_pinned",
            tuple(t for t, sec in built if not hasattr(sec, "applies") and sec.to_dict()),
        )
        object.__setattr__(
            self, "_wrapping", tuple((k, sec) for k, sec in built if hasattr(sec, "applies"))
        )
        self._validate()

    def __getattr__(self, name: str) -> Any:
        for key, section in object.__getattribute__(self, "sections"):
            if key == name:
                return section
        raise AttributeError(name)

    def replace(self, **changes: Any) -> Policy:
        """A copy with some knobs or sections changed (``policy.replace(snp=...)``)."""
        kwargs: dict[str, Any] = {
            name: getattr(self, name)
            for name, f in self.__dataclass_fields__.items()
            if f.init and name != "sections"
        }
        kwargs.update(dict(self.sections))
        kwargs.update(changes)
        return Policy(**kwargs)

    def section(self, tee: str) -> Any:
        """The policy section for evidence of ``tee`` (``"sgx"``, ``"snp"``, ...)."""
        return self._by_key[tee]

    def _validate(self) -> None:
        statuses = tcb_statuses()
        unknown = set(self.accepted_tcb_statuses) - statuses
        if unknown:
            raise ConfigurationError(
                f"accepted_tcb_statuses: unknown status {sorted(unknown)[0]!r} "
                f"(known: {', '.join(sorted(statuses))})",
                reason=Reason.INVALID_POLICY,
            )
        if not self.accepted_tcb_statuses:
            raise ConfigurationError(
                "accepted_tcb_statuses: empty; nothing could pass", reason=Reason.INVALID_POLICY
            )
        if "Revoked" in self.accepted_tcb_statuses and not self.unsafe_accept_revoked:
            raise ConfigurationError(
                "accepted_tcb_statuses: Revoked is only accepted with unsafe_accept_revoked: true",
                reason=Reason.INVALID_POLICY,
            )
        tees = tuple(section_classes())
        if self.allowed_tees is not None and not set(self.allowed_tees) <= set(tees):
            raise ConfigurationError(
                f"allowed_tees: unknown TEE in {sorted(self.allowed_tees)} "
                f"(known: {', '.join(tees)})",
                reason=Reason.INVALID_POLICY,
            )
        if self.unsafe_allow_debug:
            log.warning("policy: unsafe_allow_debug is set; debug evidence can be accepted")
        if self.unsafe_accept_revoked:
            log.warning("policy: unsafe_accept_revoked is set; revoked TCBs can be accepted")

    @classmethod
    def default(cls) -> Policy:
        """The secure default: UpToDate only, debug rejected, no measurement pinned."""
        return cls()

    @classmethod
    def from_dict(cls, data: Any) -> Policy:
        """Build from a mapping (the file form); unknown keys are errors."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ConfigurationError("policy: expected a mapping", reason=Reason.INVALID_POLICY)
        reject_unknown_keys("", data, (*_COMMON_KEYS, *section_classes()))
        kwargs: dict[str, Any] = {}
        if "accepted_tcb_statuses" in data:
            kwargs["accepted_tcb_statuses"] = _str_set(
                "accepted_tcb_statuses", data["accepted_tcb_statuses"]
            )
        if data.get("allowed_advisory_ids") is not None:
            kwargs["allowed_advisory_ids"] = _str_set(
                "allowed_advisory_ids", data["allowed_advisory_ids"]
            )
        if "denied_advisory_ids" in data:
            kwargs["denied_advisory_ids"] = _str_set(
                "denied_advisory_ids", data["denied_advisory_ids"]
            )
        for key in ("unsafe_allow_debug", "unsafe_accept_revoked", "require_crl"):
            if key in data:
                kwargs[key] = _bool(key, data[key])
        if data.get("allowed_tees") is not None:
            kwargs["allowed_tees"] = _str_set("allowed_tees", data["allowed_tees"])
        for key in (
            "min_tcb_evaluation_data_number",
            "out_of_date_grace_days",
            "max_collateral_age_days",
        ):
            if key in data:
                kwargs[key] = opt_int(key, data[key])
        for key, section in section_classes().items():
            if key in data:
                value = data[key]
                if not isinstance(value, dict):
                    raise ConfigurationError(
                        f"{key}: expected a mapping", reason=Reason.INVALID_POLICY
                    )
                kwargs[key] = section.from_dict(key, value)
        return cls(**kwargs)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Policy:
        """Load a JSON or YAML policy file."""
        try:
            text = read_capped(path, POLICY_LIMIT, kind="policy")  # docs/security.md
        except OSError as exc:
            raise ConfigurationError(
                f"{os.fspath(path)}: {exc.strerror}", reason=Reason.INVALID_POLICY
            ) from None
        source = os.fspath(path)
        if nesting_depth(text, stop_above=MAX_NESTING) > MAX_NESTING:
            raise ConfigurationError(
                f"{source}: nested deeper than {MAX_NESTING} levels", reason=Reason.INVALID_POLICY
            )
        try:
            return cls.from_dict(parse_document(text, source))
        except RecursionError:  # YAML block nesting (indentation) deeper than Python's stack
            raise ConfigurationError(
                f"{source}: nested too deeply", reason=Reason.INVALID_POLICY
            ) from None
        except ConfigurationError as exc:
            message = str(exc.args[0])
            if message.startswith(source):
                raise
            line = locate(text, message.split(":", 1)[0])
            where = f"{source}:{line}" if line else source
            raise ConfigurationError(f"{where}: {message}", reason=exc.reason, line=line) from None

    def to_dict(self) -> dict[str, Any]:
        """The file form (round-trips through :meth:`from_dict`)."""
        out: dict[str, Any] = {
            "accepted_tcb_statuses": sorted(self.accepted_tcb_statuses),
            "denied_advisory_ids": sorted(self.denied_advisory_ids),
            "unsafe_allow_debug": self.unsafe_allow_debug,
            "require_crl": self.require_crl,
        }
        if self.allowed_advisory_ids is not None:
            out["allowed_advisory_ids"] = sorted(self.allowed_advisory_ids)
        if self.unsafe_accept_revoked:
            out["unsafe_accept_revoked"] = True
        if self.allowed_tees is not None:
            out["allowed_tees"] = sorted(self.allowed_tees)
        for key in (
            "min_tcb_evaluation_data_number",
            "out_of_date_grace_days",
            "max_collateral_age_days",
        ):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        for key, value in self.sections:
            section = value.to_dict()
            if section:
                out[key] = section
        return out

    def evaluate(
        self,
        appraisal: Appraisal,
        *,
        at: _dt.datetime | None = None,
        expected_report_data: bytes | None = None,
        expected_init_data: bytes | None = None,
    ) -> tuple[RuleVerdict, ...]:
        """Every rule's verdict for this appraisal (in a fixed order)."""
        verdicts: list[RuleVerdict] = [self._tee_rule(appraisal.tee)]
        verdicts.extend(self._tcb_rules(appraisal, at))
        verdicts.extend(self._collateral_rules(appraisal, at))
        if appraisal.debug:
            if self.unsafe_allow_debug:
                verdicts.append(
                    RuleVerdict("debug", True, "debug allowed by unsafe_allow_debug", actual=True)
                )
            else:
                verdicts.append(
                    RuleVerdict(
                        "debug",
                        False,
                        "debug mode is enabled",
                        reason=Reason.DEBUG_ENABLED,
                        expected=False,
                        actual=True,
                    )
                )
        else:
            verdicts.append(RuleVerdict("debug", True, actual=False))
        if expected_report_data is not None:
            verdicts.append(
                binding_rule(
                    "report_data",
                    appraisal.report_data,
                    expected_report_data,
                    Reason.REPORT_DATA_MISMATCH,
                )
            )
        if expected_init_data is not None:
            verdicts.append(
                binding_rule(
                    "init_data", appraisal.init_data, expected_init_data, Reason.INIT_DATA_MISMATCH
                )
            )
        own = self._by_key.get(appraisal.tee)
        if own is not None:
            verdicts.extend(own.rules(appraisal))
        for key, section in self._wrapping:  # wrapper sections (registry.WRAPPER_POLICY_SECTIONS)
            if key != appraisal.tee and section.applies(appraisal):
                verdicts.extend(section.rules(appraisal))
        return tuple(verdicts)

    def _tee_rule(self, tee: str) -> RuleVerdict:
        """Which TEEs may pass: ``allowed_tees``, or else the TEEs the policy pins.

        A policy that pins measurements for some TEEs only must not accept evidence of
        another TEE for which it states nothing (an SGX-only policy accepting any TDX quote).
        """
        if self.allowed_tees is not None:
            allowed = sorted(self.allowed_tees)
            why = "allowed_tees"
        else:
            pinned = list(self._pinned)
            if not pinned or tee in pinned:
                return RuleVerdict("tee", True, actual=tee)
            allowed, why = pinned, "the policy pins measurements only for these (set allowed_tees)"
        if tee in allowed:
            return RuleVerdict("tee", True, expected=allowed, actual=tee)
        return RuleVerdict(
            "tee",
            False,
            f"{tee} evidence is not accepted: {why}: {allowed}",
            reason=Reason.POLICY_REJECTED,
            expected=allowed,
            actual=tee,
        )

    def _collateral_rules(self, a: Appraisal, at: _dt.datetime | None) -> list[RuleVerdict]:
        out: list[RuleVerdict] = []
        facts = a.collateral
        if (
            self.min_tcb_evaluation_data_number is not None
            and "tcb_evaluation_data_number" in facts
        ):
            numbers = [
                int(facts[k])
                for k in ("tcb_evaluation_data_number", "qe_identity_evaluation_data_number")
                if k in facts
            ]
            v = rule_min(
                "min_tcb_evaluation_data_number",
                min(numbers),
                self.min_tcb_evaluation_data_number,
                reason=Reason.COLLATERAL_TOO_OLD,
            )
            if v is not None:
                out.append(v)
        if self.max_collateral_age_days is not None and at is not None:
            issued = [
                facts[k]
                for k in ("tcb_info_issue_date", "qe_identity_issue_date")
                if isinstance(facts.get(k), _dt.datetime)
            ]
            if issued:
                age = at - min(issued)
                limit = _dt.timedelta(days=self.max_collateral_age_days)
                days = round(age.total_seconds() / 86400, 2)
                if age <= limit:
                    out.append(
                        RuleVerdict(
                            "max_collateral_age_days",
                            True,
                            expected=self.max_collateral_age_days,
                            actual=days,
                        )
                    )
                else:
                    out.append(
                        RuleVerdict(
                            "max_collateral_age_days",
                            False,
                            f"collateral issued {days} days before the "
                            f"verification time, maximum {self.max_collateral_age_days}",
                            reason=Reason.COLLATERAL_TOO_OLD,
                            expected=self.max_collateral_age_days,
                            actual=days,
                        )
                    )
        return out

    def _grace(self, a: Appraisal, at: _dt.datetime | None) -> bool:
        """OutOfDate within ``out_of_date_grace_days`` of the matched level's tcbDate."""
        if self.out_of_date_grace_days is None or at is None or a.tcb_date is None:
            return False
        if a.tcb_status not in ("OutOfDate", "OutOfDateConfigurationNeeded"):
            return False
        return at <= a.tcb_date + _dt.timedelta(days=self.out_of_date_grace_days)

    def _tcb_rules(self, a: Appraisal, at: _dt.datetime | None) -> list[RuleVerdict]:
        out: list[RuleVerdict] = []
        if a.tcb_error is not None:
            out.append(
                RuleVerdict(
                    "tcb_status",
                    False,
                    "no TCB level of the collateral matches this platform",
                    reason=a.tcb_error,
                )
            )
            return out
        if a.tcb_status is None:
            return out
        if a.tcb_status in self.accepted_tcb_statuses:
            out.append(RuleVerdict("tcb_status", True, actual=a.tcb_status))
        elif self._grace(a, at):
            out.append(
                RuleVerdict(
                    "tcb_status",
                    True,
                    f"{a.tcb_status} accepted within the "
                    f"{self.out_of_date_grace_days}-day grace period from tcbDate",
                    actual=a.tcb_status,
                )
            )
        else:
            out.append(
                RuleVerdict(
                    "tcb_status",
                    False,
                    f"TCB status was {a.tcb_status}, allowed: {sorted(self.accepted_tcb_statuses)}",
                    reason=Reason.TCB_STATUS_REJECTED,
                    expected=sorted(self.accepted_tcb_statuses),
                    actual=a.tcb_status,
                )
            )
        denied = sorted(set(a.advisory_ids) & self.denied_advisory_ids)
        if denied:
            out.append(
                RuleVerdict(
                    "denied_advisory_ids",
                    False,
                    f"denied advisories: {denied}",
                    reason=Reason.ADVISORY_REJECTED,
                    expected=[],
                    actual=denied,
                )
            )
        if self.allowed_advisory_ids is not None:
            extra = sorted(set(a.advisory_ids) - self.allowed_advisory_ids)
            if extra:
                out.append(
                    RuleVerdict(
                        "allowed_advisory_ids",
                        False,
                        f"advisories not allowed: {extra}",
                        reason=Reason.ADVISORY_REJECTED,
                        expected=sorted(self.allowed_advisory_ids),
                        actual=extra,
                    )
                )
            else:
                out.append(RuleVerdict("allowed_advisory_ids", True, actual=list(a.advisory_ids)))
        return out
