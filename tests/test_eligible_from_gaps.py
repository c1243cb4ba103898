"""No eligible-from date on evidence the reader cannot vouch for (issue 12.2).

A trial that is ineligible only because of time gets the day it would open (``eligible_from``).
That day rests on the records read: the last dose of a drug, the onset of a diagnosis. When the
reader skipped a record that could be of the same concept, the skipped record may be a later
dose or a later onset, so no day may be promised: the trial stays ineligible, with no date. A
skipped record of another concept changes nothing. Each case runs under both engines
(``check_both``), and once from a FHIR Bundle through the real reader.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from helpers import TrialFolder, check_both, one_criterion_trial

import matcher
from matcher.evaluation.results import TrialResult
from matcher.patient.fhir import patient_from_fhir

pytest.importorskip("durable_rules_engine")

AS_OF = date(2026, 11, 21)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

NO_BENZODIAZEPINE = "medication: {concept: benzodiazepines, within: 12 months}"
LORAZEPAM = {
    "system": "rxnorm",
    "code": "197901",
    "display": "Lorazepam 1 MG Oral Tablet",
    "start": "2026-01-10",
    "end": "2026-03-01",
    "status": "completed",
}
NO_RECENT_EPILEPSY = "condition: {concept: epilepsy, status: ever, onset_within: 12 months}"
EPILEPSY = {"system": "icd10cm", "code": "G40.909", "display": "Epilepsy", "onset": "2026-06-01"}


def summary(result: TrialResult) -> tuple[Any, ...]:
    (criterion,) = result.criteria
    return (
        result.verdict.value,
        result.eligible_from,
        result.must_stop,
        criterion.outcome.value,
        criterion.reason,
    )


def skipped(section: str, **record: Any) -> dict[str, Any]:
    return {
        "section": section,
        "path": "entry[7].resource",
        "reason": "unreadable_status",
        **record,
    }


def test_a_past_drug_gives_the_day_its_window_closes(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, NO_BENZODIAZEPINE, kind="exclusion")
    assert summary(check_both(trial, {"medications": [LORAZEPAM]}, AS_OF)) == (
        "ineligible",
        date(2027, 3, 2),
        (),
        "met",
        "benzodiazepines used since 2025-11-21",
    )


@pytest.mark.parametrize(
    "gap",
    [
        # A record of the drug's class, and one that could be anything (no code, no name).
        skipped("medications", codes=[{"system": "rxnorm", "code": "197527"}]),
        skipped("medications", display="Clonazepam 0.5 MG"),
        skipped("medications", reason="unidentified"),
    ],
)
def test_a_skipped_record_of_the_drug_gives_no_eligible_from_date(
    folder: TrialFolder, gap: dict[str, Any]
) -> None:
    trial = one_criterion_trial(folder, NO_BENZODIAZEPINE, kind="exclusion")
    patient = {"medications": [LORAZEPAM], "skipped": [gap]}
    assert summary(check_both(trial, patient, AS_OF)) == (
        "ineligible",
        None,
        (),
        "met",
        "benzodiazepines used since 2025-11-21",
    )


def test_an_ongoing_drug_with_a_skipped_record_needs_no_stop_either(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, NO_BENZODIAZEPINE, kind="exclusion")
    ongoing = {**LORAZEPAM, "end": None, "status": "active"}
    without = summary(check_both(trial, {"medications": [ongoing]}, AS_OF))
    assert without[1:3] == (date(2027, 11, 22), ("Lorazepam 1 MG Oral Tablet (RxNorm 197901)",))
    gap = skipped("medications", display="Lorazepam 2 MG")
    assert summary(check_both(trial, {"medications": [ongoing], "skipped": [gap]}, AS_OF)) == (
        "ineligible",
        None,
        (),
        "met",
        "benzodiazepines used since 2025-11-21",
    )


@pytest.mark.parametrize(
    "gap",
    [
        # An RxNorm code no bundled set lists, a reading, a condition: none can be a
        # benzodiazepine.
        skipped("medications", codes=[{"system": "rxnorm", "code": "1007547"}]),
        skipped("observations", reason="no_value"),
        skipped("conditions", reason="unidentified"),
    ],
)
def test_a_skipped_record_of_something_else_keeps_the_date(
    folder: TrialFolder, gap: dict[str, Any]
) -> None:
    trial = one_criterion_trial(folder, NO_BENZODIAZEPINE, kind="exclusion")
    patient = {"medications": [LORAZEPAM], "skipped": [gap]}
    assert summary(check_both(trial, patient, AS_OF))[:3] == ("ineligible", date(2027, 3, 2), ())


def test_a_recent_diagnosis_with_a_skipped_condition_gives_no_date(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, NO_RECENT_EPILEPSY, kind="exclusion")
    plain = summary(check_both(trial, {"conditions": [EPILEPSY]}, AS_OF))
    assert plain == (
        "ineligible",
        date(2027, 6, 2),
        (),
        "met",
        "epilepsy beginning on or after 2025-11-21 on record",
    )
    gap = skipped("conditions", codes=[{"system": "icd10cm", "code": "G40.419"}])
    patient = {"conditions": [EPILEPSY], "skipped": [gap]}
    assert summary(check_both(trial, patient, AS_OF)) == ("ineligible", None, *plain[2:])
    other = skipped("conditions", codes=[{"system": "icd10cm", "code": "J45.909"}])
    patient = {"conditions": [EPILEPSY], "skipped": [other]}
    assert summary(check_both(trial, patient, AS_OF)) == plain


def test_a_fhir_order_with_an_unreadable_status_withholds_the_date(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, NO_BENZODIAZEPINE, kind="exclusion")

    def order(code: str, status: str, start: str, end: str) -> dict[str, Any]:
        return {
            "resourceType": "MedicationStatement",
            "status": status,
            "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]},
            "effectivePeriod": {"start": start, "end": end},
        }

    def decided(*statements: dict[str, Any]) -> tuple[Any, ...]:
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "p"}},
                *({"resource": s} for s in statements),
            ],
        }
        patient = patient_from_fhir(bundle)
        python = matcher.check(patient, [trial], as_of=AS_OF)
        durable = matcher.check(patient, [trial], as_of=AS_OF, engine="durable")
        assert python.trials == durable.trials
        return summary(python.trials[0])

    read = order("197901", "completed", "2026-01-10", "2026-03-01")
    assert decided(read)[:2] == ("ineligible", date(2027, 3, 2))
    # A second lorazepam statement whose status matcher cannot read: it is skipped, and it may
    # be use after March.
    unread = order("197901", "paused-for-now", "2026-05-01", "2026-09-30")
    assert decided(read, unread) == (
        "ineligible",
        None,
        (),
        "met",
        "benzodiazepines used since 2025-11-21",
    )


@pytest.mark.parametrize(
    ("rule", "record", "section"),
    [
        (NO_BENZODIAZEPINE, {"medications": [LORAZEPAM]}, "medications"),
        (NO_RECENT_EPILEPSY, {"conditions": [EPILEPSY]}, "conditions"),
    ],
)
def test_an_unreviewed_section_gives_no_date_from_the_records_it_lists(
    folder: TrialFolder, rule: str, record: dict[str, Any], section: str
) -> None:
    # A list the profile marks as not reviewed may leave out a later dose or onset: the met rule
    # stands, but no day can be promised. Another section left unreviewed keeps the date.
    trial = one_criterion_trial(folder, rule, kind="exclusion")
    plain = summary(check_both(trial, record, AS_OF))
    assert plain[0] == "ineligible" and plain[1] is not None
    unreviewed = summary(check_both(trial, {**record, "unreviewed": [section]}, AS_OF))
    assert unreviewed == ("ineligible", None, (), *plain[3:])
    other = "conditions" if section == "medications" else "medications"
    assert summary(check_both(trial, {**record, "unreviewed": [other]}, AS_OF)) == plain
