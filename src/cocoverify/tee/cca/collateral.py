"""Platform keys (CPAK) for a CCA token: which of the supplied keys may verify it.

For CCA the collateral keys are the trust anchors (there is no vendor root): PEM/DER public
keys, JWKs (RFC 7517, EC per RFC 7518 §6.2), JWK sets, and trust-anchor stores as
rust-ccatoken/trustee write them, ``[{instance-id, implementation-id, pkey: JWK}]``. The
selection rules are in docs/cca.md "Platform keys"; the Arm RMM specification §A7.2.3 only
says the CPAK is found by the platform instance-id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify._core.cose import curve_name
from cocoverify._core.jose import CURVES, b64url_decode, ec_key_from_jwk
from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, Reason
from cocoverify.tee.cca.memo import Failure, KeyMemo, Lru, Rerun, capture, document_key, ec_point
from cocoverify.tee.cca.platform import PlatformClaims

__all__ = [
    "CpakCandidate",
    "clear_caches",
    "collateral_key",
    "cpak_candidates",
    "jwk_is_supported",
    "key_from_jwk",
    "platform_keys",
]


@dataclass(frozen=True, slots=True)
class CpakCandidate:
    """A platform key offered by the collateral; ``bound`` = tied to this instance-id.

    ``point`` (raw X||Y), ``curve`` (``P-256`` / ``P-384`` / ``P-521``, None for another
    curve) and ``fingerprint`` are derived once, when the candidate is made.
    """

    key: ec.EllipticCurvePublicKey
    source: str
    bound: bool
    point: bytes = field(init=False, repr=False, compare=False)
    curve: str | None = field(init=False, repr=False, compare=False)
    #: SHA-256 of the SubjectPublicKeyInfo DER, hex.
    fingerprint: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spki = self.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        object.__setattr__(self, "point", ec_point(self.key))
        object.__setattr__(self, "curve", curve_name(self.key))
        object.__setattr__(self, "fingerprint", hashlib.sha256(spki).hexdigest())

    def to_dict(self) -> dict[str, Any]:
        """How the result reports the key that verified (``collateral["cpak"]``)."""
        return {"source": self.source, "sha256_spki": self.fingerprint, "bound": self.bound}


# --- CPAK from a JWK (RFC 7517, RFC 7518 §6.2) -----------------------------------------------


def _jwk_verifies_signatures(jwk: Mapping[str, Any]) -> bool:
    # RFC 7517 §4.2 "use" (sig), §4.3 "key_ops" (verify), when given
    if "use" in jwk and jwk["use"] != "sig":
        return False
    ops = jwk.get("key_ops")
    return ops is None or (isinstance(ops, list) and "verify" in ops)


def jwk_is_supported(jwk: Mapping[str, Any]) -> bool:
    """Could this JWK be a CPAK: ``kty`` EC on P-256/P-384/P-521, not restricted to other uses?"""
    crv = jwk.get("crv")
    return (
        jwk.get("kty") == "EC"
        and isinstance(crv, str)
        and crv in CURVES
        and _jwk_verifies_signatures(jwk)
    )


def key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """An EC public key from a JWK; ValueError when unusable (e.g. point not on the curve).

    base64url is read leniently (padding, stray bits), as trust-anchor stores write it.
    """
    if jwk.get("kty") == "EC" and not _jwk_verifies_signatures(jwk):
        raise ValueError("JWK use / key_ops do not allow signature verification")
    return ec_key_from_jwk(jwk, strict=False)


def _jwk_key(jwk: Mapping[str, Any], source: str) -> ec.EllipticCurvePublicKey:
    try:
        return key_from_jwk(jwk)
    except ValueError as exc:
        raise CollateralInvalid(
            f"{source}: unusable CPAK ({exc})", reason=Reason.COLLATERAL_MALFORMED
        ) from None


# --- which keys name which platform instance -------------------------------------------------


def _id_bytes(value: Any) -> bytes | None:
    """An id from a trust-anchor store: hex (as rust-ccatoken/trustee write it) or base64."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        pass
    try:
        return b64url_decode(text.replace("+", "-").replace("/", "_"), strict=False)
    except ValueError:
        return None


def _is_jwk(doc: Any) -> bool:
    return isinstance(doc, Mapping) and "kty" in doc


def _is_ta_entry(doc: Any) -> bool:
    # an entry naming an instance is a trust anchor even when its pkey is missing or broken
    return isinstance(doc, Mapping) and "instance-id" in doc


def _jwk_instance(jwk: Mapping[str, Any]) -> bytes | None:
    """The platform instance-id a JWK's ``kid`` names (hex or base64url of a UEID), or None."""
    raw = _id_bytes(jwk.get("kid"))
    if raw is not None and len(raw) == 33 and raw[0] == 0x01:
        return raw
    return None


def _kid_names(jwk: Mapping[str, Any], kid: bytes) -> bool:
    """A JWK ``kid`` equal to the token's COSE kid (as text, hex or base64url)."""
    name = jwk.get("kid")
    if not isinstance(name, str):
        return False
    return name.encode() == kid or _id_bytes(name) == kid


def cpak_candidates(
    collateral: Collateral, platform: PlatformClaims, kid: bytes | None = None
) -> list[CpakCandidate]:
    """The keys to try for this platform token (docs/cca.md "Platform keys").

    *Bound* keys are endorsed for this platform instance: trust-anchor store entries
    (``[{instance-id, implementation-id, pkey: JWK}]``) whose instance-id (and
    implementation-id, when given) equal the token's, and JWKs whose ``kid`` is the
    token's instance-id. When the collateral names this instance-id at all (a store entry,
    whatever its implementation-id, or such a JWK), only bound keys are used, possibly
    none. Otherwise every unbound key is tried: PEM/DER public keys, bare JWKs, JWK sets;
    if the token's COSE ``kid`` names some of those JWKs, only they are tried. Keys endorsed
    for other instances (store entries, JWKs whose ``kid`` is another instance-id) are
    never used, and the unauthenticated COSE ``kid`` never makes a key bound. JWKs of a
    type no CPAK has (RSA, OKP, other curves) are skipped unless bound.
    """
    bound: list[CpakCandidate] = []
    unbound: list[CpakCandidate] = []
    kid_named: list[CpakCandidate] = []
    instance_known = False

    def add_jwk(jwk: Mapping[str, Any], where: str) -> None:
        nonlocal instance_known
        named = _jwk_instance(jwk)
        if named is not None:
            if named != platform.instance_id:
                return  # endorsed for another platform instance
            instance_known = True
            bound.append(CpakCandidate(_jwk_key(jwk, where), where, True))
            return
        if not jwk_is_supported(jwk):
            return
        cand = CpakCandidate(_jwk_key(jwk, where), where, False)
        unbound.append(cand)
        if kid is not None and _kid_names(jwk, kid):
            kid_named.append(cand)

    for i, key in enumerate(collateral.public_keys):
        if isinstance(key, ec.EllipticCurvePublicKey) and curve_name(key) is not None:
            unbound.append(CpakCandidate(key, f"public key #{i}", False))
    for i, doc in enumerate(collateral.documents):
        src = f"document #{i}"
        entries: Sequence[Any] = doc if isinstance(doc, list) else [doc]
        for j, entry in enumerate(entries):
            where = f"{src}[{j}]" if isinstance(doc, list) else src
            if _is_ta_entry(entry):
                if _id_bytes(entry["instance-id"]) != platform.instance_id:
                    continue
                instance_known = True
                impl = entry.get("implementation-id")
                if impl is not None and _id_bytes(impl) != platform.implementation_id:
                    continue  # pinned to another implementation: no key, and no fallback
                pkey = entry.get("pkey")
                if not _is_jwk(pkey):
                    raise CollateralInvalid(
                        f"{where}: pkey is not a JWK", reason=Reason.COLLATERAL_MALFORMED
                    )
                bound.append(CpakCandidate(_jwk_key(pkey, where), where, True))
            elif _is_jwk(entry):
                add_jwk(entry, where)
            elif isinstance(entry, Mapping) and isinstance(entry.get("keys"), list):
                for k, jwk in enumerate(entry["keys"]):
                    if _is_jwk(jwk):
                        add_jwk(jwk, f"{where}.keys[{k}]")
    if instance_known:
        return bound
    return kid_named or unbound


def platform_keys(
    collateral: Collateral, platform: PlatformClaims, kid: bytes | None = None
) -> list[CpakCandidate]:
    """:func:`cpak_candidates`; CollateralUnavailable when there is none."""
    return list(_selection(collateral, platform, kid))


def _platform_keys(
    collateral: Collateral, platform: PlatformClaims, kid: bytes | None
) -> tuple[CpakCandidate, ...]:
    candidates = cpak_candidates(collateral, platform, kid)
    if not candidates:
        raise CollateralUnavailable(
            f"no platform key (CPAK) for instance-id {platform.instance_id.hex()} "
            f"(implementation-id {platform.implementation_id.hex()}): supply a PEM/JWK key or "
            "a trust-anchor store entry for this instance",
            reason=Reason.COLLATERAL_MISSING,
        )
    return tuple(candidates)


# --- the selection, once per content -----------------------------------------------------

#: Selections kept (by collateral content, instance-id, implementation-id and COSE kid), and
#: key objects whose point is remembered per curve.
MAX_SELECTIONS = 256
MAX_KEYS_PER_CURVE = 64
_SELECTIONS: Lru[Hashable, tuple[CpakCandidate, ...] | Failure | Rerun] = Lru(MAX_SELECTIONS)
_KEYS = KeyMemo(MAX_KEYS_PER_CURVE)


def clear_caches() -> None:
    """Forget every selection and key (tests of cold behaviour)."""
    _SELECTIONS.clear()
    _KEYS.clear()


def _key_content(key: Any) -> Hashable:
    # keys no CPAK can be are skipped by cpak_candidates: only their position counts
    if isinstance(key, ec.EllipticCurvePublicKey) and curve_name(key) is not None:
        return (key.curve.name, _KEYS.point(key))
    return None


def collateral_key(collateral: Collateral) -> Hashable | None:
    """What :func:`cpak_candidates` reads of ``collateral``, as a content key: each public
    key's curve and point (in order), each document's content; None when a document is
    not plain JSON (its selection is then not cached)."""
    docs = tuple(document_key(doc) for doc in collateral.documents)
    if None in docs:
        return None
    return tuple(_key_content(k) for k in collateral.public_keys), docs


def _selection(
    collateral: Collateral, platform: PlatformClaims, kid: bytes | None
) -> tuple[CpakCandidate, ...]:
    """:func:`_platform_keys`, computed once per (collateral content, instance-id,
    implementation-id, kid)."""
    content = collateral_key(collateral)
    if content is None:
        return _platform_keys(collateral, platform, kid)
    key = (content, platform.instance_id, platform.implementation_id, kid)
    found = _SELECTIONS.get_or_make(
        key, lambda: capture(lambda: _platform_keys(collateral, platform, kid))
    )
    if not isinstance(found, tuple):
        found.check()
        raise AssertionError("unreachable: a failed check raises")
    return found
