"""IBM Secure Execution: the attestation response JSON and the SE header tags, as views.

The response is trustee's ``SeAttestationResponse`` (``deps/verifier/src/se/ibmse.rs``): seven
standard-base64 fields. The boot-header tags (PLD, ALD, TLD, SE-header tag) are s390-tools'
``BootHdrTags`` (``rust/pv/src/brcb.rs``), read from the SE header (``hdr.bin`` as
``pvextract-hdr`` writes it). No cryptography here: the measurement is
:mod:`cocoverify.tee.ibmse.verify`. Decisions: docs/ibmse.md.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoverify._core.json import loads_strict
from cocoverify._core.reader import Reader
from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "RESPONSE_KEYS",
    "BootHdrTags",
    "SeResponse",
    "boot_hdr_tags_from_header",
    "looks_like",
    "parse_response",
]

#: ``SeAttestationResponse`` fields, in trustee's order.
RESPONSE_KEYS = (
    "measurement",
    "additional_data",
    "user_data",
    "cuid",
    "encr_measurement_key",
    "encr_request_nonce",
    "image_hdr_tags",
)
MEASUREMENT_SIZE = 64  # HMAC-SHA512 (pv AttestationMeasAlg::HmacSha512)
CUID_SIZE = 16  # pv ConfigUid
MAX_USER_DATA = 256  # pv: user data of at most 256 bytes
TAGS_SIZE = 208  # pv BootHdrTags: PLD 64 | ALD 64 | TLD 64 | tag 16
#: additional data: image PHKH (32), attestation PHKH (32), secret-store hash (64),
#: firmware state (320) (pv additional.rs); the response holds the flags' sum at most
MAX_ADDITIONAL = 32 + 32 + 64 + 320
MAX_WRAPPED = 1024  # an RSA ciphertext of up to 8192 bits

SE_HDR_MAGIC = b"IBMSecEx"  # pv BootHdrMagic
SE_HDR_VERSION = 0x100
_SE_HDR_HEAD = 0x1A0  # pv BootHdrHead: magic .. TLD


@dataclass(frozen=True, slots=True)
class BootHdrTags:
    """PLD, ALD, TLD (64 bytes each) and the SE-header tag (16): what the HMAC covers first."""

    pld: bytes
    ald: bytes
    tld: bytes
    tag: bytes

    def to_bytes(self) -> bytes:
        """The 208-byte form (pv ``BootHdrTags`` as bytes)."""
        return self.pld + self.ald + self.tld + self.tag

    @classmethod
    def from_bytes(cls, raw: bytes, *, where: str = "image_hdr_tags") -> BootHdrTags:
        """Split the 208-byte form."""
        if len(raw) != TAGS_SIZE:
            raise MalformedEvidence(f"{len(raw)} bytes, expected {TAGS_SIZE}", field=where)
        return cls(raw[:64], raw[64:128], raw[128:192], raw[192:])


@dataclass(frozen=True, slots=True)
class SeResponse:
    """A parsed ``SeAttestationResponse``; ``ignored`` names keys trustee does not define."""

    measurement: bytes
    additional_data: bytes
    user_data: bytes
    cuid: bytes
    encr_measurement_key: bytes
    encr_request_nonce: bytes
    image_hdr_tags: BootHdrTags
    ignored: tuple[str, ...] = ()


def looks_like(data: bytes) -> bool:
    """JSON text (an object, or a JSON string holding one) naming the response's fields.

    A cheap look at the bytes only: never raises, never parses.
    """
    head = data[:1] if data[:1] in (b"{", b'"') else data.lstrip()[:1]
    if head not in (b"{", b'"'):
        return False
    return all(k in data for k in (b"measurement", b"cuid", b"image_hdr_tags"))


def _object(data: bytes) -> Mapping[str, Any]:
    try:
        value = loads_strict(data)
        if isinstance(value, str):  # JSON in a JSON string, as evidence travels in the KBS
            value = loads_strict(value)
    except (ValueError, UnicodeDecodeError):
        raise MalformedEvidence("evidence is not valid JSON", field="response") from None
    if not isinstance(value, dict):
        raise MalformedEvidence("evidence JSON is not an object", field="response")
    return value


def _b64(obj: Mapping[str, Any], key: str, low: int, high: int) -> bytes:
    where = f"response.{key}"
    if key not in obj:
        raise MalformedEvidence("missing", field=where)
    value = obj[key]
    if not isinstance(value, str):
        raise MalformedEvidence("expected standard base64 text", field=where)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedEvidence("not standard base64", field=where) from None
    if base64.b64encode(raw).decode("ascii") != value:
        # the base64 crate's STANDARD engine (serde_with) refuses stray trailing bits
        raise MalformedEvidence("not canonical standard base64", field=where)
    if not low <= len(raw) <= high:
        size = f"{low}" if low == high else f"{low}..{high}"
        raise MalformedEvidence(f"{len(raw)} bytes, expected {size}", field=where)
    return raw


def parse_response(data: bytes) -> SeResponse:
    """Decode a response (trustee ``SeVerifierImpl::evaluate`` step 1: deserialize).

    Every field present, canonical standard base64 with padding (serde_with ``Base64``), of
    its size: measurement
    64, cuid 16, image_hdr_tags 208, user_data 0..256, additional_data 0..448. Keys trustee
    does not define are ignored (serde's default) and listed in ``ignored``.
    """
    obj = _object(data)
    return SeResponse(
        measurement=_b64(obj, "measurement", MEASUREMENT_SIZE, MEASUREMENT_SIZE),
        additional_data=_b64(obj, "additional_data", 0, MAX_ADDITIONAL),
        user_data=_b64(obj, "user_data", 0, MAX_USER_DATA),
        cuid=_b64(obj, "cuid", CUID_SIZE, CUID_SIZE),
        encr_measurement_key=_b64(obj, "encr_measurement_key", 0, MAX_WRAPPED),
        encr_request_nonce=_b64(obj, "encr_request_nonce", 0, MAX_WRAPPED),
        image_hdr_tags=BootHdrTags.from_bytes(
            _b64(obj, "image_hdr_tags", TAGS_SIZE, TAGS_SIZE), where="response.image_hdr_tags"
        ),
        ignored=tuple(sorted(k for k in obj if k not in RESPONSE_KEYS)),
    )


def boot_hdr_tags_from_header(header: bytes) -> BootHdrTags:
    """The tags of an SE header (pv ``BootHdrTags::from_se_image`` on ``hdr.bin``).

    The header starts at offset 0 with magic ``IBMSecEx``, version 0x100 and its size; PLD,
    ALD and TLD end the 0x1A0-byte head, the tag is the header's last 16 bytes.
    """
    r = Reader(header, what="SE header")
    if r.take(8, "magic") != SE_HDR_MAGIC:
        raise MalformedEvidence("not an SE header (magic)", field="se_header.magic", offset=0)
    version = int.from_bytes(r.take(4, "version"), "big")
    if version != SE_HDR_VERSION:
        raise UnsupportedEvidence(
            f"SE header version {version:#x}", reason=Reason.UNSUPPORTED_VERSION
        )
    size = int.from_bytes(r.take(4, "size"), "big")
    if not _SE_HDR_HEAD + 16 <= size <= len(header):
        raise MalformedEvidence(
            f"header size {size} with {len(header)} bytes given", field="se_header.size"
        )
    head = header[_SE_HDR_HEAD - 192 : _SE_HDR_HEAD]
    return BootHdrTags(head[:64], head[64:128], head[128:192], header[size - 16 : size])
