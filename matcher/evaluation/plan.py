"""A sequence of trials laid out once for deciding verdicts: its distinct leaves, composite rule
nodes and criteria in the order they are decided, as flat lists of positions.

A check decides every distinct criterion of the catalog for one patient. Walking the rule trees
for that, and building a result object per node, costs more than the three-valued logic itself;
and the trees are the same for every patient. So ``plan(trials)`` numbers the distinct leaves and
nodes of the trials once (``Plan.slots``: the leaves first, then each composite node after its
children), and ``Plan.outcomes`` decides them for one patient as one list of outcomes, one
``append`` per node. The criteria and the trials are positions into those lists, taken out with
``operator.itemgetter`` (C speed). The last few plans are kept (for the same trials in the same
order), so the layout is paid once per catalog, not per check.

Only outcomes are decided here; the day an outcome changes (``leaves_on``) and the words are
built from the leaf results when a trial needs them (see ``matcher.evaluation.evaluate``).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import is_, itemgetter
from typing import Any, Final, assert_never

from matcher.core.outcome import MET, NOT_MET, UNKNOWN, Outcome, counted
from matcher.criteria.compiler import (
    COMPOSITES,
    AllNode,
    AnyNode,
    AtLeastNode,
    CompiledCriterion,
    CompiledTrial,
    Leaf,
    Node,
    NotNode,
    iter_leaves,
)

__all__ = ["Plan", "plan"]

#: How a composite node combines the outcomes of its children (``Plan.steps``).
_ALL, _ANY, _NOT, _AT_LEAST, _SAME = range(5)
_NEGATED: Final = {MET: NOT_MET, NOT_MET: MET, UNKNOWN: UNKNOWN}


def _tuple_getter(slots: Sequence[int]) -> Callable[[Any], tuple[Any, ...]]:
    """``itemgetter`` that gives a tuple for any number of positions (it gives the item itself
    for one)."""
    if len(slots) == 1:
        only = slots[0]
        return lambda values: (values[only],)
    if not slots:
        return lambda values: ()
    return itemgetter(*slots)


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """The layout of one sequence of trials (see the module docstring)."""

    #: The trials it was made for, weakly (a plan must not keep a catalog alive: engines release
    #: what they hold for a trial when it dies).
    trials: tuple[weakref.ref[CompiledTrial], ...]
    #: Every distinct leaf, in slot order: slot ``i`` of ``outcomes`` is ``leaves[i]``.
    leaves: tuple[Leaf, ...]
    #: Takes the leaf results of ``leaves`` out of an engine's mapping, in slot order.
    leaf_results: Callable[[Mapping[int, Any]], tuple[Any, ...]]
    #: One per composite node, children before parents: (how, at least how many, children).
    steps: tuple[tuple[int, int, Callable[[Sequence[Outcome]], tuple[Outcome, ...]]], ...]
    #: Every distinct criterion, in the order of first appearance.
    criteria: tuple[CompiledCriterion, ...]
    #: Per criterion: the slot of its rule (``-1``: none) and of its ``applies_to`` (``-1``).
    rule_slots: tuple[int, ...]
    scope_slots: tuple[int, ...]
    #: Per trial, in order: the positions of its criteria in ``criteria``, and a getter that
    #: takes their values out of a list in ``criteria`` order.
    positions: tuple[tuple[int, ...], ...]
    picks: tuple[Callable[[Sequence[Any]], tuple[Any, ...]], ...]
    #: What the plan's users derive from it once (``matcher.evaluation.evaluate``: how each
    #: criterion's outcome counts in a verdict).
    derived: dict[str, Any] = field(default_factory=dict)

    def outcomes(self, leaves: Mapping[int, Any]) -> list[Outcome]:
        """The outcome of every slot for one patient's leaf results (by leaf key)."""
        state: list[Outcome] = [r.outcome for r in self.leaf_results(leaves)]
        append = state.append
        for how, needed, children in self.steps:
            values = children(state)
            if how == _ALL:
                append(NOT_MET if NOT_MET in values else UNKNOWN if UNKNOWN in values else MET)
            elif how == _ANY:
                append(MET if MET in values else UNKNOWN if UNKNOWN in values else NOT_MET)
            elif how == _NOT:
                append(_NEGATED[values[0]])
            elif how == _SAME:
                append(values[0])
            else:
                append(counted(values.count(MET), values.count(UNKNOWN), needed))
        return state


def _layout(trials: Sequence[CompiledTrial]) -> Plan:
    criteria = tuple({c.key: c for t in trials for c in t.criteria}.values())
    # The leaves under the criteria (a trial's ``leaves`` lists the same, unless a caller
    # replaced its criteria, as the columnar engine does).
    leaves = {
        leaf.key: leaf
        for c in criteria
        for tree in (c.applies_to, c.rule)
        if tree is not None
        for leaf in iter_leaves(tree)
    }
    leaf_slot = {key: i for i, key in enumerate(leaves)}
    node_slot: dict[int, int] = {}
    steps: list[tuple[int, int, Callable[[Sequence[Outcome]], tuple[Outcome, ...]]]] = []

    def slot(node: Node) -> int:
        if not isinstance(node, COMPOSITES):
            return leaf_slot[node.key]
        found = node_slot.get(id(node))
        if found is not None:
            return found
        if isinstance(node, NotNode):
            step = (_NOT, 1, _tuple_getter([slot(node.child)]))
        else:
            children = [slot(child) for child in node.children]
            if isinstance(node, AtLeastNode):
                how, needed = _AT_LEAST, node.count
            elif len(children) == 1:
                how, needed = _SAME, 1  # all or any of one child: the child
            elif isinstance(node, AllNode):
                how, needed = _ALL, len(children)
            elif isinstance(node, AnyNode):
                how, needed = _ANY, 1
            else:  # pragma: no cover - a new composite must say how it combines
                assert_never(node)
            step = (how, needed, _tuple_getter(children))
        steps.append(step)
        found = node_slot[id(node)] = len(leaves) + len(steps) - 1
        return found

    rule_slots = tuple(-1 if c.rule is None else slot(c.rule) for c in criteria)
    scope_slots = tuple(-1 if c.applies_to is None else slot(c.applies_to) for c in criteria)
    position = {c.key: i for i, c in enumerate(criteria)}
    positions = tuple(tuple(position[c.key] for c in t.criteria) for t in trials)
    return Plan(
        tuple(weakref.ref(t) for t in trials),
        tuple(leaves.values()),
        _tuple_getter(tuple(leaves)),
        tuple(steps),
        criteria,
        rule_slots,
        scope_slots,
        positions,
        tuple(_tuple_getter(p) for p in positions),
    )


#: The plans made last, most recent last, by the number of trials and the ids of the first and
#: the last (a hit is checked against every trial: see ``_made_for``). Plans hold their trials
#: weakly, so a catalog that dies takes nothing with it but its leaves and criteria, and those
#: only until newer plans push its plan out.
_PLANS: OrderedDict[tuple[int, int, int], Plan] = OrderedDict()
_PLANS_KEPT: Final = 8
#: Fewer trials than this are kept in their own table (a check's small groups -- eligible-from
#: days -- would otherwise push its catalog's plan out).
_CACHED_FROM: Final = 32
#: Plans of fewer trials, kept apart so that they push out nothing but each other: a panel's
#: row-engine fallbacks plan the same few trials of a patient several times (the day's decision,
#: then each later day of an eligible-from date), by the ids of every trial.
_SMALL: OrderedDict[tuple[int, ...], Plan] = OrderedDict()
_SMALL_KEPT: Final = 64
_LOCK = threading.Lock()
_DEREFERENCE: Final = weakref.ref.__call__


def _made_for(found: Plan, trials: Sequence[CompiledTrial]) -> bool:
    """Whether ``found`` is the plan of these very trials, in this order."""
    return len(found.trials) == len(trials) and all(
        map(is_, map(_DEREFERENCE, found.trials), trials)  # at C speed: no Python frame per trial
    )


def plan(trials: Sequence[CompiledTrial]) -> Plan:
    """The plan of ``trials``, made once for the same trials in the same order."""
    if len(trials) < _CACHED_FROM:
        return _kept(_SMALL, _SMALL_KEPT, tuple(map(id, trials)), trials)
    return _kept(_PLANS, _PLANS_KEPT, (len(trials), id(trials[0]), id(trials[-1])), trials)


def _kept(
    plans: OrderedDict[Any, Plan], kept: int, key: Any, trials: Sequence[CompiledTrial]
) -> Plan:
    """The plan of ``trials`` from ``plans`` (the ``kept`` used last), made when missing."""
    with _LOCK:
        found = plans.get(key)
        if found is not None and _made_for(found, trials):
            plans.move_to_end(key)
            return found
    made = _layout(trials)
    with _LOCK:
        plans[key] = made
        while len(plans) > kept:
            plans.popitem(last=False)
    return made
