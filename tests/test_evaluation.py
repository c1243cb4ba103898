"""Evaluation semantics, one rule at a time: outcomes, reasons, evidence and missing facts.

Each test builds a one-criterion trial (with the test concept sets of conftest.py, plus the
bundled ones) and compares the whole criterion result.
"""

from __future__ import annotations

import textwrap
from datetime import date
from typing import Any

import pytest
from helpers import BASE_TRIAL, TrialFolder

import matcher
from matcher.evaluation.results import CriterionResult, TrialResult

AS_OF = date(2026, 11, 21)


def trial_with(
    folder: TrialFolder, rule: str, *, kind: str = "inclusion", review: str | None = None
) -> matcher.CompiledTrial:
    head = BASE_TRIAL.split("inclusion:\n")[0]
    body = textwrap.indent(rule.strip("\n"), " " * 6)
    text = (
        f"{head}{kind}:\n  - id: c\n    description: The criterion.\n"
        f"    source: test\n    rule:\n{body}\n"
    )
    if review:
        text += f"    review: {review}\n"
    (trial,) = matcher.load_trials(folder.write("NCT00000001.yaml", text))
    return trial


def run(trial: matcher.CompiledTrial, patient: dict[str, Any], as_of: date = AS_OF) -> TrialResult:
    return matcher.check(
        matcher.Patient.model_validate({"id": "p", **patient}), [trial], as_of=as_of
    ).trials[0]


def outcome(result: TrialResult) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    (criterion,) = result.criteria
    return (criterion.outcome.value, criterion.reason, criterion.evidence, criterion.missing)


KETAMINE = "medication: {concept: ketamine, within: 1 year}"


def ketamine_ended(days_ago: int) -> dict[str, Any]:
    end = date.fromordinal(AS_OF.toordinal() - days_ago)
    return {
        "medications": [
            {
                "system": "rxnorm",
                "code": "238084",
                "display": "ketamine 50 MG/ML Injectable Solution",
                "start": "2020-01-01",
                "end": end.isoformat(),
            }
        ]
    }


@pytest.mark.parametrize(
    ("days_ago", "expected"),
    [
        (364, "met"),
        (365, "met"),  # 2025-11-21 is the first day of "the past year" as of 2026-11-21
        (366, "not_met"),
    ],
)
def test_ketamine_window_edges(folder: TrialFolder, days_ago: int, expected: str) -> None:
    assert outcome(run(trial_with(folder, KETAMINE), ketamine_ended(days_ago)))[0] == expected


def test_ketamine_in_the_past_year_with_its_record(folder: TrialFolder) -> None:
    result = run(trial_with(folder, KETAMINE, kind="exclusion"), ketamine_ended(120))
    assert outcome(result) == (
        "met",
        "ketamine or esketamine used since 2025-11-21",
        (
            "ketamine 50 MG/ML Injectable Solution (RxNorm 238084), started 2020-01-01, "
            "ended 2026-07-24",
        ),
        (),
    )
    assert (result.verdict.value, result.eligible_from, result.must_stop) == (
        "ineligible",
        date(2027, 7, 25),
        (),
    )


def test_no_ketamine_on_record(folder: TrialFolder) -> None:
    assert outcome(run(trial_with(folder, KETAMINE), {})) == (
        "not_met",
        "no ketamine or esketamine on record since 2025-11-21",
        ("no ketamine or esketamine on record since 2025-11-21",),
        (),
    )


def test_unreviewed_medications_make_absence_unknown(folder: TrialFolder) -> None:
    assert outcome(run(trial_with(folder, KETAMINE), {"unreviewed": ["medications"]})) == (
        "unknown",
        "no ketamine or esketamine on record since 2025-11-21, but the medication list is not "
        "reviewed",
        ("no ketamine or esketamine on record since 2025-11-21 (medication list not reviewed)",),
        ("whether the patient used ketamine or esketamine since 2025-11-21",),
    )


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        # a stopped order without an end date: used at least on its start date
        ({"start": "2026-03-01", "status": "stopped"}, "met"),
        # stopped long ago without an end date: it may have run into the window
        ({"start": "2020-03-01", "status": "stopped"}, "unknown"),
        # on hold: may still be running
        ({"start": "2020-03-01", "status": "on_hold"}, "unknown"),
        # never taken
        ({"start": "2026-03-01", "status": "cancelled"}, "not_met"),
        ({"start": "2026-03-01", "status": "not_taken"}, "not_met"),
        # only the month is known, and the window starts inside that month
        ({"start": "2025-11", "end": "2025-11"}, "unknown"),
        ({"start": "2025-12", "end": "2025-12"}, "met"),
        # a record that starts after the as-of date is not use before it
        ({"start": "2026-12-01"}, "not_met"),
    ],
)
def test_medication_statuses_and_partial_dates(
    folder: TrialFolder, record: dict[str, Any], expected: str
) -> None:
    patient = {"medications": [{"display": "Ketamine 10 MG/ML Injectable Solution", **record}]}
    assert outcome(run(trial_with(folder, KETAMINE), patient))[0] == expected


def test_current_benzodiazepine_by_brand_name_and_eligible_from(folder: TrialFolder) -> None:
    trial = trial_with(
        folder, "medication: {concept: benzodiazepines, current: true}", kind="exclusion"
    )
    patient = {
        "medications": [
            {
                "system": "rxnorm",
                "code": "999999999",
                "display": "Klonopin 0.5 MG Oral Tablet",
                "start": "2026-01-03",
            }
        ]
    }
    result = run(trial, patient)
    assert outcome(result) == (
        "met",
        "benzodiazepines in use on 2026-11-21",
        ("Klonopin 0.5 MG Oral Tablet (RxNorm 999999999), started 2026-01-03, ongoing",),
        (),
    )
    assert (result.eligible_from, result.must_stop) == (
        date(2026, 11, 22),
        ("Klonopin 0.5 MG Oral Tablet (RxNorm 999999999)",),
    )


CHRONIC = "condition: {concept: test_condition, status: present, onset_at_least: 3 months}"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"onset": "2026-08-21"}, "met"),  # exactly 3 months before the as-of date
        ({"onset": "2026-08-22"}, "not_met"),
        ({"onset": "2026-08"}, "unknown"),  # some days of August are too recent
        ({"onset": "2026-07"}, "met"),
        ({}, "unknown"),  # onset not recorded
        ({"onset": "2020-01-01", "clinical_status": "resolved"}, "not_met"),
        ({"onset": "2020-01-01", "abatement": "2026-11-21"}, "not_met"),
        ({"onset": "2020-01-01", "abatement": "2026-11-22"}, "met"),
        ({"onset": "2020-01-01", "verification_status": "provisional"}, "unknown"),
        ({"onset": "2020-01-01", "verification_status": "refuted"}, "not_met"),
    ],
)
def test_condition_onset_status_and_verification(
    folder: TrialFolder, condition: dict[str, Any], expected: str
) -> None:
    patient = {"conditions": [{"system": "icd10cm", "code": "Z99.9", **condition}]}
    assert outcome(run(trial_with(folder, CHRONIC), patient))[0] == expected


def test_recent_onset_gives_a_date_from_which_it_is_old_enough(folder: TrialFolder) -> None:
    patient = {
        "conditions": [
            {"system": "icd10cm", "code": "Z999", "display": "Test", "onset": "2026-10-31"}
        ]
    }
    result = run(trial_with(folder, CHRONIC), patient)
    assert outcome(result) == (
        "not_met",
        "test condition on record only since 2026-10-31: less than 3 months before 2026-11-21",
        ("Test (ICD-10-CM Z99.9), onset 2026-10-31, active",),
        (),
    )
    assert result.eligible_from == date(2027, 1, 31)


@pytest.mark.parametrize(
    ("rule", "condition", "reason", "eligible_from"),
    [
        (  # "ever" does not care that it resolved: only the onset is too recent
            "condition: {concept: test_condition, status: ever, onset_at_least: 3 months}",
            {"onset": "2026-10-31", "abatement": "2026-11-10"},
            "test condition on record only since 2026-10-31: less than 3 months before 2026-11-21",
            date(2027, 1, 31),
        ),
        (  # began in the window, then resolved: not "began before"
            "condition: {concept: test_condition, status: present, onset_within: 1 year}",
            {"onset": "2026-03-01", "abatement": "2026-06-01"},
            "test condition on record, but no longer active",
            None,
        ),
        (
            "condition: {concept: test_condition, status: present, onset_within: 1 year}",
            {"onset": "2020-03-01"},
            "test condition on record, but it began before 2025-11-21",
            None,
        ),
        (
            "condition: {concept: test_condition, status: ever}",
            {"onset": "2027-01-01"},
            "test condition on record, but with an onset after 2026-11-21",
            None,
        ),
    ],
)
def test_a_condition_on_record_that_does_not_qualify_says_why(
    folder: TrialFolder,
    rule: str,
    condition: dict[str, Any],
    reason: str,
    eligible_from: date | None,
) -> None:
    patient = {"conditions": [{"system": "icd10cm", "code": "Z99.9", "display": "T", **condition}]}
    result = run(trial_with(folder, rule), patient)
    assert (outcome(result)[:2], result.eligible_from) == (("not_met", reason), eligible_from)


def test_icd10_hierarchy_and_dotless_codes(folder: TrialFolder) -> None:
    trial = trial_with(folder, "condition: {concept: crps_type_1, status: present}")
    for code in ("G90.511", "G90511", "g90.5"):
        patient = {"conditions": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]}
        assert outcome(run(trial, patient))[0] == "met", code
    other = {"conditions": [{"system": "icd10cm", "code": "G90.4"}]}
    assert outcome(run(trial, other))[0] == "not_met"


PAIN = "observation: {concept: pain_0_10, within: 30 days, min: 4, max: 7}"


def pain(*readings: tuple[Any, str]) -> dict[str, Any]:
    return {
        "observations": [
            {"system": "loinc", "code": "72514-3", "value": value, "unit": "{score}", "date": when}
            for value, when in readings
        ]
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3.9, "not_met"), (4, "met"), (7, "met"), (7.1, "not_met"), (3.6, "not_met")],
)
def test_pain_range_edges_compare_the_recorded_value(
    folder: TrialFolder, value: float, expected: str
) -> None:
    assert outcome(run(trial_with(folder, PAIN), pain((value, "2026-11-10"))))[0] == expected


def test_latest_pain_score_decides(folder: TrialFolder) -> None:
    result = run(trial_with(folder, PAIN), pain((8, "2026-10-25"), (5, "2026-11-15")))
    assert outcome(result) == (
        "met",
        "latest 0-10 pain score is 5 on 2026-11-15, within 4-7",
        ("LOINC 72514-3: 5 on 2026-11-15",),
        (),
    )


def test_no_recent_pain_score_is_unknown(folder: TrialFolder) -> None:
    assert outcome(run(trial_with(folder, PAIN), pain((5, "2026-10-01")))) == (
        "unknown",
        "no 0-10 pain score from 2026-10-22 to 2026-11-21",
        (
            "no 0-10 pain score from 2026-10-22 to 2026-11-21",
            "latest before 2026-10-22: LOINC 72514-3: 5 on 2026-10-01",
        ),
        ("a 0-10 pain score from 2026-10-22 to 2026-11-21",),
    )


def test_same_day_scores_that_disagree_are_unknown(folder: TrialFolder) -> None:
    result = run(trial_with(folder, PAIN), pain((5, "2026-11-15"), (9, "2026-11-15")))
    assert outcome(result) == (
        "unknown",
        "cannot tell which 0-10 pain score is the latest: readings of the same period disagree",
        ("LOINC 72514-3: 9 on 2026-11-15", "LOINC 72514-3: 5 on 2026-11-15"),
        ("a new 0-10 pain score: the readings around 2026-11-15 disagree",),
    )


def test_a_score_in_another_unit_cannot_decide(folder: TrialFolder) -> None:
    patient = {
        "observations": [
            {"system": "loinc", "code": "72514-3", "value": 5, "unit": "kg", "date": "2026-11-15"}
        ]
    }
    assert outcome(run(trial_with(folder, PAIN), patient))[0] == "unknown"


def test_vas_in_centimetres_is_converted(folder: TrialFolder) -> None:
    trial = trial_with(folder, "observation: {concept: pain_vas_100mm, within: 30 days, above: 50}")
    for value, unit, expected in ((6.2, "cm", "met"), (4.9, "cm", "not_met"), (62, "mm", "met")):
        patient = {
            "observations": [
                {
                    "system": "loinc",
                    "code": "38214-3",
                    "value": value,
                    "unit": unit,
                    "date": "2026-11-15",
                }
            ]
        }
        assert outcome(run(trial, patient))[0] == expected, (value, unit)


PREGNANT = "pregnant: {within: 30 days}"


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        ({"sex": "male", "birth_date": "1990-01-01"}, "not_met"),
        ({"sex": "female", "birth_date": "1990-01-01"}, "unknown"),
        ({"sex": "female", "birth_date": "1960-01-01"}, "not_met"),  # past childbearing age
        ({"birth_date": "1990-01-01"}, "unknown"),  # sex unknown
        (
            {
                "sex": "female",
                "birth_date": "1990-01-01",
                "pregnancy": {"pregnant": False, "date": "2026-11-01"},
            },
            "not_met",
        ),
        (
            {
                "sex": "female",
                "birth_date": "1990-01-01",
                "pregnancy": {"pregnant": True, "date": "2026-11-01"},
            },
            "met",
        ),
        (
            {
                "sex": "female",
                "birth_date": "1990-01-01",
                "pregnancy": {"pregnant": False, "date": "2026-01-01"},
            },
            "unknown",
        ),  # too old a test
    ],
)
def test_pregnancy(folder: TrialFolder, patient: dict[str, Any], expected: str) -> None:
    assert outcome(run(trial_with(folder, PREGNANT), patient))[0] == expected


@pytest.mark.parametrize(
    ("birth", "expected"),
    [("2008-11-21", "met"), ("2008-11-22", "not_met"), ("2008", "unknown"), (None, "unknown")],
)
def test_age_edges(folder: TrialFolder, birth: str | None, expected: str) -> None:
    patient = {"birth_date": birth} if birth else {}
    assert outcome(run(trial_with(folder, "age: {min: 18, max: 70}"), patient))[0] == expected


def test_too_young_becomes_eligible_on_the_birthday(folder: TrialFolder) -> None:
    result = run(trial_with(folder, "age: {min: 18, max: 70}"), {"birth_date": "2009-02-14"})
    assert (result.verdict.value, result.eligible_from) == ("ineligible", date(2027, 2, 14))


def test_any_all_not_follow_three_valued_logic(folder: TrialFolder) -> None:
    rule = """\
any:
  - age: {min: 18}
  - attribute: {name: military_status, in: [veteran]}
"""
    trial = trial_with(folder, rule)
    assert outcome(run(trial, {"birth_date": "1990-01-01"}))[0] == "met"  # met or unknown
    assert outcome(run(trial, {"birth_date": "2015-01-01"}))[0] == "unknown"  # not_met or unknown
    trial = trial_with(folder, rule.replace("any:", "all:"))
    assert outcome(run(trial, {"birth_date": "2015-01-01"}))[0] == "not_met"  # not_met and unknown
    assert outcome(run(trial, {"birth_date": "1990-01-01"}))[0] == "unknown"  # met and unknown


def test_a_rule_with_a_review_note_asks_for_confirmation_when_met(folder: TrialFolder) -> None:
    trial = trial_with(
        folder,
        "condition: {concept: test_condition, status: present}",
        kind="exclusion",
        review="confirm whether it is controlled",
    )
    met = run(trial, {"conditions": [{"system": "icd10cm", "code": "Z99.9", "display": "Test"}]})
    assert outcome(met) == (
        "review",
        "active test condition on record; to confirm: confirm whether it is controlled",
        ("Test (ICD-10-CM Z99.9), onset not recorded, active",),
        (),
    )
    # Raised by the patient's own record, it keeps the trial from eligible.
    assert (met.verdict.value, met.to_confirm) == (
        "undetermined",
        ("c: The criterion (Test (ICD-10-CM Z99.9), onset not recorded, active)",),
    )
    assert outcome(run(trial, {}))[0] == "not_met"


def test_a_deceased_patient_is_ineligible(folder: TrialFolder) -> None:
    trial = trial_with(folder, "age: {min: 18}")
    result = run(trial, {"birth_date": "1950-01-01", "deceased_date": "2020-05-01"})
    first: CriterionResult = result.criteria[0]
    assert (result.verdict.value, first.id, first.outcome.value, first.reason) == (
        "ineligible",
        "alive",
        "not_met",
        "patient died on 2020-05-01",
    )
    # evaluated before the death, the same patient is alive
    assert (
        run(
            trial,
            {"birth_date": "1950-01-01", "deceased_date": "2020-05-01"},
            as_of=date(2019, 1, 1),
        ).verdict.value
        == "eligible"
    )


def test_birth_after_the_as_of_date_is_a_patient_error(folder: TrialFolder) -> None:
    with pytest.raises(matcher.PatientError) as caught:
        run(trial_with(folder, "age: {min: 18}"), {"birth_date": "2027-01-01"})
    assert [(d.code, d.path, d.message) for d in caught.value.diagnostics] == [
        ("invalid-patient", "birth_date", "birth date is after the as-of date")
    ]
