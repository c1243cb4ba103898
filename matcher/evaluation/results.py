"""The typed results of a check, and their JSON form.

``CheckResult`` holds one ``TrialResult`` per trial, in rank order; each holds one
``CriterionResult`` per criterion, in the trial file's order. All are immutable (the two inner
ones are named tuples, cheap to build a thousand times per check). ``as_dict()`` gives the JSON
contract documented in the README ("JSON output"): fields may be added, never renamed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple

from matcher.core.outcome import Outcome, ReviewKind, Verdict
from matcher.core.version import VERSION

__all__ = [
    "CheckResult",
    "CriterionResult",
    "DataQualityNote",
    "MissingFact",
    "RecordRef",
    "ReviewItem",
    "TrialResult",
]


class RecordRef(NamedTuple):
    """A record that decided a criterion, as data: where it is and what it says.

    ``record`` locates it in the patient model (``conditions[3]``, ``observations[0]``,
    ``pregnancy``, or a patient field: ``birth_date``, ``sex``, ``attributes.military_status``);
    ``source`` is where the reader found it (the FHIR reference ``Condition/abc``, or the id a
    profile gave the record). ``date`` is the record's first date as written (onset, start, the
    reading's date), ``end`` its last (abatement, end of use).
    """

    record: str
    source: str | None = None
    system: str | None = None
    code: str | None = None
    display: str | None = None
    date: str | None = None
    end: str | None = None
    value: float | str | bool | None = None
    unit: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "record": self.record,
            "source": self.source,
            "system": self.system,
            "code": self.code,
            "display": self.display,
            "date": self.date,
            "end": self.end,
            "value": self.value,
            "unit": self.unit,
        }


class MissingFact(NamedTuple):
    """A fact that would decide an unknown criterion, as data.

    ``fact`` says what kind of fact: ``record`` (a record of ``concept``, dated from ``since`` to
    ``until`` when a window applies), ``record_date`` (a full date or status of a record on file,
    ``records`` names it), ``confirmation`` (whether a record on file is really of ``concept``),
    or a patient field (``birth_date``, ``sex``, ``attribute``, ``pregnancy``, ``lactation``,
    ``death_date``). ``text`` is the same fact in words (``missing`` of the result).
    """

    fact: str
    text: str
    concept: str | None = None
    since: date | None = None
    until: date | None = None
    records: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "fact": self.fact,
            "concept": self.concept,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "records": list(self.records),
            "text": self.text,
        }


class CriterionResult(NamedTuple):
    """One criterion for one patient: outcome, reason in plain words, and the deciding records.

    For an exclusion, ``met`` means the exclusion applies. ``review`` outcomes are never counted as
    met; they are listed in ``TrialResult.to_confirm``. (A named tuple: immutable, and cheap to
    build a thousand times per patient.)
    """

    id: str
    kind: Literal["inclusion", "exclusion"]
    description: str
    source: str
    outcome: Outcome
    reason: str
    evidence: tuple[str, ...]
    missing: tuple[str, ...] = ()
    leaves_on: date | None = None
    must_stop: tuple[str, ...] = ()
    #: Set when ``outcome`` is ``review``: why, and so whether it keeps the trial from eligible.
    review_kind: ReviewKind | None = None
    #: The records behind ``evidence``, as data.
    records: tuple[RecordRef, ...] = ()
    #: ``missing`` as data.
    missing_facts: tuple[MissingFact, ...] = ()

    @property
    def blocks(self) -> bool:
        """True when this criterion alone makes the patient ineligible."""
        if self.kind == "inclusion":
            return self.outcome is Outcome.NOT_MET
        return self.outcome is Outcome.MET

    @property
    def passes(self) -> bool:
        """True when the criterion is decided in the patient's favour."""
        if self.kind == "inclusion":
            return self.outcome is Outcome.MET
        return self.outcome is Outcome.NOT_MET

    @property
    def passes_from(self) -> date | None:
        """For a criterion that blocks: the first day it would pass with no new data."""
        return self.leaves_on if self.blocks else None

    def as_dict(self) -> dict[str, Any]:
        passes_from = self.passes_from
        return {
            "id": self.id,
            "kind": self.kind,
            "description": self.description,
            "source": self.source,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "evidence": list(self.evidence),
            "missing": list(self.missing),
            "passes_from": passes_from.isoformat() if passes_from else None,
            "must_stop": list(self.must_stop) if passes_from else [],
            "review_kind": self.review_kind.value if self.review_kind else None,
            "records": [r.as_dict() for r in self.records],
            "missing_facts": [m.as_dict() for m in self.missing_facts],
        }


class ReviewItem(NamedTuple):
    """One item a person must confirm: which criterion, why, and whether it blocks ``eligible``.

    ``evidence`` lists the records that raised a ``flag`` (empty for a screening question).
    """

    criterion: str
    kind: ReviewKind
    blocks: bool
    note: str
    evidence: tuple[str, ...] = ()
    #: The records behind ``evidence``, as data.
    records: tuple[RecordRef, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion,
            "kind": self.kind.value,
            "blocks": self.blocks,
            "note": self.note,
            "evidence": list(self.evidence),
            "records": [r.as_dict() for r in self.records],
        }


class TrialResult(NamedTuple):
    """One trial for one patient (a named tuple, like ``CriterionResult``).

    A check may leave trials unexplained (``check(..., explain=...)``): then ``explained`` is
    false and ``criteria``, ``missing``, ``to_confirm`` and ``reviews`` are empty; the verdict,
    score and eligible-from date are always there.
    """

    trial: str
    title: str
    status: str
    verdict: Verdict
    score: float
    eligible_from: date | None
    must_stop: tuple[str, ...]
    criteria: tuple[CriterionResult, ...]
    missing: tuple[str, ...]
    #: The review items as text, flags first, then pending items, then screening questions.
    to_confirm: tuple[str, ...]
    #: The same items as data, in the same order.
    reviews: tuple[ReviewItem, ...] = ()
    #: ``missing`` as data.
    missing_facts: tuple[MissingFact, ...] = ()
    #: When the trial's criteria were last checked against the registry.
    last_reviewed: date | None = None
    #: False when the check did not build this trial's explanation.
    explained: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "title": self.title,
            "status": self.status,
            "verdict": self.verdict.value,
            "score": self.score,
            "eligible_from": self.eligible_from.isoformat() if self.eligible_from else None,
            "must_stop": list(self.must_stop),
            "criteria": [c.as_dict() for c in self.criteria],
            "missing": list(self.missing),
            "to_confirm": list(self.to_confirm),
            "reviews": [r.as_dict() for r in self.reviews],
            "missing_facts": [m.as_dict() for m in self.missing_facts],
            "last_reviewed": self.last_reviewed.isoformat() if self.last_reviewed else None,
            "explained": self.explained,
        }


class DataQualityNote(NamedTuple):
    """Something in the input that the result could not use as given: a skipped record, or one
    dated after the as-of day. ``path`` locates it (the FHIR path, or the profile's field path);
    ``note`` says what, never with a patient value."""

    section: str
    path: str
    #: A ``matcher.patient.model.SkipReason`` value, or ``future_dated``.
    issue: str
    note: str

    def as_dict(self) -> dict[str, Any]:
        return {"section": self.section, "path": self.path, "issue": self.issue, "note": self.note}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One patient against a set of trials, as of one date, by one engine."""

    patient: str
    as_of: date
    engine: str
    trials: tuple[TrialResult, ...]
    #: What the reader skipped and what is dated after ``as_of`` (see
    #: ``matcher.evaluation.coverage``).
    data_quality: tuple[DataQualityNote, ...] = ()
    #: ``sha256:...`` of the criteria checked: each trial file and the concept sets it uses.
    catalog_digest: str = ""
    #: The version of matcher that checked.
    matcher_version: str = VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "data_quality": [n.as_dict() for n in self.data_quality],
            "trials": [t.as_dict() for t in self.trials],
            "matcher_version": self.matcher_version,
            "catalog_digest": self.catalog_digest,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The JSON contract as text; byte-identical for identical input."""
        return json.dumps(self.as_dict(), indent=indent, ensure_ascii=False)

    def trial(self, trial_id: str) -> TrialResult:
        """The result for one trial id (``KeyError`` if the trial was not checked)."""
        for result in self.trials:
            if result.trial == trial_id:
                return result
        raise KeyError(trial_id)
