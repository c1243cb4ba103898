"""The library's entry points: load trials, load a patient, check one against the other.

Logging goes to the ``matcher`` logger: INFO when a catalog is loaded (counts of trials, concept
sets and problems), DEBUG for each check (trials, engine, as-of date, time taken). No record ever
holds a patient value -- not the id, a date, a code, a name or a measurement.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matcher.bundled import bundled_catalog_dir
from matcher.compile import Catalog, CompiledTrial, load_catalog
from matcher.engines import get_engine
from matcher.errors import Diagnostic, InputError, PatientError
from matcher.evaluate import check_facts, prepare
from matcher.patient import Patient
from matcher.results import CheckResult
from matcher.source import Document, SourceProblems, parse_text, read_text
from matcher.validation import diagnostics_from_validation, kind_of

__all__ = ["check", "load_patient", "load_trials", "patient_from_data", "patient_from_text"]

PathLike = str | os.PathLike[str]

_log = logging.getLogger("matcher")


def load_trials(*paths: PathLike, strict: bool = True) -> Catalog:
    """Load and compile trial files (or folders of them); no path means the bundled catalog.

    With ``strict`` (the default) any invalid file raises ``CriteriaError`` listing every problem;
    with ``strict=False`` the valid files load and the problems are in ``Catalog.problems``.
    """
    started = time.perf_counter()
    folders = [Path(p) for p in paths] or [bundled_catalog_dir()]
    for folder in folders:
        if not folder.exists():
            raise InputError(Diagnostic("file-unreadable", "no such file or folder", str(folder)))
    catalog = load_catalog(folders, strict=strict)
    _log.info(
        "loaded %d trial(s) and %d concept set(s) from %s with %d problem(s) in %.1f ms",
        len(catalog.trials),
        len(catalog.concepts.sets),
        ", ".join(str(folder) for folder in folders),
        len(catalog.problems),
        (time.perf_counter() - started) * 1000,
    )
    return catalog


def patient_from_data(
    data: Any, *, source: str = "<patient>", document: Document | None = None
) -> Patient:
    """A ``Patient`` from parsed JSON/YAML: a patient profile, or a FHIR R4 Bundle or Patient.

    Raises ``PatientError`` naming each invalid field.
    """
    if isinstance(data, dict) and "resourceType" in data:
        from matcher.fhir import patient_from_fhir  # FHIR support loads only when needed

        return patient_from_fhir(data, source=source)
    if not isinstance(data, dict):
        raise PatientError(
            [
                Diagnostic(
                    "not-a-mapping",
                    f"a patient file holds a mapping of fields, not {kind_of(data)}",
                    source,
                    1 if document else 0,
                    1 if document else 0,
                )
            ]
        )
    try:
        return Patient.model_validate(data)
    except ValidationError as exc:
        doc = document or Document(source, data)
        raise PatientError(diagnostics_from_validation(exc, doc, Patient)) from None


def load_patient(path: PathLike) -> Patient:
    """Read a patient file: YAML or JSON patient profile, or a FHIR R4 Bundle (JSON)."""
    return patient_from_text(read_text(Path(path)), source=str(path))


def patient_from_text(text: str, *, source: str = "<patient>") -> Patient:
    """``load_patient`` for text already in memory (a request body, standard input); ``source``
    names it in error messages."""
    try:
        document = parse_text(text, source)
    except SourceProblems as exc:
        raise PatientError(exc.diagnostics) from None
    return patient_from_data(document.data, source=source, document=document)


def check(
    patient: Patient,
    trials: Catalog | Iterable[CompiledTrial],
    *,
    as_of: date | None = None,
    engine: str = "python",
) -> CheckResult:
    """Evaluate ``patient`` against ``trials`` as of ``as_of`` (default: today).

    Returns the trials ranked, each with its verdict, score and per-criterion outcomes. Raises
    ``PatientError`` if the patient contradicts the date (born after it, older than 150) and
    ``EngineError`` if the engine is not available. Safe to call from many threads.
    """
    started = time.perf_counter()
    day = as_of if as_of is not None else date.today()
    selected = trials.trials if isinstance(trials, Catalog) else tuple(trials)
    criteria = trials.criteria if isinstance(trials, Catalog) else None
    facts = prepare(patient, day)
    result = check_facts(facts, selected, get_engine(engine), criteria)
    _log.debug(
        "checked %d trial(s) with the %s engine as of %s in %.1f ms",
        len(selected),
        engine,
        day,
        (time.perf_counter() - started) * 1000,
    )
    return result
