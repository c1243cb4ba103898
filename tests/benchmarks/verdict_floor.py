"""Verdicts alone: the floor under ``check(..., explain="none")`` on any catalog.

The leaves are decided by the python engine without words (``PythonEngine.decide(...,
words=False)``: every engine must decide its leaf rules, and none decides them more cheaply
here); then each distinct criterion is
folded to its outcome with the three-valued logic of ``matcher.core.outcome``, and each trial
to its verdict by the README's rules ("How matcher decides"). Nothing else: no score, no
ranking, no eligible-from date, no result objects, no explanation. The benchmark checks that
these verdicts equal the engine's on every patient it times.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from matcher.core.outcome import MET, NOT_MET, REVIEW, UNKNOWN, Outcome, counted, negate
from matcher.criteria.compiler import (
    AllNode,
    AnyNode,
    AtLeastNode,
    CompiledCriterion,
    CompiledTrial,
    Node,
    NotNode,
)
from matcher.evaluation.engines.python import PYTHON_ENGINE
from matcher.evaluation.evaluate import prepare
from matcher.evaluation.leaves import LeafResult
from matcher.patient.model import Patient

#: A criterion's outcome for the verdict: passes, blocks, holds (undecided or to review), or
#: asks a screening question (which does not hold the trial).
_PASS, _BLOCK, _HOLD, _SCREEN = range(4)


def _fold(node: Node, leaves: Mapping[int, LeafResult]) -> Outcome:
    if isinstance(node, NotNode):
        return negate(_fold(node.child, leaves))
    if isinstance(node, AllNode | AnyNode | AtLeastNode):
        outcomes = [_fold(child, leaves) for child in node.children]
        if isinstance(node, AllNode):
            needed = len(outcomes)
        elif isinstance(node, AnyNode):
            needed = 1
        else:
            needed = node.count
        return counted(outcomes.count(MET), outcomes.count(UNKNOWN), needed)
    return leaves[node.key].outcome


def _criterion(criterion: CompiledCriterion, leaves: Mapping[int, LeafResult]) -> int:
    passing = MET if criterion.kind == "inclusion" else NOT_MET
    if criterion.applies_to is not None and _fold(criterion.applies_to, leaves) is NOT_MET:
        return _PASS
    if criterion.rule is None:
        return _HOLD if criterion.pending else _SCREEN
    outcome = _fold(criterion.rule, leaves)
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


def verdicts(patient: Patient, trials: Sequence[CompiledTrial], as_of: date) -> dict[str, str]:
    """Each trial's verdict, by trial id."""
    facts = prepare(patient, as_of)
    leaves = PYTHON_ENGINE.decide(trials, facts, words=False)
    seen: dict[int, int] = {}
    out: dict[str, str] = {}
    died = facts.deceased_date
    dead = facts.deceased and (died is None or died.last <= as_of)
    maybe_dead = facts.deceased and died is not None and died.first <= as_of < died.last
    for trial in trials:
        states = set()
        for criterion in trial.criteria:
            state = seen.get(criterion.key)
            if state is None:
                state = seen[criterion.key] = _criterion(criterion, leaves)
            states.add(state)
        if dead or _BLOCK in states:
            out[trial.id] = "ineligible"
        elif _HOLD in states or maybe_dead:
            out[trial.id] = "undetermined"
        else:
            out[trial.id] = "eligible"
    return out
