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

import copy
import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from cocoverify.reasons import Reason

if TYPE_CHECKING:
    from cocoverify.collateral.requests import CollateralRequest
    from cocoverify.result import VerificationResult

__all__ = [
    "FETCH_COMMAND",
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
    "MissingCollateral",
    "PolicyRejected",
    "Reason",
    "Revoked",
    "SignatureInvalid",
    "TcbRejected",
    "UnsupportedEvidence",
    "missing_message",
    "raise_with_at_hint",
    "with_at_hint",
]


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


#: How to fetch everything a piece of evidence needs at once (the ``fetch`` subcommand).
FETCH_COMMAND = "cocoverify fetch EVIDENCE -o DIR"


@dataclass(frozen=True, slots=True)
class MissingCollateral:
    """One piece of collateral a verification needed and did not have.

    ``item``: what it is ("TCB Info", "PCK CRL", "VCEK", ...); ``tee``: "sgx", "tdx" or
    "snp"; ``ids``: the identifiers that name it, in order (``("fmspc", "00906ed50000")``,
    ``("ca", "platform")``, ``("product", "Milan")``, ``("hwid", "<hex>")``...); ``url``: where
    the vendor serves it (Intel PCS v4, AMD KDS), None when no public service does (a VLEK);
    ``request``: the typed request a :class:`~cocoverify.collateral.source.CollateralSource`
    serves it for, when one can be built; ``note``: anything else the user must know.
    """

    item: str
    tee: str
    ids: tuple[tuple[str, str], ...] = ()
    url: str | None = None
    request: CollateralRequest | None = None
    note: str = ""

    def describe(self) -> str:
        """One line: the item, its identifiers, the URL and the note."""
        text = self.item
        if self.ids:
            text += " (" + ", ".join(f"{k} {v}" for k, v in self.ids) + ")"
        if self.url:
            text += f" from {self.url}"
        if self.note:
            text += f" [{self.note}]"
        return text


class CollateralUnavailable(CollateralError):
    """Collateral needed for the verdict was not supplied or could not be fetched.

    ``.missing`` lists every piece that was missing (empty when the pipeline cannot name
    them), each with its identifiers and the URL that serves it.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: Reason | None = None,
        missing: tuple[MissingCollateral, ...] = (),
        **details: Any,
    ) -> None:
        super().__init__(message, reason=reason, **details)
        self.missing: tuple[MissingCollateral, ...] = tuple(missing)


def missing_message(lead: str, missing: tuple[MissingCollateral, ...]) -> str:
    """``lead``, then every missing piece and the command that fetches them all."""
    if not missing:
        return lead
    items = "; ".join(m.describe() for m in missing)
    return f"{lead}; missing collateral: {items}; to fetch it all: {FETCH_COMMAND}"


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


#: Expiry reasons that old evidence verified at the current time meets.
EXPIRY_REASONS = frozenset(
    {Reason.COLLATERAL_EXPIRED, Reason.CRL_EXPIRED, Reason.CERTIFICATE_EXPIRED}
)
#: How close to the wall clock a verification time counts as "now".
AT_NOW_WINDOW = _dt.timedelta(minutes=10)


def with_at_hint(exc: CocoverifyError, at: _dt.datetime) -> CocoverifyError:
    """``exc``, or when it is an expiry met at the current time (``at`` within
    :data:`AT_NOW_WINDOW` of now) a copy whose message suggests verifying at the time the
    collateral was valid (``--at``; ``details["valid_from"]`` when the raiser knew it).
    Same class and reason: only the message changes."""
    if exc.reason not in EXPIRY_REASONS or not exc.args:
        return exc
    if abs(_dt.datetime.now(_dt.UTC) - at) > AT_NOW_WINDOW:
        return exc
    valid_from, until = exc.details.get("valid_from"), exc.details.get("valid_until")
    example = "--at TIME"
    if isinstance(valid_from, _dt.datetime):
        example = f"--at {valid_from.astimezone(_dt.UTC):%Y-%m-%dT%H:%M:%SZ} " + (
            f"(every piece of the collateral given is valid from then to {until:%Y-%m-%d})"
            if isinstance(until, _dt.datetime)
            else "(its issue date)"
        )
    hinted = copy.copy(exc)
    hinted.args = (
        f"{exc.args[0]}; verified at the current time: if the evidence is older, verify it "
        f"at a time its collateral was valid, e.g. {example}",
        *exc.args[1:],
    )
    return hinted


def raise_with_at_hint(
    exc: CocoverifyError,
    at: _dt.datetime,
    window: Callable[[], tuple[_dt.datetime, _dt.datetime] | None] | None = None,
) -> NoReturn:
    """Raise ``exc`` through :func:`with_at_hint` (a pipeline's ``except`` clause: free when
    nothing is raised); ``window`` (called only for an expiry) gives the span in which all
    the collateral was valid."""
    span = window() if window is not None and exc.reason in EXPIRY_REASONS else None
    if span is not None:
        exc.details["valid_from"], exc.details["valid_until"] = span
    hinted = with_at_hint(exc, at)
    if hinted is exc:
        raise exc
    raise hinted from None
