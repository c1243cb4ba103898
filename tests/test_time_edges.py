"""Dates at the edges of time, under both engines: partial dates that cover the as-of day, records
dated after it, and a positive pregnancy recorded with a month only.

Each case checks one trial of one criterion and compares the whole trial result of the python
engine with an expected one; the durable engine must give the same result.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from helpers import TrialFolder, check_both, one_criterion_trial

import matcher
from matcher.evaluation.results import TrialResult

DURABLE = pytest.importorskip("durable_rules_engine")


def trial_with(folder: TrialFolder, rule: str, kind: str = "exclusion") -> matcher.CompiledTrial:
    return one_criterion_trial(folder, rule, kind=kind)


def both(trial: matcher.CompiledTrial, patient: dict[str, Any], as_of: date) -> TrialResult:
    return check_both(trial, patient, as_of)


def summary(result: TrialResult) -> tuple[Any, ...]:
    (criterion,) = result.criteria
    return (
        result.verdict.value,
        result.eligible_from,
        criterion.outcome.value,
        criterion.reason,
        criterion.evidence,
        criterion.missing,
    )


CURRENT_XANTHINE = "medication: {concept: xanthines, current: true}"


def theophylline(start: str) -> dict[str, Any]:
    return {
        "medications": [
            {"display": "theophylline 300 MG Oral Tablet", "start": start, "status": "completed"}
        ]
    }


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Started on the as-of day and completed without an end date: taken that day.
        ("2025-12-31", "met"),
        # Started some day in 2025 (the as-of day among them): every day of the year must agree.
        ("2025", "unknown"),
        ("2025-12", "unknown"),
        # Started before the as-of day and completed: it ended before it.
        ("2025-11", "not_met"),
        ("2025-12-30", "not_met"),
    ],
)
def test_a_partial_start_date_covering_the_as_of_day_gives_every_answer_it_stands_for(
    folder: TrialFolder, start: str, expected: str
) -> None:
    # Issue 19.3: a completed order started "2025" read as "not current" on 2025-12-31 while the
    # same order started on 2025-12-31 was current.
    trial = trial_with(folder, CURRENT_XANTHINE)
    assert summary(both(trial, theophylline(start), date(2025, 12, 31)))[2] == expected


def test_a_partial_start_date_covering_the_as_of_day_is_explained(folder: TrialFolder) -> None:
    trial = trial_with(folder, CURRENT_XANTHINE)
    assert summary(both(trial, theophylline("2025"), date(2025, 12, 31))) == (
        "undetermined",
        None,
        "unknown",
        "cannot tell from the record whether the patient currently uses theophylline or another"
        " xanthine",
        ("theophylline 300 MG Oral Tablet, started 2025, completed, end date not recorded",),
        ("whether the patient currently uses theophylline or another xanthine",),
    )


@pytest.mark.parametrize(
    ("onset", "status", "expected"),
    [
        # Resolved without an abatement date: resolved by the as-of day, whatever its onset.
        ("2025", "resolved", "not_met"),
        ("2025-12-31", "resolved", "not_met"),
        ("2025", None, "met"),  # active, and 2025 ends on the as-of day
        ("2025-12-31", "inactive", "not_met"),
        ("2025-12-31", None, "met"),
    ],
)
def test_a_partial_onset_covering_the_as_of_day(
    folder: TrialFolder, onset: str, status: str | None, expected: str
) -> None:
    record: dict[str, Any] = {"system": "icd10cm", "code": "G40.909", "onset": onset}
    if status:
        record["clinical_status"] = status
    trial = trial_with(folder, "condition: {concept: epilepsy, status: present}")
    assert summary(both(trial, {"conditions": [record]}, date(2025, 12, 31)))[2] == expected


CHRONIC = (
    "condition: {concept: chronic_neuropathic_pain, status: present, onset_at_least: 3 months}"
)


def test_a_diagnosis_dated_after_the_as_of_day_gives_no_eligible_from_date(
    folder: TrialFolder,
) -> None:
    # Issue 13.5: onset 2027-01-15 checked as of 2026-11-21 is not history. It used to give
    # "eligible from 2027-04-15", three months after a diagnosis that had not happened yet.
    trial = trial_with(folder, CHRONIC, kind="inclusion")
    patient = {
        "conditions": [
            {
                "system": "icd10cm",
                "code": "G50.0",
                "display": "Trigeminal neuralgia",
                "onset": "2027-01-15",
            }
        ]
    }
    assert summary(both(trial, patient, date(2026, 11, 21))) == (
        "ineligible",
        None,
        "not_met",
        "chronic neuropathic pain on record, but with an onset after 2026-11-21",
        ("Trigeminal neuralgia (ICD-10-CM G50.0), onset 2027-01-15, active",),
        (),
    )


def test_a_recent_diagnosis_still_gives_the_day_it_is_old_enough(folder: TrialFolder) -> None:
    trial = trial_with(folder, CHRONIC, kind="inclusion")
    patient = {"conditions": [{"system": "icd10cm", "code": "G50.0", "onset": "2026-10-02"}]}
    result = both(trial, patient, date(2026, 11, 21))
    assert (result.verdict.value, result.eligible_from) == ("ineligible", date(2027, 1, 2))


PREGNANT = "pregnant: {within: 30 days}"


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        # Issue 13.5: a woman of 57 recorded as pregnant "2026-11" passed the pregnancy
        # exclusion as past childbearing age; the month may hold the test of any day in it.
        ({"sex": "female", "birth_date": "1969-05-02"}, "unknown"),
        ({"sex": "female", "birth_date": "1990-05-02"}, "unknown"),
        ({"birth_date": "1969-05-02"}, "unknown"),
    ],
)
def test_a_positive_pregnancy_with_a_month_only_stands_for_every_day_of_it(
    folder: TrialFolder, patient: dict[str, Any], expected: str
) -> None:
    trial = trial_with(folder, PREGNANT)
    record = {**patient, "pregnancy": {"pregnant": True, "date": "2026-11"}}
    assert summary(both(trial, record, date(2026, 11, 21)))[2] == expected


def test_a_positive_pregnancy_with_a_month_only_is_explained(folder: TrialFolder) -> None:
    trial = trial_with(folder, PREGNANT)
    patient = {
        "sex": "female",
        "birth_date": "1969-05-02",
        "pregnancy": {"pregnant": True, "date": "2026-11"},
    }
    assert summary(both(trial, patient, date(2026, 11, 21))) == (
        "undetermined",
        None,
        "unknown",
        "recorded as pregnant in 2026-11: cannot tell whether between 2026-10-22 and 2026-11-21",
        ("recorded as pregnant in 2026-11",),
        ("pregnancy status recorded since 2026-10-22",),
    )


def test_a_negative_pregnancy_with_a_month_only_still_leaves_it_to_age_and_sex(
    folder: TrialFolder,
) -> None:
    trial = trial_with(folder, PREGNANT)
    patient = {
        "sex": "female",
        "birth_date": "1969-05-02",
        "pregnancy": {"pregnant": False, "date": "2026-11"},
    }
    assert summary(both(trial, patient, date(2026, 11, 21)))[2] == "not_met"
