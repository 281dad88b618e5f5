"""Policy sections for Intel SGX enclaves and TDX trust domains (docs/policy.md).

QVL's TCB status does not look at these bits; dcap-qvl (``validate_sgx_attrs``,
``quote.rs TDAttributes``) and go-tdx-guest (``validate/validate.go``) check them as policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cocoverify._core.rules import (
    allowed_claims,
    flag,
    hexset,
    hexvalue,
    intset,
    masked_rule,
    minimum,
    rule_min,
    section_from_dict,
    section_to_dict,
)
from cocoverify.errors import ConfigurationError, Reason
from cocoverify.result import Appraisal, RuleVerdict

__all__ = ["SgxPolicy", "TdxPolicy"]

_SGX_PINS = (
    "mr_enclave",
    "mr_signer",
    "isv_prod_id",
    "config_id",
    "isv_ext_prod_id",
    "isv_family_id",
)
_TDX_PINS = (
    "mr_td",
    "mr_config_id",
    "mr_owner",
    "mr_owner_config",
    "rtmr0",
    "rtmr1",
    "rtmr2",
    "rtmr3",
    "mr_seam",
    "mr_signer_seam",
)
#: The fields whose rules a section may set (pins, minimums, masks).
_SGX_RULES = (*_SGX_PINS, "min_isv_svn", "min_config_svn", "attributes_mask", "misc_select_mask")
_TDX_RULES = (*_TDX_PINS, "td_attributes_mask", "xfam_mask")

#: TDATTRIBUTES.SEPT_VE_DISABLE (bit 28).
TD_ATTR_SEPT_VE_DISABLE = 1 << 28

# The verdicts that carry nothing of the quote but one bit (immutable, shared).
_SEPT_SET = RuleVerdict("sept_ve_disable", True, actual=True)
_SEPT_ALLOWED = RuleVerdict("sept_ve_disable", True, actual=False)
_SEPT_MISSING = RuleVerdict(
    "sept_ve_disable",
    False,
    "TD attribute SEPT_VE_DISABLE is not set",
    reason=Reason.ATTRIBUTE_REJECTED,
    expected=True,
    actual=False,
)

#: id(section) -> (section, the names of ``names`` it sets): which rules a section has,
#: read once per section (sections are immutable); bounded, cleared when full.
_SET_FIELDS: dict[int, tuple[object, tuple[str, ...]]] = {}


def _set_fields(section: object, names: tuple[str, ...]) -> tuple[str, ...]:
    found = _SET_FIELDS.get(id(section))
    if found is not None and found[0] is section:
        return found[1]
    value = tuple(n for n in names if getattr(section, n) is not None)
    if len(_SET_FIELDS) >= 256:
        _SET_FIELDS.clear()
    _SET_FIELDS[id(section)] = (section, value)
    return value


def _pairs(section: object, names: tuple[str, ...]) -> None:
    """``<name>_mask`` and ``<name>_value`` come together (docs/policy.md)."""
    for name in names:
        mask, value = getattr(section, f"{name}_mask"), getattr(section, f"{name}_value")
        if (mask is None) != (value is None):
            raise ConfigurationError(
                f"{name}_mask and {name}_value go together", reason=Reason.INVALID_POLICY
            )
        # a required bit outside the mask could never match: an authoring error, not a rule
        if mask is not None and any(v & ~m for v, m in zip(value, mask, strict=True)):
            raise ConfigurationError(
                f"{name}_value sets bits outside {name}_mask", reason=Reason.INVALID_POLICY
            )


@dataclass(frozen=True, slots=True)
class SgxPolicy:
    """Allowed SGX enclave identities; an unset field is not checked."""

    mr_enclave: frozenset[bytes] | None = hexset(32)
    mr_signer: frozenset[bytes] | None = hexset(32)
    isv_prod_id: frozenset[int] | None = intset()
    min_isv_svn: int | None = minimum()
    config_id: frozenset[bytes] | None = hexset(64)
    min_config_svn: int | None = minimum()
    isv_ext_prod_id: frozenset[bytes] | None = hexset(16)
    isv_family_id: frozenset[bytes] | None = hexset(16)
    attributes_mask: bytes | None = hexvalue(16)
    attributes_value: bytes | None = hexvalue(16)
    misc_select_mask: bytes | None = hexvalue(4)
    misc_select_value: bytes | None = hexvalue(4)

    def __post_init__(self) -> None:
        _pairs(self, ("attributes", "misc_select"))

    @classmethod
    def from_dict(cls, where: str, data: dict[str, Any]) -> SgxPolicy:
        """Parse the ``sgx`` section."""
        return section_from_dict(cls, where, data)

    def to_dict(self) -> dict[str, Any]:
        """The file form."""
        if self == _DEFAULT_SGX:  # nothing differs from the default (asked on every verify)
            return {}
        return section_to_dict(self)

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """Verdicts for the pinned enclave identity."""
        claims = a.claims
        chosen = _set_fields(self, _SGX_RULES)
        out = allowed_claims(self, claims, [n for n in _SGX_PINS if n in chosen])
        for name, claim in (("min_isv_svn", "isv_svn"), ("min_config_svn", "config_svn")):
            actual = int(claims[claim])
            if name in chosen:
                v = rule_min(name, actual, getattr(self, name), reason=Reason.MEASUREMENT_MISMATCH)
                assert v is not None
                out.append(v)
        misc = int(claims["misc_select"]).to_bytes(4, "little")
        for name, actual_b in (("attributes", claims["attributes"]), ("misc_select", misc)):
            if f"{name}_mask" in chosen:
                m = masked_rule(
                    name, actual_b, getattr(self, f"{name}_mask"), getattr(self, f"{name}_value")
                )
                assert m is not None
                out.append(m)
        return out


@dataclass(frozen=True, slots=True)
class TdxPolicy:
    """Allowed TD measurements and attribute rules; an unset allow-list is not checked.

    Secure defaults: SEPT_VE_DISABLE must be set (``unsafe_allow_sept_ve_disabled`` lifts
    it) and MRSERVICETD (TD 1.5) must be all zero unless ``mr_service_td`` lists it.
    """

    mr_td: frozenset[bytes] | None = hexset(48)
    mr_config_id: frozenset[bytes] | None = hexset(48)
    mr_owner: frozenset[bytes] | None = hexset(48)
    mr_owner_config: frozenset[bytes] | None = hexset(48)
    rtmr0: frozenset[bytes] | None = hexset(48)
    rtmr1: frozenset[bytes] | None = hexset(48)
    rtmr2: frozenset[bytes] | None = hexset(48)
    rtmr3: frozenset[bytes] | None = hexset(48)
    mr_seam: frozenset[bytes] | None = hexset(48)
    mr_signer_seam: frozenset[bytes] | None = hexset(48)
    mr_service_td: frozenset[bytes] | None = hexset(48)
    td_attributes_mask: bytes | None = hexvalue(8)
    td_attributes_value: bytes | None = hexvalue(8)
    xfam_mask: bytes | None = hexvalue(8)
    xfam_value: bytes | None = hexvalue(8)
    unsafe_allow_sept_ve_disabled: bool = flag()

    def __post_init__(self) -> None:
        _pairs(self, ("td_attributes", "xfam"))

    @classmethod
    def from_dict(cls, where: str, data: dict[str, Any]) -> TdxPolicy:
        """Parse the ``tdx`` section."""
        return section_from_dict(cls, where, data)

    def to_dict(self) -> dict[str, Any]:
        """The file form."""
        if self == _DEFAULT_TDX:  # nothing differs from the default (asked on every verify)
            return {}
        return section_to_dict(self)

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """Verdicts for TD measurements, SEPT_VE_DISABLE and MRSERVICETD."""
        claims = a.claims
        chosen = _set_fields(self, _TDX_RULES)
        out = allowed_claims(self, claims, [n for n in _TDX_PINS if n in chosen])
        attrs = int.from_bytes(claims["td_attributes"], "little")
        if attrs & TD_ATTR_SEPT_VE_DISABLE:
            out.append(_SEPT_SET)
        elif self.unsafe_allow_sept_ve_disabled:
            out.append(_SEPT_ALLOWED)
        else:
            out.append(_SEPT_MISSING)
        for name in ("td_attributes", "xfam"):
            actual = claims[name]
            if f"{name}_mask" in chosen:
                m = masked_rule(
                    name, actual, getattr(self, f"{name}_mask"), getattr(self, f"{name}_value")
                )
                assert m is not None
                out.append(m)
        svc = claims.get("mr_service_td")
        if isinstance(svc, bytes):
            if self.mr_service_td is not None:
                out.extend(allowed_claims(self, claims, ("mr_service_td",)))
            elif any(svc):
                out.append(
                    RuleVerdict(
                        "mr_service_td",
                        False,
                        f"mr_service_td was {svc.hex()}, expected all zero "
                        "(list allowed service TDs in tdx.mr_service_td)",
                        reason=Reason.MEASUREMENT_MISMATCH,
                        expected=bytes(48),
                        actual=svc,
                    )
                )
            else:
                out.append(RuleVerdict("mr_service_td", True, actual=svc))
        return out


_DEFAULT_SGX = SgxPolicy()
_DEFAULT_TDX = TdxPolicy()
