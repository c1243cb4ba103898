"""What a leaf rule's matching records mean: outcome, reason, evidence, missing facts, and when
time alone would change the answer.

Engines differ in *how* they find the records that match a leaf (the python engine loops over
indexed records, the durable engine fires Rete rules); they agree on *what* they find, a
``Matches``: the records that certainly satisfy the leaf's record condition (``definite``) and
those that might, depending on data the file does not hold (``possible``). Everything after that is
here, shared, so both engines give the same words for the same facts.

A leaf's record condition, per rule (intervals as in ``matcher.facts``; ``D`` is the as-of day and
``W`` the first day of the window):

* condition: in the concept set, and for ``present`` onset <= D < abatement, for ``ever``
  onset <= D, plus onset <= D - N (``onset_at_least``) or W <= onset <= D (``onset_within``);
  definite when certain for every day the dates allow and the diagnosis is confirmed;
* medication: in the concept set and in use on some day of [W, D] (W = D for current use);
* observation: in the concept set and dated within [W, D]; ``in_range`` lists those whose value,
  converted to the rule's unit, is inside the bounds, ``comparable`` those with a usable value;
* age, sex, attribute: the patient record itself (position 0) is definite when the value is known
  to satisfy the rule, possible when it may (a partial birth date) or is missing;
* pregnancy and lactation: the status record (position 0) dated within [W, D].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from matcher.compile import (
    AgeLeaf,
    AttributeLeaf,
    ConditionLeaf,
    Leaf,
    MedicationLeaf,
    ObservationLeaf,
    SexLeaf,
    StatusLeaf,
)
from matcher.dates import Duration, add_months
from matcher.facts import FAR_FUTURE, ConditionFact, MedicationFact, PatientFacts, day
from matcher.outcome import MET, NOT_MET, UNKNOWN
from matcher.patient import ATTRIBUTES, Sex
from matcher.schema import Outcome

__all__ = [
    "MAYBE",
    "NOTHING",
    "PATIENT",
    "LeafResult",
    "Matches",
    "first_day_reaching",
    "leaf_result",
]


@dataclass(frozen=True, slots=True)
class Matches:
    """Positions of the records that satisfy a leaf's record condition."""

    definite: tuple[int, ...] = ()
    possible: tuple[int, ...] = ()
    in_range: frozenset[int] = field(default_factory=frozenset)
    comparable: frozenset[int] = field(default_factory=frozenset)


NOTHING: Final = Matches()
PATIENT: Final = Matches(definite=(0,))
MAYBE: Final = Matches(possible=(0,))


@dataclass(frozen=True, slots=True)
class LeafResult:
    """The outcome of one leaf rule for one patient, with its explanation.

    ``leaves_on`` is the first day on which the outcome would change with no new data (a birthday,
    a window sliding past a last dose); ``must_stop`` names ongoing medications assumed stopped on
    the as-of day for that date to hold.
    """

    outcome: Outcome
    reason: str
    evidence: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    leaves_on: date | None = None
    must_stop: tuple[str, ...] = ()


def first_day_reaching(span: Duration, target: int) -> date:
    """The first as-of day D whose window start (D - span) is on or after day ``target``."""
    guess = span.after(day(target))
    while span.before(guess).toordinal() < target:
        guess = date.fromordinal(guess.toordinal() + 1)
    while (
        guess > date.min
        and span.before(date.fromordinal(guess.toordinal() - 1)).toordinal() >= target
    ):
        guess = date.fromordinal(guess.toordinal() - 1)
    return guess


def leaf_result(leaf: Leaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    """Outcome and explanation of ``leaf`` given the records an engine found."""
    if isinstance(leaf, ConditionLeaf):
        return _condition(leaf, facts, matches)
    if isinstance(leaf, MedicationLeaf):
        return _medication(leaf, facts, matches)
    if isinstance(leaf, ObservationLeaf):
        return _observation(leaf, facts, matches)
    if isinstance(leaf, AgeLeaf):
        return _age(leaf, facts, matches)
    if isinstance(leaf, SexLeaf):
        return _sex(leaf, facts, matches)
    if isinstance(leaf, AttributeLeaf):
        return _attribute(leaf, facts, matches)
    return _status(leaf, facts, matches)


# --- patient-level leaves ----------------------------------------------------------------------


def _age_range(low: int | None, high: int | None) -> str:
    if low is not None and high is not None:
        return f"{low}-{high}"
    return f"at least {low}" if low is not None else f"at most {high}"


def _age(leaf: AgeLeaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    wanted = _age_range(leaf.min, leaf.max)
    birth = facts.birth_date
    if birth is None or facts.age_lo is None or facts.age_hi is None:
        return LeafResult(
            UNKNOWN, "birth date not recorded", ("no birth date on record",), ("birth date",)
        )
    age = str(facts.age_lo) if facts.age_lo == facts.age_hi else f"{facts.age_lo}-{facts.age_hi}"
    evidence = (f"born {birth} (age {age} on {facts.as_of})",)
    if matches.definite:
        leaves = add_months(birth.first, 12 * (leaf.max + 1)) if leaf.max is not None else None
        return LeafResult(MET, f"age {age} is within {wanted}", evidence, leaves_on=leaves)
    if matches.possible:
        return LeafResult(
            UNKNOWN,
            f"age {age} on {facts.as_of} may or may not be within {wanted}: "
            f"birth date recorded only as {birth}",
            evidence,
            ("full birth date",),
        )
    leaves = None
    if leaf.min is not None and facts.age_hi < leaf.min:
        leaves = add_months(birth.first, 12 * leaf.min)
    return LeafResult(NOT_MET, f"age {age} is outside {wanted}", evidence, leaves_on=leaves)


def _sex(leaf: SexLeaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    wanted = " or ".join(sorted(s.value for s in leaf.values))
    if facts.sex is None:
        return LeafResult(UNKNOWN, "sex not recorded", ("no sex on record",), ("sex",))
    evidence = (f"sex: {facts.sex.value}",)
    if matches.definite:
        return LeafResult(MET, f"sex {facts.sex.value} is {wanted}", evidence)
    return LeafResult(NOT_MET, f"sex {facts.sex.value} is not {wanted}", evidence)


def _attribute_text(value: str | bool) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value.replace("_", " ")


def _attribute(leaf: AttributeLeaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    what = ATTRIBUTES[leaf.name].description
    value = facts.attributes.get(leaf.name)
    if value is None:
        return LeafResult(UNKNOWN, f"{what} not recorded", (f"no {what} on record",), (what,))
    if leaf.values is not None:
        wanted = " or ".join(_attribute_text(v) for v in sorted(leaf.values))
    else:
        wanted = _attribute_text(bool(leaf.expected))
    evidence = (f"{what}: {_attribute_text(value)}",)
    if matches.definite:
        return LeafResult(MET, f"{what} is {_attribute_text(value)} ({wanted} required)", evidence)
    return LeafResult(NOT_MET, f"{what} is {_attribute_text(value)}, not {wanted}", evidence)


def _status(leaf: StatusLeaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    record = facts.pregnancy if leaf.what == "pregnant" else facts.lactation
    start = day(facts.window_start(leaf.within))
    if record is not None and matches.definite:
        outcome = MET if record.positive else NOT_MET
        return LeafResult(outcome, record.describe(leaf.what), (record.describe(leaf.what),))
    if facts.sex is Sex.MALE:
        return LeafResult(NOT_MET, f"male patient: not {leaf.what}", ("sex: male",))
    age_known = facts.age_lo is not None and facts.age_hi is not None
    if facts.sex is Sex.FEMALE and age_known:
        assert facts.age_lo is not None and facts.age_hi is not None
        too_young = leaf.childbearing_min is not None and facts.age_hi < leaf.childbearing_min
        too_old = leaf.childbearing_max is not None and facts.age_lo > leaf.childbearing_max
        if too_young or too_old:
            age = facts.age_lo if facts.age_lo == facts.age_hi else f"{facts.age_lo}-{facts.age_hi}"
            rng = _age_range(leaf.childbearing_min, leaf.childbearing_max)
            return LeafResult(
                NOT_MET,
                f"age {age} is outside childbearing age ({rng})",
                (f"born {facts.birth_date}, female",),
            )
    noun = "pregnancy" if leaf.what == "pregnant" else "lactation"
    evidence: tuple[str, ...]
    if record is not None:
        evidence = (f"{record.describe(leaf.what)}, not within the last {leaf.within}",)
    else:
        evidence = (f"no {noun} status on record",)
    return LeafResult(
        UNKNOWN,
        f"no {noun} status recorded since {start}",
        evidence,
        (f"{noun} status recorded since {start}",),
    )


# --- conditions --------------------------------------------------------------------------------


def _condition(leaf: ConditionLeaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    label = leaf.concept.label
    records = facts.conditions
    if leaf.onset_at_least is not None:
        clause = f"{label} for at least {leaf.onset_at_least}"
    elif leaf.onset_within is not None:
        start = day(facts.window_start(leaf.onset_within))
        clause = f"{label} beginning since {start}"
    else:
        clause = label if leaf.status == "ever" else f"{label} (current)"
    if matches.definite:
        evidence = tuple(records[i].describe() for i in matches.definite)
        leaves = _condition_leaves_met(
            leaf,
            facts,
            [records[i] for i in matches.definite] + [records[i] for i in matches.possible],
        )
        return LeafResult(MET, f"{clause} on record", evidence, leaves_on=leaves)
    if matches.possible:
        found = [records[i] for i in matches.possible]
        missing = tuple(dict.fromkeys(_condition_missing(leaf, record) for record in found))
        return LeafResult(
            UNKNOWN,
            f"cannot tell from the record whether {clause} applies",
            tuple(r.describe() for r in found),
            missing,
        )
    if not facts.conditions_complete:
        return LeafResult(
            UNKNOWN,
            f"conditions not reviewed; no {label} on record",
            (f"no {label} on record (conditions not reviewed)",),
            (f"review of conditions for {label}",),
        )
    others = [records[i] for i in facts.members(leaf.concept)]
    if not others:
        return LeafResult(NOT_MET, f"no {label} on record", (f"no {label} on record",))
    leaves = None
    if leaf.onset_at_least is not None:
        # Waiting turns a recent onset into an old enough one (if the status condition holds).
        span = leaf.onset_at_least
        days = [
            first_day_reaching(span, r.onset_hi)
            for r in others
            if r.certain and r.onset_hi < FAR_FUTURE and r.abate_lo == FAR_FUTURE
        ]
        leaves = min(days) if days else None
    return LeafResult(
        NOT_MET,
        f"{label} on record, but not {clause}",
        tuple(r.describe() for r in others),
        leaves_on=leaves,
    )


def _condition_leaves_met(
    leaf: ConditionLeaf, facts: PatientFacts, found: Sequence[ConditionFact]
) -> date | None:
    """A recent-onset match stops matching once its onset leaves the window."""
    if leaf.onset_within is None or not found:
        return None
    last = max(record.onset_hi for record in found)
    return first_day_reaching(leaf.onset_within, last + 1)


def _condition_missing(leaf: ConditionLeaf, record: ConditionFact) -> str:
    label = leaf.concept.label
    if not record.certain:
        return f"confirmation of the {label} diagnosis"
    if (leaf.onset_at_least is not None or leaf.onset_within is not None) and (
        record.onset is None or record.onset.first != record.onset.last
    ):
        return f"onset date of {label}"
    if record.onset is None or record.onset.first != record.onset.last:
        return f"onset date of {label}"
    return f"whether {label} has resolved, and when"


# --- medications -------------------------------------------------------------------------------


def _medication(leaf: MedicationLeaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    label = leaf.concept.label
    records = facts.medications
    if leaf.ever:
        used, question, absent = (
            f"{label} used before",
            f"whether {label} was ever used",
            f"no {label} on record",
        )
    elif leaf.within is None:
        used, question, absent = (
            f"{label} in use on {facts.as_of}",
            f"whether {label} is still taken",
            f"no current {label} on record",
        )
    else:
        since = day(facts.window_start(leaf.within))
        used, question, absent = (
            f"{label} used since {since}",
            f"whether {label} was used since {since}",
            f"no {label} on record since {since}",
        )
    if matches.definite:
        found = [records[i] for i in (*matches.definite, *matches.possible)]
        leaves, stop = _medication_leaves_met(leaf, facts, found)
        return LeafResult(
            MET,
            used,
            tuple(records[i].describe() for i in matches.definite),
            leaves_on=leaves,
            must_stop=stop,
        )
    if matches.possible:
        return LeafResult(
            UNKNOWN,
            f"cannot tell from the record {question}",
            tuple(records[i].describe() for i in matches.possible),
            (question,),
        )
    if not facts.medications_complete:
        return LeafResult(
            UNKNOWN,
            f"medications not reviewed; {absent}",
            (f"{absent} (medications not reviewed)",),
            (question,),
        )
    others = [records[i] for i in facts.members(leaf.concept)]
    if not others:
        return LeafResult(NOT_MET, absent, (absent,))
    return LeafResult(NOT_MET, absent, tuple(r.describe() for r in others))


def _medication_leaves_met(
    leaf: MedicationLeaf, facts: PatientFacts, found: Sequence[MedicationFact]
) -> tuple[date | None, tuple[str, ...]]:
    """When the last use falls out of the window; ongoing use is assumed stopped today.

    Use "ever" never falls out of its window."""
    if leaf.ever:
        return None, ()
    last = 0
    stop: list[str] = []
    for record in found:
        end = record.end_hi
        if end >= FAR_FUTURE:
            stop.append(record.label)
            end = facts.today
        last = max(last, end)
    if leaf.within is None:
        return day(last + 1), tuple(dict.fromkeys(stop))
    return first_day_reaching(leaf.within, last + 1), tuple(dict.fromkeys(stop))


# --- observations ------------------------------------------------------------------------------


def _observation(leaf: ObservationLeaf, facts: PatientFacts, matches: Matches) -> LeafResult:
    label = leaf.concept.label
    start = day(facts.window_start(leaf.within))
    period = f"from {start} to {facts.as_of}"
    records = facts.observations
    if not matches.definite and not matches.possible:
        return LeafResult(
            UNKNOWN, f"no {label} {period}", (f"no {label} {period}",), (f"a {label} {period}",)
        )
    if not matches.definite:
        return LeafResult(
            UNKNOWN,
            f"cannot tell whether any {label} falls {period}",
            tuple(records[i].describe() for i in matches.possible),
            (f"a {label} {period}",),
        )
    latest = max(matches.definite, key=lambda i: (records[i].date_lo, records[i].date_hi, i))
    floor = records[latest].date_lo
    rivals = [
        i
        for i in (*matches.definite, *matches.possible)
        if i != latest and records[i].date_hi >= floor
    ]
    contenders = [latest, *rivals]
    verdicts = {i in matches.in_range if i in matches.comparable else None for i in contenders}
    evidence = tuple(records[i].describe() for i in contenders)
    bounds = leaf.bounds_text()
    if verdicts == {True}:
        return LeafResult(
            MET, f"latest {label} is {records[latest].reading()}, within {bounds}", evidence
        )
    if verdicts == {False}:
        return LeafResult(
            NOT_MET, f"latest {label} is {records[latest].reading()}, outside {bounds}", evidence
        )
    if None in verdicts and len(contenders) == 1:
        unit = leaf.unit or "a known unit"
        reason = f"latest {label} has no value in {unit}"
    else:
        reason = f"cannot tell which {label} is the latest: readings of the same period disagree"
    return LeafResult(UNKNOWN, reason, evidence, (f"a {label} {period}",))
