"""The batch engine contract: many patients in, an outcome matrix out, explanations on demand.

The contract of engines that decide a whole panel at once (panel screening, ``matcher.panel``),
beside the one-patient ``Engine`` of ``matcher.evaluation.engines``:

- ``BatchEngine.evaluate(patients, trials, as_of)`` returns an ``OutcomeMatrix``: per patient and
  trial the verdict, score and eligible-from date; per patient and criterion the outcome, as
  small integers; and the facts that would decide each undetermined trial.
- ``BatchEngine.explain(patient, trials, as_of)`` gives one patient's full ``CheckResult``
  (reasons, evidence, reviews), built only when asked.

Codes. Criterion outcomes are ``NOT_MET`` 0, ``UNKNOWN`` 1, ``MET`` 2 -- the three-valued logic
on small integers (and = min, or = max, not = 2 - x) -- and ``REVIEW`` 3 for a criterion a person
must decide (never part of the logic). Verdicts are ``INELIGIBLE`` 0, ``UNDETERMINED`` 1,
``ELIGIBLE`` 2. ``alive`` is the implicit criterion of ``matcher.evaluation.evaluate``: 2 unless the
patient may have died by the as-of date.

``RowEngine`` implements the protocol over a one-patient ``Engine`` (the python engine unless
told otherwise), patient by patient: its matrix is ``matcher.check``'s answer, code for code.
Trials keep their file order in a matrix (``check`` ranks them; ranking is a presentation of one
patient's answer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, Protocol

from matcher.core.outcome import Outcome, Verdict
from matcher.criteria.compiler import CompiledTrial
from matcher.evaluation.engines import Engine, get_engine
from matcher.evaluation.evaluate import check_facts, prepare
from matcher.evaluation.results import CheckResult, TrialResult
from matcher.patient.model import Patient

__all__ = [
    "ELIGIBLE",
    "INELIGIBLE",
    "MET",
    "NOT_MET",
    "OUTCOME_CODES",
    "OUTCOME_NAMES",
    "REVIEW",
    "UNDETERMINED",
    "UNKNOWN",
    "VERDICT_CODES",
    "VERDICT_NAMES",
    "BatchEngine",
    "OutcomeMatrix",
    "RowEngine",
    "TrialColumns",
    "TrialShape",
]

NOT_MET: Final = 0
UNKNOWN: Final = 1
MET: Final = 2
REVIEW: Final = 3
INELIGIBLE: Final = 0
UNDETERMINED: Final = 1
ELIGIBLE: Final = 2

OUTCOME_CODES: Final = {
    Outcome.NOT_MET: NOT_MET,
    Outcome.UNKNOWN: UNKNOWN,
    Outcome.MET: MET,
    Outcome.REVIEW: REVIEW,
}
OUTCOME_NAMES: Final = tuple(o.value for o in sorted(OUTCOME_CODES, key=OUTCOME_CODES.__getitem__))
VERDICT_CODES: Final = {
    Verdict.INELIGIBLE: INELIGIBLE,
    Verdict.UNDETERMINED: UNDETERMINED,
    Verdict.ELIGIBLE: ELIGIBLE,
}
VERDICT_NAMES: Final = tuple(v.value for v in sorted(VERDICT_CODES, key=VERDICT_CODES.__getitem__))


@dataclass(frozen=True, slots=True)
class TrialShape:
    """A trial's criteria in file order: what the columns of its outcome block mean."""

    id: str
    criteria: tuple[tuple[str, Literal["inclusion", "exclusion"]], ...]

    @classmethod
    def of(cls, trial: CompiledTrial) -> TrialShape:
        return cls(trial.id, tuple((c.id, c.kind) for c in trial.criteria))


@dataclass(frozen=True, slots=True)
class TrialColumns:
    """One trial over a batch of patients; every list has one item per patient."""

    shape: TrialShape
    verdict: list[int]
    score: list[float]
    eligible_from: list[date | None]
    #: One tuple of outcome codes per patient, in the order of ``shape.criteria``.
    outcomes: list[tuple[int, ...]]
    #: The facts that would decide the trial's unknown criteria (empty unless undetermined).
    missing: list[tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class OutcomeMatrix:
    """Patients x trials: the answer of a batch engine."""

    as_of: date
    patients: tuple[str, ...]
    #: The implicit ``alive`` criterion per patient (2 alive, 1 unknown, 0 died by the as-of date).
    alive: list[int]
    trials: tuple[TrialColumns, ...]


class BatchEngine(Protocol):
    """Decides many patients against trials at once; explains one patient when asked."""

    name: str

    def evaluate(
        self, patients: Sequence[Patient], trials: Sequence[CompiledTrial], as_of: date
    ) -> OutcomeMatrix:
        """The outcome matrix of ``patients`` x ``trials`` as of ``as_of``."""
        ...

    def explain(
        self, patient: Patient, trials: Sequence[CompiledTrial], as_of: date
    ) -> CheckResult:
        """One patient's full result (reasons, evidence, reviews), as ``matcher.check``."""
        ...


class RowEngine:
    """The batch protocol over ``matcher.check``: one patient at a time, with ``engine`` (an
    ``Engine`` or its name; the python engine by default)."""

    name = "row"

    def __init__(self, engine: Engine | str = "python") -> None:
        self.engine = get_engine(engine)

    def evaluate(
        self, patients: Sequence[Patient], trials: Sequence[CompiledTrial], as_of: date
    ) -> OutcomeMatrix:
        shapes = [TrialShape.of(t) for t in trials]
        columns = [TrialColumns(s, [], [], [], [], []) for s in shapes]
        alive: list[int] = []
        for patient in patients:
            result = self._check(patient, trials, as_of)
            by_id = {r.trial: r for r in result.trials}
            state = MET
            for column in columns:
                found = by_id[column.shape.id]
                state = min(state, _add(column, found))
            alive.append(state)
        return OutcomeMatrix(as_of, tuple(p.id for p in patients), alive, tuple(columns))

    def explain(
        self, patient: Patient, trials: Sequence[CompiledTrial], as_of: date
    ) -> CheckResult:
        return self._check(patient, trials, as_of)

    def _check(self, patient: Patient, trials: Sequence[CompiledTrial], as_of: date) -> CheckResult:
        """``matcher.check`` with this engine, for patients the panel reader made."""
        return check_facts(prepare(patient, as_of), tuple(trials), self.engine, None)


def _add(column: TrialColumns, result: TrialResult) -> int:
    """Append one trial result to its columns; returns the patient's ``alive`` code."""
    criteria = result.criteria
    alive = MET
    if criteria and criteria[0].id == "alive" and len(criteria) > len(column.shape.criteria):
        alive = OUTCOME_CODES[criteria[0].outcome]
        criteria = criteria[1:]
    column.verdict.append(VERDICT_CODES[result.verdict])
    column.score.append(result.score)
    column.eligible_from.append(result.eligible_from)
    column.outcomes.append(tuple(OUTCOME_CODES[c.outcome] for c in criteria))
    column.missing.append(result.missing)
    return alive
