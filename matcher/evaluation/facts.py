"""A patient's records, normalised once per evaluation into numbers both engines compare.

``PatientFacts`` is built from a ``Patient`` and an as-of date. Every date becomes an interval
of day numbers (``date.toordinal()``): a full date is one day, ``2024-05`` is 31 days, a missing
date is as wide as the data allows. Statuses are folded into those intervals, so that each
engine decides "was this drug used in that window?" with four integer comparisons:

* a medication is in use from ``start_lo..start_hi`` until ``end_lo..end_hi``; an active order
  without an end date runs past the as-of date; a completed or stopped one without an end date
  ended at an unknown day between its start and the day before the as-of date (the as-of day
  itself when it started that day); on-hold or unknown-status orders may have ended any time
  after they started; cancelled, not-taken, intended and entered-in-error records are not use
  and are left out;
* a condition holds from ``onset`` until ``abatement`` (the day it resolved, not included);
  without an abatement date it holds past the as-of date unless its clinical status says it
  resolved (then it resolved at an unknown day between its onset and the as-of date); refuted and
  entered-in-error conditions are left out, and unconfirmed, provisional and differential ones,
  and those a reader marked ``uncertain``, can never decide a criterion on their own (``certain``
  is false);
* an observation has a date interval, a value and a unit.

**Partial dates, one rule.** An interval holds every day a date could be, and a bound derived
from another date holds every day *that* date could be: an order started "2025" and completed
without an end date may have started on 2025-12-31 and been taken that day, so as of 2025-12-31
its end interval reaches the as-of day and "in use today" is unknown, never "not current". The
engines then decide a record only when every pair of days the intervals allow gives the same
answer.

The facts also memoise which records belong to which concept set, so that a thousand trials naming
the same drug class look the records up once per patient.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property, lru_cache
from typing import Final, Literal

from matcher.core.codes import SYSTEM_LABELS, display_code, display_unit
from matcher.core.dates import Duration, PartialDate, age_on
from matcher.core.terms import Sex
from matcher.criteria.concepts import ConceptIndex, ConceptKind, ConceptSet, normalise_name
from matcher.evaluation.coverage import Gaps, gaps_of
from matcher.evaluation.results import RecordRef
from matcher.patient.model import (
    VOID_VERIFICATION,
    ClinicalStatus,
    Condition,
    Medication,
    MedicationStatus,
    Observation,
    Patient,
    VerificationStatus,
)

__all__ = [
    "FAR_FUTURE",
    "FAR_PAST",
    "ConditionFact",
    "MedicationFact",
    "ObservationFact",
    "PatientFacts",
    "StatusFact",
    "condition_certain",
    "condition_days",
    "day",
    "medication_days",
    "record_days",
    "record_words",
]

#: Day numbers beyond any real date, for "no lower bound" and "still going".
FAR_PAST: Final = 0
FAR_FUTURE: Final = date.max.toordinal() + 1

_NOT_USE: Final = frozenset(
    {
        MedicationStatus.CANCELLED,
        MedicationStatus.NOT_TAKEN,
        MedicationStatus.INTENDED,
        MedicationStatus.ENTERED_IN_ERROR,
    }
)
_ENDED: Final = frozenset({MedicationStatus.COMPLETED, MedicationStatus.STOPPED})
_OPEN_END: Final = frozenset({MedicationStatus.ON_HOLD, MedicationStatus.UNKNOWN})
_RESOLVED: Final = frozenset(
    {ClinicalStatus.INACTIVE, ClinicalStatus.REMISSION, ClinicalStatus.RESOLVED}
)
_UNCERTAIN: Final = frozenset(
    {
        VerificationStatus.UNCONFIRMED,
        VerificationStatus.PROVISIONAL,
        VerificationStatus.DIFFERENTIAL,
    }
)


def day(number: int) -> date:
    """The date of a day number (clamped to real dates)."""
    return date.fromordinal(min(max(number, 1), FAR_FUTURE - 1))


def _label(record: Condition | Medication | Observation) -> str:
    """``Clonazepam [Klonopin] (RxNorm 1153378)``: the name people recognise, and the code."""
    pairs = record.code_pairs()
    code = ""
    if pairs:
        system, value = pairs[0]
        code = f"{SYSTEM_LABELS.get(system, system)} {display_code(system, value)}"
    if record.display and code:
        return f"{record.display} ({code})"
    return record.display or code


def _words(record: Condition | Medication | Observation) -> tuple[str, ...]:
    return record_words(record.display)


def _ref(
    where: str,
    record: Condition | Medication | Observation,
    first: PartialDate | None,
    last: PartialDate | None = None,
) -> RecordRef:
    """``record`` at ``where`` (``conditions[3]``) as the data a result cites (the main code as
    written in its system: ICD-10-CM with its dot)."""
    pairs = record.code_pairs()
    system, code = (pairs[0][0], display_code(*pairs[0])) if pairs else (None, None)
    value = record.value if isinstance(record, Observation) else None
    unit = record.unit if isinstance(record, Observation) else None
    return RecordRef(
        where,
        record.source or record.id,
        system,
        code,
        record.display,
        str(first) if first else None,
        str(last) if last else None,
        value,
        unit,
    )


@dataclass(frozen=True)
class ConditionFact:
    index: int
    label: str
    #: The record as data, for results that cite it (see ``matcher.results.RecordRef``).
    ref: RecordRef
    codes: tuple[tuple[str, str], ...]
    words: tuple[str, ...]
    certain: bool
    onset_lo: int
    onset_hi: int
    abate_lo: int
    abate_hi: int
    onset: PartialDate | None
    abatement: PartialDate | None
    status: ClinicalStatus | None

    def describe(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The record as evidence, built once per patient however many rules cite it."""
        onset = f"onset {self.onset}" if self.onset else "onset not recorded"
        if self.abatement:
            state = f"resolved {self.abatement}"
        elif self.status in _RESOLVED:
            state = f"{self.status}"
        else:
            state = "active"
        unsure = "" if self.certain else ", not confirmed"
        return f"{self.label}, {onset}, {state}{unsure}"


@dataclass(frozen=True)
class MedicationFact:
    index: int
    label: str
    #: The record as data, for results that cite it (see ``matcher.results.RecordRef``).
    ref: RecordRef
    codes: tuple[tuple[str, str], ...]
    words: tuple[str, ...]
    start_lo: int
    start_hi: int
    end_lo: int
    end_hi: int
    start: PartialDate | None
    end: PartialDate | None
    status: MedicationStatus | None

    @property
    def ongoing(self) -> bool:
        """True when no end is known and the record may still be running."""
        return self.end is None and self.end_hi == FAR_FUTURE

    def describe(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The record as evidence, built once per patient however many rules cite it."""
        start = f"started {self.start}" if self.start else "start not recorded"
        if self.end:
            finish = f"ended {self.end}"
        elif self.status in _ENDED:
            finish = f"{self.status}, end date not recorded"
        elif self.status in _OPEN_END:
            finish = f"status {self.status.value.replace('_', ' ')}" if self.status else "ongoing"
        else:
            finish = "ongoing"
        return f"{self.label}, {start}, {finish}"


@dataclass(frozen=True)
class ObservationFact:
    index: int
    label: str
    #: The record as data, for results that cite it (see ``matcher.results.RecordRef``).
    ref: RecordRef
    codes: tuple[tuple[str, str], ...]
    words: tuple[str, ...]
    date_lo: int
    date_hi: int
    date: PartialDate | None
    value: float | None
    unit: str | None

    def value_text(self) -> str:
        """``186 mmHg``, ``6`` (a score), or ``no value``."""
        if self.value is None:
            return "no value"
        return f"{self.value:g}{display_unit(self.unit)}"

    def reading(self) -> str:
        """``186 mmHg on 2026-11-15``."""
        when = f"on {self.date}" if self.date else "date not recorded"
        return f"{self.value_text()} {when}"

    def describe(self) -> str:
        return self.text

    @cached_property
    def text(self) -> str:
        """The record as evidence, built once per patient however many rules cite it."""
        return f"{self.label}: {self.reading()}"


@dataclass(frozen=True, slots=True)
class StatusFact:
    """Pregnancy or lactation status: ``positive`` is pregnant (lactating)."""

    positive: bool
    date_lo: int
    date_hi: int
    date: PartialDate | None

    def ref(self, what: Literal["pregnant", "lactating"]) -> RecordRef:
        """The status record as the data a result cites."""
        field = "pregnancy" if what == "pregnant" else "lactation"
        return RecordRef(field, date=str(self.date) if self.date else None, value=self.positive)

    def describe(self, what: str) -> str:
        state = what if self.positive else f"not {what}"
        if self.date is None:
            return f"recorded as {state}, date not recorded"
        return f"recorded as {state} {'on' if self.date.day else 'in'} {self.date}"


@dataclass(eq=False)
class PatientFacts:
    """Everything the engines need about one patient on one as-of date."""

    patient_id: str
    as_of: date
    today: int
    birth_date: PartialDate | None
    age_lo: int | None
    age_hi: int | None
    sex: Sex | None
    attributes: dict[str, str | bool]
    deceased: bool
    deceased_date: PartialDate | None
    conditions: tuple[ConditionFact, ...]
    medications: tuple[MedicationFact, ...]
    observations: tuple[ObservationFact, ...]
    pregnancy: StatusFact | None
    lactation: StatusFact | None
    conditions_complete: bool
    medications_complete: bool
    #: The patient the facts were built from (to see the same record on a later day).
    patient: Patient | None = field(default=None, repr=False)
    #: The records the reader skipped, by section (see ``matcher.evaluation.coverage``).
    gaps: Gaps = field(default_factory=lambda: Gaps({}), repr=False)
    _members: dict[tuple[int, ConceptKind], tuple[int, ...]] = field(default_factory=dict)
    _windows: dict[Duration, int] = field(default_factory=dict)
    _uncertain: dict[tuple[int, ConceptKind], frozenset[int]] = field(default_factory=dict)
    _holding: dict[tuple[int, ConceptKind], list[tuple[frozenset[int], frozenset[int]]]] = field(
        default_factory=dict
    )
    _resembles: dict[tuple[int, int], dict[int, str]] = field(default_factory=dict)

    def status(self, what: Literal["pregnant", "lactating"]) -> StatusFact | None:
        """The pregnancy or the lactation status record."""
        return self.pregnancy if what == "pregnant" else self.lactation

    def birth_ref(self) -> RecordRef:
        """The birth date as the data a result cites."""
        return RecordRef("birth_date", date=str(self.birth_date) if self.birth_date else None)

    def sex_ref(self) -> RecordRef:
        return RecordRef("sex", value=self.sex.value if self.sex else None)

    def attribute_ref(self, name: str) -> RecordRef:
        return RecordRef(f"attributes.{name}", value=self.attributes.get(name))

    def window_start(self, span: Duration) -> int:
        """Day number of the first day of "the last ``span``" before the as-of date."""
        start = self._windows.get(span)
        if start is None:
            start = self._windows[span] = span.before(self.as_of).toordinal()
        return start

    @classmethod
    def build(cls, patient: Patient, as_of: date) -> PatientFacts:
        today = as_of.toordinal()
        age_lo = age_hi = None
        if patient.birth_date is not None:
            age_lo = age_on(patient.birth_date.last, as_of)
            age_hi = age_on(patient.birth_date.first, as_of)
        return cls(
            patient_id=patient.id,
            as_of=as_of,
            today=today,
            birth_date=patient.birth_date,
            age_lo=age_lo,
            age_hi=age_hi,
            sex=patient.sex,
            attributes=dict(patient.attributes),
            deceased=patient.deceased,
            deceased_date=patient.deceased_date,
            conditions=tuple(
                fact
                for i, c in enumerate(patient.conditions)
                if (fact := _condition(i, c, today)) is not None
            ),
            medications=tuple(
                med
                for i, m in enumerate(patient.medications)
                if (med := _medication(i, m, today)) is not None
            ),
            observations=tuple(
                _observation(i, o, today) for i, o in enumerate(patient.observations)
            ),
            pregnancy=_status(patient.pregnancy.pregnant, patient.pregnancy.date, today)
            if patient.pregnancy
            else None,
            lactation=_status(patient.lactation.lactating, patient.lactation.date, today)
            if patient.lactation
            else None,
            conditions_complete="conditions" not in patient.unreviewed,
            medications_complete="medications" not in patient.unreviewed,
            patient=patient,
            gaps=gaps_of(patient),
        )

    def later(self, as_of: date, stopped: Collection[str]) -> PatientFacts:
        """The same record seen on a later day, as if nothing new were recorded, with the ongoing
        medications labelled ``stopped`` ending on this evaluation's as-of day (what an
        "eligible from" date assumes)."""
        assert self.patient is not None, "facts built by PatientFacts.build know their patient"
        facts = PatientFacts.build(self.patient, as_of)
        if stopped:
            today = self.today
            facts.medications = tuple(
                replace(m, end_lo=min(m.end_lo, today), end_hi=min(m.end_hi, today))
                if m.label in stopped and m.end_hi >= FAR_FUTURE
                else m
                for m in facts.medications
            )
        return facts

    def members(self, concept: ConceptSet) -> tuple[int, ...]:
        """Positions of the records (of the concept's kind) that belong to ``concept``, or may
        (see ``uncertain``)."""
        key = (id(concept), concept.kind)
        found = self._members.get(key)
        if found is None:
            records = self._records(concept.kind)
            index = concept.index
            if index is None:  # an ad-hoc set (one ingredient): test each record
                found = tuple(
                    position
                    for position, record in enumerate(records)
                    if concept.matches_code(record.codes) or concept.matches_name(record.words)
                )
            else:  # look each record up once in the library's index, then filter
                holding = self._holding_of(index, concept.kind, records)
                ident = id(concept)
                found = tuple(
                    i for i, (sure, maybe) in enumerate(holding) if ident in sure or ident in maybe
                )
            self._members[key] = found
        return found

    def uncertain(self, concept: ConceptSet) -> frozenset[int]:
        """Positions of the records that are possible members of ``concept`` only (codes listed
        under its ``possible``, WHO ICD-10 codes that ICD-10-CM splits further): they may make a
        rule unknown, never met."""
        key = (id(concept), concept.kind)
        found = self._uncertain.get(key)
        if found is None:
            found = frozenset()
            if concept.index is not None:
                records = self._records(concept.kind)
                holding = self._holding_of(concept.index, concept.kind, records)
                ident = id(concept)
                found = frozenset(i for i, (_, maybe) in enumerate(holding) if ident in maybe)
            self._uncertain[key] = found
        return found

    def _records(
        self, kind: ConceptKind
    ) -> Sequence[ConditionFact | MedicationFact | ObservationFact]:
        if kind is ConceptKind.CONDITION:
            return self.conditions
        return self.medications if kind is ConceptKind.MEDICATION else self.observations

    def _holding_of(
        self,
        index: ConceptIndex,
        kind: ConceptKind,
        records: Sequence[ConditionFact | MedicationFact | ObservationFact],
    ) -> list[tuple[frozenset[int], frozenset[int]]]:
        """The sets each record belongs to (and may belong to), looked up once per patient."""
        holding = self._holding.get((id(index), kind))
        if holding is None:
            holding = [index.holding(r.codes, r.words) for r in records]
            if kind is ConceptKind.MEDICATION:
                for i, (record, (sure, maybe)) in enumerate(zip(records, holding, strict=True)):
                    if not sure and not maybe and record.words:
                        near = index.near_misses(record.words)
                        if near:
                            holding[i] = (frozenset(), frozenset(near))
                            self._resembles[(id(index), i)] = near
            self._holding[(id(index), kind)] = holding
        return holding

    def resembles(self, concept: ConceptSet, position: int) -> str | None:
        """The member name of ``concept`` that the medication at ``position`` nearly spells,
        if it is a possible member by a near miss only (see ``ConceptIndex.near_misses``)."""
        if concept.index is None:
            return None
        self.uncertain(concept)
        return self._resembles.get((id(concept.index), position), {}).get(id(concept))


def _interval(value: PartialDate | None, missing_lo: int, missing_hi: int) -> tuple[int, int]:
    if value is None:
        return missing_lo, missing_hi
    return value.first.toordinal(), value.last.toordinal()


def condition_days(
    onset: PartialDate | None,
    abatement: PartialDate | None,
    status: ClinicalStatus | None,
    today: int,
) -> tuple[int, int, int, int]:
    """A condition's onset and abatement intervals (day numbers): ``onset_lo, onset_hi,
    abate_lo, abate_hi`` (also read by the panel's columnar ingest)."""
    onset_lo, onset_hi = _interval(onset, FAR_PAST, today)
    if abatement is not None:
        abate_lo, abate_hi = _interval(abatement, FAR_PAST, FAR_FUTURE)
    elif status in _RESOLVED:
        # Resolved by the as-of day: not active on it, at the latest resolved that day.
        abate_lo, abate_hi = onset_lo, max(onset_lo, today)
    else:
        abate_lo = abate_hi = FAR_FUTURE
    return onset_lo, onset_hi, abate_lo, abate_hi


def condition_certain(verification: VerificationStatus | None, uncertain: bool) -> bool:
    """Whether a condition record can decide a criterion on its own."""
    return verification not in _UNCERTAIN and not uncertain


def _condition(index: int, record: Condition, today: int) -> ConditionFact | None:
    if record.verification_status in VOID_VERIFICATION:
        return None
    onset_lo, onset_hi, abate_lo, abate_hi = condition_days(
        record.onset, record.abatement, record.clinical_status, today
    )
    return ConditionFact(
        index=index,
        label=_label(record),
        ref=_ref(f"conditions[{index}]", record, record.onset, record.abatement),
        codes=record.code_pairs(),
        words=_words(record),
        certain=condition_certain(record.verification_status, record.uncertain),
        onset_lo=onset_lo,
        onset_hi=onset_hi,
        abate_lo=abate_lo,
        abate_hi=abate_hi,
        onset=record.onset,
        abatement=record.abatement,
        status=record.clinical_status,
    )


def medication_days(
    start: PartialDate | None,
    end: PartialDate | None,
    status: MedicationStatus | None,
    today: int,
) -> tuple[int, int, int, int] | None:
    """A medication's start and end intervals (day numbers): ``start_lo, start_hi, end_lo,
    end_hi``; None for a record that is not use (also read by the panel's columnar ingest)."""
    if status in _NOT_USE:
        return None
    start_lo, start_hi = _interval(start, FAR_PAST, today)
    if end is not None:
        end_lo, end_hi = _interval(end, FAR_PAST, FAR_FUTURE)
    elif status in _ENDED:
        # Ended before the as-of day, unless it started that very day (then it ended that day):
        # a start known only to the month or year may be the as-of day itself.
        end_lo, end_hi = start_lo, max(start_lo, min(start_hi, today), today - 1)
    elif status in _OPEN_END:
        end_lo, end_hi = start_lo, FAR_FUTURE
    else:
        end_lo = end_hi = FAR_FUTURE
    return start_lo, start_hi, end_lo, end_hi


def record_days(when: PartialDate | None, today: int) -> tuple[int, int]:
    """An observation's (or status record's) date interval: every day it could be, up to today
    when it is missing."""
    return _interval(when, FAR_PAST, today)


@lru_cache(maxsize=1 << 16)
def record_words(display: str | None) -> tuple[str, ...]:
    """The name words a record is matched by (``normalise_name`` of its display). Remembered
    per display: a panel repeats a few thousand names over millions of records, and the facts
    of a patient are built again for each later day an eligible-from date is checked on."""
    return normalise_name(display) if display else ()


def _medication(index: int, record: Medication, today: int) -> MedicationFact | None:
    days = medication_days(record.start, record.end, record.status, today)
    if days is None:
        return None
    start_lo, start_hi, end_lo, end_hi = days
    return MedicationFact(
        index=index,
        label=_label(record),
        ref=_ref(f"medications[{index}]", record, record.start, record.end),
        codes=record.code_pairs(),
        words=_words(record),
        start_lo=start_lo,
        start_hi=start_hi,
        end_lo=end_lo,
        end_hi=end_hi,
        start=record.start,
        end=record.end,
        status=record.status,
    )


def _observation(index: int, record: Observation, today: int) -> ObservationFact:
    date_lo, date_hi = record_days(record.date, today)
    return ObservationFact(
        index=index,
        label=_label(record),
        ref=_ref(f"observations[{index}]", record, record.date),
        codes=record.code_pairs(),
        words=_words(record),
        date_lo=date_lo,
        date_hi=date_hi,
        date=record.date,
        value=record.value,
        unit=record.unit,
    )


def _status(positive: bool, when: PartialDate | None, today: int) -> StatusFact:
    date_lo, date_hi = _interval(when, FAR_PAST, today)
    return StatusFact(positive, date_lo, date_hi, when)
