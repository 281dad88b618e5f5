"""SEV-SNP pipeline: the steps of docs/snp.md ("Order of checks") in order.

Evidence is a 1184-byte report, optionally followed directly by the certificate blob of an
extended report: ``report || cert_table``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from cocoverify._core.timeprobe import DateTimeProbe
from cocoverify._core.x509 import epoch_us
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
from cocoverify.tee.snp.facts import CertInfo
from cocoverify.tee.snp.parse import REPORT_SIZE, SIGNATURE_OFFSET, SIGNED_SIZE, split_evidence
from cocoverify.tee.snp.verify import AmdChain, report_signature_ok
from cocoverify.tee.snp.warm import WARM, WarmEntry, remember, report_data_of, warm_key
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
    current time suggests ``--at`` in its message (``errors.raise_with_at_hint``).

    Warm (``warm.py``): a report equal to one verified before but for REPORT_DATA and the
    signature, at a time every check answers as it did then, needs only its signature
    checked; a collateral source may add collateral, so it disables this."""
    key = warm_key(data, collateral, trust, require_crl) if source is None else None
    if key is not None:
        entry = WARM.get(key)
        if entry is not None and at.tzinfo is not None:
            at_us = epoch_us(at)
            if entry.lo <= at_us < entry.hi and report_signature_ok(
                entry.point, data[SIGNATURE_OFFSET:REPORT_SIZE], data[:SIGNED_SIZE]
            ):
                return entry.with_report_data(report_data_of(data))
    probe = DateTimeProbe(at) if key is not None and at.tzinfo is not None else None
    try:
        appraisal, chain_point = _appraise(
            data,
            collateral=collateral,
            trust=trust,
            at=probe if probe is not None else at,
            source=source,
            require_crl=require_crl,
        )
    except CocoverifyError as exc:
        raise_with_at_hint(exc, at)
    if key is not None and probe is not None and chain_point is not None:
        interval = probe.interval()
        if interval is not None:
            entry = WarmEntry(interval[0], interval[1], chain_point, appraisal.claims, appraisal)
            remember(key, entry)
    return appraisal


def chain_point(chain: AmdChain, certs: Sequence[CertInfo]) -> bytes | None:
    """The point of the chain's VEK when it was the only candidate of its kind."""
    want = chain.kind.lower()
    same = [c for c in certs if c.role == want]
    if len(same) != 1 or same[0].cert is not chain.vek:
        return None
    return same[0].point


def _appraise(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None,
    require_crl: bool,
) -> tuple[Appraisal, bytes | None]:
    """The appraisal, and the VEK point when a warm entry may be made of this run: one
    VEK candidate (the choice among several reads the signature)."""
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
    result = appraisal(
        report, chain, cert_table=table is not None, unknown_guids=found.unknown_guids
    )
    return result, chain_point(chain, found.certificates)
