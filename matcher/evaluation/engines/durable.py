"""The durable-rules engine: each trial's leaf rules compiled into durable-rules (Rete) rulesets,
an independent second implementation checked against the python engine.

This is the only module that imports durable-rules, and it uses only its C core,
``durable_rules_engine``, synchronously: no ``durable.engine.Host``, no timer threads, no Python
actions and no registered callbacks. The rules find the records that match each leaf -- the
``matcher.evaluation.leaves.Matches`` contract: ``definite`` and ``possible`` records, and for
observations those ``in_range`` and ``comparable`` -- and the shared
``matcher.evaluation.leaves.leaf_result`` turns them into outcome, reason and evidence, so both
engines explain a leaf with the same words by construction. ``tests/test_engines_differential.py``
checks on thousands of generated patients that both engines find the same records and give the same
results.

**Facts.** Every evaluation opens a fresh session and asserts small flat facts whose values are
ints, bools or strings -- never floats or nulls, checked before anything reaches the C core. Each
leaf of a ruleset has a slot number ``k``, and every fact belongs to one slot:

* one *window* fact per record leaf, ``{t: w, k, d, s?, c?}``: ``d`` is the as-of day, ``s`` the
  first day of the leaf's window (the as-of day minus the span under the calendar rule; the as-of
  day itself for current medication use; day 0 for use "ever"; for a condition, the window of
  ``onset_within`` or of ``active_within``, which never come together) and ``c`` the latest onset
  day for ``onset_at_least``. These are the only numbers that depend on the as-of date. They come
  from ``PatientFacts.window_start``, the calendar code the python engine uses, and the rules
  *join* records to them, so a compiled ruleset serves every as-of date;
* one *record* fact per record of the leaf's concept set, ``{t, k, i, ...}``: ``i`` is the record's
  position, the rest its day-number intervals from ``matcher.evaluation.facts`` -- medication ``sl
  sh el eh`` (start, end) and ``ok`` (a name that certainly belongs to the set, not a near miss),
  condition ``ol oh al ah`` (onset, abatement) and ``ok`` (a confirmed diagnosis of a code that
  certainly belongs to the set, not a possible member only), observation ``dl dh`` and ``v``,
  pregnancy or lactation status ``dl dh``. Which records belong to a concept set comes from
  ``PatientFacts.members``: concept matching is shared by both engines, like the normalisation of
  codes and units;
* one *patient* fact per age, sex or attribute leaf: ``lo hi`` (the ages the birth date allows),
  ``s`` (sex), ``vs`` or ``vb`` (a string or a boolean attribute); an unknown value is an absent
  field.

An observation's value, converted to the leaf's unit by the shared ``unit_factor``, is asserted as
the 64-bit int with the same order as the double (``_ordered_int``: its IEEE-754 bits, negated for
negative numbers); each bound becomes the nearest double that passes, encoded the same way. The
comparison is exact and no float text reaches the C parser. ``v`` is absent when the reading has
no value or a unit that does not convert.

**Rules.** Every rule of the leaf in slot ``n`` begins with the alpha tests ``t == kind`` and
``k == n``; a record rule then joins its record (alias ``r``) to the slot's window fact (``w``):

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

A rule fires once per matching record, and the firing names the rule and the record's position.
A record that fires *definite* is definite, one that fires only *possible* is possible (the
definite conditions imply the possible ones, as in ``matcher.evaluation.engines.python``); positions
are sorted, so evidence lists records in the order the python engine gives them.

**Traps avoided by construction** (durable-rules 2.0.28; the tests are in
``tests/test_durable.py``):

* *order*: no rule uses ``$not`` (whose answer depends on the order of assertion in
  durable-rules) or ``any``: "no such record" is the absence of a positive firing, read by
  ``leaf_result``. No answer can depend on the order of the facts, and a test shuffles them;
* *types*: one type per field, ints, bools or strings, so a number is never compared with text
  (which the C core does as text); a missing value is a missing field, tested only by
  ``$ex``/``$nex`` and never inside a join (a null in a join fails the whole assertion);
* *duplicates*: facts carry explicit ids ``f0``, ``f1``, ...; the C core keys facts by the 32-bit
  hash of their id and drops a second fact with the same hash, and these ids have pairwise distinct
  hashes below ``_MAX_FACTS`` (a test proves it with the C core's hash). The "observed" and
  "deferred" return codes are ``EngineError`` all the same. No fact or test uses the field names
  ``id`` and ``sid``, whose values the C core leaves pointing into freed memory;
* *truncation*: a sentinel fact ``{t: go}`` is asserted last and its rule must fire exactly once:
  a batch the C parser cut short is an ``EngineError``;
* *uninitialised sessions*: ``delete_state`` frees the two buffers of a session's current action,
  which the C core never initialises when it creates a session (``createStateNode``) and sets only
  when an action starts; a fresh slot of its session pool may hold any bytes. So every ruleset is
  *primed* when it is compiled: a session holding only the sentinel is run to its end and deleted,
  which leaves those two pointers null in the pool's slot. A ruleset never has more than one live
  session, and the pool reuses the slot it freed last, so every later session starts from that
  primed slot and can be deleted safely whether or not an action started;
* *over-read*: every ``$and`` holding a join test ends with a copy of its first join test, which
  keeps the C core's short-circuit evaluation from reading past the expression (an out-of-bounds
  read that AddressSanitizer reports on these very rules without the copy);
* *sessions*: each session is deleted in ``finally``, so a ruleset never has more than one live
  session (the cap is 1,024), and any failure of the C core then retires the ruleset with
  ``delete_ruleset``: it is compiled (and primed) again on next use. A failed session is deleted
  first, because ``delete_ruleset`` frees the ruleset's session pool but not the buffers of the
  sessions in it (about a megabyte for a trial of this catalog): without that, every failure
  leaked them. Only two sessions are left undeleted, with their ruleset retired: one whose
  assertion ran out of memory (the C core may have half-created it, with pointers not yet set)
  and a priming session in which no action started (its slot was never primed);
* *callbacks*: no Python code runs inside the C core. The firings are read after the session is
  closed (``_on_firing``); any exception while reading them, like any C-core error, is raised as
  ``EngineError`` naming the trial, never a patient value.

**Caps.** A ruleset holds at most ``_MAX_LEAVES`` (400) leaves and ``_MAX_RULES`` (4,000) rules; a
larger trial is split into several rulesets, which changes nothing since leaves are independent.
With the shapes above an alpha node has at most one child per slot of a kind (under 512: at 512
``create_ruleset`` loops for ever), no two rules have the same condition (256 would be refused)
and a fact matches only a handful of alpha nodes at once (the C core stacks at most 64).
``_check_caps`` verifies these bounds on every definition before ``create_ruleset`` sees it. A
session holds at most ``_MAX_FACTS`` facts; a patient with more records is evaluated in several
sessions, each record being classified on its own.

**Caching.** A trial is compiled once, into rulesets cached by the keys of its leaves (unique in
a process, so they identify the leaves' content). The entry and its C rulesets are deleted once
every trial object that used it has been garbage-collected. Within one evaluation a leaf shared
by several trials is decided by the first ruleset holding it; later rulesets get no facts for it.

**Concurrency.** The C core is not thread-safe: one evaluation runs at a time in a process (a
module lock, re-created in a forked child). ``decide`` may be called from many threads, but they
queue; for parallel work use processes (``multiprocessing``, ``ProcessPoolExecutor``), each with
its own engine and rulesets. The python engine has no lock and is the one for threads.

**Availability.** durable-rules 2.0.28 does not build on Python 3.13 or later. There, or when its
C module cannot be imported, ``durable_engine()`` raises ``EngineError`` (exit status 5).
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import math
import os
import platform
import struct
import sys
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, assert_never

from matcher.core.codes import unit_factor
from matcher.core.errors import EngineError
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

__all__ = ["DurableEngine", "durable_engine"]

#: Leaves and rules per ruleset; see "Caps" above.
_MAX_LEAVES: Final = 400
_MAX_RULES: Final = 4000
#: Facts per session, the sentinel included: their ids are ``f0`` .. ``f{_MAX_FACTS - 1}``.
_MAX_FACTS: Final = 4000
#: C-core limits checked by ``_check_caps`` (with margin below the real ones: 512, 128, 256, 64).
_MAX_HASHED_CHILDREN: Final = 500
_MAX_NEX_CHILDREN: Final = 120
_MAX_BETA_LINKS: Final = 250
_MAX_STACKED: Final = 48

#: durable-rules return codes of ``assert_facts``.
_OK: Final = 0
_NOT_HANDLED: Final = 1
_OBSERVED: Final = 2

#: The sentinel: asserted last in every session; its rule must fire exactly once.
_SENTINEL: Final = "go"

Fact = dict[str, int | bool | str]
Json = dict[str, Any]

_INT64: Final = 2**63


class _Native:
    """The functions of the C module ``durable_rules_engine`` this engine calls, typed (the
    module ships no stubs). Every call may raise the module's ``error`` or ``MemoryError``."""

    def __init__(self, module: Any) -> None:
        self._module = module

    def create_ruleset(self, name: str, definition: str) -> int:
        return int(self._module.create_ruleset(name, definition))

    def delete_ruleset(self, handle: int) -> None:
        self._module.delete_ruleset(handle)

    def assert_facts(self, handle: int, facts: str) -> tuple[int, int]:
        code, offset = self._module.assert_facts(handle, facts)
        return int(code), int(offset)

    def start_action_for_state(self, handle: int, offset: int) -> str | None:
        """The first fired rule's message (``{rule: {alias: fact}}``), or ``None``."""
        found = self._module.start_action_for_state(handle, offset)
        return None if found is None else str(found[1])

    def complete_and_start_action(self, handle: int, offset: int) -> str | None:
        found = self._module.complete_and_start_action(handle, offset)
        return None if found is None else str(found)

    def delete_state(self, handle: int, sid: str) -> None:
        self._module.delete_state(handle, sid)


def _import_native() -> Any:
    import durable_rules_engine  # type: ignore[import-not-found]

    return durable_rules_engine


# --- facts -------------------------------------------------------------------------------------


def _ordered_int(value: float) -> int:
    """The int with the same order as ``value`` among all doubles (``-0.0`` and ``0.0`` equal)."""
    bits: int = struct.unpack("<q", struct.pack("<d", value))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def _lowest_passing(low: float, inclusive: bool) -> float:
    """The smallest double ``x`` with ``x >= low`` (``x > low`` when not inclusive); ``low`` is
    finite, as criteria files require."""
    try:
        near = float(low)
    except OverflowError:
        return math.inf if low > 0 else -math.inf
    if near < low or (near == low and not inclusive):
        near = math.nextafter(near, math.inf)
    return near


def _highest_passing(high: float, inclusive: bool) -> float:
    """The largest double ``x`` with ``x <= high`` (``x < high`` when not inclusive); ``high`` is
    finite, as criteria files require."""
    try:
        near = float(high)
    except OverflowError:
        return math.inf if high > 0 else -math.inf
    if near > high or (near == high and not inclusive):
        near = math.nextafter(near, -math.inf)
    return near


def _window(leaf: Leaf, slot: int, facts: PatientFacts) -> Fact:
    """The per-evaluation window fact of a record leaf: the only as-of-dependent numbers."""
    window: Fact = {"t": "w", "k": slot, "d": facts.today}
    if isinstance(leaf, ConditionLeaf):
        if leaf.onset_at_least is not None:
            window["c"] = facts.window_start(leaf.onset_at_least)
        if leaf.onset_within is not None:
            window["s"] = facts.window_start(leaf.onset_within)
        if leaf.active_within is not None:  # never with onset_within: one ``s`` per window
            window["s"] = facts.window_start(leaf.active_within)
    elif isinstance(leaf, MedicationLeaf):
        if leaf.ever:
            window["s"] = FAR_PAST
        elif leaf.within is not None:
            window["s"] = facts.window_start(leaf.within)
        else:
            window["s"] = facts.today
    elif isinstance(leaf, ObservationLeaf | StatusLeaf):
        window["s"] = facts.window_start(leaf.within)
    elif not isinstance(leaf, AgeLeaf | SexLeaf | AttributeLeaf):  # patient leaves: no window
        assert_never(leaf)
    return window


def _leaf_facts(leaf: Leaf, slot: int, facts: PatientFacts) -> list[Fact]:
    """The facts a leaf's rules look at: a window and its records, or one patient fact.

    A record leaf with no record gets no fact at all: nothing can fire for it."""
    if isinstance(leaf, AgeLeaf):
        age: Fact = {"t": "a", "k": slot}
        if facts.age_lo is not None and facts.age_hi is not None:
            age["lo"], age["hi"] = facts.age_lo, facts.age_hi
        return [age]
    if isinstance(leaf, SexLeaf):
        sex: Fact = {"t": "x", "k": slot}
        if facts.sex is not None:
            sex["s"] = facts.sex.value
        return [sex]
    if isinstance(leaf, AttributeLeaf):
        attribute: Fact = {"t": "b", "k": slot}
        value = facts.attributes.get(leaf.name)
        if isinstance(value, bool):
            attribute["vb"] = value
        elif isinstance(value, str):
            attribute["vs"] = value
        return [attribute]
    records: list[Fact] = []
    if isinstance(leaf, StatusLeaf):
        status = facts.status(leaf.what)
        if status is not None:
            records.append(
                {"t": "s", "k": slot, "i": 0, "dl": status.date_lo, "dh": status.date_hi}
            )
    elif isinstance(leaf, ConditionLeaf):
        doubtful = facts.uncertain(leaf.concept)
        for i in facts.members(leaf.concept):
            c = facts.conditions[i]
            records.append(
                {
                    "t": "c",
                    "k": slot,
                    "i": i,
                    "ok": c.certain and i not in doubtful,
                    "ol": c.onset_lo,
                    "oh": c.onset_hi,
                    "al": c.abate_lo,
                    "ah": c.abate_hi,
                }
            )
    elif isinstance(leaf, MedicationLeaf):
        doubtful = facts.uncertain(leaf.concept)
        for i in facts.members(leaf.concept):
            m = facts.medications[i]
            records.append(
                {
                    "t": "m",
                    "k": slot,
                    "i": i,
                    "ok": i not in doubtful,
                    "sl": m.start_lo,
                    "sh": m.start_hi,
                    "el": m.end_lo,
                    "eh": m.end_hi,
                }
            )
    elif isinstance(leaf, ObservationLeaf):
        for i in facts.members(leaf.concept):
            o = facts.observations[i]
            reading: Fact = {"t": "o", "k": slot, "i": i, "dl": o.date_lo, "dh": o.date_hi}
            factor = unit_factor(o.unit, leaf.unit)
            if o.value is not None and factor is not None:
                reading["v"] = _ordered_int(o.value * factor)
            records.append(reading)
    else:
        assert_never(leaf)
    return [_window(leaf, slot, facts), *records] if records else []


def _check_fact(fact: Fact) -> None:
    """Every value an int (64-bit), a bool or a string: the C core compares a number with text
    as text and drops facts it cannot parse, so nothing else may reach it."""
    for name, value in fact.items():
        if type(value) is str or type(value) is bool:
            continue
        if isinstance(value, int) and type(value) is int and -_INT64 <= value < _INT64:
            continue
        raise EngineError(
            f"the durable-rules engine built a fact whose field {name!r} is not an int, a bool "
            f"or a string ({type(value).__name__}); this is a bug in matcher"
        )


# --- rules -------------------------------------------------------------------------------------


#: Category of a rule's firing: the record is definite, possible, in range, comparable.
_DEFINITE, _POSSIBLE, _IN_RANGE, _COMPARABLE = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class _Target:
    """What the firing of one rule means: ``category`` for the leaf in ``slot``, about the
    record in the frame (``record``) or about the patient (position 0)."""

    slot: int
    category: int
    record: bool


def _record_rule(kind: str, slot: int, alpha: Sequence[Json], joins: Sequence[Json]) -> Json:
    # The repeated first join test keeps the C core from reading past the expression.
    record = [{"t": kind}, {"k": slot}, *alpha, *joins, joins[0]]
    return {"all": [{"w": {"$and": [{"t": "w"}, {"k": slot}]}}, {"r": {"$and": record}}]}


def _patient_rule(kind: str, slot: int, tests: Sequence[Json]) -> Json:
    return {"all": [{"m": {"$and": [{"t": kind}, {"k": slot}, *tests]}}]}


def _join(operator: str, name: str, window: str) -> Json:
    return {operator: {name: {"w": window}}}


def _leaf_rules(leaf: Leaf, slot: int) -> list[tuple[str, Json, _Target]]:
    """The rules deciding ``leaf`` in ``slot``, with their names and what their firings mean."""
    rules: list[tuple[str, Json, _Target]] = []

    def add(category: int, rule: Json, record: bool, suffix: str = "") -> None:
        name = f"{'dprc'[category]}{slot}{suffix}"
        rules.append((name, rule, _Target(slot, category, record)))

    if isinstance(leaf, AgeLeaf):
        sure: list[Json] = []
        maybe: list[Json] = []
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
    elif isinstance(leaf, SexLeaf):
        for j, sex in enumerate(sorted(leaf.values)):
            add(_DEFINITE, _patient_rule("x", slot, [{"s": sex.value}]), False, f"_{j}")
        add(_POSSIBLE, _patient_rule("x", slot, [{"$nex": {"s": 1}}]), False, "_missing")
    elif isinstance(leaf, AttributeLeaf):
        if leaf.values is not None:
            for j, value in enumerate(sorted(leaf.values)):
                add(_DEFINITE, _patient_rule("b", slot, [{"vs": value}]), False, f"_{j}")
        elif leaf.expected is not None:
            add(_DEFINITE, _patient_rule("b", slot, [{"vb": leaf.expected}]), False)
        absent = [{"$nex": {"vs": 1}}, {"$nex": {"vb": 1}}]
        add(_POSSIBLE, _patient_rule("b", slot, absent), False, "_missing")
    elif isinstance(leaf, ConditionLeaf):
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
    elif isinstance(leaf, MedicationLeaf):
        sure = [_join("$lte", "sh", "d"), _join("$gte", "el", "s")]
        maybe = [_join("$lte", "sl", "d"), _join("$gte", "eh", "s")]
        add(_DEFINITE, _record_rule("m", slot, [{"ok": True}], sure), True)
        add(_POSSIBLE, _record_rule("m", slot, [], maybe), True)
    elif isinstance(leaf, ObservationLeaf | StatusLeaf):
        kind = "o" if isinstance(leaf, ObservationLeaf) else "s"
        sure = [_join("$gte", "dl", "s"), _join("$lte", "dh", "d")]
        maybe = [_join("$gte", "dh", "s"), _join("$lte", "dl", "d")]
        add(_DEFINITE, _record_rule(kind, slot, [], sure), True)
        add(_POSSIBLE, _record_rule(kind, slot, [], maybe), True)
        if isinstance(leaf, ObservationLeaf) and leaf.aggregate == "latest":
            bounds: list[Json] = [{"$ex": {"v": 1}}]
            if leaf.low is not None:
                low = _lowest_passing(leaf.low, leaf.low_inclusive)
                bounds.append({"$gte": {"v": _ordered_int(low)}})
            if leaf.high is not None:
                high = _highest_passing(leaf.high, leaf.high_inclusive)
                bounds.append({"$lte": {"v": _ordered_int(high)}})
            add(_IN_RANGE, _record_rule("o", slot, bounds, maybe), True)
        if isinstance(leaf, ObservationLeaf):
            add(_COMPARABLE, _record_rule("o", slot, [{"$ex": {"v": 1}}], maybe), True)
    else:
        assert_never(leaf)
    return rules


def _check_caps(definition: Mapping[str, Json]) -> None:
    """Refuse a definition that could pass a C-core limit (see "Caps"). ``create_ruleset`` loops
    for ever when an alpha node gets its 512th test, so this runs before it is called.

    The alpha network is a tree of tests shared by equal prefixes: a pattern's ``$and`` is a chain
    of tests from the root (node 0), and the pattern's rule hangs from the chain's last node."""
    if len(definition) > _MAX_RULES + 1:
        raise EngineError(f"a ruleset of {len(definition)} rules is over the cap of {_MAX_RULES}")
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


# --- compiled rulesets -------------------------------------------------------------------------

_NAMES: Final = itertools.count()


@dataclass(eq=False)
class _Ruleset:
    """One durable-rules ruleset: up to ``_MAX_LEAVES`` leaves of one trial, by slot."""

    handle: int
    leaves: tuple[Leaf, ...]
    targets: dict[str, _Target]
    retired: bool = False
    #: True once a session has run to its end in this ruleset (see "uninitialised sessions").
    primed: bool = False


@dataclass(eq=False)
class _Entry:
    """The rulesets of one trial's leaves, and the ``id``s of the live trials that use them."""

    leaves: tuple[Leaf, ...]
    rulesets: list[_Ruleset]
    owners: set[int] = field(default_factory=set)


def _chunks(leaves: Sequence[Leaf]) -> list[list[tuple[Leaf, list[tuple[str, Json, _Target]]]]]:
    """Leaves with their rules, split so that no ruleset passes ``_MAX_LEAVES``/``_MAX_RULES``."""
    chunks: list[list[tuple[Leaf, list[tuple[str, Json, _Target]]]]] = [[]]
    rules = 0
    for leaf in leaves:
        current = chunks[-1]
        slot = len(current)
        built = _leaf_rules(leaf, slot)
        if current and (slot >= _MAX_LEAVES or rules + len(built) > _MAX_RULES):
            current = []
            chunks.append(current)
            rules = 0
            built = _leaf_rules(leaf, 0)
        current.append((leaf, built))
        rules += len(built)
    return [chunk for chunk in chunks if chunk]


# --- the engine --------------------------------------------------------------------------------

_LOCK = threading.Lock()


def _new_lock() -> None:
    global _LOCK  # noqa: PLW0603 - a forked child must not inherit a lock held by another thread
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock)


class _Found:
    """Positions found per slot and category during one evaluation of a ruleset."""

    __slots__ = ("positions",)

    def __init__(self, slots: int) -> None:
        self.positions: list[tuple[set[int], set[int], set[int], set[int]]] = [
            (set(), set(), set(), set()) for _ in range(slots)
        ]

    def matches(self, leaf: Leaf, slot: int) -> Matches:
        definite, possible, in_range, comparable = self.positions[slot]
        if isinstance(leaf, AgeLeaf | SexLeaf | AttributeLeaf | StatusLeaf):
            return PATIENT if definite else MAYBE if possible else NOTHING
        if not definite and not possible:
            return NOTHING
        sure = tuple(sorted(definite))
        maybe = tuple(sorted(possible - definite))
        if isinstance(leaf, ObservationLeaf):
            return Matches(sure, maybe, frozenset(in_range), frozenset(comparable))
        if isinstance(leaf, ConditionLeaf | MedicationLeaf):
            return Matches(sure, maybe)
        assert_never(leaf)


class DurableEngine:
    """Leaf rules decided by durable-rules rulesets (see the module docstring).

    Use ``durable_engine()``: there is one per process."""

    name = "durable"

    def __init__(self, native: _Native) -> None:
        self._native = native
        self._cache: dict[tuple[int, ...], _Entry] = {}
        self._sessions = itertools.count()
        #: ``(leaf keys, id(trial))`` of trials that have died, appended by finalizers (which may
        #: run in any thread, even inside an evaluation) and handled under the lock.
        self._released: collections.deque[tuple[tuple[int, ...], int]] = collections.deque()

    @property
    def rulesets(self) -> int:
        """How many compiled rulesets the engine holds now."""
        with _LOCK:
            self._release()
            return sum(len(entry.rulesets) for entry in self._cache.values())

    def close(self) -> None:
        """Delete every compiled ruleset; they are compiled again when next needed."""
        with _LOCK:
            for entry in self._cache.values():
                self._delete(entry.rulesets)
            self._cache.clear()

    def decide(
        self, trials: Sequence[CompiledTrial], facts: PatientFacts
    ) -> Mapping[int, LeafResult]:
        leaves = {leaf.key: leaf for trial in trials for leaf in trial.leaves}
        found = self.matches(trials, facts)
        return {key: leaf_result(leaves[key], facts, found[key]) for key in leaves}

    def matches(self, trials: Sequence[CompiledTrial], facts: PatientFacts) -> dict[int, Matches]:
        """The records matching every leaf of ``trials``, by leaf key."""
        decided: dict[int, Matches] = {}
        with _LOCK:
            self._release()
            for trial in trials:
                for ruleset in self._rulesets(trial):
                    todo = [s for s, leaf in enumerate(ruleset.leaves) if leaf.key not in decided]
                    if todo:
                        self._evaluate(trial, ruleset, todo, facts, decided)
        return decided

    # -- compiling and caching --

    def _rulesets(self, trial: CompiledTrial) -> list[_Ruleset]:
        keys = tuple(leaf.key for leaf in trial.leaves)
        entry = self._cache.get(keys)
        if entry is None:
            entry = self._cache[keys] = _Entry(trial.leaves, self._compile(trial, trial.leaves))
        elif any(ruleset.retired for ruleset in entry.rulesets):
            self._delete(entry.rulesets)
            entry.rulesets = self._compile(trial, entry.leaves)
        if id(trial) not in entry.owners:
            # A trial that cannot be weakly referenced keeps its entry for the process's life.
            with contextlib.suppress(TypeError):
                weakref.finalize(trial, self._released.append, (keys, id(trial)))
            entry.owners.add(id(trial))
        return entry.rulesets

    def _compile(self, trial: CompiledTrial, leaves: Sequence[Leaf]) -> list[_Ruleset]:
        rulesets: list[_Ruleset] = []
        try:
            for chunk in _chunks(leaves):
                definition: dict[str, Json] = {}
                targets: dict[str, _Target] = {}
                for _, rules in chunk:
                    for name, rule, target in rules:
                        definition[name] = rule
                        targets[name] = target
                definition[_SENTINEL] = {"all": [{"m": {"t": _SENTINEL}}]}
                _check_caps(definition)
                try:
                    handle = self._native.create_ruleset(
                        f"matcher{next(_NAMES)}", json.dumps(definition)
                    )
                except Exception as exc:
                    raise EngineError(
                        f"the durable-rules engine could not compile trial {trial.id}: {exc}"
                    ) from exc
                ruleset = _Ruleset(handle, tuple(leaf for leaf, _ in chunk), targets)
                rulesets.append(ruleset)
                self._prime(trial, ruleset)
        except BaseException:
            self._delete(rulesets)
            raise
        return rulesets

    def _prime(self, trial: CompiledTrial, ruleset: _Ruleset) -> None:
        """Run a session holding only the sentinel to its end (see "uninitialised sessions")."""
        _collect(ruleset, self._session(trial, ruleset, []), _Found(0))
        ruleset.primed = True

    def _delete(self, rulesets: Iterable[_Ruleset]) -> None:
        for ruleset in rulesets:
            if ruleset.retired:  # deleted already: a handle is never freed twice
                continue
            ruleset.retired = True
            with contextlib.suppress(Exception):  # a failure leaves nothing else to free
                self._native.delete_ruleset(ruleset.handle)

    def _release(self) -> None:
        """Delete the rulesets of trials that no longer exist (called under the lock)."""
        while self._released:
            keys, owner = self._released.popleft()
            entry = self._cache.get(keys)
            if entry is None:
                continue
            entry.owners.discard(owner)
            if not entry.owners:
                del self._cache[keys]
                self._delete(entry.rulesets)

    # -- evaluating --

    def _evaluate(
        self,
        trial: CompiledTrial,
        ruleset: _Ruleset,
        slots: Sequence[int],
        facts: PatientFacts,
        decided: dict[int, Matches],
    ) -> None:
        groups = [_leaf_facts(ruleset.leaves[slot], slot, facts) for slot in slots]
        found = _Found(len(ruleset.leaves))
        for batch in _batches(groups):
            messages = self._session(trial, ruleset, batch)
            try:
                _collect(ruleset, messages, found)
            except EngineError:
                raise
            except Exception as exc:
                raise EngineError(
                    f"the durable-rules engine failed on trial {trial.id} "
                    f"while reading its fired rules: {_describe(exc)}"
                ) from exc
        for slot in slots:
            leaf = ruleset.leaves[slot]
            decided[leaf.key] = found.matches(leaf, slot)

    def _session(self, trial: CompiledTrial, ruleset: _Ruleset, batch: Sequence[Fact]) -> list[str]:
        """Assert ``batch`` in a fresh session, collect every firing, delete the session.

        Only C calls happen while the session is open; the firings are read afterwards."""
        native, handle = self._native, ruleset.handle
        sid = f"s{next(self._sessions)}"
        payload: list[Fact] = []
        sentinel: Fact = {"t": _SENTINEL}
        for number, fact in enumerate([*batch, sentinel]):
            _check_fact(fact)
            payload.append({**fact, "id": f"f{number}", "sid": sid})
        text = json.dumps(payload, allow_nan=False)
        messages: list[str] = []
        # Whether the session can be deleted: not before its assertion reached the C core, nor
        # after it ran out of memory there (the session may be half-created); in an unprimed
        # ruleset only once an action started.
        deletable = started = closed = False
        failure: Exception | None = None
        try:
            deletable = True
            try:
                code, offset = native.assert_facts(handle, text)
            except MemoryError:
                deletable = False
                raise
            message = native.start_action_for_state(handle, offset)
            started = message is not None
            while message is not None:
                messages.append(message)
                message = native.complete_and_start_action(handle, offset)
            if code not in (_OK, _NOT_HANDLED):
                kind = "a duplicate fact" if code == _OBSERVED else "a deferred fact"
                failure = EngineError(f"durable-rules reported {kind} (return code {code})")
        except Exception as exc:
            failure = exc
        finally:
            closed = self._close(ruleset, sid, deletable and (started or ruleset.primed))
            if not closed or failure is not None:
                self._delete([ruleset])  # retired: compiled again on next use
        if failure is not None or not closed:
            why = f": {_describe(failure)}" if failure else ""
            raise EngineError(
                f"the durable-rules engine failed on trial {trial.id}{why}; its rules will be "
                "compiled again for the next evaluation"
            ) from failure
        return messages

    def _close(self, ruleset: _Ruleset, sid: str, safe: bool) -> bool:
        """Delete session ``sid``; False when that is not ``safe`` (see "uninitialised sessions"
        and "sessions" above: the session is then left to its retired ruleset) or failed."""
        if not safe:
            return False
        try:
            self._native.delete_state(ruleset.handle, sid)
        except Exception:
            return False
        return True


def _describe(exc: BaseException) -> str:
    """``MemoryError`` or ``KeyError: 'r'``: the C module's messages hold codes, never data."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _batches(groups: Iterable[list[Fact]]) -> list[list[Fact]]:
    """Facts packed into sessions of at most ``_MAX_FACTS`` (with the sentinel); a leaf's records
    may be spread over several sessions, each with a copy of the leaf's window fact."""
    limit = _MAX_FACTS - 1
    batches: list[list[Fact]] = [[]]
    for group in groups:
        pieces = [group]
        if len(group) > limit:
            window, records = group[0], group[1:]
            pieces = [
                [window, *records[i : i + limit - 1]] for i in range(0, len(records), limit - 1)
            ]
        for piece in pieces:
            if len(batches[-1]) + len(piece) > limit:
                batches.append([])
            batches[-1].extend(piece)
    return [batch for batch in batches if batch]


def _collect(ruleset: _Ruleset, messages: Iterable[str], found: _Found) -> None:
    """Record what each fired rule says; the sentinel must have fired exactly once."""
    sentinels = 0
    for message in messages:
        for name, frames in json.loads(message).items():
            for frame in frames if isinstance(frames, list) else [frames]:
                if name == _SENTINEL:
                    sentinels += 1
                else:
                    _on_firing(ruleset, name, frame, found)
    if sentinels != 1:
        raise EngineError(
            f"the durable-rules engine lost facts: its sentinel fired {sentinels} times, not once"
        )


def _on_firing(ruleset: _Ruleset, name: str, frame: Mapping[str, Any], found: _Found) -> None:
    """One rule fired for one combination of facts."""
    target = ruleset.targets[name]
    position = frame["r"]["i"] if target.record else 0
    if type(position) is not int:
        raise EngineError(f"rule {name} fired with a record position that is not an int")
    found.positions[target.slot][target.category].add(position)


_ENGINE: DurableEngine | None = None


def durable_engine() -> DurableEngine:
    """The process-wide durable-rules engine.

    Raises ``EngineError`` on Python 3.13 or later and when durable-rules cannot be imported."""
    global _ENGINE  # noqa: PLW0603 - one engine (and one set of C rulesets) per process
    if _ENGINE is not None:
        return _ENGINE
    if sys.version_info >= (3, 13):
        raise EngineError(
            f"the durable-rules engine is not available on this Python ({platform.python_version()}"
            "; durable-rules 2.0.28 supports Python 3.12 at most): use --engine python"
        )
    try:
        module = _import_native()
    except ImportError as exc:
        raise EngineError(
            "the durable-rules engine is not available on this Python "
            f"(durable_rules_engine cannot be imported: {exc}): use --engine python"
        ) from exc
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = DurableEngine(_Native(module))
        return _ENGINE
