"""A profile that contradicts itself (issue 12.3): a male sex beside a positive pregnancy status.

FHIR input never refused such a patient: the sex becomes unknown, with a data-quality note. YAML
and JSON profiles, and patients built in code, now do the same, and are decided as the FHIR
Bundle holding the same facts is.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

import matcher
from matcher.core.dates import PartialDate
from matcher.core.errors import Diagnostic
from matcher.core.terms import Sex
from matcher.patient.fhir import patient_from_fhir
from matcher.patient.load import patient_from_text
from matcher.patient.model import Patient, PregnancyStatus, Skipped

AS_OF = date(2026, 11, 21)
PREGNANT = PregnancyStatus(pregnant=True, date=PartialDate(2026, 11, 1))
CONTRADICTION = Skipped(section="demographics", path="sex", reason="contradiction")
YAML = "id: p\nbirth_date: 1990-05-01\nsex: Male\npregnancy: {pregnant: true, date: 2026-11-01}\n"


@pytest.fixture(scope="module")
def trials() -> matcher.Catalog:
    return matcher.load_trials()


def fhir_patient() -> Patient:
    """The same facts as ``YAML``, as a FHIR Bundle: a male Patient and a positive pregnancy
    status (LOINC 82810-3, SNOMED CT 77386006 "pregnant")."""
    status = {
        "resourceType": "Observation",
        "status": "final",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3"}]},
        "valueCodeableConcept": {
            "coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]
        },
        "effectiveDateTime": "2026-11-01",
    }
    person = {"resourceType": "Patient", "id": "p", "gender": "male", "birthDate": "1990-05-01"}
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": person}, {"resource": status}],
    }
    return patient_from_fhir(bundle)


def test_a_yaml_profile_is_not_refused_and_its_sex_becomes_unknown() -> None:
    assert patient_from_text(YAML, source="p.yaml") == Patient(
        id="p",
        birth_date=PartialDate(1990, 5, 1),
        pregnancy=PREGNANT,
        skipped=(CONTRADICTION,),
    )


def test_a_json_profile_and_a_patient_built_in_code_read_the_same() -> None:
    data: dict[str, Any] = {
        "id": "p",
        "birth_date": "1990-05-01",
        "sex": "male",
        "pregnancy": {"pregnant": True, "date": "2026-11-01"},
    }
    expected = patient_from_text(YAML, source="p.yaml")
    assert patient_from_text(json.dumps(data), source="p.json") == expected
    assert (
        Patient(id="p", birth_date=PartialDate(1990, 5, 1), sex=Sex.MALE, pregnancy=PREGNANT)
        == expected
    )


def test_skipped_records_a_converter_listed_are_kept_beside_the_contradiction() -> None:
    listed = {"section": "medications", "path": "row 4", "reason": "unidentified"}
    text = YAML + f"skipped: [{json.dumps(listed)}]\n"
    assert patient_from_text(text, source="p.yaml").skipped == (
        Skipped(section="medications", path="row 4", reason="unidentified"),
        CONTRADICTION,
    )


@pytest.mark.parametrize(
    ("sex", "pregnancy", "kept"),
    [
        ("male", "{pregnant: false, date: 2026-11-01}", Sex.MALE),  # no contradiction
        ("female", "{pregnant: true, date: 2026-11-01}", Sex.FEMALE),
    ],
)
def test_consistent_profiles_keep_their_sex(sex: str, pregnancy: str, kept: Sex) -> None:
    patient = patient_from_text(f"id: p\nsex: {sex}\npregnancy: {pregnancy}\n", source="p.yaml")
    assert (patient.sex, patient.skipped) == (kept, ())


def test_an_unreadable_pregnancy_is_still_refused_where_it_is_written() -> None:
    with pytest.raises(matcher.PatientError) as caught:
        patient_from_text("id: p\nsex: male\npregnancy: {pregnant: perhaps}\n", source="p.yaml")
    assert caught.value.diagnostics == (
        Diagnostic(
            "invalid-value",
            "expected a valid boolean, unable to interpret input",
            "p.yaml",
            3,
            23,
            "pregnancy.pregnant",
        ),
    )


def test_the_result_reports_the_contradiction(trials: matcher.Catalog) -> None:
    checked = matcher.check(patient_from_text(YAML, source="p.yaml"), trials, as_of=AS_OF)
    assert [note.as_dict() for note in checked.data_quality] == [
        {
            "section": "demographics",
            "path": "sex",
            "issue": "contradiction",
            "note": "sex: contradicts another record",
        }
    ]
    (sex,) = (c for c in checked.trial("NCT06414356").criteria if c.id == "biological_sex")
    assert (sex.outcome.value, sex.reason, sex.missing) == (
        "unknown",
        "sex unknown: 1 demographic record was skipped: sex: contradicts another record",
        ("sex",),
    )


def test_a_profile_is_decided_as_the_fhir_bundle_with_the_same_facts(
    trials: matcher.Catalog,
) -> None:
    profile = matcher.check(patient_from_text(YAML, source="p.yaml"), trials, as_of=AS_OF)
    bundle = matcher.check(fhir_patient(), trials, as_of=AS_OF)

    def decided(result: matcher.CheckResult) -> list[tuple[str, str, list[tuple[str, str]]]]:
        return [
            (t.trial, t.verdict.value, [(c.id, c.outcome.value) for c in t.criteria])
            for t in result.trials
        ]

    assert decided(profile) == decided(bundle)
    # Only where the contradicting record sits differs: the profile's field, the Bundle's path.
    assert [n.path for n in profile.data_quality] == ["sex"]
    assert [n.path for n in bundle.data_quality] == ["entry[0].resource.gender"]
