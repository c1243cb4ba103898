"""One home per rule kind, checked: every kind of compiled leaf goes through every dispatcher
over leaves, and a kind none of them knows stops each one (``assert_never``) instead of being
taken for another kind.

``SAMPLES`` is the table of rule kinds: a rule of every kind and variant, and the leaf class it
compiles to. A kind added to ``matcher.criteria.compiler.Leaf`` fails
``test_every_leaf_kind_has_samples`` until it has samples here; from then on every other test
sends it through every dispatcher (the list is in the comment above ``Leaf``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest
from helpers import BASE_TRIAL, DATA

import matcher
from matcher.core.source import Document
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
    _Compiler,
    iter_leaves,
    leaf_concept,
)
from matcher.evaluation.batch import RowEngine
from matcher.evaluation.engines.durable import durable_engine, encoding, rules
from matcher.evaluation.engines.python import match
from matcher.evaluation.evaluate import prepare
from matcher.evaluation.facts import PatientFacts
from matcher.evaluation.leaves import NOTHING, leaf_result
from matcher.panel.columnar import ColumnarEngine, _leaf_states, _Membership, columns_of
from matcher.render.text import describe_rule

AS_OF = date(2026, 11, 21)
GOLDEN = Path(__file__).resolve().parent / "golden" / "patients"

#: (rule, the leaf it compiles to): every rule kind, in each of its variants.
SAMPLES: list[tuple[str, type[Any]]] = [
    ("{age: {min: 18, max: 70}}", AgeLeaf),
    ("{age: {max: 17}}", AgeLeaf),
    ("{sex: [female]}", SexLeaf),
    ("{attribute: {name: military_status, in: [reserve, active_duty]}}", AttributeLeaf),
    ("{attribute: {name: fr_social_security, is: false}}", AttributeLeaf),
    ("{condition: {concept: hypertension}}", ConditionLeaf),
    ("{condition: {concept: crps, status: ever, onset_at_least: 1 year}}", ConditionLeaf),
    ("{condition: {concept: hypertension, onset_within: 3 months}}", ConditionLeaf),
    ("{condition: {concept: crps, active_within: 6 months}}", ConditionLeaf),
    ("{medication: {concept: benzodiazepines, current: true}}", MedicationLeaf),
    ("{medication: {concept: benzodiazepines, within: 2 weeks}}", MedicationLeaf),
    ("{medication: {ingredient: ketamine, ever: true}}", MedicationLeaf),
    ("{observation: {concept: pain_0_10, within: 30 days, min: 4, max: 7}}", ObservationLeaf),
    (
        "{observation: {concept: pain_vas_100mm, within: 1 year, above: 4.9, unit: cm}}",
        ObservationLeaf,
    ),
    (
        "{observation: {concept: pain_0_10, within: 30 days, aggregate: mean, min: 4}}",
        ObservationLeaf,
    ),
    (
        "{observation: {concept: pain_0_10, within: 30 days, aggregate: spread, max: 1}}",
        ObservationLeaf,
    ),
    (
        "{observation: {concept: pain_0_10, within: 30 days, aggregate: count, min: 2}}",
        ObservationLeaf,
    ),
    ("{pregnant: {within: 30 days}}", StatusLeaf),
    ("{lactating: {within: 7 days, childbearing_age: {min: 15, max: 45}}}", StatusLeaf),
]


@dataclass(frozen=True)
class NewLeaf:
    """A leaf of a kind no dispatcher knows (as a kind added to the format would be at first)."""

    key: int = 10**9


@dataclass(frozen=True)
class NewRule:
    """A rule of a kind the compiler does not know."""

    new: int = 1


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> CompiledTrial:
    """One trial with one criterion per sample, loaded through the real compiler."""
    head = BASE_TRIAL.split("inclusion:\n", maxsplit=1)[0]
    body = "".join(
        f"  - {{id: k{i}, description: d, source: s, rule: {rule}}}\n"
        for i, (rule, _) in enumerate(SAMPLES)
    )
    path = tmp_path_factory.mktemp("kinds") / "NCT00000001.yaml"
    path.write_text(head + "inclusion:\n" + body, encoding="utf-8")
    (compiled,) = matcher.load_trials(path)
    return compiled


def _leaves(trial: CompiledTrial) -> list[Leaf]:
    found: list[Leaf] = []
    for criterion in trial.criteria:
        assert criterion.rule is not None
        found.extend(iter_leaves(criterion.rule))
    return found


@cache
def _patients() -> list[matcher.Patient]:
    paths = [DATA / "patients" / "veteran.yaml", DATA / "patients" / "crps_clonazepam.yaml"]
    return [matcher.load_patient(p) for p in [*paths, *sorted(GOLDEN.glob("*/*.yaml"))]]


@cache
def _bundled() -> matcher.Catalog:
    return matcher.load_trials()


@cache
def _facts() -> list[PatientFacts]:
    return [prepare(patient, AS_OF) for patient in _patients()]


def test_every_leaf_kind_has_samples(trial: CompiledTrial) -> None:
    assert {kind for _, kind in SAMPLES} == set(get_args(Leaf))
    # Each sample compiles to the leaf it names, one leaf per criterion.
    assert [type(leaf) for leaf in _leaves(trial)] == [kind for _, kind in SAMPLES]


def test_every_kind_is_encoded_for_the_durable_engine_worded_and_digested(
    trial: CompiledTrial,
) -> None:
    facts = _facts()[0]
    for slot, leaf in enumerate(_leaves(trial)):
        built = rules.leaf_rules(leaf, slot)
        assert len(built) >= 2, leaf  # a definite and a possible rule at least
        assert {target.slot for _, _, target in built} == {slot}
        window = encoding.window(leaf, slot, facts)
        patient_leaf = isinstance(leaf, AgeLeaf | SexLeaf | AttributeLeaf)
        assert (window is None) == patient_leaf
        for fact in encoding.leaf_facts(leaf, slot, facts):
            encoding.check_fact(fact)
            assert fact["k"] == slot
        assert describe_rule(leaf)
        concept = leaf_concept(leaf)
        assert (concept is None) == isinstance(leaf, AgeLeaf | SexLeaf | AttributeLeaf | StatusLeaf)


def test_both_engines_find_the_same_records_for_every_kind(trial: CompiledTrial) -> None:
    engine = durable_engine()
    leaves = _leaves(trial)
    for facts in _facts():
        found = engine.matches([trial], facts)
        for leaf in leaves:
            expected = match(leaf, facts)
            assert found[leaf.key] == expected, (leaf, facts.patient_id)
            assert leaf_result(leaf, facts, expected).outcome is not None


def test_every_kind_gives_the_same_matrix_in_columns_and_in_rows(trial: CompiledTrial) -> None:
    patients, trials = _patients(), [trial]
    columnar = ColumnarEngine().evaluate(patients, trials, AS_OF)
    assert asdict(columnar) == asdict(RowEngine().evaluate(patients, trials, AS_OF))


class Calls:
    """What the dispatchers need: one patient's facts and columns, and a compiler."""

    def __init__(self) -> None:
        self.facts = _facts()[0]
        self.columns = columns_of(_patients()[:1], AS_OF)
        self.compiler = _Compiler(Document("<test>", {}), _bundled().concepts, {})


#: Every dispatch over rule kinds, each called with a kind it does not know.
DISPATCHERS: dict[str, Any] = {
    "criteria.compiler: _Compiler.leaf": lambda c: c.compiler.leaf(NewRule(), ()),
    "criteria.compiler: iter_leaves": lambda c: list(iter_leaves(NewLeaf())),
    "criteria.compiler: leaf_concept": lambda c: leaf_concept(NewLeaf()),
    "engines.python: match": lambda c: match(NewLeaf(), c.facts),
    "engines.durable: encoding.window": lambda c: encoding.window(NewLeaf(), 0, c.facts),
    "engines.durable: encoding.leaf_facts": lambda c: encoding.leaf_facts(NewLeaf(), 0, c.facts),
    "engines.durable: rules.leaf_rules": lambda c: rules.leaf_rules(NewLeaf(), 0),
    "engines.durable: rules.Found.matches": lambda c: rules.Found(1).matches(NewLeaf(), 0),
    "panel.columnar: _leaf_states": lambda c: _leaf_states(NewLeaf(), c.columns, _Membership()),
    "evaluation.leaves: leaf_result": lambda c: leaf_result(NewLeaf(), c.facts, NOTHING),
    "render.text: describe_rule": lambda c: describe_rule(NewLeaf()),
}


@pytest.mark.parametrize("name", list(DISPATCHERS))
def test_a_kind_no_dispatcher_knows_is_never_taken_for_another(name: str) -> None:
    with pytest.raises(AssertionError, match="Expected code to be unreachable"):
        DISPATCHERS[name](Calls())
