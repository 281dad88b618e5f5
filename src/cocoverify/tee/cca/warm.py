"""Warm CCA verification: a token whose every byte but the realm challenge and the realm
signature was verified before, under collateral of the same content.

The realm token of a realm changes from call to call only in its challenge (claim 10, a
64-byte bstr: RMM §A7.2.3.1) and its signature; everything else (the platform token, the
RAK, the measurements) is fixed for the realm's boot. The full pipeline (``pipeline.py``)
runs once and, when the token's bytes can be split so (``layout_of``), leaves a
``WarmEntry``: the realm's RAK point, the Sig_structure bytes before the payload, and the
appraisal. Per call on a hit: one dict lookup keyed by the token without the challenge and
signature bytes, the realm signature (RFC 9052 §4.4) over the new payload, then the
appraisal with the new challenge. A signature that fails runs the full pipeline, which
decides. CCA has no time-dependent check.

``LAYOUTS``: per token length, at most 4 layouts (offsets). ``WARM``: 256 entries, emptied
when full; each holds its key (the token but 64 + signature bytes, ~2 KB) and the claims.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cocoverify._core.cose import CoseSign1, bstr_head
from cocoverify.result import Appraisal, with_evidence_field

__all__ = ["LAYOUTS", "WARM", "WARM_SIZE", "Layout", "WarmEntry", "clear_caches", "layout_of"]

WARM_SIZE = 256
_CHALLENGE_HEAD = b"\x0a\x58\x40"  # key 10, bstr of 64 (RFC 8949 §3, shortest heads)


@dataclass(frozen=True, slots=True)
class Layout:
    """Offsets in the token: the challenge's 64 bytes, the realm signature, the realm
    payload."""

    challenge: int
    sig_start: int
    sig_end: int
    payload_start: int
    payload_end: int

    def key(self, content: Hashable, data: bytes) -> tuple[Hashable, Layout, bytes]:
        """What decides everything but the realm signature."""
        c, s = self.challenge, self.sig_start
        return content, self, data[:c] + data[c + 64 : s] + data[self.sig_end :]


def layout_of(data: bytes, realm_blob: bytes, realm: CoseSign1) -> Layout | None:
    """Where the challenge, the realm signature and payload are in ``data``, when each is
    found exactly once where the structure puts it; else None (no warm entry)."""
    if data.count(realm_blob) != 1:
        return None
    base = data.index(realm_blob)
    payload, sig = realm.payload, realm.signature
    if realm_blob.count(payload) != 1 or not realm_blob.endswith(sig):
        return None
    p0 = base + realm_blob.index(payload)
    s0 = base + len(realm_blob) - len(sig)
    if data[s0 - len(bstr_head(len(sig))) : s0] != bstr_head(len(sig)) or p0 + len(payload) > s0:
        return None
    # the claim, found once in the payload, is the one the parser read
    if payload.count(_CHALLENGE_HEAD) != 1:
        return None
    c = p0 + payload.index(_CHALLENGE_HEAD) + len(_CHALLENGE_HEAD)
    if c + 64 > p0 + len(payload):
        return None
    return Layout(c, s0, s0 + len(sig), p0, p0 + len(payload))


@dataclass(frozen=True, slots=True)
class WarmEntry:
    """A verified token's realm key, Sig_structure head and appraisal but the challenge."""

    point: bytes
    tbs_head: bytes
    appraisal: Appraisal

    def with_challenge(self, challenge: bytes) -> Appraisal:
        """The appraisal of a token equal to the verified one but for the challenge."""
        claims = dict(self.appraisal.claims)
        realm: dict[str, Any] = dict(claims["realm"])
        realm["challenge"] = challenge  # same position as in a cold run
        claims["realm"] = MappingProxyType(realm)
        mapping: Mapping[str, Any] = MappingProxyType(claims)
        return with_evidence_field(self.appraisal, mapping, challenge, self)


#: token length -> layouts seen (at most 4 per length, 64 lengths; emptied when full)
LAYOUTS: dict[int, tuple[Layout, ...]] = {}
#: key -> entry (GIL-atomic get/set, emptied when full)
WARM: dict[tuple[Hashable, Layout, bytes], WarmEntry] = {}


def remember(data: bytes, key: tuple[Hashable, Layout, bytes], entry: WarmEntry) -> None:
    """Keep ``entry`` and its layout."""
    if len(WARM) >= WARM_SIZE:
        WARM.clear()
    WARM[key] = entry
    known = LAYOUTS.get(len(data), ())
    if key[1] not in known:
        if len(LAYOUTS) >= 64:
            LAYOUTS.clear()
        LAYOUTS[len(data)] = (key[1], *known)[:4]


def clear_caches() -> None:
    """Forget every warm entry and layout (tests of cold behaviour)."""
    WARM.clear()
    LAYOUTS.clear()
