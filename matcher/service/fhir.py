"""matcher's answers as FHIR R4: searchset Bundles of ResearchStudy, and OperationOutcomes.

This module only formats results the library recorded (``matcher.CheckResult``); it decides
nothing. The mapping:

**The searchset** (``searchset``): ``Bundle.type = searchset``, one entry per trial checked, in
matcher's rank order, ``total`` the number of trials. Each entry has ``fullUrl``
``<base>/ResearchStudy/<id>`` (the service answers it) and ``search``:

* ``mode = match``;
* ``score`` = matcher's score. It lies in one band per verdict (ineligible 0-0.24, undetermined
  0.25-0.74, eligible 0.75-1.0: README "Score and rank"), so the MITRE app's 0.75
  "high-likelihood" mark is reached by eligible trials only;
* the core ``match-grade`` extension (http://hl7.org/fhir/StructureDefinition/match-grade):

  ============  ==================  ==========================================================
  verdict       review items        grade, and why
  ============  ==================  ==========================================================
  eligible      none                ``certain``: every criterion was decided by the record
  eligible      screening only      ``probable``: the record fits, but questions asked of every
                                    patient at screening (consent, allergies) are still open
  undetermined  any                 ``possible``: a fact is missing, or a flag or pending item
                                    needs a person; nothing on record rules the patient out
  ineligible    any                 ``certainly-not``: a criterion fails on the record
  ============  ==================  ==========================================================

**The ResearchStudy** (``research_study``): ``id`` and ``identifier`` (system
``https://clinicaltrials.gov``) the registry id, ``title``, ``status`` (``STATUS_CODES``: the
criteria file's status mapped to R4 ``ResearchStudy.status``), ``phase`` (R4
research-study-phase codes; the text as written when it is not one), ``condition`` (text), the
``sponsor`` as a contained Organization, and the registry link as ``relatedArtifact``
(documentation). The criteria file's own status, finer than R4's, is kept in the extension
``https://matcher.example/fhir/StructureDefinition/recruitment-status`` (valueCode).

**matcher's answer** for the patient is the extension ``RESULT_EXTENSION``
(https://matcher.example/fhir/StructureDefinition/trial-match-result) on the ResearchStudy, a
complex extension whose parts mirror the JSON contract (README "JSON output"):

* ``verdict`` (valueCode eligible | ineligible | undetermined), ``asOf`` (valueDate),
  ``eligibleFrom`` (valueDate, 0..1), ``mustStop`` (valueString, 0..*);
* ``missing`` (valueString, 0..*): facts that would decide the unknown criteria;
* ``review`` (0..*): ``criterion``, ``kind`` (valueCode flag | pending | screening), ``blocks``
  (valueBoolean), ``note``, ``evidence`` (valueString, 0..*), ``record`` (valueReference, 0..*);
* ``criterion`` (0..*): ``id``, ``kind`` (inclusion | exclusion), ``description``, ``source``,
  ``outcome`` (met | not_met | unknown | review), ``reason``, ``evidence`` and ``missing``
  (valueString, 0..*), ``record`` (valueReference, 0..*), ``passesFrom`` (valueDate),
  ``reviewKind`` (valueCode).

Evidence is the library's text for each deciding record; ``record`` points at the patient's
resources that decided (``Condition/abc``: the records' ``source``, see ``matcher.RecordRef``),
each once. A resource without an id in the request cannot be referenced and has its evidence
text only; nor have facts of the Patient itself (birth date, sex), whose resource is the subject.

**Errors** (``operation_outcome``): one issue per diagnostic, ``severity = error``, ``code`` an
R4 issue-type, ``details.coding`` the library's stable diagnostic code (system
``DIAGNOSTIC_SYSTEM``), ``diagnostics`` its message and ``expression`` its path. Messages name
fields and positions only, never a patient value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from matcher import (
    CheckResult,
    CompiledTrial,
    CriterionResult,
    Diagnostic,
    RecordRef,
    ReviewItem,
    ReviewKind,
    TrialResult,
    Verdict,
)
from matcher.service.search import STATUS_CODES, phase_code

__all__ = [
    "DIAGNOSTIC_SYSTEM",
    "MATCH_GRADE",
    "RESULT_EXTENSION",
    "match_grade",
    "operation_outcome",
    "research_study",
    "searchset",
]

EXTENSION_BASE: Final = "https://matcher.example/fhir/StructureDefinition/"
RESULT_EXTENSION: Final = EXTENSION_BASE + "trial-match-result"
STATUS_EXTENSION: Final = EXTENSION_BASE + "recruitment-status"
MATCH_GRADE: Final = "http://hl7.org/fhir/StructureDefinition/match-grade"
DIAGNOSTIC_SYSTEM: Final = "https://matcher.example/fhir/CodeSystem/diagnostic"
REGISTRY_SYSTEM: Final = "https://clinicaltrials.gov"
PHASE_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/research-study-phase"

#: Library diagnostic code -> R4 issue-type (http://hl7.org/fhir/R4/valueset-issue-type.html).
_ISSUE_TYPES: Final[Mapping[str, str]] = {
    "json-syntax": "structure",
    "not-utf8": "structure",
    "yaml-too-complex": "too-costly",
    "duplicate-key": "structure",
    "not-a-mapping": "structure",
    "not-fhir": "structure",
    "missing-key": "required",
    "unknown-key": "structure",
    "body-too-large": "too-costly",
    "unauthorized": "security",
    "timeout": "timeout",
    "not-found": "not-found",
    "unknown-trial": "not-found",
    "internal-error": "exception",
    "not-ready": "transient",
}


def match_grade(result: TrialResult) -> str:
    """The core match-grade code for one trial result (the table in the module docstring)."""
    if result.verdict is Verdict.INELIGIBLE:
        return "certainly-not"
    if result.verdict is Verdict.UNDETERMINED:
        return "possible"
    return "probable" if result.reviews else "certain"


def research_study(trial: CompiledTrial) -> dict[str, Any]:
    """The trial as a ResearchStudy, with nothing about any patient."""
    study: dict[str, Any] = {
        "resourceType": "ResearchStudy",
        "id": trial.id,
        "contained": [{"resourceType": "Organization", "id": "sponsor", "name": trial.sponsor}],
        "extension": [{"url": STATUS_EXTENSION, "valueCode": trial.status}],
        "identifier": [{"system": REGISTRY_SYSTEM, "value": trial.id}],
        "title": trial.title,
        "status": STATUS_CODES[trial.status],
    }
    if trial.phase:
        code = phase_code(trial.phase)
        if code is None:
            study["phase"] = {"text": trial.phase}
        else:
            display = code.replace("-", " ")
            study["phase"] = {
                "coding": [{"system": PHASE_SYSTEM, "code": code, "display": display}],
                "text": display,
            }
    if trial.conditions:
        study["condition"] = [{"text": name} for name in trial.conditions]
    study["relatedArtifact"] = [
        {"type": "documentation", "label": "registry record", "url": trial.registry_url}
    ]
    study["sponsor"] = {"reference": "#sponsor", "display": trial.sponsor}
    return study


def searchset(
    result: CheckResult,
    studies: Mapping[str, Mapping[str, Any]],
    *,
    base_url: str,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """The searchset Bundle for one check; ``notes`` become one informational OperationOutcome
    entry (``search.mode = outcome``), e.g. a parameter accepted but not applied.

    ``studies`` holds each trial's :func:`research_study`, built once per catalog (the service's
    ``Snapshot.studies``): each entry's ResearchStudy is a shallow copy with matcher's answer
    added to its extensions, so the parts about the trial are shared between answers and must
    not be changed (they are only serialised).
    """
    base = base_url.rstrip("/")
    as_of = {"url": "asOf", "valueDate": result.as_of.isoformat()}
    entries: list[dict[str, Any]] = []
    for trial_result in result.trials:
        trial = trial_result.trial
        known = studies[trial]
        study = {
            **known,
            "extension": [*known["extension"], _result_extension(trial_result, as_of)],
        }
        entries.append(
            {
                "fullUrl": f"{base}/ResearchStudy/{trial}",
                "resource": study,
                "search": {
                    "extension": [{"url": MATCH_GRADE, "valueCode": match_grade(trial_result)}],
                    "mode": "match",
                    "score": trial_result.score,
                },
            }
        )
    if notes:
        outcome = {
            "resourceType": "OperationOutcome",
            "issue": [
                {"severity": "information", "code": "informational", "diagnostics": note}
                for note in notes
            ],
        }
        entries.append({"resource": outcome, "search": {"mode": "outcome"}})
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(result.trials),
        "entry": entries,
    }


def operation_outcome(diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """An OperationOutcome with one error issue per diagnostic."""
    issues = []
    for diagnostic in diagnostics:
        issue: dict[str, Any] = {
            "severity": "error",
            "code": _ISSUE_TYPES.get(diagnostic.code, "invalid"),
            "details": {"coding": [{"system": DIAGNOSTIC_SYSTEM, "code": diagnostic.code}]},
            "diagnostics": _located(diagnostic),
        }
        if diagnostic.path:
            issue["expression"] = [diagnostic.path]
        issues.append(issue)
    return {"resourceType": "OperationOutcome", "issue": issues}


def _located(diagnostic: Diagnostic) -> str:
    if diagnostic.line:
        return f"{diagnostic.message} (line {diagnostic.line}, column {diagnostic.column})"
    return diagnostic.message


# --- the result extension ----------------------------------------------------------------------


# The library's codes are StrEnum members: they are strings, and serialise as their values, so
# they go into the answer as they are (``.value`` is a slow descriptor in Python 3.11).


def _result_extension(trial: TrialResult, as_of: dict[str, Any]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "verdict", "valueCode": trial.verdict}, as_of]
    if trial.eligible_from is not None:
        parts.append({"url": "eligibleFrom", "valueDate": trial.eligible_from.isoformat()})
    parts += [{"url": "mustStop", "valueString": v} for v in trial.must_stop if v]
    parts += [{"url": "missing", "valueString": v} for v in trial.missing if v]
    parts += [_review(review) for review in trial.reviews]
    parts += [_criterion(criterion) for criterion in trial.criteria]
    return {"url": RESULT_EXTENSION, "extension": parts}


def _review(review: ReviewItem) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "criterion", "valueString": review.criterion},
        {"url": "kind", "valueCode": review.kind},
        {"url": "blocks", "valueBoolean": review.blocks},
        {"url": "note", "valueString": review.note},
    ]
    parts += [{"url": "evidence", "valueString": v} for v in review.evidence if v]
    if review.records:
        parts += _references(review.records)
    return {"url": "review", "extension": parts}


def _criterion(criterion: CriterionResult) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"url": "id", "valueString": criterion.id},
        {"url": "kind", "valueCode": criterion.kind},
        {"url": "description", "valueString": criterion.description},
        {"url": "source", "valueString": criterion.source},
        {"url": "outcome", "valueCode": criterion.outcome},
        {"url": "reason", "valueString": criterion.reason},
    ]
    if criterion.evidence:
        parts += [{"url": "evidence", "valueString": v} for v in criterion.evidence if v]
    if criterion.missing:
        parts += [{"url": "missing", "valueString": v} for v in criterion.missing if v]
    if criterion.records:
        parts += _references(criterion.records)
    if criterion.leaves_on is not None:
        passes_from = criterion.passes_from
        if passes_from is not None:
            parts.append({"url": "passesFrom", "valueDate": passes_from.isoformat()})
    kind: ReviewKind | None = criterion.review_kind
    if kind is not None:
        parts.append({"url": "reviewKind", "valueCode": kind})
    return {"url": "criterion", "extension": parts}


#: A FHIR relative reference: ``Type/id`` (R4 ``id``: 1-64 letters, digits, ``-`` and ``.``).
_REFERENCE: Final = re.compile(r"[A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64}")


def _references(records: Iterable[RecordRef]) -> list[dict[str, Any]]:
    """``record`` parts: the resources that decided, each once, in the order cited."""
    sources = dict.fromkeys(
        r.source for r in records if r.source and _REFERENCE.fullmatch(r.source)
    )
    return [{"url": "record", "valueReference": {"reference": s}} for s in sources if s]
