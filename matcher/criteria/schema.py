"""The criteria file format, as pydantic models.

One YAML file describes one trial: registry metadata, then ordered ``inclusion`` and ``exclusion``
lists of criteria, then optional ``examples`` (patients with their expected verdicts, run by
``matcher test``). Every model forbids unknown keys. ``matcher schema`` prints the JSON Schema of
``TrialFile`` for editors.

A criterion has a ``rule`` (decided from structured data), a ``review`` note (decided by a person at
screening), or both: then the rule is evaluated, and when it is met the criterion becomes a review
item carrying the note (e.g. "thyroid disease on record: confirm it is treated and controlled").
``applies_to`` (a rule) limits a criterion to the patients it concerns: for a patient it rules
out (a man, for a contraception item), the criterion passes without further checks.

A rule is a mapping with exactly one key, the rule's name::

    age:        {min: 18, max: 70}                         # whole years at the as-of date
    sex:        [female, male]
    attribute:  {name: military_status, in: [active_duty, veteran, retired]}
    attribute:  {name: fr_social_security, is: true}
    condition:  {concept: chronic_neuropathic_pain, status: present, onset_at_least: 3 months}
    condition:  {concept: myocardial_infarction, onset_within: 12 months}
    condition:  {concept: alcohol_use_disorder, active_within: 6 months}
    medication: {concept: benzodiazepines, current: true}
    medication: {concept: ketamine, within: 1 year}
    medication: {ingredient: ketamine, ever: true}
    observation: {concept: pain_0_10, within: 30 days, min: 4, max: 7}
    observation: {concept: pain_0_10, within: 7 days, aggregate: mean, min_readings: 3, above: 3}
    pregnant:   {within: 30 days}
    lactating:  {within: 30 days}
    all: [rule, ...]     any: [rule, ...]     not: rule
    at_least:   {count: 2, of: [rule, ...]}

This module checks the *shape* of a file. Names that refer to other things (concept sets,
attributes, units) are resolved by ``matcher.criteria.compiler``, which has the concept library.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError

from matcher.core.dates import Duration
from matcher.core.outcome import Outcome, Verdict
from matcher.core.terms import Sex
from matcher.patient.model import Patient

__all__ = [
    "MAX_RULE_DEPTH",
    "RULE_NAMES",
    "AgeRule",
    "AllRule",
    "AnyRule",
    "AtLeastRule",
    "AtLeastSpec",
    "AttributeRule",
    "ConditionRule",
    "Criterion",
    "Example",
    "Expectation",
    "GeoPoint",
    "LactatingRule",
    "MedicationRule",
    "NotRule",
    "ObservationRule",
    "Phase",
    "PregnantRule",
    "RecruitmentStatus",
    "Rule",
    "SexRule",
    "Site",
    "TrialFile",
    "phases_text",
    "trial_json_schema",
]

#: Deepest nesting of all/any/not accepted in one criterion.
MAX_RULE_DEPTH: Final = 16

Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=80),
    Field(description="lower-case letters, digits and underscores, starting with a letter"),
]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
# Numbers must be written as numbers: strict mode refuses "6" and true (pydantic would read them
# as 6 and 1), as a FHIR reader must.
Number = Annotated[float, Field(allow_inf_nan=False, strict=True)]
Years = Annotated[int, Field(ge=0, le=150, strict=True)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class RecruitmentStatus(StrEnum):
    NOT_YET_RECRUITING = "not_yet_recruiting"
    RECRUITING = "recruiting"
    ENROLLING_BY_INVITATION = "enrolling_by_invitation"
    ACTIVE_NOT_RECRUITING = "active_not_recruiting"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    # Expanded access records and withheld records have statuses of their own in API v2.
    AVAILABLE = "available"
    NO_LONGER_AVAILABLE = "no_longer_available"
    TEMPORARILY_NOT_AVAILABLE = "temporarily_not_available"
    APPROVED_FOR_MARKETING = "approved_for_marketing"
    WITHHELD = "withheld"
    UNKNOWN = "unknown"


class Phase(StrEnum):
    """A phase as ClinicalTrials.gov API v2 writes it (``designModule.phases``); a combined
    phase 1/2 trial lists ``PHASE1`` and ``PHASE2``."""

    NA = "NA"
    EARLY_PHASE1 = "EARLY_PHASE1"
    PHASE1 = "PHASE1"
    PHASE2 = "PHASE2"
    PHASE3 = "PHASE3"
    PHASE4 = "PHASE4"


#: How a list of phases reads as one phase text ("1/2"), as the ``phase`` key writes it.
_PHASE_TEXT: Final = {
    Phase.NA: "N/A",
    Phase.EARLY_PHASE1: "early 1",
    Phase.PHASE1: "1",
    Phase.PHASE2: "2",
    Phase.PHASE3: "3",
    Phase.PHASE4: "4",
}


def phases_text(phases: tuple[Phase, ...]) -> str | None:
    """``(PHASE1, PHASE2)`` as ``"1/2"``; None for no phase."""
    return "/".join(_PHASE_TEXT[p] for p in phases) if phases else None


def _reversed(low: float | None, high: float | None, what: str) -> None:
    if low is not None and high is not None and low > high:
        raise PydanticCustomError(
            "reversed_range", f"{what}: the lower bound {low:g} is above the upper bound {high:g}"
        )


# --- leaf rules --------------------------------------------------------------------------------


class AgeSpec(_Model):
    """Age in whole years at the as-of date; both bounds inclusive, either may be left out."""

    min: Years | None = None
    max: Years | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min is None and self.max is None:
            raise PydanticCustomError("missing_bound", "give 'min', 'max' or both")
        _reversed(self.min, self.max, "age")
        return self


class AgeRule(_Model):
    age: AgeSpec


class SexRule(_Model):
    sex: Annotated[tuple[Sex, ...], Field(min_length=1)]


class AttributeSpec(_Model):
    """A named patient attribute: ``in`` a set of values, or ``is`` true/false."""

    model_config = ConfigDict(populate_by_name=True)
    name: Identifier
    in_: tuple[Identifier, ...] | None = Field(default=None, alias="in", min_length=1)
    is_: bool | None = Field(default=None, alias="is")

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.in_ is None) == (self.is_ is None):
            raise PydanticCustomError("missing_bound", "give exactly one of 'in' or 'is'")
        return self


class AttributeRule(_Model):
    attribute: AttributeSpec


class ConditionSpec(_Model):
    """A condition from a concept set.

    ``status: present`` (default) means active at the as-of date; ``ever`` means any record at or
    before it. ``onset_at_least`` requires the onset to be at least that long before the as-of date
    (chronic conditions); ``onset_within`` requires it to fall within that span (recent events).
    ``active_within`` replaces ``status``: active on at least one day of that span before the
    as-of date ("active alcohol use disorder in the last 6 months"); "resolved at least 6 months
    ago" is ``all`` of ``status: ever`` and ``not`` of it.
    """

    concept: Identifier
    status: Literal["present", "ever"] = "present"
    onset_at_least: Duration | None = None
    onset_within: Duration | None = None
    active_within: Duration | None = None

    @model_validator(mode="after")
    def _one_window(self) -> Self:
        if self.onset_at_least is not None and self.onset_within is not None:
            raise PydanticCustomError(
                "conflicting_keys", "give at most one of 'onset_at_least' or 'onset_within'"
            )
        if self.active_within is not None:
            given = sorted({"status", "onset_at_least", "onset_within"} & self.model_fields_set)
            if given:
                raise PydanticCustomError(
                    "conflicting_keys",
                    f"'active_within' cannot be combined with {', '.join(map(repr, given))}",
                )
        return self


class ConditionRule(_Model):
    condition: ConditionSpec


class MedicationSpec(_Model):
    """A medication from a concept set (or a single ingredient name).

    ``current: true`` means in use on the as-of date; ``within`` means any use during that span
    before the as-of date (the as-of date included); ``ever: true`` means any use on record up to
    the as-of date ("ketamine naive" is ``not`` of it).
    """

    concept: Identifier | None = None
    ingredient: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, to_lower=True, min_length=2, max_length=100),
        ]
        | None
    ) = None
    current: Literal[True] | None = None
    within: Duration | None = None
    ever: Literal[True] | None = None

    @model_validator(mode="after")
    def _choices(self) -> Self:
        if (self.concept is None) == (self.ingredient is None):
            raise PydanticCustomError(
                "conflicting_keys", "give exactly one of 'concept' or 'ingredient'"
            )
        if sum(x is not None for x in (self.current, self.within, self.ever)) != 1:
            raise PydanticCustomError(
                "conflicting_keys", "give exactly one of 'current', 'within' or 'ever'"
            )
        return self


class MedicationRule(_Model):
    medication: MedicationSpec


#: What an observation rule compares with its bounds (see ``ObservationSpec``).
Aggregate = Literal["latest", "mean", "minimum", "maximum", "spread", "count"]
#: The fewest readings an aggregate of values is computed from, unless ``min_readings`` says.
DEFAULT_MIN_READINGS: Final[dict[str, int]] = {"mean": 1, "minimum": 1, "maximum": 1, "spread": 2}


class ObservationSpec(_Model):
    """Observations within a span before the as-of date, against bounds.

    ``min``/``max`` are inclusive, ``above``/``below`` exclusive; values are compared as recorded
    (a pain score of 3.6 is not within 4-7), converted to ``unit`` (by default the concept set's)
    when the conversion is known. ``aggregate`` says what is compared: the ``latest`` reading
    (default), the ``mean``, ``minimum`` or ``maximum`` of the readings in the span, their
    ``spread`` (highest minus lowest: "varying by no more than 1"), or their ``count``. Values are
    computed from at least ``min_readings`` readings with a usable value (default 1; 2 for a
    spread); with fewer the rule is unknown.
    """

    concept: Identifier
    within: Duration
    aggregate: Aggregate = "latest"
    min_readings: Annotated[int, Field(ge=1, le=1000, strict=True)] | None = None
    min: Number | None = None
    max: Number | None = None
    above: Number | None = None
    below: Number | None = None
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Self:
        if self.min_readings is not None and self.aggregate not in DEFAULT_MIN_READINGS:
            raise PydanticCustomError(
                "conflicting_keys",
                f"'min_readings' is for aggregates of values "
                f"({', '.join(DEFAULT_MIN_READINGS)}), not for '{self.aggregate}'",
            )
        if self.min is not None and self.above is not None:
            raise PydanticCustomError("conflicting_keys", "give at most one of 'min' or 'above'")
        if self.max is not None and self.below is not None:
            raise PydanticCustomError("conflicting_keys", "give at most one of 'max' or 'below'")
        low = self.min if self.min is not None else self.above
        high = self.max if self.max is not None else self.below
        if low is None and high is None:
            raise PydanticCustomError(
                "missing_bound", "give at least one of min, max, above, below"
            )
        _reversed(low, high, "observation")
        if (
            low is not None
            and high is not None
            and low == high
            and (self.above is not None or self.below is not None)
        ):
            raise PydanticCustomError("reversed_range", "observation: the range is empty")
        return self


class ObservationRule(_Model):
    observation: ObservationSpec


class StatusSpec(_Model):
    """Pregnancy or lactation recorded within a span before the as-of date.

    Without a status in that span the rule is unknown for a female patient of childbearing age
    (``childbearing_age``, default 12-55 years) and not met for anyone else.
    """

    within: Duration
    childbearing_age: AgeSpec = AgeSpec(min=12, max=55)


class PregnantRule(_Model):
    pregnant: StatusSpec


class LactatingRule(_Model):
    lactating: StatusSpec


# --- composition -------------------------------------------------------------------------------


class AllRule(_Model):
    all: Annotated[tuple[Rule, ...], Field(min_length=1)]


class AnyRule(_Model):
    any: Annotated[tuple[Rule, ...], Field(min_length=1)]


class NotRule(_Model):
    not_: Annotated[Rule, Field(alias="not")]
    model_config = ConfigDict(populate_by_name=True)


class AtLeastSpec(_Model):
    """``count`` or more of the rules ``of`` hold ("two of these"), in three-valued logic: met
    when ``count`` are met, not met when fewer than ``count`` can still be met, else unknown."""

    model_config = ConfigDict(populate_by_name=True)
    count: Annotated[int, Field(ge=1, le=1000, strict=True)]
    of: Annotated[tuple[Rule, ...], Field(min_length=2)]

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if self.count > len(self.of):
            raise PydanticCustomError(
                "reversed_range",
                f"at_least: a count of {self.count} can never be reached by {len(self.of)} rules",
            )
        return self


class AtLeastRule(_Model):
    at_least: AtLeastSpec


_RULE_MODELS: Final[dict[str, type[_Model]]] = {
    "age": AgeRule,
    "sex": SexRule,
    "attribute": AttributeRule,
    "condition": ConditionRule,
    "medication": MedicationRule,
    "observation": ObservationRule,
    "pregnant": PregnantRule,
    "lactating": LactatingRule,
    "all": AllRule,
    "any": AnyRule,
    "not": NotRule,
    "at_least": AtLeastRule,
}
#: Every rule name, in the order the README documents them.
RULE_NAMES: Final = tuple(_RULE_MODELS)


def _rule_tag(value: Any) -> str | None:
    if isinstance(value, dict):
        return next(iter(value)) if len(value) == 1 else None
    for name, model in _RULE_MODELS.items():
        if type(value) is model:
            return name
    return None


Rule = Annotated[
    Annotated[AgeRule, Tag("age")]
    | Annotated[SexRule, Tag("sex")]
    | Annotated[AttributeRule, Tag("attribute")]
    | Annotated[ConditionRule, Tag("condition")]
    | Annotated[MedicationRule, Tag("medication")]
    | Annotated[ObservationRule, Tag("observation")]
    | Annotated[PregnantRule, Tag("pregnant")]
    | Annotated[LactatingRule, Tag("lactating")]
    | Annotated[AllRule, Tag("all")]
    | Annotated[AnyRule, Tag("any")]
    | Annotated[NotRule, Tag("not")]
    | Annotated[AtLeastRule, Tag("at_least")],
    Discriminator(
        _rule_tag,
        custom_error_type="unknown_rule",
        custom_error_message="a rule is a mapping with exactly one known rule name as its key",
    ),
]

for _model in (AllRule, AnyRule, NotRule, AtLeastSpec, AtLeastRule):
    _model.model_rebuild()


def rule_depth(rule: Rule) -> int:
    """Nesting depth of all/any/not/at_least (a leaf rule has depth 1), computed without
    recursion."""
    deepest, stack = 0, [(rule, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, AllRule):
            stack.extend((child, depth + 1) for child in node.all)
        elif isinstance(node, AnyRule):
            stack.extend((child, depth + 1) for child in node.any)
        elif isinstance(node, NotRule):
            stack.append((node.not_, depth + 1))
        elif isinstance(node, AtLeastRule):
            stack.extend((child, depth + 1) for child in node.at_least.of)
    return deepest


# --- criteria and trials -----------------------------------------------------------------------


class Criterion(_Model):
    """One inclusion or exclusion criterion."""

    id: Identifier
    description: Text = Field(
        description="the criterion in plain words (your own, not the registry's)"
    )
    source: Text = Field(description="the registry item it encodes, e.g. 'NCT06414356 inclusion 1'")
    applies_to: Rule | None = Field(
        default=None,
        description="who the criterion concerns (e.g. women of childbearing age); it passes for "
        "anyone this rule rules out",
    )
    rule: Rule | None = None
    review: Text | None = Field(
        default=None,
        description="why a person decides it; with a rule: what to confirm when the rule is met",
    )
    pending: bool = Field(
        default=False,
        description="the registry text is not (fully) encoded yet: the criterion keeps the trial "
        "from 'eligible'; a rule, if any, is a proposal that may only decide against the patient",
    )

    @model_validator(mode="after")
    def _decidable(self) -> Self:
        if self.rule is None and self.review is None:
            raise PydanticCustomError(
                "missing_rule", "a criterion needs a 'rule', a 'review' note, or both"
            )
        if self.pending and self.review is None:
            raise PydanticCustomError(
                "missing_rule",
                "a 'pending' criterion needs a 'review' note: the text still to be encoded",
            )
        too_deep = any(
            r is not None and rule_depth(r) > MAX_RULE_DEPTH for r in (self.rule, self.applies_to)
        )
        if too_deep:
            raise PydanticCustomError(
                "too_deep", f"rules are nested more than {MAX_RULE_DEPTH} levels deep"
            )
        return self


class Expectation(_Model):
    """What an example patient must come to: the verdict and, optionally, some outcomes."""

    verdict: Verdict
    criteria: dict[Identifier, Outcome] = Field(default_factory=dict)
    eligible_from: date | None = None


class Example(_Model):
    """An example patient with its expected result, checked by ``matcher test``."""

    name: Text
    as_of: date
    patient: Patient
    expect: Expectation


_REGISTRY_ID: Final = re.compile(r"^NCT\d{8}$")
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


class GeoPoint(_Model):
    """A site's position in decimal degrees (WGS 84), as the registry gives it."""

    lat: Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, strict=True)]
    lon: Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, strict=True)]


class Site(_Model):
    """A trial site (a registry location). ``status`` is the site's own recruitment status when
    the registry gives one; ``geo`` its position, which ``matcher check --near`` measures."""

    facility: Short | None = None
    status: RecruitmentStatus | None = None
    city: Short | None = None
    state: Short | None = None
    zip: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20)] | None = None
    country: Short | None = None
    geo: GeoPoint | None = None


class TrialFile(_Model):
    """One trial: registry metadata and its criteria."""

    #: The rule names an "unknown rule" error suggests from (read by matcher.core.validation).
    rule_names: ClassVar[tuple[str, ...]] = RULE_NAMES
    id: Annotated[str, StringConstraints(pattern=_REGISTRY_ID.pattern)] = Field(
        description="ClinicalTrials.gov registry id, e.g. NCT06414356"
    )
    title: Text
    phase: Annotated[str, StringConstraints(max_length=40)] | None = None
    phases: tuple[Phase, ...] = Field(
        default=(),
        description="the registry's phases (PHASE1, PHASE2, ...), instead of 'phase'",
    )
    status: RecruitmentStatus
    sponsor: Text
    conditions: tuple[Text, ...] = ()
    keywords: tuple[Text, ...] = ()
    registry_url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")]
    last_reviewed: date = Field(
        description="when the criteria were last checked against the registry"
    )
    last_updated: date | None = Field(
        default=None, description="the registry record's last update (as imported)"
    )
    sites: tuple[Site, ...] = ()
    notes: Text | None = None
    not_recovered: tuple[Text, ...] = Field(
        default=(), description="registry items whose text could not be recovered (not invented)"
    )
    inclusion: tuple[Criterion, ...] = ()
    exclusion: tuple[Criterion, ...] = ()
    examples: tuple[Example, ...] = ()

    @model_validator(mode="after")
    def _has_criteria(self) -> Self:
        if self.phase is not None and self.phases:
            raise PydanticCustomError("conflicting_keys", "give at most one of 'phase' or 'phases'")
        if len(set(self.phases)) != len(self.phases):
            raise PydanticCustomError("invalid_value", "'phases' lists a phase twice")
        if not self.inclusion and not self.exclusion:
            raise PydanticCustomError("missing_rule", "a trial needs at least one criterion")
        return self


def trial_json_schema() -> dict[str, Any]:
    """The JSON Schema of trial files, as ``matcher schema`` prints it."""
    schema = TrialFile.model_json_schema(by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/matcher/trial-matcher/criteria/trial.schema.json",
        **schema,
        "title": "matcher trial criteria file",
    }
