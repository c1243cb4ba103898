"""Fact encoding: one patient's facts, on one as-of date, as the flat facts the rules join.

Every evaluation opens a fresh session and asserts small flat facts whose values are ints, bools
or strings. Each leaf of a ruleset has a slot number ``k``, and every fact belongs to one slot:

* one *window* fact per record leaf, ``{t: w, k, d, s?, c?}``: ``d`` is the as-of day, ``s`` the
  first day of the leaf's window (the as-of day minus the span under the calendar rule; the as-of
  day itself for current medication use; day 0 for use "ever"; for a condition, the window of
  ``onset_within`` or of ``active_within``, which never come together) and ``c`` the latest onset
  day for ``onset_at_least``. These are the only numbers that depend on the as-of date. They come
  from ``PatientFacts.window_start``, the calendar code the python engine uses, and the rules
  *join* records to them, so a compiled ruleset serves every as-of date;
* one *record* fact per record of the leaf's concept set, ``{t, k, i, ...}``: ``i`` is the
  record's position, the rest its day-number intervals from ``matcher.evaluation.facts`` --
  medication ``sl sh el eh`` (start, end) and ``ok`` (a name that certainly belongs to the set,
  not a near miss), condition ``ol oh al ah`` (onset, abatement) and ``ok`` (a confirmed diagnosis
  of a code that certainly belongs to the set, not a possible member only), observation ``dl dh``
  and ``v``, pregnancy or lactation status ``dl dh``. Which records belong to a concept set comes
  from ``PatientFacts.members``: concept matching is shared by both engines, like the
  normalisation of codes and units. A record leaf with no record gets no fact at all;
* one *patient* fact per age, sex or attribute leaf: ``lo hi`` (the ages the birth date allows),
  ``s`` (sex), ``vs`` or ``vb`` (a string or a boolean attribute); an unknown value is an absent
  field.

An observation's value, converted to the leaf's unit by the shared ``unit_factor``, is asserted
as the 64-bit int with the same order as the double (``ordered_int``: its IEEE-754 bits, negated
for negative numbers); each bound becomes the nearest double that passes, encoded the same way
(``rules``). The comparison is exact and no float text reaches the C parser. ``v`` is absent when
the reading has no value or a unit that does not convert.

**Traps** (tests in ``tests/test_durable.py``):

* *types*: one type per field, ints, bools or strings, so a number is never compared with text
  (which the C core does as text); a missing value is a missing field, tested only by
  ``$ex``/``$nex`` and never inside a join (a null in a join fails the whole assertion).
  ``check_fact`` refuses anything else before it reaches the C core: floats, nulls, dates, ints
  beyond 64 bits;
* *duplicates*: facts carry explicit ids ``f0``, ``f1``, ...; the C core keys facts by the 32-bit
  hash of their id and drops a second fact with the same hash, and these ids have pairwise
  distinct hashes below ``MAX_FACTS`` (a test proves it with the C core's hash). No fact uses the
  field names ``id`` and ``sid`` for data: the C core leaves their values pointing into freed
  memory;
* *truncation*: the sentinel fact ``{t: go}`` is asserted last in every session (``payload``) and
  its rule must fire exactly once (``rules.collect``): a batch the C parser cut short is an
  ``EngineError``;
* *session size*: a session holds at most ``MAX_FACTS`` facts; a patient with more records is
  evaluated in several sessions (``batches``), each record being classified on its own.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Sequence
from typing import Final, assert_never

from matcher.core.codes import unit_factor
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
from matcher.evaluation.facts import FAR_PAST, PatientFacts

__all__ = [
    "MAX_FACTS",
    "SENTINEL",
    "Fact",
    "batches",
    "check_fact",
    "highest_passing",
    "leaf_facts",
    "lowest_passing",
    "ordered_int",
    "payload",
    "window",
]

Fact = dict[str, int | bool | str]

#: Facts per session, the sentinel included: their ids are ``f0`` .. ``f{MAX_FACTS - 1}``.
MAX_FACTS: Final = 4000
#: The type of the sentinel fact, asserted last in every session.
SENTINEL: Final = "go"

_INT64: Final = 2**63


# --- numbers -----------------------------------------------------------------------------------


def ordered_int(value: float) -> int:
    """The int with the same order as ``value`` among all doubles (``-0.0`` and ``0.0`` equal)."""
    bits: int = struct.unpack("<q", struct.pack("<d", value))[0]
    return bits if bits >= 0 else -(bits & 0x7FFF_FFFF_FFFF_FFFF)


def lowest_passing(low: float, inclusive: bool) -> float:
    """The smallest double ``x`` with ``x >= low`` (``x > low`` when not inclusive); ``low`` is
    finite, as criteria files require."""
    try:
        near = float(low)
    except OverflowError:
        return math.inf if low > 0 else -math.inf
    if near < low or (near == low and not inclusive):
        near = math.nextafter(near, math.inf)
    return near


def highest_passing(high: float, inclusive: bool) -> float:
    """The largest double ``x`` with ``x <= high`` (``x < high`` when not inclusive); ``high`` is
    finite, as criteria files require."""
    try:
        near = float(high)
    except OverflowError:
        return math.inf if high > 0 else -math.inf
    if near > high or (near == high and not inclusive):
        near = math.nextafter(near, -math.inf)
    return near


# --- facts of one leaf -------------------------------------------------------------------------


def window(leaf: Leaf, slot: int, facts: PatientFacts) -> Fact | None:
    """The per-evaluation window fact of a record leaf (the only as-of-dependent numbers);
    ``None`` for a patient leaf, which has no window."""
    found: Fact = {"t": "w", "k": slot, "d": facts.today}
    match leaf:
        case ConditionLeaf():
            if leaf.onset_at_least is not None:
                found["c"] = facts.window_start(leaf.onset_at_least)
            if leaf.onset_within is not None:
                found["s"] = facts.window_start(leaf.onset_within)
            if leaf.active_within is not None:  # never with onset_within: one ``s`` per window
                found["s"] = facts.window_start(leaf.active_within)
        case MedicationLeaf():
            if leaf.ever:
                found["s"] = FAR_PAST
            elif leaf.within is not None:
                found["s"] = facts.window_start(leaf.within)
            else:
                found["s"] = facts.today
        case ObservationLeaf() | StatusLeaf():
            found["s"] = facts.window_start(leaf.within)
        case AgeLeaf() | SexLeaf() | AttributeLeaf():
            return None
        case _:
            assert_never(leaf)
    return found


def leaf_facts(leaf: Leaf, slot: int, facts: PatientFacts) -> list[Fact]:
    """The facts a leaf's rules look at: one patient fact, or a window and its records (none at
    all for a record leaf without records: nothing can fire for it)."""
    records: list[Fact] = []
    match leaf:
        case AgeLeaf():
            age: Fact = {"t": "a", "k": slot}
            if facts.age_lo is not None and facts.age_hi is not None:
                age["lo"], age["hi"] = facts.age_lo, facts.age_hi
            return [age]
        case SexLeaf():
            sex: Fact = {"t": "x", "k": slot}
            if facts.sex is not None:
                sex["s"] = facts.sex.value
            return [sex]
        case AttributeLeaf():
            attribute: Fact = {"t": "b", "k": slot}
            value = facts.attributes.get(leaf.name)
            if isinstance(value, bool):
                attribute["vb"] = value
            elif isinstance(value, str):
                attribute["vs"] = value
            return [attribute]
        case StatusLeaf():
            status = facts.status(leaf.what)
            if status is not None:
                records.append(
                    {"t": "s", "k": slot, "i": 0, "dl": status.date_lo, "dh": status.date_hi}
                )
        case ConditionLeaf():
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
        case MedicationLeaf():
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
        case ObservationLeaf():
            for i in facts.members(leaf.concept):
                o = facts.observations[i]
                reading: Fact = {"t": "o", "k": slot, "i": i, "dl": o.date_lo, "dh": o.date_hi}
                factor = unit_factor(o.unit, leaf.unit)
                if o.value is not None and factor is not None:
                    reading["v"] = ordered_int(o.value * factor)
                records.append(reading)
        case _:
            assert_never(leaf)
    if not records:
        return []
    found = window(leaf, slot, facts)
    assert found is not None  # a record leaf
    return [found, *records]


# --- sessions' payloads ------------------------------------------------------------------------


def check_fact(fact: Fact) -> None:
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


def batches(groups: Iterable[list[Fact]]) -> list[list[Fact]]:
    """Facts packed into sessions of at most ``MAX_FACTS`` (with the sentinel); a leaf's records
    may be spread over several sessions, each with a copy of the leaf's window fact."""
    limit = MAX_FACTS - 1
    out: list[list[Fact]] = [[]]
    for group in groups:
        pieces = [group]
        if len(group) > limit:
            first, records = group[0], group[1:]
            pieces = [
                [first, *records[i : i + limit - 1]] for i in range(0, len(records), limit - 1)
            ]
        for piece in pieces:
            if len(out[-1]) + len(piece) > limit:
                out.append([])
            out[-1].extend(piece)
    return [batch for batch in out if batch]


def payload(batch: Sequence[Fact], sid: str) -> str:
    """The JSON text asserting ``batch`` and then the sentinel in session ``sid``, each fact
    checked and given its id."""
    sentinel: Fact = {"t": SENTINEL}
    facts: list[Fact] = []
    for number, fact in enumerate([*batch, sentinel]):
        check_fact(fact)
        facts.append({**fact, "id": f"f{number}", "sid": sid})
    return json.dumps(facts, allow_nan=False)
