"""FHIR R4 input: a Bundle (or a bare Patient resource) becomes one
``matcher.patient.model.Patient``.

The input is parsed JSON. It is read with plain ``dict`` access and explicit type checks, not with
a FHIR model library: those take seconds to import and ``matcher check`` must start at once. Any
Bundle type works (``collection``, ``transaction``, ``searchset``, ``document``...): every
``entry[].resource`` is read. The Bundle must hold exactly one Patient. Every record that carries
a fact matcher reads is either mapped or *skipped*: listed in ``Patient.skipped`` with its section,
FHIR path, reason and codes (see ``matcher.evaluation.coverage``; a skipped record makes "no X on
record" unknown for the concept sets it could belong to). Records are skipped when they name another
patient (``subject``/``patient`` referring to another Patient, a Group, or nothing in the Bundle),
have no code or name, carry a status outside its value set, are Observations without a final result
or an exact number, or are of a type listed in ``_UNMAPPED``. The coded diagnoses of Encounters,
Claims and ExplanationOfBenefits are uncertain conditions (``_Reader.diagnoses``). Other resource
types (Procedure, AllergyIntolerance, ...) carry no fact matcher reads.

Versions. STU3 is read where it agrees with R4 (bare status codes, ``MedicationStatement.taken``),
and so is R5 (the ``medication`` CodeableReference, ``occurence[x]``, status ``recorded``).
DSTU2 (``MedicationOrder``, ``Condition.patient``, ``MedicationStatement.wasNotTaken``, a declared
``fhirVersion`` before 3.0) raises ``PatientError`` with code ``unsupported-fhir-version``.

Errors. Input that is not a FHIR Bundle or Patient, or a Bundle without exactly one Patient,
raises ``PatientError`` with code ``not-fhir``. An unusable value inside a resource we read (a
``birthDate`` that is not a date, a status outside its value set, a pain score of 14) raises
``PatientError`` with code ``invalid-patient`` and the FHIR path of the value
(``entry[3].resource.birthDate``). Problems are collected over the whole input and raised
together; a record with an unusable status is not read further. Messages name fields and
positions, never patient values.

What is read, and how
=====================

==========================  ==================================================================
FHIR                        ``Patient`` field
==========================  ==================================================================
Patient.id                  ``id`` (else the entry's ``fullUrl``, else ``"unknown"``)
Patient.birthDate           ``birth_date``; ``YYYY`` and ``YYYY-MM`` are kept as partial dates
Patient.gender              ``sex``: ``male``/``female``; ``other``/``unknown`` -> unknown (*)
Patient.identifier          ``attributes["fr_social_security"]``: a French INS (``_INS_SYSTEMS``)
Patient.deceased[x]         ``deceased`` (Boolean) / ``deceased`` + ``deceased_date`` (DateTime)
Patient.extension           ``attributes["military_status"]``: see "Military status" below
Condition                   ``conditions``: see "Conditions"
MedicationRequest           ``medications``: see "Medications"
MedicationStatement         ``medications``
MedicationDispense          ``medications``: ``whenHandedOver`` to the end of ``daysSupply``
MedicationAdministration    ``medications``: ``effective[x]`` (a dateTime is start and end)
Observation                 ``observations``, ``pregnancy``, ``lactation``: see "Observations"
==========================  ==================================================================

(*) FHIR ``gender`` is *administrative* gender. The US Core sex extensions (``_SEX_EXTENSIONS``)
are read as biological sex where present; without them ``gender`` is, for lack of better data.
When they disagree with each other or with ``gender``, or a positive pregnancy status meets a
male sex, the sex is unknown and the contradiction is skipped (section ``demographics``).

Record references. Every condition, medication and observation keeps ``source``, the
``Type/id`` of the resource it was read from (its FHIR path when the resource has no id; an
Encounter's or Claim's diagnosis cites the Encounter or Claim): results name it as the record that
decided a criterion.

Codes. Every coding of a CodeableConcept that has both ``system`` and ``code`` is kept, the first
as the record's ``system``/``code``, the rest as ``codes`` (duplicates after normalisation, such
as ICD-10-CM ``G90.511`` and ``G90511``, are kept once). The model normalises the systems
(``http://snomed.info/sct`` -> ``snomed``). ``display`` is ``CodeableConcept.text``, else the
display of the first coding. Dates keep the calendar date as written (``2013-04-21T22:26:37+05:00``
is 2013-04-21).

Conditions.
``onset[x]``: ``onsetDateTime``, else ``onsetPeriod.start``, else ``onsetString`` when it is a
date (other strings and ``onsetAge``/``onsetRange`` are ignored).
``abatement[x]``: ``abatementDateTime``, else ``abatementPeriod.end`` (the day by which it had
surely abated), else ``abatementPeriod.start``, else ``abatementString`` when it is a date.
``clinicalStatus`` and ``verificationStatus`` take the codes of their R4 code systems (a bare
code string, as STU3 wrote them, is accepted too); without such a code, other codings' displays
and the text are read as words when all of them read the same value, and otherwise the condition
is ``uncertain`` (it can make a criterion unknown, never met). ``refuted`` and
``entered-in-error`` conditions are dropped. A Condition with neither a code nor a text is
skipped.

Medications.
The drug is ``medicationCodeableConcept``, or the Medication that ``medicationReference`` names:
``#id`` (a contained resource), a ``fullUrl`` in the Bundle, or ``Medication/<id>``. The
Medication's ``code`` gives the codes and name; codes of its ``ingredient[].itemCodeableConcept``
are added after them. An unresolved reference keeps its ``display`` as the name; a drug that
cannot be identified at all is skipped.

=================  ============  ========================================================
FHIR status        ``status``    what ``matcher.evaluation.facts`` makes of it
=================  ============  ========================================================
active             active        in use from ``start``, ongoing unless an ``end`` is known
on-hold            on_hold       may have ended any time after ``start``
completed          completed     ended between ``start`` and the day before the as-of date
stopped            stopped       likewise: a Synthea "stopped" order is *not* current use
cancelled          cancelled     never use
draft / intended   intended      never use (not started)
not-taken          not_taken     never use
unknown / missing  unknown       may have ended any time after ``start``
entered-in-error   --            the record is dropped
=================  ============  ========================================================

A MedicationRequest with ``doNotPerform: true`` is ``not_taken``; one whose ``intent`` is
``proposal`` or ``option`` is ``intended`` (suggested, never ordered). ``intent: plan`` keeps its
status: US Core records self-reported medications as plans.

MedicationRequest dates: ``start`` is the earliest
``dosageInstruction[].timing.repeat.boundsPeriod.start`` (when the drug is to be taken), else
``authoredOn``, else ``dispenseRequest.validityPeriod.start``. ``end`` is the latest
``boundsPeriod.end`` when every dosage instruction has one; an open-ended instruction keeps the
order open. ``dispenseRequest.validityPeriod.end`` is *not* an end of use: it only bounds when
the prescription may be filled, and what was dispensed on its last day is taken afterwards.
MedicationStatement dates: ``effectiveDateTime`` is the start; ``effectivePeriod`` gives start
and end.

Observations.
Every Observation with a number -- ``valueQuantity.value`` (unit: the UCUM ``code``, else
``unit``) or ``valueInteger`` -- becomes an observation with all its codings, and so does every
``component`` with a number, under the component's own codes (the blood-pressure panel 85354-9
gives systolic 8480-6 and diastolic 8462-4 observations). Values are kept as recorded: the 0-10
pain score LOINC 72514-3 may be 2.13. A quantity with a ``comparator`` (``<5``) has no exact value
and is skipped, as is a value that is not a number. ``date`` is ``effectiveDateTime`` (or
``effectiveInstant``), else ``effectivePeriod.start``, else ``issued``. Statuses: see
``_OBSERVATION_STATUS`` (``registered``, ``preliminary`` and ``unknown`` are skipped as not final;
``cancelled`` and ``entered-in-error`` are no result).

Pregnancy status is LOINC 82810-3 "Pregnancy status" with ``valueCodeableConcept``: SNOMED CT
77386006 or LOINC answer LA15173-0 is pregnant, SNOMED CT 60001007 or LA26683-5 not pregnant;
"unknown" answers (LA4489-6, SNOMED 261665006) and other values are ignored. Lactation is LOINC
63895-7 "Breastfeeding status" with LOINC answers LA29252-6 "Currently breastfeeding" /
LA29253-4 "Not currently breastfeeding" (LA4489-6 unknown is ignored), or ``valueBoolean``. The
latest dated observation decides (an undated one only when no other exists); two different
answers on the same date count as pregnant (lactating), the cautious reading for exclusions.
Pregnancy *conditions* (such as SNOMED 72892002 "Normal pregnancy") stay conditions: they do not
set ``pregnancy``.

Military status.
FHIR has no core element for it. Three Patient extensions are read, the first found wins:

1. ``https://matcher.example/fhir/StructureDefinition/military-status`` (defined here, because
   no published code covers retirees and dependants): ``valueCode`` is one of
   ``matcher.patient.model.ATTRIBUTES["military_status"].values``.
2. QI-Core's ``http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-military-service``
   (also its DSTU2 URL ``http://hl7.org/fhir/StructureDefinition/qicore-patient-militaryService``)
   with ``valueCodeableConcept`` from ``http://hl7.org/fhir/us/qicore/CodeSystem/military-service``:
   ``no-military-service`` -> civilian, ``veteran`` -> veteran, ``active-duty`` -> active_duty,
   ``active-reserve`` / ``inactive-reserve`` -> reserve; ``not-indicated`` -> unknown.
3. The HL7 Military Service IG's
   ``http://hl7.org/fhir/us/military-service/StructureDefinition/military-service-veteran-status``
   with ``valueBoolean``: ``true`` -> veteran. ``false`` means "not verified yet", not "civilian",
   so it leaves the status unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final, TypeGuard, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

from matcher.core.codes import canonical_code, canonical_system, code_problem
from matcher.core.dates import PartialDate
from matcher.core.errors import Diagnostic, PatientError
from matcher.core.terms import ATTRIBUTES, Sex
from matcher.core.validation import plain_message
from matcher.patient.model import (
    VOID_VERIFICATION,
    ClinicalStatus,
    Condition,
    Medication,
    MedicationStatus,
    Observation,
    Patient,
    Section,
    SkipReason,
    VerificationStatus,
)

__all__ = [
    "LACTATION_CODE",
    "MILITARY_STATUS_EXTENSION",
    "PREGNANCY_CODE",
    "patient_from_fhir",
]

#: The Patient extension (``valueCode``) that carries ``attributes["military_status"]``.
MILITARY_STATUS_EXTENSION: Final = (
    "https://matcher.example/fhir/StructureDefinition/military-status"
)
#: LOINC "Pregnancy status" and "Breastfeeding status" (observation codes).
PREGNANCY_CODE: Final = ("loinc", "82810-3")
LACTATION_CODE: Final = ("loinc", "63895-7")

_QICORE_MILITARY_EXTENSIONS: Final = frozenset(
    {
        "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-military-service",
        "http://hl7.org/fhir/StructureDefinition/qicore-patient-militaryService",
    }
)
_QICORE_MILITARY_CODES: Final = {
    "no-military-service": "civilian",
    "veteran": "veteran",
    "active-duty": "active_duty",
    "active-reserve": "reserve",
    "inactive-reserve": "reserve",
}
_VETERAN_STATUS_EXTENSION: Final = (
    "http://hl7.org/fhir/us/military-service/StructureDefinition/military-service-veteran-status"
)

_PREGNANCY_ANSWERS: Final = {
    ("snomed", "77386006"): True,
    ("loinc", "LA15173-0"): True,
    ("snomed", "60001007"): False,
    ("loinc", "LA26683-5"): False,
}
_LACTATION_ANSWERS: Final = {
    ("loinc", "LA29252-6"): True,
    ("loinc", "LA29253-4"): False,
}

_SEXES: Final = {"male": Sex.MALE, "female": Sex.FEMALE, "other": None, "unknown": None}
#: US Core extensions that record sex (birth sex, and the sex of later versions), and their codes
#: (``UNK``, ``OTH`` and SNOMED CT "not recorded" leave the sex to ``gender``).
_SEX_EXTENSIONS: Final = frozenset(
    {
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-sex",
        "http://hl7.org/fhir/us/core/StructureDefinition/us-core-individual-sex",
    }
)
_SEX_CODES: Final = {
    "F": Sex.FEMALE,
    "M": Sex.MALE,
    "female": Sex.FEMALE,
    "male": Sex.MALE,
    "248152002": Sex.FEMALE,  # SNOMED CT Female (finding)
    "248153007": Sex.MALE,  # SNOMED CT Male (finding)
}
#: Identifier systems of the French INS (FR Core): INS-NIR, and the INS-NIR of fictitious test
#: and demonstration patients. An INS-NIR is the social security number (NIR) used as health
#: identifier: its holder is affiliated. The INS-NIA (1.2.250.1.213.1.4.9) is a temporary number
#: given while a NIR is awaited, so it says nothing either way.
_INS_SYSTEMS: Final = frozenset(
    {
        "urn:oid:1.2.250.1.213.1.4.8",
        "urn:oid:1.2.250.1.213.1.4.10",
        "urn:oid:1.2.250.1.213.1.4.11",
    }
)

#: The code systems of Condition.clinicalStatus and verificationStatus (R4, and STU3's URLs).
_CONDITION_SYSTEMS: Final = frozenset(
    {
        "http://terminology.hl7.org/CodeSystem/condition-clinical",
        "http://terminology.hl7.org/CodeSystem/condition-ver-status",
        "http://hl7.org/fhir/condition-clinical",
        "http://hl7.org/fhir/condition-ver-status",
    }
)
_CLINICAL: Final = {status.value: status for status in ClinicalStatus}
_VERIFICATION: Final = {status.value: status for status in VerificationStatus}
_S = TypeVar("_S", ClinicalStatus, VerificationStatus)


def _status_word(text: str) -> str:
    """A status as a value-set key: ``Entered in error``, ``entered-in-error`` ->
    ``entered_in_error``; a SNOMED CT semantic tag (``Active (qualifier value)``) is dropped."""
    text = re.sub(r"\([^)]*\)", " ", text)
    return "_".join(text.strip().lower().replace("-", " ").split())


#: Units of ``MedicationDispense.daysSupply`` read as days.
_DAY_UNITS: Final = frozenset({"d", "day", "days", "Day", "Days", None})

#: FHIR medication status (MedicationRequest and MedicationStatement) -> status; None drops it.
_MEDICATION_STATUS: Final[Mapping[str, MedicationStatus | None]] = {
    "active": MedicationStatus.ACTIVE,
    "on-hold": MedicationStatus.ON_HOLD,
    "completed": MedicationStatus.COMPLETED,
    "stopped": MedicationStatus.STOPPED,
    "cancelled": MedicationStatus.CANCELLED,
    "draft": MedicationStatus.INTENDED,
    "intended": MedicationStatus.INTENDED,
    "not-taken": MedicationStatus.NOT_TAKEN,
    "unknown": MedicationStatus.UNKNOWN,
    "entered-in-error": None,
    # R5 MedicationStatement: "recorded" says it was recorded, not whether it goes on.
    "recorded": MedicationStatus.UNKNOWN,
}
#: MedicationDispense.status: prepared but not handed over is not use yet.
_DISPENSE_STATUS: Final[Mapping[str, MedicationStatus | None]] = {
    "preparation": MedicationStatus.INTENDED,
    "in-progress": MedicationStatus.INTENDED,
    "cancelled": MedicationStatus.CANCELLED,
    "declined": MedicationStatus.CANCELLED,
    "on-hold": MedicationStatus.ON_HOLD,
    "completed": MedicationStatus.COMPLETED,
    "stopped": MedicationStatus.STOPPED,
    "unknown": MedicationStatus.UNKNOWN,
    "entered-in-error": None,
}
#: MedicationAdministration.status.
_ADMINISTRATION_STATUS: Final[Mapping[str, MedicationStatus | None]] = {
    "in-progress": MedicationStatus.ACTIVE,
    "not-done": MedicationStatus.NOT_TAKEN,
    "on-hold": MedicationStatus.ON_HOLD,
    "completed": MedicationStatus.COMPLETED,
    "stopped": MedicationStatus.STOPPED,
    "unknown": MedicationStatus.UNKNOWN,
    "entered-in-error": None,
}
_MEDICATION_STATUSES: Final = {
    "MedicationRequest": _MEDICATION_STATUS,
    "MedicationStatement": _MEDICATION_STATUS,
    "MedicationDispense": _DISPENSE_STATUS,
    "MedicationAdministration": _ADMINISTRATION_STATUS,
}
_REQUEST_INTENTS: Final = frozenset(
    {
        "proposal",
        "plan",
        "order",
        "original-order",
        "reflex-order",
        "filler-order",
        "instance-order",
        "option",
    }
)
_NOT_ORDERED_INTENTS: Final = frozenset({"proposal", "option"})

#: Observation.status -> whether the value is a result: True a result; False no final
#: result yet (skipped: it may make a criterion unknown, never decide it); None no result at all.
_OBSERVATION_STATUS: Final[Mapping[str, bool | None]] = {
    "final": True,
    "amended": True,
    "corrected": True,
    "registered": False,
    "preliminary": False,
    "unknown": False,
    "cancelled": None,
    "entered-in-error": None,
}

#: Resource types not read that carry facts of a section: they are skipped and reported, with
#: the codes of the element named (so that only the concept sets those codes belong to are
#: affected). An Immunization is a drug given, by its vaccine code; a QuestionnaireResponse may
#: hold any answer (a pain score), so it touches every observation criterion.
_UNMAPPED: Final[Mapping[str, tuple[Section, str | None]]] = {
    "Immunization": ("medications", "vaccineCode"),
    "QuestionnaireResponse": ("observations", None),
}

#: Resource types whose coded diagnoses are read as uncertain conditions (``_Reader.diagnoses``).
_DIAGNOSES: Final = frozenset({"Encounter", "Claim", "ExplanationOfBenefit"})

#: Resource types that exist only in DSTU2 and carry facts matcher reads in R4.
_DSTU2_ONLY: Final = frozenset({"MedicationOrder"})

#: Errors the models raise about a whole record -> the fields to blame, first one present wins.
_WHOLE_RECORD_ERRORS: Final[Mapping[str, tuple[str, ...]]] = {
    "out_of_range": ("value",),
    "date_order": ("abatement", "end", "deceased_date"),
}

_UCUM: Final = "http://unitsofmeasure.org"
_RESOURCE_TYPE: Final = re.compile(r"^[A-Z][A-Za-z]{0,63}$")

_M = TypeVar("_M", bound=BaseModel)
_Node = Mapping[str, Any]


def _is_node(value: object) -> TypeGuard[_Node]:
    return isinstance(value, Mapping)


def _at(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _one_of(values: Iterable[str]) -> str:
    return "expected one of " + ", ".join(sorted(values))


def _key(system: str, code: str) -> tuple[str, str]:
    short = canonical_system(system)
    return short, canonical_code(short, code)


@dataclass(frozen=True, slots=True)
class _Concept:
    """A CodeableConcept: its (system, code) pairs as written, and a display name."""

    codings: tuple[tuple[str, str], ...]
    display: str | None

    @property
    def empty(self) -> bool:
        """No name and no coding that can be read (``matcher.core.codes.code_problem``): the record
        cannot be identified."""
        if self.display is not None:
            return False
        return all(code_problem(system, code) is not None for system, code in self.codings)

    def keys(self) -> frozenset[tuple[str, str]]:
        """The codings as compared: normalised system and code."""
        return frozenset(_key(system, code) for system, code in self.codings)

    def fields(self) -> dict[str, Any]:
        """``system``/``code``/``codes``/``display`` of a coded record, duplicates dropped."""
        seen: set[tuple[str, str]] = set()
        unique: list[tuple[str, str]] = []
        for system, code in self.codings:
            key = _key(system, code)
            if key not in seen:
                seen.add(key)
                unique.append((system, code))
        out: dict[str, Any] = {"display": self.display}
        if unique:
            out["system"], out["code"] = unique[0]
            out["codes"] = [{"system": s, "code": c} for s, c in unique[1:]]
        return out


@dataclass(frozen=True, slots=True)
class _Resource:
    """One resource of the input and its path (``entry[3].resource``; ``""`` for a bare one)."""

    path: str
    node: _Node
    kind: str
    full_url: str | None = None

    @property
    def reference(self) -> str:
        """``Condition/abc``: how a result points at the resource; its path when it has no id."""
        ident = self.node.get("id")
        return f"{self.kind}/{ident}" if isinstance(ident, str) and ident else self.path


@dataclass(frozen=True, slots=True)
class _Answer:
    """A pregnancy or lactation answer, its date and the path of its Observation."""

    positive: bool
    date: PartialDate | None
    path: str

    def order(self) -> tuple[int, int, bool]:
        """Later dates last; undated first; on the same date a positive answer last."""
        if self.date is None:
            return (0, 0, self.positive)
        return (self.date.first.toordinal(), self.date.last.toordinal(), self.positive)


def _latest(answers: Sequence[_Answer]) -> _Answer | None:
    return max(answers, key=_Answer.order) if answers else None


@dataclass
class _Reader:
    """Reads one input; collects every problem so that they are reported together."""

    source: str
    problems: list[Diagnostic] = field(default_factory=list)
    #: The records left out, as ``Skipped`` fields (see ``matcher.evaluation.coverage``).
    skipped: list[dict[str, Any]] = field(default_factory=list)
    #: The Patient of the input: its resource, set once it is found.
    subject: _Resource | None = None
    _by_url: dict[str, _Resource] = field(default_factory=dict)
    _by_id: dict[tuple[str, str], _Resource] = field(default_factory=dict)
    _drugs: dict[str, _Concept] = field(default_factory=dict)

    # --- problems -----------------------------------------------------------------------------

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Diagnostic("invalid-patient", message, self.source, 0, 0, path))

    def skip(
        self,
        section: Section,
        resource: _Resource,
        reason: SkipReason,
        concept: _Concept | None = None,
        path: str | None = None,
    ) -> None:
        """Leave a record out, saying where and why; its codes and name (if any) say which
        concept sets it may affect."""
        values: dict[str, Any] = {
            "section": section,
            "path": path or resource.path or resource.kind,
            "reason": reason,
            "resource": resource.kind,
        }
        if concept is not None:
            unique = concept.fields()
            codings = [(unique["system"], unique["code"])] if "system" in unique else []
            codings += [(c["system"], c["code"]) for c in unique.get("codes", ())]
            values["codes"] = [{"system": system, "code": code} for system, code in codings]
            values["display"] = concept.display
        self.skipped.append(values)

    def about_another(self, resource: _Resource, key: str) -> bool:
        """True when the record's ``subject``/``patient`` reference names another patient than
        the input's (an absent or display-only reference is taken as this patient's)."""
        reference = resource.node.get(key)
        target = reference.get("reference") if _is_node(reference) else None
        if not isinstance(target, str) or not target.strip() or self.subject is None:
            return False
        target = target.strip()
        if target == self.subject.full_url:
            return False
        found = self.resolve(target, resource)
        if found is not None:
            return found.node is not self.subject.node
        parts = target.split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        ident = self.subject.node.get("id")
        return not (len(parts) >= 2 and parts[-2] == "Patient" and parts[-1] == ident)

    def not_fhir(self, path: str, message: str) -> Diagnostic:
        return Diagnostic("not-fhir", message, self.source, 0, 0, path)

    def build(
        self, model: type[_M], values: dict[str, Any], where: Mapping[str, str], path: str
    ) -> _M | None:
        """``model`` from ``values``; each validation error names the FHIR path of its field."""
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                loc = error["loc"]
                names = (str(loc[0]),) if loc else _WHOLE_RECORD_ERRORS.get(error["type"], ())
                at = next((where[name] for name in names if name in where), path)
                self.problem(at, plain_message(error))
            return None

    # --- typed access: each returns None (after noting a problem) for a value of the wrong type -

    def node(self, parent: _Node | None, path: str, key: str) -> _Node | None:
        value = parent.get(key) if parent is not None else None
        if value is None:
            return None
        if not _is_node(value):
            self.problem(_at(path, key), "expected an object")
            return None
        return value

    def descend(self, parent: _Node, path: str, *keys: str) -> tuple[_Node | None, str]:
        """The object at ``parent.a.b...`` (``None`` if any step is missing) and its path."""
        node: _Node | None = parent
        for key in keys:
            node = self.node(node, path, key)
            path = _at(path, key)
        return node, path

    def nodes(self, parent: _Node, path: str, key: str) -> list[tuple[str, _Node]]:
        """The objects of a list element, each with its path."""
        value = parent.get(key)
        if value is None:
            return []
        where = _at(path, key)
        if not isinstance(value, list):
            self.problem(where, "expected a list")
            return []
        out = []
        for i, item in enumerate(value):
            if _is_node(item):
                out.append((_at(where, i), item))
            else:
                self.problem(_at(where, i), "expected an object")
        return out

    def text(self, parent: _Node | None, path: str, key: str) -> str | None:
        """A string element, stripped; ``None`` when absent or blank."""
        value = parent.get(key) if parent is not None else None
        if value is None:
            return None
        if not isinstance(value, str):
            self.problem(_at(path, key), "expected a string")
            return None
        return value.strip() or None

    def boolean(self, parent: _Node, path: str, key: str) -> bool | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.problem(_at(path, key), "expected true or false")
            return None
        return value

    def number(self, parent: _Node, path: str, key: str, *, integer: bool = False) -> float | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
            self.problem(_at(path, key), "expected an integer" if integer else "expected a number")
            return None
        try:
            return float(value)
        except OverflowError:  # an integer of hundreds of digits
            self.problem(_at(path, key), "expected a number of plausible size")
            return None

    def date(
        self, parent: _Node | None, path: str, key: str, *, lenient: bool = False
    ) -> PartialDate | None:
        """A FHIR date or dateTime; with ``lenient``, text that is not a date is ignored."""
        text = self.text(parent, path, key)
        if text is None:
            return None
        try:
            return PartialDate.parse(text)
        except PydanticCustomError as exc:
            if not lenient:
                self.problem(_at(path, key), exc.message())
            return None

    def concept(self, parent: _Node, path: str, key: str) -> _Concept | None:
        node = self.node(parent, path, key)
        if node is None:
            return None
        where = _at(path, key)
        codings: list[tuple[str, str]] = []
        first_display: str | None = None
        for at, coding in self.nodes(node, where, "coding"):
            system = self.text(coding, at, "system")
            code = self.text(coding, at, "code")
            display = self.text(coding, at, "display")
            first_display = first_display or display
            if system is not None and code is not None:
                codings.append((system, code))
        return _Concept(tuple(codings), self.text(node, where, "text") or first_display)

    # --- the version ---------------------------------------------------------------------------

    def version(self, data: _Node, resources: Sequence[_Resource]) -> None:
        """Refuse DSTU2 input (raise ``unsupported-fhir-version``): read as R4 it would lose its
        orders (``MedicationOrder``) and its conditions' patient. STU3 and R5 are read (see the
        module docstring)."""
        found: tuple[str, str] | None = None
        meta = data.get("meta")
        for declared, at in (
            (data.get("fhirVersion"), "fhirVersion"),
            (meta.get("fhirVersion") if _is_node(meta) else None, "meta.fhirVersion"),
        ):
            if isinstance(declared, str) and declared.strip().startswith(("0.", "1.")):
                found = (at, "declares a FHIR version before STU3")
        for resource in resources:
            if found is not None:
                break
            node = resource.node
            if resource.kind in _DSTU2_ONLY:
                found = (resource.path, f"is a {resource.kind}, a DSTU2 resource")
            elif resource.kind == "Condition" and "patient" in node and "subject" not in node:
                found = (_at(resource.path, "patient"), "is a DSTU2 Condition.patient")
            elif resource.kind == "MedicationStatement" and "wasNotTaken" in node:
                found = (_at(resource.path, "wasNotTaken"), "is a DSTU2 element")
        if found is not None:
            at, what = found
            message = f"{at} {what}: matcher reads FHIR R4 (and STU3 and R5 where they agree)"
            raise PatientError(
                [Diagnostic("unsupported-fhir-version", message, self.source, 0, 0, at)]
            )

    # --- the Bundle ---------------------------------------------------------------------------

    def resources(self, data: _Node) -> list[_Resource]:
        """Every resource of a Bundle (or the bare Patient); raises on a broken structure."""
        kind = data.get("resourceType")
        if not isinstance(kind, str):
            raise PatientError([self.not_fhir("resourceType", "expected a resource type name")])
        if kind == "Patient":
            return [_Resource("", data, kind)]
        if kind != "Bundle":
            named = f"resourceType {kind!r}" if _RESOURCE_TYPE.match(kind) else "the resourceType"
            raise PatientError(
                [self.not_fhir("resourceType", f"{named} is not a FHIR Bundle or Patient")]
            )
        entries = data.get("entry", [])
        if not isinstance(entries, list):
            raise PatientError([self.not_fhir("entry", "expected a list of entries")])
        out: list[_Resource] = []
        broken: list[Diagnostic] = []
        for i, entry in enumerate(entries):
            if not _is_node(entry):
                broken.append(self.not_fhir(f"entry[{i}]", "expected an object"))
                continue
            resource = entry.get("resource")
            if resource is None:
                continue  # a deleted entry, or a transaction response
            kind = resource.get("resourceType") if _is_node(resource) else None
            if not _is_node(resource) or not isinstance(kind, str):
                message = "expected a resource with a resourceType"
                broken.append(self.not_fhir(f"entry[{i}].resource", message))
                continue
            url = entry.get("fullUrl")
            out.append(_Resource(f"entry[{i}].resource", resource, kind, _str_or_none(url)))
        if broken:
            raise PatientError(broken)
        for resource in out:
            if resource.full_url:
                self._by_url[resource.full_url] = resource
            ident = resource.node.get("id")
            if isinstance(ident, str):
                self._by_id[(resource.kind, ident)] = resource
        return out

    def resolve(self, reference: str, container: _Resource) -> _Resource | None:
        """The resource a reference names: ``#id`` (contained), a ``fullUrl``, or ``Type/id``."""
        if reference.startswith("#"):
            contained = container.node.get("contained")
            for i, item in enumerate(contained if isinstance(contained, list) else ()):
                if _is_node(item) and item.get("id") == reference[1:]:
                    path = _at(_at(container.path, "contained"), i)
                    return _Resource(path, item, _str_or_none(item.get("resourceType")) or "")
            return None
        found = self._by_url.get(reference)
        if found is not None:
            return found
        parts = reference.split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        return self._by_id.get((parts[-2], parts[-1])) if len(parts) >= 2 else None

    # --- Patient ------------------------------------------------------------------------------

    def patient(self, resource: _Resource) -> tuple[dict[str, Any], dict[str, str]]:
        """The Patient's own fields, and the FHIR path of each."""
        node, path = resource.node, resource.path
        values: dict[str, Any] = {
            "id": self.text(node, path, "id") or resource.full_url or "unknown"
        }
        where = {"id": _at(path, "id")}
        birth = self.date(node, path, "birthDate")
        if birth is not None:
            values["birth_date"], where["birth_date"] = birth, _at(path, "birthDate")
        gender = self.text(node, path, "gender")
        sex: Sex | None = None
        if gender in _SEXES:
            sex = _SEXES[gender]
            where["sex"] = _at(path, "gender")
        elif gender is not None:
            self.problem(_at(path, "gender"), _one_of(_SEXES))
        sex = self.biological_sex(resource, sex, where)
        if sex is not None:
            values["sex"] = sex
        died = self.date(node, path, "deceasedDateTime")
        if died is not None:
            values["deceased"], values["deceased_date"] = True, died
            where["deceased_date"] = _at(path, "deceasedDateTime")
        else:
            deceased = self.boolean(node, path, "deceasedBoolean")
            if deceased is not None:
                values["deceased"] = deceased
        attributes: dict[str, str | bool] = {}
        military = self.military_status(node, path)
        if military is not None:
            attributes["military_status"] = military[0]
            where["attributes"] = military[1]
        for at, identifier in self.nodes(node, path, "identifier"):
            if self.text(identifier, at, "system") in _INS_SYSTEMS and self.text(
                identifier, at, "value"
            ):
                attributes["fr_social_security"] = True
                where.setdefault("attributes", at)
                break
        if attributes:
            values["attributes"] = attributes
        return values, where

    def biological_sex(
        self, resource: _Resource, gender: Sex | None, where: dict[str, str]
    ) -> Sex | None:
        """The sex of the US Core sex extensions where present, else ``gender``. When they
        disagree with each other or with ``gender``, the sex is unknown and the contradiction
        is reported (the patient is still read)."""
        node, path = resource.node, resource.path
        found: list[tuple[Sex | None, str]] = []
        for at, extension in self.nodes(node, path, "extension"):
            url = self.text(extension, at, "url")
            if url not in _SEX_EXTENSIONS:
                continue
            code = self.text(extension, at, "valueCode")
            coding = self.node(extension, at, "valueCoding")
            if code is None and coding is not None:
                code = self.text(coding, _at(at, "valueCoding"), "code")
            found.append((_SEX_CODES.get(code or ""), at))
        known = [(sex, at) for sex, at in found if sex is not None]
        if not known:
            return gender
        values = {sex for sex, _ in known}
        if len(values) == 1 and gender in (None, *values):
            where["sex"] = known[0][1]
            return values.pop()
        for _, at in known:
            self.skip("demographics", resource, SkipReason.CONTRADICTION, path=at)
        where.pop("sex", None)
        return None

    def military_status(self, node: _Node, path: str) -> tuple[str, str] | None:
        """(value, path) of the military status, by the precedence in the module docstring."""
        found: dict[int, tuple[str, str]] = {}
        allowed = ATTRIBUTES["military_status"].values
        for at, extension in self.nodes(node, path, "extension"):
            url = self.text(extension, at, "url")
            if url == MILITARY_STATUS_EXTENSION:
                value = self.text(extension, at, "valueCode")
                where = _at(at, "valueCode")
                if value not in allowed:
                    self.problem(where, _one_of(allowed))
                elif 1 in found and found[1][0] != value:
                    self.problem(at, "a second military-status extension contradicts the first")
                else:
                    found[1] = (value, where)
            elif url in _QICORE_MILITARY_EXTENSIONS:
                concept = self.concept(extension, at, "valueCodeableConcept")
                for _, code in concept.codings if concept else ():
                    if code in _QICORE_MILITARY_CODES:
                        where = _at(at, "valueCodeableConcept")
                        found.setdefault(2, (_QICORE_MILITARY_CODES[code], where))
            elif url == _VETERAN_STATUS_EXTENSION and self.boolean(extension, at, "valueBoolean"):
                found.setdefault(3, ("veteran", _at(at, "valueBoolean")))
        return found[min(found)] if found else None

    # --- Condition ----------------------------------------------------------------------------

    def condition(self, resource: _Resource, *, certain: bool = True) -> Condition | None:
        node, path = resource.node, resource.path
        if self.about_another(resource, "subject"):
            self.skip(
                "conditions", resource, SkipReason.OTHER_SUBJECT, self.concept(node, path, "code")
            )
            return None
        verified, readable = self.condition_status(node, path, "verificationStatus", _VERIFICATION)
        if verified in VOID_VERIFICATION:
            return None
        status, clear = self.condition_status(node, path, "clinicalStatus", _CLINICAL)
        concept = self.concept(node, path, "code")
        if concept is None or concept.empty:
            self.skip("conditions", resource, SkipReason.UNIDENTIFIED)
            return None
        code_at = _at(path, "code")
        where = {"system": code_at, "codes": code_at, "display": code_at}
        onset = self.first_date(
            node, path, where, "onset", ("onsetDateTime", "onsetPeriod.start", "onsetString")
        )
        abatement = self.first_date(
            node,
            path,
            where,
            "abatement",
            (
                "abatementDateTime",
                "abatementPeriod.end",
                "abatementPeriod.start",
                "abatementString",
            ),
        )
        values = {
            "id": self.text(node, path, "id"),
            "source": resource.reference,
            **concept.fields(),
            "onset": onset,
            "abatement": abatement,
            "clinical_status": status,
            "verification_status": verified,
            "uncertain": not (readable and clear),
        }
        return self.build(Condition, values, where, path)

    def condition_status(
        self, node: _Node, path: str, key: str, allowed: Mapping[str, _S]
    ) -> tuple[_S | None, bool]:
        """A Condition status and whether it could be read (absent counts as read).

        The code of the R4 code system (or a bare code, as STU3 wrote it) decides. Without one,
        codes of other systems, their displays and the text are read as words ("Active",
        "Resolved (qualifier value)"); they decide when every one of them reads as the same
        value. Anything else cannot be read: the record becomes uncertain."""
        value = node.get(key)
        if value is None:
            return None, True
        if isinstance(value, str):
            found = allowed.get(_status_word(value))
            return found, found is not None
        concept = self.node(node, path, key)
        if concept is None:
            return None, True  # a value of the wrong type: a problem is noted
        coded: set[_S | None] = set()
        words: set[_S | None] = set()
        where = _at(path, key)
        for at, coding in self.nodes(concept, where, "coding"):
            system = self.text(coding, at, "system")
            code = self.text(coding, at, "code")
            display = self.text(coding, at, "display")
            if code is not None and (system is None or system in _CONDITION_SYSTEMS):
                coded.add(allowed.get(_status_word(code)))
            else:
                words.update(allowed.get(_status_word(t)) for t in (display,) if t)
        text = self.text(concept, where, "text")
        if text is not None:
            words.add(allowed.get(_status_word(text)))
        readings = coded or words
        if len(readings) == 1 and None not in readings:
            return readings.pop(), True
        return None, not readings

    def first_date(
        self, node: _Node, path: str, where: dict[str, str], name: str, keys: Sequence[str]
    ) -> PartialDate | None:
        """The date of the first of ``keys`` (``key`` or ``key.sub``) that holds one."""
        for dotted in keys:
            head, _, tail = dotted.rpartition(".")
            parent = self.node(node, path, head) if head else node
            at = _at(path, head) if head else path
            value = self.date(parent, at, tail, lenient=tail.endswith("String"))
            if value is not None:
                where[name] = _at(at, tail)
                return value
        return None

    # --- diagnoses of encounters and claims ------------------------------------------------------

    def diagnoses(
        self, resource: _Resource, held: set[tuple[str, str]]
    ) -> list[tuple[Condition, str]]:
        """The coded diagnoses of an Encounter (``reasonCode``) or a Claim/ExplanationOfBenefit
        (``diagnosis[].diagnosisCodeableConcept``) as uncertain conditions, dated by the
        service: they say the patient was seen for it then, not when it began or whether it
        lasts. A referenced diagnosis is the Condition it names (read on its own), or, when the
        input does not hold it, skipped. Codes a Condition already holds are left out."""
        node, path = resource.node, resource.path
        subject = "subject" if resource.kind == "Encounter" else "patient"
        if resource.kind == "Encounter":
            when, when_at = self.period_start(node, path, "period")
            coded = [
                (at, self.concept_at(at, item)) for at, item in self.nodes(node, path, "reasonCode")
            ]
            references = [(at, item) for at, item in self.nodes(node, path, "reasonReference")] + [
                (_at(at, "condition"), ref)
                for at, item in self.nodes(node, path, "diagnosis")
                if (ref := self.node(item, at, "condition")) is not None
            ]
        else:
            when, when_at = self.period_start(node, path, "billablePeriod")
            coded = []
            references = []
            for at, item in self.nodes(node, path, "diagnosis"):
                concept = self.concept(item, at, "diagnosisCodeableConcept")
                if concept is not None:
                    coded.append((_at(at, "diagnosisCodeableConcept"), concept))
                ref = self.node(item, at, "diagnosisReference")
                if ref is not None:
                    references.append((_at(at, "diagnosisReference"), ref))
        if self.about_another(resource, subject):
            for at, concept in coded:
                if concept is not None and not concept.empty:
                    self.skip("conditions", resource, SkipReason.OTHER_SUBJECT, concept, path=at)
            return []
        for at, ref in references:
            target = self.text(ref, at, "reference")
            found = self.resolve(target, resource) if target else None
            if found is None or found.kind != "Condition":
                self.skip("conditions", resource, SkipReason.NOT_IN_INPUT, path=at)
        out: list[tuple[Condition, str]] = []
        for at, concept in coded:
            if concept is None or concept.empty:
                continue
            if concept.keys() & held:
                continue
            held.update(concept.keys())
            values = {
                "source": resource.reference,
                **concept.fields(),
                "onset": when,
                "uncertain": True,
            }
            where = {"system": at, "codes": at, "display": at, "onset": when_at}
            built = self.build(Condition, values, where, at)
            if built is not None:
                out.append((built, at))
        return out

    def concept_at(self, path: str, node: _Node) -> _Concept | None:
        """A CodeableConcept that is itself a list item (``reasonCode[0]``)."""
        head, _, tail = path.rpartition(".")
        return self.concept({tail: node}, head, tail)

    def period_start(self, node: _Node, path: str, key: str) -> tuple[PartialDate | None, str]:
        period = self.node(node, path, key)
        at = _at(path, key)
        return self.date(period, at, "start"), _at(at, "start")

    # --- MedicationRequest / MedicationStatement ----------------------------------------------

    def medication(self, resource: _Resource) -> Medication | None:
        """A MedicationRequest, MedicationStatement, MedicationDispense or
        MedicationAdministration as medication use."""
        node, path = resource.node, resource.path
        drug, drug_at = self.drug(resource)
        if self.about_another(resource, "subject"):
            self.skip("medications", resource, SkipReason.OTHER_SUBJECT, drug)
            return None
        statuses = _MEDICATION_STATUSES[resource.kind]
        text = self.text(node, path, "status")
        if text is not None and text not in statuses:
            self.skip("medications", resource, SkipReason.UNREADABLE_STATUS, drug)
            return None
        # FHIR requires a status; a record without one is of unknown status, not active.
        status = statuses[text] if text else MedicationStatus.UNKNOWN
        if status is None:
            return None  # entered-in-error
        where = {"status": _at(path, "status")}
        if resource.kind == "MedicationRequest":
            intent = self.text(node, path, "intent")
            if intent is not None and intent not in _REQUEST_INTENTS:
                self.skip("medications", resource, SkipReason.UNREADABLE_STATUS, drug)
                return None
            if intent in _NOT_ORDERED_INTENTS and status is not MedicationStatus.CANCELLED:
                status = MedicationStatus.INTENDED
            if self.boolean(node, path, "doNotPerform"):
                status = MedicationStatus.NOT_TAKEN
            start, end = self.request_dates(node, path, where)
        elif resource.kind == "MedicationDispense":
            start, end = self.dispense_dates(node, path, where)
            if status is MedicationStatus.COMPLETED and end is None:
                status = MedicationStatus.UNKNOWN  # handed over, for a time nobody recorded
        elif resource.kind == "MedicationAdministration":
            start, end = self.statement_dates(node, path, where, instant=True, r5=True)
        else:
            start, end = self.statement_dates(node, path, where)
            taken = self.text(node, path, "taken")  # STU3: y | n | unk | na
            if taken in ("n", "na"):
                status = MedicationStatus.NOT_TAKEN
            elif taken == "unk":
                status = MedicationStatus.UNKNOWN
        if drug.empty:
            self.skip("medications", resource, SkipReason.UNIDENTIFIED)
            return None
        where.update(system=drug_at, codes=drug_at, display=drug_at)
        values = {
            "id": self.text(node, path, "id"),
            "source": resource.reference,
            **drug.fields(),
            "start": start,
            "end": end,
            "status": status,
        }
        return self.build(Medication, values, where, path)

    def drug(self, resource: _Resource) -> tuple[_Concept, str]:
        """The codes and name of the drug of a request or statement, and their path."""
        node, path = resource.node, resource.path
        concept = self.concept(node, path, "medicationCodeableConcept")
        if concept is not None:
            return concept, _at(path, "medicationCodeableConcept")
        at = _at(path, "medicationReference")
        reference = self.node(node, path, "medicationReference")
        r5 = self.node(node, path, "medication")  # R5: a CodeableReference
        if reference is None and r5 is not None:
            concept = self.concept(r5, _at(path, "medication"), "concept")
            if concept is not None and not concept.empty:
                return concept, _at(_at(path, "medication"), "concept")
            at = _at(_at(path, "medication"), "reference")
            reference = self.node(r5, _at(path, "medication"), "reference")
        target = self.text(reference, at, "reference")
        name = self.text(reference, at, "display")
        found = self.resolve(target, resource) if target else None
        if found is None or found.kind != "Medication":
            return _Concept((), name), at
        if found.path not in self._drugs:
            self._drugs[found.path] = self.medication_resource(found)
        drug = self._drugs[found.path]
        if drug.display is None and name is not None:
            drug = _Concept(drug.codings, name)
        return drug, _at(found.path, "code")

    def medication_resource(self, resource: _Resource) -> _Concept:
        """A Medication's codes (then those of its ingredients) and name."""
        code = self.concept(resource.node, resource.path, "code")
        codings = list(code.codings) if code else []
        for at, ingredient in self.nodes(resource.node, resource.path, "ingredient"):
            item = self.concept(ingredient, at, "itemCodeableConcept")
            codings.extend(item.codings if item else ())
        return _Concept(tuple(codings), code.display if code else None)

    def request_dates(
        self, node: _Node, path: str, where: dict[str, str]
    ) -> tuple[PartialDate | None, PartialDate | None]:
        starts: list[tuple[PartialDate, str]] = []
        ends: list[tuple[PartialDate, str]] = []
        open_ended = False
        for dosage_at, dosage in self.nodes(node, path, "dosageInstruction"):
            bounds, at = self.descend(dosage, dosage_at, "timing", "repeat", "boundsPeriod")
            begin = self.date(bounds, at, "start")
            finish = self.date(bounds, at, "end")
            if begin is not None:
                starts.append((begin, _at(at, "start")))
            if finish is not None:
                ends.append((finish, _at(at, "end")))
            else:
                open_ended = True
        start: PartialDate | None
        if starts:
            start, where["start"] = min(starts, key=lambda item: item[0].first)
        else:
            start = self.date(node, path, "authoredOn")
            where["start"] = _at(path, "authoredOn")
            if start is None:
                validity, at = self.descend(node, path, "dispenseRequest", "validityPeriod")
                start, where["start"] = self.date(validity, at, "start"), _at(at, "start")
        end: PartialDate | None = None
        if ends and not open_ended:
            end, where["end"] = max(ends, key=lambda item: item[0].last)
        return start, end

    def statement_dates(
        self,
        node: _Node,
        path: str,
        where: dict[str, str],
        *,
        instant: bool = False,
        r5: bool = False,
    ) -> tuple[PartialDate | None, PartialDate | None]:
        """``effective[x]``: a dateTime starts a statement (``instant``: it is the whole
        administration, start and end), a Period gives start and end. With ``r5``, R5's name
        ``occurence[x]`` is read when ``effective[x]`` is absent."""
        prefix = "effective"
        if r5 and "effectiveDateTime" not in node and "effectivePeriod" not in node:
            prefix = "occurence"
        start = self.date(node, path, f"{prefix}DateTime")
        if start is not None:
            where["start"] = _at(path, f"{prefix}DateTime")
            if instant:
                where["end"] = where["start"]
                return start, start
            return start, None
        period = self.node(node, path, f"{prefix}Period")
        at = _at(path, f"{prefix}Period")
        where["start"], where["end"] = _at(at, "start"), _at(at, "end")
        return self.date(period, at, "start"), self.date(period, at, "end")

    def dispense_dates(
        self, node: _Node, path: str, where: dict[str, str]
    ) -> tuple[PartialDate | None, PartialDate | None]:
        """``whenHandedOver`` (else ``whenPrepared``) starts the use; ``daysSupply`` in days
        ends it, on the last day the supply covers."""
        key = "whenHandedOver" if node.get("whenHandedOver") is not None else "whenPrepared"
        start = self.date(node, path, key)
        where["start"] = _at(path, key)
        supply = self.node(node, path, "daysSupply")
        at = _at(path, "daysSupply")
        days = self.number(supply, at, "value") if supply is not None else None
        unit = (self.text(supply, at, "code") or self.text(supply, at, "unit")) if supply else None
        if start is None or start.day is None or days is None or days < 1 or days > 3660:
            return start, None
        if unit not in _DAY_UNITS:
            return start, None
        where["end"] = _at(at, "value")
        last = start.first.toordinal() + int(days) - 1
        return start, PartialDate.of(date.fromordinal(last))

    # --- Observation --------------------------------------------------------------------------

    def observation(
        self, resource: _Resource
    ) -> tuple[list[tuple[Observation, str]], _Answer | None, _Answer | None]:
        """The numeric observations of one resource (each with its path), and its pregnancy and
        lactation answers. What cannot be used is skipped (see ``_OBSERVATION_STATUS``)."""
        node, path = resource.node, resource.path
        code = self.concept(node, path, "code")
        if self.about_another(resource, "subject"):
            self.skip("observations", resource, SkipReason.OTHER_SUBJECT, code)
            return [], None, None
        status = self.text(node, path, "status")
        if status is not None and status not in _OBSERVATION_STATUS:
            self.skip("observations", resource, SkipReason.UNREADABLE_STATUS, code)
            return [], None, None
        use = _OBSERVATION_STATUS[status] if status is not None else True
        if use is None:
            return [], None, None  # cancelled, entered in error: no result
        if not use:
            self.skip("observations", resource, SkipReason.NOT_FINAL, code)
            return [], None, None
        when, when_at = self.observation_date(node, path)
        ident = self.text(node, path, "id")
        out: list[tuple[Observation, str]] = []
        codes = code.keys() if code else frozenset()
        status_answer = PREGNANCY_CODE in codes or LACTATION_CODE in codes
        parts: list[tuple[str, _Node, _Concept | None]] = [(path, node, code)]
        components = self.nodes(node, path, "component")
        for at, component in components:
            parts.append((at, component, self.concept(component, at, "code")))
        for at, part, concept in parts:
            value, unit, value_at = self.observation_value(part, at)
            if value is None or concept is None or concept.empty:
                panel = at == path and (components or status_answer)
                if not panel:
                    named = concept is not None and not concept.empty
                    reason = SkipReason.NO_VALUE if named else SkipReason.UNIDENTIFIED
                    self.skip("observations", resource, reason, concept, path=at)
                continue
            values = {
                "id": ident,
                "source": resource.reference,
                **concept.fields(),
                "value": value,
                "unit": unit,
                "date": when,
            }
            code_at = _at(at, "code")
            where = {"system": code_at, "codes": code_at, "display": code_at}
            where.update(value=value_at, unit=value_at, date=when_at)
            built = self.build(Observation, values, where, at)
            if built is not None:
                out.append((built, at))
        pregnancy = lactation = None
        if PREGNANCY_CODE in codes:
            pregnancy = self.answer(node, path, _PREGNANCY_ANSWERS, when, boolean=False)
        if LACTATION_CODE in codes:
            lactation = self.answer(node, path, _LACTATION_ANSWERS, when, boolean=True)
        return out, pregnancy, lactation

    def observation_date(self, node: _Node, path: str) -> tuple[PartialDate | None, str]:
        for key in ("effectiveDateTime", "effectiveInstant"):
            value = self.date(node, path, key)
            if value is not None:
                return value, _at(path, key)
        period = self.node(node, path, "effectivePeriod")
        at = _at(path, "effectivePeriod")
        value = self.date(period, at, "start")
        if value is not None:
            return value, _at(at, "start")
        return self.date(node, path, "issued"), _at(path, "issued")

    def observation_value(self, node: _Node, path: str) -> tuple[float | None, str | None, str]:
        """(value, unit, path of the value) of ``valueQuantity`` or ``valueInteger``."""
        quantity = self.node(node, path, "valueQuantity")
        if quantity is not None:
            at = _at(path, "valueQuantity")
            value = self.number(quantity, at, "value")
            if self.text(quantity, at, "comparator") is not None:
                value = None  # "<5" is not a value
            code = self.text(quantity, at, "code")
            unit = self.text(quantity, at, "unit")
            if code is not None and self.text(quantity, at, "system") in (None, _UCUM):
                unit = code
            return value, unit, _at(at, "value")
        return (
            self.number(node, path, "valueInteger", integer=True),
            None,
            _at(path, "valueInteger"),
        )

    def answer(
        self,
        node: _Node,
        path: str,
        answers: Mapping[tuple[str, str], bool],
        when: PartialDate | None,
        *,
        boolean: bool,
    ) -> _Answer | None:
        """A yes/no status: ``None`` when the answer is unknown or contradicts itself."""
        if boolean:
            flag = self.boolean(node, path, "valueBoolean")
            if flag is not None:
                return _Answer(flag, when, path)
        concept = self.concept(node, path, "valueCodeableConcept")
        found = {answers[key] for key in (concept.keys() if concept else ()) if key in answers}
        return _Answer(found.pop(), when, path) if len(found) == 1 else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def patient_from_fhir(data: Mapping[str, Any], *, source: str = "<fhir>") -> Patient:
    """The ``Patient`` that a FHIR R4 Bundle or Patient resource (parsed JSON) describes.

    Raises ``PatientError``: code ``not-fhir`` when ``data`` is not a Bundle or a Patient, or
    the Bundle does not hold exactly one Patient; ``invalid-patient`` for each unusable value,
    with its FHIR path. Never returns a partial patient.
    """
    reader = _Reader(source)
    if not _is_node(data):
        raise PatientError([reader.not_fhir("", "expected a FHIR resource (a JSON object)")])
    resources = reader.resources(data)
    patients = [r for r in resources if r.kind == "Patient"]
    if len(patients) != 1:
        at = ", ".join(p.path.removesuffix(".resource") for p in patients)
        message = (
            f"the Bundle holds {len(patients)} Patient resources ({at}); one is expected"
            if patients
            else "the Bundle holds no Patient resource"
        )
        raise PatientError([reader.not_fhir("entry", message)])

    reader.version(data, resources)
    reader.subject = patients[0]
    values, where = reader.patient(patients[0])
    records: dict[str, list[tuple[Any, str]]] = {
        "conditions": [],
        "medications": [],
        "observations": [],
    }
    pregnancies: list[_Answer] = []
    lactations: list[_Answer] = []
    diagnoses: list[_Resource] = []
    for resource in resources:
        kind = resource.kind
        if kind == "Condition":
            condition = reader.condition(resource)
            if condition is not None:
                records["conditions"].append((condition, resource.path))
        elif kind in _MEDICATION_STATUSES:
            medication = reader.medication(resource)
            if medication is not None:
                records["medications"].append((medication, resource.path))
        elif kind == "Observation":
            found, pregnancy, lactation = reader.observation(resource)
            records["observations"].extend(found)
            pregnancies.extend([pregnancy] if pregnancy else [])
            lactations.extend([lactation] if lactation else [])
        elif kind in _UNMAPPED:
            section, key = _UNMAPPED[kind]
            concept = reader.concept(resource.node, resource.path, key) if key else None
            reader.skip(section, resource, SkipReason.UNMAPPED_TYPE, concept)
        elif kind in _DIAGNOSES:
            diagnoses.append(resource)
    # Diagnoses of encounters and claims come last: a code a Condition already holds adds nothing.
    held = {key for c, _ in records["conditions"] for key in c.code_pairs()}
    for resource in diagnoses:
        records["conditions"].extend(reader.diagnoses(resource, held))
    if reader.problems:
        raise PatientError(reader.problems)

    pregnancy, lactation = _latest(pregnancies), _latest(lactations)
    if pregnancy is not None:
        values["pregnancy"] = {"pregnant": pregnancy.positive, "date": pregnancy.date}
        where["pregnancy"] = pregnancy.path
        if pregnancy.positive and values.get("sex") is Sex.MALE:
            # Administrative gender may not be the body's: the sex is what is in doubt.
            del values["sex"]
            reader.skip(
                "demographics",
                patients[0],
                SkipReason.CONTRADICTION,
                path=where.pop("sex", _at(patients[0].path, "gender")),
            )
    if lactation is not None:
        values["lactation"] = {"lactating": lactation.positive, "date": lactation.date}
        where["lactation"] = lactation.path
    places = {name: (path, 0, 0) for name, path in where.items()}
    for name, built in records.items():
        values[name] = [record for record, _ in built]
        places.update((f"{name}[{i}]", (at, 0, 0)) for i, (_, at) in enumerate(built))
    values["skipped"] = reader.skipped
    patient = reader.build(Patient, values, where, patients[0].path)
    if patient is None:
        raise PatientError(reader.problems)
    return patient.with_origin(source, places)
