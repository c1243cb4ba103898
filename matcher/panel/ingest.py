"""A faster reading of plain Bulk records: the ``Patient`` that ``map_raw`` would give, built
without the generic FHIR reader where the records have the plain shape of a Bulk export.

``map_raw`` sends each patient's lines through ``matcher.patient.fhir`` as one Bundle: every
record is checked field by field and validated by the patient model, about 1.6 ms per Synthea
patient. Most Bulk records are plain -- a Condition with coded R4 statuses and
``onsetDateTime``; a MedicationRequest with a ``medicationCodeableConcept``, ``authoredOn`` and
no dosage bounds; an Observation with one ``valueQuantity`` and ``effectiveDateTime`` -- and for
those the mapping is a few look-ups. ``fast_map`` reads such records directly:

- the Patient resource still goes through ``matcher.patient.fhir`` (as the first entry of a
  Bundle, so its paths are those ``map_raw`` gives);
- a record's codes, name and statuses are validated by the patient model once per distinct
  coding (a template), and each record is a copy of its template with its own dates and value
  (dates parsed by ``PartialDate``, value ranges checked against ``OBSERVATION_RANGES``);
- records are kept in the order of the Bundle ``map_raw`` builds, with the same origins.

The reading has two halves: ``plain_records`` checks and parses a patient's records into
``PlainRecord`` parts (template, dates, value) without making models, and ``patient_of`` turns
those parts into the ``Patient``. The columnar engine takes the parts straight into its fact
columns (``matcher.panel.columnar.columns_of_raw``) and calls ``patient_of`` only for the
patients it needs as objects.

Anything else -- a field or shape outside the plain set, a Medication reference, a second
Patient, an invalid value, a pregnancy or lactation status, a skipped record -- sends the whole
patient through ``map_raw``, so the result is the same ``PanelItem`` either way (a test compares
them record for record). The lines are parsed by ``matcher.panel.reading.load_line`` (orjson
when installed, json's values); the time goes to the mapping's rules, not to the parse.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, NamedTuple

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from matcher.core.codes import canonical_code, canonical_system, code_problem
from matcher.core.dates import PartialDate
from matcher.core.errors import MatcherError
from matcher.panel.reading import PanelItem, RawPatient, load_line, map_raw
from matcher.patient.fhir import LACTATION_CODE, PREGNANCY_CODE, patient_from_fhir
from matcher.patient.model import (
    OBSERVATION_RANGES,
    VOID_VERIFICATION,
    ClinicalStatus,
    Condition,
    Medication,
    MedicationStatus,
    Observation,
    Patient,
    VerificationStatus,
)

__all__ = ["PlainPatient", "PlainRecord", "fast_map", "patient_of", "plain_records"]

_CLINICAL_URL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFICATION_URL: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_CLINICAL: Final = {s.value: s for s in ClinicalStatus}
_VERIFICATION: Final = {s.value.replace("_", "-"): s for s in VerificationStatus}
#: MedicationRequest.status of the plain shape (``matcher.patient.fhir``'s table); None drops it.
_REQUEST_STATUS: Final[Mapping[str, MedicationStatus | None]] = {
    "active": MedicationStatus.ACTIVE,
    "on-hold": MedicationStatus.ON_HOLD,
    "completed": MedicationStatus.COMPLETED,
    "stopped": MedicationStatus.STOPPED,
    "cancelled": MedicationStatus.CANCELLED,
    "draft": MedicationStatus.INTENDED,
    "unknown": MedicationStatus.UNKNOWN,
    "entered-in-error": None,
}
#: Intents that keep the request's status (``proposal`` and ``option`` are not plain).
_ORDERED: Final = frozenset(
    {"order", "plan", "original-order", "reflex-order", "filler-order", "instance-order"}
)
_FINAL: Final = frozenset({"final", "amended", "corrected"})
_UCUM: Final = "http://unitsofmeasure.org"
#: Fields of each plain resource: those read below, and those the FHIR mapping never reads.
_IGNORED: Final = frozenset({"resourceType", "id", "meta", "text", "identifier", "encounter"})
_CONDITION_KEYS: Final = _IGNORED | {
    "clinicalStatus",
    "verificationStatus",
    "category",
    "code",
    "subject",
    "onsetDateTime",
    "abatementDateTime",
    "recordedDate",
}
_REQUEST_KEYS: Final = _IGNORED | {
    "status",
    "intent",
    "category",
    "medicationCodeableConcept",
    "subject",
    "authoredOn",
    "requester",
    "reasonReference",
    "reasonCode",
    "dosageInstruction",
}
_OBSERVATION_KEYS: Final = _IGNORED | {
    "status",
    "category",
    "code",
    "subject",
    "effectiveDateTime",
    "valueQuantity",
}
_CONCEPT_KEYS: Final = frozenset({"coding", "text"})
_CODING_KEYS: Final = frozenset({"system", "code", "display"})
_SUBJECT_KEYS: Final = frozenset({"reference", "display"})
#: The Patient fields whose origin ``map_raw`` records.
_PLACES: Final = ("id", "birth_date", "sex", "deceased_date", "attributes")

_Codings = tuple[tuple[str, str], ...]


class _NotPlainError(Exception):
    """The record is not of the plain shape: the patient goes through ``map_raw``."""


_DROPPED: Final = object()


class PlainRecord(NamedTuple):
    """A plain record before it becomes a model: the validated template of its coding (and
    status or unit), its dates (onset and abatement, start, or the reading's date) and value."""

    section: str
    template: Any
    first: PartialDate | None
    last: PartialDate | None = None
    value: float | None = None
    #: The record's id, its source (``Type/id``) and its path in the Bundle ``map_raw`` builds.
    ident: str | None = None
    source: str = ""
    path: str = ""


class PlainPatient(NamedTuple):
    """A patient whose records are all plain (``plain_records``): the Patient resource through
    ``matcher.patient.fhir`` (no records), the sections to mark unreviewed, and the records in
    Bundle order."""

    demographics: Patient
    unreviewed: frozenset[str]
    records: list[PlainRecord]
    #: Where the patient was read (``file:line`` of its Patient resource).
    first: str
    #: Whether the export left sections out (they are then marked on the patient).
    marked: bool


def _text(value: object) -> str | None:
    """A string element as the FHIR mapping reads it (stripped, blank is absent); anything but
    a string is not plain."""
    if isinstance(value, str):  # (the common case first: this runs a few times per record)
        return value.strip() or None
    if value is None:
        return None
    raise _NotPlainError


def _date(value: object) -> PartialDate | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return PartialDate.parse(text)
    except PydanticCustomError:
        raise _NotPlainError from None


def _concept(node: object) -> tuple[_Codings, str | None]:
    """A CodeableConcept's codings (each with system and code) and display."""
    if not isinstance(node, dict) or not node.keys() <= _CONCEPT_KEYS:
        raise _NotPlainError
    codings: list[tuple[str, str]] = []
    first: str | None = None
    if not isinstance(node.get("coding", []), list):
        raise _NotPlainError
    for coding in node.get("coding", ()):
        if not isinstance(coding, dict) or not coding.keys() <= _CODING_KEYS:
            raise _NotPlainError
        system, code = _text(coding.get("system")), _text(coding.get("code"))
        first = first or _text(coding.get("display"))
        if system is None or code is None:
            raise _NotPlainError
        codings.append((system, code))
    display = _text(node.get("text")) or first
    if display is None and all(code_problem(s, c) is not None for s, c in codings):
        raise _NotPlainError  # cannot be identified: skipped by the mapping
    return tuple(codings), display


def _fields(codings: _Codings, display: str | None) -> dict[str, Any]:
    """``system``/``code``/``codes``/``display``, duplicates (after normalisation) once."""
    seen: set[tuple[str, str]] = set()
    unique: list[tuple[str, str]] = []
    for system, code in codings:
        short = canonical_system(system)
        key = (short, canonical_code(short, code))
        if key not in seen:
            seen.add(key)
            unique.append((system, code))
    out: dict[str, Any] = {"display": display}
    if unique:
        out["system"], out["code"] = unique[0]
        out["codes"] = [{"system": s, "code": c} for s, c in unique[1:]]
    return out


def _status(node: object, url: str, allowed: Mapping[str, Any]) -> Any:
    """A Condition status of one coding of its R4 code system, or None when absent."""
    if node is None:
        return None
    if not isinstance(node, dict) or node.keys() != {"coding"}:
        raise _NotPlainError
    codings = node["coding"]
    if not isinstance(codings, list) or len(codings) != 1:
        raise _NotPlainError
    (coding,) = codings
    if not isinstance(coding, dict) or not coding.keys() <= _CODING_KEYS:
        raise _NotPlainError
    if coding.get("system") != url or coding.get("code") not in allowed:
        raise _NotPlainError
    return allowed[coding["code"]]


class _Templates:
    """Validated records per distinct coding (and status or unit): the model runs once each."""

    def __init__(self) -> None:
        self.found: dict[tuple[Any, ...], Any] = {}

    def get(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        template = self.found.get(key)
        if template is None:
            if len(self.found) > 200_000:  # bounded memory on a panel of unique codes
                self.found.clear()
            try:
                template = build()
            except ValidationError:
                raise _NotPlainError from None
            self.found[key] = template
        return template


_TEMPLATES: Final = _Templates()


def _subject(resource: dict[str, Any], reference: str) -> None:
    """The record is the patient's (``reference``: ``Patient/id``)."""
    subject = resource.get("subject")
    if not isinstance(subject, dict) or not subject.keys() <= _SUBJECT_KEYS:
        raise _NotPlainError
    if subject.get("reference") != reference:
        raise _NotPlainError


def _condition_parts(resource: dict[str, Any], reference: str) -> PlainRecord | object:
    if not resource.keys() <= _CONDITION_KEYS:
        raise _NotPlainError
    _subject(resource, reference)
    verified = _status(resource.get("verificationStatus"), _VERIFICATION_URL, _VERIFICATION)
    if verified in VOID_VERIFICATION:
        return _DROPPED
    status = _status(resource.get("clinicalStatus"), _CLINICAL_URL, _CLINICAL)
    codings, display = _concept(resource.get("code"))
    onset = _date(resource.get("onsetDateTime"))
    abatement = _date(resource.get("abatementDateTime"))
    if onset and abatement and abatement.last < onset.first:
        raise _NotPlainError  # the model refuses it: map_raw says where

    def build() -> Condition:
        values = {**_fields(codings, display), "clinical_status": status}
        values.update(verification_status=verified, uncertain=False)
        return Condition.model_validate(values)

    template = _TEMPLATES.get(("c", codings, display, status, verified), build)
    return PlainRecord("conditions", template, onset, abatement)


def _medication_parts(resource: dict[str, Any], reference: str) -> PlainRecord | object:
    if not resource.keys() <= _REQUEST_KEYS:
        raise _NotPlainError
    _subject(resource, reference)
    text = _text(resource.get("status"))
    if text is not None and text not in _REQUEST_STATUS:
        raise _NotPlainError
    status = _REQUEST_STATUS[text] if text else MedicationStatus.UNKNOWN
    if status is None:
        return _DROPPED
    intent = _text(resource.get("intent"))
    if intent is not None and intent not in _ORDERED:
        raise _NotPlainError
    dosages = resource.get("dosageInstruction", [])
    if not isinstance(dosages, list):
        raise _NotPlainError
    for dosage in dosages:
        timing = dosage.get("timing") if isinstance(dosage, dict) else None
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        if not isinstance(dosage, dict) or (timing is not None and not isinstance(timing, dict)):
            raise _NotPlainError
        if repeat is not None and (not isinstance(repeat, dict) or "boundsPeriod" in repeat):
            raise _NotPlainError
    codings, display = _concept(resource.get("medicationCodeableConcept"))
    start = _date(resource.get("authoredOn"))
    template = _TEMPLATES.get(
        ("m", codings, display, status),
        lambda: Medication.model_validate({**_fields(codings, display), "status": status}),
    )
    return PlainRecord("medications", template, start)


def _observation_parts(resource: dict[str, Any], reference: str) -> PlainRecord:
    if not resource.keys() <= _OBSERVATION_KEYS:
        raise _NotPlainError
    _subject(resource, reference)
    status = _text(resource.get("status"))
    if status is not None and status not in _FINAL:
        raise _NotPlainError
    codings, display = _concept(resource.get("code"))
    quantity = resource.get("valueQuantity")
    if not isinstance(quantity, dict) or not quantity.keys() <= {"value", "unit", "system", "code"}:
        raise _NotPlainError
    number = quantity.get("value")
    if isinstance(number, bool) or not isinstance(number, int | float):
        raise _NotPlainError
    value = float(number)
    code, unit = _text(quantity.get("code")), _text(quantity.get("unit"))
    if code is not None and _text(quantity.get("system")) in (None, _UCUM):
        unit = code
    when = _date(resource.get("effectiveDateTime"))
    template = _TEMPLATES.get(
        ("o", codings, display, unit),
        lambda: Observation.model_validate({**_fields(codings, display), "unit": unit}),
    )
    pairs = template.code_pairs()
    if PREGNANCY_CODE in pairs or LACTATION_CODE in pairs:
        raise _NotPlainError
    for pair in pairs:
        bounds = OBSERVATION_RANGES.get(pair)
        if bounds and not bounds[0] <= value <= bounds[1]:
            raise _NotPlainError  # out of range: map_raw reports it
    return PlainRecord("observations", template, when, None, value)


_PARTS: Final[Mapping[str, Callable[[dict[str, Any], str], Any]]] = {
    "Condition": _condition_parts,
    "MedicationRequest": _medication_parts,
    "Observation": _observation_parts,
}


def fast_map(raw: RawPatient) -> PanelItem:
    """``map_raw(raw)``, faster when every record of the patient is plain (see above)."""
    plain = plain_records(raw)
    if plain is None:
        return map_raw(raw)
    return PanelItem(raw.subject, patient_of(plain), (), plain.first)


def plain_records(raw: RawPatient) -> PlainPatient | None:
    """The patient's records without models, when every one is plain; None when the patient
    must be read by ``map_raw``. ``patient_of`` makes the ``Patient``; the columnar engine turns
    the records into fact columns directly (``matcher.panel.columnar``)."""
    if not raw.has_patient or raw.medications:
        return None
    try:
        return _plain(raw)
    except (_NotPlainError, MatcherError, ValueError):
        return None


def _plain(raw: RawPatient) -> PlainPatient | None:
    first = f"{raw.lines[0][0]}:{raw.lines[0][1]}"
    resources = [load_line(text) for _, _, text in raw.lines]
    head = resources[0]
    if not isinstance(head, dict) or head.get("resourceType") != "Patient":
        return None
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": head}]}
    demographics = patient_from_fhir(bundle, source=first)
    ident = head.get("id")
    if demographics.skipped or not isinstance(ident, str):
        return None
    records: list[PlainRecord] = []
    reference = f"Patient/{ident}"
    for number, resource in enumerate(resources[1:], 1):
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        read = _PARTS.get(kind) if isinstance(kind, str) else None
        if read is None:
            return None  # a second Patient, a MedicationStatement...
        record = read(resource, reference)
        if record is _DROPPED:
            continue
        # The record's source as matcher.patient.fhir gives it: Type/id, else its path.
        rid = resource.get("id")
        path = f"entry[{number}].resource"
        source = f"{kind}/{rid}" if isinstance(rid, str) and rid else path
        records.append(record._replace(ident=_text(rid), source=source, path=path))
    unreviewed = frozenset((*demographics.unreviewed, *raw.unreviewed))
    return PlainPatient(demographics, unreviewed, records, first, bool(raw.unreviewed))


def patient_of(plain: PlainPatient) -> Patient:
    """The ``Patient`` that ``map_raw`` reads for a plain patient (records copied from their
    templates, with the origins and sources of the Bundle ``map_raw`` builds)."""
    demographics = plain.demographics
    records: dict[str, list[Any]] = {"conditions": [], "medications": [], "observations": []}
    places: dict[str, tuple[str, int, int]] = {}
    for name in _PLACES:
        _, path, line, column = demographics.origin_of(name)
        if path != name:
            places[name] = (path, line, column)
    for record in plain.records:
        found = records[record.section]
        places[f"{record.section}[{len(found)}]"] = (record.path, 0, 0)
        update: dict[str, Any] = {"id": record.ident, "source": record.source}
        if record.section == "conditions":
            update.update(onset=record.first, abatement=record.last)
        elif record.section == "medications":
            update["start"] = record.first
        else:
            update.update(value=record.value, date=record.first)
        found.append(record.template.model_copy(update=update))
    fields: dict[str, Any] = {name: tuple(found) for name, found in records.items()}
    if plain.marked:
        fields["unreviewed"] = tuple(sorted(plain.unreviewed))
    return demographics.model_copy(update=fields).with_origin(plain.first, places)
