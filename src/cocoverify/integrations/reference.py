"""Reference values for trustee's attestation-service policies (the RVPS, offline).

Trustee's policies ask the Reference Value Provider Service for expected values with the
built-in ``query_reference_value(id)`` (``attestation-service/src/ear_token/broker.rs``): the
JSON value stored under ``id``, or null when there is none (``rvps/src/lib.rs``). A
:class:`ReferenceValues` store is that service as a file. :mod:`cocoverify.integrations.rego`
gives its values to a policy both through ``query_reference_value`` and as ``data.reference``.

Accepted documents (JSON or YAML; docs/trustee.md "Reference values"):

* ``{"<id>": <value>, ...}`` -- what the RVPS ``sample`` extractor registers and what
  ``query_reference_value(id)`` returns for each id (``rvps/src/extractors/sample``);
* ``[{"name": "<id>", "value": <value>, "expiration"?: "YYYY-MM-DDTHH:MM:SSZ",
  "version"?: ...}, ...]`` -- the RVPS's stored ``ReferenceValue`` records
  (``rvps/src/reference_value.rs``);
* ``{"version": "0.1.0", "type": "sample", "payload": "<standard base64 of the first form>"}``
  -- the message ``rvps-tool register`` sends (``rvps/src/lib.rs`` ``Message``).

A value whose ``expiration`` has passed at the verification time is absent (null), where
trustee's RVPS still returns it: an expired reference value never matches.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime as _dt
import math
import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cocoverify._core.json import loads_strict
from cocoverify.errors import ConfigurationError, Reason

__all__ = ["ReferenceValues", "load_reference_values"]

#: Largest reference-value document read from a file (bytes).
MAX_DOCUMENT = 16 * 1024 * 1024
_MESSAGE_KEYS = frozenset({"version", "type", "payload"})
_RECORD_KEYS = frozenset({"version", "name", "expiration", "value"})


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(f"reference values: {message}", reason=Reason.INVALID_ARGUMENT)


def _json_value(value: Any, where: str, depth: int = 0) -> Any:
    """A copy of ``value`` if it is a JSON value (what the RVPS stores), else ConfigurationError."""
    if depth > 64:
        raise _bad(f"{where}: nested too deeply")
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**64:
            raise _bad(f"{where}: integer out of the 64-bit range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _bad(f"{where}: not a finite number")
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise _bad(f"{where}: key {k!r} is not text")
            out[k] = _json_value(v, f"{where}.{k}", depth + 1)
        return out
    raise _bad(f"{where}: {type(value).__name__} is not a JSON value (quote it in YAML)")


def _expiration(value: Any, where: str) -> _dt.datetime:
    # rvps/src/reference_value.rs: "%Y-%m-%dT%H:%M:%SZ", UTC
    if not isinstance(value, str):
        raise _bad(f"{where}: expiration must be text YYYY-MM-DDTHH:MM:SSZ")
    try:
        t = _dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise _bad(f"{where}: expiration {value!r} is not YYYY-MM-DDTHH:MM:SSZ") from None
    return t.replace(tzinfo=_dt.UTC)


@dataclasses.dataclass(frozen=True, slots=True)
class ReferenceValues:
    """Reference values by id: what trustee's RVPS serves to ``query_reference_value``."""

    values: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    expirations: Mapping[str, _dt.datetime] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        values = {}
        for k, v in dict(self.values).items():
            if not isinstance(k, str):
                raise _bad(f"id {k!r} is not text")
            values[k] = _json_value(v, k)
        exp = dict(self.expirations)
        for k, t in exp.items():
            if k not in values or not isinstance(t, _dt.datetime) or t.tzinfo is None:
                raise _bad(f"{k}: expiration needs a value and an aware datetime")
        object.__setattr__(self, "values", MappingProxyType(values))
        object.__setattr__(self, "expirations", MappingProxyType(exp))

    def query(self, rv_id: str, at: _dt.datetime | None = None) -> Any:
        """The value of ``rv_id``, or None when absent or expired at ``at``."""
        if rv_id not in self.values or self._expired(rv_id, at):
            return None
        return self.values[rv_id]

    def document(self, at: _dt.datetime | None = None) -> dict[str, Any]:
        """Every value current at ``at`` by id: ``data.reference`` for a Rego policy."""
        return {k: v for k, v in self.values.items() if not self._expired(k, at)}

    def _expired(self, rv_id: str, at: _dt.datetime | None) -> bool:
        t = self.expirations.get(rv_id)
        return t is not None and at is not None and at > t

    @classmethod
    def from_document(cls, doc: Any) -> ReferenceValues:
        """One of the three document shapes (module docstring), already parsed."""
        if isinstance(doc, list):
            return cls._from_records(doc)
        if not isinstance(doc, Mapping):
            raise _bad("expected an object of id -> value or a list of reference values")
        if set(doc) in (_MESSAGE_KEYS, _MESSAGE_KEYS - {"version"}) and doc.get("type") == "sample":
            return cls._from_message(doc)
        return cls(values=dict(doc))

    @classmethod
    def _from_records(cls, records: list[Any]) -> ReferenceValues:
        values: dict[str, Any] = {}
        exp: dict[str, _dt.datetime] = {}
        for i, rec in enumerate(records):
            where = f"[{i}]"
            if not isinstance(rec, Mapping) or not {"name", "value"} <= set(rec):
                raise _bad(f"{where}: expected {{name, value, expiration?, version?}}")
            if set(rec) - _RECORD_KEYS:
                raise _bad(f"{where}: unknown keys {sorted(set(rec) - _RECORD_KEYS)}")
            name = rec["name"]
            if not isinstance(name, str):
                raise _bad(f"{where}: name must be text")
            if name in values:
                raise _bad(f"{where}: reference value {name!r} given twice")
            values[name] = rec["value"]
            if rec.get("expiration") is not None:
                exp[name] = _expiration(rec["expiration"], where)
        return cls(values=values, expirations=exp)

    @classmethod
    def _from_message(cls, msg: Mapping[str, Any]) -> ReferenceValues:
        if msg.get("version", "0.1.0") != "0.1.0":  # rvps/src/lib.rs MESSAGE_VERSION
            raise _bad(f"message version {msg.get('version')!r}: expected 0.1.0")
        payload = msg.get("payload")
        if not isinstance(payload, str):
            raise _bad("message payload must be standard base64 text")
        try:
            raw = base64.b64decode(payload, validate=True)
            doc = loads_strict(raw)
        except (binascii.Error, ValueError):
            raise _bad("message payload is not base64 of a JSON object") from None
        if not isinstance(doc, dict):
            raise _bad("message payload is not an object of id -> value")
        return cls(values=doc)


def _strict_yaml(text: str) -> Any:
    import yaml  # loaded when a YAML document is read: keeps `import cocoverify` light

    class Loader(yaml.SafeLoader):
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise _bad(f"duplicate key {key!r} (line {key_node.start_mark.line + 1})")
            out[key] = loader.construct_object(value_node, deep=True)
        return out

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(text, Loader=Loader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _bad(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise _bad("nested too deeply") from None


def _parse(data: bytes, source: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(f"{source}: not UTF-8 text") from None
    if text.lstrip().startswith(("{", "[")):
        try:
            return loads_strict(text)  # RFC 8259: no duplicate ids, no NaN
        except ValueError as exc:
            raise _bad(f"{source}: invalid JSON: {exc}") from None
    return _strict_yaml(text)


def load_reference_values(
    source: ReferenceValues | Mapping[str, Any] | list[Any] | str | os.PathLike[str] | bytes,
) -> ReferenceValues:
    """A store from a file path, JSON/YAML bytes, a parsed document, or a store as is."""
    if isinstance(source, ReferenceValues):
        return source
    if isinstance(source, Mapping | list):
        return ReferenceValues.from_document(source)
    if isinstance(source, bytes):
        return ReferenceValues.from_document(_parse(source, "document"))
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_DOCUMENT + 1)
        except OSError as exc:
            raise _bad(f"{path}: {exc.strerror or exc}") from None
        if len(data) > MAX_DOCUMENT:
            raise _bad(f"{path}: larger than {MAX_DOCUMENT} bytes")
        return ReferenceValues.from_document(_parse(data, str(path)))
    raise _bad("expected a path, JSON/YAML bytes, a mapping or a list")
