"""AWS Nitro Enclaves attestation documents: COSE_Sign1 and its CBOR payload into frozen views.

The envelope is a ``COSE_Sign1`` (RFC 9052 §4.2), tagged (18) or untagged (NSM
attestation_process §3.1: "can be encoded as either tagged or untagged"); the payload is the
``AttestationDocument`` map of NSM attestation_process §2.2, checked as §3.2.2 says. Both are
decoded through the strict CBOR reader (:mod:`cocoverify._core.cbor`). No cryptography here:
the chain and the signature are :mod:`cocoverify.tee.nitro.verify`. Decisions: docs/nitro.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from cocoverify._core.cbor import decode_cbor, kind
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "ALG_ES384",
    "KEYS",
    "MANDATORY",
    "NitroDocument",
    "NitroPayload",
    "looks_like",
    "parse_document",
    "parse_payload",
]

TAG_COSE_SIGN1 = 18  # RFC 9052 §4.2
ALG_ES384 = -35  # RFC 9053 §2.1
SIGNATURE_SIZE = 96  # r || s, 48 bytes each (RFC 9053 §2.1)
#: NSM §3.1: payload ``bstr .size (1..16384)``
MAX_PAYLOAD = 16384
#: NSM §2.2 ``cert = bytes .size (1..1024)``; ``user_data = bytes .size (0..1024)``
MAX_CERT = 1024
MAX_USER_DATA = 1024
PCR_SIZES = (32, 48, 64)  # NSM §3.2.2.2
MAX_PCRS = 32

#: The payload keys in NSM order (§2.2); the first six are mandatory (§3.2.2.1).
KEYS = (
    "module_id",
    "digest",
    "timestamp",
    "pcrs",
    "certificate",
    "cabundle",
    "public_key",
    "user_data",
    "nonce",
)
MANDATORY = KEYS[:6]
_KEY_BYTES = frozenset(k.encode() for k in KEYS)


@dataclass(frozen=True, slots=True)
class NitroPayload:
    """The ``AttestationDocument`` (NSM §2.2); optional fields None when absent or null."""

    module_id: str
    digest: str
    timestamp: int  # milliseconds since the Unix epoch, UTC
    pcrs: Mapping[int, bytes]  # sorted by index
    certificate: bytes  # DER
    cabundle: tuple[bytes, ...]  # DER, [root, intermediate_1, ..., intermediate_n]
    public_key: bytes | None
    user_data: bytes | None
    nonce: bytes | None


@dataclass(frozen=True, slots=True)
class NitroDocument:
    """A parsed attestation document; ``protected`` and ``payload`` as received (signed bytes)."""

    tagged: bool
    protected: bytes
    payload: bytes
    signature: bytes
    doc: NitroPayload

    def to_be_signed(self) -> bytes:
        """``Sig_structure`` = ["Signature1", protected, h'' (external_aad), payload]
        (RFC 9052 §4.4)."""
        return bytes(cbor2.dumps(["Signature1", self.protected, b"", self.payload]))


# --- recognition ----------------------------------------------------------------------------


def _head(data: bytes, pos: int) -> tuple[int, int, int] | None:
    """(major type, argument, position after the head) of a definite-length item, or None."""
    if pos >= len(data):
        return None
    ib = data[pos]
    major, ai = ib >> 5, ib & 0x1F
    if ai < 24:
        return major, ai, pos + 1
    if ai > 27:
        return None
    n = 1 << (ai - 24)
    if pos + 1 + n > len(data):
        return None
    return major, int.from_bytes(data[pos + 1 : pos + 1 + n], "big"), pos + 1 + n


def _skip(data: bytes, pos: int, depth: int = 0) -> int | None:
    """Position after the item at ``pos`` (bounded: depth 16, lengths checked), or None."""
    head = _head(data, pos)
    if head is None or depth > 16:
        return None
    major, arg, pos = head
    if major in (2, 3):
        return pos + arg if pos + arg <= len(data) else None
    if major in (4, 5):
        count = arg * (2 if major == 5 else 1)
        if count > len(data) - pos:
            return None
        for _ in range(count):
            end = _skip(data, pos, depth + 1)
            if end is None:
                return None
            pos = end
        return pos
    if major == 6:
        return _skip(data, pos, depth + 1)
    return pos


def _payload_keys(payload: bytes) -> set[bytes]:
    """The text keys at the top level of a CBOR map (empty when it is not one)."""
    head = _head(payload, 0)
    if head is None or head[0] != 5:
        return set()
    _, count, pos = head
    keys: set[bytes] = set()
    for _ in range(min(count, 64)):
        key = _head(payload, pos)
        if key is None:
            break
        if key[0] == 3 and key[2] + key[1] <= len(payload):
            keys.add(payload[key[2] : key[2] + key[1]])
            if len(keys & _KEY_BYTES) >= 3:  # enough: NSM writes module_id, digest, timestamp first
                break
        end = _skip(payload, pos)
        end = None if end is None else _skip(payload, end)
        if end is None:
            break
        pos = end
    return keys


def looks_like(data: bytes) -> bool:
    """A COSE_Sign1 (tag 18 or a bare 4-element array) whose payload is a map with at least
    three of the nine NSM keys (§2.2) as text keys. Never raises.

    Arm CCA tokens are tag 907/399 collections and their COSE_Sign1 payloads are
    integer-keyed claim sets, so this never claims one.
    """
    try:
        pos = 1 if data[:1] == b"\xd2" else 0
        if data[pos : pos + 1] != b"\x84":
            return False
        pos += 1
        for _ in range(2):  # protected header, unprotected header
            end = _skip(data, pos)
            if end is None:
                return False
            pos = end
        head = _head(data, pos)
        if head is None or head[0] != 2 or head[2] + head[1] > len(data):
            return False
        payload = data[head[2] : head[2] + head[1]]
        return len(_payload_keys(payload) & _KEY_BYTES) >= 3
    except (IndexError, ValueError, RecursionError):  # pragma: no cover - defensive
        return False


# --- strict parsing -------------------------------------------------------------------------


def parse_document(data: bytes) -> NitroDocument:
    """Decode and check a document (NSM §3.1, §3.2.2); steps 1-3 of docs/nitro.md.

    Raises MalformedEvidence, or UnsupportedEvidence (``unsupported_algorithm``) when the
    protected header names another algorithm than ES384.
    """
    tagged = data[:1] == b"\xd2"
    # 1. COSE_Sign1 (RFC 9052 §4.2): tag 18 at the top or none, nothing inside is tagged
    obj = decode_cbor(data[1:] if tagged else data, "cose")
    if not isinstance(obj, list | tuple) or len(obj) != 4:
        raise MalformedEvidence(
            f"COSE_Sign1 is {kind(obj)}, not a 4-element array", field="cose", offset=0
        )
    protected, unprotected, payload, signature = obj
    for name, value in (("protected", protected), ("payload", payload), ("signature", signature)):
        if not isinstance(value, bytes):
            raise MalformedEvidence(f"{name} is {kind(value)}, not bstr", field=f"cose.{name}")
    if not isinstance(unprotected, Mapping):
        raise MalformedEvidence(
            f"unprotected header is {kind(unprotected)}, not a map", field="cose.unprotected"
        )
    # 2. Protected header {1: -35} (NSM §3.1), nothing unprotected, 96-byte r || s signature
    _check_headers(protected, unprotected)
    if len(signature) != SIGNATURE_SIZE:
        raise UnsupportedEvidence(
            f"signature of {len(signature)} bytes; ES384 signatures are {SIGNATURE_SIZE} (r || s)",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    # 3. The AttestationDocument (NSM §2.2, §3.2.2)
    if not 1 <= len(payload) <= MAX_PAYLOAD:
        raise MalformedEvidence(
            f"payload of {len(payload)} bytes (1..{MAX_PAYLOAD})", field="cose.payload"
        )
    doc = parse_payload(payload)
    return NitroDocument(tagged, protected, payload, signature, doc)


def _check_headers(protected: bytes, unprotected: Mapping[Any, Any]) -> None:
    prot = decode_cbor(protected, "cose.protected") if protected else {}
    if not isinstance(prot, Mapping):
        raise MalformedEvidence(
            f"protected header is {kind(prot)}, not a map", field="cose.protected"
        )
    if 1 not in prot or type(prot.get(1)) is bool:
        raise MalformedEvidence("alg (1) missing from the protected header", field="cose.protected")
    alg = prot[1]
    if type(alg) is not int or alg != ALG_ES384:
        raise UnsupportedEvidence(
            f"COSE alg {alg!r}; AWS Nitro documents are ES384 (-35)",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    extra = [k for k in prot if not (type(k) is int and k == 1)]
    if extra:
        raise MalformedEvidence(
            f"protected header carries {extra[0]!r} besides alg", field="cose.protected"
        )
    if unprotected:
        raise MalformedEvidence(
            "unprotected header is not empty (NSM: nothing is unprotected)",
            field="cose.unprotected",
        )


def _bstr(value: Any, where: str, low: int, high: int) -> bytes:
    if not isinstance(value, bytes):
        raise MalformedEvidence(f"expected bstr, got {kind(value)}", field=where)
    if not low <= len(value) <= high:
        raise MalformedEvidence(f"{len(value)} bytes ({low}..{high})", field=where)
    return value


def parse_payload(payload: bytes) -> NitroPayload:
    """The ``AttestationDocument`` map, every field checked (NSM §3.2.2).

    Exactly the nine keys of §2.2 may occur; the six mandatory ones must, and must not be
    null. An optional field may be CBOR null, which real NSM output uses for "absent".
    """
    m = decode_cbor(payload, "payload")
    if not isinstance(m, Mapping):
        raise MalformedEvidence(f"payload is {kind(m)}, not a map", field="payload", offset=0)
    for key in m:
        if not isinstance(key, str) or key not in KEYS:
            shown = key if isinstance(key, str) and len(key) <= 40 else kind(key)
            raise MalformedEvidence(f"unexpected key {shown!r}", field="payload")
    for key in MANDATORY:
        if m.get(key) is None:
            what = "null" if key in m else "missing"
            raise MalformedEvidence(f"mandatory field is {what}", field=f"payload.{key}")
    module_id = m["module_id"]
    if not isinstance(module_id, str) or not module_id:
        raise MalformedEvidence("expected a non-empty tstr", field="payload.module_id")
    digest = m["digest"]
    if not isinstance(digest, str) or digest != "SHA384":
        raise MalformedEvidence(f"digest {digest!r}, expected 'SHA384'", field="payload.digest")
    timestamp = m["timestamp"]
    if type(timestamp) is not int or not 0 < timestamp < 1 << 64:
        raise MalformedEvidence("expected a uint > 0", field="payload.timestamp")
    pcrs = _pcrs(m["pcrs"])
    certificate = _bstr(m["certificate"], "payload.certificate", 1, MAX_CERT)
    bundle = m["cabundle"]
    if not isinstance(bundle, list | tuple) or not bundle:
        raise MalformedEvidence("expected a non-empty array", field="payload.cabundle")
    cabundle = tuple(_bstr(c, f"payload.cabundle[{i}]", 1, MAX_CERT) for i, c in enumerate(bundle))
    optional = {
        key: None if m.get(key) is None else _bstr(m[key], f"payload.{key}", 0, MAX_USER_DATA)
        for key in ("public_key", "user_data", "nonce")
    }
    return NitroPayload(
        module_id=module_id,
        digest=digest,
        timestamp=timestamp,
        pcrs=pcrs,
        certificate=certificate,
        cabundle=cabundle,
        **optional,
    )


def _pcrs(value: Any) -> Mapping[int, bytes]:
    if not isinstance(value, Mapping):
        raise MalformedEvidence(f"expected a map, got {kind(value)}", field="payload.pcrs")
    if not 1 <= len(value) <= MAX_PCRS:
        raise MalformedEvidence(f"{len(value)} PCRs (1..{MAX_PCRS})", field="payload.pcrs")
    out: dict[int, bytes] = {}
    for index, pcr in value.items():
        if type(index) is not int or not 0 <= index < MAX_PCRS:
            raise MalformedEvidence(f"PCR index {index!r} not in [0, 32)", field="payload.pcrs")
        where = f"payload.pcrs[{index}]"
        if not isinstance(pcr, bytes):
            raise MalformedEvidence(f"expected bstr, got {kind(pcr)}", field=where)
        if len(pcr) not in PCR_SIZES:
            raise MalformedEvidence(f"{len(pcr)} bytes, expected 32, 48 or 64", field=where)
        out[index] = pcr
    return dict(sorted(out.items()))
