"""What a leaf rule's matching records mean: outcome, reason, evidence, missing facts, and when
time alone would change the answer.

Engines differ in *how* they find the records that match a leaf (the python engine loops over
indexed records, the durable engine fires Rete rules); they agree on *what* they find, a
``Matches``: the records that certainly satisfy the leaf's record condition (``definite``) and
those that might, depending on data the file does not hold (``possible``). Everything after that is
here, shared, so both engines give the same words for the same facts.

A leaf's record condition, per rule (intervals as in ``matcher.evaluation.facts``; ``D`` is the
as-of day and ``W`` the first day of the window):

* condition: in the concept set, and for ``present`` onset <= D < abatement, for ``ever``
  onset <= D, for ``active_within`` onset <= D and W < abatement (active on a day of [W, D]),
  plus onset <= D - N (``onset_at_least``) or W <= onset <= D (``onset_within``); definite when
  certain for every day the dates allow and the diagnosis is confirmed;
* medication: in the concept set and in use on some day of [W, D] (W = D for current use);
  definite only for a record that certainly belongs to the set (not a near miss of a member's
  name, ``PatientFacts.resembles``);
* observation: in the concept set and dated within [W, D]; ``comparable`` lists those with a
  usable value (converted to the rule's unit) and, for the latest reading, ``in_range`` those
  whose value is inside the bounds; an aggregate (mean, minimum, maximum, spread, count) is
  computed here from the comparable readings, over every set of readings the dates allow;
* age, sex, attribute: the patient record itself (position 0) is definite when the value is known
  to satisfy the rule, possible when it may (a partial birth date) or is missing;
* pregnancy and lactation: the status record (position 0) dated within [W, D].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Final, NamedTuple, assert_never

from matcher.core.codes import display_unit, unit_factor
from matcher.core.dates import Duration, add_months
from matcher.core.outcome import MET, NOT_MET, UNKNOWN, Outcome
from matcher.core.terms import ATTRIBUTES, Sex
from matcher.criteria.compiler import (
    AgeLeaf,
    AttributeLeaf,
    ConditionLeaf,
    Leaf,
    MedicationLeaf,
    ObservationLeaf,
    SexLeaf,
    StatusLeaf,
)
from matcher.evaluation.coverage import describe
from matcher.evaluation.facts import (
    FAR_FUTURE,
    ConditionFact,
    MedicationFact,
    ObservationFact,
    PatientFacts,
    day,
)
from matcher.evaluation.results import MissingFact, RecordRef

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


class LeafResult(NamedTuple):
    """The outcome of one leaf rule for one patient, with its explanation.

    ``leaves_on`` is the first day on which the outcome would change with no new data (a birthday,
    a window sliding past a last dose); ``must_stop`` names ongoing medications assumed stopped on
    the as-of day for that date to hold. ``records`` are the records behind ``evidence``, as data;
    ``missing`` the facts that would decide an unknown outcome.
    """

    outcome: Outcome
    reason: str
    evidence: tuple[str, ...] = ()
    missing: tuple[MissingFact, ...] = ()
    leaves_on: date | None = None
    must_stop: tuple[str, ...] = ()
    records: tuple[RecordRef, ...] = ()


def first_day_reaching(span: Duration, target: int) -> date | None:
    """The first as-of day D whose window start (D - span) is on or after day ``target``;
    ``None`` when no such day exists before the end of the calendar (9999-12-31)."""
    guess = span.after(day(target))
    while span.before(guess).toordinal() < target:
        if guess == date.max:
            return None
        guess = date.fromordinal(guess.toordinal() + 1)
    while (
        guess > date.min
        and span.before(date.fromordinal(guess.toordinal() - 1)).toordinal() >= target
    ):
        guess = date.fromordinal(guess.toordinal() - 1)
    return guess


def leaf_result(
    leaf: Leaf, facts: PatientFacts, matches: Matches, *, words: bool = True
) -> LeafResult:
    """Outcome and explanation of ``leaf`` given the records an engine found.

    Each rule kind first decides -- the outcome, and the day time alone would change it -- and
    then words the decision. Without ``words`` the result is that decision alone (``reason``
    empty, no evidence, records or missing facts): what verdicts, scores and eligible-from dates
    need, at a fraction of the cost."""
    if isinstance(leaf, ConditionLeaf):
        return _condition(leaf, facts, matches, words)
    if isinstance(leaf, MedicationLeaf):
        return _medication(leaf, facts, matches, words)
    if isinstance(leaf, ObservationLeaf):
        return _observation(leaf, facts, matches, words)
    if isinstance(leaf, AgeLeaf):
        return _age(leaf, facts, matches, words)
    if isinstance(leaf, SexLeaf):
        return _sex(leaf, facts, matches, words)
    if isinstance(leaf, AttributeLeaf):
        return _attribute(leaf, facts, matches, words)
    if isinstance(leaf, StatusLeaf):
        return _status(leaf, facts, matches, words)
    assert_never(leaf)


#: A decision without words and without a day it changes, one per outcome.
_BARE: Final = {outcome: LeafResult(outcome, "") for outcome in (MET, NOT_MET, UNKNOWN)}


def _bare(
    outcome: Outcome, leaves_on: date | None = None, must_stop: tuple[str, ...] = ()
) -> LeafResult:
    if leaves_on is None and not must_stop:
        return _BARE[outcome]
    return LeafResult(outcome, "", leaves_on=leaves_on, must_stop=must_stop)


# --- patient-level leaves ----------------------------------------------------------------------


def _birthday(birth: date, years: int) -> date | None:
    """The day someone born on ``birth`` turns ``years``; ``None`` after 9999-12-31."""
    try:
        return add_months(birth, 12 * years)
    except OverflowError:
        return None


def _age_clause(leaf: AgeLeaf, met: bool) -> str:
    """``within 18-70`` / ``under 18`` / ``65 or under``..., said of an age that passes or not."""
    if leaf.min is not None and leaf.max is not None:
        return f"{'within' if met else 'outside'} {leaf.min}-{leaf.max}"
    if leaf.min is not None:
        return f"{leaf.min} or over" if met else f"under {leaf.min}"
    return f"{leaf.max} or under" if met else f"over {leaf.max}"


def _age(leaf: AgeLeaf, facts: PatientFacts, matches: Matches, words: bool) -> LeafResult:
    birth = facts.birth_date
    if birth is None or facts.age_lo is None or facts.age_hi is None:
        if not words:
            return _BARE[UNKNOWN]
        return LeafResult(
            UNKNOWN,
            "birth date not recorded",
            ("no birth date on record",),
            (MissingFact("birth_date", "birth date"),),
        )
    leaves = None
    if matches.definite:
        outcome = MET
        leaves = _birthday(birth.first, leaf.max + 1) if leaf.max is not None else None
    elif matches.possible:
        outcome = UNKNOWN
    else:
        outcome = NOT_MET
        if leaf.min is not None and facts.age_hi < leaf.min:
            leaves = _birthday(birth.first, leaf.min)
    if not words:
        return _bare(outcome, leaves)
    age = str(facts.age_lo) if facts.age_lo == facts.age_hi else f"{facts.age_lo} or {facts.age_hi}"
    evidence = (f"born {birth} (age {age} on {facts.as_of})",)
    cited = (facts.birth_ref(),)
    if outcome is UNKNOWN:
        return LeafResult(
            UNKNOWN,
            f"cannot tell whether the age is {_age_clause(leaf, True)}: the birth date is "
            f"recorded only as {birth} (age {age})",
            evidence,
            (MissingFact("birth_date", "full birth date", records=("birth_date",)),),
            records=cited,
        )
    reason = f"age {age} is {_age_clause(leaf, outcome is MET)}"
    return LeafResult(outcome, reason, evidence, leaves_on=leaves, records=cited)


def _sex(leaf: SexLeaf, facts: PatientFacts, matches: Matches, words: bool) -> LeafResult:
    if not words:
        return _BARE[UNKNOWN if facts.sex is None else MET if matches.definite else NOT_MET]
    wanted = " or ".join(sorted(s.value for s in leaf.values))
    if facts.sex is None:
        gaps = facts.gaps.section("demographics") if facts.gaps else ()
        reason = "sex not recorded"
        if gaps:
            reason = f"sex unknown: {describe('demographics', [gap.note for gap in gaps])}"
        return LeafResult(UNKNOWN, reason, ("no sex on record",), (MissingFact("sex", "sex"),))
    evidence = (f"sex: {facts.sex.value}",)
    cited = (facts.sex_ref(),)
    if matches.definite:
        return LeafResult(MET, f"sex is {facts.sex.value}", evidence, records=cited)
    return LeafResult(NOT_MET, f"sex is {facts.sex.value}, not {wanted}", evidence, records=cited)


def _attribute_text(value: str | bool) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value.replace("_", " ")


def _attribute(
    leaf: AttributeLeaf, facts: PatientFacts, matches: Matches, words: bool
) -> LeafResult:
    value = facts.attributes.get(leaf.name)
    if not words:
        return _BARE[UNKNOWN if value is None else MET if matches.definite else NOT_MET]
    what = ATTRIBUTES[leaf.name].description
    if value is None:
        needed = MissingFact("attribute", what, records=(f"attributes.{leaf.name}",))
        return LeafResult(UNKNOWN, f"{what} not recorded", (f"no {what} on record",), (needed,))
    if leaf.values is not None:
        wanted = " or ".join(_attribute_text(v) for v in sorted(leaf.values))
    else:
        wanted = _attribute_text(bool(leaf.expected))
    evidence = (f"{what}: {_attribute_text(value)}",)
    cited = (facts.attribute_ref(leaf.name),)
    if matches.definite:
        return LeafResult(MET, f"{what}: {_attribute_text(value)}", evidence, records=cited)
    return LeafResult(
        NOT_MET, f"{what}: {_attribute_text(value)}, not {wanted}", evidence, records=cited
    )


def _status(leaf: StatusLeaf, facts: PatientFacts, matches: Matches, words: bool) -> LeafResult:
    record = facts.status(leaf.what)
    aged_out = False
    if record is not None and matches.definite:
        outcome, case = (MET if record.positive else NOT_MET), "recorded"
    elif record is not None and record.positive and matches.possible:
        # A positive status whose partial date may fall in the window stands for every day it
        # could be: neither sex nor age can set it aside.
        outcome, case = UNKNOWN, "maybe"
    elif facts.sex is Sex.MALE:
        outcome, case = NOT_MET, "male"
    else:
        if facts.sex is Sex.FEMALE and facts.age_lo is not None and facts.age_hi is not None:
            too_young = leaf.childbearing_min is not None and facts.age_hi < leaf.childbearing_min
            too_old = leaf.childbearing_max is not None and facts.age_lo > leaf.childbearing_max
            aged_out = too_young or too_old
        outcome, case = (NOT_MET, "aged out") if aged_out else (UNKNOWN, "not recorded")
    if not words:
        return _BARE[outcome]
    start = day(facts.window_start(leaf.within))
    cited = (record.ref(leaf.what),) if record is not None else ()
    noun = "pregnancy" if leaf.what == "pregnant" else "lactation"
    needed = (MissingFact(noun, f"{noun} status recorded since {start}", None, start, facts.as_of),)
    if case == "recorded":
        assert record is not None
        text = record.describe(leaf.what)
        return LeafResult(outcome, text, (text,), records=cited)
    if case == "maybe":
        assert record is not None
        return LeafResult(
            UNKNOWN,
            f"{record.describe(leaf.what)}: cannot tell whether between {start} and {facts.as_of}",
            (record.describe(leaf.what),),
            needed,
            records=cited,
        )
    if case == "male":
        return LeafResult(NOT_MET, "male patient", ("sex: male",), records=(facts.sex_ref(),))
    if case == "aged out":
        age = facts.age_lo if facts.age_lo == facts.age_hi else f"{facts.age_lo}-{facts.age_hi}"
        span = _age_clause(AgeLeaf(leaf.childbearing_min, leaf.childbearing_max), True)
        return LeafResult(
            NOT_MET,
            f"female aged {age}: not of childbearing age ({span})",
            (f"born {facts.birth_date}, female",),
            records=(facts.birth_ref(), facts.sex_ref()),
        )
    evidence: tuple[str, ...]
    if record is None:
        evidence = (f"no {noun} status on record",)
    elif record.date_hi < facts.window_start(leaf.within):
        evidence = (f"{record.describe(leaf.what)}, before {start}",)
    else:
        evidence = (f"{record.describe(leaf.what)}: cannot tell whether on or after {start}",)
    return LeafResult(
        UNKNOWN, f"no {noun} status recorded since {start}", evidence, needed, records=cited
    )


# --- conditions --------------------------------------------------------------------------------


def _condition(
    leaf: ConditionLeaf, facts: PatientFacts, matches: Matches, words: bool
) -> LeafResult:
    label = leaf.concept.label
    records = facts.conditions
    if matches.definite:
        leaves = _condition_leaves_met(
            leaf,
            facts,
            [records[i] for i in matches.definite] + [records[i] for i in matches.possible],
        )
        if leaves is not None and _section_may_miss(leaf, facts):
            leaves = None  # an unread record may be a later one: no day can be promised
        if not words:
            return _bare(MET, leaves)
        evidence, cited = _cite(records, matches.definite)
        reason = f"{_condition_clause(leaf, facts)} on record"
        return LeafResult(MET, reason, evidence, leaves_on=leaves, records=cited)
    if matches.possible:
        if not words:
            return _BARE[UNKNOWN]
        doubtful = facts.uncertain(leaf.concept)
        missing = tuple(
            dict.fromkeys(
                _condition_missing(leaf, facts, records[i], i in doubtful) for i in matches.possible
            )
        )
        evidence, cited = _cite(records, matches.possible)
        return LeafResult(
            UNKNOWN,
            f"cannot tell from the record whether the patient has {_condition_clause(leaf, facts)}",
            evidence,
            missing,
            records=cited,
        )
    if not facts.conditions_complete:
        if not words:
            return _BARE[UNKNOWN]
        return LeafResult(
            UNKNOWN,
            f"no {label} on record, but the condition list is not reviewed",
            (f"no {label} on record (condition list not reviewed)",),
            (_condition_question(leaf, facts),),
        )
    others = facts.members(leaf.concept)
    if not others:
        absent = f"no {label} on record"
        result = LeafResult(NOT_MET, absent, (absent,)) if words else _BARE[NOT_MET]
    else:
        result = _condition_not_met(leaf, facts, others, words)
    gap = facts.gaps.about(leaf.concept) if facts.gaps else None
    if gap:
        return (
            _unvouched(result, gap, _condition_question(leaf, facts)) if words else _BARE[UNKNOWN]
        )
    return result


def _condition_clause(leaf: ConditionLeaf, facts: PatientFacts) -> str:
    """What the rule asks for, in words: ``active CRPS``, ``CRPS for at least 6 months``..."""
    label = leaf.concept.label
    if leaf.onset_at_least is not None:
        return f"{label} for at least {leaf.onset_at_least}"
    if leaf.onset_within is not None:
        return f"{label} beginning on or after {day(facts.window_start(leaf.onset_within))}"
    if leaf.active_within is not None:
        return f"{label} active at some time since {day(facts.window_start(leaf.active_within))}"
    return label if leaf.status == "ever" else f"active {label}"


def _condition_question(leaf: ConditionLeaf, facts: PatientFacts) -> MissingFact:
    """The fact that decides a condition rule when the record cannot vouch for an absence."""
    if leaf.active_within is not None:
        text = f"whether the patient had {_condition_clause(leaf, facts)}"
        since = day(facts.window_start(leaf.active_within))
        return MissingFact("record", text, leaf.concept.name, since, facts.as_of)
    ever = "ever had" if leaf.status == "ever" else "has"
    text = f"whether the patient {ever} {leaf.concept.label}"
    return MissingFact("record", text, leaf.concept.name, None, facts.as_of)


def _cite(
    records: Sequence[ConditionFact | MedicationFact | ObservationFact], positions: Sequence[int]
) -> tuple[tuple[str, ...], tuple[RecordRef, ...]]:
    """The records at ``positions`` as evidence: in words, and as data."""
    chosen = [records[i] for i in positions]
    return tuple(r.describe() for r in chosen), tuple(r.ref for r in chosen)


def _section_may_miss(leaf: ConditionLeaf | MedicationLeaf, facts: PatientFacts) -> bool:
    """True if the leaf's section may hold more than the records read: the reader skipped a
    record that could be of the leaf's concept (see ``matcher.evaluation.coverage``), or the
    section was not reviewed at all (``unreviewed``). A rule met by the records read would then
    stop being met on a day an unread record may move: an eligible-from date would rest on
    evidence the reader cannot vouch for, so the rule gets no ``leaves_on``."""
    complete = (
        facts.conditions_complete if isinstance(leaf, ConditionLeaf) else facts.medications_complete
    )
    return not complete or bool(facts.gaps and facts.gaps.about(leaf.concept))


def _unvouched(result: LeafResult, gap: str, question: MissingFact) -> LeafResult:
    """A result that rests on the record being complete, where the reader skipped a record that
    could change it (``gap`` names it, see ``matcher.evaluation.coverage``): unknown."""
    return LeafResult(
        UNKNOWN, f"{result.reason}, but {gap}", result.evidence, (question,), records=result.records
    )


def _condition_not_met(
    leaf: ConditionLeaf, facts: PatientFacts, positions: Sequence[int], words: bool
) -> LeafResult:
    """Records of the concept exist but none qualifies: say why, and when waiting would help.

    A confirmed record that still counts (any record for ``ever``, an active one for ``present``)
    can only have failed by a too recent onset; otherwise the records began before the window,
    have resolved, or begin after the as-of date.
    """
    label = leaf.concept.label
    others = [facts.conditions[i] for i in positions]
    # A record that certainly begins after the as-of date is not history: waiting for it says
    # nothing about when the patient qualifies; nor does waiting for a possible member.
    doubtful = facts.uncertain(leaf.concept)
    lasting = [
        r
        for i, r in zip(positions, others, strict=True)
        if r.certain
        and i not in doubtful
        and r.onset_lo <= facts.today
        and (leaf.status == "ever" or r.abate_lo > facts.today)
    ]
    if leaf.onset_at_least is not None and lasting:
        # Waiting turns a recent onset into an old enough one.
        span = leaf.onset_at_least
        first = min(lasting, key=lambda r: r.onset_hi)
        leaves = first_day_reaching(span, first.onset_hi) if first.onset_hi < FAR_FUTURE else None
        if not words:
            return _bare(NOT_MET, leaves)
        evidence, cited = _cite(facts.conditions, positions)
        return LeafResult(
            NOT_MET,
            f"{label} on record only since {first.onset}: less than {span} before {facts.as_of}",
            evidence,
            leaves_on=leaves,
            records=cited,
        )
    if not words:
        return _BARE[NOT_MET]
    evidence, cited = _cite(facts.conditions, positions)
    if leaf.onset_within is not None:
        start = facts.window_start(leaf.onset_within)
        if all(r.onset_hi < start for r in others):
            return LeafResult(
                NOT_MET,
                f"{label} on record, but it began before {day(start)}",
                evidence,
                records=cited,
            )
    if leaf.active_within is not None:
        start = facts.window_start(leaf.active_within)
        if any(r.abate_hi <= start for r in others):
            return LeafResult(
                NOT_MET,
                f"{label} on record, but it resolved on or before {day(start)}",
                evidence,
                records=cited,
            )
    if leaf.status == "present" and any(r.abate_hi <= facts.today for r in others):
        return LeafResult(
            NOT_MET, f"{label} on record, but no longer active", evidence, records=cited
        )
    return LeafResult(
        NOT_MET,
        f"{label} on record, but with an onset after {facts.as_of}",
        evidence,
        records=cited,
    )


def _condition_leaves_met(
    leaf: ConditionLeaf, facts: PatientFacts, found: Sequence[ConditionFact]
) -> date | None:
    """A recent-onset match stops matching once its onset leaves the window; a match "active
    within" once its window starts after the last record resolved (never while one is active)."""
    if not found:
        return None
    if leaf.active_within is not None:
        last = max(record.abate_hi for record in found)
        return None if last >= FAR_FUTURE else first_day_reaching(leaf.active_within, last)
    if leaf.onset_within is None:
        return None
    last = max(record.onset_hi for record in found)
    return first_day_reaching(leaf.onset_within, last + 1)


def _condition_missing(
    leaf: ConditionLeaf, facts: PatientFacts, record: ConditionFact, doubtful: bool
) -> MissingFact:
    """The fact that would decide a condition record that only possibly qualifies (``doubtful``:
    its code may or may not mean the concept)."""
    label, name, cited = leaf.concept.label, leaf.concept.name, (record.ref.record,)
    if doubtful:
        return MissingFact(
            "confirmation", f"whether {record.label} is {label}", name, records=cited
        )
    if not record.certain:
        text = f"confirmation of the {label} diagnosis"
        return MissingFact("confirmation", text, name, records=cited)
    recorded = f"recorded as {record.onset}" if record.onset else "not recorded"
    if leaf.onset_at_least is not None:
        cutoff = day(facts.window_start(leaf.onset_at_least))
        text = f"onset date of {label} ({recorded}; must be on or before {cutoff})"
        return MissingFact("onset_date", text, name, until=cutoff, records=cited)
    if leaf.onset_within is not None:
        start = day(facts.window_start(leaf.onset_within))
        text = f"onset date of {label} ({recorded}; counts if on or after {start})"
        return MissingFact("onset_date", text, name, start, facts.as_of, cited)
    if leaf.active_within is not None:
        if record.onset_hi > facts.today:
            text = f"onset date of {label} ({recorded}; counts if on or before {facts.as_of})"
            return MissingFact("onset_date", text, name, until=facts.as_of, records=cited)
        start = day(facts.window_start(leaf.active_within))
        resolved = f"recorded as {record.abatement}" if record.abatement else "not recorded"
        text = f"when {label} resolved ({resolved}; counts if after {start})"
        return MissingFact("end_date", text, name, since=start, records=cited)
    if record.abatement is not None:
        text = f"when {label} resolved (recorded as {record.abatement})"
        return MissingFact("end_date", text, name, records=cited)
    return MissingFact("onset_date", f"onset date of {label} ({recorded})", name, records=cited)


# --- medications -------------------------------------------------------------------------------


def _medication(
    leaf: MedicationLeaf, facts: PatientFacts, matches: Matches, words: bool
) -> LeafResult:
    records = facts.medications
    if matches.definite:
        found = [records[i] for i in (*matches.definite, *matches.possible)]
        leaves, stop = _medication_leaves_met(leaf, facts, found)
        if leaves is not None and _section_may_miss(leaf, facts):
            leaves, stop = None, ()  # an unread record may be later use: no day can be promised
        if not words:
            return _bare(MET, leaves, stop)
        evidence, cited = _cite(records, matches.definite)
        used = _medication_phrases(leaf, facts)[0]
        return LeafResult(MET, used, evidence, leaves_on=leaves, must_stop=stop, records=cited)
    if not words:
        if matches.possible or not facts.medications_complete:
            return _BARE[UNKNOWN]
        return _BARE[UNKNOWN] if facts.gaps and facts.gaps.about(leaf.concept) else _BARE[NOT_MET]
    label = leaf.concept.label
    _, asked, absent, question = _medication_phrases(leaf, facts)
    if matches.possible:
        alike = sorted(
            {name for i in matches.possible if (name := facts.resembles(leaf.concept, i))}
        )
        reason = f"cannot tell from the record {asked}"
        if alike:
            names = " or ".join(alike)
            reason += f": the name of a medication on record resembles {names} ({label})"
        evidence, cited = _cite(records, matches.possible)
        return LeafResult(UNKNOWN, reason, evidence, (question,), records=cited)
    if not facts.medications_complete:
        return LeafResult(
            UNKNOWN,
            f"{absent}, but the medication list is not reviewed",
            (f"{absent} (medication list not reviewed)",),
            (question,),
        )
    evidence, cited = _cite(records, facts.members(leaf.concept))
    result = LeafResult(NOT_MET, absent, evidence or (absent,), records=cited)
    gap = facts.gaps.about(leaf.concept) if facts.gaps else None
    return _unvouched(result, gap, question) if gap else result


def _medication_phrases(
    leaf: MedicationLeaf, facts: PatientFacts
) -> tuple[str, str, str, MissingFact]:
    """What a medication rule finds, asks and misses, in words: use found, the question, no use
    found, and the question as a missing fact."""
    label = leaf.concept.label
    since: date | None = None
    if leaf.ever:
        used = f"{label} on record"
        asked = f"whether the patient has ever used {label}"
        absent = f"no {label} on record"
    elif leaf.within is None:
        since = facts.as_of
        used = f"{label} in use on {facts.as_of}"
        asked = f"whether the patient currently uses {label}"
        absent = f"no current {label} on record"
    else:
        since = day(facts.window_start(leaf.within))
        used = f"{label} used since {since}"
        asked = f"whether the patient used {label} since {since}"
        absent = f"no {label} on record since {since}"
    return used, asked, absent, MissingFact("record", asked, leaf.concept.name, since, facts.as_of)


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
        after = day(last + 1) if last + 1 < FAR_FUTURE else None  # None: after 9999-12-31
        return after, tuple(dict.fromkeys(stop))
    return first_day_reaching(leaf.within, last + 1), tuple(dict.fromkeys(stop))


# --- observations ------------------------------------------------------------------------------


def _bounds_phrase(leaf: ObservationLeaf, met: bool) -> str:
    """``within 4-7`` / ``below 4`` / ``above 180 mmHg``..., said of a value that passes or not."""
    unit = display_unit(leaf.unit)
    low, high = leaf.low, leaf.high
    if low is not None and high is not None:
        return f"{'within' if met else 'outside'} {leaf.bounds_text()}"
    if low is not None:
        if leaf.low_inclusive:
            return f"at least {low:g}{unit}" if met else f"below {low:g}{unit}"
        return f"above {low:g}{unit}" if met else f"not above {low:g}{unit}"
    assert high is not None
    if leaf.high_inclusive:
        return f"at most {high:g}{unit}" if met else f"above {high:g}{unit}"
    return f"below {high:g}{unit}" if met else f"not below {high:g}{unit}"


def _observed(leaf: ObservationLeaf, record: ObservationFact) -> str:
    """The reading, with its value in the rule's unit when it had to be converted."""
    factor = unit_factor(record.unit, leaf.unit)
    text = record.value_text()
    if record.value is not None and factor not in (None, 1.0):
        assert factor is not None
        text += f" ({record.value * factor:g}{display_unit(leaf.unit)})"
    when = f"on {record.date}" if record.date else "date not recorded"
    return f"{text} {when}"


def _observation(
    leaf: ObservationLeaf, facts: PatientFacts, matches: Matches, words: bool
) -> LeafResult:
    if leaf.aggregate != "latest":
        result = _aggregate(leaf, facts, matches, words)
    else:
        result = _latest(leaf, facts, matches, words)
    gap = facts.gaps.about(leaf.concept) if facts.gaps else None
    if gap is None:
        return result
    if not words:
        return _BARE[UNKNOWN]
    # A skipped reading may be the latest one, or change the aggregate.
    if result.outcome is UNKNOWN:
        return result._replace(reason=f"{result.reason}; also, {gap}")
    start = day(facts.window_start(leaf.within))
    text = f"a readable {leaf.concept.label} from {start} to {facts.as_of}"
    return _unvouched(
        result, gap, MissingFact("record", text, leaf.concept.name, start, facts.as_of)
    )


def _latest(
    leaf: ObservationLeaf, facts: PatientFacts, matches: Matches, words: bool
) -> LeafResult:
    records = facts.observations
    if not words:
        if not matches.definite:
            return _BARE[UNKNOWN]
        verdicts, _, _ = _latest_readings(records, matches)
        return _BARE[MET if verdicts == {True} else NOT_MET if verdicts == {False} else UNKNOWN]
    label = leaf.concept.label
    start = day(facts.window_start(leaf.within))
    period = f"from {start} to {facts.as_of}"

    def needed(text: str, *about: int) -> tuple[MissingFact, ...]:
        cited = tuple(records[i].ref.record for i in about)
        return (MissingFact("record", text, leaf.concept.name, start, facts.as_of, cited),)

    wanted = needed(f"a {label} {period}")
    if not matches.definite and not matches.possible:
        notes = [f"no {label} {period}"]
        earlier = [
            records[i]
            for i in facts.members(leaf.concept)
            if records[i].date_hi < facts.window_start(leaf.within)
        ]
        cited: tuple[RecordRef, ...] = ()
        if earlier:
            last = max(earlier, key=lambda r: (r.date_hi, r.index))
            notes.append(f"latest before {start}: {last.describe()}")
            cited = (last.ref,)
        return LeafResult(UNKNOWN, f"no {label} {period}", tuple(notes), wanted, records=cited)
    if not matches.definite:
        evidence, cited = _cite(records, matches.possible)
        return LeafResult(
            UNKNOWN,
            f"cannot tell whether any {label} falls {period}",
            evidence,
            wanted,
            records=cited,
        )
    verdicts, latest, contenders = _latest_readings(records, matches)
    evidence, cited = _cite(records, contenders)
    reading = _observed(leaf, records[latest])
    if verdicts == {True}:
        return LeafResult(
            MET,
            f"latest {label} is {reading}, {_bounds_phrase(leaf, True)}",
            evidence,
            records=cited,
        )
    if verdicts == {False}:
        return LeafResult(
            NOT_MET,
            f"latest {label} is {reading}, {_bounds_phrase(leaf, False)}",
            evidence,
            records=cited,
        )
    if None in verdicts and len(contenders) == 1:
        unit = display_unit(leaf.unit).strip() or "a known unit"
        return LeafResult(
            UNKNOWN,
            f"latest {label} ({reading}) has no value in {unit}",
            evidence,
            needed(f"a {label} in {unit} {period}", latest),
            records=cited,
        )
    return LeafResult(
        UNKNOWN,
        f"cannot tell which {label} is the latest: readings of the same period disagree",
        evidence,
        needed(f"a new {label}: the readings around {records[latest].date} disagree", *contenders),
        records=cited,
    )


def _latest_readings(
    records: Sequence[ObservationFact], matches: Matches
) -> tuple[set[bool | None], int, list[int]]:
    """Whether each reading that may be the latest is in range (``None``: no usable value), the
    latest certain reading, and those that may be the latest (it first)."""
    latest = max(matches.definite, key=lambda i: (records[i].date_lo, records[i].date_hi, i))
    floor = records[latest].date_lo
    rivals = [
        i
        for i in (*matches.definite, *matches.possible)
        if i != latest and records[i].date_hi >= floor
    ]
    contenders = [latest, *rivals]
    verdicts = {i in matches.in_range if i in matches.comparable else None for i in contenders}
    return verdicts, latest, contenders


# --- aggregates of observations ------------------------------------------------------------------
# The readings in the window are those on record; which of them count is uncertain when a date may
# fall on either side of the window (``possible``) or a value is missing or in a unit that does not
# convert (not ``comparable``: its value could be anything). The aggregate is computed for every
# set of readings the record allows, as a range [lo, hi]: the rule is met when all of the range
# passes the bounds, not met when none of it does, unknown otherwise.

_AGGREGATE_WORDS: Final = {
    "mean": "mean",
    "minimum": "lowest",
    "maximum": "highest",
    "spread": "spread (highest minus lowest)",
    "count": "number",
}
_INF: Final = float("inf")


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


def _mean_range(sure: Sequence[float], maybe: Sequence[float]) -> tuple[float, float]:
    """The lowest and highest mean of ``sure`` plus any of ``maybe`` (``sure`` is not empty):
    adding the values below (above) the running mean, lowest (highest) first."""
    lowest = highest = sum(sure) / len(sure)
    total, count = sum(sure), len(sure)
    for value in sorted(maybe):
        if value >= lowest:
            break
        total, count = total + value, count + 1
        lowest = total / count
    total, count = sum(sure), len(sure)
    for value in sorted(maybe, reverse=True):
        if value <= highest:
            break
        total, count = total + value, count + 1
        highest = total / count
    return lowest, highest


def _aggregate_range(
    leaf: ObservationLeaf, sure: list[float], maybe: list[float], unusable: bool
) -> tuple[float, float]:
    """[lo, hi] of the aggregate over every set of readings the record allows (``sure`` are
    certainly in the window with usable values, ``maybe`` may be; ``unusable``: some reading
    of the window has a value that cannot be used, so it could be anything)."""
    every = sure + maybe
    match leaf.aggregate:
        case "maximum":
            return max(sure), _INF if unusable else max(every)
        case "minimum":
            return -_INF if unusable else min(every), min(sure)
        case "spread":
            return max(sure) - min(sure), _INF if unusable else max(every) - min(every)
        case "mean":
            return (-_INF, _INF) if unusable else _mean_range(sure, maybe)
        case "latest" | "count":  # pragma: no cover - not aggregates of values
            raise AssertionError(f"not an aggregate of values: {leaf.aggregate}")
        case _:  # pragma: no cover
            assert_never(leaf.aggregate)


def _range_text(low: float, high: float, unit: str) -> str:
    """``is 3.67`` / ``is between 3 and 4`` / ``is at least 170 mmHg`` / ``cannot be computed``."""
    if low == high:
        return f"is {_number(low)}{unit}"
    if high == _INF and low == -_INF:
        return "cannot be computed (a reading has no usable value)"
    if high == _INF:
        return f"is at least {_number(low)}{unit}"
    if low == -_INF:
        return f"is at most {_number(high)}{unit}"
    return f"is between {_number(low)} and {_number(high)}{unit}"


def _range_outcome(leaf: ObservationLeaf, low: float, high: float) -> Outcome:
    if leaf.in_range(low) and leaf.in_range(high):  # the bounds are an interval
        return MET
    below = leaf.low is not None and (
        high < leaf.low or (high == leaf.low and not leaf.low_inclusive)
    )
    above = leaf.high is not None and (
        low > leaf.high or (low == leaf.high and not leaf.high_inclusive)
    )
    return NOT_MET if below or above else UNKNOWN


def _aggregate(
    leaf: ObservationLeaf, facts: PatientFacts, matches: Matches, words: bool
) -> LeafResult:
    records = facts.observations
    found = sorted(
        (*matches.definite, *matches.possible),
        key=lambda i: (records[i].date_lo, records[i].date_hi, i),
    )

    def values(positions: Sequence[int]) -> list[float]:
        out = []
        for i in positions:
            value, factor = records[i].value, unit_factor(records[i].unit, leaf.unit)
            assert value is not None and factor is not None  # comparable readings
            out.append(value * factor)
        return out

    sure = values([i for i in matches.definite if i in matches.comparable])
    maybe = values([i for i in matches.possible if i in matches.comparable])
    bounded = leaf
    low: float | None
    high: float | None
    if leaf.aggregate == "count":
        bounded = replace(leaf, unit=None)  # a count has no unit
        low, high = float(len(sure)), float(len(found))
    elif len(sure) < leaf.min_readings:
        low = high = None
    else:
        low, high = _aggregate_range(leaf, sure, maybe, len(found) > len(sure) + len(maybe))
    outcome = UNKNOWN if low is None or high is None else _range_outcome(bounded, low, high)
    if not words:
        return _BARE[outcome]
    label = leaf.concept.label
    start = day(facts.window_start(leaf.within))
    period = f"from {start} to {facts.as_of}"
    evidence, cited = _cite(records, found)
    evidence = evidence or (f"no {label} {period}",)
    word = _AGGREGATE_WORDS[leaf.aggregate]

    def needed(text: str) -> tuple[MissingFact, ...]:
        return (MissingFact("record", text, leaf.concept.name, start, facts.as_of),)

    if low is None or high is None:
        least = leaf.min_readings
        count = {0: "no reading", 1: "1 reading"}.get(len(sure), f"{len(sure)} readings")
        return LeafResult(
            UNKNOWN,
            f"{count} of {label} with a usable value {period}: the {word} needs at least {least}",
            evidence,
            needed(f"at least {least} {label} readings {period}"),
            records=cited,
        )
    if leaf.aggregate == "count":
        reason = f"{word} of {label} readings {period} {_range_text(low, high, '')}"
    else:
        reading = "reading" if len(sure) == 1 and not maybe else "readings"
        text = _range_text(low, high, display_unit(leaf.unit))
        reason = f"{word} of the {label} {reading} {period} {text}"
    if outcome is UNKNOWN:
        return LeafResult(
            UNKNOWN,
            f"{reason}: cannot tell whether {_bounds_phrase(bounded, True)}",
            evidence,
            needed(f"full dates and usable values of the {label} readings {period}"),
            records=cited,
        )
    return LeafResult(
        outcome, f"{reason}, {_bounds_phrase(bounded, outcome is MET)}", evidence, records=cited
    )
