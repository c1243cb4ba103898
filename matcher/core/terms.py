"""The vocabulary both sides share: what a patient record may state and a criterion may test.

Criteria (``matcher.criteria``) and patients (``matcher.patient``) never import each other; the
words they must agree on (sex, the named attributes) live here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

__all__ = ["ATTRIBUTES", "AttributeSpec", "Sex"]


class Sex(StrEnum):
    """Biological sex as recorded (FHIR ``Patient.gender``; values other than these are unknown)."""

    FEMALE = "female"
    MALE = "male"


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """A named patient attribute: either one of ``values`` or a boolean."""

    description: str
    values: tuple[str, ...] = ()

    @property
    def boolean(self) -> bool:
        return not self.values


#: The named attributes a patient may carry and criteria may test.
ATTRIBUTES: Final[Mapping[str, AttributeSpec]] = {
    "military_status": AttributeSpec(
        "military status",
        ("active_duty", "veteran", "retired", "reserve", "dependent", "civilian"),
    ),
    "fr_social_security": AttributeSpec("French social security affiliation"),
}
