"""Arm CCA pipeline: the steps of docs/cca.md "Order of checks", in that order.

Parsing both claim sets comes first (EvidenceError), then authentication
(AuthenticityError): Arm RMM specification §A7.2.3 asks for the platform signature with a
trusted CPAK, the realm signature with the RAK it carries, and the binding between them.
Appraisal against reference values is the policy's (:mod:`cocoverify.tee.cca.policy`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Hashable, Mapping
from types import MappingProxyType
from typing import Any

from cocoverify import _backend
from cocoverify._core.cose import CoseSign1
from cocoverify.collateral import Collateral
from cocoverify.collateral.source import CollateralSource
from cocoverify.result import Appraisal
from cocoverify.tee.cca import warm
from cocoverify.tee.cca.claims import frozen_token_claims, platform_token_claims, token_warnings
from cocoverify.tee.cca.collateral import CpakCandidate, collateral_key, platform_keys
from cocoverify.tee.cca.memo import Lru
from cocoverify.tee.cca.parse import CcaToken, parse_token
from cocoverify.tee.cca.platform import (
    DEBUG_LIFECYCLE_STATES,
    PlatformClaims,
    parse_platform_token,
)
from cocoverify.tee.cca.verify import check_binding, check_realm_signature, verify_platform
from cocoverify.tee.cca.warm import LAYOUTS, WARM, WarmEntry, layout_of, remember
from cocoverify.trust import TrustStore

__all__ = ["MAX_VERIFIED_PLATFORMS", "appraise_token", "clear_caches", "verify_platform_token"]

Facts = Mapping[str, Any]


def appraise_token(
    data: bytes,
    *,
    collateral: Collateral,
    trust: TrustStore,
    at: _dt.datetime,
    source: CollateralSource | None = None,  # unused: CCA has no vendor collateral service
    require_crl: bool = False,  # unused: CCA tokens carry no certificates
) -> Appraisal:
    """Verify a CCA token end to end; the policy (step 8) is applied by the caller.

    Warm (``warm.py``): a token equal to one verified before but for the realm challenge
    and signature, under collateral of the same content, has only its realm signature
    checked."""
    content = collateral_key(collateral) if type(data) is bytes else None
    if content is not None:
        for layout in LAYOUTS.get(len(data), ()):
            entry = WARM.get(layout.key(content, data))
            if entry is not None:
                tbs = entry.tbs_head + data[layout.payload_start : layout.payload_end]
                sig = data[layout.sig_start : layout.sig_end]
                if _backend.ecdsa_verify(entry.point, tbs, sig):
                    c = layout.challenge
                    return entry.with_challenge(data[c : c + 64])
                break  # the full pipeline decides
    appraisal, token = _appraise(data, collateral, content)
    if content is not None and token.realm_bytes:
        found = layout_of(data, token.realm_bytes, token.realm)
        if found is not None:
            rak = token.realm_claims.rak
            tbs_head = token.realm.to_be_signed()[: -len(token.realm.payload) or None]
            remember(data, found.key(content, data), WarmEntry(rak.x + rak.y, tbs_head, appraisal))
    return appraisal


def _appraise(
    data: bytes, collateral: Collateral, content: Hashable | None
) -> tuple[Appraisal, CcaToken]:
    # 1-3. Container (RMM §A7.2.3), both COSE_Sign1 (RFC 9052 §4.2), platform then realm
    #      claims (RMM §A7.2.3.2, §A7.2.3.1)
    token = parse_token(data)
    platform, realm = token.platform_claims, token.realm_claims
    # 4-5. The CPAKs the collateral offers for this platform instance, the platform
    #      signature (RFC 9052 §4.4, RFC 9053 §2.1): once per platform token and collateral
    _, facts = _verified_platform(collateral, token.platform, platform, content)
    # 6. Realm signature with the RAK of claim 44237 (RMM §A7.2.3.1)
    check_realm_signature(token.realm, realm)
    # 7. Binding: platform challenge = H(RAK claim bytes) (RMM §A7.2.3)
    check_binding(platform.challenge, realm)
    appraisal = Appraisal(
        tee="cca",
        claims=frozen_token_claims(token),
        tcb_status=None,
        collateral=facts,
        warnings=token_warnings(token),
        report_data=realm.challenge,
        init_data=realm.personalization_value,
        debug=platform.lifecycle_state in DEBUG_LIFECYCLE_STATES,
    )
    return appraisal, token


#: (collateral content, platform COSE_Sign1) -> the CPAK that verified it and the
#: appraisal's collateral facts. A platform token is made once per realm boot and carried by
#: every realm token of that boot (RMM §A7.2.3), so its signature, like the QE report of an
#: Intel platform, is verified once; only successes are kept (256, least recently used out).
MAX_VERIFIED_PLATFORMS = 256
_Key = tuple[Hashable, bytes, bytes | None, bytes, bytes]
_VERIFIED: Lru[_Key, tuple[CpakCandidate, Facts]] = Lru(MAX_VERIFIED_PLATFORMS)


def clear_caches() -> None:
    """Forget every verified platform token and warm token (tests of cold behaviour)."""
    _VERIFIED.clear()
    warm.clear_caches()


def _verified_platform(
    collateral: Collateral, sign1: CoseSign1, claims: PlatformClaims, content: Hashable | None
) -> tuple[CpakCandidate, Facts]:
    """Steps 4-5 for this platform token, or what they gave before for the same content.
    ``content``: what the CPAK selection reads of the collateral (``collateral_key``), read
    again on every call (a JSON document may change in place); None: nothing kept."""
    key = (content, sign1.protected, sign1.kid, sign1.payload, sign1.signature)
    found = _VERIFIED.get(key) if content is not None else None
    if found is None:
        cpak = verify_platform(sign1, platform_keys(collateral, claims, sign1.kid))
        # str and bool values: read-only as ``result.freeze`` makes it
        found = (cpak, MappingProxyType({"cpak": MappingProxyType(cpak.to_dict())}))
        if content is not None:
            _VERIFIED.put(key, found)
    return found


def verify_platform_token(data: bytes, *, collateral: Collateral) -> dict[str, Any]:
    """Verify a lone platform COSE_Sign1 (no realm token); returns its claims.

    For RSE/TF-M platform tokens: steps 2-5 above. There is no binding to check and no
    policy applied.
    """
    sign1, claims = parse_platform_token(data)
    cpak = verify_platform(sign1, platform_keys(collateral, claims, sign1.kid))
    return {**platform_token_claims(sign1, claims), "cpak": cpak.to_dict()}
