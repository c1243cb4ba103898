"""The columnar engine: a batch of patients as fact columns, each leaf rule a vectorised predicate.

How a batch is decided (``ColumnarEngine.evaluate_columns``):

1. **Facts as columns** (``FactColumns``): per patient the age bounds, sex, attributes, the
   pregnancy and lactation status, whether the condition and medication lists were reviewed, and
   the implicit ``alive`` state; per section a record table (patient row, day intervals as in
   ``matcher.facts``, value and unit for readings) whose codes and name words are one *key* per
   distinct record coding. Codes are resolved to concept-set membership once per distinct key
   and concept set (``ConceptIndex.holding``, near misses for medication names), never per record.
2. **Leaves** (``_leaf_states``): each distinct leaf of the trials becomes one small integer
   column, its *state* per patient: the three-valued outcome, whether time alone may change it
   (a ``leaves_on`` day), and which of the leaf's fixed "missing fact" phrases applies. The
   record conditions are those of ``matcher.engines.python``, as numpy comparisons on the
   intervals, counted per patient.
3. **Criteria and verdicts** are not re-implemented: per trial the patients are grouped by their
   pattern of leaf states (and ``alive`` state), and each distinct pattern is decided once by
   ``matcher.evaluate.evaluate_trials`` itself, from ``LeafResult`` templates. The templates'
   missing-fact phrases are those ``matcher.leaves`` gives a representative patient of that state
   (its own record through the python engine), which also checks the vectorised outcome.
4. **Fallbacks to the row engine** (``RowEngine``, i.e. ``matcher.check``), counted in
   ``ColumnarEngine.stats``: a patient whose reader skipped records (``Patient.skipped``: "could
   a skipped record be a member?" is decided by ``matcher.coverage`` record by record); a leaf
   state whose explanation depends on the patient's own records (a condition record that only
   possibly qualifies, readings of the same period that disagree, a mean over readings that may
   or may not fall in the window); and a patient-trial the patterns say may have an
   "eligible from" date (``matcher.evaluate`` confirms it by evaluating again on that day).

The answers are those of the row engine, code for code (tests/test_panel_columnar.py compares
them on thousands of generated patients). ``evaluate(patients, ...)`` builds the columns from
``Patient`` objects; ``evaluate_raw(raws, ...)`` from a batch of Bulk patients, plain records
straight from their parsed lines (``columns_of_raw``, ``matcher.panel.ingest.plain_records``),
the others through ``fast_map``; ``evaluate_columns(columns, trials)`` is the entry point for
columns built elsewhere, e.g. per partition of a larger run: it holds no state between calls but
the counters, and needs nothing but the columns and the compiled trials.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import chain
from typing import Any, Final, assert_never

import numpy as np

from matcher.core.codes import unit_factor
from matcher.core.dates import Duration, PartialDate
from matcher.core.errors import PatientError
from matcher.core.outcome import MET, NOT_MET, REVIEW, UNKNOWN, Outcome, ReviewKind, Verdict
from matcher.core.terms import Sex
from matcher.criteria.compiler import (
    AgeLeaf,
    AttributeLeaf,
    CompiledCriterion,
    CompiledTrial,
    ConditionLeaf,
    Leaf,
    MedicationLeaf,
    ObservationLeaf,
    SexLeaf,
    StatusLeaf,
    iter_leaves,
)
from matcher.criteria.concepts import ConceptKind, ConceptSet
from matcher.evaluation.engines.python import match
from matcher.evaluation.evaluate import SCORE_BANDS, evaluate_trials, prepare
from matcher.evaluation.facts import (
    FAR_FUTURE,
    FAR_PAST,
    PatientFacts,
    condition_certain,
    condition_days,
    medication_days,
    record_days,
    record_words,
)
from matcher.evaluation.leaves import LeafResult, leaf_result
from matcher.evaluation.results import CheckResult
from matcher.panel.batch import (
    OUTCOME_CODES,
    VERDICT_CODES,
    OutcomeMatrix,
    RowEngine,
    TrialColumns,
    TrialShape,
)
from matcher.panel.ingest import PlainPatient, fast_map, patient_of, plain_records
from matcher.panel.reading import PanelItem, RawPatient
from matcher.patient.model import Patient

__all__ = [
    "ColumnarEngine",
    "ColumnarStats",
    "FactColumns",
    "RawColumns",
    "Records",
    "columns_of",
    "columns_of_raw",
]

Array = Any  # numpy arrays (numpy's own types would tie mypy to numpy's version)

# Leaf states: the outcome, whether it may change with time alone, and which fixed missing-fact
# phrase applies (a, b). ``COMPLEX``: the explanation depends on the records; the row engine
# decides such patient-trials.
NM, UA, MT, NM_T, MT_T, UB, COMPLEX = range(7)
_STATES: Final = 7
_STATE_OUTCOME: Final = {
    NM: NOT_MET,
    UA: UNKNOWN,
    MT: MET,
    NM_T: NOT_MET,
    MT_T: MET,
    UB: UNKNOWN,
}
_TIMED: Final = frozenset({NM_T, MT_T})
#: A day standing for "some later day": only whether a ``leaves_on`` exists matters here.
_SOMEDAY: Final = date.max
#: ``alive`` states: no implicit criterion, not met (died), unknown (may have died).
ALIVE_NONE, ALIVE_DEAD, ALIVE_MAYBE = range(3)
_ALIVE_CODE: Final = {ALIVE_NONE: 2, ALIVE_DEAD: 0, ALIVE_MAYBE: 1}
_SEXES: Final = (None, *Sex)
#: ``age_lo``/``age_hi`` without a birth date (an age may be -1: born later in the year).
NO_AGE: Final = -(10**9)


@dataclass(frozen=True)
class Records:
    """One section's records: a row per record, ``patient`` the row of its patient (ascending).

    ``key`` indexes ``keys`` (the record's codes and name words). Conditions use ``a_lo..a_hi``
    for the onset, ``b_lo..b_hi`` for the abatement and ``certain``; medications ``a`` for the
    start and ``b`` for the end; observations ``a`` for the date, ``value`` (NaN when absent,
    see ``has_value``) and ``unit`` (indexing ``units``).
    """

    patient: Array
    key: Array
    a_lo: Array
    a_hi: Array
    b_lo: Array
    b_hi: Array
    certain: Array
    value: Array
    has_value: Array
    unit: Array
    keys: tuple[tuple[tuple[tuple[str, str], ...], tuple[str, ...]], ...]
    units: tuple[str | None, ...]


@dataclass
class FactColumns:
    """A batch of patients as columns, as of one day (see the module docstring).

    Per-patient arrays have one item per patient, in ``ids`` order. ``age_lo``/``age_hi`` are
    ``NO_AGE`` without a birth date; ``sex`` indexes ``(None, female, male)``; ``attributes``
    maps a name to one value per patient (None when not recorded); ``pregnancy`` and
    ``lactation`` are -1 (no record), 0 (negative) or 1 (positive) with their date intervals;
    ``alive`` is one of the ``ALIVE_*`` states; ``row_only`` marks patients the row engine must
    decide. ``patient(i)`` gives the ``Patient`` of row ``i`` for the row engine and for
    representatives.
    """

    as_of: date
    ids: tuple[str, ...]
    age_lo: Array
    age_hi: Array
    sex: Array
    attributes: dict[str, list[str | bool | None]]
    pregnancy: tuple[Array, Array, Array]
    lactation: tuple[Array, Array, Array]
    conditions_complete: Array
    medications_complete: Array
    alive: Array
    row_only: Array
    conditions: Records
    medications: Records
    observations: Records
    patient: Callable[[int], Patient]
    _facts: dict[int, PatientFacts] = field(default_factory=dict, repr=False)

    @property
    def today(self) -> int:
        return self.as_of.toordinal()

    def facts(self, row: int) -> PatientFacts:
        """The ``PatientFacts`` of row ``row`` (built once)."""
        found = self._facts.get(row)
        if found is None:
            found = self._facts[row] = prepare(self.patient(row), self.as_of)
        return found


class RecordsBuilder:
    """Collects one section's records row by row, then makes ``Records``."""

    def __init__(self) -> None:
        self.keys: dict[tuple[tuple[tuple[str, str], ...], tuple[str, ...]], int] = {}
        self.units: dict[str | None, int] = {}
        self.rows: list[tuple[int, int, int, int, int, int, bool, float, bool, int]] = []

    def add(
        self,
        patient: int,
        codes: tuple[tuple[str, str], ...],
        words: tuple[str, ...],
        a: tuple[int, int],
        b: tuple[int, int] = (0, 0),
        certain: bool = True,
        value: float | None = None,
        unit: str | None = None,
    ) -> None:
        key = self.keys.setdefault((codes, words), len(self.keys))
        unit_id = self.units.setdefault(unit, len(self.units))
        number = float("nan") if value is None else value
        self.rows.append(
            (patient, key, a[0], a[1], b[0], b[1], certain, number, value is not None, unit_id)
        )

    def build(self) -> Records:
        rows = self.rows
        columns = list(zip(*rows, strict=True)) if rows else [()] * 10
        ints = [np.asarray(c, dtype=np.int64) for c in columns[:6]]
        return Records(
            patient=ints[0],
            key=ints[1],
            a_lo=ints[2],
            a_hi=ints[3],
            b_lo=ints[4],
            b_hi=ints[5],
            certain=np.asarray(columns[6], dtype=bool),
            value=np.asarray(columns[7], dtype=np.float64),
            has_value=np.asarray(columns[8], dtype=bool),
            unit=np.asarray(columns[9], dtype=np.int64),
            keys=tuple(self.keys),
            units=tuple(self.units),
        )


def alive_state(deceased: bool, died: PartialDate | None, as_of: date) -> int:
    """The implicit criterion ``alive`` as ``matcher.evaluate`` decides it (see ``_alive``)."""
    if not deceased:
        return ALIVE_NONE
    if died is None or died.last <= as_of:
        return ALIVE_DEAD
    return ALIVE_MAYBE if died.first <= as_of else ALIVE_NONE


def _age_or(age: int | None) -> int:
    return NO_AGE if age is None else age


class _ColumnsBuilder:
    """Collects a batch's patients, from their ``PatientFacts`` or straight from plain Bulk
    records (``matcher.panel.ingest.plain_records``), then makes ``FactColumns``."""

    def __init__(self, as_of: date) -> None:
        self.as_of = as_of
        self.today = as_of.toordinal()
        self.conditions = RecordsBuilder()
        self.medications = RecordsBuilder()
        self.observations = RecordsBuilder()
        self.attributes: dict[str, dict[int, str | bool]] = {}
        self.statuses: list[tuple[int, int, int, int, int, int]] = []
        self.ids: list[str] = []
        self.people: list[tuple[int, int, int, bool, bool, int, bool]] = []
        self.facts: dict[int, PatientFacts] = {}
        #: Per template: its codes and name words (the template is kept, so its id stays).
        self.features: dict[int, tuple[Any, tuple[tuple[str, str], ...], tuple[str, ...]]] = {}

    def _person(self, facts: PatientFacts, conditions: bool, medications: bool) -> int:
        row = len(self.ids)
        self.ids.append(facts.patient_id)
        status: list[int] = []
        for found in (facts.pregnancy, facts.lactation):
            if found is None:
                status.extend((-1, -1, -1))
            else:
                status.extend((int(found.positive), found.date_lo, found.date_hi))
        self.statuses.append((status[0], status[1], status[2], status[3], status[4], status[5]))
        self.people.append(
            (
                _age_or(facts.age_lo),
                _age_or(facts.age_hi),
                _SEXES.index(facts.sex),
                conditions,
                medications,
                alive_state(facts.deceased, facts.deceased_date, self.as_of),
                bool(facts.gaps),
            )
        )
        for name, value in facts.attributes.items():
            self.attributes.setdefault(name, {})[row] = value
        return row

    def add_facts(self, facts: PatientFacts) -> None:
        row = self._person(facts, facts.conditions_complete, facts.medications_complete)
        self.facts[row] = facts
        for c in facts.conditions:
            self.conditions.add(
                row, c.codes, c.words, (c.onset_lo, c.onset_hi), (c.abate_lo, c.abate_hi), c.certain
            )
        for m in facts.medications:
            self.medications.add(
                row, m.codes, m.words, (m.start_lo, m.start_hi), (m.end_lo, m.end_hi)
            )
        for o in facts.observations:
            self.observations.add(
                row, o.codes, o.words, (o.date_lo, o.date_hi), value=o.value, unit=o.unit
            )

    def add_plain(self, plain: PlainPatient, facts: PatientFacts) -> None:
        """A patient of plain records: ``facts`` are those of its demographics (no records); the
        records' intervals come from the same functions ``PatientFacts`` uses."""
        row = self._person(
            facts, "conditions" not in plain.unreviewed, "medications" not in plain.unreviewed
        )
        today = self.today
        for record in plain.records:
            template = record.template
            found = self.features.get(id(template))
            if found is None:
                if len(self.features) > 100_000:
                    self.features.clear()
                found = (template, template.code_pairs(), record_words(template.display))
                self.features[id(template)] = found
            _, codes, words = found
            if record.section == "conditions":
                olo, ohi, alo, ahi = condition_days(
                    record.first, record.last, template.clinical_status, today
                )
                certain = condition_certain(template.verification_status, template.uncertain)
                self.conditions.add(row, codes, words, (olo, ohi), (alo, ahi), certain)
            elif record.section == "medications":
                days = medication_days(record.first, record.last, template.status, today)
                if days is not None:
                    self.medications.add(row, codes, words, days[:2], days[2:])
            else:
                when = record_days(record.first, today)
                self.observations.add(
                    row, codes, words, when, value=record.value, unit=template.unit
                )

    def build(self, patient: Callable[[int], Patient]) -> FactColumns:
        n = len(self.ids)
        people = list(zip(*self.people, strict=True)) if n else [()] * 7
        statuses = np.asarray(self.statuses, dtype=np.int64).reshape(n, 6).T
        attributes: dict[str, list[str | bool | None]] = {}
        for name, values in self.attributes.items():
            column: list[str | bool | None] = [None] * n
            for row, value in values.items():
                column[row] = value
            attributes[name] = column
        columns = FactColumns(
            as_of=self.as_of,
            ids=tuple(self.ids),
            age_lo=np.asarray(people[0], dtype=np.int64),
            age_hi=np.asarray(people[1], dtype=np.int64),
            sex=np.asarray(people[2], dtype=np.int8),
            attributes=attributes,
            pregnancy=(statuses[0], statuses[1], statuses[2]),
            lactation=(statuses[3], statuses[4], statuses[5]),
            conditions_complete=np.asarray(people[3], dtype=bool),
            medications_complete=np.asarray(people[4], dtype=bool),
            alive=np.asarray(people[5], dtype=np.int8),
            row_only=np.asarray(people[6], dtype=bool),
            conditions=self.conditions.build(),
            medications=self.medications.build(),
            observations=self.observations.build(),
            patient=patient,
        )
        columns._facts.update(self.facts)
        return columns


def columns_of(patients: Sequence[Patient], as_of: date) -> FactColumns:
    """The columns of ``patients`` (from their ``PatientFacts``); raises ``PatientError`` for a
    patient that contradicts the as-of date, as ``matcher.check`` does."""
    builder = _ColumnsBuilder(as_of)
    for facts in [prepare(p, as_of) for p in patients]:
        builder.add_facts(facts)
    return builder.build(lambda row: patients[row])


@dataclass
class RawColumns:
    """A batch of Bulk patients read into columns (``columns_of_raw``)."""

    #: Patients that could not be read (as ``map_raw`` reports them), in input order.
    unread: list[PanelItem]
    #: Patients that contradict the as-of date (as ``matcher.check`` reports them).
    refused: list[PanelItem]
    columns: FactColumns | None


def columns_of_raw(raws: Sequence[RawPatient], as_of: date) -> RawColumns:
    """The columns of a batch of Bulk patients: plain ones straight from their records
    (``plain_records``, no ``Patient`` objects), the others through ``fast_map`` (that is,
    ``matcher.patient.fhir`` where needed) and their ``PatientFacts``. A ``Patient`` is made
    for a plain patient only when the engine asks for it (a representative, the row engine)."""
    builder = _ColumnsBuilder(as_of)
    unread: list[PanelItem] = []
    refused: list[PanelItem] = []
    sources: list[PlainPatient | Patient] = []
    for raw in raws:
        plain = plain_records(raw)
        if plain is not None:
            try:
                facts = prepare(plain.demographics, as_of)
            except PatientError:
                plain = None  # reported with the places of the whole patient, below
            else:
                builder.add_plain(plain, facts)
                sources.append(plain)
                continue
        item = fast_map(raw)
        if item.patient is None:
            unread.append(item)
            continue
        try:
            facts = prepare(item.patient, as_of)
        except PatientError as exc:
            refused.append(
                PanelItem(item.patient.id, None, tuple(exc.diagnostics), item.patient.id)
            )
            continue
        builder.add_facts(facts)
        sources.append(item.patient)
    if not sources:
        return RawColumns(unread, refused, None)
    made: dict[int, Patient] = {}

    def patient(row: int) -> Patient:
        found = sources[row]
        if isinstance(found, Patient):
            return found
        person = made.get(row)
        if person is None:
            person = made[row] = patient_of(found)
        return person

    return RawColumns(unread, refused, builder.build(patient))


# --- leaves --------------------------------------------------------------------------------------


def _count(mask: Array, patient: Array, n: int) -> Array:
    return np.bincount(patient[mask], minlength=n)


def _window(columns: FactColumns, span: Duration) -> int:
    return span.before(columns.as_of).toordinal()


@dataclass
class _Membership:
    """Concept-set membership of each distinct record key, one array per (section, set).

    Each key is looked up once per section in its library's index (``ConceptIndex.holding``, and
    ``near_misses`` for a medication name no set holds), as ``PatientFacts.members`` and
    ``PatientFacts.uncertain`` do record by record."""

    memo: dict[tuple[int, int], Array] = field(default_factory=dict)
    held: dict[tuple[int, int], tuple[dict[int, Array], dict[int, Array]]] = field(
        default_factory=dict
    )

    def of(self, concept: ConceptSet, records: Records) -> Array:
        """Per record: 0 not a member, 1 a member, 2 a possible member only (``uncertain``)."""
        found = self.memo.get((id(concept), id(records)))
        if found is None:
            per_key = self._per_key(concept, records)
            found = per_key[records.key] if len(per_key) else np.zeros(0, dtype=np.int8)
            self.memo[(id(concept), id(records))] = found
        return found

    def _per_key(self, concept: ConceptSet, records: Records) -> Array:
        index = concept.index
        if index is None:  # an ad-hoc set (one ingredient): test each key
            return np.asarray(
                [concept.matches_code(c) or concept.matches_name(w) for c, w in records.keys],
                dtype=np.int8,
            )
        held = self.held.get((id(index), id(records)))
        if held is None:
            held = self.held[(id(index), id(records))] = self._hold(concept, records)
        sure, maybe = held
        out = np.zeros(len(records.keys), dtype=np.int8)
        out[sure.get(id(concept), [])] = 1
        out[maybe.get(id(concept), [])] = 2
        return out

    @staticmethod
    def _hold(concept: ConceptSet, records: Records) -> tuple[dict[int, Array], dict[int, Array]]:
        index = concept.index
        assert index is not None
        drugs = concept.kind is ConceptKind.MEDICATION
        sure: dict[int, list[int]] = {}
        maybe: dict[int, list[int]] = {}
        for number, (codes, words) in enumerate(records.keys):
            yes, perhaps = index.holding(codes, words)
            if drugs and not yes and not perhaps and words:
                perhaps = frozenset(index.near_misses(words))
            for ident in yes:
                sure.setdefault(ident, []).append(number)
            for ident in perhaps:
                maybe.setdefault(ident, []).append(number)
        return (
            {k: np.asarray(v, dtype=np.int64) for k, v in sure.items()},
            {k: np.asarray(v, dtype=np.int64) for k, v in maybe.items()},
        )


def _leaf_states(leaf: Leaf, columns: FactColumns, members: _Membership) -> Array:
    if isinstance(leaf, ConditionLeaf):
        return _condition(leaf, columns, members)
    if isinstance(leaf, MedicationLeaf):
        return _medication(leaf, columns, members)
    if isinstance(leaf, ObservationLeaf):
        return _observation(leaf, columns, members)
    if isinstance(leaf, AgeLeaf):
        return _age(leaf, columns)
    if isinstance(leaf, SexLeaf):
        state = np.full(len(columns.ids), NM, dtype=np.int8)
        for value in leaf.values:
            state[columns.sex == _SEXES.index(value)] = MT
        state[columns.sex == 0] = UA
        return state
    if isinstance(leaf, AttributeLeaf):
        values = columns.attributes.get(leaf.name, [None] * len(columns.ids))
        allowed = leaf.values
        if allowed is not None:
            hits = [UA if v is None else MT if v in allowed else NM for v in values]
        else:
            hits = [UA if v is None else MT if v == leaf.expected else NM for v in values]
        return np.asarray(hits, dtype=np.int8)
    if isinstance(leaf, StatusLeaf):
        return _status(leaf, columns)
    assert_never(leaf)


def _age(leaf: AgeLeaf, columns: FactColumns) -> Array:
    low, high = columns.age_lo, columns.age_hi
    fits = np.ones(len(low), dtype=bool)
    may = np.ones(len(low), dtype=bool)
    if leaf.min is not None:
        fits &= low >= leaf.min
        may &= high >= leaf.min
    if leaf.max is not None:
        fits &= high <= leaf.max
        may &= low <= leaf.max
    state = np.full(len(low), NM, dtype=np.int8)
    if leaf.min is not None:
        state[high < leaf.min] = NM_T  # a birthday lifts it
    state[may & ~fits] = UB
    state[fits] = MT_T if leaf.max is not None else MT
    state[low == NO_AGE] = UA
    return state


def _status(leaf: StatusLeaf, columns: FactColumns) -> Array:
    positive, lo, hi = columns.pregnancy if leaf.what == "pregnant" else columns.lactation
    today, start = columns.today, _window(columns, leaf.within)
    present = positive >= 0
    definite = present & (lo >= start) & (hi <= today)
    possible = present & ~definite & (hi >= start) & (lo <= today)
    state = np.full(len(positive), UA, dtype=np.int8)
    aged = columns.age_lo != NO_AGE
    outside = np.zeros(len(positive), dtype=bool)
    if leaf.childbearing_min is not None:
        outside |= columns.age_hi < leaf.childbearing_min
    if leaf.childbearing_max is not None:
        outside |= columns.age_lo > leaf.childbearing_max
    state[(columns.sex == _SEXES.index(Sex.FEMALE)) & aged & outside] = NM
    state[columns.sex == _SEXES.index(Sex.MALE)] = NM
    state[(positive == 1) & possible] = UA
    state[definite] = np.where(positive[definite] == 1, MT, NM)
    return state


def _condition(leaf: ConditionLeaf, columns: FactColumns, members: _Membership) -> Array:
    records, n, today = columns.conditions, len(columns.ids), columns.today
    kind = members.of(leaf.concept, records)
    member = kind > 0
    sure = member & records.certain & (kind == 1) & (records.a_hi <= today)
    maybe = member & (records.a_lo <= today)
    active: int | None = None
    if leaf.active_within is not None:
        active = _window(columns, leaf.active_within)
    elif leaf.status == "present":
        active = today
    if active is not None:
        sure &= records.b_lo > active
        maybe &= records.b_hi > active
    if leaf.onset_at_least is not None:
        cutoff = _window(columns, leaf.onset_at_least)
        sure &= records.a_hi <= cutoff
        maybe &= records.a_lo <= cutoff
    if leaf.onset_within is not None:
        start = _window(columns, leaf.onset_within)
        sure &= records.a_lo >= start
        maybe &= records.a_hi >= start
    possible = maybe & ~sure
    state = np.full(n, NM, dtype=np.int8)
    if leaf.onset_at_least is not None:  # waiting may turn a recent onset into an old one
        state[_count(member, records.patient, n) > 0] = NM_T
    state[~columns.conditions_complete] = UA
    state[_count(possible, records.patient, n) > 0] = COMPLEX
    met = MT_T if leaf.onset_within is not None else MT
    definite = _count(sure, records.patient, n) > 0
    if leaf.active_within is not None:
        # Timed unless a matching record never resolves.
        last = np.zeros(n, dtype=np.int64)
        np.maximum.at(last, records.patient[sure | possible], records.b_hi[sure | possible])
        state[definite] = np.where(last[definite] < FAR_FUTURE, MT_T, MT)
    else:
        state[definite] = met
    return state


def _medication(leaf: MedicationLeaf, columns: FactColumns, members: _Membership) -> Array:
    records, n, today = columns.medications, len(columns.ids), columns.today
    if leaf.ever:
        start = FAR_PAST
    else:
        start = _window(columns, leaf.within) if leaf.within is not None else today
    kind = members.of(leaf.concept, records)
    member = kind > 0
    definite = member & (kind == 1) & (records.a_hi <= today) & (records.b_lo >= start)
    possible = member & ~definite & (records.a_lo <= today) & (records.b_hi >= start)
    state = np.full(n, NM, dtype=np.int8)
    state[~columns.medications_complete] = UA
    state[_count(possible, records.patient, n) > 0] = UA
    state[_count(definite, records.patient, n) > 0] = MT if leaf.ever else MT_T
    return state


def _in_range(leaf: ObservationLeaf, values: Array) -> Array:
    """``ObservationLeaf.in_range`` over an array."""
    ok = np.ones(len(values), dtype=bool)
    if leaf.low is not None:
        ok &= (values > leaf.low) | ((values == leaf.low) & leaf.low_inclusive)
    if leaf.high is not None:
        ok &= (values < leaf.high) | ((values == leaf.high) & leaf.high_inclusive)
    return ok


def _range_states(leaf: ObservationLeaf, low: Array, high: Array) -> Array:
    """``matcher.leaves._range_outcome`` over arrays: MT, NM, or UA (the "decided" phrase)."""
    state = np.full(len(low), UA, dtype=np.int8)
    below = np.zeros(len(low), dtype=bool)
    above = np.zeros(len(low), dtype=bool)
    if leaf.low is not None:
        below = (high < leaf.low) | ((high == leaf.low) & (not leaf.low_inclusive))
    if leaf.high is not None:
        above = (low > leaf.high) | ((low == leaf.high) & (not leaf.high_inclusive))
    state[below | above] = NM
    state[_in_range(leaf, low) & _in_range(leaf, high)] = MT
    return state


def _observation(leaf: ObservationLeaf, columns: FactColumns, members: _Membership) -> Array:
    records, n, today = columns.observations, len(columns.ids), columns.today
    start = _window(columns, leaf.within)
    member = members.of(leaf.concept, records) > 0
    definite = member & (records.a_lo >= start) & (records.a_hi <= today)
    possible = member & ~definite & (records.a_hi >= start) & (records.a_lo <= today)
    factors = np.asarray(
        [np.nan if (f := unit_factor(u, leaf.unit)) is None else f for u in records.units],
        dtype=np.float64,
    )
    factor = factors[records.unit] if len(factors) else np.zeros(0)
    comparable = records.has_value & ~np.isnan(factor)
    scaled = np.where(comparable, records.value * np.where(comparable, factor, 0.0), 0.0)
    pid = records.patient
    n_def = _count(definite, pid, n)
    if leaf.aggregate == "latest":
        inside = comparable & _in_range(leaf, scaled)
        floor = np.full(n, -1, dtype=np.int64)
        np.maximum.at(floor, pid[definite], records.a_lo[definite])
        contender = (definite | possible) & (records.a_hi >= floor[pid])
        n_cont = _count(contender, pid, n)
        n_true = _count(contender & inside, pid, n)
        n_false = _count(contender & comparable & ~inside, pid, n)
        n_none = _count(contender & ~comparable, pid, n)
        state = np.full(n, UA, dtype=np.int8)
        decided = n_def > 0
        latest = np.full(n, COMPLEX, dtype=np.int8)  # the readings disagree
        latest[(n_none > 0) & (n_cont == 1)] = UB
        latest[n_false == n_cont] = NM
        latest[n_true == n_cont] = MT
        state[decided] = latest[decided]
        return state
    found = definite | possible
    sure = definite & comparable
    maybe = possible & comparable
    n_found, n_sure, n_maybe = _count(found, pid, n), _count(sure, pid, n), _count(maybe, pid, n)
    if leaf.aggregate == "count":
        return _range_states(leaf, n_sure.astype(np.float64), n_found.astype(np.float64))
    unusable = (n_found - n_sure - n_maybe) > 0
    every = sure | maybe
    inf = np.inf
    sure_max = np.full(n, -inf)
    sure_min = np.full(n, inf)
    all_max = np.full(n, -inf)
    all_min = np.full(n, inf)
    np.maximum.at(sure_max, pid[sure], scaled[sure])
    np.minimum.at(sure_min, pid[sure], scaled[sure])
    np.maximum.at(all_max, pid[every], scaled[every])
    np.minimum.at(all_min, pid[every], scaled[every])
    complex_ = np.zeros(n, dtype=bool)
    match leaf.aggregate:
        case "maximum":
            low, high = sure_max, np.where(unusable, inf, all_max)
        case "minimum":
            low, high = np.where(unusable, -inf, all_min), sure_min
        case "spread":
            low, high = sure_max - sure_min, np.where(unusable, inf, all_max - all_min)
        case _:  # mean: the sum as Python adds it, for the patients that have enough readings
            low = np.full(n, -inf)
            high = np.full(n, inf)
            enough = np.flatnonzero((n_sure >= leaf.min_readings) & ~unusable)
            if len(enough):
                rows = np.flatnonzero(sure)
                order = {int(p): [] for p in enough}  # type: dict[int, list[float]]
                for position in rows.tolist():
                    bucket = order.get(int(pid[position]))
                    if bucket is not None:
                        bucket.append(float(scaled[position]))
                for p, values in order.items():
                    low[p] = high[p] = sum(values) / len(values)
            complex_ = (n_maybe > 0) & ~unusable
    state = _range_states(leaf, low, high)
    state[complex_] = COMPLEX
    state[n_sure < leaf.min_readings] = UB
    return state


# --- the engine ----------------------------------------------------------------------------------


@dataclass
class ColumnarStats:
    """What the columnar engine decided itself and what it left to the row engine."""

    patients: int = 0
    #: Patients the row engine decided for every trial (skipped records).
    row_patients: int = 0
    #: Patient-trials the row engine decided (a record-specific explanation, an eligible-from).
    row_pairs: int = 0
    #: Of those, the ones decided by rows for an "eligible from" date to confirm.
    row_dated: int = 0
    #: Distinct leaf-state patterns decided by ``matcher.evaluate``.
    patterns: int = 0
    #: Leaf states whose representative disagreed with the columns (decided by rows): a bug.
    mismatches: int = 0


@dataclass
class _Templates:
    """``LeafResult`` templates per (leaf, state), from representative patients."""

    columns: FactColumns
    stats: ColumnarStats
    found: dict[tuple[int, int], LeafResult | None] = field(default_factory=dict)

    def get(self, leaf: Leaf, state: int, row: int) -> LeafResult | None:
        """The template of ``leaf`` in ``state`` (``row`` is a patient in that state), or None
        when that state must go to the row engine."""
        key = (leaf.key, state)
        if key in self.found:
            return self.found[key]
        template: LeafResult | None = None
        if state != COMPLEX:
            facts = self.columns.facts(row)
            real = leaf_result(leaf, facts, match(leaf, facts))
            outcome: Outcome = _STATE_OUTCOME[state]
            if real.outcome is not outcome or (real.leaves_on is not None and state not in _TIMED):
                self.stats.mismatches += 1
            else:
                missing = real.missing if outcome is UNKNOWN else ()
                someday = _SOMEDAY if state in _TIMED else None
                template = LeafResult(outcome, "", (), missing, someday)
        self.found[key] = template
        return template


class ColumnarEngine:
    """The batch protocol over fact columns (see the module docstring)."""

    name = "columnar"
    #: Patients per batch in ``matcher screen``: the per-batch cost (leaf columns, templates) is
    #: spread over more patients; a batch's matrix stays a few megabytes.
    batch_size = 2048

    def __init__(self) -> None:
        self.stats = ColumnarStats()

    def evaluate(
        self, patients: Sequence[Patient], trials: Sequence[CompiledTrial], as_of: date
    ) -> OutcomeMatrix:
        return self.evaluate_columns(columns_of(patients, as_of), trials)

    def explain(
        self, patient: Patient, trials: Sequence[CompiledTrial], as_of: date
    ) -> CheckResult:
        return RowEngine().explain(patient, trials, as_of)

    @staticmethod
    def read(raw: RawPatient) -> PanelItem:
        """One Bulk patient, as ``matcher.panel.reading.map_raw`` reads it, faster for plain
        records (``matcher.panel.ingest.fast_map``)."""
        return fast_map(raw)

    def evaluate_raw(
        self, raws: Sequence[RawPatient], trials: Sequence[CompiledTrial], as_of: date
    ) -> tuple[list[PanelItem], list[PanelItem], OutcomeMatrix | None]:
        """A batch of Bulk patients straight into columns (``columns_of_raw``), then decided:
        the patients that could not be read, those that contradict the as-of date, and the
        matrix of the others (None when there are none)."""
        read = columns_of_raw(raws, as_of)
        if read.columns is None:
            return read.unread, read.refused, None
        return read.unread, read.refused, self.evaluate_columns(read.columns, trials)

    def evaluate_columns(
        self, columns: FactColumns, trials: Sequence[CompiledTrial]
    ) -> OutcomeMatrix:
        """The outcome matrix of the patients in ``columns`` x ``trials`` as of
        ``columns.as_of``: the entry point for columns built without ``Patient`` objects."""
        n = len(columns.ids)
        self.stats.patients += n
        members = _Membership()
        states: dict[int, Array] = {}
        for trial in trials:
            for leaf in trial.leaves:
                if leaf.key not in states:
                    with np.errstate(invalid="ignore"):  # inf - inf where nothing was read
                        states[leaf.key] = _leaf_states(leaf, columns, members)
        row_only = np.asarray(columns.row_only, dtype=bool)
        alive = np.asarray(columns.alive, dtype=np.int64)
        run = _Run(columns, states, row_only, alive, _Templates(columns, self.stats), self.stats)
        by_row: dict[int, list[int]] = {int(i): [] for i in np.flatnonzero(row_only)}
        self.stats.row_patients += len(by_row)
        out: list[TrialColumns] = []
        for number, trial in enumerate(trials):
            column, rows = run.trial(trial)
            out.append(column)
            for row in rows:
                by_row.setdefault(row, []).append(number)
        alive_codes = [_ALIVE_CODE[a] for a in alive.tolist()]
        everyone = set(np.flatnonzero(row_only).tolist())
        row_engine = RowEngine()
        for row, numbers in sorted(by_row.items()):
            chosen = range(len(trials)) if row in everyone else numbers
            if row not in everyone:
                self.stats.row_pairs += len(numbers)
            picked = [trials[i] for i in chosen]
            answer = row_engine.evaluate([columns.patient(row)], picked, columns.as_of)
            alive_codes[row] = answer.alive[0]
            for i, part in zip(chosen, answer.trials, strict=True):
                target = out[i]
                target.verdict[row] = part.verdict[0]
                target.score[row] = part.score[0]
                target.eligible_from[row] = part.eligible_from[0]
                target.outcomes[row] = part.outcomes[0]
                target.missing[row] = part.missing[0]
        return OutcomeMatrix(columns.as_of, columns.ids, alive_codes, tuple(out))


def _leaves_of(criterion: CompiledCriterion) -> list[Leaf]:
    """The distinct leaves of a criterion's rule and ``applies_to``, in tree order."""
    found: dict[int, Leaf] = {}
    for tree in (criterion.rule, criterion.applies_to):
        if tree is not None:
            for leaf in iter_leaves(tree):
                found.setdefault(leaf.key, leaf)
    return list(found.values())


def _groups(arrays: Sequence[Array], n: int) -> tuple[list[int], Array]:
    """The distinct rows of small-integer columns: the first patient of each, and each
    patient's row number among them."""
    code = np.zeros(n, dtype=np.int64)
    total = 1
    for array in arrays:
        values = np.asarray(array, dtype=np.int64) + 1  # -1 (to the row engine) becomes 0
        size = int(values.max()) + 1 if n else 1
        if total * size >= 1 << 62:  # too many combinations for one int64: rows instead
            matrix = np.stack([np.asarray(a, dtype=np.int64) for a in arrays], axis=1)
            _, first, inverse = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
            return first.tolist(), np.asarray(inverse).reshape(-1)
        code = code * size + values
        total *= size
    _, first, inverse = np.unique(code, return_index=True, return_inverse=True)
    return first.tolist(), np.asarray(inverse).reshape(-1)


@dataclass
class _Classes:
    """One criterion over the batch: per patient a class number (-1: the row engine decides),
    and per class the leaf results that give it. Patients of one class get the same criterion
    outcome, review kind, missing facts and "time lifts it" from ``matcher.evaluate``."""

    ids: Array
    leaves: list[dict[int, LeafResult]]
    #: Per class: (outcome, review kind, missing facts, whether time alone changes it).
    keys: list[tuple[Any, ...]]


@dataclass
class _Run:
    """One ``evaluate_columns`` call: leaf states in, trial columns out."""

    columns: FactColumns
    states: dict[int, Array]
    row_only: Array
    alive: Array
    templates: _Templates
    stats: ColumnarStats
    classes: dict[int, _Classes] = field(default_factory=dict)
    alive_facts: dict[int, PatientFacts] = field(default_factory=dict)
    some: CompiledTrial | None = None

    def __post_init__(self) -> None:
        # ``matcher.evaluate`` reads only whether and when the patient died from the facts: a
        # blank patient stands for the living, a representative for each other state.
        self.alive_facts[ALIVE_NONE] = prepare(Patient(id="-"), self.columns.as_of)
        for state in (ALIVE_DEAD, ALIVE_MAYBE):
            rows = np.flatnonzero(self.alive == state)
            if len(rows):
                self.alive_facts[state] = self.columns.facts(int(rows[0]))

    def criterion(self, criterion: CompiledCriterion, trial: CompiledTrial) -> _Classes:
        found = self.classes.get(criterion.key)
        if found is not None:
            return found
        leaves = _leaves_of(criterion)
        n = len(self.columns.ids)
        first, inverse = _groups([self.row_only, *(self.states[x.key] for x in leaves)], n)
        alone = replace(
            trial,
            criteria=(criterion,),
            criterion_keys=(criterion.key,),
            pick=None,
            ruled=int(criterion.rule is not None),
        )
        seen: dict[tuple[Any, ...], int] = {}
        made: list[dict[int, LeafResult]] = []
        kinds: list[tuple[Any, ...]] = []
        numbers: list[int] = []
        for row in first:
            results = None if self.row_only[row] else self._results(leaves, row)
            if results is None:
                numbers.append(-1)
                continue
            (result,) = evaluate_trials([alone], self.alive_facts[ALIVE_NONE], results)
            self.stats.patterns += 1
            got = result.criteria[-1]
            key = (got.outcome, got.review_kind, got.missing, got.leaves_on is not None)
            if key not in seen:
                seen[key] = len(made)
                made.append(results)
                kinds.append(key)
            numbers.append(seen[key])
        found = self.classes[criterion.key] = _Classes(np.asarray(numbers)[inverse], made, kinds)
        return found

    def _results(self, leaves: Sequence[Leaf], row: int) -> dict[int, LeafResult] | None:
        results: dict[int, LeafResult] = {}
        for leaf in leaves:
            template = self.templates.get(leaf, int(self.states[leaf.key][row]), row)
            if template is None:
                return None
            results[leaf.key] = template
        return results

    @property
    def blank(self) -> CompiledTrial:
        """A trial without criteria (only ``alive`` is decided)."""
        assert self.some is not None
        return replace(self.some, criteria=(), criterion_keys=(), pick=None, ruled=0)

    def alive_missing(self) -> tuple[str, ...]:
        """What would decide ``alive`` for a patient who may have died (``matcher.evaluate``)."""
        facts = self.alive_facts.get(ALIVE_MAYBE)
        if facts is None:
            return ()
        (result,) = evaluate_trials([self.blank], facts, {})
        return result.missing

    def trial(self, trial: CompiledTrial) -> tuple[TrialColumns, list[int]]:
        """One trial's columns from its criteria's classes, combined as ``matcher.evaluate``
        combines criterion results into a verdict (see its module docstring), and the rows
        (patients) the row engine must decide for it."""
        n = len(self.columns.ids)
        self.some = trial
        criteria = trial.criteria
        classes = [self.criterion(c, trial) for c in criteria]
        blocked = np.zeros(n, dtype=bool)
        untimed = np.zeros(n, dtype=bool)
        undecided = np.zeros(n, dtype=bool)
        held = np.zeros(n, dtype=bool)
        favourable = np.zeros(n, dtype=np.int64)
        to_rows = self.row_only.copy()
        codes: list[list[int]] = []
        said: list[Array] = []  # per criterion: a number per patient for its missing facts
        phrases: list[tuple[str, ...]] = [()]
        numbered: dict[tuple[str, ...], int] = {(): 0}
        for criterion, group in zip(criteria, classes, strict=True):
            table = np.asarray(
                [_flags(criterion, key, numbered, phrases) for key in group.keys]
                + [(0, 0, 0, 0, 0, 0, 0)],  # class -1: decided by the row engine
                dtype=np.int64,
            )
            rows = table[group.ids]
            to_rows |= group.ids < 0
            codes.append(rows[:, 0].tolist())
            blocked |= rows[:, 1] > 0
            untimed |= (rows[:, 1] > 0) & (rows[:, 2] == 0)
            undecided |= rows[:, 3] > 0
            held |= rows[:, 4] > 0
            favourable += rows[:, 5]
            said.append(rows[:, 6])
        alive = self.alive
        dead = alive == ALIVE_DEAD
        maybe = alive == ALIVE_MAYBE
        # With ``alive`` reported, no date is proposed; without it, a block time alone lifts
        # makes an "eligible from" candidate, which ``matcher.check`` confirms on that day.
        dated = (alive == ALIVE_NONE) & blocked & ~untimed & ~to_rows & ~self.row_only
        self.stats.row_dated += int(np.count_nonzero(dated))
        to_rows |= dated
        blocked |= dead
        undecided |= maybe
        verdict = np.where(
            blocked,
            VERDICT_CODES[Verdict.INELIGIBLE],
            np.where(
                undecided | held,
                VERDICT_CODES[Verdict.UNDETERMINED],
                VERDICT_CODES[Verdict.ELIGIBLE],
            ),
        )
        scores = _scores(verdict, favourable, dead, trial.ruled)
        missing = self._missing(said, phrases, undecided, maybe, n)
        column = TrialColumns(
            TrialShape.of(trial),
            verdict.tolist(),
            scores,
            [None] * n,
            list(zip(*codes, strict=True)) if codes else [()] * n,
            missing,
        )
        return column, np.flatnonzero(to_rows & ~self.row_only).tolist()

    def _missing(
        self,
        said: list[Array],
        phrases: list[tuple[str, ...]],
        undecided: Array,
        maybe: Array,
        n: int,
    ) -> list[tuple[str, ...]]:
        """Per patient the facts that would decide the trial: those of its unknown criteria in
        criterion order, each once, after the date of death when that is unknown."""
        out: list[tuple[str, ...]] = [()] * n
        rows = np.flatnonzero(undecided)
        if not len(rows):
            return out
        first, inverse = _groups([maybe[rows], *(s[rows] for s in said)], len(rows))
        alive = self.alive_missing()
        combos = []
        for row in first:
            parts = [phrases[int(s[rows[row]])] for s in said]
            head = alive if maybe[rows[row]] else ()
            combos.append(tuple(dict.fromkeys(chain(head, *parts))))
        for row, number in zip(rows.tolist(), inverse.tolist(), strict=True):
            out[row] = combos[number]
        return out


def _flags(
    criterion: CompiledCriterion,
    key: tuple[Any, ...],
    numbered: dict[tuple[str, ...], int],
    phrases: list[tuple[str, ...]],
) -> tuple[int, int, int, int, int, int, int]:
    """How one class of a criterion counts in its trial's verdict and score, as
    ``matcher.evaluate`` counts a criterion result: (outcome code, blocks, time lifts the block,
    unknown, holds the trial from eligible, favourable, number of its missing facts)."""
    outcome, kind, missing, timed = key
    unknown = outcome is UNKNOWN
    blocks = holds = good = 0
    if outcome is REVIEW:
        holds = int(kind is not ReviewKind.SCREENING)
        good = int(
            bool(holds)
            and criterion.rule is not None
            and (criterion.pending or criterion.kind == "inclusion")
        )
    elif not unknown:
        passes = (outcome is MET) is (criterion.kind == "inclusion")
        blocks = int(not passes)
        good = int(passes and criterion.rule is not None)
    said = 0
    if unknown and missing:
        said = numbered.setdefault(missing, len(phrases))
        if said == len(phrases):
            phrases.append(missing)
    return (OUTCOME_CODES[outcome], blocks, int(timed), int(unknown), holds, good, said)


def _scores(verdict: Array, favourable: Array, dead: Array, ruled: int) -> list[float]:
    """``matcher.evaluate``'s score: the favourable share in the verdict's band, 0.0 for a patient
    who died; computed once per distinct (verdict, favourable count, died)."""
    names = {code: name for name, code in VERDICT_CODES.items()}
    first, inverse = _groups([verdict, favourable, dead], len(verdict))
    table = []
    for row in first:
        low, high = SCORE_BANDS[names[int(verdict[row])]]
        share = int(favourable[row]) / ruled if ruled else 1.0
        table.append(0.0 if dead[row] else round(low + (high - low) * share, 4))
    return np.asarray(table, dtype=np.float64)[inverse].tolist() if len(first) else []
