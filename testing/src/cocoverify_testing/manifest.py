"""TEST ONLY. What every vendor catalogue shares when it writes ``vectors/manifest.json`` entries.

The CLI exit code of a case follows from the error class that carries its reason
(``cocoverify.errors``: evidence 2, authenticity 3, collateral 4, policy 5); the table
lists every reason the project's vectors expect, grouped as ``cocoverify.reasons`` groups
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["EXIT_CODES", "exit_code", "write_file"]

_EVIDENCE = (
    "unknown_format",
    "truncated",
    "trailing_data",
    "reserved_nonzero",
    "malformed",
    "unsupported_version",
    "unsupported_tee_type",
    "unsupported_key_type",
    "unsupported_certification_data",
    "unsupported_algorithm",
    "unsupported_profile",
)
_AUTHENTICITY = (
    "signature_invalid",
    "qe_report_signature_invalid",
    "qe_report_data_mismatch",
    "qe_vendor_id_unknown",
    "qe_identity_mismatch",
    "tdx_module_mismatch",
    "untrusted_root",
    "chain_invalid",
    "certificate_expired",
    "certificate_not_yet_valid",
    "certificate_profile_invalid",
    "product_mismatch",
    "tcb_mismatch",
    "chip_id_mismatch",
    "key_type_mismatch",
    "binding_invalid",
    "certificate_revoked",
)
_COLLATERAL = (
    "collateral_missing",
    "collateral_malformed",
    "collateral_signature_invalid",
    "collateral_chain_invalid",
    "collateral_expired",
    "collateral_not_yet_valid",
    "collateral_mismatch",
    "tdx_module_identity_missing",
    "crl_invalid",
    "crl_expired",
    "crl_not_yet_valid",
    "crl_missing",
)
_POLICY = (
    "tcb_status_rejected",
    "tcb_not_supported",
    "debug_enabled",
    "attribute_rejected",
    "measurement_mismatch",
    "tcb_below_minimum",
    "lifecycle_rejected",
)

#: CLI exit code of each expected outcome (``accept`` is 0).
EXIT_CODES: Mapping[str, int] = {
    "accept": 0,
    **dict.fromkeys(_EVIDENCE, 2),
    **dict.fromkeys(_AUTHENTICITY, 3),
    **dict.fromkeys(_COLLATERAL, 4),
    **dict.fromkeys(_POLICY, 5),
}


def exit_code(expected: str) -> int:
    """The CLI exit code for ``expected`` (``accept`` or a reason code); KeyError if unknown."""
    return EXIT_CODES[expected]


def write_file(out: Path, rel: str | Path, data: bytes) -> str:
    """Write ``out/rel`` (making folders) and return ``rel`` as a POSIX path."""
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return Path(rel).as_posix()
