"""A stand-in for trustee's verifiers: trustee-shaped evidence in, trustee-shaped claims out.

:func:`evaluate` has the contract of trustee's ``Verifier::evaluate``
(``deps/verifier/src/lib.rs``): evidence JSON for one TEE, an optional expected report data
and init-data hash, and a list of ``(claims, "cpu")`` whose claim names, nesting and encodings
are trustee's, plus a few extra keys trustee does not have. Any failure raises a
:class:`~cocoverify.errors.CocoverifyError`; there is never a partial result.

Built on the public API only (:func:`cocoverify.verify`, :mod:`cocoverify.hazmat`):

* :mod:`.evidence` -- the evidence JSON of each TEE -> bytes for ``verify()``;
* :mod:`.verify` -- bindings, trustee's hard checks and the two acceptance modes;
* :mod:`.claims` -- trustee's claims of each TEE (the one place they are built);
* :mod:`.eventlog` -- the TDX CC event log: ``uefi_event_logs`` claims and the RTMR replay;
* :mod:`.composite` -- a trustee evidence object as KBS composite ``primary_evidence``.
"""

from __future__ import annotations

from cocoverify.integrations.trustee.claims import claims_for, intel_supplemental
from cocoverify.integrations.trustee.composite import composite_primary
from cocoverify.integrations.trustee.eventlog import parse_ccel, replay
from cocoverify.integrations.trustee.evidence import (
    SNP_REPORT_KEYS,
    TEES,
    TrusteeEvidence,
    parse_evidence,
    snp_report_from_json,
)
from cocoverify.integrations.trustee.verify import INIT_DATA_FIELD, evaluate, verify_evidence

__all__ = [
    "INIT_DATA_FIELD",
    "SNP_REPORT_KEYS",
    "TEES",
    "TrusteeEvidence",
    "claims_for",
    "composite_primary",
    "evaluate",
    "intel_supplemental",
    "parse_ccel",
    "parse_evidence",
    "replay",
    "snp_report_from_json",
    "verify_evidence",
]
