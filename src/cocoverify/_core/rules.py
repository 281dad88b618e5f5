"""Building blocks for policy sections: value parsing and rule verdicts."""

from __future__ import annotations

import dataclasses
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import field
from typing import Any, TypeVar

from cocoverify.errors import ConfigurationError, Reason
from cocoverify.result import RuleVerdict

__all__ = [
    "allowed_values",
    "binding_rule",
    "hex_bytes",
    "hex_set",
    "int_set",
    "opt_int",
    "reject_unknown_keys",
    "rule_in",
    "rule_min",
]

T = TypeVar("T")


def reject_unknown_keys(where: str, data: Mapping[str, Any], known: Iterable[str]) -> None:
    """ConfigurationError naming the first key the section does not define."""
    allowed = set(known)
    for key in data:
        if key not in allowed:
            raise ConfigurationError(
                f"{where + '.' if where else ''}{key}: unknown key "
                f"(known: {', '.join(sorted(allowed))})",
                reason=Reason.INVALID_POLICY,
            )


def hex_bytes(where: str, value: Any, length: int | None = None) -> bytes:
    """Hex text (case-insensitive, optional 0x) to bytes of an exact length."""
    if not isinstance(value, str):
        raise ConfigurationError(
            f"{where}: expected hex text, got {type(value).__name__}", reason=Reason.INVALID_POLICY
        )
    text = value.strip().lower().removeprefix("0x")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ConfigurationError(
            f"{where}: not hex: {value!r}", reason=Reason.INVALID_POLICY
        ) from None
    if length is not None and len(raw) != length:
        raise ConfigurationError(
            f"{where}: expected {length} bytes, got {len(raw)}", reason=Reason.INVALID_POLICY
        )
    return raw


def _as_list(where: str, value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str | int):
        return [value]
    raise ConfigurationError(f"{where}: expected a list", reason=Reason.INVALID_POLICY)


def hex_set(where: str, value: Any, length: int | None = None) -> frozenset[bytes] | None:
    """An allow-list of hex values (None stays None: not checked)."""
    if value is None:
        return None
    items = _as_list(where, value)
    return frozenset(hex_bytes(f"{where}[{i}]", v, length) for i, v in enumerate(items))


def _int(where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(f"{where}: expected an integer", reason=Reason.INVALID_POLICY)
    if value < 0:
        raise ConfigurationError(f"{where}: must not be negative", reason=Reason.INVALID_POLICY)
    return value


def opt_int(where: str, value: Any) -> int | None:
    """An optional non-negative integer."""
    return None if value is None else _int(where, value)


def int_set(where: str, value: Any) -> frozenset[int] | None:
    """An allow-list of integers."""
    if value is None:
        return None
    return frozenset(_int(f"{where}[{i}]", v) for i, v in enumerate(_as_list(where, value)))


def allowed_values(
    name: str, actual: T, allowed: frozenset[T] | None, *, secret_eq: bool = True
) -> RuleVerdict | None:
    """Verdict for an allow-list; None when the policy does not restrict ``name``."""
    if allowed is None:
        return None
    return rule_in(name, actual, allowed, secret_eq=secret_eq)


def rule_in(
    name: str,
    actual: Any,
    allowed: Iterable[Any],
    *,
    secret_eq: bool = True,
    reason: Reason = Reason.MEASUREMENT_MISMATCH,
) -> RuleVerdict:
    """``actual`` is one of ``allowed`` (bytes compared in constant time)."""
    allowed_list = list(allowed)
    if isinstance(actual, bytes) and secret_eq:
        ok = False
        for a in allowed_list:
            ok |= isinstance(a, bytes) and hmac.compare_digest(a, actual)
    else:
        ok = actual in allowed_list
    shown = sorted(allowed_list, key=repr)
    if ok:
        return RuleVerdict(name, True, actual=actual)
    return RuleVerdict(
        name,
        False,
        f"{name} was {_show(actual)}, allowed: [{', '.join(_show(a) for a in shown)}]",
        reason=reason,
        expected=shown,
        actual=actual,
    )


def rule_min(
    name: str, actual: int, minimum: int | None, *, reason: Reason = Reason.TCB_BELOW_MINIMUM
) -> RuleVerdict | None:
    """``actual >= minimum``; None when unrestricted."""
    if minimum is None:
        return None
    if actual >= minimum:
        return RuleVerdict(name, True, expected=minimum, actual=actual)
    return RuleVerdict(
        name,
        False,
        f"{name} was {actual}, minimum {minimum}",
        reason=reason,
        expected=minimum,
        actual=actual,
    )


def _show(v: Any) -> str:
    if isinstance(v, bytes):
        return v.hex()
    return repr(v)


def collect(*verdicts: RuleVerdict | None) -> list[RuleVerdict]:
    """Drop the Nones."""
    return [v for v in verdicts if v is not None]


SectionRules = Callable[[Any, Any], list[RuleVerdict]]


# --- declarative sections ---------------------------------------------------------------------
#
# A policy section is a frozen dataclass whose fields carry metadata saying how the file form
# is parsed: ``hexset(n)`` (allow-list of n-byte values), ``intset()``, ``minimum()``,
# ``flag()``. ``section_from_dict`` / ``section_to_dict`` do the rest.


def hexset(length: int | None) -> Any:
    """Field: allow-list of hex values of ``length`` bytes (None = not checked)."""
    return field(default=None, metadata={"kind": "hex", "length": length})


def intset() -> Any:
    """Field: allow-list of integers (None = not checked)."""
    return field(default=None, metadata={"kind": "ints"})


def minimum() -> Any:
    """Field: a minimum integer (None = not checked)."""
    return field(default=None, metadata={"kind": "min"})


def hexvalue(length: int) -> Any:
    """Field: one hex value of ``length`` bytes (None = not checked)."""
    return field(default=None, metadata={"kind": "hex1", "length": length})


def masked_rule(
    name: str, actual: bytes, mask: bytes | None, value: bytes | None
) -> RuleVerdict | None:
    """``actual & mask == value`` (both set, or neither); None when unrestricted."""
    if mask is None and value is None:
        return None
    if mask is None or value is None:
        raise ConfigurationError(
            f"{name}: give both {name}_mask and {name}_value", reason=Reason.INVALID_POLICY
        )
    got = bytes(a & m for a, m in zip(actual, mask, strict=True))
    if got == value:
        return RuleVerdict(f"{name}_mask", True, expected=value, actual=got)
    return RuleVerdict(
        f"{name}_mask",
        False,
        f"{name} was {actual.hex()}; under mask {mask.hex()} it is {got.hex()}, "
        f"required {value.hex()}",
        reason=Reason.ATTRIBUTE_REJECTED,
        expected=value,
        actual=got,
    )


def flag(default: bool = False) -> Any:
    """Field: a boolean switch."""
    return field(default=default, metadata={"kind": "bool"})


def section_from_dict(cls: type[T], where: str, data: Mapping[str, Any]) -> T:
    """Parse a section's file form using its fields' metadata."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    reject_unknown_keys(where, data, fields)
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        meta = fields[key].metadata
        kind = meta.get("kind")
        loc = f"{where}.{key}"
        if kind == "hex":
            kwargs[key] = hex_set(loc, value, meta.get("length"))
        elif kind == "hex1":
            kwargs[key] = None if value is None else hex_bytes(loc, value, meta.get("length"))
        elif kind == "ints":
            kwargs[key] = int_set(loc, value)
        elif kind == "min":
            kwargs[key] = opt_int(loc, value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigurationError(
                    f"{loc}: expected true or false", reason=Reason.INVALID_POLICY
                )
            kwargs[key] = value
        else:
            kwargs[key] = value
    return cls(**kwargs)


def section_to_dict(section: Any) -> dict[str, Any]:
    """The file form of a section: only the fields that differ from the default."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(section):
        value = getattr(section, f.name)
        if value == f.default:
            continue
        if isinstance(value, frozenset):
            value = sorted(v.hex() if isinstance(v, bytes) else v for v in value)
        elif isinstance(value, bytes):
            value = value.hex()
        out[f.name] = value
    return out


def allowed_claims(
    section: Any, claims: Mapping[str, Any], names: Iterable[str]
) -> list[RuleVerdict]:
    """Allow-list verdicts for each named field of ``section`` against the same-named claim."""
    out = []
    for name in names:
        allowed = getattr(section, name)
        if allowed is None:
            continue
        out.append(rule_in(name, claims.get(name), allowed))
    return out


def binding_rule(name: str, actual: bytes | None, expected: bytes, reason: Reason) -> RuleVerdict:
    """A nonce-style binding: ``expected`` zero-padded to the field must equal it."""
    if actual is None:
        return RuleVerdict(name, False, f"this evidence has no {name} field", reason=reason)
    if len(expected) > len(actual):
        return RuleVerdict(
            name,
            False,
            f"expected {name} is longer than the field ({len(expected)} > {len(actual)} bytes)",
            reason=reason,
            expected=expected,
            actual=actual,
        )
    padded = expected + b"\x00" * (len(actual) - len(expected))
    if hmac.compare_digest(padded, actual):
        return RuleVerdict(name, True, expected=padded, actual=actual)
    return RuleVerdict(
        name,
        False,
        f"{name} was {actual.hex()}, expected {padded.hex()}",
        reason=reason,
        expected=padded,
        actual=actual,
    )
