"""Policy section for AWS Nitro Enclaves documents (``nitro:``; docs/nitro.md "Policy").

Every knob is unchecked while unset. PCR meanings (AWS Nitro Enclaves User Guide, "Where
to get an enclave's measurements"): PCR0 enclave image file, PCR1 Linux kernel and
bootstrap, PCR2 application, PCR3 IAM role of the parent instance, PCR4 parent instance ID,
PCR8 enclave image signing certificate; PCR16 and above are extended by the enclave at run
time. Debug-mode enclaves (PCR0/1/2 all zero) set ``Appraisal.debug``, which the top-level
``unsafe_allow_debug`` governs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cocoverify._core.rules import (
    allowed_claims,
    hex_bytes,
    hex_set,
    hexset,
    opt_int,
    reject_unknown_keys,
    rule_in,
)
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.result import Appraisal, RuleVerdict
from cocoverify.tee.nitro.parse import MAX_PCRS, PCR_SIZES

__all__ = ["NitroPolicy"]

_KEYS = ("pcrs", "module_id_patterns", "max_age_seconds", "user_data", "public_key", "nonce")


def _bad(where: str, what: str) -> ConfigurationError:
    return ConfigurationError(f"{where}: {what}", reason=Reason.INVALID_POLICY)


def _index(where: str, key: Any) -> int:
    if isinstance(key, str) and key.isdecimal():
        key = int(key)
    if type(key) is not int or not 0 <= key < MAX_PCRS:
        raise _bad(where, f"PCR index {key!r} is not an integer in 0..31")
    return key


def _pcr_value(where: str, value: Any) -> bytes:
    raw = value if isinstance(value, bytes) else hex_bytes(where, value)
    if len(raw) not in PCR_SIZES:
        raise _bad(where, f"{len(raw)}-byte value; PCRs are 32, 48 or 64 bytes")
    return raw


#: PCR index -> allowed values, sorted by index (a tuple, so the section stays hashable)
PcrValues = tuple[tuple[int, frozenset[bytes]], ...]


def _pcrs(where: str, value: Any) -> PcrValues | None:
    """``{index: value or [values]}`` (hex text or bytes) to sorted pairs."""
    if value is None:
        return None
    if isinstance(value, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        value = dict(value)
    if not isinstance(value, Mapping):
        raise _bad(where, "expected a mapping of PCR index to allowed values")
    out: dict[int, frozenset[bytes]] = {}
    for key, allowed in value.items():
        index = _index(where, key)
        loc = f"{where}.{key}"
        if index in out:
            raise _bad(loc, f"PCR {index} given twice")
        items = [allowed] if isinstance(allowed, str | bytes) else allowed
        if not isinstance(items, list | tuple | set | frozenset):
            raise _bad(loc, "expected a value or a list of values")
        if not items:
            raise _bad(loc, "empty: nothing could pass")
        out[index] = frozenset(_pcr_value(f"{loc}[{i}]", v) for i, v in enumerate(items))
    return tuple(sorted(out.items()))


def _patterns(where: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(v, str) and v for v in items):
        raise _bad(where, "expected a list of non-empty glob patterns")
    if not items:
        raise _bad(where, "empty: nothing could pass")
    return tuple(items)


@dataclass(frozen=True, slots=True)
class NitroPolicy:
    """Rules for AWS Nitro documents.

    ``pcrs``: PCR index -> allowed values (any index 0..31; given as a mapping, kept as
    sorted ``(index, values)`` pairs). ``module_id_patterns``: shell
    globs (``fnmatch``, case-sensitive), one must match the whole ``module_id``.
    ``max_age_seconds``: the document's ``timestamp`` is at most this old at the
    verification time. ``user_data`` / ``public_key`` / ``nonce``: allowed values.
    """

    pcrs: PcrValues | None = field(default=None)
    module_id_patterns: tuple[str, ...] | None = field(default=None)
    max_age_seconds: int | None = field(default=None)
    user_data: frozenset[bytes] | None = hexset(None)
    public_key: frozenset[bytes] | None = hexset(None)
    nonce: frozenset[bytes] | None = hexset(None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pcrs", _pcrs("nitro.pcrs", self.pcrs))
        if self.module_id_patterns is not None:
            object.__setattr__(
                self,
                "module_id_patterns",
                _patterns("nitro.module_id_patterns", self.module_id_patterns),
            )

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> NitroPolicy:
        """Parse the file form; unknown keys and bad values are ConfigurationError."""
        reject_unknown_keys(where, data, _KEYS)
        return cls(
            pcrs=_pcrs(f"{where}.pcrs", data.get("pcrs")),
            module_id_patterns=_patterns(
                f"{where}.module_id_patterns", data.get("module_id_patterns")
            ),
            max_age_seconds=opt_int(f"{where}.max_age_seconds", data.get("max_age_seconds")),
            **{
                name: hex_set(f"{where}.{name}", data.get(name))
                for name in ("user_data", "public_key", "nonce")
            },
        )

    def to_dict(self) -> dict[str, Any]:
        """The file form: only what is set."""
        out: dict[str, Any] = {}
        if self.pcrs is not None:
            out["pcrs"] = {str(i): sorted(v.hex() for v in vs) for i, vs in self.pcrs}
        if self.module_id_patterns is not None:
            out["module_id_patterns"] = list(self.module_id_patterns)
        if self.max_age_seconds is not None:
            out["max_age_seconds"] = self.max_age_seconds
        for name in ("user_data", "public_key", "nonce"):
            value = getattr(self, name)
            if value is not None:
                out[name] = sorted(v.hex() for v in value)
        return out

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """PCRs, module ID, document age, then the user_data / public_key / nonce lists."""
        claims = a.claims
        out: list[RuleVerdict] = []
        for index, allowed in self.pcrs or ():
            out.append(rule_in(f"pcr{index}", claims.get(f"pcr{index}"), allowed))
        if self.module_id_patterns is not None:
            out.append(self._module_id(str(claims.get("module_id", ""))))
        if self.max_age_seconds is not None:
            out.append(self._age(a))
        out.extend(allowed_claims(self, claims, ("user_data", "public_key", "nonce")))
        return out

    def _module_id(self, module_id: str) -> RuleVerdict:
        patterns = list(self.module_id_patterns or ())
        if any(fnmatch.fnmatchcase(module_id, p) for p in patterns):
            return RuleVerdict("module_id_patterns", True, expected=patterns, actual=module_id)
        return RuleVerdict(
            "module_id_patterns",
            False,
            f"module_id {module_id!r} matches none of {patterns}",
            reason=Reason.POLICY_REJECTED,
            expected=patterns,
            actual=module_id,
        )

    def _age(self, a: Appraisal) -> RuleVerdict:
        # the pipeline records the age at the verification time (docs/nitro.md "Policy")
        age_ms = a.collateral.get("document_age_ms")
        limit = self.max_age_seconds
        if not isinstance(age_ms, int):
            return RuleVerdict(
                "max_age_seconds",
                False,
                "the document age is unknown",
                reason=Reason.POLICY_REJECTED,
                expected=limit,
            )
        seconds = round(age_ms / 1000, 3)
        if limit is not None and age_ms <= limit * 1000:
            return RuleVerdict("max_age_seconds", True, expected=limit, actual=seconds)
        return RuleVerdict(
            "max_age_seconds",
            False,
            f"document is {seconds} s old at the verification time, maximum {limit} s",
            reason=Reason.POLICY_REJECTED,
            expected=limit,
            actual=seconds,
        )
