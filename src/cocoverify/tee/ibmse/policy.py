"""Policy section for IBM Secure Execution (``se:``; docs/ibmse.md "Policy").

The keys trustee's README policy compares (``se.image_phkh``, ``se.attestation_phkh``,
``se.tag``) plus the configuration UID; every allow-list is unchecked while unset.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cocoverify._core.rules import allowed_claims, hexset, section_from_dict, section_to_dict
from cocoverify.result import Appraisal, RuleVerdict

__all__ = ["SePolicy"]

_FIELDS = ("image_phkh", "attestation_phkh", "tag", "cuid")


@dataclass(frozen=True, slots=True)
class SePolicy:
    """Allowed values: ``image_phkh`` / ``attestation_phkh`` (SHA-256 of a host key, 32
    bytes), ``tag`` (the SE header's tag, 16: pins the image), ``cuid`` (16)."""

    image_phkh: frozenset[bytes] | None = hexset(32)
    attestation_phkh: frozenset[bytes] | None = hexset(32)
    tag: frozenset[bytes] | None = hexset(16)
    cuid: frozenset[bytes] | None = hexset(16)

    @classmethod
    def from_dict(cls, where: str, data: Mapping[str, Any]) -> SePolicy:
        """Parse the file form; unknown keys and bad values are ConfigurationError."""
        return section_from_dict(cls, where, data)

    def to_dict(self) -> dict[str, Any]:
        """The file form: only what is set."""
        return section_to_dict(self)

    def rules(self, a: Appraisal) -> list[RuleVerdict]:
        """One allow-list verdict per set field (``measurement_mismatch`` on failure)."""
        return allowed_claims(self, a.claims, _FIELDS)
