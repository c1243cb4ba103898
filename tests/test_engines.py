"""Engines as objects: the one-patient ``Engine`` contract, ``check(..., engine=<Engine or
name>)``, and the batch contract (``matcher.evaluation.batch``) over any engine."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from functools import cache
from typing import Any

import pytest
from helpers import DATA

import matcher
from matcher.criteria.compiler import Catalog, CompiledTrial
from matcher.evaluation.batch import BatchEngine, RowEngine
from matcher.evaluation.engines import get_engine
from matcher.evaluation.engines.durable import durable_engine
from matcher.evaluation.engines.python import PYTHON_ENGINE
from matcher.evaluation.facts import PatientFacts
from matcher.evaluation.leaves import LeafResult

AS_OF = date(2026, 11, 21)
PATIENTS = [DATA / "patients" / "veteran.yaml", DATA / "patients" / "crps_clonazepam.yaml"]


@cache
def _catalog() -> Catalog:
    return matcher.load_trials()


class Counting:
    """An engine of its own: the python engine's answers, counting the calls."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def decide(
        self, trials: Sequence[CompiledTrial], facts: PatientFacts
    ) -> Mapping[int, LeafResult]:
        self.calls += 1
        return PYTHON_ENGINE.decide(trials, facts)


def _whole(result: matcher.CheckResult) -> dict[str, Any]:
    data = result.as_dict()
    data.pop("engine")
    return data


def test_names_give_the_bundled_engine_objects() -> None:
    assert get_engine("python") is PYTHON_ENGINE
    assert get_engine("durable") is durable_engine()
    assert isinstance(PYTHON_ENGINE, matcher.Engine)
    assert isinstance(durable_engine(), matcher.Engine)
    assert matcher.get_engine(PYTHON_ENGINE) is PYTHON_ENGINE


@pytest.mark.parametrize("path", PATIENTS, ids=lambda p: p.stem)
def test_an_engine_object_gives_the_result_of_its_name(path: Any) -> None:
    patient = matcher.load_patient(path)
    catalog = _catalog()
    for engine in ("python", "durable"):
        by_name = matcher.check(patient, catalog, as_of=AS_OF, engine=engine)
        by_object = matcher.check(patient, catalog, as_of=AS_OF, engine=get_engine(engine))
        assert by_object.as_dict() == by_name.as_dict()
        assert by_object.engine == engine


def test_an_engine_of_ones_own_is_used_and_named_in_the_result() -> None:
    patient = matcher.load_patient(PATIENTS[1])
    counting = Counting()
    result = matcher.check(patient, _catalog(), as_of=AS_OF, engine=counting)
    assert result.engine == "counting"
    assert counting.calls >= 1
    assert _whole(result) == _whole(matcher.check(patient, _catalog(), as_of=AS_OF))


@pytest.mark.parametrize("engine", [object(), 3, None, PYTHON_ENGINE.decide])
def test_anything_else_is_an_input_error_naming_the_argument(engine: Any) -> None:
    patient = matcher.load_patient(PATIENTS[0])
    with pytest.raises(matcher.InputError) as caught:
        matcher.check(patient, _catalog(), as_of=AS_OF, engine=engine)
    (problem,) = caught.value.diagnostics
    assert (problem.code, problem.path) == ("invalid-argument", "engine")
    assert "expected an engine name (python, durable) or an object with a name and a decide" in (
        problem.message
    )


def test_an_unknown_name_is_an_engine_error() -> None:
    patient = matcher.load_patient(PATIENTS[0])
    with pytest.raises(matcher.EngineError, match="unknown engine 'rete'; choose one of: python"):
        matcher.check(patient, _catalog(), as_of=AS_OF, engine="rete")


def test_the_row_engine_runs_any_engine_and_explains_on_demand() -> None:
    patients = [matcher.load_patient(path) for path in PATIENTS]
    trials = _catalog().trials
    python: BatchEngine = RowEngine()
    durable: BatchEngine = RowEngine("durable")
    counting = Counting()
    own: BatchEngine = RowEngine(counting)
    matrix = python.evaluate(patients, trials, AS_OF)
    assert asdict(durable.evaluate(patients, trials, AS_OF)) == asdict(matrix)
    assert asdict(own.evaluate(patients, trials, AS_OF)) == asdict(matrix)
    assert counting.calls >= len(patients)
    for patient in patients:
        expected = matcher.check(patient, trials, as_of=AS_OF)
        assert python.explain(patient, trials, AS_OF).as_dict() == expected.as_dict()
        assert _whole(own.explain(patient, trials, AS_OF)) == _whole(expected)
    # The matrix is check's answer, code for code.
    verdicts = {
        t.trial: t.verdict.value for t in matcher.check(patients[0], trials, as_of=AS_OF).trials
    }
    names = ("ineligible", "undetermined", "eligible")
    assert {c.shape.id: names[c.verdict[0]] for c in matrix.trials} == verdicts
