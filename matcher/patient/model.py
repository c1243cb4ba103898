"""The patient profile: what the engine knows about one person.

A ``Patient`` is built from a YAML/JSON patient file (``load_patient``), from a FHIR R4 Bundle
(``matcher.patient.fhir``), or in code. It is a frozen pydantic model: invalid data is refused when
the profile is built, with an error naming the field, never later during evaluation.

What absence means (see the README, "Unknown is not false"):

* ``conditions`` and ``medications`` are *coded history*: a condition that is not listed is taken
  as absent ("no epilepsy on record"), unless the section is named in ``unreviewed``.
* every other fact -- birth date, sex, attributes, observations, pregnancy and lactation status --
  is *unknown* when absent.

This module also holds the catalogue of named attributes (``ATTRIBUTES``) and the plausible value
ranges of the observations the engine knows (``OBSERVATION_RANGES``); criteria are checked
against the first when they are compiled, patients against both when they are built.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Final, Literal, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from matcher.core.codes import canonical_code, canonical_system
from matcher.core.dates import PartialDate
from matcher.core.errors import PatientError, field_like, suggest
from matcher.core.terms import ATTRIBUTES, Sex

__all__ = [
    "OBSERVATION_RANGES",
    "ClinicalStatus",
    "Coding",
    "Condition",
    "LactationStatus",
    "Medication",
    "MedicationStatus",
    "Observation",
    "Patient",
    "PregnancyStatus",
    "Section",
    "SkipReason",
    "Skipped",
    "VerificationStatus",
]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, str_max_length=2000)

    def __init__(self, **data: Any) -> None:
        """Build from fields in code; invalid fields raise ``PatientError`` naming each one."""
        try:
            super().__init__(**data)
        except ValidationError as exc:
            from matcher.core.source import Document  # the model is imported before these modules
            from matcher.core.validation import diagnostics_from_validation

            where = Document(f"<{type(self).__name__}>", data, private=True)
            raise PatientError(diagnostics_from_validation(exc, where, type(self))) from None

    # pydantic calls a model's own ``__init__`` from validation too (``model_validate``, nested
    # records), unless the method bears the mark of ``BaseModel.__init__``. This one only turns
    # the error of a direct call into a ``PatientError``: the readers locate their own errors.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


def _word(value: Any) -> Any:
    """A coded value as people write it, in the form of the value set: ``Female`` is ``female``,
    ``on-hold`` and ``On hold`` are ``on_hold``."""
    if isinstance(value, str):
        return "_".join(value.strip().lower().replace("-", " ").split())
    return value


#: Enumerated values are read case-insensitively, with hyphens or spaces for underscores.
Word = BeforeValidator(_word)


#: Plausible ranges of known observations: (system, code) -> (low, high, unit).
OBSERVATION_RANGES: Final[Mapping[tuple[str, str], tuple[float, float, str]]] = {
    ("loinc", "72514-3"): (0.0, 10.0, "{score}"),  # pain severity 0-10 verbal numeric rating
    ("loinc", "8480-6"): (0.0, 400.0, "mm[Hg]"),  # systolic blood pressure
    ("loinc", "8462-4"): (0.0, 300.0, "mm[Hg]"),  # diastolic blood pressure
}
#: What each ranged observation is, for messages (which never repeat a record's code).
_RANGE_NAMES: Final = {
    ("loinc", "72514-3"): "a 0-10 pain score",
    ("loinc", "8480-6"): "a systolic blood pressure",
    ("loinc", "8462-4"): "a diastolic blood pressure",
}


class Coding(_Model):
    """One code of one code system (``system`` normalised: ``http://loinc.org`` -> ``loinc``)."""

    system: Text
    code: Text

    @field_validator("system")
    @classmethod
    def _system(cls, value: str) -> str:
        return canonical_system(value)

    @model_validator(mode="after")
    def _code(self) -> Self:
        object.__setattr__(self, "code", canonical_code(self.system, self.code))
        return self


class _Coded(_Model):
    """A record identified by a code (``system`` + ``code``), more codes, and/or a display name."""

    id: Text | None = Field(default=None, description="identifier of the source record, if any")
    source: Text | None = Field(
        default=None,
        description="where a reader found the record: the FHIR reference Type/id, or the FHIR "
        "path of a resource without an id",
    )
    system: Text | None = None
    code: Text | None = None
    display: Text | None = None
    codes: tuple[Coding, ...] = Field(default=(), description="further codes for the same record")

    @field_validator("system")
    @classmethod
    def _system(cls, value: str | None) -> str | None:
        return None if value is None else canonical_system(value)

    @model_validator(mode="after")
    def _identified(self) -> Self:
        if self.system is not None and self.code is not None:
            object.__setattr__(self, "code", canonical_code(self.system, self.code))
        if (self.system is None) != (self.code is None):
            raise PydanticCustomError("missing_code", "'system' and 'code' go together")
        if self.code is None and not self.codes and self.display is None:
            raise PydanticCustomError(
                "missing_code", "a record needs 'system' and 'code', 'codes', or a 'display' name"
            )
        return self

    @property
    def codings(self) -> tuple[Coding, ...]:
        """Every code of the record, the main one first."""
        if self.system is not None and self.code is not None:
            return (Coding(system=self.system, code=self.code), *self.codes)
        return self.codes

    def code_pairs(self) -> tuple[tuple[str, str], ...]:
        """Every code as a (system, code) pair, the main one first (cheaper than ``codings``)."""
        extra = tuple((c.system, c.code) for c in self.codes)
        if self.system is not None and self.code is not None:
            return ((self.system, self.code), *extra)
        return extra


class ClinicalStatus(StrEnum):
    ACTIVE = "active"
    RECURRENCE = "recurrence"
    RELAPSE = "relapse"
    INACTIVE = "inactive"
    REMISSION = "remission"
    RESOLVED = "resolved"


class VerificationStatus(StrEnum):
    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"
    PROVISIONAL = "provisional"
    DIFFERENTIAL = "differential"
    REFUTED = "refuted"
    ENTERED_IN_ERROR = "entered_in_error"


#: Diagnoses that do not count at all: ruled out, or recorded by mistake.
VOID_VERIFICATION: Final = frozenset(
    {VerificationStatus.REFUTED, VerificationStatus.ENTERED_IN_ERROR}
)


class Condition(_Coded):
    """A diagnosis or problem. No ``clinical_status`` and no ``abatement`` means active."""

    onset: PartialDate | None = None
    abatement: PartialDate | None = None
    clinical_status: Annotated[ClinicalStatus | None, Word] = None
    verification_status: Annotated[VerificationStatus | None, Word] = None
    uncertain: bool = Field(
        default=False,
        description="the source does not say clearly that the patient has it (a status in "
        "words nobody can read, a diagnosis on a claim): it may make a criterion unknown, "
        "never met",
    )

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.onset and self.abatement and self.abatement.last < self.onset.first:
            raise PydanticCustomError("date_order", "'abatement' is before 'onset'")
        return self


class MedicationStatus(StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    STOPPED = "stopped"
    INTENDED = "intended"
    NOT_TAKEN = "not_taken"
    CANCELLED = "cancelled"
    ENTERED_IN_ERROR = "entered_in_error"
    UNKNOWN = "unknown"


class Medication(_Coded):
    """A medication order or statement; no ``end`` means ongoing unless its status says it ended."""

    start: PartialDate | None = None
    end: PartialDate | None = None
    status: Annotated[MedicationStatus | None, Word] = None

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.start and self.end and self.end.last < self.start.first:
            raise PydanticCustomError("date_order", "'end' is before 'start'")
        return self


class Observation(_Coded):
    """A measurement: a number with a unit at a date (pain score, blood pressure, ...)."""

    value: Annotated[float, Field(strict=True)] | None = None  # "6" and true are not numbers
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None
    date: PartialDate | None = None

    @model_validator(mode="after")
    def _plausible(self) -> Self:
        if self.value is None:
            return self
        for system, code in self.code_pairs():
            bounds = OBSERVATION_RANGES.get((system, code))
            if bounds and not bounds[0] <= self.value <= bounds[1]:
                raise PydanticCustomError(
                    "out_of_range",
                    f"'value' is outside the possible range {bounds[0]:g}-{bounds[1]:g} "
                    f"of {_RANGE_NAMES.get((system, code), 'this observation')}",
                )
        return self


class PregnancyStatus(_Model):
    """Whether the patient was pregnant at a date (e.g. a pregnancy test or a recorded status)."""

    pregnant: bool
    date: PartialDate | None = None


class LactationStatus(_Model):
    """Whether the patient was breastfeeding at a date."""

    lactating: bool
    date: PartialDate | None = None


AttributeValue = str | bool

#: The parts of a patient a skipped record may leave incomplete.
Section = Literal["conditions", "medications", "observations", "demographics"]


class SkipReason(StrEnum):
    """Why a reader left a record out (see ``Skipped``)."""

    #: A resource type the reader does not map, that carries the same kind of fact.
    UNMAPPED_TYPE = "unmapped_type"
    #: No code and no name the engine could match: nobody can tell what it is.
    UNIDENTIFIED = "unidentified"
    #: The record names another patient than the one of the file.
    OTHER_SUBJECT = "other_subject"
    #: A status outside the value set the reader knows.
    UNREADABLE_STATUS = "unreadable_status"
    #: A result not available yet, or not final enough to decide on (Observation status).
    NOT_FINAL = "not_final"
    #: An observation without an exact numeric value (text, a coded answer, ``<5``).
    NO_VALUE = "no_value"
    #: A reference to a record the input does not hold (a claim's diagnosis elsewhere).
    NOT_IN_INPUT = "not_in_input"
    #: Two records of the patient contradict each other (sex, pregnancy): the fact is unknown.
    CONTRADICTION = "contradiction"


_SKIP_WORDS: Final = {
    SkipReason.UNMAPPED_TYPE: "a resource type matcher does not read",
    SkipReason.UNIDENTIFIED: "no readable code or name",
    SkipReason.OTHER_SUBJECT: "about another patient",
    SkipReason.UNREADABLE_STATUS: "a status matcher cannot read",
    SkipReason.NOT_FINAL: "no final result yet",
    SkipReason.NO_VALUE: "no exact numeric value",
    SkipReason.NOT_IN_INPUT: "refers to a record the input does not hold",
    SkipReason.CONTRADICTION: "contradicts another record",
}


class Skipped(_Model):
    """A record the reader did not use, and why: it leaves its ``section`` incomplete.

    ``codes`` and ``display`` (when the record had any) only say which concept sets it could
    affect; they are never printed. ``path`` locates the record in the input
    (``entry[3].resource`` in a FHIR Bundle).
    """

    section: Annotated[Section, Word]
    path: Text
    reason: Annotated[SkipReason, Word]
    resource: Text | None = Field(default=None, description="the FHIR resource type, if any")
    codes: tuple[Coding, ...] = ()
    display: Text | None = None

    def note(self) -> str:
        """``entry[3].resource (Condition): no readable code or name``; never a value."""
        kind = f" ({self.resource})" if self.resource else ""
        return f"{self.path}{kind}: {_SKIP_WORDS[self.reason]}"


class Patient(_Model):
    """One patient profile. Only ``id`` is required: everything else may be missing."""

    id: Text
    birth_date: PartialDate | None = None
    sex: Annotated[Sex | None, Word] = None
    deceased: bool = False
    deceased_date: PartialDate | None = None
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)
    conditions: tuple[Condition, ...] = ()
    medications: tuple[Medication, ...] = ()
    observations: tuple[Observation, ...] = ()
    pregnancy: PregnancyStatus | None = None
    lactation: LactationStatus | None = None
    unreviewed: tuple[Annotated[Literal["conditions", "medications"], Word], ...] = Field(
        default=(),
        description="coded sections that may be incomplete: absence there means unknown",
    )
    skipped: tuple[Skipped, ...] = Field(
        default=(),
        description="records the reader left out: their section is incomplete where they matter",
    )
    #: Where the profile came from: its file, and the path, line and column of located fields.
    _origin: tuple[str, Mapping[str, tuple[str, int, int]]] | None = PrivateAttr(default=None)

    def __eq__(self, other: object) -> bool:
        """Patients are equal when their data are, wherever each was read from."""
        if not isinstance(other, Patient):
            return NotImplemented
        return type(self) is type(other) and self.__dict__ == other.__dict__

    #: ``attributes`` is a dict, so a patient was never hashable; now it says so.
    __hash__ = None  # type: ignore[assignment]

    def with_origin(self, file: str, places: Mapping[str, tuple[str, int, int]]) -> Self:
        """Record where the profile was read (``places``: field -> (path, line, column)), so that
        a problem found only when it is checked (a birth date after the as-of date) points at the
        text. Called once by the readers, before the patient is handed out."""
        self._origin = (file, dict(places))
        return self

    def origin_of(self, name: str) -> tuple[str, str, int, int]:
        """(file, path, line, column) of a field; a patient built in code is ``<patient>``."""
        if self._origin is None:
            return "<patient>", name, 0, 0
        file, places = self._origin
        path, line, column = places.get(name, (name, 0, 0))
        return file, path or name, line, column

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, value: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
        value = {name: _word(item) for name, item in value.items()}
        for name, item in value.items():
            spec = ATTRIBUTES.get(name)
            if spec is None:
                shown = f" {name!r}" if field_like(name) else ""
                raise PydanticCustomError(
                    "unknown_attribute",
                    f"unknown attribute{shown}{suggest(name, tuple(ATTRIBUTES))} "
                    f"(known: {', '.join(ATTRIBUTES)})",
                )
            if spec.boolean != isinstance(item, bool) or (
                not spec.boolean and item not in spec.values
            ):
                expected = "true or false" if spec.boolean else "one of " + ", ".join(spec.values)
                raise PydanticCustomError(
                    "invalid_attribute", f"attribute {name!r} takes {expected}"
                )
        return value

    @model_validator(mode="before")
    @classmethod
    def _deceased_date_implies_deceased(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("deceased_date") and "deceased" not in data:
            return {**data, "deceased": True}
        return data

    @model_validator(mode="before")
    @classmethod
    def _pregnancy_contradicts_male_sex(cls, data: Any) -> Any:
        """A positive pregnancy status for a patient recorded as male: one of the two facts is
        wrong, and the sex is the one in doubt (as FHIR input, see ``matcher.patient.fhir``). The
        patient is not refused: the sex becomes unknown and a ``contradiction`` is skipped in
        ``demographics``, which the result reports as a data-quality note."""
        if not isinstance(data, dict) or _word(data.get("sex")) != Sex.MALE:
            return data
        skipped = data.get("skipped", ())
        if not isinstance(skipped, list | tuple) or not _positive(data.get("pregnancy")):
            return data  # a ``skipped`` that is no list is refused by its own validation
        kept = {key: value for key, value in data.items() if key != "sex"}
        return kept | {"skipped": (*skipped, _SEX_CONTRADICTED)}

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.deceased_date and not self.deceased:
            raise PydanticCustomError(
                "date_order", "'deceased_date' is set but 'deceased' is false"
            )
        if (
            self.birth_date
            and self.deceased_date
            and self.deceased_date.last < self.birth_date.first
        ):
            raise PydanticCustomError("date_order", "'deceased_date' is before 'birth_date'")
        return self


#: What a profile's male sex beside a positive pregnancy status leaves: the sex, skipped.
_SEX_CONTRADICTED: Final = Skipped(
    section="demographics", path="sex", reason=SkipReason.CONTRADICTION
)


def _positive(pregnancy: Any) -> bool:
    """Whether a profile's ``pregnancy`` value, as given, reads as a positive status; a value
    that does not read at all is left to the field's own validation, which names it."""
    if isinstance(pregnancy, PregnancyStatus):
        return pregnancy.pregnant
    try:
        return PregnancyStatus.model_validate(pregnancy).pregnant
    except ValidationError:
        return False
