"""Criteria unit tests: the example patients a trial file carries, run against that trial.

Each example names an as-of date, a patient and what it must come to: the verdict, and
optionally the outcome of some criteria and the ``eligible_from`` date. ``matcher test`` runs them
so that a change to a criterion, a concept set or the engine that alters a known answer is caught
before it reaches a referral screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from matcher.core.errors import MatcherError
from matcher.criteria.compiler import CompiledTrial
from matcher.evaluation.engines import Engine, get_engine
from matcher.evaluation.evaluate import check_facts, prepare

__all__ = ["ExampleReport", "run_examples"]


@dataclass(frozen=True, slots=True)
class ExampleReport:
    """One example's result: ``problems`` is empty when it passed."""

    trial: str
    name: str
    file: str
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def run_examples(
    trials: Iterable[CompiledTrial], *, engine: Engine | str = "python"
) -> list[ExampleReport]:
    """Run every example of every trial; never raises for a failing example."""
    reports: list[ExampleReport] = []
    for trial in trials:
        for example in trial.examples:
            problems: list[str] = []
            try:
                result = check_facts(
                    prepare(example.patient, example.as_of), [trial], get_engine(engine)
                )
            except MatcherError as exc:
                problems.append(f"could not be evaluated: {exc}")
            else:
                got = result.trials[0]
                expect = example.expect
                if got.verdict is not expect.verdict:
                    problems.append(
                        f"verdict: expected {expect.verdict.value}, got {got.verdict.value}"
                    )
                outcomes = {c.id: c for c in got.criteria}
                for criterion_id, wanted in expect.criteria.items():
                    actual = outcomes[criterion_id]
                    if actual.outcome is not wanted:
                        problems.append(
                            f"{criterion_id}: expected {wanted.value}, got {actual.outcome.value} "
                            f"({actual.reason})"
                        )
                if expect.eligible_from is not None and got.eligible_from != expect.eligible_from:
                    problems.append(
                        f"eligible_from: expected {expect.eligible_from}, got {got.eligible_from}"
                    )
            reports.append(ExampleReport(trial.id, example.name, trial.file, tuple(problems)))
    return reports
