"""Warm SNP verification: a report whose every byte but REPORT_DATA and the used bytes of the
signature's R and S was verified before, at a time every check answers as it did then.

The full pipeline (``pipeline.py``) runs once per (collateral content, pinned ARKs,
require_crl, report and certificate table but REPORT_DATA and R/S) with the verification
time as a ``DateTimeProbe`` (``_core/timeprobe.py``): the interval of times over which every
time comparison of the run (certificate and CRL windows, candidate choice) has the same
outcome. It leaves a ``WarmEntry``: that interval, the VCEK/VLEK point and the appraisal's
parts. Per call on a hit: one dict lookup, two integer comparisons of the time, the report
signature (ECDSA P-384 over 0x000..0x29F, SEV-SNP ABI §7.3) under the stored point, then
the appraisal with the new REPORT_DATA. Anything else (a signature that fails, a time
outside the interval) runs the full pipeline, which decides.

``WARM``: 512 entries, emptied when full; each holds its key (the evidence bytes but 160,
about 1.2 KB without a certificate table) and the appraisal's claims (about 3 KB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cocoverify.collateral import Collateral
from cocoverify.result import Appraisal, with_evidence_field
from cocoverify.tee.snp.parse import REPORT_SIZE, SIG_COMPONENT_SIZE, SIG_USED_SIZE, SIGNED_SIZE
from cocoverify.trust import TrustStore

__all__ = ["WARM", "WARM_SIZE", "WarmEntry", "clear_caches", "warm_key"]

#: Entries kept (see the module docstring for their size).
WARM_SIZE = 512
#: REPORT_DATA (SEV-SNP ABI §7.3, ATTESTATION_REPORT 0x050..0x08F).
_RD = slice(0x50, 0x90)
#: The used bytes of R and S (72-byte little-endian fields at 0x2A0 and 0x2E8, 48 used).
_R_END = SIGNED_SIZE + SIG_USED_SIZE
_S = SIGNED_SIZE + SIG_COMPONENT_SIZE
_S_END = _S + SIG_USED_SIZE

WarmKey = tuple[bytes, tuple[tuple[str, frozenset[str]], ...], bool, bytes]


def warm_key(
    data: bytes, collateral: Collateral, trust: TrustStore, require_crl: bool
) -> WarmKey | None:
    """What decides every check but the report signature: the collateral's content, the
    pinned ARKs, ``require_crl`` and the evidence bytes but REPORT_DATA and the used bytes
    of R and S (their zero padding and the reserved bytes are kept: the parser checks them)."""
    if len(data) < REPORT_SIZE:
        return None
    rest = data[:0x50] + data[0x90:SIGNED_SIZE] + data[_R_END:_S] + data[_S_END:]
    return collateral.digest, tuple(trust.amd_arks.items()), require_crl, rest


@dataclass(frozen=True, slots=True)
class WarmEntry:
    """A verified report's VEK point, time interval and appraisal but REPORT_DATA."""

    lo: int
    hi: int
    point: bytes
    claims: Mapping[str, Any]  # the verified report's, REPORT_DATA replaced per call
    appraisal: Appraisal

    def with_report_data(self, report_data: bytes) -> Appraisal:
        """The appraisal of a report equal to the verified one but for REPORT_DATA."""
        claims = dict(self.claims)
        claims["report_data"] = report_data  # same position in the claims as in a cold run
        return with_evidence_field(self.appraisal, MappingProxyType(claims), report_data, self)


#: key -> entry; GIL-atomic get/set, emptied when full.
WARM: dict[WarmKey, WarmEntry] = {}


def remember(key: WarmKey, entry: WarmEntry) -> None:
    """Keep ``entry`` (the table is emptied first when full)."""
    if len(WARM) >= WARM_SIZE:
        WARM.clear()
    WARM[key] = entry


def report_data_of(data: bytes) -> bytes:
    """REPORT_DATA of a report at least ``REPORT_SIZE`` long."""
    return data[_RD]


def clear_caches() -> None:
    """Forget every warm entry (tests of cold behaviour)."""
    WARM.clear()
