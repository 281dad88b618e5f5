"""EAR attestation results: AR4SI trust vectors, unsigned claims and ES256/ES384 JWTs.

A verification outcome (an accepted :class:`~cocoverify.result.VerificationResult`, or the
:class:`~cocoverify.errors.CocoverifyError` of a rejection) becomes an EAT Attestation Result
shaped like trustee's AS token (trustee_interface.md §6)::

    claims = to_ear(result)                       # unsigned: a JSON-ready dict
    token = sign_ear(claims, private_key, "ES256")  # JWS compact, signer's jwk in the header
    claims = verify_ear(token, public_key, at=now)  # alg allow-list, signature, iat/exp

The trust-vector mapping is documented in docs/ear.md; code points come from
draft-ietf-rats-ar4si §2.3 (tiers: affirming 2..31, warning 32..95, contraindicated 96..127,
none -1..1). Signing and verification use ``cryptography`` only; no JOSE dependency.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import importlib
import json
from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from cocoverify.errors import (
    AuthenticityError,
    CocoverifyError,
    CollateralError,
    ConfigurationError,
    EvidenceError,
    MalformedEvidence,
    Reason,
    Revoked,
    SignatureInvalid,
    UnsupportedEvidence,
)
from cocoverify.result import VerificationResult, format_time, to_jsonable

__all__ = [
    "CLAIM_NAMES",
    "PROFILE",
    "TRUSTEE_PROFILE",
    "annotated_evidence",
    "ear_status",
    "public_jwk",
    "sign_ear",
    "tier",
    "to_ear",
    "trust_vector",
    "verify_ear",
]

#: Our EAT profile; ``TRUSTEE_PROFILE`` reproduces trustee's AS token (§6).
PROFILE: Final = "tag:github.com,2025:cocoverify"
TRUSTEE_PROFILE: Final = "tag:github.com,2024:confidential-containers/Trustee"

#: AR4SI trustworthiness claims, in trustee's order (trustee_interface.md §6).
CLAIM_NAMES: Final = (
    "instance-identity",
    "configuration",
    "executables",
    "file-system",
    "hardware",
    "runtime-opaque",
    "storage-opaque",
    "sourced-data",
)

# AR4SI code points used here (draft-ietf-rats-ar4si §2.3.x; docs/ear.md has the table)
VERIFIER_MALFUNCTION: Final = -1
NO_CLAIM: Final = 0
UNEXPECTED_EVIDENCE: Final = 1
CRYPTO_VALIDATION_FAILED: Final = 99
TRUSTWORTHY_INSTANCE: Final = 2
UNTRUSTWORTHY_INSTANCE: Final = 96
UNRECOGNIZED_INSTANCE: Final = 97
APPROVED_CONFIG: Final = 2
UNSAFE_CONFIG: Final = 32
UNSUPPORTABLE_CONFIG: Final = 96
APPROVED_RUNTIME: Final = 2
CONTRAINDICATED_RUNTIME: Final = 96
GENUINE_HARDWARE: Final = 2
UNSAFE_HARDWARE: Final = 32
CONTRAINDICATED_HARDWARE: Final = 96
UNRECOGNIZED_HARDWARE: Final = 97
ENCRYPTED_MEMORY_RUNTIME: Final = 2
VISIBLE_MEMORY_RUNTIME: Final = 96

_TIERS: Final = ("none", "affirming", "warning", "contraindicated")
_STATUSES: Final = frozenset(_TIERS)

#: TCB status -> (hardware, configuration or None = unchanged). Intel statuses per intel.md;
#: Revoked would be terminal (raised), kept for completeness.
_TCB_STATUS: Final[Mapping[str, tuple[int, int | None]]] = {
    "UpToDate": (GENUINE_HARDWARE, None),
    "SWHardeningNeeded": (UNSAFE_HARDWARE, None),
    "ConfigurationNeeded": (GENUINE_HARDWARE, UNSAFE_CONFIG),
    "ConfigurationAndSWHardeningNeeded": (UNSAFE_HARDWARE, UNSAFE_CONFIG),
    "OutOfDate": (UNSAFE_HARDWARE, None),
    "OutOfDateConfigurationNeeded": (UNSAFE_HARDWARE, UNSAFE_CONFIG),
    "TDRelaunchAdvised": (UNSAFE_HARDWARE, None),
    "TDRelaunchAdvisedConfigurationNeeded": (UNSAFE_HARDWARE, UNSAFE_CONFIG),
    "Revoked": (CONTRAINDICATED_HARDWARE, None),
}

_HW_RULE_REASONS: Final = frozenset(
    {
        Reason.TCB_STATUS_REJECTED,
        Reason.ADVISORY_REJECTED,
        Reason.TCB_BELOW_MINIMUM,
        Reason.COLLATERAL_TOO_OLD,
    }
)
#: Rule names that pin code identity (executables); everything else is configuration.
_EXEC_RULES: Final = frozenset(
    {
        "mr_enclave",
        "mr_signer",
        "mr_td",
        "rtmr0",
        "rtmr1",
        "rtmr2",
        "rtmr3",
        "mr_seam",
        "mr_signer_seam",
        "mr_service_td",
        "measurement",
        "realm_initial_measurement",
        "platform_implementation_id",
    }
)


def _is_exec_rule(name: str) -> bool:
    return (
        name in _EXEC_RULES
        or "measurement" in name
        or name.startswith(("rem", "realm_extensible", "sw_component"))
    )


def tier(value: int) -> str:
    """AR4SI tier of one claim value (draft-ietf-rats-ar4si §2.3.1)."""
    if -1 <= value <= 1:
        return "none"
    if 2 <= value <= 31 or -32 <= value <= -2:
        return "affirming"
    if 32 <= value <= 95 or -96 <= value <= -33:
        return "warning"
    return "contraindicated"


def ear_status(vector: Mapping[str, int]) -> str:
    """The worst tier of the vector (none < affirming < warning < contraindicated)."""
    worst = 0
    for value in vector.values():
        worst = max(worst, _TIERS.index(tier(value)))
    return _TIERS[worst]


def trust_vector(outcome: VerificationResult | CocoverifyError) -> dict[str, int]:
    """AR4SI trustworthiness vector for a result or a rejection (docs/ear.md, mapping)."""
    vector = dict.fromkeys(CLAIM_NAMES, NO_CLAIM)
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    if result is None:
        assert isinstance(outcome, CocoverifyError)
        # rejected before authentication: nothing about the platform is known
        if isinstance(outcome, Revoked):
            vector["instance-identity"] = UNTRUSTWORTHY_INSTANCE
            vector["hardware"] = CONTRAINDICATED_HARDWARE
        elif isinstance(outcome, AuthenticityError):
            vector["instance-identity"] = CRYPTO_VALIDATION_FAILED
        elif isinstance(outcome, EvidenceError):
            vector["instance-identity"] = UNEXPECTED_EVIDENCE
        elif isinstance(outcome, CollateralError):
            vector["hardware"] = UNRECOGNIZED_HARDWARE
        else:
            vector["instance-identity"] = VERIFIER_MALFUNCTION
        return vector

    # authentic evidence (a result exists only after authentication)
    vector["instance-identity"] = TRUSTWORTHY_INSTANCE
    vector["hardware"] = GENUINE_HARDWARE
    vector["configuration"] = APPROVED_CONFIG
    vector["runtime-opaque"] = ENCRYPTED_MEMORY_RUNTIME
    if result.tcb_status is not None:
        hw, cfg = _TCB_STATUS.get(result.tcb_status, (UNRECOGNIZED_HARDWARE, None))
        vector["hardware"] = hw
        if cfg is not None:
            vector["configuration"] = cfg
    exec_rules = [v for v in result.policy if _is_exec_rule(v.rule)]
    if exec_rules:
        vector["executables"] = APPROVED_RUNTIME
    for v in result.policy:
        if v.rule == "debug" and v.actual is True:
            vector["runtime-opaque"] = VISIBLE_MEMORY_RUNTIME  # debug: memory readable
        if v.passed:
            continue
        if v.reason is Reason.REPORT_DATA_MISMATCH:
            vector["instance-identity"] = UNRECOGNIZED_INSTANCE
        elif v.reason is Reason.TCB_NOT_SUPPORTED:
            vector["hardware"] = UNRECOGNIZED_HARDWARE
        elif v.reason in _HW_RULE_REASONS:
            vector["hardware"] = CONTRAINDICATED_HARDWARE
        elif v.reason is Reason.MEASUREMENT_MISMATCH or _is_exec_rule(v.rule):
            vector["executables"] = CONTRAINDICATED_RUNTIME
        else:  # debug, attributes, init data, lifecycle, Rego and any other rule
            vector["configuration"] = UNSUPPORTABLE_CONFIG
    _fail_closed(vector, outcome)
    return vector


def _rejected(outcome: VerificationResult | CocoverifyError) -> bool:
    if isinstance(outcome, VerificationResult):
        return not outcome.accepted
    return True


def _fail_closed(vector: dict[str, int], outcome: VerificationResult | CocoverifyError) -> None:
    """A rejection is never affirming or warning (docs/ear.md "AR4SI mapping").

    With a result (authentic evidence, rejected by a rule, Rego or any later step) the EAR
    must be ``contraindicated``; without one, ``none`` (nothing known) is also allowed.
    """
    if not _rejected(outcome):
        return
    status = ear_status(vector)
    has_result = outcome.result is not None if isinstance(outcome, CocoverifyError) else True
    if status == "contraindicated" or (status == "none" and not has_result):
        return
    vector["configuration"] = UNSUPPORTABLE_CONFIG


_INIT_DATA_CLAIM: Final = {
    "sgx": "config_id",
    "tdx": "mr_config_id",
    "snp": "host_data",
    "cca": "realm_personalization_value",
}
_REPORT_DATA_CLAIM: Final = {"cca": "realm_challenge"}


def annotated_evidence(
    result: VerificationResult,
    *,
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
) -> dict[str, Any]:
    """trustee's ``ear.veraison.annotated-evidence`` / Rego input shape (§6).

    ``{"<tee>": claims minus report_data/init_data, "report_data", "init_data",
    "runtime_data_claims", "init_data_claims"}``. The claim names are trustee's when
    ``cocoverify.integrations.trustee.claims_for`` exists; otherwise cocoverify's own claims plus
    ``tcb_status``/``advisory_ids``/``tcb_date`` (docs/ear.md).
    """
    tee_claims: dict[str, Any]
    claims_for = _trustee_claims_for()
    trustee_claims: dict[str, Any] | None = None
    if claims_for is not None:
        try:
            trustee_claims = dict(claims_for(result))
        except (CocoverifyError, KeyError, TypeError, ValueError, AttributeError):
            trustee_claims = None  # partial claims (early rejection): our own names below
    if trustee_claims is not None:
        tee_claims = trustee_claims
    else:
        tee_claims = to_jsonable(result.claims)
        tee_claims.setdefault("tcb_status", result.tcb_status)
        tee_claims.setdefault("advisory_ids", list(result.advisory_ids))
        if result.tcb_date is not None:
            tee_claims.setdefault("tcb_date", format_time(result.tcb_date))
    rd_name = _REPORT_DATA_CLAIM.get(result.tee, "report_data")
    id_name = _INIT_DATA_CLAIM.get(result.tee, "init_data")
    report_data = tee_claims.pop("report_data", None)
    if report_data is None:
        report_data = to_jsonable(result.claims.get(rd_name))
    init_data = tee_claims.pop("init_data", None)
    if init_data is None:
        init_data = to_jsonable(result.claims.get(id_name))
    return {
        result.tee: tee_claims,
        "report_data": report_data,
        "init_data": init_data,
        "runtime_data_claims": runtime_data_claims,
        "init_data_claims": init_data_claims,
    }


def _trustee_claims_for() -> Any:
    # cocoverify.integrations.trustee is written separately; use its claim names when present
    try:
        module = importlib.import_module("cocoverify.integrations.trustee")
    except ImportError:
        return None
    return getattr(module, "claims_for", None)


def _epoch(t: _dt.datetime | int) -> int:
    if isinstance(t, int) and not isinstance(t, bool):
        return t
    if not isinstance(t, _dt.datetime):
        raise ConfigurationError(
            "time: expected a datetime or integer seconds", reason=Reason.INVALID_ARGUMENT
        )
    if t.tzinfo is None:
        raise ConfigurationError(
            "time: a naive datetime is ambiguous; give a timezone", reason=Reason.INVALID_ARGUMENT
        )
    return int(t.timestamp())


def to_ear(
    outcome: VerificationResult | CocoverifyError,
    *,
    iat: _dt.datetime | int | None = None,
    ttl: _dt.timedelta = _dt.timedelta(minutes=5),
    issuer: str = "cocoverify",
    profile: str = PROFILE,
    policy_id: str = "default_cpu",
    developer: str = "https://github.com/cocoverify/cocoverify",
    build: str | None = None,
    submod: str = "cpu0",
    runtime_data_claims: Any = None,
    init_data_claims: Any = None,
    trust_claims: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Unsigned EAR claims for a verification outcome (trustee_interface.md §6).

    ``trust_claims`` (e.g. a Rego policy's, as trustee does) replaces the built-in
    mapping; claims it leaves out are 0 (no claim).

    ``iat`` defaults to the result's verification time (``at``), never the wall clock, so
    the same inputs give the same claims; ``exp = iat + ttl``. A rejection without a result
    (not authentic, malformed, no collateral) still yields a vector, with
    ``ear.status`` ``contraindicated`` or ``none``.
    """
    result = outcome if isinstance(outcome, VerificationResult) else outcome.result
    if iat is None:
        if result is None:
            raise ConfigurationError(
                "to_ear: give iat for an error without a result", reason=Reason.INVALID_ARGUMENT
            )
        iat = result.verified_at
    issued = _epoch(iat)
    if ttl.total_seconds() <= 0:
        raise ConfigurationError("to_ear: ttl must be positive", reason=Reason.INVALID_ARGUMENT)
    if build is None:
        from cocoverify import __version__

        build = f"cocoverify {__version__}"
    if trust_claims is not None:
        unknown = set(trust_claims) - set(CLAIM_NAMES)
        if unknown:
            raise ConfigurationError(
                f"to_ear: unknown trust claims {sorted(unknown)}", reason=Reason.INVALID_ARGUMENT
            )
        vector = dict.fromkeys(CLAIM_NAMES, NO_CLAIM)
        for k, v in trust_claims.items():
            if not isinstance(v, int) or isinstance(v, bool) or not -128 <= v <= 127:
                raise ConfigurationError(
                    f"to_ear: trust claim {k}: {v!r} is not an integer in -128..127",
                    reason=Reason.INVALID_ARGUMENT,
                )
            vector[k] = v
        _fail_closed(vector, outcome)  # the caller's vector cannot affirm a rejection
    else:
        vector = trust_vector(outcome)
    appraisal: dict[str, Any] = {
        "ear.status": ear_status(vector),
        "ear.trustworthiness-vector": vector,
        "ear.appraisal-policy-id": policy_id,
    }
    if result is not None:
        appraisal["ear.veraison.annotated-evidence"] = annotated_evidence(
            result, runtime_data_claims=runtime_data_claims, init_data_claims=init_data_claims
        )
    summary: dict[str, Any] = {
        "accepted": isinstance(outcome, VerificationResult) and outcome.accepted,
        "reason": None if isinstance(outcome, VerificationResult) else outcome.reason.value,
        "tee": result.tee if result is not None else None,
        "tcb_status": result.tcb_status if result is not None else None,
        "advisory_ids": list(result.advisory_ids) if result is not None else [],
    }
    if isinstance(outcome, VerificationResult) and outcome.reason is not None:
        summary["reason"] = outcome.reason.value
    appraisal["cocoverify.result"] = summary
    return {
        "eat_profile": profile,
        "iat": issued,
        "exp": issued + int(ttl.total_seconds()),
        "iss": issuer,
        "ear.verifier-id": {"developer": developer, "build": build},
        "submods": {submod: appraisal},
    }


# --- JWS (RFC 7515 compact) with ES256 / ES384 (RFC 7518 §3.4) -----------------------------

_ALGS: Final[Mapping[str, tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int, str]]] = {
    "ES256": (ec.SECP256R1, hashes.SHA256(), 32, "P-256"),
    "ES384": (ec.SECP384R1, hashes.SHA384(), 48, "P-384"),
}
_CRV: Final = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1}


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64u(text: str, what: str) -> bytes:
    if not text or any(c not in _B64U for c in text) or len(text) % 4 == 1:
        raise MalformedEvidence(
            f"EAR {what}: not base64url", field=what, reason=Reason.EAR_MALFORMED
        )
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise MalformedEvidence(
            f"EAR {what}: not base64url", field=what, reason=Reason.EAR_MALFORMED
        ) from None
    if _b64u(raw) != text:  # non-canonical trailing bits
        raise MalformedEvidence(
            f"EAR {what}: non-canonical base64url", field=what, reason=Reason.EAR_MALFORMED
        )
    return raw


_B64U: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _json_object(raw: bytes, what: str) -> dict[str, Any]:
    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in pairs:
            if k in out:
                raise ValueError(f"duplicate key {k!r}")
            out[k] = v
        return out

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not JSON (RFC 8259 §6)")

    try:
        value = json.loads(
            raw.decode("utf-8"), object_pairs_hook=no_dupes, parse_constant=no_constants
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedEvidence(
            f"EAR {what}: not a JSON object ({exc})", field=what, reason=Reason.EAR_MALFORMED
        ) from None
    if not isinstance(value, dict):
        raise MalformedEvidence(
            f"EAR {what}: not a JSON object", field=what, reason=Reason.EAR_MALFORMED
        )
    return value


def _alg_params(alg: str) -> tuple[type[ec.EllipticCurve], hashes.HashAlgorithm, int, str]:
    params = _ALGS.get(alg)
    if params is None:
        raise ConfigurationError(
            f"EAR alg {alg!r}: only ES256 and ES384", reason=Reason.INVALID_ARGUMENT
        )
    return params


def public_jwk(key: ec.EllipticCurvePublicKey) -> dict[str, str]:
    """RFC 7518 §6.2 EC public JWK of a P-256 or P-384 key."""
    size = {"secp256r1": 32, "secp384r1": 48}.get(key.curve.name)
    if size is None:
        raise ConfigurationError(
            f"EAR key: curve {key.curve.name} unsupported", reason=Reason.INVALID_ARGUMENT
        )
    nums = key.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256" if size == 32 else "P-384",
        "x": _b64u(nums.x.to_bytes(size, "big")),
        "y": _b64u(nums.y.to_bytes(size, "big")),
    }


def sign_ear(
    claims: Mapping[str, Any],
    key: ec.EllipticCurvePrivateKey,
    alg: str = "ES256",
    *,
    embed_jwk: bool = True,
    kid: str | None = None,
) -> str:
    """JWS compact serialisation of ``claims`` (trustee §6: ``alg`` plus the signer's ``jwk``).

    ES256 needs a P-256 key, ES384 a P-384 key; the signature is raw r||s (RFC 7518 §3.4).
    """
    curve, digest, size, _ = _alg_params(alg)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, curve):
        raise ConfigurationError(
            f"EAR {alg}: key is not on the right curve", reason=Reason.INVALID_ARGUMENT
        )
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid is not None and not isinstance(kid, str):
        raise ConfigurationError("EAR kid: expected text", reason=Reason.INVALID_ARGUMENT)
    if kid is not None:
        header["kid"] = kid
    if embed_jwk:
        header["jwk"] = public_jwk(key.public_key())
    try:
        payload = json.dumps(to_jsonable(claims), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:  # NaN/infinity or a value JSON cannot carry
        raise ConfigurationError(
            f"EAR claims are not JSON ({exc})", reason=Reason.INVALID_ARGUMENT
        ) from None
    signing_input = (
        _b64u(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64u(payload.encode())
    )
    # RFC 6979 deterministic ECDSA: the same claims and key give the same token
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(digest, deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return signing_input + "." + _b64u(r.to_bytes(size, "big") + s.to_bytes(size, "big"))


def _jwk_key(jwk: Any) -> ec.EllipticCurvePublicKey:
    if not isinstance(jwk, dict) or jwk.get("kty") != "EC" or jwk.get("crv") not in _CRV:
        raise MalformedEvidence(
            "EAR header jwk: not an EC P-256/P-384 key", field="jwk", reason=Reason.EAR_MALFORMED
        )
    size = 32 if jwk["crv"] == "P-256" else 48
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise MalformedEvidence(
            "EAR header jwk: x/y missing", field="jwk", reason=Reason.EAR_MALFORMED
        )
    xb, yb = _unb64u(x, "jwk.x"), _unb64u(y, "jwk.y")
    if len(xb) != size or len(yb) != size:
        raise MalformedEvidence(
            "EAR header jwk: wrong coordinate length", field="jwk", reason=Reason.EAR_MALFORMED
        )
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(xb, "big"), int.from_bytes(yb, "big"), _CRV[jwk["crv"]]()
        ).public_key()
    except ValueError:
        raise MalformedEvidence(
            "EAR header jwk: not a point on the curve", field="jwk", reason=Reason.EAR_MALFORMED
        ) from None


def _int_claim(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise MalformedEvidence(
            f"EAR claim {name}: missing or not an integer", field=name, reason=Reason.EAR_MALFORMED
        )
    return value


def _check_shape(claims: Mapping[str, Any]) -> None:
    if not isinstance(claims.get("eat_profile"), str):
        raise MalformedEvidence(
            "EAR: eat_profile missing", field="eat_profile", reason=Reason.EAR_MALFORMED
        )
    submods = claims.get("submods")
    if not isinstance(submods, dict) or not submods:
        raise MalformedEvidence(
            "EAR: submods missing or empty", field="submods", reason=Reason.EAR_MALFORMED
        )
    for name, sub in submods.items():
        if not isinstance(sub, dict) or sub.get("ear.status") not in _STATUSES:
            raise MalformedEvidence(
                f"EAR submod {name}: ear.status missing or unknown",
                field=f"submods.{name}",
                reason=Reason.EAR_MALFORMED,
            )
        vector = sub.get("ear.trustworthiness-vector", {})
        if not isinstance(vector, dict) or any(
            k not in CLAIM_NAMES
            or not isinstance(v, int)
            or isinstance(v, bool)
            or not -128 <= v <= 127
            for k, v in vector.items()
        ):
            raise MalformedEvidence(
                f"EAR submod {name}: bad trustworthiness vector",
                field=f"submods.{name}",
                reason=Reason.EAR_MALFORMED,
            )
        # the status is the worst tier of the vector or worse, never better (AR4SI §2.3;
        # rust-ear update_status_from_trust_vector): "affirming" over a contraindicated
        # claim is a contradiction a relying party reading only ear.status would miss
        if _TIERS.index(sub["ear.status"]) < _TIERS.index(ear_status(vector)):
            raise MalformedEvidence(
                f"EAR submod {name}: ear.status {sub['ear.status']!r} is better than its "
                f"vector ({ear_status(vector)})",
                field=f"submods.{name}",
                reason=Reason.EAR_MALFORMED,
            )


def verify_ear(
    token: str | bytes,
    key: ec.EllipticCurvePublicKey | None,
    *,
    at: _dt.datetime | int,
    algorithms: tuple[str, ...] = ("ES256", "ES384"),
    allow_embedded_jwk: bool = False,
    leeway: int = 0,
    profile: str | None = None,
) -> dict[str, Any]:
    """Verify an EAR JWT and return its claims; raise a CocoverifyError otherwise.

    Steps (docs/ear.md): (1) three base64url parts, JSON objects, no ``crit``; (2) ``alg``
    in ``algorithms`` (never ``none``/HMAC) and matching the key's curve; (3) ECDSA over
    the signing input with ``key`` (the header ``jwk`` only when ``allow_embedded_jwk``
    and no key is given); (4) ``iat <= at + leeway < exp + leeway`` (and ``nbf``);
    (5) claim shape: ``eat_profile`` (equal to ``profile`` if given), ``submods`` with valid
    ``ear.status`` and vectors.
    """
    at_s = _epoch(at)
    if not isinstance(leeway, int) or isinstance(leeway, bool) or leeway < 0:
        raise ConfigurationError(
            "verify_ear: leeway must be a non-negative integer", reason=Reason.INVALID_ARGUMENT
        )
    for allowed in algorithms:
        _alg_params(allowed)
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedEvidence("EAR: not ASCII", reason=Reason.EAR_MALFORMED) from None
    if not isinstance(token, str) or not token.isascii():
        raise MalformedEvidence("EAR: not ASCII text", reason=Reason.EAR_MALFORMED)
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise MalformedEvidence(
            "EAR: not a JWS compact serialisation (3 parts)", reason=Reason.EAR_MALFORMED
        )
    header = _json_object(_unb64u(parts[0], "header"), "header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise UnsupportedEvidence(
            f"EAR alg {alg!r} not allowed (allowed: {list(algorithms)})",
            reason=Reason.EAR_ALGORITHM_REJECTED,
        )
    if "crit" in header:
        raise UnsupportedEvidence(
            "EAR header: crit extensions are not understood", reason=Reason.EAR_ALGORITHM_REJECTED
        )
    curve, digest, size, _ = _ALGS[alg]
    if key is None:
        if not allow_embedded_jwk:
            raise ConfigurationError(
                "verify_ear: give the signer's public key (or allow_embedded_jwk=True)",
                reason=Reason.INVALID_ARGUMENT,
            )
        key = _jwk_key(header.get("jwk"))
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
        raise UnsupportedEvidence(
            f"EAR alg {alg} does not match the key's curve", reason=Reason.EAR_ALGORITHM_REJECTED
        )
    payload = _unb64u(parts[1], "payload")  # strict base64url before it is signed over
    sig = _unb64u(parts[2], "signature")
    if len(sig) != 2 * size:
        raise SignatureInvalid(
            f"EAR signature: {len(sig)} bytes, want {2 * size}", reason=Reason.EAR_SIGNATURE_INVALID
        )
    r, s = int.from_bytes(sig[:size], "big"), int.from_bytes(sig[size:], "big")
    try:
        key.verify(
            encode_dss_signature(r, s), f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(digest)
        )
    except InvalidSignature:
        raise SignatureInvalid(
            "EAR signature does not verify", reason=Reason.EAR_SIGNATURE_INVALID
        ) from None
    claims = _json_object(payload, "payload")
    iat = _int_claim(claims, "iat")
    exp = _int_claim(claims, "exp")
    if iat > at_s + leeway:
        raise AuthenticityError(
            f"EAR issued in the future (iat {iat} > {at_s})", reason=Reason.EAR_NOT_YET_VALID
        )
    if "nbf" in claims and _int_claim(claims, "nbf") > at_s + leeway:
        raise AuthenticityError("EAR not yet valid (nbf)", reason=Reason.EAR_NOT_YET_VALID)
    if at_s >= exp + leeway:
        raise AuthenticityError(f"EAR expired (exp {exp} <= {at_s})", reason=Reason.EAR_EXPIRED)
    _check_shape(claims)
    if profile is not None and claims["eat_profile"] != profile:
        raise UnsupportedEvidence(
            f"EAR eat_profile {claims['eat_profile']!r}, want {profile!r}",
            reason=Reason.UNSUPPORTED_PROFILE,
        )
    return claims
