"""Field tables both parser backends return (docs/native.md, "Parity guarantees").

A field table holds integers and absolute offsets only; the one function that turns it into
the frozen views (``cocoverify.tee.intel.parse.quote_from_fields``) is shared, so two backends
that agree on the table agree on the view. ``tests/_backend/test_parity.py`` compares the
tables directly too.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["QuoteFields"]


class QuoteFields(NamedTuple):
    """Layout of a DCAP quote v3/v4/v5 that passed every parse check (QVL ``QuoteStructures.h``).

    Immutable (a NamedTuple: built in one step from the C struct). Offsets are absolute in
    the input. ``certification_*`` describe the certification data
    that carries the PCK material: the flat one (v3) or the inner one of type 6 (v4/v5).
    """

    version: int
    attestation_key_type: int
    tee_type: int
    qe_svn: int
    pce_svn: int
    body_type: int
    body_offset: int
    body_size: int
    signed_end: int
    signature_data_size: int
    signature_offset: int
    attestation_key_offset: int
    qe_report_offset: int
    qe_report_signature_offset: int
    qe_auth_data_offset: int
    qe_auth_data_size: int
    certification_type: int
    certification_offset: int
    certification_data_offset: int
    certification_data_size: int
    length: int
