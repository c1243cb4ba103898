"""The default engine: leaf rules decided by plain Python comparisons on ``PatientFacts``.

Each distinct leaf (interned at compile time, see ``matcher.criteria.compiler``, and listed once
per catalog by ``matcher.evaluation.plan``) is decided once per patient, however many trials
share it; records are found through the facts' per-concept index, so a
leaf looks only at the few records of its concept set. The engine holds no state between calls and
is safe to use from many threads at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import assert_never

from matcher.core.codes import unit_factor
from matcher.criteria.compiler import (
    AgeLeaf,
    AttributeLeaf,
    CompiledTrial,
    ConditionLeaf,
    Leaf,
    MedicationLeaf,
    ObservationLeaf,
    SexLeaf,
    StatusLeaf,
)
from matcher.evaluation.facts import FAR_PAST, PatientFacts
from matcher.evaluation.leaves import MAYBE, NOTHING, PATIENT, LeafResult, Matches, leaf_result
from matcher.evaluation.plan import plan

__all__ = ["PYTHON_ENGINE", "PythonEngine", "match"]


class PythonEngine:
    name = "python"
    #: ``decide`` takes ``words`` (see ``matcher.evaluation.engines.WordsOnDemand``).
    words_on_demand = True

    def decide(
        self, trials: Sequence[CompiledTrial], facts: PatientFacts, *, words: bool = True
    ) -> Mapping[int, LeafResult]:
        # The distinct leaves of the trials, listed once per catalog by its plan.
        return {
            leaf.key: leaf_result(leaf, facts, match(leaf, facts), words=words)
            for leaf in plan(trials).leaves
        }


PYTHON_ENGINE = PythonEngine()


def match(leaf: Leaf, facts: PatientFacts) -> Matches:
    """The records satisfying ``leaf``'s record condition (see ``matcher.evaluation.leaves``)."""
    if isinstance(leaf, ConditionLeaf):
        return _condition(leaf, facts)
    if isinstance(leaf, MedicationLeaf):
        return _medication(leaf, facts)
    if isinstance(leaf, ObservationLeaf):
        return _observation(leaf, facts)
    if isinstance(leaf, AgeLeaf):
        return _age(leaf, facts)
    if isinstance(leaf, SexLeaf):
        if facts.sex is None:
            return MAYBE
        return PATIENT if facts.sex in leaf.values else NOTHING
    if isinstance(leaf, AttributeLeaf):
        value = facts.attributes.get(leaf.name)
        if value is None:
            return MAYBE
        if leaf.values is not None:
            return PATIENT if value in leaf.values else NOTHING
        return PATIENT if value == leaf.expected else NOTHING
    if isinstance(leaf, StatusLeaf):
        return _status(leaf, facts)
    assert_never(leaf)


def _age(leaf: AgeLeaf, facts: PatientFacts) -> Matches:
    low, high = facts.age_lo, facts.age_hi
    if low is None or high is None:
        return MAYBE
    if (leaf.min is None or low >= leaf.min) and (leaf.max is None or high <= leaf.max):
        return PATIENT
    if (leaf.min is None or high >= leaf.min) and (leaf.max is None or low <= leaf.max):
        return MAYBE
    return NOTHING


def _status(leaf: StatusLeaf, facts: PatientFacts) -> Matches:
    record = facts.status(leaf.what)
    if record is None:
        return NOTHING
    start, today = facts.window_start(leaf.within), facts.today
    if record.date_lo >= start and record.date_hi <= today:
        return PATIENT
    if record.date_hi >= start and record.date_lo <= today:
        return MAYBE
    return NOTHING


def _condition(leaf: ConditionLeaf, facts: PatientFacts) -> Matches:
    members = facts.members(leaf.concept)
    if not members:  # the common case: no record of the set, no window to compute
        return NOTHING
    today = facts.today
    # Active on some day from ``active`` to the as-of day: abatement after ``active``.
    if leaf.active_within is not None:
        active: int | None = facts.window_start(leaf.active_within)
    else:
        active = today if leaf.status == "present" else None
    cutoff = facts.window_start(leaf.onset_at_least) if leaf.onset_at_least is not None else None
    start = facts.window_start(leaf.onset_within) if leaf.onset_within is not None else None
    definite: list[int] = []
    possible: list[int] = []
    doubtful = facts.uncertain(leaf.concept)  # possible members of the set only
    for i in members:
        r = facts.conditions[i]
        sure = r.certain and i not in doubtful and r.onset_hi <= today
        maybe = r.onset_lo <= today
        if active is not None:
            sure = sure and r.abate_lo > active
            maybe = maybe and r.abate_hi > active
        if cutoff is not None:
            sure = sure and r.onset_hi <= cutoff
            maybe = maybe and r.onset_lo <= cutoff
        if start is not None:
            sure = sure and r.onset_lo >= start
            maybe = maybe and r.onset_hi >= start
        if sure:
            definite.append(i)
        elif maybe:
            possible.append(i)
    return Matches(tuple(definite), tuple(possible)) if definite or possible else NOTHING


def _medication(leaf: MedicationLeaf, facts: PatientFacts) -> Matches:
    members = facts.members(leaf.concept)
    if not members:
        return NOTHING
    today = facts.today
    if leaf.ever:
        start = FAR_PAST
    else:
        start = facts.window_start(leaf.within) if leaf.within is not None else today
    definite: list[int] = []
    possible: list[int] = []
    doubtful = facts.uncertain(leaf.concept)  # near misses of a member's name
    for i in members:
        r = facts.medications[i]
        if r.start_hi <= today and r.end_lo >= start and i not in doubtful:
            definite.append(i)
        elif r.start_lo <= today and r.end_hi >= start:
            possible.append(i)
    return Matches(tuple(definite), tuple(possible)) if definite or possible else NOTHING


def _observation(leaf: ObservationLeaf, facts: PatientFacts) -> Matches:
    members = facts.members(leaf.concept)
    if not members:
        return NOTHING
    today = facts.today
    start = facts.window_start(leaf.within)
    definite: list[int] = []
    possible: list[int] = []
    in_range: set[int] = set()
    comparable: set[int] = set()
    latest = leaf.aggregate == "latest"  # an aggregate compares its value, not each reading's
    for i in members:
        r = facts.observations[i]
        if r.date_lo >= start and r.date_hi <= today:
            definite.append(i)
        elif r.date_hi >= start and r.date_lo <= today:
            possible.append(i)
        else:
            continue
        factor = unit_factor(r.unit, leaf.unit)
        if r.value is not None and factor is not None:
            comparable.add(i)
            if latest and leaf.in_range(r.value * factor):
                in_range.add(i)
    if not definite and not possible:
        return NOTHING
    return Matches(tuple(definite), tuple(possible), frozenset(in_range), frozenset(comparable))
