"""Policy section for AMD SEV-SNP guests (docs/snp.md, "Policy knobs").

Debug, the nonce (``expected_report_data``), HOST_DATA as init data and ``require_crl``
are top-level knobs of :class:`~cocoverify.policy.Policy`; this section holds the rest.
Allow-lists left unset are not checked. Secure defaults: a migration agent is rejected
unless ``allow_migration_agent``; everything else must be asked for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from cocoverify._core.rules import (
    allowed_claims,
    collect,
    flag,
    hexset,
    intset,
    minimum,
    opt_int,
    reject_unknown_keys,
    rule_in,
    rule_min,
    section_from_dict,
    section_to_dict,
)
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.result import Appraisal, RuleVerdict

__all__ = ["SnpPolicy"]

_PINS = (
    "measurement",
    "host_data",
    "family_id",
    "image_id",
    "id_key_digest",
    "author_key_digest",
    "chip_id",
)
TCB_COMPONENTS = ("fmc", "bootloader", "tee", "snp", "microcode")
_TCB_KEYS = ("min_reported_tcb", "min_launch_tcb")


def _tcb_minimum(where: str, value: Any) -> tuple[tuple[str, int], ...] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"{where}: expected a mapping of TCB components", reason=Reason.INVALID_POLICY
        )
    reject_unknown_keys(where, value, TCB_COMPONENTS)
    out: dict[str, int] = {}
    for key, v in value.items():
        n = opt_int(f"{where}.{key}", v)
        if n is None or n > 255:
            raise ConfigurationError(
                f"{where}.{key}: expected an SPL 0..255", reason=Reason.INVALID_POLICY
            )
        out[key] = n
    return tuple((k, out[k]) for k in TCB_COMPONENTS if k in out)


def _version(where: str, value: Any) -> tuple[int, int] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        # a YAML/JSON number loses the minor's width: 1.50 reads as 1.5, i.e. minor 5
        raise ConfigurationError(
            f"{where}: give the version as a quoted string 'major.minor', got {value!r}",
            reason=Reason.INVALID_POLICY,
        )
    parts = value.split(".")
    try:
        major, minor = (int(p) for p in parts)
    except ValueError:
        raise ConfigurationError(
            f"{where}: expected 'major.minor', got {value!r}", reason=Reason.INVALID_POLICY
        ) from None
    if not (0 <= major <= 255 and 0 <= minor <= 255):
        raise ConfigurationError(f"{where}: out of range", reason=Reason.INVALID_POLICY)
    return major, minor


@dataclass(frozen=True, slots=True)
class SnpPolicy:
    """Allowed SNP guest identities and platform requirements; unset means not checked.

    ``min_reported_tcb`` / ``min_launch_tcb``: per-component minimum SPLs (``fmc`` applies
    to Turin only), compared component-wise, never as integers.
    ``min_firmware_version`` is ``"major.minor"`` of the current SNP firmware.
    """

    measurement: frozenset[bytes] | None = hexset(48)
    host_data: frozenset[bytes] | None = hexset(32)
    family_id: frozenset[bytes] | None = hexset(16)
    image_id: frozenset[bytes] | None = hexset(16)
    id_key_digest: frozenset[bytes] | None = hexset(48)
    author_key_digest: frozenset[bytes] | None = hexset(48)
    chip_id: frozenset[bytes] | None = hexset(64)
    vmpl: frozenset[int] | None = intset()
    min_guest_svn: int | None = minimum()
    min_reported_tcb: tuple[tuple[str, int], ...] | None = None
    min_launch_tcb: tuple[tuple[str, int], ...] | None = None
    min_firmware_build: int | None = minimum()
    min_firmware_version: tuple[int, int] | None = None
    require_committed_equals_current: bool = flag(False)
    allow_migration_agent: bool = flag(False)
    allow_smt: bool = flag(True)

    def __post_init__(self) -> None:
        for key in _TCB_KEYS:
            value = getattr(self, key)
            if isinstance(value, Mapping):
                object.__setattr__(self, key, _tcb_minimum(f"snp.{key}", value))
        v = self.min_firmware_version
        if v is not None and not (isinstance(v, tuple) and len(v) == 2):
            object.__setattr__(
                self, "min_firmware_version", _version("snp.min_firmware_version", v)
            )

    @classmethod
    def from_dict(cls, where: str, data: dict[str, Any]) -> SnpPolicy:
        """Parse the ``snp`` section."""
        data = dict(data)
        extra: dict[str, Any] = {}
        for key in _TCB_KEYS:
            if key in data:
                extra[key] = _tcb_minimum(f"{where}.{key}", data.pop(key))
        if "min_firmware_version" in data:
            extra["min_firmware_version"] = _version(
                f"{where}.min_firmware_version", data.pop("min_firmware_version")
            )
        base = section_from_dict(cls, where, data)
        return replace(base, **extra) if extra else base

    def to_dict(self) -> dict[str, Any]:
        """The file form (round-trips through :meth:`from_dict`)."""
        if self == _DEFAULT:  # nothing differs from the default (the policy engine asks often)
            return {}
        out = section_to_dict(self)
        for key in _TCB_KEYS:
            if key in out:
                out[key] = dict(out[key])
        if self.min_firmware_version is not None:
            out["min_firmware_version"] = "{}.{}".format(*self.min_firmware_version)
        return out

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """Verdicts for the pinned identity, TCB minimums, firmware and guest-policy bits."""
        c = a.claims
        if self == _DEFAULT:  # nothing pinned: only the guest-policy and platform flags
            return self._flag_rules(c)
        out = allowed_claims(self, c, _PINS)
        if self.vmpl is not None:
            out.append(rule_in("vmpl", c["vmpl"], self.vmpl))
        out += collect(
            rule_min(
                "min_guest_svn",
                int(c["guest_svn"]),
                self.min_guest_svn,
                reason=Reason.MEASUREMENT_MISMATCH,
            )
        )
        for key, claim in (("min_reported_tcb", "reported_tcb"), ("min_launch_tcb", "launch_tcb")):
            minimums = getattr(self, key)
            if minimums is None:
                continue
            tcb = c[claim]
            for component, floor in minimums:
                if component not in tcb:
                    continue  # fmc on Milan/Genoa: the component does not exist
                out += collect(rule_min(f"{key}.{component}", int(tcb[component]), floor))
        fw = c["current_firmware"]
        out += collect(rule_min("min_firmware_build", int(fw["build"]), self.min_firmware_build))
        if self.min_firmware_version is not None:
            actual = (int(fw["major"]), int(fw["minor"]))
            ok = actual >= self.min_firmware_version
            out.append(
                RuleVerdict(
                    "min_firmware_version",
                    ok,
                    ""
                    if ok
                    else "firmware {}.{} is below {}.{}".format(
                        *actual, *self.min_firmware_version
                    ),
                    reason=None if ok else Reason.TCB_BELOW_MINIMUM,
                    expected="{}.{}".format(*self.min_firmware_version),
                    actual="{}.{}".format(*actual),
                )
            )
        if self.require_committed_equals_current:
            same = dict(c["committed_tcb"]) == dict(c["current_tcb"]) and dict(
                c["committed_firmware"]
            ) == dict(fw)
            out.append(
                RuleVerdict(
                    "require_committed_equals_current",
                    same,
                    ""
                    if same
                    else "committed TCB/firmware differs from the current one "
                    "(provisional firmware)",
                    reason=None if same else Reason.TCB_BELOW_MINIMUM,
                    expected=True,
                    actual=same,
                )
            )
        return out + self._flag_rules(c)

    def _flag_rules(self, c: Mapping[str, Any]) -> list[RuleVerdict]:
        """MIGRATE_MA (guest policy) and SMT (platform info) against the allow flags."""
        return [
            _flag_rule(
                "migrate_ma",
                bool(c["policy"]["migrate_ma"]),
                self.allow_migration_agent,
                "the guest policy allows a migration agent (MIGRATE_MA)",
            ),
            _flag_rule(
                "smt",
                bool(c["platform_info"]["smt_en"]),
                self.allow_smt,
                "SMT is enabled on the host",
            ),
        ]


_DEFAULT = SnpPolicy()


def _flag_rule(name: str, actual: bool, allowed: bool, message: str) -> RuleVerdict:
    if not actual or allowed:
        return RuleVerdict(name, True, actual=actual)
    return RuleVerdict(
        name, False, message, reason=Reason.ATTRIBUTE_REJECTED, expected=False, actual=True
    )
