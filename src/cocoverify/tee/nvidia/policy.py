"""Policy section for NVIDIA GPU reports (``gpu:``; docs/nvidia.md "Policy").

Every knob is unchecked while unset. ``measurements``: block index -> allowed values (hex),
inline or from ``reference_values_file`` (JSON or YAML: ``{index: value or [values]}``, or
``{"measurements": {...}}``); a block the report lacks fails. ``arches``, ``driver_versions``,
``vbios_versions``: allow-lists. ``require_revocation_check``: fail when no CRL or OCSP
response applied to the device chain. ``require_rim``: fail when no RIM was given for a
device. RIMs given as collateral (``rim.py``) are always compared: each active RIM
measurement against the report's block (rule ``rim_measurement<block>``, reason
``measurement_mismatch``). With several devices, every device must pass every rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cocoverify._core.rules import hex_bytes, reject_unknown_keys, rule_in
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.result import Appraisal, RuleVerdict

__all__ = ["GpuPolicy", "load_reference_values"]

_KEYS = (
    "measurements",
    "reference_values_file",
    "arches",
    "driver_versions",
    "vbios_versions",
    "require_revocation_check",
    "require_rim",
)

#: block index -> allowed values, sorted by index (a tuple, so the section stays hashable)
Measurements = tuple[tuple[int, frozenset[bytes]], ...]


def _bad(where: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {what}", reason=Reason.INVALID_POLICY)


def _measurements(where: str, value: Any) -> Measurements | None:
    if value is None:
        return None
    if isinstance(value, tuple):
        value = dict(value)
    if not isinstance(value, Mapping):
        raise _bad(where, "expected a mapping of block index to allowed values")
    out: dict[int, frozenset[bytes]] = {}
    for key, allowed in value.items():
        index = int(key) if isinstance(key, str) and key.isdecimal() else key
        if type(index) is not int or not 1 <= index <= 254:
            raise _bad(where, f"block index {key!r} is not an integer in 1..254")
        if index in out:
            raise _bad(where, f"block {index} given twice")
        items = [allowed] if isinstance(allowed, str | bytes) else allowed
        if not isinstance(items, list | tuple | set | frozenset) or not items:
            raise _bad(f"{where}.{key}", "expected a value or a non-empty list of values")
        out[index] = frozenset(
            v if isinstance(v, bytes) else hex_bytes(f"{where}.{key}[{i}]", v)
            for i, v in enumerate(items)
        )
    return tuple(sorted(out.items()))


def load_reference_values(path: str) -> Measurements:
    """Reference measurements from a JSON or YAML file."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise _bad(path, f"cannot read ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except ValueError:
        import yaml  # lazy: PyYAML only for YAML reference files

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            raise _bad(path, "neither JSON nor YAML") from None
    if isinstance(data, Mapping) and "measurements" in data:
        data = data["measurements"]
    result = _measurements(path, data)
    if not result:
        raise _bad(path, "no reference measurements")
    return result


def _texts(where: str, value: Any) -> frozenset[str] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset) or not all(
        isinstance(v, str) for v in items
    ):
        raise _bad(where, "expected a list of strings")
    return frozenset(items)


@dataclass(frozen=True, slots=True)
class GpuPolicy:
    """Rules for NVIDIA GPU reports (see the module docstring)."""

    measurements: Measurements | None = field(default=None)
    arches: frozenset[str] | None = None
    driver_versions: frozenset[str] | None = None
    vbios_versions: frozenset[str] | None = None
    require_revocation_check: bool = False
    require_rim: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "measurements", _measurements("gpu.measurements", self.measurements)
        )
        for name in ("arches", "driver_versions", "vbios_versions"):
            object.__setattr__(self, name, _texts(f"gpu.{name}", getattr(self, name)))

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> GpuPolicy:
        """Parse the file form; unknown keys and bad values are ConfigurationError."""
        reject_unknown_keys(where, data, _KEYS)
        measurements = _measurements(f"{where}.measurements", data.get("measurements"))
        ref = data.get("reference_values_file")
        if ref is not None:
            if not isinstance(ref, str):
                raise _bad(f"{where}.reference_values_file", "expected a path")
            merged = dict(measurements or ())
            for index, values in load_reference_values(ref):
                merged[index] = merged.get(index, frozenset()) | values
            measurements = tuple(sorted(merged.items()))
        flags = {}
        for name in ("require_revocation_check", "require_rim"):
            flags[name] = data.get(name, False)
            if not isinstance(flags[name], bool):
                raise _bad(f"{where}.{name}", "expected true or false")
        return cls(
            measurements=measurements,
            arches=_texts(f"{where}.arches", data.get("arches")),
            driver_versions=_texts(f"{where}.driver_versions", data.get("driver_versions")),
            vbios_versions=_texts(f"{where}.vbios_versions", data.get("vbios_versions")),
            **flags,
        )

    def to_dict(self) -> dict[str, Any]:
        """The file form: only what is set (reference values inline)."""
        out: dict[str, Any] = {}
        if self.measurements is not None:
            out["measurements"] = {
                str(i): sorted(v.hex() for v in vs) for i, vs in self.measurements
            }
        for name in ("arches", "driver_versions", "vbios_versions"):
            value = getattr(self, name)
            if value is not None:
                out[name] = sorted(value)
        for name in ("require_revocation_check", "require_rim"):
            if getattr(self, name):
                out[name] = True
        return out

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """Per device: arch, driver and VBIOS versions, each reference measurement;
        then the revocation requirement."""
        devices = a.claims.get("devices")
        many = isinstance(devices, tuple)
        claim_sets: tuple[Mapping[str, Any], ...] = (
            devices if isinstance(devices, tuple) else (a.claims,)
        )
        records = a.collateral.get("devices") or (a.collateral,)
        out: list[RuleVerdict] = []
        for n, claims in enumerate(claim_sets):
            prefix = f"device[{n}]." if many else ""
            out.extend(self._device(prefix, claims))
            record = records[n] if n < len(records) else {}
            out.extend(self._rim(prefix, claims, record.get("rim")))
        if self.require_revocation_check:
            checked = all(r.get("revocation_checked") for r in records)
            out.append(
                RuleVerdict("require_revocation_check", True)
                if checked
                else RuleVerdict(
                    "require_revocation_check",
                    False,
                    "the device certificate chain was not checked for revocation "
                    "(no CRL or OCSP response given)",
                    reason=Reason.CRL_MISSING,
                )
            )
        return out

    def _rim(
        self, prefix: str, claims: Mapping[str, Any], rim: Mapping[str, Any] | None
    ) -> list[RuleVerdict]:
        """Each active RIM measurement against the report's block (RIM index = block - 1)."""
        if rim is None:
            if not self.require_rim:
                return []
            return [
                RuleVerdict(
                    prefix + "require_rim",
                    False,
                    "no RIM given for this device (give the driver and VBIOS RIMs with "
                    "--collateral)",
                    reason=Reason.POLICY_REJECTED,
                )
            ]
        values = claims.get("measurements") or {}
        out = []
        for block, allowed in rim["reference_blocks"].items():
            name = f"{prefix}rim_measurement{block}"
            actual = values.get(str(block))
            verdict = rule_in(
                name,
                bytes.fromhex(actual) if isinstance(actual, str) else None,
                [bytes.fromhex(v) for v in allowed],
            )
            if not verdict.passed:
                verdict = replace(
                    verdict,
                    message=f"measurement block {block} (RIM index {int(block) - 1}) "
                    f"{'is absent' if actual is None else 'is ' + actual}, the RIM allows "
                    f"{', '.join(allowed)} (RIM signature not verified)",
                )
            out.append(verdict)
        return out

    def _device(self, prefix: str, claims: Mapping[str, Any]) -> list[RuleVerdict]:
        out: list[RuleVerdict] = []
        config = claims.get("config") or {}
        for name, actual in (
            ("arches", claims.get("arch")),
            ("driver_versions", config.get("driver_version")),
            ("vbios_versions", config.get("vbios_version")),
        ):
            allowed = getattr(self, name)
            if allowed is not None:
                out.append(rule_in(prefix + name, actual, allowed, reason=Reason.POLICY_REJECTED))
        values = claims.get("measurements") or {}
        for index, allowed in self.measurements or ():
            actual = values.get(str(index))
            raw = bytes.fromhex(actual) if isinstance(actual, str) else None
            out.append(rule_in(f"{prefix}measurement{index}", raw, allowed))
        return out
