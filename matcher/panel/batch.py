"""What-if screening: trials with some criteria switched off (``matcher screen --without``).

The batch engine contract the panel runs on (``BatchEngine``, ``OutcomeMatrix``, ``RowEngine``
and the outcome codes) lives on the evaluation side, ``matcher.evaluation.batch``; its names are
importable from here too, for the panel's engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from matcher.criteria.compiler import CompiledTrial
from matcher.evaluation.batch import (
    ELIGIBLE,
    INELIGIBLE,
    MET,
    NOT_MET,
    OUTCOME_CODES,
    OUTCOME_NAMES,
    REVIEW,
    UNDETERMINED,
    UNKNOWN,
    VERDICT_CODES,
    VERDICT_NAMES,
    BatchEngine,
    OutcomeMatrix,
    RowEngine,
    TrialColumns,
    TrialShape,
)

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
    "without",
]


def without(
    trials: Sequence[CompiledTrial], criteria: Sequence[str]
) -> tuple[list[CompiledTrial], list[str]]:
    """The trials with the named criteria switched off (what-if), and the names that matched
    nothing. A name is ``CRITERION_ID`` (in every trial that has it) or ``TRIAL:CRITERION_ID``."""
    used: set[str] = set()
    out: list[CompiledTrial] = []
    for trial in trials:
        keep = []
        for criterion in trial.criteria:
            names = {criterion.id, f"{trial.id}:{criterion.id}"}
            hit = names.intersection(criteria)
            if hit:
                used.update(hit)
            else:
                keep.append(criterion)
        if len(keep) == len(trial.criteria):
            out.append(trial)
            continue
        out.append(
            replace(
                trial,
                criteria=tuple(keep),
                criterion_keys=tuple(c.key for c in keep),
                pick=None,
                ruled=sum(c.rule is not None for c in keep),
            )
        )
    return out, [name for name in criteria if name not in used]
