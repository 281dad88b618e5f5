"""KBS / Attestation Service binding helpers: runtime data and init data.

What a Confidential Containers KBS expects a TEE to have bound into its evidence:

* **report data** -- the KBS builds runtime data ``{"tee-pubkey": JWK, "nonce": ...,
  "additional-evidence": ...}`` and the AS hashes its RFC 8785 (JCS) canonical JSON with
  ``runtime_data_hash_algorithm`` (default sha384). :func:`runtime_data_digest` computes
  that digest, :func:`expected_report_data` takes raw bytes or the structured object.
* **init data** -- a TOML document (``version``, ``algorithm``, ``[data]``) hashed whole,
  as text bytes, with its own ``algorithm`` (:func:`initdata_digest`).
  :func:`initdata_claims` gives the ``init_data_claims`` the AS puts in its token.
* **resource policies** -- :func:`resource_allowed` evaluates a KBS resource policy
  (``kbs/sample_policies/affirming.rego``, ``default.rego``) on an EAR, as trustee's KBS does
  before it releases a resource (``kbs/src/api_server.rs``).

The digests are compared with the evidence by :func:`cocoverify.verify` (zero-padded to the
field, constant time) or by :mod:`cocoverify.integrations.trustee`, which also applies trustee's
truncation rule for init data (docs/trustee.md "Binding rules").
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import rfc8785

from cocoverify.errors import ConfigurationError, Reason
from cocoverify.integrations.rego import evaluate_rego

__all__ = [
    "HASH_ALGORITHMS",
    "InitData",
    "agent_policy_claims",
    "canonical_json",
    "expected_report_data",
    "initdata_claims",
    "initdata_digest",
    "parse_initdata",
    "resource_allowed",
    "resource_policy_data",
    "runtime_data_digest",
]

#: kbs_types ``HashAlgorithm`` names (serde lower case) -> hash constructor.
HASH_ALGORITHMS: Mapping[str, Callable[[bytes], Any]] = MappingProxyType(
    {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
)

#: ``[data]`` entries that the AS re-parses from TOML into JSON claims
#: (trustee ``attestation-service/src/lib.rs`` ``parse_init_data``).
_TOML_ENTRIES = ("aa.toml", "cdh.toml")
_POLICY_ENTRY = "policy.rego"
_POLICY_DATA = re.compile(r"^[ \t]*policy_data[ \t]*:=[ \t]*", re.MULTILINE)


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(message, reason=Reason.INVALID_ARGUMENT)


def _hasher(alg: str) -> Callable[[bytes], Any]:
    if not isinstance(alg, str) or alg not in HASH_ALGORITHMS:
        raise _bad(f"hash algorithm {alg!r}: expected one of {', '.join(HASH_ALGORITHMS)}")
    return HASH_ALGORITHMS[alg]


def canonical_json(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 JSON of ``obj`` (what ``serde_json_canonicalizer`` writes).

    Keys sorted by UTF-16 code units, no whitespace, ECMAScript number form. Values JCS
    cannot represent (NaN, infinities, integers beyond 2**53, non-string keys, bytes,
    lone surrogates) raise ConfigurationError rather than hash something ambiguous.
    """
    try:
        return bytes(rfc8785.dumps(obj))
    except (rfc8785.CanonicalizationError, UnicodeError, RecursionError) as exc:
        # UnicodeError: a lone surrogate in a *key* (rfc8785 only checks values)
        raise _bad(f"runtime data cannot be canonicalised (RFC 8785): {exc}") from None


def runtime_data_digest(obj: Mapping[str, Any], alg: str = "sha384") -> bytes:
    """Digest of KBS structured runtime data: ``alg(JCS(obj))``.

    As trustee's AS computes it (``attestation-service/src/lib.rs`` ``parse_runtime_data``;
    ``kbs/src/attestation/coco/builtin.rs``).

    ``obj`` is the JSON object, e.g. ``{"tee-pubkey": jwk, "nonce": nonce}``.
    """
    if not isinstance(obj, Mapping):
        raise _bad("structured runtime data must be a JSON object")
    return bytes(_hasher(alg)(canonical_json(dict(obj))).digest())


def expected_report_data(
    runtime_data: bytes | bytearray | memoryview | Mapping[str, Any], alg: str = "sha384"
) -> bytes:
    """The report-data expectation for ``runtime_data`` as the AS derives it.

    Bytes are *raw* runtime data, used as they are (no hashing); a mapping is *structured*
    runtime data, hashed over its JCS form with ``alg``. The result is unpadded: the
    comparison pads it to the evidence field.
    """
    if isinstance(runtime_data, bytes | bytearray | memoryview):
        return bytes(runtime_data)
    if isinstance(runtime_data, Mapping):
        return runtime_data_digest(runtime_data, alg)
    raise _bad("runtime data: expected bytes (raw) or a JSON object (structured)")


# --- init data ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InitData:
    """A parsed initdata TOML document (kbs/docs/initdata.md): ``[data]`` values are text."""

    version: str
    algorithm: str
    data: Mapping[str, str]
    digest: bytes


def _text(toml_text: str | bytes) -> tuple[str, bytes]:
    if isinstance(toml_text, bytes | bytearray):
        raw = bytes(toml_text)
        try:
            return raw.decode("utf-8"), raw
        except UnicodeDecodeError:
            raise _bad("init data: not UTF-8 text") from None
    if isinstance(toml_text, str):
        try:
            return toml_text, toml_text.encode("utf-8")
        except UnicodeEncodeError:
            raise _bad("init data: not encodable as UTF-8") from None
    raise _bad("init data: expected TOML text")


def _toml(text: str, where: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _bad(f"{where}: invalid TOML ({exc})") from None


def parse_initdata(toml_text: str | bytes) -> InitData:
    """Parse and check an initdata document; the digest covers the exact text bytes.

    Mirrors the AS's ``Initdata`` type: ``version`` a string, ``algorithm`` one of
    sha256/sha384/sha512, ``data`` a table of strings. Anything else is ConfigurationError.
    """
    text, raw = _text(toml_text)
    doc = _toml(text, "init data")
    version, algorithm, data = doc.get("version"), doc.get("algorithm"), doc.get("data")
    if not isinstance(version, str):
        raise _bad("init data: 'version' must be a string")
    hasher = _hasher(algorithm) if isinstance(algorithm, str) else None
    if hasher is None:
        raise _bad("init data: 'algorithm' must be sha256, sha384 or sha512")
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise _bad("init data: '[data]' must be a table of strings")
    assert isinstance(algorithm, str)
    return InitData(
        version=version,
        algorithm=algorithm,
        data=MappingProxyType(dict(data)),
        digest=bytes(hasher(raw).digest()),
    )


def initdata_digest(toml_text: str | bytes) -> bytes:
    """The init-data digest: the whole TOML text hashed with its own ``algorithm``."""
    return parse_initdata(toml_text).digest


def _jsonable(value: Any) -> Any:
    """TOML values as JSON values (dates and times become RFC 3339 text)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, _dt.datetime | _dt.date | _dt.time):
        return value.isoformat()
    return value


def agent_policy_claims(policy_rego: str) -> dict[str, Any] | None:
    """The JSON object assigned by ``policy_data := {...}`` in a Kata agent policy, or None.

    The assignment is read at the start of a line (never inside a comment) and must occur
    once. Kata's generated policies write the object as JSON; one that is not JSON, or two
    assignments, raise ConfigurationError instead of being skipped silently (trustee's AS
    then keeps the policy text and extracts nothing; docs/trustee.md "Init data").
    """
    matches = list(_POLICY_DATA.finditer(policy_rego))
    if not matches:
        return None
    if len(matches) > 1:
        raise _bad("policy.rego: policy_data is assigned more than once")
    try:
        value, _ = json.JSONDecoder().raw_decode(policy_rego, matches[0].end())
    except json.JSONDecodeError as exc:
        raise _bad(f"policy.rego: policy_data is not a JSON object ({exc.msg})") from None
    except RecursionError:
        raise _bad("policy.rego: policy_data is nested too deeply") from None
    if not isinstance(value, dict):
        raise _bad("policy.rego: policy_data is not a JSON object")
    return value


def initdata_claims(toml_text: str | bytes) -> dict[str, Any]:
    """``init_data_claims`` as the AS builds them from an initdata document (``parse_init_data``).

    The ``[data]`` table, with ``aa.toml`` / ``cdh.toml`` re-parsed into objects and, when
    ``policy.rego`` assigns ``policy_data``, that object under ``agent_policy_claims`` in
    place of ``policy.rego`` (trustee removes the policy text once it has the claims).
    """
    init = parse_initdata(toml_text)
    claims: dict[str, Any] = dict(init.data)
    for name in _TOML_ENTRIES:
        if name in claims:
            claims[name] = _jsonable(_toml(claims[name], f"init data [data] {name!r}"))
    if _POLICY_ENTRY in claims:
        policy = agent_policy_claims(claims[_POLICY_ENTRY])
        if policy is not None:
            del claims[_POLICY_ENTRY]
            claims["agent_policy_claims"] = policy
    return claims


# --- KBS resource policies ----------------------------------------------------------------


def resource_policy_data(
    resource_path: str | Sequence[str],
    *,
    plugin: str = "resource",
    query: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The policy data trustee's KBS gives its resource policy for a request.

    ``GET /kbs/v0/<plugin>/<path...>?<query>`` becomes ``{"plugin", "resource-path",
    "query"}`` (``kbs/src/api_server.rs``); ``resource_path`` is ``"repo/type/tag"`` or its
    parts.
    """
    if isinstance(resource_path, str):
        parts = resource_path.split("/") if resource_path else []
    elif isinstance(resource_path, Sequence) and all(isinstance(p, str) for p in resource_path):
        parts = list(resource_path)
    else:
        raise _bad("resource path: expected 'repo/type/tag' or a list of strings")
    if not isinstance(plugin, str) or not plugin:
        raise _bad("plugin: expected a name")
    q = dict(query or {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in q.items()):
        raise _bad("query: expected a mapping of strings")
    return {"plugin": plugin, "resource-path": parts, "query": q}


def resource_allowed(
    ear_claims: Mapping[str, Any],
    policy_text: str,
    resource_path: str | Sequence[str] = "",
    *,
    plugin: str = "resource",
    query: Mapping[str, str] | None = None,
) -> bool:
    """Trustee's KBS release decision: ``data.policy.allow`` of a resource policy on an EAR.

    ``ear_claims`` are the verified EAR's claims (:func:`~cocoverify.integrations.ear.to_ear`,
    or :func:`~cocoverify.integrations.ear.verify_ear` of the token). As in trustee's KBS an
    undefined or non-boolean ``allow`` denies; a policy the engine cannot evaluate is a
    ConfigurationError (``invalid_policy``), where trustee's KBS answers with an error.
    """
    if not isinstance(ear_claims, Mapping):
        raise _bad("EAR claims: expected the token's claims as a mapping")
    data = resource_policy_data(resource_path, plugin=plugin, query=query)
    allow = evaluate_rego(policy_text, ear_claims, query="data.policy.allow", data=data)
    return allow is True
