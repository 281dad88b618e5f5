"""Arm CCA pipeline: parse -> CPAK -> platform signature -> RAK -> realm signature -> binding.

cca.md §7. The token is parsed and both claim sets validated first (EvidenceError), then
authenticated (AuthenticityError); appraisal against reference values is the policy's
(policy/cca.py). The CPAK comes from the collateral (docs/cca.md "Platform keys").
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from cocoverify.collateral import Collateral
from cocoverify.errors import CollateralInvalid, CollateralUnavailable, Reason, SignatureInvalid
from cocoverify.result import Appraisal, freeze
from cocoverify.tee.cca.parse import (
    ALGORITHMS,
    DEBUG_LIFECYCLE_STATES,
    HASH_ALGORITHMS,
    CoseSign1,
    PlatformClaims,
    parse_platform_token,
    parse_token,
)
from cocoverify.tee.cca.verify import (
    check_binding,
    curve_name,
    jwk_is_supported,
    key_from_jwk,
    sign1_verifies,
    verify_realm,
)
from cocoverify.trust import TrustStore

if TYPE_CHECKING:
    from cocoverify.collateral.source import CollateralSource

__all__ = ["CpakCandidate", "appraise_token", "cpak_candidates", "verify_platform_token"]


@dataclass(frozen=True, slots=True)
class CpakCandidate:
    """A platform key offered by the collateral; ``bound`` = tied to this instance-id."""

    key: ec.EllipticCurvePublicKey
    source: str
    bound: bool

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the SubjectPublicKeyInfo DER, hex."""
        spki = self.key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return hashlib.sha256(spki).hexdigest()


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
        return base64.urlsafe_b64decode(
            text.replace("+", "-").replace("/", "_") + "=" * (-len(text) % 4)
        )
    except (binascii.Error, ValueError):
        return None


def _jwk_key(jwk: Mapping[str, Any], source: str) -> ec.EllipticCurvePublicKey:
    try:
        return key_from_jwk(jwk)
    except ValueError as exc:
        raise CollateralInvalid(
            f"{source}: unusable CPAK ({exc})", reason=Reason.COLLATERAL_MALFORMED
        ) from None


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


def _verify_platform(
    sign1: CoseSign1, claims: PlatformClaims, collateral: Collateral
) -> CpakCandidate:
    """cca.md §7 steps 3-4: select the CPAK and verify the platform signature."""
    candidates = cpak_candidates(collateral, claims, sign1.kid)
    if not candidates:
        raise CollateralUnavailable(
            f"no platform key (CPAK) for instance-id {claims.instance_id.hex()} "
            f"(implementation-id {claims.implementation_id.hex()}): supply a PEM/JWK key or "
            "a trust-anchor store entry for this instance",
            reason=Reason.COLLATERAL_MISSING,
        )
    curve = ALGORITHMS[sign1.alg][1]
    usable = [c for c in candidates if curve_name(c.key) == curve]
    if not usable:
        raise SignatureInvalid(
            f"platform token is {sign1.alg_name} but no supplied CPAK is on {curve}",
            reason=Reason.KEY_TYPE_MISMATCH,
        )
    for cand in usable:
        if sign1_verifies(sign1, cand.key):
            return cand
    raise SignatureInvalid(
        f"platform token signature does not verify with any of {len(usable)} supplied CPAK(s)"
    )


def _cpak_info(cand: CpakCandidate) -> dict[str, Any]:
    return {
        "source": cand.source,
        "sha256_spki": cand.fingerprint,
        "bound": cand.bound,
    }


def _ignored_entries(keys: Sequence[int | str]) -> str:
    """Warning naming unknown collection keys: unsigned input, so escaped and bounded."""
    shown = sorted(repr(k) if len(repr(k)) <= 40 else repr(k)[:37] + "..." for k in keys)
    more = f" and {len(shown) - 8} more" if len(shown) > 8 else ""
    return f"{len(shown)} collection entries ignored: {', '.join(shown[:8])}{more}"


def appraise_token(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,  # unused: CCA has no vendor collateral service
    require_crl: bool = False,  # unused: CCA tokens carry no certificates
) -> Appraisal:
    """Verify a CCA token end to end (cca.md §7 steps 1-7); policy is applied by the caller."""
    token = parse_token(data)  # steps 1, 2, 5 (decode) and 7 (claim syntax)
    cpak = _verify_platform(token.platform, token.platform_claims, collateral)  # 3, 4
    realm = token.realm_claims
    verify_realm(token.realm, realm)  # 5
    check_binding(token.platform_claims.challenge, realm)  # 6
    warnings: list[str] = []
    if token.extra_entries:
        warnings.append(_ignored_entries(token.extra_entries))
    size = HASH_ALGORITHMS[realm.hash_algo_id]
    odd = [
        name
        for name, value in (
            ("initial_measurement", realm.initial_measurement),
            *(
                (f"extensible_measurements[{i}]", r)
                for i, r in enumerate(realm.extensible_measurements)
            ),
        )
        if len(value) != size
    ]
    if odd:
        warnings.append(
            f"realm {', '.join(odd)} not {size} bytes as hash_algo_id {realm.hash_algo_id} implies"
        )
    state = token.platform_claims.lifecycle_state
    return Appraisal(
        tee="cca",
        claims=freeze(token.to_claims()),
        tcb_status=None,
        collateral=freeze({"cpak": _cpak_info(cpak)}),
        warnings=tuple(warnings),
        report_data=realm.challenge,
        init_data=realm.personalization_value,
        debug=state in DEBUG_LIFECYCLE_STATES,
    )


def verify_platform_token(data: bytes, *, collateral: Collateral) -> dict[str, Any]:
    """Verify a lone platform COSE_Sign1 (no realm token); returns its claims.

    For RSE/TF-M platform tokens. There is no binding to check and no policy applied.
    """
    sign1, claims = parse_platform_token(data)
    cpak = _verify_platform(sign1, claims, collateral)
    return {"alg": sign1.alg_name, **claims.to_claims(), "cpak": _cpak_info(cpak)}
