"""SEV-SNP revocation: the ARK's CRLs (VCEK spec, AMD 57230; KDS ``/vcek/v1/<P>/crl`` and
``/vlek/v1/<P>/crl``), applied to the ASK/ASVK and the VCEK/VLEK (docs/snp.md, "Order of
checks", step 5)."""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.x509.oid import ExtensionOID

import cocoverify._core.der as der
from cocoverify._core.x509 import common_name
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, Reason, Revoked
from cocoverify.tee.snp.chain import (
    is_amd_pss,
    profile_error,
    strict_signature_bits,
)
from cocoverify.tee.snp.memo import Outcome, outcome

__all__ = [
    "AppliedCrl",
    "CrlCheck",
    "RevocationPlan",
    "apply_revocation",
    "check_revocation",
    "revocation_plan",
]


def _serial(cert: x509.Certificate) -> int:
    """The serial read from the TBS bytes (VCEKs have serial 0, which cryptography warns
    about when asked through ``serial_number``)."""
    tbs, _ = der.parse_tlv(cert.tbs_certificate_bytes)
    items = der.parse_tlvs(tbs.value)
    idx = 1 if items and items[0].tag == 0xA0 else 0
    return der.parse_int(items[idx])


@dataclass(frozen=True, slots=True)
class CrlCheck:
    """Which CRLs were applied."""

    checked: bool
    this_update: _dt.datetime | None = None
    next_update: _dt.datetime | None = None
    count: int = 0


#: The only extensions an AMD CRL may mark critical (RFC 5280 §5.2: a CRL with an
#: unrecognised critical extension, e.g. a delta CRL, must not be used).
_CRL_CRITICAL_OK = (ExtensionOID.CRL_NUMBER, ExtensionOID.AUTHORITY_KEY_IDENTIFIER)


def _check_crl_profile(crl: x509.CertificateRevocationList, ark: x509.Certificate) -> None:
    """The ARK signs its CRLs with RSASSA-PSS SHA-384 (MGF1-SHA-384, salt 48); the ARK's
    KeyUsage allows cRLSign; no unrecognised critical CRL extension. AMD's CRLs carry only
    AKI and CRL Number."""
    what = f"CRL of {common_name(ark.subject)}"
    if not (is_amd_pss(crl) and strict_signature_bits(crl)):
        raise CollateralInvalid(
            f"{what} is not signed with RSASSA-PSS SHA-384 MGF1-SHA-384 salt 48",
            reason=Reason.CRL_INVALID,
        )
    for ext in crl.extensions:
        if ext.critical and ext.oid not in _CRL_CRITICAL_OK:
            raise CollateralInvalid(
                f"{what} has an unrecognised critical extension {ext.oid.dotted_string}",
                reason=Reason.CRL_INVALID,
            )
    try:
        usage = ark.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.crl_sign:
        raise CollateralInvalid(
            f"{common_name(ark.subject)} KeyUsage does not allow cRLSign",
            reason=Reason.CRL_INVALID,
        )


def check_revocation(
    crls: Iterable[x509.CertificateRevocationList],
    *,
    ark: x509.Certificate,
    intermediate: x509.Certificate,
    vek: x509.Certificate,
    at: _dt.datetime,
    require: bool,
) -> CrlCheck:
    """Every supplied CRL issued by this ARK must verify under it and be current at ``at``;
    the ASK/ASVK (and the VEK) must not be listed. CRLs of other issuers are ignored.
    ``require``: no applicable CRL is collateral missing (crl_missing)."""
    plan = revocation_plan(tuple(crls), ark=ark, intermediate=intermediate, vek=vek)
    return apply_revocation(plan, at=at, require=require)


@dataclass(frozen=True, slots=True)
class AppliedCrl:
    """One CRL of the ARK: its static checks before (profile, issuer, signature) and after
    (the ASK/ASVK and VEK serials) the time check, which runs per call."""

    crl: x509.CertificateRevocationList
    before: Outcome
    after: Outcome
    this_update: _dt.datetime
    next_update: _dt.datetime | None


@dataclass(frozen=True, slots=True)
class RevocationPlan:
    """What revocation checking knows without a time: the ARK's CRLs, in supplied order."""

    applied: tuple[AppliedCrl, ...]
    summary: CrlCheck
    #: the ARK's CN, as messages name it
    issuer: str


def revocation_plan(
    crls: Sequence[x509.CertificateRevocationList],
    *,
    ark: x509.Certificate,
    intermediate: x509.Certificate,
    vek: x509.Certificate,
) -> RevocationPlan:
    """The static part of :func:`check_revocation` (cacheable by the content of its inputs)."""
    applied = [c for c in crls if c.issuer == ark.subject]
    issuer = common_name(ark.subject)
    what = f"CRL of {issuer}"

    def before(crl: x509.CertificateRevocationList) -> None:
        _check_crl_profile(crl, ark)
        if crl.issuer != ark.subject:  # as _core.x509.check_crl (applied CRLs always match)
            raise CollateralInvalid(
                f"{what}: issuer is not {ark.subject.rfc4514_string()}", reason=Reason.CRL_INVALID
            )
        if not crl_signed_by(crl, ark):
            raise CollateralInvalid(f"{what}: signature does not verify", reason=Reason.CRL_INVALID)

    def after(crl: x509.CertificateRevocationList) -> None:
        for cert in (intermediate, vek):
            name = common_name(cert.subject)
            try:
                serial = _serial(cert)
            except ValueError:
                raise profile_error(f"{name}: serial number cannot be decoded") from None
            if crl.get_revoked_certificate_by_serial_number(serial) is not None:
                raise Revoked(
                    f"{name} (serial {serial:#x}) is revoked", reason=Reason.CERTIFICATE_REVOKED
                )

    entries = tuple(
        AppliedCrl(
            crl,
            outcome(functools.partial(before, crl)),
            outcome(functools.partial(after, crl)),
            crl.last_update_utc,
            crl.next_update_utc,
        )
        for crl in applied
    )
    if not applied:
        return RevocationPlan((), CrlCheck(checked=False), issuer)
    latest = max(applied, key=lambda c: c.last_update_utc)
    summary = CrlCheck(
        checked=True,
        this_update=latest.last_update_utc,
        next_update=latest.next_update_utc,
        count=len(applied),
    )
    return RevocationPlan(entries, summary, issuer)


def apply_revocation(plan: RevocationPlan, *, at: _dt.datetime, require: bool) -> CrlCheck:
    """The per-call part of :func:`check_revocation`: each CRL's static checks and its
    thisUpdate/nextUpdate window at ``at`` (RFC 5280 §6.3.3), in supplied order."""
    if not plan.applied:
        if require:
            raise CollateralUnavailable(
                f"the policy requires a CRL and none issued by {plan.issuer} was supplied",
                reason=Reason.CRL_MISSING,
            )
        return plan.summary
    for entry in plan.applied:
        if entry.before is not None:
            entry.before.check()
        nu = entry.next_update
        if at < entry.this_update or nu is None or at > nu:
            _check_crl_time(entry.crl, at, what=f"CRL of {plan.issuer}")
        if entry.after is not None:
            entry.after.check()
    return plan.summary


def _check_crl_time(crl: x509.CertificateRevocationList, at: _dt.datetime, *, what: str) -> None:
    """lastUpdate <= at <= nextUpdate, with the messages of ``_core.x509.check_crl``."""
    if at < crl.last_update_utc:
        raise CollateralInvalid(
            f"{what}: not valid before {crl.last_update_utc.isoformat()}",
            reason=Reason.CRL_NOT_YET_VALID,
        )
    nu = crl.next_update_utc
    if nu is None or at > nu:
        raise CollateralInvalid(
            f"{what}: stale (nextUpdate {nu.isoformat() if nu else 'absent'})",
            reason=Reason.CRL_EXPIRED,
            valid_from=crl.last_update_utc,
        )


def crl_signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    """The CRL's signature verifies under ``issuer``'s key (``_core.x509.check_crl``)."""
    try:
        return bool(crl.is_signature_valid(issuer.public_key()))  # type: ignore[arg-type]
    except (TypeError, ValueError, UnsupportedAlgorithm):
        return False
