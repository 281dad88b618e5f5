"""Warm Intel verification: a quote whose every byte but the report body and the quote
signature was verified before, at a time the same checks give the same answers.

The full pipeline (``pipeline.py``) runs once per (platform, collateral set, TCB-relevant
body fields) and leaves a ``WarmEntry``: the bytes it verified (header, signature-data
length, attestation key, QE report and signature, QE auth data, certification data), the
number of trailing bytes, the ``claims.StaticParts`` of its appraisal, and the interval of
verification times ``[lo, hi)`` over which every time check of the pipeline gives the same
answer. Per call, after the native parse and quote signature check: one dict lookup, three
``bytes.startswith`` comparisons of the stored bytes against the quote (no copy), two
integer comparisons of the time, then the appraisal of the new body.

The interval comes from a ``TimeProbe``: the pipeline runs with the verification time as an
``int`` subclass that records every number it is compared with (certificate, CRL, TCB Info
and QE Identity windows; candidate choice). Between two consecutive recorded numbers each
comparison has one outcome, so the pipeline takes the same path and returns the same
appraisal. Any other use of the probe (hashing, arithmetic, formatting, conversion) taints
it, and a tainted run leaves no entry.

``WARM`` (per ``PreparedCollateral``): key (attestation key, TCB-relevant TD body fields):
512 entries of about 7 KB (the stored quote bytes and claims).
"""

from __future__ import annotations

from dataclasses import dataclass

from cocoverify._backend._contract import QuoteFields
from cocoverify._core.timeprobe import TimeProbe
from cocoverify.tee.intel.claims import StaticParts

__all__ = ["WARM_SIZE", "TimeProbe", "WarmEntry", "warm_key"]

#: Entries per collateral set (each holds the quote bytes it compares, about 5 KB, and its
#: claims: at most ~4 MB per set).
WARM_SIZE = 512


def warm_key(data: bytes, f: QuoteFields) -> bytes:
    """The attestation key, and for a TD the body fields the TCB verdict reads
    (``tcb.tcb_inputs``: TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, SEAMATTRIBUTES, TEE_TCB_SVN2)."""
    ak = f.attestation_key_offset
    if f.body_type == 1:
        return data[ak : ak + 64]
    b = f.body_offset
    key = data[ak : ak + 64] + data[b : b + 120]
    if f.body_type == 3:
        key += data[b + 584 : b + 600]
    return key


@dataclass(frozen=True, slots=True)
class WarmEntry:
    """A verified quote's static bytes, its appraisal's static parts and time interval."""

    header: bytes  # data[:body_offset]
    middle: bytes  # data[body end:signature_offset] (the signature-data length)
    tail: bytes  # data[signature_offset + 64:length]
    trailing: int
    lo: int
    hi: int
    parts: StaticParts

    @classmethod
    def of(
        cls, data: bytes, f: QuoteFields, interval: tuple[int, int], parts: StaticParts
    ) -> WarmEntry:
        """The entry of a quote the pipeline accepted, for ``interval``."""
        sig = f.signature_offset
        return cls(
            data[: f.body_offset],
            data[f.signed_end : sig],
            data[sig + 64 : f.length],
            len(data) - f.length,
            interval[0],
            interval[1],
            parts,
        )

    def matches(self, data: bytes, f: QuoteFields, at_us: int) -> bool:
        """``data`` equals the verified quote but for the body and the quote signature,
        and every time check gives at ``at_us`` what it gave then."""
        sig = f.signature_offset + 64
        return (
            self.lo <= at_us < self.hi
            and f.body_offset == len(self.header)
            and f.signature_offset - f.signed_end == len(self.middle)
            and f.length - sig == len(self.tail)
            and len(data) - f.length == self.trailing
            and data.startswith(self.header)
            and data.startswith(self.middle, f.signed_end)
            and data.startswith(self.tail, sig)
        )
