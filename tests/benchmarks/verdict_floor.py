"""Verdicts alone: the floor under ``check(..., explain="none")`` on any catalog.

The leaves are decided by the python engine without words (``PythonEngine.decide(...,
words=False)``: every engine must decide its leaf rules, and none decides them more cheaply
here), and the rule trees are folded to outcomes by the trials' ``Plan``
(``matcher.evaluation.plan``: the cheapest fold the project has, one list append per distinct
node). Then each distinct criterion's outcome becomes what it does to a verdict, with the
README's rules ("How matcher decides") written out again here, and each trial gets its verdict.
Nothing else: no score, no ranking, no eligible-from date, no result objects, no explanation.
So ``check(..., explain="none")`` over this floor is the price of scores, eligible-from dates,
ranking and result objects. The benchmark checks that these verdicts equal the engine's on every
patient it times.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from matcher.core.outcome import MET, NOT_MET, REVIEW, UNKNOWN, Outcome, negate
from matcher.criteria.compiler import CompiledCriterion, CompiledTrial
from matcher.evaluation.engines.python import PYTHON_ENGINE
from matcher.evaluation.evaluate import prepare
from matcher.evaluation.plan import Plan, plan
from matcher.patient.model import Patient

#: A criterion's outcome for the verdict: passes, blocks, holds (undecided or to review), or
#: asks a screening question (which does not hold the trial).
_PASS, _BLOCK, _HOLD, _SCREEN = range(4)


def _criterion(criterion: CompiledCriterion, rule: Outcome | None, scope: Outcome | None) -> int:
    """What a criterion whose rule came out ``rule`` and whose ``applies_to`` came out ``scope``
    (``None``: it has none) does to its trial's verdict."""
    passing = MET if criterion.kind == "inclusion" else NOT_MET
    if scope is NOT_MET:
        return _PASS
    if rule is None:
        return _HOLD if criterion.pending else _SCREEN
    outcome = rule
    if criterion.review is not None:
        against = negate(passing)
        if criterion.pending and outcome is not against and outcome is not UNKNOWN:
            outcome = REVIEW
        elif not criterion.pending and outcome is MET:
            outcome = REVIEW
    if outcome is passing:
        return _PASS
    if outcome is UNKNOWN or outcome is REVIEW:
        return _HOLD
    return _BLOCK


def _tables(layout: Plan) -> list[tuple[int, int, dict[Outcome | None, int], int]]:
    """Per criterion: the slots of its rule and ``applies_to`` (``-1``: none), its state by its
    rule's outcome, and its state when ``applies_to`` excuses the patient; made once per plan, as
    the engine makes its own (what is done once per catalog is free for both)."""
    found: list[tuple[int, int, dict[Outcome | None, int], int]] | None = layout.derived.get(
        "floor"
    )
    if found is None:
        found = []
        for criterion, rule, scope in zip(
            layout.criteria, layout.rule_slots, layout.scope_slots, strict=True
        ):
            options: tuple[Outcome | None, ...] = (MET, NOT_MET, UNKNOWN) if rule >= 0 else (None,)
            table = {o: _criterion(criterion, o, None) for o in options}
            if rule < 0:
                table = dict.fromkeys((MET, NOT_MET, UNKNOWN), table[None])
            found.append((max(rule, 0), scope, table, _criterion(criterion, None, NOT_MET)))
        layout.derived["floor"] = found
    return found


def verdicts(patient: Patient, trials: Sequence[CompiledTrial], as_of: date) -> dict[str, str]:
    """Each trial's verdict, by trial id."""
    facts = prepare(patient, as_of)
    layout = plan(trials)
    state = layout.outcomes(PYTHON_ENGINE.decide(trials, facts, words=False)) or [UNKNOWN]
    states = [
        excused if scope >= 0 and state[scope] is NOT_MET else table[state[rule]]
        for rule, scope, table, excused in _tables(layout)
    ]
    out: dict[str, str] = {}
    died = facts.deceased_date
    dead = facts.deceased and (died is None or died.last <= as_of)
    maybe_dead = facts.deceased and died is not None and died.first <= as_of < died.last
    for trial, pick in zip(trials, layout.picks, strict=True):
        found = pick(states)
        if dead or _BLOCK in found:
            out[trial.id] = "ineligible"
        elif _HOLD in found or maybe_dead:
            out[trial.id] = "undetermined"
        else:
            out[trial.id] = "eligible"
    return out
