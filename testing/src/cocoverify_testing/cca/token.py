"""TEST ONLY. :class:`CcaTokenBuilder`: CCA attestation tokens, one override per defect.

Defaults follow the TF-RMM / RSE shape (TF-RMM ``attestation_token.c``; platform and realm
claims of the RMM specification §A7.2.3): a tag-907 CMW (or legacy tag-399 collection) of
two tagged COSE_Sign1 (RFC 9052 §4.2), the platform challenge binding the realm public key
(the hash of claim 44237). Every ``with_*`` returns a new builder; ``sign()`` produces the
token bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cocoverify.tee.cca.platform import PLATFORM_PROFILE_2023, PLATFORM_PROFILE_2024
from cocoverify.tee.cca.realm import REALM_PROFILE_1, REALM_PROFILE_2
from cocoverify_testing.cca.platform import FakeCcaPlatform
from cocoverify_testing.pki import fill, sign_ecdsa_raw

__all__ = ["REMOVE", "CcaTokenBuilder", "cbor_map", "collection"]

_ALG_FOR_CURVE = {"P-256": -7, "P-384": -35, "P-521": -36}
_HASH_FOR_ALG: Mapping[int, type[hashes.HashAlgorithm]] = {
    -7: hashes.SHA256,
    -35: hashes.SHA384,
    -36: hashes.SHA512,
}
_COSE_CRV = {"P-256": 1, "P-384": 2, "P-521": 3}


class _Remove:
    def __repr__(self) -> str:
        return "REMOVE"


#: Claim value meaning "leave this claim out".
REMOVE: Any = _Remove()


def cbor_map(pairs: list[tuple[Any, Any]]) -> bytes:
    """A definite-length CBOR map from pairs, duplicates allowed (for defect vectors)."""
    n = len(pairs)
    head = bytes([0xA0 | n]) if n < 24 else bytes([0xB8, n])
    return head + b"".join(cbor2.dumps(k) + cbor2.dumps(v) for k, v in pairs)


def collection(
    platform: bytes, realm: bytes, *, container: str = "cmw-907", content_format: int = 263
) -> bytes:
    """Wrap two COSE_Sign1 byte strings in a tag-907 CMW or tag-399 collection."""
    if container == "cmw-907":
        return bytes(
            cbor2.dumps(
                cbor2.CBORTag(907, {44234: [content_format, platform], 44241: [263, realm]})
            )
        )
    return bytes(cbor2.dumps(cbor2.CBORTag(399, {44234: platform, 44241: realm})))


def _apply(base: dict[Any, Any], overrides: tuple[tuple[Any, Any], ...]) -> dict[Any, Any]:
    out = dict(base)
    for k, v in overrides:
        if v is REMOVE:
            out.pop(k, None)
        else:
            out[k] = v
    return out


@dataclass(frozen=True)
class CcaTokenBuilder:
    """Fluent CCA token builder (TEST ONLY); every ``with_*`` returns a new builder."""

    platform: FakeCcaPlatform = field(default_factory=FakeCcaPlatform)
    container: str = "cmw-907"
    content_format: int = 263
    platform_profile: str = PLATFORM_PROFILE_2023
    realm_profile: str | None = REALM_PROFILE_1
    challenge: bytes = field(default_factory=lambda: fill("cca-challenge", 64))
    rak_hash_alg: str = "sha-256"
    rak_curve: str = "P-384"
    platform_overrides: tuple[tuple[Any, Any], ...] = ()
    realm_overrides: tuple[tuple[Any, Any], ...] = ()
    binding: bytes | None = None
    platform_alg: int | None = None
    realm_alg: int | None = None
    platform_signer: ec.EllipticCurvePrivateKey | None = None
    realm_signer: ec.EllipticCurvePrivateKey | None = None
    signature_defects: tuple[tuple[str, str], ...] = ()
    untagged_parts: frozenset[str] = frozenset()
    payload_mutations: tuple[tuple[str, Callable[[bytes], bytes]], ...] = ()
    headers: tuple[tuple[str, Mapping[Any, Any] | None, Mapping[Any, Any]], ...] = ()
    rak_override: bytes | None = None

    # --- fluent setters ---
    def with_container(self, container: str, content_format: int = 263) -> CcaTokenBuilder:
        """``"cmw-907"`` or ``"collection-399"``; a CMW content-format other than 263."""
        return replace(self, container=container, content_format=content_format)

    def with_profiles(self, platform: str, realm: str | None) -> CcaTokenBuilder:
        """Platform and realm profile (realm None = legacy, raw RAK)."""
        return replace(self, platform_profile=platform, realm_profile=realm)

    def with_challenge(self, challenge: bytes) -> CcaTokenBuilder:
        """The realm challenge (the verifier's nonce)."""
        return replace(self, challenge=challenge)

    def with_rak_hash_alg(self, name: str) -> CcaTokenBuilder:
        """Realm 44240 and the hash used for the binding."""
        return replace(self, rak_hash_alg=name)

    def with_rak_curve(self, curve: str) -> CcaTokenBuilder:
        """Curve of the RAK (the realm alg follows it)."""
        return replace(self, rak_curve=curve)

    def with_rak_bytes(self, raw: bytes) -> CcaTokenBuilder:
        """Put these bytes in claim 44237 (the binding follows them)."""
        return replace(self, rak_override=raw)

    def with_platform_claim(self, key: Any, value: Any) -> CcaTokenBuilder:
        """Set (or, with REMOVE, drop) one platform claim."""
        return replace(self, platform_overrides=(*self.platform_overrides, (key, value)))

    def without_platform_claim(self, key: Any) -> CcaTokenBuilder:
        """Drop one platform claim."""
        return self.with_platform_claim(key, REMOVE)

    def with_realm_claim(self, key: Any, value: Any) -> CcaTokenBuilder:
        """Set (or, with REMOVE, drop) one realm claim."""
        return replace(self, realm_overrides=(*self.realm_overrides, (key, value)))

    def without_realm_claim(self, key: Any) -> CcaTokenBuilder:
        """Drop one realm claim."""
        return self.with_realm_claim(key, REMOVE)

    def with_binding(self, platform_challenge: bytes) -> CcaTokenBuilder:
        """Force the platform challenge (breaks the binding unless it is the RAK hash)."""
        return replace(self, binding=platform_challenge)

    def with_alg(self, part: str, alg: int) -> CcaTokenBuilder:
        """COSE alg in the protected header of ``part``; the signing key stays the same."""
        if part == "platform":
            return replace(self, platform_alg=alg)
        return replace(self, realm_alg=alg)

    def with_signer(self, part: str, key: ec.EllipticCurvePrivateKey) -> CcaTokenBuilder:
        """Sign ``part`` with another key (the RAK claim is unchanged)."""
        if part == "platform":
            return replace(self, platform_signer=key)
        return replace(self, realm_signer=key)

    def with_signature_defect(self, part: str, kind: str) -> CcaTokenBuilder:
        """``bitflip``, ``truncate``, ``empty``, ``der`` or ``zero`` on ``part``'s signature."""
        return replace(self, signature_defects=(*self.signature_defects, (part, kind)))

    def untagged(self, part: str) -> CcaTokenBuilder:
        """Emit ``part`` as a bare COSE_Sign1 array (no tag 18)."""
        return replace(self, untagged_parts=self.untagged_parts | {part})

    def with_payload_mutation(self, part: str, fn: Callable[[bytes], bytes]) -> CcaTokenBuilder:
        """Rewrite ``part``'s encoded payload before it is signed."""
        return replace(self, payload_mutations=(*self.payload_mutations, (part, fn)))

    def with_headers(
        self,
        part: str,
        protected: Mapping[Any, Any] | None,
        unprotected: Mapping[Any, Any] | None = None,
    ) -> CcaTokenBuilder:
        """Replace ``part``'s protected (None = leave out the bstr) / unprotected headers."""
        return replace(self, headers=(*self.headers, (part, protected, unprotected or {})))

    # --- content ---
    def rak_bytes(self) -> bytes:
        """Claim 44237: a raw point (legacy) or a COSE_Key (profiles 1.0 / 2.0)."""
        if self.rak_override is not None:
            return self.rak_override
        nums = self.platform.rak(self.rak_curve).public_key().public_numbers()
        size = (self.platform.rak(self.rak_curve).curve.key_size + 7) // 8
        x, y = nums.x.to_bytes(size, "big"), nums.y.to_bytes(size, "big")
        if self.realm_profile is None:
            return b"\x04" + x + y
        return bytes(cbor2.dumps({1: 2, -1: _COSE_CRV[self.rak_curve], -2: x, -3: y}))

    def realm_claims(self) -> dict[Any, Any]:
        """The realm claim map (ordered as TF-RMM emits it)."""
        base: dict[Any, Any] = {}
        if self.realm_profile is not None:
            base[265] = self.realm_profile
        base[10] = self.challenge
        if self.realm_profile == REALM_PROFILE_2:
            base[256] = b"\x01" + fill("cca-realm-instance")
        base[44236] = "sha-256"
        base[44240] = self.rak_hash_alg
        base[44235] = fill("cca-rpv", 64)
        base[44237] = self.rak_bytes()
        base[44238] = fill("cca-rim")
        if self.realm_profile == REALM_PROFILE_2:
            base[44243] = 1
        base[44239] = [fill(f"cca-rem{i}") for i in range(4)]
        return _apply(base, self.realm_overrides)

    def platform_claims(self) -> dict[Any, Any]:
        """The platform claim map."""
        realm = self.realm_claims()
        rak = realm.get(44237, b"")
        algo = self.rak_hash_alg.replace("-", "")
        try:
            challenge = hashlib.new(algo, rak if isinstance(rak, bytes) else b"").digest()
        except ValueError:
            challenge = hashlib.sha256(rak if isinstance(rak, bytes) else b"").digest()
        base: dict[Any, Any] = {265: self.platform_profile}
        if self.platform_profile == PLATFORM_PROFILE_2024:
            base[2394] = 1
        base.update(
            {
                10: self.binding if self.binding is not None else challenge,
                2396: self.platform.implementation_id,
                256: self.platform.instance_id,
                2401: bytes.fromhex("cfcfcfcf"),
                2395: 0x3000,
                2402: "sha-256",
                2399: [
                    {
                        1: "RSE_BL2",
                        2: fill("m-rse-bl2"),
                        4: "1.9.0",
                        5: fill("s-rse"),
                        6: "sha-256",
                    },
                    {1: "RMM", 2: fill("m-rmm"), 4: "0.5.0", 5: fill("s-rmm"), 6: "sha-256"},
                ],
                2400: "https://verifier.example/cca",
            }
        )
        return _apply(base, self.platform_overrides)

    # --- signing ---
    def _sign1(self, part: str, claims: dict[Any, Any]) -> bytes:
        if part == "platform":
            key = self.platform_signer or self.platform.cpak
            alg = self.platform_alg or _ALG_FOR_CURVE[self.platform.curve]
        else:
            key = self.realm_signer or self.platform.rak(self.rak_curve)
            alg = self.realm_alg or _ALG_FOR_CURVE[self.rak_curve]
        payload = bytes(cbor2.dumps(claims))
        for p, fn in self.payload_mutations:
            if p == part:
                payload = fn(payload)
        protected_map: Mapping[Any, Any] | None = {1: alg}
        unprotected: Mapping[Any, Any] = {}
        for p, prot, unprot in self.headers:
            if p == part:
                protected_map, unprotected = prot, unprot
        protected = bytes(cbor2.dumps(protected_map)) if protected_map is not None else b""
        tbs = bytes(cbor2.dumps(["Signature1", protected, b"", payload]))
        hash_cls = _HASH_FOR_ALG.get(alg, hashes.SHA384)
        sig = sign_ecdsa_raw(key, tbs, hash_cls())
        for p, kind in self.signature_defects:
            if p == part:
                sig = _defect(sig, kind)
        body = [protected, dict(unprotected), payload, sig]
        obj: Any = body if part in self.untagged_parts else cbor2.CBORTag(18, body)
        return bytes(cbor2.dumps(obj))

    def sign_parts(self) -> tuple[bytes, bytes]:
        """The two bstr-wrapped COSE_Sign1 (platform, realm)."""
        return (
            self._sign1("platform", self.platform_claims()),
            self._sign1("realm", self.realm_claims()),
        )

    def sign(self) -> bytes:
        """The complete CCA token."""
        platform, realm = self.sign_parts()
        return collection(
            platform, realm, container=self.container, content_format=self.content_format
        )


def _defect(sig: bytes, kind: str) -> bytes:
    if kind == "bitflip":
        return sig[:-1] + bytes([sig[-1] ^ 0x01])
    if kind == "truncate":
        return sig[:-1]
    if kind == "empty":
        return b""
    if kind == "zero":
        return bytes(len(sig))
    if kind == "der":
        half = len(sig) // 2
        return encode_dss_signature(int.from_bytes(sig[:half]), int.from_bytes(sig[half:]))
    raise ValueError(kind)
