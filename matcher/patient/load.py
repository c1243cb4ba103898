"""Reading a patient: a profile (YAML/JSON) or a FHIR R4 Bundle or Patient, told apart here.

The public entry points are re-exported by ``matcher`` (``load_patient``, ``patient_from_text``,
``patient_from_data``); the panel reader uses them directly.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matcher.core.errors import Diagnostic, InputError, PatientError
from matcher.core.source import Document, SourceProblems, check_size, decode, parse_text, read_text
from matcher.core.validation import diagnostics_from_validation, kind_of
from matcher.patient.model import Patient

__all__ = ["load_patient", "patient_from_data", "patient_from_text"]

PathLike = str | os.PathLike[str]


def patient_from_data(
    data: Any, *, source: str = "<patient>", document: Document | None = None
) -> Patient:
    """A ``Patient`` from parsed JSON/YAML: a patient profile, or a FHIR R4 Bundle or Patient.

    Raises ``PatientError`` naming each invalid field.
    """
    if isinstance(data, dict) and "resourceType" in data:
        from matcher.patient.fhir import patient_from_fhir  # FHIR support loads only when needed

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
    doc = document or Document(source, data, private=True)
    try:
        patient = Patient.model_validate(data)
    except ValidationError as exc:
        raise PatientError(diagnostics_from_validation(exc, doc, Patient)) from None
    return patient.with_origin(source, {"birth_date": doc.locate(("birth_date",))})


def load_patient(path: PathLike) -> Patient:
    """Read a patient file: YAML or JSON patient profile, or a FHIR R4 Bundle (JSON)."""
    return patient_from_text(read_text(Path(path)), source=str(path))


def patient_from_text(text: str | bytes, *, source: str = "<patient>") -> Patient:
    """``load_patient`` for text already in memory (a request body, standard input); ``source``
    names it in error messages. Bytes are decoded as UTF-8; the size caps of files apply."""
    if not isinstance(text, str | bytes):
        raise InputError(
            Diagnostic(
                "invalid-argument",
                f"patient_from_text takes text (str) or bytes, not {type(text).__name__}",
                source,
            )
        )
    check_size(text, source)
    if isinstance(text, bytes):
        text = decode(text, source)
    try:
        document = parse_text(text, source, private=True)
    except SourceProblems as exc:
        raise PatientError(exc.diagnostics) from None
    return patient_from_data(document.data, source=source, document=document)
