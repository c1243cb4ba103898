"""The example patients inside the bundled trial files: they all pass, and every trial teaches
each verdict it can reach with at least one of them.

``matcher test`` runs the same examples from the command line; this keeps them in the test suite so
that a change to a criterion, a concept set or the engine that breaks one fails the build.
"""

from __future__ import annotations

import pytest
from helpers import reachable_verdicts

import matcher
from matcher.criteria.compiler import Catalog
from matcher.evaluation.examples import run_examples


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return matcher.load_trials()


def test_every_example_passes(catalog: Catalog) -> None:
    reports = run_examples(catalog)
    assert reports, "the bundled catalog carries no examples"
    failures = {(r.trial, r.name): r.problems for r in reports if not r.passed}
    assert failures == {}


def test_every_trial_has_an_example_of_each_verdict_it_can_reach(catalog: Catalog) -> None:
    lacking = {
        trial.id: sorted(
            reachable_verdicts(trial) - {example.expect.verdict for example in trial.examples}
        )
        for trial in catalog
    }
    assert lacking == {trial.id: [] for trial in catalog}


def test_example_names_are_unique_within_a_trial(catalog: Catalog) -> None:
    repeated: dict[str, list[str]] = {}
    for trial in catalog:
        names = [example.name for example in trial.examples]
        repeated[trial.id] = sorted({name for name in names if names.count(name) > 1})
    assert repeated == {trial.id: [] for trial in catalog}
