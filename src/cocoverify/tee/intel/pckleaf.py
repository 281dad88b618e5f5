"""A new platform's type-5 PCK chain under CA certificates read before: only its leaf is new.

``pck.read_platform`` reads type-5 certification data with ``cryptography``: every field of
the leaf decoded (``_core.x509.force_parse``), the chain ordered by names, the leaf's
signature checked by ``verify_directly_issued_by``. Most of that time goes to building the
leaf's subject and issuer names (Python objects) and to the signature check's own key
handling, although every PCK leaf under one CA carries the same name bytes. ``read_new_leaf``
gives the same ``Platform`` (field by field: tests/tee/intel/test_pckleaf.py) with less work:

* the leaf is loaded and decoded by ``cryptography`` as before (``force_parse``'s accesses),
  but for its two names: a name whose DER bytes were decoded before (``NAMES``) is taken as
  decoded then (decoding is a function of the bytes), else decoded now;
* the order of the chain (``pck.chain_order``), a function of the six names, is kept by their
  bytes (``ORDERS``);
* the leaf's signature: when its signature algorithm (inside and outside the TBS) is
  ecdsa-with-SHA256, its issuer name is byte for byte the PCK CA's subject and the signature
  is a DER ECDSA-Sig-Value in canonical form, the TBS bytes ``cryptography`` re-encodes are
  checked with the PCK CA's P-256 point by ``_backend.ecdsa_verify`` (native: libcrypto with
  the CA's key handle cached); otherwise ``verify_directly_issued_by`` as before;
* the CA certificates' facts (fingerprint, names, point, CA flag) are kept by the bytes they
  were read from (``CA_ENTRIES``).

The first chain under new CA certificates is read by ``read_platform``, then by
``read_new_leaf`` once more (``prime``, result unused) so that the next platform finds
these tables ready. Anything else (DER certification data, a chain not in leaf, PCK CA,
root order, a CA certificate not read before, a leaf ``cryptography`` cannot decode, a
non-positive serial) returns None and ``pck.read_platform`` reads the data as before, with
its exact errors.
Tables: ``CA_ENTRIES`` 64, ``NAMES`` 256, ``ORDERS`` 64 (bytes keys, small values).
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cocoverify import _backend
from cocoverify._core.x509 import (
    PARSE_ERRORS,
    common_name,
    fingerprint,
    is_ca,
    pem_blocks,
    signature_valid,
)
from cocoverify.tee.intel.cache import Memo
from cocoverify.tee.intel.pck import (
    _PEM_STRICT,
    CA_BLOCKS,
    ChainNames,
    PckInfo,
    Platform,
    chain_order,
    intern_ca,
    plan_pck_chain,
)

__all__ = ["CA_ENTRIES", "NAMES", "ORDERS", "CaEntry", "der_walk", "prime", "read_new_leaf"]

#: AlgorithmIdentifier ecdsa-with-SHA256 without parameters (RFC 5758 section 3.2).
_ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")
#: SubjectPublicKeyInfo of a P-256 key up to the uncompressed point's 0x04 (RFC 5480).
_P256_SPKI = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d03010703420004")
_BEGIN_LEN = len(b"-----BEGIN CERTIFICATE-----\n")
_END_LEN = len(b"-----END CERTIFICATE-----")


def _tlv(data: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """(tag, value start, value end) of the DER element at ``pos`` (single-byte tag,
    definite minimal length, inside ``end``); ValueError otherwise."""
    if pos + 2 > end:
        raise ValueError("truncated")
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tag")
    pos += 2
    if first >= 0x80:
        n = first & 0x7F
        if n == 0 or n > 3 or pos + n > end or data[pos] == 0:
            raise ValueError("length")
        length = int.from_bytes(data[pos : pos + n], "big")
        if length < 0x80:
            raise ValueError("length")
        pos += n
    else:
        length = first
    if pos + length > end:
        raise ValueError("truncated")
    return tag, pos, pos + length


@dataclass(frozen=True, slots=True)
class DerCertificate:
    """Byte ranges of a certificate (RFC 5280 section 4.1), from its DER."""

    serial: bytes  # the INTEGER's content octets
    inner_algorithm: bytes  # whole TLVs from here on
    issuer: bytes
    subject: bytes
    spki: bytes
    outer_algorithm: bytes
    signature: bytes  # the BIT STRING's content octets (unused-bits octet first)


def der_walk(der: bytes) -> DerCertificate:
    """The fields of ``der`` this module reads; ValueError when it is not laid out as
    Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }."""
    tag, start, end = _tlv(der, 0, len(der))
    if tag != 0x30 or end != len(der):
        raise ValueError("not one SEQUENCE")
    tag, t_start, t_end = _tlv(der, start, end)
    if tag != 0x30:
        raise ValueError("tbsCertificate")
    fields: list[tuple[int, int, int, int]] = []
    pos = t_start
    while pos < t_end and len(fields) < 8:
        f_tag, v_start, v_end = _tlv(der, pos, t_end)
        fields.append((f_tag, pos, v_start, v_end))
        pos = v_end
    if fields and fields[0][0] == 0xA0:  # version [0] EXPLICIT
        fields = fields[1:]
    tags = [f[0] for f in fields[:6]]
    if tags != [0x02, 0x30, 0x30, 0x30, 0x30, 0x30]:
        raise ValueError("tbsCertificate fields")
    (_, _, s0, s1), alg, iss, _, sub, spki = fields[:6]
    tag, _, a_end = _tlv(der, t_end, end)
    if tag != 0x30:
        raise ValueError("signatureAlgorithm")
    tag, b_start, b_end = _tlv(der, a_end, end)
    if tag != 0x03 or b_end != end:
        raise ValueError("signatureValue")
    return DerCertificate(
        serial=der[s0:s1],
        inner_algorithm=der[alg[1] : alg[3]],
        issuer=der[iss[1] : iss[3]],
        subject=der[sub[1] : sub[3]],
        spki=der[spki[1] : spki[3]],
        outer_algorithm=der[t_end:a_end],
        signature=der[b_start:b_end],
    )


def _positive_minimal(value: bytes) -> bool:
    """A DER INTEGER's content octets: minimal and positive (RFC 5280 section 4.1.2.2:
    ``cryptography`` warns of any other serial, so those go the way they went before)."""
    if not value or value[0] & 0x80:
        return False
    if value[0] == 0:
        return len(value) > 1 and bool(value[1] & 0x80)
    return True


def _raw_signature(bits: bytes) -> bytes | None:
    """r||s (32 bytes each) of an ECDSA-Sig-Value (RFC 3279 section 2.2.3) in canonical DER
    inside a BIT STRING with no unused bits; None for anything else."""
    if len(bits) < 3 or bits[0] != 0 or bits[1] != 0x30 or bits[2] != len(bits) - 3:
        return None
    out = b""
    pos = 3
    for _ in range(2):
        if pos + 2 > len(bits) or bits[pos] != 0x02:
            return None
        n = bits[pos + 1]
        value = bits[pos + 2 : pos + 2 + n]
        if n == 0 or n >= 0x80 or len(value) != n or value[0] & 0x80:
            return None
        if value[0] == 0 and n > 1 and not value[1] & 0x80:
            return None
        value = value.lstrip(b"\x00")
        if len(value) > 32:
            return None
        out += value.rjust(32, b"\x00")
        pos += 2 + n
    return out if pos == len(bits) else None


@dataclass(frozen=True, slots=True)
class CaEntry:
    """A CA certificate read from certification data before, and its facts."""

    cert: x509.Certificate
    fingerprint: str
    subject_der: bytes
    issuer_der: bytes
    subject: x509.Name
    issuer: x509.Name
    subject_cn: str
    point: bytes | None  # X||Y of a P-256 key
    ca: bool


#: CA certificates (``pck.CA_BLOCKS``) and their facts, by the bytes they were read from: 64.
CA_ENTRIES: Memo[bytes, CaEntry] = Memo("intel-ca-entries", 64)
#: DER of a name that ``cryptography`` decoded -> (the name, its first CN): 256 entries.
NAMES: Memo[bytes, tuple[x509.Name, str]] = Memo("intel-names", 256)
#: DER of the six names of three different certificates -> ``pck.chain_order``: 64 entries.
ORDERS: Memo[tuple[bytes, ...], tuple[int, ...]] = Memo("intel-chain-orders", 64)


def _der_of_block(block: bytes) -> bytes | None:
    """The DER of a strict PEM block (``pck._PEM_STRICT``), when its base64 is canonical
    (what ``cryptography``'s PEM reader takes); None otherwise."""
    text = block[_BEGIN_LEN:-_END_LEN].replace(b"\n", b"")
    try:
        der = binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        return None
    return der if binascii.b2a_base64(der, newline=False) == text else None


def _ca_entry(block: bytes) -> CaEntry | None:
    found = CA_ENTRIES.get(block)
    if found is not None:
        return found
    cert = CA_BLOCKS.get(block)  # read from these bytes and force_parse'd before
    der = _der_of_block(block) if cert is not None else None
    if cert is None or der is None:
        return None
    try:
        walked = der_walk(der)
    except ValueError:
        return None
    key = cert.public_key()
    point = None
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        point = key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)[1:]
    entry = CaEntry(
        cert,
        fingerprint(cert),
        walked.subject,
        walked.issuer,
        cert.subject,
        cert.issuer,
        common_name(cert.subject),
        point,
        is_ca(cert),
    )
    return CA_ENTRIES.put(block, entry)


def _name(leaf: x509.Certificate, der: bytes, subject: bool) -> tuple[x509.Name, str]:
    found = NAMES.get(der)
    if found is None:
        name = leaf.subject if subject else leaf.issuer
        found = NAMES.put(der, (name, common_name(name)))
    return found


def _leaf_link(
    leaf: x509.Certificate, walked: DerCertificate, inter: CaEntry
) -> Callable[[x509.Certificate, x509.Certificate], bool]:
    """``signature_valid`` for the leaf's link, through ``_backend.ecdsa_verify`` when the
    certificate's form allows (module docstring)."""

    def link(child: x509.Certificate, parent: x509.Certificate) -> bool:
        raw = _raw_signature(walked.signature)
        if (
            child is not leaf
            or parent is not inter.cert
            or inter.point is None
            or raw is None
            or walked.inner_algorithm != _ECDSA_SHA256
            or walked.outer_algorithm != _ECDSA_SHA256
            or walked.issuer != inter.subject_der
        ):
            return signature_valid(child, parent)
        return _backend.ecdsa_verify(inter.point, leaf.tbs_certificate_bytes, raw)

    return link


def read_new_leaf(
    data: bytes, *, claims: Callable[[PckInfo], Mapping[str, Any]] | None = None
) -> Platform | None:
    """``pck.read_platform(data, claims=claims)`` for PEM leaf, PCK CA, root whose CA
    certificates were read before; None when ``read_platform`` must read ``data``."""
    if not data.startswith(b"-----BEGIN") or _PEM_STRICT.fullmatch(data) is None:
        return None
    blocks = pem_blocks(data)
    if len(blocks) != 3 or blocks[1] == blocks[2] or CA_BLOCKS.get(blocks[0]) is not None:
        return None
    inter, root = _ca_entry(blocks[1]), _ca_entry(blocks[2])
    der = _der_of_block(blocks[0])
    if inter is None or root is None or der is None:
        return None
    try:
        walked = der_walk(der)
    except ValueError:
        return None
    if not _positive_minimal(walked.serial):
        return None
    try:
        leaf = x509.load_der_x509_certificate(der)
        # _core.x509.force_parse but the names (below)
        _ = leaf.extensions, leaf.signature_hash_algorithm
        _ = leaf.signature_algorithm_oid, leaf.signature_algorithm_parameters
        _ = leaf.not_valid_before_utc, leaf.not_valid_after_utc, leaf.public_key()
        _ = leaf.serial_number, leaf.tbs_certificate_bytes
        issuer, issuer_cn = _name(leaf, walked.issuer, False)
        subject, subject_cn = _name(leaf, walked.subject, True)
        if is_ca(leaf):
            return None
    except PARSE_ERRORS:
        return None
    key = (
        walked.subject,
        walked.issuer,
        inter.subject_der,
        inter.issuer_der,
        root.subject_der,
        root.issuer_der,
    )
    order = ORDERS.get(key)
    if order is None:
        names = [(subject, issuer), (inter.subject, inter.issuer), (root.subject, root.issuer)]
        order = ORDERS.put(key, chain_order(names))
    if order != (0, 1, 2):
        return None
    plan = plan_pck_chain(
        (leaf, inter.cert, root.cert),
        signed=_leaf_link(leaf, walked, inter),
        ca_links=True,
        intern=intern_ca,
        claims=claims,
        names=ChainNames(
            subject_cn, issuer_cn, inter.subject_cn, inter.fingerprint, root.fingerprint
        ),
    )
    return Platform(None, None, plan)


def prime(data: bytes, *, claims: Callable[[PckInfo], Mapping[str, Any]] | None = None) -> None:
    """After ``pck.read_platform`` read ``data`` whose CA certificates were new: read it
    again here, result unused, so that the tables (CA facts, names, order, the PCK CA's key
    handle) are ready for the next platform under these CA certificates. Once per pair of
    CA certificates: nothing when their facts are kept already."""
    if not data.startswith(b"-----BEGIN"):
        return
    blocks = pem_blocks(data)
    if len(blocks) == 3 and all(CA_ENTRIES.get(b) is None for b in blocks[1:]):
        read_new_leaf(data, claims=claims)
