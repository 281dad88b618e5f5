"""COSE (RFC 9052, RFC 9053): ``COSE_Sign1_Tagged`` with ES256/ES384/ES512, EC2 ``COSE_Key``.

Decoding goes through the strict CBOR reader (:mod:`cocoverify._core.cbor`): no tags inside
headers and payloads, no duplicate or non-preferred encodings. The protected header is
kept as received, since the signature covers those bytes and not a re-encoding.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify._core.cbor import bstr, decode_cbor, int_keyed, kind
from cocoverify._core.jose import CURVES
from cocoverify._core.signatures import verify_ecdsa_raw
from cocoverify.errors import MalformedEvidence, Reason, SignatureInvalid, UnsupportedEvidence

__all__ = [
    "ALGORITHMS",
    "TAG_COSE_SIGN1",
    "CoseSign1",
    "Ec2Key",
    "bstr_at",
    "bstr_head",
    "curve_name",
    "parse_ec2_key",
    "parse_sign1",
    "sign1_verifies",
    "verify_sign1",
]

TAG_COSE_SIGN1 = 18  # RFC 9052 §4.2
#: COSE algorithm id -> (name, curve, coordinate bytes); RFC 9053 §2.1.
ALGORITHMS: Mapping[int, tuple[str, str, int]] = {
    -7: ("ES256", "P-256", 32),
    -35: ("ES384", "P-384", 48),
    -36: ("ES512", "P-521", 66),
}
_HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {
    "P-256": hashes.SHA256,
    "P-384": hashes.SHA384,
    "P-521": hashes.SHA512,
}
#: COSE_Key ``crv`` (RFC 9053 §7.1) -> (curve, coordinate bytes).
_COSE_CURVES = {1: ("P-256", 32), 2: ("P-384", 48), 3: ("P-521", 66)}
_CURVE_NAMES = {curve.name: name for name, curve in CURVES.items()}


#: ``[`` of four items and the text "Signature1" (RFC 9052 §4.4, RFC 8949 §3.1).
_SIG1_HEAD = b"\x84\x6aSignature1"


def _bstr_head(n: int) -> bytes:
    """The shortest head of a byte string of ``n`` bytes (RFC 8949 §3, §4.2.1)."""
    if n < 24:
        return bytes((0x40 | n,))
    if n < 0x100:
        return bytes((0x58, n))
    if n < 0x10000:
        return b"\x59" + n.to_bytes(2, "big")
    if n < 0x100000000:
        return b"\x5a" + n.to_bytes(4, "big")
    return b"\x5b" + n.to_bytes(8, "big")


#: public name of the shortest byte-string head
bstr_head = _bstr_head


@dataclass(frozen=True, slots=True)
class CoseSign1:
    """A ``COSE_Sign1_Tagged`` (RFC 9052 §4.2), protected header kept as received."""

    protected: bytes
    alg: int
    kid: bytes | None
    payload: bytes
    signature: bytes

    @property
    def alg_name(self) -> str:
        """``ES256`` / ``ES384`` / ``ES512``."""
        return ALGORITHMS[self.alg][0]

    def to_be_signed(self) -> bytes:
        """``Sig_structure`` = ["Signature1", protected, h'' (external_aad), payload]
        (RFC 9052 §4.4), in preferred serialization (the bytes ``cbor2.dumps`` writes)."""
        protected, payload = self.protected, self.payload
        head, empty = _SIG1_HEAD, b"\x40"
        return b"".join(
            (head, _bstr_head(len(protected)), protected, empty, _bstr_head(len(payload)), payload)
        )


@dataclass(frozen=True, slots=True)
class Ec2Key:
    """An EC2 ``COSE_Key`` (RFC 9053 §7.1.1): curve and affine coordinates, not yet on-curve
    checked; ``alg`` (label 3) when given."""

    curve: str
    x: bytes
    y: bytes
    alg: int | None = None


def bstr_at(data: bytes, pos: int) -> tuple[int, int] | None:
    """(start, end) of the content of a definite byte string at ``pos`` whose head is the
    shortest for its length (RFC 8949 §4.2.1) and which ends inside ``data``; None for
    anything else (including lengths of 2^32 bytes or more)."""
    if pos >= len(data):
        return None
    ib = data[pos]
    if ib >> 5 != 2:
        return None
    ai = ib & 0x1F
    if ai < 24:
        start, n = pos + 1, ai
    elif ai == 24:
        start, n = pos + 2, data[pos + 1] if pos + 1 < len(data) else 0
        if n < 24:
            return None
    elif ai == 25:
        start, n = pos + 3, int.from_bytes(data[pos + 1 : pos + 3], "big")
        if n < 0x100 or start > len(data):
            return None
    elif ai == 26:
        start, n = pos + 5, int.from_bytes(data[pos + 1 : pos + 5], "big")
        if n < 0x10000 or start > len(data):
            return None
    else:
        return None
    end = start + n
    return (start, end) if end <= len(data) else None


def _common_sign1(data: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(protected, payload, signature) of the common ``COSE_Sign1_Tagged`` layout: tag 18,
    an array of four, a non-empty protected bstr, an empty unprotected map, the payload and
    signature bstrs, nothing after, every head the shortest. Such bytes pass the strict
    scanner and decode to exactly these parts; anything else returns None (and is decoded
    by the generic path, with its errors)."""
    if type(data) is not bytes or data[:2] != b"\xd2\x84":
        return None
    prot = bstr_at(data, 2)
    if prot is None or prot[1] == prot[0] or data[prot[1] : prot[1] + 1] != b"\xa0":
        return None
    payload = bstr_at(data, prot[1] + 1)
    if payload is None:
        return None
    sig = bstr_at(data, payload[1])
    if sig is None or sig[1] != len(data):
        return None
    return (
        data[prot[0] : prot[1]],
        data[payload[0] : payload[1]],
        data[sig[0] : sig[1]],
    )


def parse_sign1(data: bytes, part: str) -> CoseSign1:
    """Decode a ``COSE_Sign1_Tagged``; ``part`` (e.g. "platform") names fields in errors."""
    where = f"{part}.cose"
    common = _common_sign1(data)
    if common is not None:
        protected, payload, signature = common
        unprotected: Any = {}
    else:
        obj = decode_cbor(data, where, tags=frozenset({TAG_COSE_SIGN1}))
        if not isinstance(obj, cbor2.CBORTag):
            raise MalformedEvidence(
                f"{part} token is {kind(obj)}, not COSE_Sign1_Tagged (tag 18)",
                field=where,
                offset=0,
            )
        if obj.tag != TAG_COSE_SIGN1:
            raise MalformedEvidence(
                f"tag {obj.tag}, expected 18 (COSE_Sign1)", field=where, offset=0
            )
        arr = obj.value
        if not isinstance(arr, list | tuple) or len(arr) != 4:
            raise MalformedEvidence("COSE_Sign1 is not a 4-element array", field=where)
        protected, unprotected, payload, signature = arr
    if not isinstance(protected, bytes) or not protected:
        raise MalformedEvidence(
            "protected header must be a non-empty bstr", field=f"{part}.protected"
        )
    prot = _protected_header(protected, part)
    unprot = int_keyed(unprotected, f"{part}.unprotected")
    both = set(prot) & set(unprot)
    if both:
        raise MalformedEvidence(
            f"header label {min(both)} in both protected and unprotected (RFC 9052 §3)",
            field=f"{part}.unprotected",
        )
    if 2 in prot or 2 in unprot:  # crit, RFC 9052 §3.1
        raise UnsupportedEvidence(
            "critical COSE header parameters are not supported", reason=Reason.UNSUPPORTED_ALGORITHM
        )
    if 1 not in prot:
        if 1 in unprot:
            raise MalformedEvidence("alg must be a protected header", field=f"{part}.unprotected")
        raise MalformedEvidence("alg (1) missing from protected header", field=f"{part}.protected")
    alg = prot[1]
    if type(alg) is not int or alg not in ALGORITHMS:
        raise UnsupportedEvidence(
            f"{part} COSE alg {alg!r} (supported: ES256, ES384, ES512)",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    kid = prot.get(4, unprot.get(4))
    if kid is not None and not isinstance(kid, bytes):
        raise MalformedEvidence("kid (4) must be a bstr", field=f"{part}.kid")
    if payload is None:
        raise MalformedEvidence("detached payload (nil)", field=f"{part}.payload")
    if not isinstance(payload, bytes):
        raise MalformedEvidence(f"payload is {kind(payload)}, not bstr", field=f"{part}.payload")
    if not isinstance(signature, bytes):
        raise MalformedEvidence(
            f"signature is {kind(signature)}, not bstr", field=f"{part}.signature"
        )
    return CoseSign1(protected=protected, alg=alg, kid=kid, payload=payload, signature=signature)


def _protected_header(protected: bytes, part: str) -> Mapping[int, Any]:
    """The protected header map (integer labels); memoised by its bytes (256 kept, errors
    not kept): a token issuer writes the same few headers."""
    if type(protected) is bytes:
        return _protected_header_memo(protected, part)
    return int_keyed(decode_cbor(protected, f"{part}.protected"), f"{part}.protected")


@functools.lru_cache(maxsize=256)
def _protected_header_memo(protected: bytes, part: str) -> Mapping[int, Any]:
    where = f"{part}.protected"
    return MappingProxyType(int_keyed(decode_cbor(protected, where), where))


def parse_ec2_key(raw: bytes, where: str) -> Ec2Key:
    """A bstr-wrapped EC2 public ``COSE_Key`` on P-256/384/521 (RFC 9053 §7.1.1).

    Uncompressed only (a bool ``y`` is refused), no private ``d``; ``alg`` when present
    must be ES256/ES384/ES512. A pure function of the bytes, memoised (256 keys; errors are
    not kept): a CCA RAK stays the same across the tokens of one boot.
    """
    if type(raw) is bytes:
        return _parse_ec2_key_memo(raw, where)
    return _parse_ec2_key(raw, where)


@functools.lru_cache(maxsize=256)
def _parse_ec2_key_memo(raw: bytes, where: str) -> Ec2Key:
    return _parse_ec2_key(raw, where)


def _parse_ec2_key(raw: bytes, where: str) -> Ec2Key:
    m = int_keyed(decode_cbor(raw, where), where)
    if m.get(1) != 2 or type(m.get(1)) is not int:
        raise MalformedEvidence("COSE_Key kty must be 2 (EC2)", field=f"{where}.kty")
    crv = m.get(-1)
    if type(crv) is not int or crv not in _COSE_CURVES:
        raise MalformedEvidence(f"COSE_Key crv {crv!r} not P-256/384/521", field=f"{where}.crv")
    if -4 in m:
        raise MalformedEvidence("COSE_Key carries a private key (d)", field=f"{where}.d")
    curve, size = _COSE_CURVES[crv]
    x = bstr(m, -2, f"{where}.x", (size,))
    y = bstr(m, -3, f"{where}.y", (size,))
    alg = m.get(3)
    if alg is not None and (type(alg) is not int or alg not in ALGORITHMS):
        raise MalformedEvidence(f"COSE_Key alg {alg!r}", field=f"{where}.alg")
    return Ec2Key(curve, x, y, alg)


# --- signatures (RFC 9052 §4.4, RFC 9053 §2.1) -----------------------------------------------


def curve_name(key: ec.EllipticCurvePublicKey) -> str | None:
    """``P-256`` / ``P-384`` / ``P-521`` or None for any other curve."""
    return _CURVE_NAMES.get(key.curve.name)


def sign1_verifies(sign1: CoseSign1, key: ec.EllipticCurvePublicKey) -> bool:
    """True when ``key`` has the alg's curve and the raw r||s signature verifies (RFC 9053 §2.1)."""
    _, curve, size = ALGORITHMS[sign1.alg]
    if curve_name(key) != curve or len(sign1.signature) != 2 * size:
        return False
    return verify_ecdsa_raw(key, sign1.signature, sign1.to_be_signed(), _HASHES[curve]())


def verify_sign1(sign1: CoseSign1, key: ec.EllipticCurvePublicKey, part: str) -> None:
    """Raise SignatureInvalid unless ``key`` verifies ``sign1``."""
    _, curve, _ = ALGORITHMS[sign1.alg]
    if curve_name(key) != curve:
        raise SignatureInvalid(
            f"{part} token is {sign1.alg_name}, the key is on {curve_name(key) or key.curve.name}",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    if not sign1_verifies(sign1, key):
        raise SignatureInvalid(f"{part} token signature does not verify")
