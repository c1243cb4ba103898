"""Attrition: how many patients remain after each criterion, and what would decide the rest.

The funnel of a trial follows its criteria in file order, after the implicit ``alive``: a patient
leaves at the first criterion that makes them ineligible (an inclusion not met, an exclusion
met). Those who remain at the end are the eligible and undetermined ones. Beside the funnel, every
criterion has its counts of met / not met / unknown / review over all screened patients.

Missing facts: each fact that an undetermined trial's unknown criteria lack ("a 0-10 pain score
from 2026-10-22 to 2026-11-21") with the number of patients it would help decide (patients for
whom it is missing in at least one trial) and of patient-trial pairs.

``Tally`` adds outcome matrices one batch at a time, so a panel of any size is counted in constant
memory.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from matcher.evaluation.batch import (
    ELIGIBLE,
    MET,
    NOT_MET,
    REVIEW,
    UNDETERMINED,
    UNKNOWN,
    OutcomeMatrix,
    TrialShape,
)

__all__ = ["MissingFact", "Step", "Tally", "TrialAttrition"]


def _numpy() -> Any:
    """numpy when installed (the ``panel`` extra), else None: the funnels are then counted
    patient by patient."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


@dataclass(slots=True)
class Step:
    """One criterion of a funnel: who was still in before it, who left here, and its counts."""

    criterion: str
    kind: Literal["inclusion", "exclusion"]
    before: int = 0
    excluded: int = 0
    #: Outcome counts over every screened patient: met, not_met, unknown, review.
    counts: list[int] = field(default_factory=lambda: [0, 0, 0, 0])

    @property
    def after(self) -> int:
        return self.before - self.excluded

    def as_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "kind": self.kind,
            "before": self.before,
            "excluded": self.excluded,
            "after": self.after,
            "met": self.counts[MET],
            "not_met": self.counts[NOT_MET],
            "unknown": self.counts[UNKNOWN],
            "review": self.counts[REVIEW],
        }


@dataclass(slots=True)
class TrialAttrition:
    """A trial's funnel, in criterion order, starting with the implicit ``alive``."""

    trial: str
    screened: int = 0
    steps: list[Step] = field(default_factory=list)
    eligible: int = 0
    undetermined: int = 0
    ineligible: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "screened": self.screened,
            "steps": [s.as_dict() for s in self.steps],
            "eligible": self.eligible,
            "undetermined": self.undetermined,
            "ineligible": self.ineligible,
        }


@dataclass(frozen=True, slots=True)
class MissingFact:
    fact: str
    patients: int
    pairs: int

    def as_dict(self) -> dict[str, Any]:
        return {"fact": self.fact, "patients": self.patients, "patient_trials": self.pairs}


class Tally:
    """Counts outcome matrices into funnels and missing facts."""

    def __init__(self, shapes: list[TrialShape]) -> None:
        self._trials = {
            s.id: TrialAttrition(
                s.id,
                steps=[Step("alive", "inclusion"), *(Step(c, k) for c, k in s.criteria)],
            )
            for s in shapes
        }
        self._patients: Counter[str] = Counter()
        self._pairs: Counter[str] = Counter()

    def error(self, item: object) -> None:
        """Unusable patients are not counted (the errors file lists them)."""

    def matrix(self, matrix: OutcomeMatrix) -> None:
        if _numpy() is not None and matrix.patients:
            self._columns(matrix)
        else:
            self._rows(matrix)
        for index in range(len(matrix.patients)):
            facts: set[str] = set()
            for column in matrix.trials:
                missing = column.missing[index]
                if missing:
                    self._pairs.update(missing)
                    facts.update(missing)
            self._patients.update(facts)

    def _columns(self, matrix: OutcomeMatrix) -> None:
        """The funnels of a matrix with numpy: the counts ``_rows`` makes, a column at a time."""
        np = _numpy()
        alive = np.asarray(matrix.alive, dtype=np.int64)
        n = len(alive)
        for column in matrix.trials:
            funnel = self._trials[column.shape.id]
            funnel.screened += n
            steps = funnel.steps
            outcomes = np.asarray(column.outcomes, dtype=np.int64).reshape(n, -1)
            out = alive == NOT_MET
            for code, count in enumerate(np.bincount(alive, minlength=4).tolist()):
                steps[0].counts[code] += count
            steps[0].before += n
            steps[0].excluded += int(out.sum())
            for number, (step, (_, kind)) in enumerate(
                zip(steps[1:], column.shape.criteria, strict=True)
            ):
                codes = outcomes[:, number]
                for code, count in enumerate(np.bincount(codes, minlength=4).tolist()):
                    step.counts[code] += count
                step.before += int(n - out.sum())
                leaving = ~out & (codes == (MET if kind == "exclusion" else NOT_MET))
                step.excluded += int(leaving.sum())
                out |= leaving
            verdicts = np.bincount(np.asarray(column.verdict, dtype=np.int64), minlength=3)
            funnel.eligible += int(verdicts[ELIGIBLE])
            funnel.undetermined += int(verdicts[UNDETERMINED])
            funnel.ineligible += n - int(verdicts[ELIGIBLE]) - int(verdicts[UNDETERMINED])

    def _rows(self, matrix: OutcomeMatrix) -> None:
        for column in matrix.trials:
            answers = zip(matrix.alive, column.outcomes, column.verdict, strict=True)
            self.answers(column.shape, ((a, o, v, 1) for a, o, v in answers))

    def answers(
        self, shape: TrialShape, answers: Iterable[tuple[int, Sequence[int], int, int]]
    ) -> None:
        """Count answers of one trial given as (alive, outcomes, verdict, patients): that many
        patients answered so. ``matcher.spark`` counts the distinct answers with Spark and
        hands them here."""
        funnel = self._trials[shape.id]
        steps = funnel.steps
        blocking = [MET if kind == "exclusion" else NOT_MET for _, kind in shape.criteria]
        for alive, outcomes, verdict, patients in answers:
            funnel.screened += patients
            steps[0].counts[alive] += patients
            out = alive == NOT_MET
            steps[0].before += patients
            if out:
                steps[0].excluded += patients
            for step, outcome, block in zip(steps[1:], outcomes, blocking, strict=True):
                step.counts[outcome] += patients
                if not out:
                    step.before += patients
                    if outcome == block:
                        step.excluded += patients
                        out = True
            if verdict == ELIGIBLE:
                funnel.eligible += patients
            elif verdict == UNDETERMINED:
                funnel.undetermined += patients
            else:
                funnel.ineligible += patients

    def attrition(self) -> list[TrialAttrition]:
        return list(self._trials.values())

    def missing(self, top: int | None = None) -> list[MissingFact]:
        """The facts that would decide the most patients, most first (ties by text)."""
        ranked = sorted(self._patients.items(), key=lambda item: (-item[1], item[0]))
        return [MissingFact(f, n, self._pairs[f]) for f, n in ranked[:top]]
