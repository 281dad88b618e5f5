"""Policy section for Azure confidential VMs (``az-snp-vtpm:`` / ``az-tdx-vtpm:``).

Every knob is unchecked while unset. ``pcrs``: SHA-256 PCR index (0..23) -> allowed values.
``secure_boot`` / ``tpm_enabled`` / ``console_enabled``: the required value of the HCL
var data's ``vm-configuration`` flag (a flag missing there fails a set knob).
``init_data``: allowed init-data hashes ``h``, each checked as trustee does:
PCR8 == SHA-256(32 zero bytes || h) (one extend from zero).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoverify._core.rules import hex_bytes, hex_set, reject_unknown_keys, rule_in
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.result import Appraisal, RuleVerdict

__all__ = ["AzurePolicy"]

_FLAGS = (
    ("secure_boot", "secure-boot"),
    ("tpm_enabled", "tpm-enabled"),
    ("console_enabled", "console-enabled"),
)
_KEYS = ("pcrs", "init_data", *(name for name, _ in _FLAGS))

PcrValues = tuple[tuple[int, frozenset[bytes]], ...]


def _bad(where: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {what}", reason=Reason.INVALID_POLICY)


def _pcrs(where: str, value: Any) -> PcrValues | None:
    if value is None:
        return None
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        value = dict(value)
    if not isinstance(value, Mapping):
        raise _bad(where, "expected a mapping of PCR index to allowed values")
    out: dict[int, frozenset[bytes]] = {}
    for key, allowed in value.items():
        index = int(key) if isinstance(key, str) and key.isdecimal() else key
        if type(index) is not int or not 0 <= index < 24:
            raise _bad(where, f"PCR index {key!r} is not an integer in 0..23")
        loc = f"{where}.{key}"
        if index in out:
            raise _bad(loc, f"PCR {index} given twice")
        items = [allowed] if isinstance(allowed, str | bytes) else allowed
        if not isinstance(items, list | tuple | set | frozenset) or not items:
            raise _bad(loc, "expected a value or a non-empty list of values")
        out[index] = frozenset(
            v if isinstance(v, bytes) and len(v) == 32 else hex_bytes(f"{loc}[{i}]", v, 32)
            for i, v in enumerate(items)
        )
    return tuple(sorted(out.items()))


def _flag(where: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise _bad(where, "expected true or false")


@dataclass(frozen=True, slots=True)
class AzurePolicy:
    """Rules on the vTPM PCRs and the VM configuration the HCL report binds."""

    pcrs: PcrValues | None = None
    secure_boot: bool | None = None
    tpm_enabled: bool | None = None
    console_enabled: bool | None = None
    init_data: frozenset[bytes] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "pcrs", _pcrs("azure.pcrs", self.pcrs))
        for name, _ in _FLAGS:
            _flag(f"azure.{name}", getattr(self, name))
        if self.init_data is not None:
            object.__setattr__(self, "init_data", frozenset(self.init_data))

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> AzurePolicy:
        """Parse the file form; unknown keys and bad values are ConfigurationError."""
        reject_unknown_keys(where, data, _KEYS)
        return cls(
            pcrs=_pcrs(f"{where}.pcrs", data.get("pcrs")),
            init_data=hex_set(f"{where}.init_data", data.get("init_data"), 32),
            **{name: _flag(f"{where}.{name}", data.get(name)) for name, _ in _FLAGS},
        )

    def to_dict(self) -> dict[str, Any]:
        """The file form: only what is set."""
        out: dict[str, Any] = {}
        if self.pcrs is not None:
            out["pcrs"] = {str(i): sorted(v.hex() for v in vs) for i, vs in self.pcrs}
        for name, _ in _FLAGS:
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.init_data is not None:
            out["init_data"] = sorted(v.hex() for v in self.init_data)
        return out

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """PCRs by index, then the VM configuration flags, then init data (PCR8)."""
        azure = a.claims.get("azure", {})
        pcrs = azure.get("pcrs", {})
        config = azure.get("vm_configuration", {})
        out: list[RuleVerdict] = []
        for index, allowed in self.pcrs or ():
            out.append(rule_in(f"pcr{index:02d}", pcrs.get(str(index)), allowed))
        for name, key in _FLAGS:
            want = getattr(self, name)
            if want is not None:
                out.append(rule_in(name, config.get(key), [want], reason=Reason.POLICY_REJECTED))
        if self.init_data is not None:
            pcr8 = pcrs.get("8")
            ok = [h for h in self.init_data if hashlib.sha256(bytes(32) + h).digest() == pcr8]
            if ok:
                out.append(RuleVerdict("init_data", True, expected=ok[0], actual=pcr8))
            else:
                out.append(
                    RuleVerdict(
                        "init_data",
                        False,
                        "no allowed init-data hash h gives PCR8 = SHA-256(0^32 || h)",
                        reason=Reason.INIT_DATA_MISMATCH,
                        expected=sorted(self.init_data),
                        actual=pcr8,
                    )
                )
        return out
