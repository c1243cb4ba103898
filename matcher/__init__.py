"""matcher: a clinical-trial eligibility engine.

Trial criteria are YAML files; a patient is a profile (YAML/JSON) or a FHIR R4 Bundle. For each
trial the engine says whether the patient is eligible, ineligible or undetermined, criterion by
criterion, with the records that decided each one, the facts that are missing, and the items a
clinician must confirm.

The pipeline, one module per stage, data flowing one way::

    source      bytes -> plain data with line:column for every value        (matcher.source)
    schema      plain data -> validated criteria models                     (matcher.schema)
    compile     models + concept sets -> immutable, resolved rule trees     (matcher.compile)
    facts       patient + as-of date -> normalised, indexed records          (matcher.facts)
    engine      rule leaves decided on the facts                             (matcher.engines)
    evaluate    leaves -> criteria -> verdicts, scores, ranking              (matcher.evaluate)
    explain     results -> text for people (JSON comes from ``as_dict``)      (matcher.explain)

Beside the pipeline: ``matcher.importers`` writes draft trial files from registry records
(``matcher import ctgov``), and ``matcher.sites`` measures the distance from a patient to a
trial's recruiting sites (``matcher check --near``, the service's ``zipCode``).

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
    check,
    load_patient,
    load_trials,
    patient_from_data,
    patient_from_text,
    screen,
)
from matcher.compile import Catalog, CompiledTrial
from matcher.errors import (
    CriteriaError,
    Diagnostic,
    EngineError,
    InputError,
    MatcherError,
    PatientError,
)
from matcher.patient import (
    Condition,
    LactationStatus,
    Medication,
    Observation,
    Patient,
    PregnancyStatus,
)
from matcher.results import CheckResult, CriterionResult, ReviewItem, TrialResult
from matcher.schema import Outcome, ReviewKind, Verdict

__all__ = [
    "Catalog",
    "CheckResult",
    "CompiledTrial",
    "Condition",
    "CriteriaError",
    "CriterionResult",
    "Diagnostic",
    "EngineError",
    "InputError",
    "LactationStatus",
    "MatcherError",
    "Medication",
    "Observation",
    "Outcome",
    "Patient",
    "PatientError",
    "PregnancyStatus",
    "ReviewItem",
    "ReviewKind",
    "TrialResult",
    "Verdict",
    "check",
    "load_patient",
    "load_trials",
    "patient_from_data",
    "patient_from_text",
    "screen",
]

__version__ = "0.1.0"

# A library only emits records; the application decides where they go (see matcher.api).
logging.getLogger(__name__).addHandler(logging.NullHandler())
