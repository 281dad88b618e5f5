"""SEV-SNP pipeline: the steps of docs/snp.md ("Order of checks") in order.

Evidence is a 1184-byte report, optionally followed directly by the certificate blob of an
extended report: ``report || cert_table``.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from cocoverify.collateral.source import CollateralSource
from cocoverify.errors import (
    CocoverifyError,
    CollateralUnavailable,
    missing_message,
    raise_with_at_hint,
)
from cocoverify.result import Appraisal
from cocoverify.tee.snp.authenticate import authenticate
from cocoverify.tee.snp.claims import appraisal
from cocoverify.tee.snp.collateral import gather_facts
from cocoverify.tee.snp.parse import SIGNED_SIZE, split_evidence
from cocoverify.trust import TrustStore

if TYPE_CHECKING:
    from cocoverify.collateral import Collateral

__all__ = ["appraise_report"]


def appraise_report(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,
    require_crl: bool = False,
) -> Appraisal:
    """Authenticated appraisal of an SNP report (tee ``"snp"``). An expiry met at the
    current time suggests ``--at`` in its message (``errors.raise_with_at_hint``)."""
    try:
        return _appraise(
            data, collateral=collateral, trust=trust, at=at, source=source, require_crl=require_crl
        )
    except CocoverifyError as exc:
        raise_with_at_hint(exc, at)


def _appraise(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None,
    require_crl: bool,
) -> Appraisal:
    # 1. parse: the report (SEV-SNP ABI §7.3, ATTESTATION_REPORT) and the extended report's
    #    certificate table (GHCB spec §4.1.8.1)
    report, table = split_evidence(data)
    # the certificates and CRLs steps 3-5 choose from: the table's, the caller's, AMD's
    #    shipped ARK/ASK/ASVK for empty roles, then what is still missing from an online
    #    source (KDS, VCEK spec AMD 57230)
    found = gather_facts(
        report, table, collateral, source=source, at=at, trust=trust, require_crl=require_crl
    )
    # 2-7. product, VCEK/VLEK selection, chain to the pinned ARK, CRL, report signature,
    #    VCEK/VLEK extensions bound to the report; the signature covers 0x000..0x29F as
    #    received (parsing checked every other byte of that range)
    try:
        chain = authenticate(
            report,
            bytes(data[:SIGNED_SIZE]),
            found.certificates,
            found.crls,
            trust=trust,
            at=at,
            require_crl=require_crl,
        )
    except CollateralUnavailable as exc:
        # the same reason; the message and ``.missing`` name every missing piece at once
        if not found.missing and not found.source_error:
            raise
        lead = str(exc.args[0]) if exc.args else exc.reason.value
        if found.source_error:
            lead += f" (the collateral source could not help: {found.source_error})"
        raise CollateralUnavailable(
            missing_message(lead, found.missing), reason=exc.reason, missing=found.missing
        ) from None
    # 8. claims (the policy runs after the pipeline)
    return appraisal(report, chain, cert_table=table is not None, unknown_guids=found.unknown_guids)
