"""Arm CCA attestation tokens: the collection container into a frozen token view.

The two containers are the CMW collection ``#6.907({44234: [263, bstr], 44241: [263, bstr]})``
(draft-ffm-rats-cca-token; TF-RMM since RMM 1.1-alp14) and the legacy collection
``#6.399({44234: bstr, 44241: bstr})`` (Arm RMM specification §A7.2.3). Each bstr holds a
``COSE_Sign1_Tagged`` (:mod:`cocoverify._core.cose`) whose payload is the platform
(:mod:`.platform`) or realm (:mod:`.realm`) claim set. No cryptography happens here
(signatures, RAK point validation and the binding are in :mod:`cocoverify.tee.cca.verify`).
Decisions: docs/cca.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from cocoverify._core.cbor import decode_cbor, kind
from cocoverify._core.cose import TAG_COSE_SIGN1, CoseSign1, bstr_at, parse_sign1
from cocoverify.errors import MalformedEvidence
from cocoverify.tee.cca.memo import Lru
from cocoverify.tee.cca.platform import PlatformClaims, validate_platform_claims
from cocoverify.tee.cca.realm import RealmClaims, validate_realm_claims

__all__ = ["MAX_PLATFORM_TOKENS", "CcaToken", "clear_caches", "looks_like", "parse_token"]

# RMM §A7.2.3 (legacy 399) and the CMW collection (907, CoAP content-format 263)
TAG_CMW_COLLECTION = 907
TAG_LEGACY_COLLECTION = 399
CONTENT_FORMAT_EAT_CWT = 263
KEY_PLATFORM = 44234
KEY_REALM = 44241


#: Platform tokens parsed and validated, by their bytes (256 kept). A CCA platform token is
#: fetched once per boot, with the RAK's hash as challenge, and carried by every realm token
#: of that boot (RMM §A7.2.3); only tokens that passed every check are kept.
MAX_PLATFORM_TOKENS = 256
_PLATFORM_TOKENS: Lru[bytes, tuple[CoseSign1, PlatformClaims]] = Lru(MAX_PLATFORM_TOKENS)


def clear_caches() -> None:
    """Forget every platform token (tests of cold behaviour)."""
    _PLATFORM_TOKENS.clear()


@dataclass(frozen=True, slots=True)
class CcaToken:
    """A parsed CCA attestation token: both COSE_Sign1 and both validated claim sets."""

    container: str  # "cmw-907" | "collection-399"
    platform: CoseSign1
    realm: CoseSign1
    platform_claims: PlatformClaims
    realm_claims: RealmClaims
    extra_entries: tuple[int | str, ...] = ()
    #: the realm entry's bytes (the bstr-wrapped COSE_Sign1) as found in the collection
    realm_bytes: bytes = b""


def looks_like(data: bytes) -> bool:
    """CBOR tag 907 / 399 collections, or a COSE_Sign1 (tag 18 or a bare 4-element array).

    Only the first byte is looked at: a tag head (RFC 8949 §3.4) or an array of 4.
    """
    return data[:1] in (b"\xd9", b"\xd2", b"\x84", b"\xda")


def parse_token(data: bytes) -> CcaToken:
    """Decode and validate a CCA token (tag 907 CMW collection or legacy tag 399).

    Raises MalformedEvidence / UnsupportedEvidence; does no signature check.
    """
    common = _common_collection(data)
    if common is not None:
        return _parse_entries(common[0], common[1], ())
    top = decode_cbor(
        data,
        "container",
        tags=frozenset({TAG_CMW_COLLECTION, TAG_LEGACY_COLLECTION, TAG_COSE_SIGN1}),
    )
    if not isinstance(top, cbor2.CBORTag):
        raise MalformedEvidence(f"top level is {kind(top)}, not tag 907/399", field="container")
    if top.tag == TAG_CMW_COLLECTION:
        container = "cmw-907"
    elif top.tag == TAG_LEGACY_COLLECTION:
        container = "collection-399"
    else:
        raise MalformedEvidence(
            f"top-level tag {top.tag} (a bare COSE_Sign1: a PSA or lone platform token), "
            "expected a CCA collection (tag 907 or 399)",
            field="container.tag",
            offset=0,
        )
    entries = top.value
    if not isinstance(entries, Mapping):
        raise MalformedEvidence(f"collection is {kind(entries)}, not a map", field="container")
    blobs: dict[int, bytes] = {}
    extra: list[int | str] = []
    for key, value in entries.items():
        if type(key) is not int or key not in (KEY_PLATFORM, KEY_REALM):
            # unknown entries (e.g. a future CCA device token) are tolerated and reported
            if not isinstance(key, int | str) or isinstance(key, bool):
                raise MalformedEvidence(f"collection key of type {kind(key)}", field="container")
            extra.append(key)
            continue
        part = "platform" if key == KEY_PLATFORM else "realm"
        blobs[key] = _entry_bytes(value, container, f"container.{part}")
    for key, part in ((KEY_PLATFORM, "platform"), (KEY_REALM, "realm")):
        if key not in blobs:
            raise MalformedEvidence(f"{part} token ({key}) missing", field=f"container.{part}")
    return _parse_entries(container, blobs, tuple(extra))


def _parse_entries(
    container: str, blobs: Mapping[int, bytes], extra: tuple[int | str, ...]
) -> CcaToken:
    """Both COSE_Sign1 and claim sets of a collection whose entries were read."""
    known = _PLATFORM_TOKENS.get(blobs[KEY_PLATFORM])
    if known is not None:
        # the same checks, in the same order: the platform token already passed them
        platform, platform_claims = known
        realm = parse_sign1(blobs[KEY_REALM], "realm")
        realm_claims = validate_realm_claims(realm.payload)
    else:
        platform = parse_sign1(blobs[KEY_PLATFORM], "platform")
        realm = parse_sign1(blobs[KEY_REALM], "realm")
        platform_claims = validate_platform_claims(platform.payload)
        realm_claims = validate_realm_claims(realm.payload)
        _PLATFORM_TOKENS.put(blobs[KEY_PLATFORM], (platform, platform_claims))
    return CcaToken(
        container=container,
        platform=platform,
        realm=realm,
        platform_claims=platform_claims,
        realm_claims=realm_claims,
        extra_entries=extra,
        realm_bytes=blobs[KEY_REALM],
    )


#: Heads of the two collections (RFC 8949 §3.4: tag 907 / 399, then a map of two) and of
#: their keys and the CMW content-format (uint 44234, 44241, 263 in three bytes each).
_HEADS = {b"\xd9\x03\x8b\xa2": "cmw-907", b"\xd9\x01\x8f\xa2": "collection-399"}
_KEYS = {b"\x19\xac\xca": KEY_PLATFORM, b"\x19\xac\xd1": KEY_REALM}
_CMW_HEAD = b"\x82\x19\x01\x07"  # [263, ...]


def _common_collection(data: bytes) -> tuple[str, dict[int, bytes]] | None:
    """The container and the two entries of a collection in its common layout: tag 907
    with ``{44234: [263, bstr], 44241: [263, bstr]}`` or tag 399 with ``{44234: bstr,
    44241: bstr}``, keys in either order, non-empty entries, nothing after, every head the
    shortest. Such bytes pass the strict scanner and decode to these entries; anything else
    returns None (and is decoded by the generic path, with its errors)."""
    if type(data) is not bytes:
        return None
    container = _HEADS.get(data[:4])
    if container is None:
        return None
    pos = 4
    blobs: dict[int, bytes] = {}
    for _ in range(2):
        key = _KEYS.get(data[pos : pos + 3])
        if key is None or key in blobs:
            return None
        pos += 3
        if container == "cmw-907":
            if data[pos : pos + 4] != _CMW_HEAD:
                return None
            pos += 4
        span = bstr_at(data, pos)
        if span is None or span[0] == span[1]:
            return None
        blobs[key] = data[span[0] : span[1]]
        pos = span[1]
    return (container, blobs) if pos == len(data) else None


def _entry_bytes(value: Any, container: str, where: str) -> bytes:
    if container == "cmw-907":
        # CMW array [content-format 263 (application/eat+cwt), bstr]
        if not isinstance(value, list | tuple):
            raise MalformedEvidence(
                f"tag 907 entry is {kind(value)}, expected a [263, bstr] CMW array", field=where
            )
        if len(value) != 2:
            raise MalformedEvidence(f"CMW array of {len(value)} elements, expected 2", field=where)
        fmt, value = value
        if type(fmt) is not int or fmt != CONTENT_FORMAT_EAT_CWT:
            raise MalformedEvidence(
                f"CMW content-format {fmt!r}, expected 263 (application/eat+cwt)",
                field=f"{where}.content_format",
            )
    if not isinstance(value, bytes):
        raise MalformedEvidence(
            f"entry is {kind(value)}, expected a bstr-wrapped COSE_Sign1", field=where
        )
    if not value:
        raise MalformedEvidence("entry is an empty byte string", field=where)
    return value
