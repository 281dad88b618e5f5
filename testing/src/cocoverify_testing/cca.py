"""TEST ONLY. A fake Arm CCA platform and a token builder, plus the project's CCA vectors.

:class:`FakeCcaPlatform` holds a CPAK (P-256, P-384 or P-521) and a P-384 RAK derived from
fixed labels (published test keys: never trust them). :class:`CcaTokenBuilder` is fluent:
every ``with_*`` returns a new builder; ``sign()`` produces the token bytes. Defaults
follow the TF-RMM/RSE shape of cca.md §3-§5 so that one override makes one defect.
:func:`generate_vectors` writes the negative and positive cases used by the test-suite.
"""

from __future__ import annotations

import base64
import hashlib
import json
import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cocoverify.tee.cca.platform import (
    PLATFORM_PROFILE_2023,
    PLATFORM_PROFILE_2024,
    PLATFORM_PROFILE_LEGACY,
)
from cocoverify.tee.cca.realm import REALM_PROFILE_1, REALM_PROFILE_2
from cocoverify_testing.pki import ec_key, sign_ecdsa_raw

__all__ = [
    "REMOVE",
    "CcaTokenBuilder",
    "FakeCcaPlatform",
    "cbor_map",
    "collection",
    "generate_vectors",
]

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


# pki.ec_key's P-521 order constant is too long (641 bits), so it cannot derive P-521 keys;
# derive them here with the right order (SEC 2 §2.6.1) until pki.py is fixed.
_P521_ORDER = int(
    "01FF"
    + "FFFF" * 15
    + "FFFA"
    + "51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409",
    16,
)


def _key(label: str, curve: str) -> ec.EllipticCurvePrivateKey:
    if curve != "P-521":
        return ec_key(label, curve)
    seed = b"".join(
        hashlib.sha512(f"cocoverify-test-key:{curve}:{label}:{i}".encode()).digest()
        for i in range(2)
    )
    return ec.derive_private_key(
        int.from_bytes(seed, "big") % (_P521_ORDER - 1) + 1, ec.SECP521R1()
    )


def _h(label: str, n: int = 32) -> bytes:
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}:{i}".encode()).digest()
        i += 1
    return out[:n]


@dataclass(frozen=True, slots=True)
class FakeCcaPlatform:
    """A fake CCA platform: CPAK on ``curve``, P-384 RAK, fixed ids (TEST ONLY)."""

    curve: str = "P-384"
    label: str = "cca-platform"

    @property
    def cpak(self) -> ec.EllipticCurvePrivateKey:
        """The platform attestation key (private; TEST ONLY)."""
        return _key(f"{self.label}-cpak", self.curve)

    def rak(self, curve: str = "P-384") -> ec.EllipticCurvePrivateKey:
        """The realm attestation key (private; TEST ONLY)."""
        return _key(f"{self.label}-rak", curve)

    @property
    def instance_id(self) -> bytes:
        """UEID (type RAND) of this platform: 0x01 || 32 bytes."""
        return b"\x01" + _h(f"{self.label}-instance")

    @property
    def implementation_id(self) -> bytes:
        """32-byte implementation id."""
        return _h(f"{self.label}-implementation")

    def cpak_pem(self) -> bytes:
        """CPAK public key as PEM SubjectPublicKeyInfo."""
        return self.cpak.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def cpak_jwk(self) -> dict[str, str]:
        """CPAK public key as a JWK."""
        nums = self.cpak.public_key().public_numbers()
        size = (self.cpak.curve.key_size + 7) // 8

        def b64(v: int) -> str:
            return base64.urlsafe_b64encode(v.to_bytes(size, "big")).rstrip(b"=").decode()

        return {"kty": "EC", "crv": self.curve, "x": b64(nums.x), "y": b64(nums.y)}

    def ta_store(self, instance_id: bytes | None = None) -> list[dict[str, Any]]:
        """A rust-ccatoken/trustee style trust-anchor store holding this CPAK."""
        return [
            {
                "instance-id": (instance_id or self.instance_id).hex(),
                "implementation-id": self.implementation_id.hex(),
                "pkey": self.cpak_jwk(),
            }
        ]


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
    challenge: bytes = field(default_factory=lambda: _h("cca-challenge", 64))
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
            base[256] = b"\x01" + _h("cca-realm-instance")
        base[44236] = "sha-256"
        base[44240] = self.rak_hash_alg
        base[44235] = _h("cca-rpv", 64)
        base[44237] = self.rak_bytes()
        base[44238] = _h("cca-rim")
        if self.realm_profile == REALM_PROFILE_2:
            base[44243] = 1
        base[44239] = [_h(f"cca-rem{i}") for i in range(4)]
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
                    {1: "RSE_BL2", 2: _h("m-rse-bl2"), 4: "1.9.0", 5: _h("s-rse"), 6: "sha-256"},
                    {1: "RMM", 2: _h("m-rmm"), 4: "0.5.0", 5: _h("s-rmm"), 6: "sha-256"},
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


# --- the project's vectors ------------------------------------------------------------------

_AT = "2026-01-01T00:00:00Z"
_EXIT = {
    "accept": 0,
    "malformed": 2,
    "unknown_format": 2,
    "truncated": 2,
    "trailing_data": 2,
    "unsupported_profile": 2,
    "unsupported_algorithm": 2,
    "signature_invalid": 3,
    "key_type_mismatch": 3,
    "binding_invalid": 3,
    "collateral_missing": 4,
    "collateral_malformed": 4,
    "debug_enabled": 5,
    "lifecycle_rejected": 5,
    "measurement_mismatch": 5,
}


def _indefinite_map(data: bytes) -> bytes:
    # turn the leading definite map header into an indefinite one (0xbf ... 0xff)
    n = data[0] & 0x1F
    skip = 1 if n < 24 else 2
    return b"\xbf" + data[skip:] + b"\xff"


def _nonminimal_map(data: bytes) -> bytes:
    n = data[0] & 0x1F
    assert n < 24
    return bytes([0xB8, n]) + data[1:]


def _dup_last_key(data: bytes) -> bytes:
    claims = cbor2.loads(data)
    pairs = list(claims.items())
    return cbor_map([*pairs, pairs[-1]])


def _cases() -> list[tuple[str, Any, str, list[str], dict[str, Any]]]:
    """(id, builder | bytes, expected, features, options)."""
    b = CcaTokenBuilder()
    p256 = CcaTokenBuilder(platform=FakeCcaPlatform("P-256"))
    p521 = CcaTokenBuilder(platform=FakeCcaPlatform("P-521"))
    other = ec_key("cca-other", "P-384")
    pf, rl = b.sign_parts()
    good = {1: -35}
    cases: list[tuple[str, Any, str, list[str], dict[str, Any]]] = [
        ("cca.accept.p384_cmw907", b, "accept", ["cmw-907", "es384"], {}),
        ("cca.accept.p256", p256, "accept", ["es256"], {}),
        ("cca.accept.p521", p521, "accept", ["es512"], {}),
        ("cca.accept.legacy399", b.with_container("collection-399"), "accept", ["tag-399"], {}),
        (
            "cca.accept.legacy_profiles_raw_rak",
            b.with_profiles(PLATFORM_PROFILE_LEGACY, None),
            "accept",
            ["legacy-profile", "raw-rak"],
            {},
        ),
        (
            "cca.accept.legacy_platform_realm1",
            b.with_profiles(PLATFORM_PROFILE_LEGACY, REALM_PROFILE_1),
            "accept",
            ["mixed-profiles"],
            {},
        ),
        (
            "cca.accept.realm2",
            b.with_profiles(PLATFORM_PROFILE_2023, REALM_PROFILE_2),
            "accept",
            ["realm-2.0"],
            {},
        ),
        (
            "cca.accept.platform2024",
            b.with_profiles(PLATFORM_PROFILE_2024, REALM_PROFILE_2),
            "accept",
            ["platform-2024"],
            {},
        ),
        ("cca.accept.jwk", b, "accept", ["jwk"], {"collateral": "jwk"}),
        ("cca.accept.ta_store", b, "accept", ["ta-store"], {"collateral": "ta"}),
        ("cca.accept.binding_sha384", b.with_rak_hash_alg("sha-384"), "accept", ["binding"], {}),
        ("cca.accept.binding_sha512", b.with_rak_hash_alg("sha-512"), "accept", ["binding"], {}),
        (
            "cca.accept.unknown_realm_claims",
            b.with_realm_claim(99999, 1).with_realm_claim("x-vendor", "y"),
            "accept",
            ["unknown-claims"],
            {},
        ),
        (
            "cca.accept.policy_pins",
            b,
            "accept",
            ["policy"],
            {
                "policy": {
                    "cca": {
                        "realm_initial_measurement": [_h("cca-rim").hex()],
                        "realm_personalization_value": [_h("cca-rpv", 64).hex()],
                        "realm_extensible_measurements": [_h("cca-rem0").hex(), None, None, None],
                        "platform_implementation_id": [b.platform.implementation_id.hex()],
                        "platform_sw_components": [
                            {"type": "RSE_BL2", "measurement": _h("m-rse-bl2").hex()},
                            {"type": "RMM", "measurement": _h("m-rmm").hex()},
                        ],
                    }
                }
            },
        ),
        # policy rejections
        (
            "cca.policy.lifecycle_debug",
            b.with_platform_claim(2395, 0x4000),
            "debug_enabled",
            ["lifecycle"],
            {},
        ),
        (
            "cca.policy.lifecycle_provisioning",
            b.with_platform_claim(2395, 0x2001),
            "lifecycle_rejected",
            ["lifecycle"],
            {},
        ),
        (
            "cca.policy.rim_mismatch",
            b,
            "measurement_mismatch",
            ["policy"],
            {"policy": {"cca": {"realm_initial_measurement": ["00" * 32]}}},
        ),
        (
            "cca.policy.sw_component_mismatch",
            b,
            "measurement_mismatch",
            ["policy"],
            {
                "policy": {
                    "cca": {"platform_sw_components": [{"type": "RMM", "measurement": "00" * 32}]}
                }
            },
        ),
        # container
        ("cca.container.top_tag_18", pf, "malformed", ["container"], {}),
        (
            "cca.container.wrong_tag",
            cbor2.dumps(cbor2.CBORTag(906, {44234: [263, pf], 44241: [263, rl]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.untagged",
            cbor2.dumps({44234: [263, pf], 44241: [263, rl]}),
            "unknown_format",
            ["container"],
            {},
        ),
        (
            "cca.container.platform_missing",
            cbor2.dumps(cbor2.CBORTag(907, {44241: [263, rl]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.realm_missing",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.content_format",
            b.with_container("cmw-907", 264),
            "malformed",
            ["container", "cmw"],
            {},
        ),
        (
            "cca.container.cmw_bare_bstr",
            cbor2.dumps(cbor2.CBORTag(907, {44234: pf, 44241: rl})),
            "malformed",
            ["container", "cmw"],
            {},
        ),
        (
            "cca.container.legacy_cmw_entry",
            cbor2.dumps(cbor2.CBORTag(399, {44234: [263, pf], 44241: [263, rl]})),
            "malformed",
            ["container", "tag-399"],
            {},
        ),
        (
            "cca.container.cmw_three_elements",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf, 0], 44241: [263, rl]})),
            "malformed",
            ["container", "cmw"],
            {},
        ),
        (
            "cca.container.empty_entry",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, pf], 44241: [263, b""]})),
            "malformed",
            ["container"],
            {},
        ),
        (
            "cca.container.non_cose_entry",
            cbor2.dumps(cbor2.CBORTag(907, {44234: [263, cbor2.dumps({})], 44241: [263, rl]})),
            "malformed",
            ["container"],
            {},
        ),
        ("cca.container.trailing_bytes", b.sign() + b"\x00", "trailing_data", ["cbor"], {}),
        ("cca.container.truncated", b.sign()[:-10], "truncated", ["cbor"], {}),
        (
            "cca.container.indefinite_map",
            b"\xd9\x03\x8b" + _indefinite_map(b.sign()[3:]),
            "malformed",
            ["cbor", "indefinite"],
            {},
        ),
        (
            "cca.container.nonminimal_length",
            b"\xd9\x03\x8b" + _nonminimal_map(b.sign()[3:]),
            "malformed",
            ["cbor", "non-canonical"],
            {},
        ),
        (
            "cca.container.duplicate_entry",
            b"\xd9\x03\x8b"
            + cbor_map([(44234, [263, pf]), (44241, [263, rl]), (44241, [263, rl])]),
            "malformed",
            ["cbor", "duplicate-key"],
            {},
        ),
        (
            "cca.container.nonminimal_tag",
            b"\xda\x00\x00\x03\x8b" + b.sign()[3:],
            "malformed",
            ["cbor", "non-canonical"],
            {},
        ),
        # COSE_Sign1
        ("cca.cose.platform_untagged", b.untagged("platform"), "malformed", ["cose"], {}),
        ("cca.cose.realm_untagged", b.untagged("realm"), "malformed", ["cose"], {}),
        (
            "cca.cose.alg_missing",
            b.with_headers("platform", {4: b"kid"}),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.alg_unprotected",
            b.with_headers("platform", {}, {1: -35}),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.alg_unsupported",
            b.with_headers("realm", {1: -37}),
            "unsupported_algorithm",
            ["cose"],
            {},
        ),
        (
            "cca.cose.empty_protected",
            b.with_headers("platform", None),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.crit_header",
            b.with_headers("platform", {**good, 2: [99]}),
            "unsupported_algorithm",
            ["cose"],
            {},
        ),
        (
            "cca.cose.label_in_both_headers",
            b.with_headers("platform", good, {1: -35}),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.payload_not_map",
            b.with_payload_mutation("platform", lambda _p: cbor2.dumps([1, 2])),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.payload_undecodable",
            b.with_payload_mutation("realm", lambda _p: b"\xff\xff"),
            "malformed",
            ["cose"],
            {},
        ),
        (
            "cca.cose.payload_indefinite",
            b.with_payload_mutation("realm", _indefinite_map),
            "malformed",
            ["cbor", "indefinite"],
            {},
        ),
        (
            "cca.cose.payload_nonminimal",
            b.with_payload_mutation("realm", _nonminimal_map),
            "malformed",
            ["cbor", "non-canonical"],
            {},
        ),
        (
            "cca.realm.duplicate_claim",
            b.with_payload_mutation("realm", _dup_last_key),
            "malformed",
            ["cbor", "duplicate-key"],
            {},
        ),
        (
            "cca.platform.duplicate_claim",
            b.with_payload_mutation("platform", _dup_last_key),
            "malformed",
            ["cbor", "duplicate-key"],
            {},
        ),
    ]
    # every mandatory platform claim missing in turn
    for key, name in (
        (265, "profile"),
        (10, "challenge"),
        (2396, "implementation_id"),
        (256, "instance_id"),
        (2401, "config"),
        (2395, "lifecycle"),
        (2399, "sw_components"),
        (2402, "hash_algo_id"),
    ):
        cases.append(
            (
                f"cca.platform.{name}_missing",
                b.without_platform_claim(key),
                "malformed",
                ["claims", "platform"],
                {},
            )
        )
    cases.append(
        (
            "cca.platform.client_id_missing",
            b.with_profiles(PLATFORM_PROFILE_2024, REALM_PROFILE_2).without_platform_claim(2394),
            "malformed",
            ["claims", "platform-2024"],
            {},
        )
    )
    for name, key, value, expected in (
        ("profile_unknown", 265, "tag:example.com,2099:not_cca#9", "unsupported_profile"),
        ("challenge_array", 10, [_h("a"), _h("b")], "malformed"),
        ("implementation_id_33", 2396, _h("i", 33), "malformed"),
        ("instance_id_32", 256, _h("u"), "malformed"),
        ("instance_id_type", 256, b"\x02" + _h("u"), "malformed"),
        ("lifecycle_out_of_range", 2395, 0x7000, "malformed"),
        ("lifecycle_text", 2395, "secured", "malformed"),
        ("sw_components_empty", 2399, [], "malformed"),
        ("sw_component_no_measurement", 2399, [{1: "BL", 5: _h("s")}], "malformed"),
        ("sw_component_no_signer", 2399, [{1: "BL", 2: _h("m")}], "malformed"),
        ("sw_component_measurement_20", 2399, [{2: _h("m", 20), 5: _h("s")}], "malformed"),
        ("config_text", 2401, "cfcf", "malformed"),
        ("verification_service_empty", 2400, "", "malformed"),
    ):
        cases.append(
            (
                f"cca.platform.{name}",
                b.with_platform_claim(key, value),
                expected,
                ["claims", "platform"],
                {},
            )
        )
    cases.append(
        (
            "cca.platform.challenge_31",
            b.with_binding(_h("c", 31)),
            "malformed",
            ["claims", "platform"],
            {},
        )
    )
    # every mandatory realm claim missing in turn
    for key, name in (
        (10, "challenge"),
        (44235, "personalization_value"),
        (44238, "initial_measurement"),
        (44239, "extensible_measurements"),
        (44236, "hash_algo_id"),
        (44237, "public_key"),
        (44240, "public_key_hash_algo_id"),
    ):
        cases.append(
            (
                f"cca.realm.{name}_missing",
                b.without_realm_claim(key),
                "malformed",
                ["claims", "realm"],
                {},
            )
        )
    r2 = b.with_profiles(PLATFORM_PROFILE_2023, REALM_PROFILE_2)
    legacy = b.with_profiles(PLATFORM_PROFILE_LEGACY, None)
    rak = b.rak_bytes()
    rak_es256 = cbor2.dumps({1: 2, 3: -7, -1: 2, -2: rak[8:56], -3: rak[59:107]})
    off_curve = cbor2.dumps({1: 2, -1: 2, -2: bytes(48), -3: b"\x01" * 48})
    cases += [
        (
            "cca.realm.instance_id_missing",
            r2.without_realm_claim(256),
            "malformed",
            ["realm-2.0"],
            {},
        ),
        (
            "cca.realm.mec_policy_missing",
            r2.without_realm_claim(44243),
            "malformed",
            ["realm-2.0"],
            {},
        ),
        ("cca.realm.mec_policy_2", r2.with_realm_claim(44243, 2), "malformed", ["realm-2.0"], {}),
        (
            "cca.realm.mec_policy_text",
            r2.with_realm_claim(44243, "private"),
            "malformed",
            ["realm-2.0"],
            {},
        ),
        ("cca.realm.challenge_32", b.with_challenge(_h("n")), "malformed", ["claims", "realm"], {}),
        (
            "cca.realm.rpv_32",
            b.with_realm_claim(44235, _h("p")),
            "malformed",
            ["claims", "realm"],
            {},
        ),
        (
            "cca.realm.rim_20",
            b.with_realm_claim(44238, _h("r", 20)),
            "malformed",
            ["claims", "realm"],
            {},
        ),
        ("cca.realm.rems_3", b.with_realm_claim(44239, [_h("x")] * 3), "malformed", ["rems"], {}),
        ("cca.realm.rems_5", b.with_realm_claim(44239, [_h("x")] * 5), "malformed", ["rems"], {}),
        (
            "cca.realm.rem_20",
            b.with_realm_claim(44239, [_h("x")] * 3 + [_h("y", 20)]),
            "malformed",
            ["rems"],
            {},
        ),
        (
            "cca.realm.hash_algo_unknown",
            b.with_realm_claim(44236, "sha-1"),
            "unsupported_algorithm",
            ["hash-alg"],
            {},
        ),
        (
            "cca.realm.rak_hash_algo_unknown",
            b.with_rak_hash_alg("sha3-256"),
            "unsupported_algorithm",
            ["hash-alg"],
            {},
        ),
        (
            "cca.realm.profile_unknown",
            b.with_profiles(PLATFORM_PROFILE_2023, "tag:arm.com,2099:realm#9"),
            "unsupported_profile",
            ["profile"],
            {},
        ),
        (
            "cca.realm.raw_rak_wrong_length",
            legacy.with_rak_bytes(b"\x04" + bytes(95)),
            "malformed",
            ["rak"],
            {},
        ),
        ("cca.realm.cose_key_garbage", b.with_rak_bytes(b"\xa1\x01"), "truncated", ["rak"], {}),
        (
            "cca.realm.cose_key_raw_point",
            b.with_rak_bytes(legacy.rak_bytes()),
            "trailing_data",
            ["rak"],
            {},
        ),
        ("cca.realm.rak_off_curve", b.with_rak_bytes(off_curve), "malformed", ["rak"], {}),
        # signatures
        (
            "cca.sig.platform_bitflip",
            b.with_signature_defect("platform", "bitflip"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_bitflip",
            b.with_signature_defect("realm", "bitflip"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_truncated",
            b.with_signature_defect("platform", "truncate"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_empty",
            b.with_signature_defect("platform", "empty"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_der",
            b.with_signature_defect("platform", "der"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_zero",
            b.with_signature_defect("realm", "zero"),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_other_key",
            b.with_signer("platform", other),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_other_key",
            b.with_signer("realm", other),
            "signature_invalid",
            ["signature"],
            {},
        ),
        (
            "cca.sig.platform_alg_curve_mismatch",
            b.with_alg("platform", -7),
            "key_type_mismatch",
            ["signature"],
            {},
        ),
        (
            "cca.sig.realm_alg_curve_mismatch",
            b.with_alg("realm", -36),
            "key_type_mismatch",
            ["signature"],
            {},
        ),
        (
            "cca.sig.rak_cose_alg_mismatch",
            b.with_rak_bytes(rak_es256),
            "key_type_mismatch",
            ["signature", "rak"],
            {},
        ),
        # binding
        (
            "cca.binding.mismatch",
            b.with_binding(_h("not-the-rak")),
            "binding_invalid",
            ["binding"],
            {},
        ),
        (
            "cca.binding.declared_alg_differs",
            b.with_rak_hash_alg("sha-512").with_realm_claim(44240, "sha-256"),
            "binding_invalid",
            ["binding"],
            {},
        ),
        (
            "cca.binding.length_differs",
            b.with_rak_hash_alg("sha-384").with_binding(_h("x", 48)[:32]),
            "binding_invalid",
            ["binding"],
            {},
        ),
        # collateral
        ("cca.collateral.missing", b, "collateral_missing", ["collateral"], {"collateral": "none"}),
        (
            "cca.collateral.other_instance",
            b,
            "collateral_missing",
            ["collateral", "ta-store"],
            {"collateral": "ta-other"},
        ),
        (
            "cca.collateral.bad_jwk",
            b,
            "collateral_malformed",
            ["collateral", "jwk"],
            {"collateral": "bad-jwk"},
        ),
        (
            "cca.collateral.wrong_curve",
            b,
            "key_type_mismatch",
            ["collateral"],
            {"collateral": "p256"},
        ),
    ]
    return cases


def generate_vectors(outdir: str | pathlib.Path) -> list[dict[str, Any]]:
    """Write ``<outdir>/cca/<id>/`` (token.cbor + CPAK file) and return the manifest entries.

    Paths in the entries are relative to ``outdir``; ``<outdir>/cca`` is recreated.
    Deterministic (RFC 6979 signatures): the same bytes every run. TEST ONLY keys.
    """
    import shutil

    outdir = pathlib.Path(outdir)
    shutil.rmtree(outdir / "cca", ignore_errors=True)
    entries: list[dict[str, Any]] = []
    for case_id, source, expected, features, opts in _cases():
        folder = pathlib.Path("cca") / case_id
        (outdir / folder).mkdir(parents=True, exist_ok=True)
        if isinstance(source, CcaTokenBuilder):
            token, platform = source.sign(), source.platform
        else:
            token, platform = bytes(source), FakeCcaPlatform()
        (outdir / folder / "token.cbor").write_bytes(token)
        kind = opts.get("collateral", "pem")
        collateral: list[str] = []
        content: bytes | None = None
        name = "cpak.pem"
        if kind == "pem":
            content = platform.cpak_pem()
        elif kind == "p256":
            content = FakeCcaPlatform("P-256").cpak_pem()
        elif kind == "jwk":
            name, content = "cpak.jwk.json", json.dumps(platform.cpak_jwk()).encode()
        elif kind == "ta":
            name, content = "ta-store.json", json.dumps(platform.ta_store()).encode()
        elif kind == "ta-other":
            store = platform.ta_store(b"\x01" + _h("some-other-platform"))
            name, content = "ta-store.json", json.dumps(store).encode()
        elif kind == "bad-jwk":
            jwk = dict(platform.cpak_jwk())
            jwk["y"] = FakeCcaPlatform(platform.curve, "elsewhere").cpak_jwk()["y"]
            name, content = "cpak.jwk.json", json.dumps(jwk).encode()
        if content is not None:
            (outdir / folder / name).write_bytes(content)
            collateral.append((folder / name).as_posix())
        entries.append(
            {
                "id": case_id,
                "platform": "cca",
                "evidence": (folder / "token.cbor").as_posix(),
                "collateral": collateral,
                "trust": None,
                "policy": opts.get("policy"),
                "at": _AT,
                "expected": expected,
                "exit_code": _EXIT[expected],
                "features": features,
            }
        )
    return entries
