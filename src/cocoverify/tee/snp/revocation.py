"""SEV-SNP revocation: the ARK's CRLs (VCEK spec, AMD 57230; KDS ``/vcek/v1/<P>/crl`` and
``/vlek/v1/<P>/crl``), applied to the ASK/ASVK and the VCEK/VLEK (docs/snp.md, "Order of
checks", step 5)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

import cocoverify._core.der as der
from cocoverify._core.x509 import check_crl
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, Reason, Revoked
from cocoverify.tee.snp.chain import (
    common_name,
    is_amd_pss,
    profile_error,
    strict_signature_bits,
)

__all__ = ["CrlCheck", "check_revocation"]


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
    applied = [c for c in crls if c.issuer == ark.subject]
    if not applied:
        if require:
            raise CollateralUnavailable(
                "the policy requires a CRL and none issued by "
                f"{common_name(ark.subject)} was supplied",
                reason=Reason.CRL_MISSING,
            )
        return CrlCheck(checked=False)
    for crl in applied:
        _check_crl_profile(crl, ark)
        check_crl(crl, ark, at, what=f"CRL of {common_name(ark.subject)}")
        for cert in (intermediate, vek):
            what = common_name(cert.subject)
            try:
                serial = _serial(cert)
            except ValueError:
                raise profile_error(f"{what}: serial number cannot be decoded") from None
            if crl.get_revoked_certificate_by_serial_number(serial) is not None:
                raise Revoked(
                    f"{what} (serial {serial:#x}) is revoked", reason=Reason.CERTIFICATE_REVOKED
                )
    latest = max(applied, key=lambda c: c.last_update_utc)
    return CrlCheck(
        checked=True,
        this_update=latest.last_update_utc,
        next_update=latest.next_update_utc,
        count=len(applied),
    )
