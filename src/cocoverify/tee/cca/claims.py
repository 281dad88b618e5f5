"""The one place CCA claims are built: snake_case names, bytes kept as bytes.

``result.to_jsonable`` turns the bytes into lower-case hex; the names are listed in
docs/cca.md "Claims in the result" and match the shared vectors' claim encoding. Warnings
about the token (ignored collection entries, measurement sizes) are built here too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any

from cocoverify._core.cose import CoseSign1
from cocoverify.result import freeze
from cocoverify.tee.cca.memo import Lru
from cocoverify.tee.cca.parse import CcaToken
from cocoverify.tee.cca.platform import PlatformClaims, SwComponent
from cocoverify.tee.cca.realm import HASH_ALGORITHMS, RealmClaims

__all__ = [
    "frozen_token_claims",
    "platform_claims",
    "platform_token_claims",
    "realm_claims",
    "sw_component_claims",
    "token_claims",
    "token_warnings",
]


def _present(view: Any, *names: str) -> dict[str, Any]:
    """The named optional fields of ``view`` that are set, in the order given."""
    return {n: getattr(view, n) for n in names if getattr(view, n) is not None}


def sw_component_claims(c: SwComponent) -> dict[str, Any]:
    """One software component; optional fields only when present."""
    return {
        **_present(c, "type"),
        "measurement": c.measurement,
        **_present(c, "version"),
        "signer_id": c.signer_id,
        **_present(c, "hash_algo"),
    }


def platform_claims(p: PlatformClaims) -> dict[str, Any]:
    """The platform claim set (RMM §A7.2.3.2), 2024-profile claims when present."""
    out: dict[str, Any] = {
        "profile": p.profile,
        "challenge": p.challenge,
        "implementation_id": p.implementation_id,
        "instance_id": p.instance_id,
        "config": p.config,
        "lifecycle": p.lifecycle,
        "lifecycle_state": p.lifecycle_state,
        "sw_components": [sw_component_claims(c) for c in p.sw_components],
        "hash_algo_id": p.hash_algo_id,
        **_present(p, "verification_service", "client_id", "manufacturing_config", "peer_signers"),
    }
    if p.devices is not None:
        out["devices"] = [dict(d) for d in p.devices]
    if p.tbb_rotpk is not None:
        out["tbb_rotpk"] = [dict(d) for d in p.tbb_rotpk]
    return out


def realm_claims(r: RealmClaims) -> dict[str, Any]:
    """The realm claim set (RMM §A7.2.3.1) with the RAK encoding found."""
    return {
        **_present(r, "profile"),
        "rak_encoding": r.rak.encoding,
        "challenge": r.challenge,
        "personalization_value": r.personalization_value,
        "initial_measurement": r.initial_measurement,
        "extensible_measurements": list(r.extensible_measurements),
        "hash_algo_id": r.hash_algo_id,
        "public_key": r.public_key,
        "public_key_hash_algo_id": r.public_key_hash_algo_id,
        **_present(r, "instance_id", "mec_policy", "lfa_policy", "devices_token_hash"),
    }


def platform_token_claims(sign1: CoseSign1, claims: PlatformClaims) -> dict[str, Any]:
    """A platform token's claims headed by its COSE alg."""
    return {"alg": sign1.alg_name, **platform_claims(claims)}


def token_claims(token: CcaToken) -> dict[str, Any]:
    """Claims of a whole token, as the pipeline reports them."""
    realm = {"alg": token.realm.alg_name, **realm_claims(token.realm_claims)}
    return {
        "container": token.container,
        "platform": platform_token_claims(token.platform, token.platform_claims),
        "realm": realm,
    }


def frozen_token_claims(token: CcaToken) -> Mapping[str, Any]:
    """:func:`token_claims` as ``result.freeze`` returns it (read-only mappings, tuples).
    The platform part is built once per platform token (a pure function of its content)."""
    platform = _FROZEN_PLATFORM.get_or_make(
        token.platform,
        lambda: _freeze(platform_token_claims(token.platform, token.platform_claims)),
    )
    realm = {"alg": token.realm.alg_name, **realm_claims(token.realm_claims)}
    return MappingProxyType(
        {"container": token.container, "platform": platform, "realm": _freeze(realm)}
    )


#: Frozen platform claims by platform COSE_Sign1 (hashed and compared by its bytes), 256 kept.
_FROZEN_PLATFORM: Lru[CoseSign1, Any] = Lru(256)


def _freeze(value: Any) -> Any:
    """``result.freeze`` for the exact types claims are made of (dict, list, tuple, bytes,
    str, int, bool, None); anything else through ``result.freeze`` itself."""
    t = type(value)
    if t is dict:
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if t is list or t is tuple:
        return tuple(_freeze(v) for v in value)
    if t is bytes or t is str or t is int or t is bool or value is None:
        return value
    return freeze(value)


def token_warnings(token: CcaToken) -> tuple[str, ...]:
    """Ignored collection entries; RIM/REMs whose size is not the realm hash_algo_id's."""
    warnings: list[str] = []
    if token.extra_entries:
        warnings.append(_ignored_entries(token.extra_entries))
    realm = token.realm_claims
    size = HASH_ALGORITHMS[realm.hash_algo_id]
    measurements = [("initial_measurement", realm.initial_measurement)]
    measurements += [
        (f"extensible_measurements[{i}]", r) for i, r in enumerate(realm.extensible_measurements)
    ]
    odd = [name for name, value in measurements if len(value) != size]
    if odd:
        warnings.append(
            f"realm {', '.join(odd)} not {size} bytes as hash_algo_id {realm.hash_algo_id} implies"
        )
    return tuple(warnings)


def _ignored_entries(keys: Sequence[int | str]) -> str:
    """Warning naming unknown collection keys: unsigned input, so escaped and bounded."""
    shown = sorted(repr(k) if len(repr(k)) <= 40 else repr(k)[:37] + "..." for k in keys)
    more = f" and {len(shown) - 8} more" if len(shown) > 8 else ""
    return f"{len(shown)} collection entries ignored: {', '.join(shown[:8])}{more}"
