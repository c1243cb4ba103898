"""The search parameters of the matching interfaces, read and checked, and the trials they select.

Both FHIR interfaces carry the same four string parameters (the CodeX IG's ``$match``
OperationDefinition: ``zipCode``, ``travelRadius``, ``phase``, ``recruitmentStatus``, each 0..1):
``POST /getClinicalTrial`` in a ``Parameters`` resource inside the patient Bundle (as the MITRE
service reads them), ``POST /ResearchStudy/$match`` as parameters of the operation. matcher adds
one of its own, ``asOf`` (a date, default today), because every evaluation has an as-of date.

How each is applied:

* ``phase``: one or more phases, comma-separated, in any of the usual spellings: the R4
  research-study-phase codes (``phase-2``, ``phase-1-phase-2``, ``early-phase-1``, ``n-a``),
  ClinicalTrials.gov's (``PHASE2``, ``EARLY_PHASE1``, ``NA``) or plain numbers (``2``, ``1/2``).
  A trial whose phase is one of them, or a combined phase (1/2) with one of them as a part, is
  kept. A trial without a phase is left out, since it cannot be shown to match.
* ``recruitmentStatus``: one or more statuses, comma-separated: matcher's (the criteria files'
  ``status``, e.g. ``recruiting``, ``not_yet_recruiting``; case, spaces and hyphens do not matter,
  so ClinicalTrials.gov's ``RECRUITING`` works) or R4 ``ResearchStudy.status`` codes (``active``
  selects recruiting and enrolling-by-invitation trials).
* ``zipCode`` and ``travelRadius`` (a US ZIP code; a positive distance in miles), with the code
  of ``matcher check --near``: the ZIP code's centroid (from the ``zipcodes`` package, the ``geo``
  extra) is the point, and only the trials with a recruiting site within the radius are kept
  (``matcher.criteria.sites``); a trial without sites is left out, since it cannot be shown to be
  near. A ZIP code the table does not know is an error. When the distance cannot be applied (no
  table installed, or only one of the two parameters), the trials are not filtered and the answer
  says so in an ``OperationOutcome`` entry (``search.mode = outcome``) rather than silently
  returning unfiltered trials as if they were near.

A value that cannot be read is an error naming the parameter, never echoing its value (a ZIP
code is the patient's).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from matcher import CompiledTrial, Diagnostic
from matcher.criteria.sites import KM_PER_MILE, PostcodesUnavailableError, within, zip_point

__all__ = [
    "PHASE_CODES",
    "STATUS_CODES",
    "ParameterError",
    "SearchParameters",
    "phase_code",
    "read_parameters",
]

#: matcher's recruitment status -> R4 ResearchStudy.status (http://hl7.org/fhir/R4/valueset-
#: research-study-status.html). Where R4 has no exact code the nearest is used, as the MITRE
#: service does: enrolling by invitation is ``active``, an unknown status ``in-review``.
STATUS_CODES: Final[Mapping[str, str]] = {
    "not_yet_recruiting": "approved",
    "recruiting": "active",
    "enrolling_by_invitation": "active",
    "active_not_recruiting": "closed-to-accrual",
    "suspended": "temporarily-closed-to-accrual",
    "terminated": "administratively-completed",
    "completed": "completed",
    "withdrawn": "withdrawn",
    "available": "active",
    "no_longer_available": "closed-to-accrual",
    "temporarily_not_available": "temporarily-closed-to-accrual",
    "approved_for_marketing": "completed",
    "withheld": "in-review",
    "unknown": "in-review",
}

#: The R4 research-study-phase codes, and the single phases each stands for.
PHASE_CODES: Final[Mapping[str, frozenset[str]]] = {
    "n-a": frozenset({"n-a"}),
    "early-phase-1": frozenset({"early-phase-1"}),
    "phase-1": frozenset({"phase-1"}),
    "phase-1-phase-2": frozenset({"phase-1", "phase-2"}),
    "phase-2": frozenset({"phase-2"}),
    "phase-2-phase-3": frozenset({"phase-2", "phase-3"}),
    "phase-3": frozenset({"phase-3"}),
    "phase-4": frozenset({"phase-4"}),
}

# Spellings with "phase", spaces, hyphens and underscores removed.
_PHASE_SPELLINGS: Final = {
    "na": "n-a",
    "n/a": "n-a",
    "notapplicable": "n-a",
    "0": "early-phase-1",
    "early1": "early-phase-1",
    "1": "phase-1",
    "12": "phase-1-phase-2",
    "1/2": "phase-1-phase-2",
    "2": "phase-2",
    "23": "phase-2-phase-3",
    "2/3": "phase-2-phase-3",
    "3": "phase-3",
    "4": "phase-4",
}

_ZIP: Final = re.compile(r"\d{5}(-\d{4})?")
_NAMES: Final = ("zipCode", "travelRadius", "phase", "recruitmentStatus", "asOf")


def phase_code(text: str) -> str | None:
    """The R4 research-study-phase code for a phase as written (``"2"``, ``"PHASE2"``,
    ``"phase-1-phase-2"``), or None when it is not one."""
    squeezed = re.sub(r"phase|[\s_\-]", "", text.lower())
    return _PHASE_SPELLINGS.get(squeezed)


class ParameterError(Exception):
    """Search parameters that cannot be read; ``diagnostics`` names each one."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


@dataclass(frozen=True, slots=True)
class SearchParameters:
    """The parameters of one request, read and checked."""

    as_of: date | None = None
    #: Single phases wanted (R4 codes); empty: any phase.
    phases: frozenset[str] = frozenset()
    #: matcher statuses wanted; empty: any status.
    statuses: frozenset[str] = frozenset()
    zip_code: str | None = None
    travel_radius: float | None = None
    #: The ZIP code's centroid, when the postcode table is installed and knows it.
    zip_point: tuple[float, float] | None = None
    given: tuple[str, ...] = field(default=())

    def select(self, trials: Iterable[CompiledTrial]) -> list[CompiledTrial]:
        """The trials that pass the phase and status filters, in catalog order."""
        return [t for t in trials if self._keeps(t)]

    def _keeps(self, trial: CompiledTrial) -> bool:
        if self.statuses and trial.status not in self.statuses:
            return False
        if self.phases:
            code = phase_code(trial.phase) if trial.phase else None
            if code is None or not (PHASE_CODES[code] & self.phases):
                return False
        return True

    @property
    def location_requested(self) -> bool:
        return self.zip_code is not None or self.travel_radius is not None

    def near(self, trials: Sequence[CompiledTrial]) -> tuple[list[CompiledTrial], list[str]]:
        """The trials within ``travelRadius`` of ``zipCode`` (all of them when the distance
        cannot be applied), and the notes that say what was done. No note repeats the ZIP code:
        it is the patient's."""
        if not self.location_requested:
            return list(trials), []
        if self.zip_code is None or self.travel_radius is None:
            given, missing = (
                ("zipCode", "travelRadius") if self.zip_code else ("travelRadius", "zipCode")
            )
            return list(trials), [
                f"{given} was read but not applied without {missing}: the trials are not "
                "filtered by distance"
            ]
        if self.zip_point is None:
            return list(trials), [
                "zipCode and travelRadius were read but not applied: the postcode table (the "
                "zipcodes package, matcher's 'geo' extra) is not installed, so the trials are "
                "not filtered by distance"
            ]
        kept = [t for t, _ in within(trials, self.zip_point, self.travel_radius * KM_PER_MILE)]
        notes = [
            f"kept the trials with a recruiting site within {self.travel_radius:g} miles of the "
            f"zipCode's centre: {len(trials) - len(kept)} of {len(trials)} left out"
        ]
        return kept, notes


def read_parameters(parameters: Iterable[Any], where: str) -> SearchParameters:
    """Read FHIR ``Parameters.parameter`` entries (other names are ignored, as the MITRE service
    ignores them). ``where`` is the FHIRPath of the list, for error messages."""
    values: dict[str, tuple[Any, str]] = {}
    problems: list[Diagnostic] = []
    for index, parameter in enumerate(parameters):
        path = f"{where}[{index}]"
        if not isinstance(parameter, dict):
            problems.append(_problem("not-a-mapping", "a parameter is an object", path))
            continue
        name = parameter.get("name")
        if name not in _NAMES:
            continue
        if name in values:
            problems.append(_problem("invalid-value", f"{name} is given more than once", path))
            continue
        value = next((v for k, v in parameter.items() if k.startswith("value")), None)
        values[name] = (value, path)
    found = SearchParameters(given=tuple(sorted(values)))
    changes: dict[str, Any] = {}
    for name, (value, path) in values.items():
        try:
            changes.update(_READERS[name](value))
        except ValueError as exc:
            problems.append(_problem("invalid-value", f"{name}: {exc}", path))
    if problems:
        raise ParameterError(problems)
    return SearchParameters(**{**_fields(found), **changes})


def _fields(found: SearchParameters) -> dict[str, Any]:
    return {name: getattr(found, name) for name in SearchParameters.__slots__}


def _problem(code: str, message: str, path: str) -> Diagnostic:
    return Diagnostic(code, message, "request body", 0, 0, path)


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected a non-empty valueString")
    return value


def _read_zip(value: Any) -> dict[str, Any]:
    text = _string(value).strip()
    if not _ZIP.fullmatch(text):
        raise ValueError("expected a US ZIP code (5 digits, or ZIP+4)")
    try:
        point = zip_point(text)
    except PostcodesUnavailableError:
        return {"zip_code": text}
    if point is None:
        raise ValueError("not a US ZIP code the postcode table knows")
    return {"zip_code": text, "zip_point": point}


def _read_radius(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        raise ValueError("expected a distance in miles")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError("expected a distance in miles") from None
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValueError("expected a positive distance in miles")
    return {"travel_radius": float(value)}


def _read_phase(value: Any) -> dict[str, Any]:
    wanted: set[str] = set()
    for token in _string(value).split(","):
        code = phase_code(token.strip())
        if code is None:
            raise ValueError(f"expected phases among {', '.join(PHASE_CODES)}")
        wanted |= PHASE_CODES[code]
    return {"phases": frozenset(wanted)}


def _read_status(value: Any) -> dict[str, Any]:
    wanted: set[str] = set()
    for token in _string(value).split(","):
        key = re.sub(r"[\s\-]+", "_", token.strip().lower())
        if key in STATUS_CODES:
            wanted.add(key)
            continue
        fhir = key.replace("_", "-")
        matches = {ours for ours, code in STATUS_CODES.items() if code == fhir}
        if not matches:
            raise ValueError(
                "expected statuses among "
                + ", ".join(sorted(set(STATUS_CODES) | set(STATUS_CODES.values())))
            )
        wanted |= matches
    return {"statuses": frozenset(wanted)}


def _read_as_of(value: Any) -> dict[str, Any]:
    if not isinstance(value, str):
        raise ValueError("expected a valueDate as YYYY-MM-DD")
    try:
        return {"as_of": date.fromisoformat(value)}
    except ValueError:
        raise ValueError("expected a valueDate as YYYY-MM-DD") from None


_READERS: Final = {
    "zipCode": _read_zip,
    "travelRadius": _read_radius,
    "phase": _read_phase,
    "recruitmentStatus": _read_status,
    "asOf": _read_as_of,
}
