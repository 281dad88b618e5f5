"""Policy section for Arm CCA tokens (lifecycle states: Arm RMM specification §A7.2.3.2.6;
knobs: docs/cca.md "Policy").

Secure default: only the ``secured`` platform lifecycle state passes. Every allow-list is
unchecked while unset. Debug lifecycle states additionally set ``Appraisal.debug``, which
the top-level ``unsafe_allow_debug`` governs.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cocoverify._core.rules import (
    hex_bytes,
    hex_set,
    hexset,
    reject_unknown_keys,
    rule_in,
    section_from_dict,
    section_to_dict,
)
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.result import Appraisal, RuleVerdict
from cocoverify.tee.cca.eat import HASH_SIZES
from cocoverify.tee.cca.platform import LIFECYCLE_STATES

__all__ = ["CcaPolicy", "SwComponentReference"]

_REF_KEYS = ("type", "measurement", "signer_id", "version")


def _bad(where: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {what}", reason=Reason.INVALID_POLICY)


def _hash_values(where: str, values: frozenset[bytes] | None) -> None:
    for v in values or ():
        if len(v) not in HASH_SIZES:
            raise _bad(where, f"{len(v)}-byte value; expected 32, 48 or 64 bytes")


@dataclass(frozen=True, slots=True)
class SwComponentReference:
    """One reference value for platform software components (claim 2399, RMM §A7.2.3.2),
    compared as veraison/services and rust-ccatoken compare theirs (docs/cca.md "Policy").

    A token component matches when its measurement equals ``measurement`` and, for each of
    ``type``, ``signer_id`` and ``version`` that is set here, that field equals it too.
    """

    measurement: bytes
    signer_id: bytes | None = None
    type: str | None = None
    version: str | None = None

    @classmethod
    def from_dict(cls, where: str, data: Any) -> SwComponentReference:
        """``{type?, measurement, signer_id?, version?}``, hashes as hex."""
        if not isinstance(data, Mapping):
            raise _bad(where, "expected a mapping")
        reject_unknown_keys(where, data, _REF_KEYS)
        if "measurement" not in data:
            raise _bad(where, "measurement is required")
        measurement = hex_bytes(f"{where}.measurement", data["measurement"])
        signer = data.get("signer_id")
        signer_id = None if signer is None else hex_bytes(f"{where}.signer_id", signer)
        for name, value in (("measurement", measurement), ("signer_id", signer_id)):
            if value is not None and len(value) not in HASH_SIZES:
                raise _bad(f"{where}.{name}", "expected 32, 48 or 64 bytes")
        texts: dict[str, str | None] = {}
        for name in ("type", "version"):
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise _bad(f"{where}.{name}", "expected text")
            texts[name] = value
        return cls(measurement, signer_id, texts["type"], texts["version"])

    def to_dict(self) -> dict[str, Any]:
        """File form."""
        out: dict[str, Any] = {}
        if self.type is not None:
            out["type"] = self.type
        out["measurement"] = self.measurement.hex()
        if self.signer_id is not None:
            out["signer_id"] = self.signer_id.hex()
        if self.version is not None:
            out["version"] = self.version
        return out

    def matches(self, component: Mapping[str, Any]) -> bool:
        """Does a token component (claims form) match this reference?"""
        if not hmac.compare_digest(self.measurement, component.get("measurement", b"")):
            return False
        if self.signer_id is not None and not hmac.compare_digest(
            self.signer_id, component.get("signer_id", b"")
        ):
            return False
        if self.type is not None and component.get("type") != self.type:
            return False
        return self.version is None or component.get("version") == self.version


@dataclass(frozen=True, slots=True)
class CcaPolicy:
    """Rules for CCA evidence; an unset allow-list is not checked.

    ``realm_extensible_measurements`` holds four slots (REM0..REM3), each an allow-list or
    None (wildcard). ``platform_sw_components``: every token component must match one
    reference, and every component type the references name must appear in the token.
    """

    allowed_lifecycle_states: frozenset[str] = field(default=frozenset({"secured"}))
    platform_implementation_id: frozenset[bytes] | None = hexset(32)
    platform_instance_id: frozenset[bytes] | None = hexset(33)
    platform_config: frozenset[bytes] | None = hexset(None)
    platform_sw_components: tuple[SwComponentReference, ...] | None = field(default=None)
    realm_initial_measurement: frozenset[bytes] | None = hexset(None)
    realm_extensible_measurements: tuple[frozenset[bytes] | None, ...] | None = field(default=None)
    realm_personalization_value: frozenset[bytes] | None = hexset(64)

    def __post_init__(self) -> None:
        states = self.allowed_lifecycle_states
        if isinstance(states, str):
            states = [states]
        if not isinstance(states, list | tuple | set | frozenset) or not all(
            isinstance(s, str) for s in states
        ):
            raise _bad("cca.allowed_lifecycle_states", "expected a list of state names")
        known = set(LIFECYCLE_STATES.values())
        for s in states:
            if s not in known:
                raise _bad(
                    "cca.allowed_lifecycle_states",
                    f"unknown state {s!r} (known: {', '.join(sorted(known))})",
                )
        if not states:
            raise _bad("cca.allowed_lifecycle_states", "empty; nothing could pass")
        object.__setattr__(self, "allowed_lifecycle_states", frozenset(states))
        _hash_values("cca.realm_initial_measurement", self.realm_initial_measurement)
        refs = self.platform_sw_components
        if refs is not None:
            if not isinstance(refs, list | tuple):
                raise _bad("cca.platform_sw_components", "expected a list")
            parsed = tuple(
                r
                if isinstance(r, SwComponentReference)
                else SwComponentReference.from_dict(f"cca.platform_sw_components[{i}]", r)
                for i, r in enumerate(refs)
            )
            if not parsed:
                raise _bad("cca.platform_sw_components", "empty; nothing could pass")
            object.__setattr__(self, "platform_sw_components", parsed)
        rems = self.realm_extensible_measurements
        if rems is not None:
            where = "cca.realm_extensible_measurements"
            if not isinstance(rems, list | tuple) or len(rems) != 4:
                raise _bad(where, "expected a list of 4 slots (null = any)")
            slots: list[frozenset[bytes] | None] = []
            for i, slot in enumerate(rems):
                values = (
                    slot
                    if slot is None or isinstance(slot, frozenset)
                    else hex_set(f"{where}[{i}]", slot)
                )
                _hash_values(f"{where}[{i}]", values)
                slots.append(values)
            object.__setattr__(self, "realm_extensible_measurements", tuple(slots))

    @classmethod
    def from_dict(cls, where: str, data: dict[str, Any]) -> CcaPolicy:
        """Parse the ``cca`` section."""
        return section_from_dict(cls, where, data)

    def to_dict(self) -> dict[str, Any]:
        """The file form (round-trips through :meth:`from_dict`)."""
        if self == _DEFAULT:  # nothing differs from the default (the policy engine asks often)
            return {}
        out = section_to_dict(self)
        if self.platform_sw_components is not None:
            out["platform_sw_components"] = [r.to_dict() for r in self.platform_sw_components]
        if self.realm_extensible_measurements is not None:
            out["realm_extensible_measurements"] = [
                None if s is None else sorted(v.hex() for v in s)
                for s in self.realm_extensible_measurements
            ]
        return out

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """Verdicts: lifecycle, platform identity and software, realm measurements."""
        platform: Mapping[str, Any] = a.claims["platform"]
        realm: Mapping[str, Any] = a.claims["realm"]
        out = [
            rule_in(
                "lifecycle_state",
                platform["lifecycle_state"],
                sorted(self.allowed_lifecycle_states),
                secret_eq=False,
                reason=Reason.LIFECYCLE_REJECTED,
            )
        ]
        for name, claims, claim in (
            ("platform_implementation_id", platform, "implementation_id"),
            ("platform_instance_id", platform, "instance_id"),
            ("platform_config", platform, "config"),
            ("realm_initial_measurement", realm, "initial_measurement"),
            ("realm_personalization_value", realm, "personalization_value"),
        ):
            allowed = getattr(self, name)
            if allowed is not None:
                out.append(rule_in(name, claims[claim], allowed))
        if self.realm_extensible_measurements is not None:
            for i, slot in enumerate(self.realm_extensible_measurements):
                if slot is not None:
                    out.append(
                        rule_in(
                            f"realm_extensible_measurements[{i}]",
                            realm["extensible_measurements"][i],
                            slot,
                        )
                    )
        if self.platform_sw_components is not None:
            out.extend(self._sw_rules(platform["sw_components"]))
        return out

    def _sw_rules(self, components: Any) -> list[RuleVerdict]:
        refs = self.platform_sw_components or ()
        out: list[RuleVerdict] = []
        for i, comp in enumerate(components):
            label = comp.get("type") or f"#{i}"
            name = f"platform_sw_components[{label}]"
            if any(r.matches(comp) for r in refs):
                out.append(RuleVerdict(name, True, actual=comp.get("measurement")))
            else:
                out.append(
                    RuleVerdict(
                        name,
                        False,
                        f"software component {label} (measurement "
                        f"{comp['measurement'].hex()}) matches no reference value",
                        reason=Reason.MEASUREMENT_MISMATCH,
                        expected=[r.to_dict() for r in refs if r.type in (None, comp.get("type"))],
                        actual=dict(comp),
                    )
                )
        present = {c.get("type") for c in components}
        for missing in sorted({r.type for r in refs if r.type is not None} - present):
            out.append(
                RuleVerdict(
                    f"platform_sw_components[{missing}]",
                    False,
                    f"software component {missing} is in the reference values but not the token",
                    reason=Reason.MEASUREMENT_MISMATCH,
                    expected=missing,
                )
            )
        return out


_DEFAULT = CcaPolicy()
