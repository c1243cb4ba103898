"""Rule generation: each leaf's rules, the caps they must stay under, and what a firing means.

Every rule of the leaf in slot ``n`` begins with the alpha tests ``t == kind`` and ``k == n``; a
record rule then joins its record (alias ``r``) to the slot's window fact (``w``, see
``encoding``):

* medication: *definite* ``ok and sh <= w.d and el >= w.s``; *possible* ``sl <= w.d and eh >= w.s``;
* condition: *definite* ``ok and oh <= w.d``, plus ``al > w.d`` (present) or ``al > w.s`` (active
  within), ``oh <= w.c`` (onset at least), ``ol >= w.s`` (onset within); *possible* ``ol <= w.d``,
  plus ``ah > w.d`` or ``ah > w.s``, ``ol <= w.c``, ``oh >= w.s``;
* observation, pregnancy and lactation: *definite* ``dl >= w.s and dh <= w.d``; *possible*
  ``dh >= w.s and dl <= w.d``; an observation also has *comparable* (possible, and ``v``
  present) and, for the latest reading, *in range* (possible, and ``v`` within the bounds); an
  aggregate of readings is computed from the comparable ones by the shared ``leaf_result``;
* age: *definite* ``lo >= min and hi <= max``; *possible* ``hi >= min and lo <= max``, or no
  ``lo``;
* sex and attribute: *definite* one rule per accepted value; *possible* when the field is absent.

A rule fires once per matching record, and the firing names the rule and the record's position
(``Target``). A record that fires *definite* is definite, one that fires only *possible* is
possible (the definite conditions imply the possible ones, as in
``matcher.evaluation.engines.python``); positions are sorted, so evidence lists records in the
order the python engine gives them (``Found.matches``: the ``Matches`` contract of
``matcher.evaluation.leaves``).

**Traps** (tests in ``tests/test_durable.py``):

* *order*: no rule uses ``$not`` (whose answer depends on the order of assertion in
  durable-rules) or ``any``: "no such record" is the absence of a positive firing, read by
  ``leaf_result``. No answer can depend on the order of the facts, and a test shuffles them;
* *over-read*: every ``$and`` holding a join test ends with a copy of its first join test, which
  keeps the C core's short-circuit evaluation from reading past the expression (an out-of-bounds
  read that AddressSanitizer reports on these very rules without the copy);
* *truncation*: the sentinel's rule must fire exactly once per session (``collect``);
* *caps*: a ruleset holds at most ``MAX_LEAVES`` (400) leaves and ``MAX_RULES`` (4,000) rules; a
  larger trial is split into several rulesets (``chunks``), which changes nothing since leaves are
  independent. With the shapes above an alpha node has at most one child per slot of a kind
  (under 512: at 512 ``create_ruleset`` loops for ever), no two rules have the same condition
  (256 would be refused) and a fact matches only a handful of alpha nodes at once (the C core
  stacks at most 64). ``check_caps`` verifies these bounds on every definition before
  ``create_ruleset`` sees it;
* *callbacks*: firings are read from the session's messages after it is closed, never inside
  the C core; any exception while reading them is an ``EngineError`` naming the trial (the
  engine), never a patient value.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, assert_never

from matcher.core.errors import EngineError
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
from matcher.evaluation.engines.durable.encoding import (
    SENTINEL,
    highest_passing,
    lowest_passing,
    ordered_int,
)
from matcher.evaluation.leaves import MAYBE, NOTHING, PATIENT, Matches

__all__ = [
    "MAX_LEAVES",
    "MAX_RULES",
    "Found",
    "Json",
    "Rule",
    "Target",
    "check_caps",
    "chunks",
    "collect",
    "definition",
    "leaf_rules",
    "on_firing",
]

Json = dict[str, Any]

#: Leaves and rules per ruleset; see "caps" above.
MAX_LEAVES: Final = 400
MAX_RULES: Final = 4000
#: C-core limits checked by ``check_caps`` (with margin below the real ones: 512, 128, 256, 64).
_MAX_HASHED_CHILDREN: Final = 500
_MAX_NEX_CHILDREN: Final = 120
_MAX_BETA_LINKS: Final = 250
_MAX_STACKED: Final = 48

#: Category of a rule's firing: the record is definite, possible, in range, comparable.
_DEFINITE, _POSSIBLE, _IN_RANGE, _COMPARABLE = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Target:
    """What the firing of one rule means: ``category`` for the leaf in ``slot``, about the
    record in the frame (``record``) or about the patient (position 0)."""

    slot: int
    category: int
    record: bool


#: A rule's name, its durable-rules definition and what its firing means.
Rule = tuple[str, Json, Target]


# --- the rules of one leaf ---------------------------------------------------------------------


def _record_rule(kind: str, slot: int, alpha: Sequence[Json], joins: Sequence[Json]) -> Json:
    # The repeated first join test keeps the C core from reading past the expression.
    record = [{"t": kind}, {"k": slot}, *alpha, *joins, joins[0]]
    return {"all": [{"w": {"$and": [{"t": "w"}, {"k": slot}]}}, {"r": {"$and": record}}]}


def _patient_rule(kind: str, slot: int, tests: Sequence[Json]) -> Json:
    return {"all": [{"m": {"$and": [{"t": kind}, {"k": slot}, *tests]}}]}


def _join(operator: str, name: str, window: str) -> Json:
    return {operator: {name: {"w": window}}}


def leaf_rules(leaf: Leaf, slot: int) -> list[Rule]:
    """The rules deciding ``leaf`` in ``slot``, with their names and what their firings mean."""
    rules: list[Rule] = []

    def add(category: int, rule: Json, record: bool, suffix: str = "") -> None:
        name = f"{'dprc'[category]}{slot}{suffix}"
        rules.append((name, rule, Target(slot, category, record)))

    sure: list[Json]
    maybe: list[Json]
    match leaf:
        case AgeLeaf():
            sure, maybe = [], []
            if leaf.min is not None:
                sure.append({"$gte": {"lo": leaf.min}})
                maybe.append({"$gte": {"hi": leaf.min}})
            if leaf.max is not None:
                sure.append({"$lte": {"hi": leaf.max}})
                maybe.append({"$lte": {"lo": leaf.max}})
            add(_DEFINITE, _patient_rule("a", slot, sure or [{"$ex": {"lo": 1}}]), False)
            if maybe:  # without bounds every known age is definite
                add(_POSSIBLE, _patient_rule("a", slot, maybe), False)
            add(_POSSIBLE, _patient_rule("a", slot, [{"$nex": {"lo": 1}}]), False, "_missing")
        case SexLeaf():
            for j, sex in enumerate(sorted(leaf.values)):
                add(_DEFINITE, _patient_rule("x", slot, [{"s": sex.value}]), False, f"_{j}")
            add(_POSSIBLE, _patient_rule("x", slot, [{"$nex": {"s": 1}}]), False, "_missing")
        case AttributeLeaf():
            if leaf.values is not None:
                for j, value in enumerate(sorted(leaf.values)):
                    add(_DEFINITE, _patient_rule("b", slot, [{"vs": value}]), False, f"_{j}")
            elif leaf.expected is not None:
                add(_DEFINITE, _patient_rule("b", slot, [{"vb": leaf.expected}]), False)
            absent = [{"$nex": {"vs": 1}}, {"$nex": {"vb": 1}}]
            add(_POSSIBLE, _patient_rule("b", slot, absent), False, "_missing")
        case ConditionLeaf():
            sure = [_join("$lte", "oh", "d")]
            maybe = [_join("$lte", "ol", "d")]
            if leaf.active_within is not None:
                sure.append(_join("$gt", "al", "s"))
                maybe.append(_join("$gt", "ah", "s"))
            elif leaf.status == "present":
                sure.append(_join("$gt", "al", "d"))
                maybe.append(_join("$gt", "ah", "d"))
            if leaf.onset_at_least is not None:
                sure.append(_join("$lte", "oh", "c"))
                maybe.append(_join("$lte", "ol", "c"))
            if leaf.onset_within is not None:
                sure.append(_join("$gte", "ol", "s"))
                maybe.append(_join("$gte", "oh", "s"))
            add(_DEFINITE, _record_rule("c", slot, [{"ok": True}], sure), True)
            add(_POSSIBLE, _record_rule("c", slot, [], maybe), True)
        case MedicationLeaf():
            sure = [_join("$lte", "sh", "d"), _join("$gte", "el", "s")]
            maybe = [_join("$lte", "sl", "d"), _join("$gte", "eh", "s")]
            add(_DEFINITE, _record_rule("m", slot, [{"ok": True}], sure), True)
            add(_POSSIBLE, _record_rule("m", slot, [], maybe), True)
        case ObservationLeaf() | StatusLeaf():
            kind = "o" if isinstance(leaf, ObservationLeaf) else "s"
            sure = [_join("$gte", "dl", "s"), _join("$lte", "dh", "d")]
            maybe = [_join("$gte", "dh", "s"), _join("$lte", "dl", "d")]
            add(_DEFINITE, _record_rule(kind, slot, [], sure), True)
            add(_POSSIBLE, _record_rule(kind, slot, [], maybe), True)
            if isinstance(leaf, ObservationLeaf):
                if leaf.aggregate == "latest":
                    bounds: list[Json] = [{"$ex": {"v": 1}}]
                    if leaf.low is not None:
                        low = lowest_passing(leaf.low, leaf.low_inclusive)
                        bounds.append({"$gte": {"v": ordered_int(low)}})
                    if leaf.high is not None:
                        high = highest_passing(leaf.high, leaf.high_inclusive)
                        bounds.append({"$lte": {"v": ordered_int(high)}})
                    add(_IN_RANGE, _record_rule("o", slot, bounds, maybe), True)
                add(_COMPARABLE, _record_rule("o", slot, [{"$ex": {"v": 1}}], maybe), True)
        case _:
            assert_never(leaf)
    return rules


# --- rulesets ----------------------------------------------------------------------------------


def chunks(leaves: Sequence[Leaf]) -> list[list[tuple[Leaf, list[Rule]]]]:
    """Leaves with their rules, split so that no ruleset passes ``MAX_LEAVES``/``MAX_RULES``."""
    out: list[list[tuple[Leaf, list[Rule]]]] = [[]]
    rules = 0
    for leaf in leaves:
        current = out[-1]
        slot = len(current)
        built = leaf_rules(leaf, slot)
        if current and (slot >= MAX_LEAVES or rules + len(built) > MAX_RULES):
            current = []
            out.append(current)
            rules = 0
            built = leaf_rules(leaf, 0)
        current.append((leaf, built))
        rules += len(built)
    return [chunk for chunk in out if chunk]


def definition(chunk: Sequence[tuple[Leaf, list[Rule]]]) -> tuple[str, dict[str, Target]]:
    """The ruleset definition (JSON text) of one chunk, with the sentinel's rule, checked
    against the caps; and what each rule's firing means, by rule name."""
    rules: dict[str, Json] = {}
    targets: dict[str, Target] = {}
    for _, built in chunk:
        for name, rule, target in built:
            rules[name] = rule
            targets[name] = target
    rules[SENTINEL] = {"all": [{"m": {"t": SENTINEL}}]}
    check_caps(rules)
    return json.dumps(rules), targets


def check_caps(definition: Mapping[str, Json]) -> None:
    """Refuse a definition that could pass a C-core limit (see "caps"). ``create_ruleset`` loops
    for ever when an alpha node gets its 512th test, so this runs before it is called.

    The alpha network is a tree of tests shared by equal prefixes: a pattern's ``$and`` is a chain
    of tests from the root (node 0), and the pattern's rule hangs from the chain's last node."""
    if len(definition) > MAX_RULES + 1:
        raise EngineError(f"a ruleset of {len(definition)} rules is over the cap of {MAX_RULES}")
    nodes: dict[tuple[int, str], int] = {}  # (parent, test) -> node
    parents: list[int] = [0]
    children: list[list[str]] = [[]]
    links: collections.Counter[int] = collections.Counter()
    conditions: set[tuple[tuple[str, int], ...]] = set()
    for name, rule in definition.items():
        ends: list[tuple[str, int]] = []
        for pattern in rule["all"]:
            ((alias, body),) = pattern.items()
            node = 0
            for test in map(repr, body.get("$and", [body])):
                child = nodes.get((node, test))
                if child is None:
                    child = nodes[node, test] = len(parents)
                    parents.append(node)
                    children.append([])
                    children[node].append(test)
                node = child
            links[node] += 1
            ends.append((alias, node))
        if tuple(ends) in conditions:
            raise EngineError(f"rule {name} repeats the condition of another rule")
        conditions.add(tuple(ends))
    matching: list[int] = []
    for tests in children:
        nex = sum(test.startswith("{'$nex'") for test in tests)
        if len(tests) - nex > _MAX_HASHED_CHILDREN or nex > _MAX_NEX_CHILDREN:
            raise EngineError(f"an alpha node would hold {len(tests)} tests (the C cap is 512)")
        # Equality tests on one field match one value at most; any other test may match.
        fields = {test.split(":", 1)[0] for test in tests if not test.startswith("{'$")}
        matching.append(len(fields) + sum(test.startswith("{'$") for test in tests))
    # The C core walks the tree depth first, stacking every matching child on its way down.
    stacked = [matching[0]]
    for node in range(1, len(parents)):
        stacked.append(stacked[parents[node]] + matching[node])
    if max(stacked) > _MAX_STACKED:
        raise EngineError(f"a fact could stack {max(stacked)} alpha nodes (the C cap is 64)")
    if max(links.values(), default=0) > _MAX_BETA_LINKS:
        raise EngineError("an alpha node would feed more than 256 rules")


# --- reading firings ---------------------------------------------------------------------------


class Found:
    """Positions found per slot and category during one evaluation of a ruleset."""

    __slots__ = ("positions",)

    def __init__(self, slots: int) -> None:
        self.positions: list[tuple[set[int], set[int], set[int], set[int]]] = [
            (set(), set(), set(), set()) for _ in range(slots)
        ]

    def matches(self, leaf: Leaf, slot: int) -> Matches:
        """The ``Matches`` of the leaf in ``slot``: the patient (position 0) for a patient leaf or
        the status record, the records by position for the others."""
        definite, possible, in_range, comparable = self.positions[slot]
        match leaf:
            case AgeLeaf() | SexLeaf() | AttributeLeaf() | StatusLeaf():
                return PATIENT if definite else MAYBE if possible else NOTHING
            case ConditionLeaf() | MedicationLeaf():
                if not definite and not possible:
                    return NOTHING
                return Matches(tuple(sorted(definite)), tuple(sorted(possible - definite)))
            case ObservationLeaf():
                if not definite and not possible:
                    return NOTHING
                return Matches(
                    tuple(sorted(definite)),
                    tuple(sorted(possible - definite)),
                    frozenset(in_range),
                    frozenset(comparable),
                )
            case _:
                assert_never(leaf)


def collect(targets: Mapping[str, Target], messages: Iterable[str], found: Found) -> None:
    """Record what each fired rule says; the sentinel must have fired exactly once."""
    sentinels = 0
    for message in messages:
        for name, frames in json.loads(message).items():
            for frame in frames if isinstance(frames, list) else [frames]:
                if name == SENTINEL:
                    sentinels += 1
                else:
                    on_firing(targets, name, frame, found)
    if sentinels != 1:
        raise EngineError(
            f"the durable-rules engine lost facts: its sentinel fired {sentinels} times, not once"
        )


def on_firing(
    targets: Mapping[str, Target], name: str, frame: Mapping[str, Any], found: Found
) -> None:
    """One rule fired for one combination of facts."""
    target = targets[name]
    position = frame["r"]["i"] if target.record else 0
    if type(position) is not int:
        raise EngineError(f"rule {name} fired with a record position that is not an int")
    found.positions[target.slot][target.category].add(position)
