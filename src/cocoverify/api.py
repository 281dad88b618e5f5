"""The one entry point: parse -> authenticate -> appraise TCB -> evaluate policy -> result."""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cocoverify import registry
from cocoverify._core.text import decode_text
from cocoverify._core.time import parse_time
from cocoverify.collateral import Collateral, load_collateral
from cocoverify.errors import (
    ConfigurationError,
    EvidenceError,
    MeasurementMismatch,
    PolicyRejected,
    Reason,
    TcbRejected,
)
from cocoverify.policy import Policy
from cocoverify.result import Appraisal, RuleVerdict, VerificationResult
from cocoverify.trust import TrustStore
from cocoverify.wrappers import composite

if TYPE_CHECKING:
    from cocoverify.collateral.source import CollateralSource

__all__ = [
    "CollateralLike",
    "Verifier",
    "as_time",
    "averify",
    "error_for",
    "verify",
    "verify_composite",
]

CollateralLike = Collateral | Iterable[str | os.PathLike[str]] | None


def _as_collateral(value: CollateralLike) -> Collateral:
    if value is None:
        return Collateral()
    if isinstance(value, Collateral):
        return value
    if isinstance(value, str | os.PathLike):
        return load_collateral([value])
    return load_collateral(value)


def as_time(at: _dt.datetime | str | None) -> _dt.datetime:
    if at is None:
        return _dt.datetime.now(_dt.UTC)
    if isinstance(at, str):
        return parse_time(at)
    if not isinstance(at, _dt.datetime):
        raise ConfigurationError(
            f"at: an aware datetime or an ISO 8601 string, not {type(at).__name__}",
            reason=Reason.INVALID_ARGUMENT,
        )
    if at.tzinfo is None:
        raise ConfigurationError(
            "at: a naive datetime is ambiguous; give a timezone", reason=Reason.INVALID_ARGUMENT
        )
    return at.astimezone(_dt.UTC)


def _as_bytes(name: str, value: bytes | str | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    try:
        return bytes.fromhex(value.strip().removeprefix("0x"))
    except ValueError:
        raise ConfigurationError(f"{name}: not hex", reason=Reason.INVALID_ARGUMENT) from None


def error_for(result: VerificationResult) -> PolicyRejected:
    failed = result.failed_rules()
    first = failed[0]
    summary = "; ".join(v.message or v.rule for v in failed)
    if first.reason in (
        Reason.TCB_STATUS_REJECTED,
        Reason.TCB_NOT_SUPPORTED,
        Reason.ADVISORY_REJECTED,
    ):
        err: PolicyRejected = TcbRejected(
            summary, status=result.tcb_status, advisories=result.advisory_ids, reason=first.reason
        )
    elif first.reason is Reason.MEASUREMENT_MISMATCH:
        err = MeasurementMismatch(
            summary,
            claim=first.rule,
            expected=first.expected,
            actual=first.actual,
            reason=first.reason,
        )
    else:
        err = PolicyRejected(summary, reason=first.reason)
    err.result = result
    return err


@dataclass(frozen=True, slots=True)
class Verifier:
    """Trust roots, collateral and policy held together; immutable, safe to share.

    >>> v = Verifier(policy=Policy.from_file("policy.yaml"), collateral=["collateral/"])
    >>> result = v.verify(quote_bytes, expected_report_data=nonce)
    """

    trust: TrustStore = field(default_factory=TrustStore.default)
    collateral: Collateral = field(default_factory=Collateral)
    policy: Policy = field(default_factory=Policy.default)
    collateral_source: CollateralSource | None = None

    def __init__(
        self,
        *,
        trust: TrustStore | None = None,
        collateral: CollateralLike = None,
        policy: Policy | None = None,
        collateral_source: CollateralSource | None = None,
    ) -> None:
        object.__setattr__(self, "trust", trust if trust is not None else TrustStore.default())
        object.__setattr__(self, "collateral", _as_collateral(collateral))
        object.__setattr__(self, "policy", policy if policy is not None else Policy.default())
        object.__setattr__(self, "collateral_source", collateral_source)

    def verify(
        self,
        evidence: bytes | str,
        *,
        at: _dt.datetime | str | None = None,
        collateral: CollateralLike = None,
        policy: Policy | None = None,
        expected_report_data: bytes | str | None = None,
        expected_init_data: bytes | str | None = None,
        event_log: bytes | None = None,
        aa_event_log: bytes | None = None,
    ) -> VerificationResult:
        """Verify ``evidence``; return the accepted result or raise a CocoverifyError.

        ``event_log`` (a TDX CCEL area) and ``aa_event_log`` (a legacy text AA event log) are
        replayed into the quote's RTMRs after the quote verifies (docs/eventlog.md); trustee
        TDX evidence JSON carrying ``cc_eventlog`` / ``aa_eventlog`` is recognised by content.
        """
        when = as_time(at)
        pol = policy if policy is not None else self.policy
        # no per-call collateral: the Verifier's own bag, as is (its digest is computed once)
        coll = self.collateral
        if collateral is not None:
            coll = coll + _as_collateral(collateral)
        data = _evidence_bytes(evidence)
        wrapped = _trustee_tdx_json(data) if data[:1] in b"{ \t\r\n" else None
        if wrapped is not None:
            if event_log is not None or aa_event_log is not None:
                raise ConfigurationError(
                    "event_log: the evidence JSON already carries its event log",
                    reason=Reason.INVALID_ARGUMENT,
                )
            data, event_log, aa_event_log = wrapped

        if event_log is None and aa_event_log is None:
            appraisal = registry.detect(data).appraise(
                data,
                collateral=coll,
                trust=self.trust,
                at=when,
                source=self.collateral_source,
                require_crl=pol.require_crl,
            )
        else:

            def inner(quote: bytes) -> Appraisal:
                return registry.detect(quote).appraise(
                    quote,
                    collateral=coll,
                    trust=self.trust,
                    at=when,
                    source=self.collateral_source,
                    require_crl=pol.require_crl,
                )

            from cocoverify.wrappers import tdx_eventlog  # on first use

            appraisal = tdx_eventlog.appraise_with_log(
                data, event_log, inner=inner, aa_event_log=aa_event_log
            )
        verdicts = _evaluate(
            pol,
            appraisal,
            when,
            None
            if expected_report_data is None
            else _as_bytes("expected_report_data", expected_report_data),
            None
            if expected_init_data is None
            else _as_bytes("expected_init_data", expected_init_data),
        )
        for v in verdicts:
            if not v.passed:
                result = VerificationResult.from_appraisal(
                    appraisal, at=when, verdicts=verdicts, reason=v.reason or Reason.POLICY_REJECTED
                )
                raise error_for(result)
        return VerificationResult.from_appraisal(appraisal, at=when, verdicts=verdicts, reason=None)

    async def averify(self, evidence: bytes | str, **kwargs: object) -> VerificationResult:
        """``verify`` off the event loop (in the default executor)."""
        import asyncio  # on first use: asyncio costs more to import than cocoverify

        call: Callable[[], VerificationResult] = lambda: self.verify(evidence, **kwargs)  # type: ignore[arg-type]  # noqa: E731
        return await asyncio.get_running_loop().run_in_executor(None, call)


#: (policy, static part, body but REPORTDATA, TCB facts, debug) -> (policy, static part,
#: collateral facts, verdicts): policy verdicts of appraisals that differ only in REPORTDATA;
#: 1024 entries (about 1.5 KB each), emptied when full.
_VERDICTS: dict[tuple[object, ...], tuple[object, object, object, tuple[RuleVerdict, ...]]] = {}
_PLAIN = (type(None), bool, int, str, bytes)


def _evaluate(
    pol: Policy,
    appraisal: Appraisal,
    when: _dt.datetime,
    expected_report_data: bytes | None,
    expected_init_data: bytes | None,
) -> tuple[RuleVerdict, ...]:
    """``pol.evaluate``, reused for an appraisal whose claims a pipeline derived from a static
    part and a report body (``Appraisal.policy_key``) when nothing else the policy reads can
    differ: no binding asked, no rule on the verification time. Policy rules read
    REPORTDATA only through ``expected_report_data`` (tests/test_api_verdicts.py)."""
    pk = appraisal.policy_key
    if (
        pk is None
        or pk[0] is not appraisal.claims
        or expected_report_data is not None
        or expected_init_data is not None
        or pol.max_collateral_age_days is not None
        or pol.out_of_date_grace_days is not None
    ):
        return pol.evaluate(
            appraisal,
            at=when,
            expected_report_data=expected_report_data,
            expected_init_data=expected_init_data,
        )
    a = appraisal
    key: tuple[object, ...] = (id(pol), id(pk[1]), pk[2], a.tee, a.tcb_status, a.tcb_error)
    key += (a.tcb_date, a.advisory_ids, a.debug)
    found = _VERDICTS.get(key)
    if found is not None and found[0] is pol and found[1] is pk[1] and found[2] is a.collateral:
        return found[3]
    verdicts = pol.evaluate(a, at=when)
    # only verdicts of plain values are shared between results (nothing a caller can mutate)
    if all(type(v.expected) in _PLAIN and type(v.actual) in _PLAIN for v in verdicts):
        if len(_VERDICTS) >= 1024:
            _VERDICTS.clear()
        _VERDICTS[key] = (pol, pk[1], a.collateral, verdicts)
    return verdicts


def _trustee_tdx_json(data: bytes) -> tuple[bytes, bytes | None, bytes | None] | None:
    from cocoverify.wrappers import tdx_eventlog  # on first use

    return tdx_eventlog.trustee_evidence(data)


def _evidence_bytes(evidence: bytes | str | bytearray | memoryview) -> bytes:
    if isinstance(evidence, str):
        evidence = evidence.encode("ascii", "replace")
    if not isinstance(evidence, bytes | bytearray | memoryview):
        raise ConfigurationError("evidence: expected bytes", reason=Reason.INVALID_ARGUMENT)
    data = bytes(evidence)
    if not data:
        raise EvidenceError("evidence is empty", reason=Reason.TRUNCATED)
    return decode_text(data)


def verify(
    evidence: bytes | str,
    *,
    policy: Policy | None = None,
    collateral: CollateralLike = None,
    trust: TrustStore | None = None,
    at: _dt.datetime | str | None = None,
    expected_report_data: bytes | str | None = None,
    expected_init_data: bytes | str | None = None,
    collateral_source: CollateralSource | None = None,
    event_log: bytes | None = None,
    aa_event_log: bytes | None = None,
) -> VerificationResult:
    """Verify SGX/TDX quotes, SNP reports or CCA tokens (kind detected from content).

    Returns the result only on acceptance. Every rejection raises a subclass of
    :class:`~cocoverify.errors.CocoverifyError` with a stable ``.reason``; rejections of
    authentic evidence carry the result (claims, TCB status, rule verdicts) in ``.result``.
    ``at`` is the verification time (default: now, UTC). Collateral is offline by default;
    ``collateral_source`` (e.g. a cached Intel PCS / AMD KDS source) fetches what is missing.
    ``event_log`` / ``aa_event_log``: a TDX quote's event logs, replayed into its RTMRs.
    """
    return Verifier(
        trust=trust, collateral=collateral, policy=policy, collateral_source=collateral_source
    ).verify(
        evidence,
        at=at,
        expected_report_data=expected_report_data,
        expected_init_data=expected_init_data,
        event_log=event_log,
        aa_event_log=aa_event_log,
    )


async def averify(evidence: bytes | str, **kwargs: object) -> VerificationResult:
    """``verify`` for asyncio services: runs off the event loop."""
    import asyncio  # on first use: asyncio costs more to import than cocoverify

    return await asyncio.get_running_loop().run_in_executor(
        None,
        lambda: verify(evidence, **kwargs),  # type: ignore[arg-type]
    )


def verify_composite(
    evidence: bytes | str | Sequence[composite.Part],
    *,
    policy: Policy | None = None,
    device_policy: Policy | None = None,
    collateral: CollateralLike = None,
    trust: TrustStore | None = None,
    at: _dt.datetime | str | None = None,
    expected_report_data: bytes | str | None = None,
    device_report_data: bytes | str | None = None,
    collateral_source: CollateralSource | None = None,
    primary: composite.PrimaryHook | None = None,
) -> composite.CompositeResult:
    """Verify a CPU TEE's evidence with device (GPU) evidence bound to the same nonce: KBS
    ``tee-evidence`` JSON (``primary_evidence`` + ``additional_evidence``) or parts.

    Returns one result with a part per device (``cpu0``, ``gpu0``, ...), accepted only when
    every part is; it does not raise for a part's rejection (the part carries its error).
    ``policy`` applies to the primary part, ``device_policy`` (default: the default policy)
    to the devices. ``primary`` turns a primary evidence object into bytes plus the collateral
    it carries (the trustee adapter's ``composite_primary`` reads trustee's SNP JSON).
    docs/nvidia.md "Composite".
    """
    when = as_time(at)
    verifier = Verifier(
        trust=trust, collateral=collateral, policy=policy, collateral_source=collateral_source
    )
    devices = device_policy if device_policy is not None else Policy.default()
    expected = _as_bytes("expected_report_data", expected_report_data)
    if isinstance(evidence, bytes | str):
        parts = composite.kbs_parts(
            evidence,
            expected_report_data=expected,
            device_report_data=_as_bytes("device_report_data", device_report_data),
            primary=primary,
        )
    else:
        parts = tuple(evidence)

    def appraise(part: composite.Part) -> VerificationResult:
        return verifier.verify(
            part.evidence,
            at=when,
            collateral=part.collateral,
            policy=None if part.device_class == "cpu" else devices,
            expected_report_data=part.expected_report_data,
        )

    return composite.verify_parts(parts, appraise)
