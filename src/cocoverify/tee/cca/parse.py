"""Arm CCA attestation tokens: container, COSE_Sign1 and claim sets into frozen views.

No cryptography happens here (signatures, RAK point validation and the binding are in
:mod:`cocoverify.tee.cca.verify`). Facts: shared/docs/cca.md; decisions: docs/cca.md.

CBOR is decoded by ``cbor2``. Before any byte string is handed to it, a small bounded
header scanner (:func:`check_cbor`) walks the item structure once and rejects what cbor2
tolerates: trailing bytes, indefinite lengths, non-minimal ("non-preferred") argument
encodings, reserved additional-information values, duplicate map keys (compared as
encoded bytes), nesting deeper than 16 and unexpected tags. It produces no values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cbor2

from cocoverify.errors import MalformedEvidence, Reason, UnsupportedEvidence

__all__ = [
    "ALGORITHMS",
    "DEBUG_LIFECYCLE_STATES",
    "HASH_ALGORITHMS",
    "LIFECYCLE_STATES",
    "PLATFORM_PROFILE_2023",
    "PLATFORM_PROFILE_2024",
    "PLATFORM_PROFILE_LEGACY",
    "REALM_PROFILE_1",
    "REALM_PROFILE_2",
    "CcaToken",
    "CoseSign1",
    "PlatformClaims",
    "RealmClaims",
    "RealmKey",
    "SwComponent",
    "check_cbor",
    "decode_cbor",
    "lifecycle_state",
    "looks_like",
    "parse_platform_token",
    "parse_sign1",
    "parse_token",
    "validate_platform_claims",
    "validate_realm_claims",
]

# cca.md §1.1
TAG_CMW_COLLECTION = 907
TAG_LEGACY_COLLECTION = 399
TAG_COSE_SIGN1 = 18
CONTENT_FORMAT_EAT_CWT = 263
KEY_PLATFORM = 44234
KEY_REALM = 44241

# cca.md §6
PLATFORM_PROFILE_LEGACY = "http://arm.com/CCA-SSD/1.0.0"
PLATFORM_PROFILE_2023 = "tag:arm.com,2023:cca_platform#1.0.0"
PLATFORM_PROFILE_2024 = "tag:arm.com,2024:cca_platform#2.0.0"
PLATFORM_PROFILES = (PLATFORM_PROFILE_LEGACY, PLATFORM_PROFILE_2023, PLATFORM_PROFILE_2024)
REALM_PROFILE_1 = "tag:arm.com,2023:realm#1.0.0"
REALM_PROFILE_2 = "tag:arm.com,2024:realm#2.0.0"
REALM_PROFILES = (REALM_PROFILE_1, REALM_PROFILE_2)

#: COSE algorithm id -> (name, curve, coordinate bytes); cca.md §2.
ALGORITHMS: Mapping[int, tuple[str, str, int]] = {
    -7: ("ES256", "P-256", 32),
    -35: ("ES384", "P-384", 48),
    -36: ("ES512", "P-521", 66),
}
#: Hash algorithm names accepted for realm 44236 / 44240 -> digest size; cca.md §5.
HASH_ALGORITHMS: Mapping[str, int] = {"sha-256": 32, "sha-384": 48, "sha-512": 64}
_HASH_SIZES = (32, 48, 64)

#: Lifecycle state (bits 15:8) -> name; cca.md §3.1.
LIFECYCLE_STATES: Mapping[int, str] = {
    0x00: "unknown",
    0x10: "assembly-and-test",
    0x20: "cca-platform-rot-provisioning",
    0x30: "secured",
    0x40: "non-cca-platform-rot-debug",
    0x50: "recoverable-cca-platform-rot-debug",
    0x60: "decommissioned",
}
#: States in which some debug of the platform is possible (Appraisal.debug).
DEBUG_LIFECYCLE_STATES = frozenset(
    {"non-cca-platform-rot-debug", "recoverable-cca-platform-rot-debug", "decommissioned"}
)

_MAX_DEPTH = 16
_NO_TAGS: frozenset[int] = frozenset()


# --- bounded CBOR header scanner -------------------------------------------------------------


def _bad(
    where: str, offset: int, what: str, reason: Reason = Reason.MALFORMED
) -> MalformedEvidence:
    return MalformedEvidence(what, field=where, offset=offset, reason=reason)


def check_cbor(data: bytes, where: str, *, tags: frozenset[int] = _NO_TAGS) -> None:
    """Reject non-deterministic or ambiguous CBOR in ``data`` (one item, nothing after it).

    Checks (RFC 8949 §4.2.1 preferred serialization, §5.6 duplicate keys): definite
    lengths only, shortest argument encoding, no reserved additional information, no
    duplicate map keys, depth <= 16, only the tag numbers in ``tags``.
    """
    end = _scan(data, 0, 0, where, tags)
    if end != len(data):
        raise _bad(where, end, f"{len(data) - end} trailing bytes", Reason.TRAILING_DATA)


def _scan(data: bytes, pos: int, depth: int, where: str, tags: frozenset[int]) -> int:
    if depth > _MAX_DEPTH:
        raise _bad(where, pos, f"CBOR nesting deeper than {_MAX_DEPTH}")
    if pos >= len(data):
        raise _bad(where, pos, "CBOR item truncated", Reason.TRUNCATED)
    start = pos
    ib = data[pos]
    major, ai = ib >> 5, ib & 0x1F
    pos += 1
    if ai < 24:
        arg = ai
    elif ai <= 27:
        n = 1 << (ai - 24)
        if pos + n > len(data):
            raise _bad(where, start, "CBOR argument truncated", Reason.TRUNCATED)
        arg = int.from_bytes(data[pos : pos + n], "big")
        pos += n
        if major == 7:
            if ai == 24 and arg < 32:
                raise _bad(where, start, "simple value in two bytes")
        elif arg < (24, 0x100, 0x10000, 0x100000000)[ai - 24]:
            raise _bad(where, start, "non-minimal CBOR length/argument encoding")
    elif ai == 31:
        raise _bad(where, start, "indefinite-length CBOR item")
    else:
        raise _bad(where, start, f"reserved CBOR additional information {ai}")
    remaining = len(data) - pos
    if major in (2, 3):
        if arg > remaining:
            raise _bad(where, start, "CBOR string truncated", Reason.TRUNCATED)
        return pos + arg
    if major == 4:
        if arg > remaining:
            raise _bad(where, start, "CBOR array truncated", Reason.TRUNCATED)
        for _ in range(arg):
            pos = _scan(data, pos, depth + 1, where, tags)
        return pos
    if major == 5:
        if 2 * arg > remaining:
            raise _bad(where, start, "CBOR map truncated", Reason.TRUNCATED)
        seen: set[bytes] = set()
        for _ in range(arg):
            key_start = pos
            pos = _scan(data, pos, depth + 1, where, tags)
            key = data[key_start:pos]
            if key in seen:
                raise _bad(where, key_start, "duplicate map key")
            seen.add(key)
            pos = _scan(data, pos, depth + 1, where, tags)
        return pos
    if major == 6:
        if arg not in tags:
            raise _bad(where, start, f"unexpected CBOR tag {arg}")
        return _scan(data, pos, depth + 1, where, tags)
    return pos  # major 0, 1, 7


def decode_cbor(data: bytes, where: str, *, tags: frozenset[int] = _NO_TAGS) -> Any:
    """:func:`check_cbor` then decode with cbor2 (strict options, immutable containers)."""
    if not isinstance(data, bytes):
        raise MalformedEvidence("expected a byte string", field=where)
    check_cbor(data, where, tags=tags)
    try:
        return cbor2.loads(
            data,
            allow_indefinite=False,
            allow_duplicate_keys=False,
            max_depth=_MAX_DEPTH + 2,
            immutable=True,
        )
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as exc:
        # e.g. invalid UTF-8 in a text string, keys equal as Python values (1 and 1.0)
        raise MalformedEvidence(f"undecodable CBOR ({exc})", field=where) from None


# --- helpers over decoded values ----------------------------------------------------------------


def _int_keyed(value: Any, where: str) -> dict[int, Any]:
    """The integer-keyed entries of a CBOR map; text keys are unknown claims and ignored."""
    if not isinstance(value, Mapping):
        raise MalformedEvidence(f"expected a map, got {_kind(value)}", field=where)
    out: dict[int, Any] = {}
    for k, v in value.items():
        if type(k) is int:
            out[k] = v
        elif not isinstance(k, str):
            raise MalformedEvidence(f"map key of type {_kind(k)}", field=where)
    return out


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, bytes):
        return "bstr"
    if isinstance(value, str):
        return "tstr"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, cbor2.CBORTag):
        return f"tag {value.tag}"
    return type(value).__name__


def _bstr(
    m: Mapping[int, Any], key: int, where: str, sizes: tuple[int, ...] | None = None
) -> bytes:
    if key not in m:
        raise MalformedEvidence(f"mandatory claim {key} missing", field=where)
    return _as_bstr(m[key], where, sizes)


def _as_bstr(v: Any, where: str, sizes: tuple[int, ...] | None = None) -> bytes:
    if not isinstance(v, bytes):
        raise MalformedEvidence(f"expected bstr, got {_kind(v)}", field=where)
    if sizes is not None and len(v) not in sizes:
        raise MalformedEvidence(
            f"{len(v)} bytes, expected {' or '.join(map(str, sizes))}", field=where
        )
    return v


def _opt_bstr(
    m: Mapping[int, Any], key: int, where: str, sizes: tuple[int, ...] | None = None
) -> bytes | None:
    return None if key not in m else _as_bstr(m[key], where, sizes)


def _tstr(m: Mapping[int, Any], key: int, where: str) -> str:
    if key not in m:
        raise MalformedEvidence(f"mandatory claim {key} missing", field=where)
    return _as_tstr(m[key], where)


def _as_tstr(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise MalformedEvidence(f"expected tstr, got {_kind(v)}", field=where)
    if not v:
        raise MalformedEvidence("empty text string", field=where)
    return v


def _opt_tstr(m: Mapping[int, Any], key: int, where: str) -> str | None:
    return None if key not in m else _as_tstr(m[key], where)


def _as_uint(v: Any, where: str) -> int:
    if type(v) is not int or v < 0:
        raise MalformedEvidence(f"expected uint, got {_kind(v)}", field=where)
    return v


def _opt_choice(m: Mapping[int, Any], key: int, where: str, choices: tuple[int, ...]) -> int | None:
    if key not in m:
        return None
    v = _as_uint(m[key], where)
    if v not in choices:
        raise MalformedEvidence(f"value {v} not one of {choices}", field=where)
    return v


def _ueid(v: Any, where: str) -> bytes:
    # EAT UEID of type RAND: 33 bytes, first byte 0x01 (cca.md §3, §4)
    raw = _as_bstr(v, where, (33,))
    if raw[0] != 0x01:
        raise MalformedEvidence(f"UEID type {raw[0]:#x}, expected 0x01 (RAND)", field=where)
    return raw


def _hash_name(v: Any, where: str) -> str:
    name = _as_tstr(v, where)
    if name not in HASH_ALGORITHMS:
        raise UnsupportedEvidence(
            f"hash algorithm {name!r} (supported: {', '.join(HASH_ALGORITHMS)})",
            reason=Reason.UNSUPPORTED_ALGORITHM,
        )
    return name


def lifecycle_state(value: int) -> str | None:
    """The lifecycle state name (cca.md §3.1), None for a value outside every range."""
    if not 0 <= value <= 0xFFFF:
        return None
    return LIFECYCLE_STATES.get(value >> 8)


# --- views ----------------------------------------------------------------------------------------


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
        """``Sig_structure`` = ["Signature1", protected, h'' (external_aad), payload]."""
        return bytes(cbor2.dumps(["Signature1", self.protected, b"", self.payload]))


@dataclass(frozen=True, slots=True)
class SwComponent:
    """One platform software component (cca.md §3.2)."""

    measurement: bytes
    signer_id: bytes
    type: str | None = None
    version: str | None = None
    hash_algo: str | None = None

    def to_claims(self) -> dict[str, Any]:
        """Snake_case claims, optional fields only when present."""
        out: dict[str, Any] = {}
        if self.type is not None:
            out["type"] = self.type
        out["measurement"] = self.measurement
        if self.version is not None:
            out["version"] = self.version
        out["signer_id"] = self.signer_id
        if self.hash_algo is not None:
            out["hash_algo"] = self.hash_algo
        return out


@dataclass(frozen=True, slots=True)
class PlatformClaims:
    """Validated platform claim set (cca.md §3)."""

    profile: str
    challenge: bytes
    implementation_id: bytes
    instance_id: bytes
    config: bytes
    lifecycle: int
    sw_components: tuple[SwComponent, ...]
    hash_algo_id: str
    verification_service: str | None = None
    # 2024 profile (cca.md §3, draft-ffm-03)
    client_id: int | None = None
    manufacturing_config: bytes | None = None
    devices: tuple[Mapping[str, Any], ...] | None = None
    tbb_rotpk: tuple[Mapping[str, Any], ...] | None = None
    peer_signers: bytes | None = None

    @property
    def lifecycle_state(self) -> str:
        """Name of the lifecycle state (validated when parsed)."""
        name = lifecycle_state(self.lifecycle)
        assert name is not None  # checked in validate_platform_claims
        return name

    def to_claims(self) -> dict[str, Any]:
        """Snake_case claims (bytes stay bytes; ``to_jsonable`` makes them hex)."""
        out: dict[str, Any] = {
            "profile": self.profile,
            "challenge": self.challenge,
            "implementation_id": self.implementation_id,
            "instance_id": self.instance_id,
            "config": self.config,
            "lifecycle": self.lifecycle,
            "lifecycle_state": self.lifecycle_state,
            "sw_components": [c.to_claims() for c in self.sw_components],
            "hash_algo_id": self.hash_algo_id,
        }
        if self.verification_service is not None:
            out["verification_service"] = self.verification_service
        for name in ("client_id", "manufacturing_config", "peer_signers"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.devices is not None:
            out["devices"] = [dict(d) for d in self.devices]
        if self.tbb_rotpk is not None:
            out["tbb_rotpk"] = [dict(d) for d in self.tbb_rotpk]
        return out


@dataclass(frozen=True, slots=True)
class RealmKey:
    """The RAK as found in claim 44237: curve and affine coordinates (not yet on-curve checked)."""

    encoding: str  # "raw_ec_point" | "cose_key"
    curve: str
    x: bytes
    y: bytes
    alg: int | None = None  # COSE_Key alg (3) when given


@dataclass(frozen=True, slots=True)
class RealmClaims:
    """Validated realm claim set (cca.md §4)."""

    profile: str | None
    challenge: bytes
    personalization_value: bytes
    initial_measurement: bytes
    extensible_measurements: tuple[bytes, bytes, bytes, bytes]
    hash_algo_id: str
    public_key: bytes
    public_key_hash_algo_id: str
    rak: RealmKey
    instance_id: bytes | None = None
    mec_policy: int | None = None
    lfa_policy: int | None = None
    devices_token_hash: bytes | None = None

    def to_claims(self) -> dict[str, Any]:
        """Snake_case claims."""
        out: dict[str, Any] = {}
        if self.profile is not None:
            out["profile"] = self.profile
        out.update(
            rak_encoding=self.rak.encoding,
            challenge=self.challenge,
            personalization_value=self.personalization_value,
            initial_measurement=self.initial_measurement,
            extensible_measurements=list(self.extensible_measurements),
            hash_algo_id=self.hash_algo_id,
            public_key=self.public_key,
            public_key_hash_algo_id=self.public_key_hash_algo_id,
        )
        for name in ("instance_id", "mec_policy", "lfa_policy", "devices_token_hash"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


@dataclass(frozen=True, slots=True)
class CcaToken:
    """A parsed CCA attestation token: both COSE_Sign1 and both validated claim sets."""

    container: str  # "cmw-907" | "collection-399"
    platform: CoseSign1
    realm: CoseSign1
    platform_claims: PlatformClaims
    realm_claims: RealmClaims
    extra_entries: tuple[int | str, ...] = ()

    def to_claims(self) -> dict[str, Any]:
        """Claims as the pipeline reports them."""
        platform = {"alg": self.platform.alg_name, **self.platform_claims.to_claims()}
        realm = {"alg": self.realm.alg_name, **self.realm_claims.to_claims()}
        return {"container": self.container, "platform": platform, "realm": realm}


# --- container (cca.md §1.1) -----------------------------------------------------------------


def parse_token(data: bytes) -> CcaToken:
    """Decode and validate a CCA token (tag 907 CMW collection or legacy tag 399).

    Raises MalformedEvidence / UnsupportedEvidence; does no signature check.
    """
    top = decode_cbor(
        data,
        "container",
        tags=frozenset({TAG_CMW_COLLECTION, TAG_LEGACY_COLLECTION, TAG_COSE_SIGN1}),
    )
    if not isinstance(top, cbor2.CBORTag):
        raise MalformedEvidence(f"top level is {_kind(top)}, not tag 907/399", field="container")
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
        raise MalformedEvidence(f"collection is {_kind(entries)}, not a map", field="container")
    blobs: dict[int, bytes] = {}
    extra: list[int | str] = []
    for key, value in entries.items():
        if type(key) is not int or key not in (KEY_PLATFORM, KEY_REALM):
            # unknown entries (e.g. a future CCA device token) are tolerated and reported
            if not isinstance(key, int | str) or isinstance(key, bool):
                raise MalformedEvidence(f"collection key of type {_kind(key)}", field="container")
            extra.append(key)
            continue
        part = "platform" if key == KEY_PLATFORM else "realm"
        blobs[key] = _entry_bytes(value, container, f"container.{part}")
    for key, part in ((KEY_PLATFORM, "platform"), (KEY_REALM, "realm")):
        if key not in blobs:
            raise MalformedEvidence(f"{part} token ({key}) missing", field=f"container.{part}")
    platform = parse_sign1(blobs[KEY_PLATFORM], "platform")
    realm = parse_sign1(blobs[KEY_REALM], "realm")
    platform_claims = validate_platform_claims(platform.payload)
    realm_claims = validate_realm_claims(realm.payload)
    return CcaToken(
        container=container,
        platform=platform,
        realm=realm,
        platform_claims=platform_claims,
        realm_claims=realm_claims,
        extra_entries=tuple(extra),
    )


def _entry_bytes(value: Any, container: str, where: str) -> bytes:
    if container == "cmw-907":
        # CMW array [content-format 263, bstr] (cca.md §1.1)
        if not isinstance(value, list | tuple):
            raise MalformedEvidence(
                f"tag 907 entry is {_kind(value)}, expected a [263, bstr] CMW array", field=where
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
            f"entry is {_kind(value)}, expected a bstr-wrapped COSE_Sign1", field=where
        )
    if not value:
        raise MalformedEvidence("entry is an empty byte string", field=where)
    return value


# --- COSE_Sign1 (cca.md §2) --------------------------------------------------------------------


def parse_sign1(data: bytes, part: str) -> CoseSign1:
    """Decode a ``COSE_Sign1_Tagged``; ``part`` ("platform"/"realm") names fields in errors."""
    where = f"{part}.cose"
    obj = decode_cbor(data, where, tags=frozenset({TAG_COSE_SIGN1}))
    if not isinstance(obj, cbor2.CBORTag):
        raise MalformedEvidence(
            f"{part} token is {_kind(obj)}, not COSE_Sign1_Tagged (tag 18)", field=where, offset=0
        )
    if obj.tag != TAG_COSE_SIGN1:
        raise MalformedEvidence(f"tag {obj.tag}, expected 18 (COSE_Sign1)", field=where, offset=0)
    arr = obj.value
    if not isinstance(arr, list | tuple) or len(arr) != 4:
        raise MalformedEvidence("COSE_Sign1 is not a 4-element array", field=where)
    protected, unprotected, payload, signature = arr
    if not isinstance(protected, bytes) or not protected:
        raise MalformedEvidence(
            "protected header must be a non-empty bstr", field=f"{part}.protected"
        )
    prot = _int_keyed(decode_cbor(protected, f"{part}.protected"), f"{part}.protected")
    unprot = _int_keyed(unprotected, f"{part}.unprotected")
    both = set(prot) & set(unprot)
    if both:
        raise MalformedEvidence(
            f"header label {min(both)} in both protected and unprotected (RFC 9052 §3)",
            field=f"{part}.unprotected",
        )
    if 2 in prot or 2 in unprot:
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
        raise MalformedEvidence(f"payload is {_kind(payload)}, not bstr", field=f"{part}.payload")
    if not isinstance(signature, bytes):
        raise MalformedEvidence(
            f"signature is {_kind(signature)}, not bstr", field=f"{part}.signature"
        )
    return CoseSign1(protected=protected, alg=alg, kid=kid, payload=payload, signature=signature)


def parse_platform_token(data: bytes) -> tuple[CoseSign1, PlatformClaims]:
    """A lone platform ``COSE_Sign1_Tagged`` (as RSE / TF-M emit it) and its claims."""
    sign1 = parse_sign1(data, "platform")
    return sign1, validate_platform_claims(sign1.payload)


# --- platform claims (cca.md §3) ---------------------------------------------------------------


def _claims_map(claims: bytes | Mapping[Any, Any], where: str) -> dict[int, Any]:
    if isinstance(claims, bytes):
        claims = decode_cbor(claims, where)
    return _int_keyed(claims, where)


def validate_platform_claims(claims: bytes | Mapping[Any, Any]) -> PlatformClaims:
    """Validate a platform claim set (CBOR bytes or a decoded map) against its profile.

    Unknown claims are ignored; every known claim must have its type and size.
    """
    m = _claims_map(claims, "platform.payload")
    profile = _tstr(m, 265, "platform.profile")
    if profile not in PLATFORM_PROFILES:
        raise UnsupportedEvidence(
            f"unknown platform profile {profile!r}", reason=Reason.UNSUPPORTED_PROFILE
        )
    if 10 in m and isinstance(m[10], list | tuple):
        raise MalformedEvidence(
            "challenge is an array of nonces; CCA requires one bstr", field="platform.challenge"
        )
    challenge = _bstr(m, 10, "platform.challenge", _HASH_SIZES)
    implementation_id = _bstr(m, 2396, "platform.implementation_id", (32,))
    if 256 not in m:
        raise MalformedEvidence("mandatory claim 256 missing", field="platform.instance_id")
    instance_id = _ueid(m[256], "platform.instance_id")
    config = _bstr(m, 2401, "platform.config")
    if 2395 not in m:
        raise MalformedEvidence("mandatory claim 2395 missing", field="platform.lifecycle")
    lifecycle = _as_uint(m[2395], "platform.lifecycle")
    if lifecycle_state(lifecycle) is None:
        raise MalformedEvidence(
            f"lifecycle {lifecycle:#x} is in no defined range", field="platform.lifecycle"
        )
    if 2399 not in m:
        raise MalformedEvidence("mandatory claim 2399 missing", field="platform.sw_components")
    sw = m[2399]
    if not isinstance(sw, list | tuple) or not sw:
        raise MalformedEvidence(
            "sw-components must be a non-empty array", field="platform.sw_components"
        )
    components = tuple(_sw_component(c, f"platform.sw_components[{i}]") for i, c in enumerate(sw))
    hash_algo_id = _tstr(m, 2402, "platform.hash_algo_id")
    verification_service = _opt_tstr(m, 2400, "platform.verification_service")
    extra: dict[str, Any] = {}
    if profile == PLATFORM_PROFILE_2024:
        if 2394 not in m:
            raise MalformedEvidence("mandatory claim 2394 missing", field="platform.client_id")
        if type(m[2394]) is not int or m[2394] != 1:
            raise MalformedEvidence("client-id must be 1", field="platform.client_id")
        extra["client_id"] = 1
        extra["manufacturing_config"] = _opt_bstr(m, 2403, "platform.manufacturing_config")
        extra["peer_signers"] = _opt_bstr(m, 2406, "platform.peer_signers")
        if 2404 in m:
            extra["devices"] = _array_of(m[2404], "platform.devices", _device)
        if 2405 in m:
            extra["tbb_rotpk"] = _array_of(m[2405], "platform.tbb_rotpk", _rotpk)
    return PlatformClaims(
        profile=profile,
        challenge=challenge,
        implementation_id=implementation_id,
        instance_id=instance_id,
        config=config,
        lifecycle=lifecycle,
        sw_components=components,
        hash_algo_id=hash_algo_id,
        verification_service=verification_service,
        **extra,
    )


def _sw_component(value: Any, where: str) -> SwComponent:
    m = _int_keyed(value, where)  # unknown keys ignored (as VPsa; decision in docs/cca.md)
    return SwComponent(
        type=_opt_tstr(m, 1, f"{where}.type"),
        measurement=_bstr(m, 2, f"{where}.measurement", _HASH_SIZES),
        version=_opt_tstr(m, 4, f"{where}.version"),
        signer_id=_bstr(m, 5, f"{where}.signer_id", _HASH_SIZES),
        hash_algo=_opt_tstr(m, 6, f"{where}.hash_algo"),
    )


def _array_of(value: Any, where: str, item: Any) -> tuple[Mapping[str, Any], ...]:
    if not isinstance(value, list | tuple):
        raise MalformedEvidence(f"expected an array, got {_kind(value)}", field=where)
    return tuple(item(v, f"{where}[{i}]") for i, v in enumerate(value))


_SPDM = ("spdm-1.2", "spdm-1.3", "spdm-1.4")


def _device(value: Any, where: str) -> Mapping[str, Any]:
    m = _int_keyed(value, where)
    out: dict[str, Any] = {}
    hash_algo = _opt_tstr(m, 1, f"{where}.hash_algo")
    if hash_algo is not None:
        out["hash_algo"] = hash_algo
    out["measurements_digest"] = _bstr(m, 2, f"{where}.measurements_digest", _HASH_SIZES)
    out["certificate_chain_digest"] = _bstr(m, 3, f"{where}.certificate_chain_digest", _HASH_SIZES)
    if 4 not in m or not isinstance(m[4], bool):
        raise MalformedEvidence("uses-ide (4) must be a bool", field=f"{where}.uses_ide")
    out["uses_ide"] = m[4]
    protocol = _tstr(m, 5, f"{where}.protocol")
    out["protocol"] = protocol
    needs_vca = protocol.startswith(_SPDM)
    vca = _opt_bstr(m, 6, f"{where}.vca_digest", _HASH_SIZES)
    if needs_vca != (vca is not None):
        raise MalformedEvidence("vca-digest must be present exactly for SPDM", field=f"{where}")
    if vca is not None:
        out["vca_digest"] = vca
    device_type = _tstr(m, 7, f"{where}.device_type")
    out["device_type"] = device_type
    enc = _opt_choice(m, 8, f"{where}.encryption_type", (0, 1, 2))
    if (device_type == "cxl-type-3") != (enc is not None):
        raise MalformedEvidence(
            "encryption-type must be present exactly for cxl-type-3", field=where
        )
    if enc is not None:
        out["encryption_type"] = enc
    return out


def _rotpk(value: Any, where: str) -> Mapping[str, Any]:
    m = _int_keyed(value, where)
    out: dict[str, Any] = {"name": _tstr(m, 1, f"{where}.name")}
    for key, name in ((2, "active_array_index"), (3, "index")):
        if key not in m:
            raise MalformedEvidence(f"mandatory key {key} missing", field=f"{where}.{name}")
        out[name] = _as_uint(m[key], f"{where}.{name}")
    out["hash"] = _bstr(m, 4, f"{where}.hash", _HASH_SIZES)
    return out


# --- realm claims (cca.md §4) ------------------------------------------------------------------


def validate_realm_claims(claims: bytes | Mapping[Any, Any]) -> RealmClaims:
    """Validate a realm claim set (CBOR bytes or a decoded map) against its profile.

    Realm profile absent = legacy (raw P-384 RAK point); realm#1.0.0 and realm#2.0.0 carry
    a COSE_Key. realm#2.0.0 also requires instance-id (256) and MEC policy (44243).
    Unknown numeric or text keys are ignored.
    """
    m = _claims_map(claims, "realm.payload")
    profile = _opt_tstr(m, 265, "realm.profile")
    if profile is not None and profile not in REALM_PROFILES:
        raise UnsupportedEvidence(
            f"unknown realm profile {profile!r}", reason=Reason.UNSUPPORTED_PROFILE
        )
    challenge = _bstr(m, 10, "realm.challenge", (64,))
    rpv = _bstr(m, 44235, "realm.personalization_value", (64,))
    rim = _bstr(m, 44238, "realm.initial_measurement", _HASH_SIZES)
    if 44239 not in m:
        raise MalformedEvidence(
            "mandatory claim 44239 missing", field="realm.extensible_measurements"
        )
    rems_raw = m[44239]
    if not isinstance(rems_raw, list | tuple) or len(rems_raw) != 4:
        n = len(rems_raw) if isinstance(rems_raw, list | tuple) else _kind(rems_raw)
        raise MalformedEvidence(
            f"extensible measurements: {n}, expected an array of exactly 4",
            field="realm.extensible_measurements",
        )
    rems = tuple(
        _as_bstr(r, f"realm.extensible_measurements[{i}]", _HASH_SIZES)
        for i, r in enumerate(rems_raw)
    )
    if 44236 not in m:
        raise MalformedEvidence("mandatory claim 44236 missing", field="realm.hash_algo_id")
    hash_algo_id = _hash_name(m[44236], "realm.hash_algo_id")
    public_key = _bstr(m, 44237, "realm.public_key")
    if 44240 not in m:
        raise MalformedEvidence(
            "mandatory claim 44240 missing", field="realm.public_key_hash_algo_id"
        )
    pk_hash = _hash_name(m[44240], "realm.public_key_hash_algo_id")
    rak = _realm_key(public_key, profile)
    instance_id = None
    if 256 in m:
        instance_id = _ueid(m[256], "realm.instance_id")
    mec = _opt_choice(m, 44243, "realm.mec_policy", (0, 1))
    lfa = _opt_choice(m, 44244, "realm.lfa_policy", (0, 1))
    devices_hash = _opt_bstr(m, 44257, "realm.devices_token_hash", _HASH_SIZES)
    if profile == REALM_PROFILE_2:
        if instance_id is None:
            raise MalformedEvidence(
                "mandatory claim 256 missing (realm#2.0.0)", field="realm.instance_id"
            )
        if mec is None:
            raise MalformedEvidence(
                "mandatory claim 44243 missing (realm#2.0.0)", field="realm.mec_policy"
            )
    return RealmClaims(
        profile=profile,
        challenge=challenge,
        personalization_value=rpv,
        initial_measurement=rim,
        extensible_measurements=(rems[0], rems[1], rems[2], rems[3]),
        hash_algo_id=hash_algo_id,
        public_key=public_key,
        public_key_hash_algo_id=pk_hash,
        rak=rak,
        instance_id=instance_id,
        mec_policy=mec,
        lfa_policy=lfa,
        devices_token_hash=devices_hash,
    )


_COSE_CURVES = {1: ("P-256", 32), 2: ("P-384", 48), 3: ("P-521", 66)}
_RAW_POINT_CURVES = {65: "P-256", 97: "P-384", 133: "P-521"}


def _realm_key(raw: bytes, profile: str | None) -> RealmKey:
    """RAK encoding chosen by the presence of the realm profile (cca.md §4.1)."""
    where = "realm.public_key"
    if profile is None:
        # legacy: SEC1 uncompressed point 04||X||Y
        curve = _RAW_POINT_CURVES.get(len(raw))
        if curve is None or raw[0] != 0x04:
            raise MalformedEvidence(
                f"legacy RAK must be an uncompressed EC point (65/97/133 bytes), got {len(raw)}",
                field=where,
            )
        n = (len(raw) - 1) // 2
        return RealmKey("raw_ec_point", curve, raw[1 : 1 + n], raw[1 + n :])
    m = _int_keyed(decode_cbor(raw, where), where)
    if m.get(1) != 2 or type(m.get(1)) is not int:
        raise MalformedEvidence("COSE_Key kty must be 2 (EC2)", field=f"{where}.kty")
    crv = m.get(-1)
    if type(crv) is not int or crv not in _COSE_CURVES:
        raise MalformedEvidence(f"COSE_Key crv {crv!r} not P-256/384/521", field=f"{where}.crv")
    if -4 in m:
        raise MalformedEvidence("COSE_Key carries a private key (d)", field=f"{where}.d")
    curve, size = _COSE_CURVES[crv]
    x = _bstr(m, -2, f"{where}.x", (size,))
    y = _bstr(m, -3, f"{where}.y", (size,))  # compressed (bool y) is not allowed
    alg = m.get(3)
    if alg is not None and (type(alg) is not int or alg not in ALGORITHMS):
        raise MalformedEvidence(f"COSE_Key alg {alg!r}", field=f"{where}.alg")
    return RealmKey("cose_key", curve, x, y, alg)


def looks_like(data: bytes) -> bool:
    """CBOR tag 907 / 399 collections, or a COSE_Sign1 (tag 18) (cca.md §1.1)."""
    return data[:1] in (b"\xd9", b"\xd2", b"\x84", b"\xda")
