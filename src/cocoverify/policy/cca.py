"""Policy section for cca (placeholder until its issue lands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..result import Appraisal, RuleVerdict
from ._rules import section_from_dict, section_to_dict

if TYPE_CHECKING:
    from . import Policy

__all__ = ["CcaPolicy"]


@dataclass(frozen=True, slots=True)
class CcaPolicy:
    """Rules for cca evidence."""

    @classmethod
    def from_dict(cls, where: str, data: dict[str, Any]) -> CcaPolicy:
        """Parse the ``cca`` section."""
        return section_from_dict(cls, where, data)

    def to_dict(self) -> dict[str, Any]:
        """The file form."""
        return section_to_dict(self)

    def rules(self, a: Appraisal, policy: Policy) -> list[RuleVerdict]:
        """Verdicts for this section."""
        return []
