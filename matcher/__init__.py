"""matcher: a clinical-trial eligibility engine.

Trial criteria are YAML files; a patient is a profile (YAML/JSON) or a FHIR R4 Bundle. For each
trial the engine says whether the patient is eligible, ineligible or undetermined, criterion by
criterion, with the records that decided each one, the facts that are missing, and the items a
clinician must confirm.

The layout is the architecture: two inputs, one evaluation, several outputs. Data flows one way,
and import-linter checks the direction (``[tool.importlinter]`` in pyproject.toml)::

    core        errors, located YAML/JSON reading, dates, codes, outcomes   (matcher.core)
    criteria    trial files -> validated models -> compiled rule trees      (matcher.criteria)
    patient     a profile or a FHIR R4 Bundle -> a Patient                  (matcher.patient.model)
    evaluation  patient + as-of date -> facts; engines decide the leaves;   (matcher.evaluation)
                criteria -> verdicts, scores, ranking, as results
    render      results -> text for people (JSON comes from ``as_dict``)    (matcher.render)
    api         the entry points below, re-exported here                    (matcher.api)
    cli, service, panel, importers: the applications built on the API       (matcher.cli, ...)

criteria and patient never import each other (the example patients in trial files aside); core
imports nothing of matcher. ``matcher.importers`` writes draft trial files from registry records
(``matcher import ctgov``), ``matcher.criteria.sites`` measures the distance from a patient to a
trial's recruiting sites (``matcher check --near``, the service's ``zipCode``), and
``matcher.panel`` screens whole panels (``matcher screen``).

Typical use::

    import datetime, matcher
    trials = matcher.load_trials()                      # the bundled catalog
    patient = matcher.load_patient("patient.yaml")      # or a FHIR Bundle .json
    result = matcher.check(patient, trials, as_of=datetime.date(2026, 11, 21))
    for trial in result.trials:
        print(trial.trial, trial.verdict, trial.score)
"""

import logging

from matcher.api import (
    Engine,
    check,
    get_engine,
    load_patient,
    load_trials,
    patient_from_data,
    patient_from_text,
    screen,
)
from matcher.core.errors import (
    CriteriaError,
    Diagnostic,
    EngineError,
    InputError,
    MatcherError,
    PatientError,
)
from matcher.core.outcome import Outcome, ReviewKind, Verdict
from matcher.core.version import VERSION
from matcher.criteria.compiler import Catalog, CompiledTrial
from matcher.evaluation.results import (
    CheckResult,
    CriterionResult,
    MissingFact,
    RecordRef,
    ReviewItem,
    TrialResult,
)
from matcher.patient.model import (
    Condition,
    LactationStatus,
    Medication,
    Observation,
    Patient,
    PregnancyStatus,
)

__all__ = [
    "Catalog",
    "CheckResult",
    "CompiledTrial",
    "Condition",
    "CriteriaError",
    "CriterionResult",
    "Diagnostic",
    "Engine",
    "EngineError",
    "InputError",
    "LactationStatus",
    "MatcherError",
    "Medication",
    "MissingFact",
    "Observation",
    "Outcome",
    "Patient",
    "PatientError",
    "PregnancyStatus",
    "RecordRef",
    "ReviewItem",
    "ReviewKind",
    "TrialResult",
    "Verdict",
    "check",
    "get_engine",
    "load_patient",
    "load_trials",
    "patient_from_data",
    "patient_from_text",
    "screen",
]

__version__ = VERSION

# A library only emits records; the application decides where they go (see matcher.api).
logging.getLogger(__name__).addHandler(logging.NullHandler())
