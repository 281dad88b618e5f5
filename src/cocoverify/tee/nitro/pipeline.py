"""AWS Nitro Enclaves pipeline: the steps of docs/nitro.md "Order of checks", in that order.

Decoding comes first (EvidenceError), then the chain to the pinned AWS root and the COSE
signature (AuthenticityError), as NSM attestation_process §3.2 orders them. The nonce,
PCRs and the document age are the policy's (the nonce through ``expected_report_data``).
"""

from __future__ import annotations

import datetime as _dt

from cocoverify._core.x509 import fingerprint
from cocoverify.collateral import Collateral
from cocoverify.collateral.source import CollateralSource
from cocoverify.result import Appraisal, freeze
from cocoverify.tee.nitro.claims import DEBUG_PCRS, document_claims, is_debug
from cocoverify.tee.nitro.parse import parse_document
from cocoverify.tee.nitro.verify import load_chain, verify_chain, verify_signature
from cocoverify.trust import TrustStore

__all__ = ["appraise_document"]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def appraise_document(
    data: bytes,
    *,
    collateral: Collateral,  # unused: the document carries its chain
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,  # unused: AWS runs no collateral service
    require_crl: bool = False,  # unused: NSM §3.2.4 "We do not use CRL"
) -> Appraisal:
    """Verify an attestation document end to end; the policy (step 8) is the caller's."""
    # 1-3. COSE_Sign1, protected header {1: -35}, the AttestationDocument (NSM §3.1, §3.2.2)
    document = parse_document(data)
    doc = document.doc
    # 4-6. Root pin, chain and profiles, validity at `at` (NSM §3.2.3-3.2.4)
    chain = load_chain(doc.certificate, doc.cabundle)
    leaf = verify_chain(chain, trust=trust, at=at)
    # 7. ES384 over Sig_structure with the leaf key (RFC 9052 §4.4)
    verify_signature(document, leaf)
    debug = is_debug(doc)
    warnings = []
    if debug:
        pcrs = ", ".join(f"PCR{i}" for i in DEBUG_PCRS)
        warnings.append(f"debug-mode enclave: {pcrs} are all zero")
    issued = _dt.datetime.fromtimestamp(doc.timestamp / 1000, _dt.UTC)
    at_ms = (at - _EPOCH) // _dt.timedelta(milliseconds=1)
    return Appraisal(
        tee="nitro",
        claims=freeze(document_claims(doc)),
        tcb_status=None,
        collateral=freeze(
            {
                "root_sha256": fingerprint(chain[-1]),
                "certificate_subject": leaf.subject.rfc4514_string(),
                "certificate_not_before": leaf.not_valid_before_utc,
                "certificate_not_after": leaf.not_valid_after_utc,
                "cabundle_length": len(doc.cabundle),
                "document_time": issued,
                "document_age_ms": at_ms - doc.timestamp,
            }
        ),
        warnings=tuple(warnings),
        report_data=doc.nonce,
        debug=debug,
    )
