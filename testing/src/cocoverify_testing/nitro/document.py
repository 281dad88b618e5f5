"""TEST ONLY. AWS Nitro attestation documents signed by :class:`FakeNitroPki`.

:class:`NitroDocumentBuilder` builds the payload map in NSM order (attestation_process §2.2)
with CBOR null for absent optional fields, as real NSM output does; each ``with_*`` makes one
change and the defects (``mutate``) apply after signing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from cocoverify_testing.nitro.pki import NOW, FakeNitroPki
from cocoverify_testing.pki import fill, sign_ecdsa_raw

__all__ = ["REMOVE", "NitroDocumentBuilder", "default_pcrs"]

#: a payload override value that removes the key
REMOVE = object()


def default_pcrs(*, debug: bool = False) -> dict[int, bytes]:
    """PCR0..15 of 48 bytes; PCR0/1/2/8 zero for a debug-mode enclave."""
    pcrs = {i: bytes(48) for i in range(16)}
    if not debug:
        for i in (0, 1, 2, 3, 4, 8):
            pcrs[i] = fill(f"nitro-pcr{i}", 48)
    return pcrs


@dataclass(frozen=True)
class NitroDocumentBuilder:
    """One document; immutable, every ``with_*`` returns a changed copy."""

    pki: FakeNitroPki = field(default_factory=FakeNitroPki)
    fields: dict[str, Any] = field(default_factory=dict)
    extra: tuple[tuple[Any, Any], ...] = ()
    protected: bytes = bytes(cbor2.dumps({1: -35}))
    unprotected: dict[Any, Any] = field(default_factory=dict)
    tagged: bool = False
    payload_bytes: bytes | None = None

    def with_fields(self, **values: Any) -> NitroDocumentBuilder:
        """Override payload fields (``REMOVE`` drops a key, None writes CBOR null)."""
        return replace(self, fields={**self.fields, **values})

    def with_extra(self, key: Any, value: Any) -> NitroDocumentBuilder:
        """Add a key the NSM document does not have."""
        return replace(self, extra=(*self.extra, (key, value)))

    def with_pki(self, pki: FakeNitroPki) -> NitroDocumentBuilder:
        """Sign with another PKI (a look-alike root, a defective certificate)."""
        return replace(self, pki=pki)

    def payload_map(self) -> dict[str, Any]:
        """The payload in NSM order with the overrides applied."""
        chain = self.pki.chain()
        base: dict[str, Any] = {
            "module_id": "i-0123456789abcdef0-enc0123456789abcdef",
            "digest": "SHA384",
            "timestamp": int(NOW.timestamp() * 1000),
            "pcrs": default_pcrs(),
            "certificate": chain.leaf.public_bytes(Encoding.DER),
            "cabundle": [c.public_bytes(Encoding.DER) for c in chain.cabundle],
            "public_key": None,
            "user_data": None,
            "nonce": fill("nitro-nonce", 32),
        }
        for key, value in self.fields.items():
            if value is REMOVE:
                base.pop(key, None)
            else:
                base[key] = value
        return base

    def payload(self) -> bytes:
        """The payload bytes (``payload_bytes`` when set, else the encoded map)."""
        if self.payload_bytes is not None:
            return self.payload_bytes
        pairs = list(self.payload_map().items()) + list(self.extra)
        return bytes(cbor2.dumps(dict(pairs)))

    def build(self) -> bytes:
        """The signed COSE_Sign1 (tag 18 when ``tagged``)."""
        payload = self.payload()
        to_sign = bytes(cbor2.dumps(["Signature1", self.protected, b"", payload]))
        signature = sign_ecdsa_raw(self.pki.chain().leaf_key, to_sign, hashes.SHA384())
        body = bytes(cbor2.dumps([self.protected, self.unprotected, payload, signature]))
        return b"\xd2" + body if self.tagged else body


def mutate(data: bytes, offset: int, xor: int = 0x01) -> bytes:
    """``data`` with one byte changed (after signing)."""
    return data[:offset] + bytes([data[offset] ^ xor]) + data[offset + 1 :]
