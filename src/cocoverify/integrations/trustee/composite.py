"""The primary evidence of KBS composite ``tee-evidence`` when it is a trustee evidence object.

KBS puts the CPU TEE's evidence object itself in ``primary_evidence``
(trustee ``kbs/docs/kbs_attestation_protocol.md``), and names the TEE in its request, not in
the evidence. :func:`composite_primary` recognises the objects ``verify()`` does not read by
content and turns them into the bytes and collateral it takes; it is the ``primary`` hook of
:func:`cocoverify.api.verify_composite` (the CLI passes it). Recognised here:

* ``SnpEvidence`` ``{attestation_report, cert_chain?}``: the report rebuilt from the ``sev``
  crate's serde form (or a byte list), the ``cert_chain`` certificates as collateral;
* ``{quote}`` alone (``SgxEvidence``, or ``TdxEvidence`` without event logs): the quote.

A TDX object with ``cc_eventlog`` / ``aa_eventlog``, Azure vTPM and NVIDIA JSON are left to
``verify()``, which recognises them by content (None is returned).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cocoverify.collateral import Collateral
from cocoverify.integrations.trustee.evidence import parse_evidence

__all__ = ["composite_primary"]

_LOGS = ("cc_eventlog", "aa_eventlog")


def composite_primary(obj: Mapping[str, Any]) -> tuple[bytes, Collateral] | None:
    """(evidence bytes, carried collateral) for a trustee primary evidence object, or None
    when ``verify()`` reads the object by content itself. Malformed objects raise
    MalformedEvidence (the composite part's rejection)."""
    if "attestation_report" in obj:
        ev = parse_evidence("snp", dict(obj))
        return ev.data, ev.collateral
    if "quote" in obj and not any(obj.get(k) not in (None, "") for k in _LOGS):
        ev = parse_evidence("sgx", {"quote": obj["quote"]})
        return ev.data, ev.collateral
    return None
