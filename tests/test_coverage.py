"""Coverage accounting (issue 12.2) and the FHIR reading it rests on (12.3, 19.2, 13.5).

Every record of the input is read, or listed in ``Patient.skipped`` with its section, path and
reason; a skipped record that could belong to a concept set makes "no X on record" unknown, and
the result lists it under ``data_quality``. Bundles are built in code from small resources; the
real public files are in ``tests/test_fhir_corpus.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

import matcher
from matcher.core.dates import PartialDate
from matcher.core.errors import PatientError
from matcher.patient.fhir import patient_from_fhir
from matcher.patient.model import Medication, Observation, Skipped
from matcher.render.text import render_check

AS_OF = date(2026, 11, 21)
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"
PATIENT = {
    "resourceType": "Patient",
    "id": "p",
    "gender": "female",
    "birthDate": "1974-01-17",
}


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (PATIENT, *resources)],
    }


def condition(code: str, **more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": ICD10CM, "code": code}]},
        "onsetDateTime": "2020-01-01",
        **more,
    }


@pytest.fixture(scope="module")
def trials() -> matcher.Catalog:
    return matcher.load_trials()


def criterion(result: matcher.CheckResult, trial: str, ident: str) -> tuple[str, str, list[str]]:
    found = next(c for c in result.trial(trial).criteria if c.id == ident)
    return found.outcome.value, found.reason, list(found.missing)


# --- skipped records make absence unknown --------------------------------------------------------


def test_an_uncoded_condition_makes_no_epilepsy_unknown(trials: matcher.Catalog) -> None:
    uncoded = {"resourceType": "Condition", "onsetDateTime": "2020"}
    patient = patient_from_fhir(bundle(uncoded))
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert criterion(result, "NCT04650074", "epilepsy") == (
        "unknown",
        "no epilepsy on record, but 1 condition record was skipped: "
        "entry[1].resource (Condition): no readable code or name",
        ["whether the patient ever had epilepsy"],
    )
    assert result.as_dict()["data_quality"] == [
        {
            "section": "conditions",
            "path": "entry[1].resource",
            "issue": "unidentified",
            "note": "entry[1].resource (Condition): no readable code or name",
        }
    ]


def test_a_coded_skip_touches_only_its_concept_sets(trials: matcher.Catalog) -> None:
    other = {"subject": {"reference": "Patient/someone-else"}}
    patient = patient_from_fhir(
        bundle(condition("G40.909", **other), condition("J45.909", **other))
    )
    assert [(s.reason, s.path) for s in patient.skipped] == [
        ("other_subject", "entry[1].resource"),
        ("other_subject", "entry[2].resource"),
    ]
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert criterion(result, "NCT04650074", "epilepsy") == (
        "unknown",
        "no epilepsy on record, but 1 condition record was skipped: "
        "entry[1].resource (Condition): about another patient",
        ["whether the patient ever had epilepsy"],
    )
    assert criterion(result, "NCT04650074", "porphyria") == (
        "not_met",
        "no porphyria on record",
        [],
    )


def test_subject_references_that_name_this_patient() -> None:
    full_url = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": "urn:uuid:1", "resource": PATIENT},
            {"resource": condition("G40.909", subject={"reference": "urn:uuid:1"})},
            {"resource": condition("G40.909", subject={"reference": "https://x.org/Patient/p"})},
            {"resource": condition("G40.909", subject={"display": "the patient"})},
            {"resource": condition("G40.909", subject={"reference": "Patient/p/_history/2"})},
            {"resource": condition("G40.909", subject={"reference": "Group/g"})},
            {"resource": condition("G40.909", subject={"reference": "urn:uuid:2"})},
        ],
    }
    patient = patient_from_fhir(full_url)
    assert (len(patient.conditions), [s.path for s in patient.skipped]) == (
        4,
        ["entry[5].resource", "entry[6].resource"],
    )


def test_a_skipped_drug_makes_no_benzodiazepine_unknown(trials: matcher.Catalog) -> None:
    request = {
        "resourceType": "MedicationRequest",
        "status": "paused",
        "intent": "order",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2598"}]},
    }
    patient = patient_from_fhir(bundle(request))
    assert patient.skipped == (
        Skipped(
            section="medications",
            path="entry[1].resource",
            reason="unreadable_status",
            resource="MedicationRequest",
            codes=({"system": "rxnorm", "code": "2598"},),  # type: ignore[arg-type]
        ),
    )
    result = matcher.check(patient, trials, as_of=AS_OF)
    outcome, reason, _ = criterion(result, "NCT06414356", "current_benzodiazepines")
    assert (outcome, reason) == (
        "unknown",
        "no current benzodiazepines on record, but 1 medication record was skipped: "
        "entry[1].resource (MedicationRequest): a status matcher cannot read",
    )


def test_unmapped_types_and_an_unreadable_intent_are_skipped_where_they_matter(
    trials: matcher.Catalog,
) -> None:
    vaccine = {
        "resourceType": "Immunization",
        "status": "completed",
        "patient": {"reference": "Patient/p"},
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}]},
        "occurrenceDateTime": "2026-10-01",
    }
    answers = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "subject": {"reference": "Patient/p"},
    }
    patient = patient_from_fhir(bundle(vaccine, answers))
    assert [(s.section, s.reason.value, s.resource) for s in patient.skipped] == [
        ("medications", "unmapped_type", "Immunization"),
        ("observations", "unmapped_type", "QuestionnaireResponse"),
    ]
    result = matcher.check(patient, trials, as_of=AS_OF)
    # A vaccine code is no benzodiazepine; answers to a questionnaire may be a pain score.
    assert criterion(result, "NCT06414356", "current_benzodiazepines")[:2] == (
        "not_met",
        "no current benzodiazepines on record",
    )
    assert criterion(result, "NCT04650074", "vas_above_50")[:2] == (
        "unknown",
        "no 0-100 mm pain VAS from 2026-10-22 to 2026-11-21; also, 1 observation record was "
        "skipped: entry[2].resource (QuestionnaireResponse): a resource type matcher does not read",
    )
    standing = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "standing-order",  # not an R4 intent
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2598"}]},
    }
    patient = patient_from_fhir(bundle(standing))
    assert [(s.reason.value, s.path) for s in patient.skipped] == [
        ("unreadable_status", "entry[1].resource")
    ]
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert criterion(result, "NCT06414356", "current_benzodiazepines")[0] == "unknown"


def test_a_skipped_pain_score_keeps_an_older_one_from_deciding(trials: matcher.Catalog) -> None:
    def vas(value: float, day: str, status: str) -> dict[str, Any]:
        return {
            "resourceType": "Observation",
            "status": status,
            "code": {"coding": [{"system": LOINC, "code": "38214-3"}]},
            "effectiveDateTime": day,
            "valueQuantity": {"value": value, "unit": "mm", "system": "http://unitsofmeasure.org"},
        }

    alone = patient_from_fhir(bundle(vas(68, "2026-11-10", "final")))
    later = patient_from_fhir(
        bundle(vas(68, "2026-11-10", "final"), vas(20, "2026-11-18", "preliminary"))
    )
    assert criterion(matcher.check(alone, trials, as_of=AS_OF), "NCT04650074", "vas_above_50")[
        0
    ] == ("met")
    assert criterion(matcher.check(later, trials, as_of=AS_OF), "NCT04650074", "vas_above_50") == (
        "unknown",
        "latest 0-100 mm pain VAS is 68 mm on 2026-11-10, above "
        "50 mm, but 1 observation record was skipped: entry[2].resource (Observation): no "
        "final result yet",
        ["a readable 0-100 mm pain VAS from 2026-10-22 to 2026-11-21"],
    )


def test_the_text_report_lists_the_data_quality_notes(trials: matcher.Catalog) -> None:
    patient = patient_from_fhir(bundle({"resourceType": "Condition"}))
    text = render_check(matcher.check(patient, trials, as_of=AS_OF))
    head = text.split("\n\n")[1]
    assert head == (
        "Data quality\n  conditions: entry[1].resource (Condition): no readable code or name"
    )


def test_a_profile_may_list_what_its_converter_skipped(trials: matcher.Catalog) -> None:
    patient = matcher.patient_from_text(
        "id: p\nskipped:\n  - {section: conditions, path: 'row 12', reason: unidentified}\n"
    )
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert criterion(result, "NCT04650074", "epilepsy")[:2] == (
        "unknown",
        "no epilepsy on record, but 1 condition record was skipped: row 12: no readable code or "
        "name",
    )


def test_a_profile_record_without_code_or_name_is_refused() -> None:
    with pytest.raises(PatientError) as caught:
        matcher.patient_from_text("id: p\nconditions:\n  - {onset: 2020-01-01}\n")
    assert [(d.code, d.path) for d in caught.value.diagnostics] == [
        ("invalid-value", "conditions[0]")
    ]


def test_records_dated_after_the_as_of_day_are_reported(trials: matcher.Catalog) -> None:
    patient = patient_from_fhir(bundle(condition("G40.909", onsetDateTime="2027-02")))
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert [n.as_dict() for n in result.data_quality] == [
        {
            "section": "conditions",
            "path": "entry[1].resource",
            "issue": "future_dated",
            "note": "entry[1].resource: its onset is after the as-of date",
        }
    ]
    assert matcher.check(patient, trials, as_of=date(2027, 3, 1)).data_quality == ()


# --- medication use from dispenses and administrations -------------------------------------------


def test_dispense_and_administration_are_medication_use() -> None:
    dispense = {
        "resourceType": "MedicationDispense",
        "status": "completed",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "2598"}]},
        "whenHandedOver": "2026-11-01T10:00:00Z",
        "daysSupply": {"value": 30, "unit": "Day", "system": "http://unitsofmeasure.org"},
    }
    open_dispense = {**dispense, "daysSupply": None, "whenHandedOver": "2026-10-01"}
    prepared = {**dispense, "status": "in-progress"}
    given = {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "subject": {"reference": "Patient/p"},
        "medicationCodeableConcept": {"text": "midazolam"},
        "effectiveDateTime": "2026-11-20T08:00:00Z",
    }
    infusion = {
        **given,
        "status": "in-progress",
        "effectiveDateTime": None,
        "effectivePeriod": {"start": "2026-11-21"},
    }
    patient = patient_from_fhir(bundle(dispense, open_dispense, prepared, given, infusion))
    drug = {"system": RXNORM, "code": "2598"}
    assert patient.medications == (
        Medication(
            source="entry[1].resource",
            **drug,
            start=PartialDate(2026, 11, 1),
            end=PartialDate(2026, 11, 30),
            status="completed",
        ),
        Medication(
            source="entry[2].resource",
            **drug,
            start=PartialDate(2026, 10, 1),
            status="unknown",
        ),
        Medication(
            source="entry[3].resource",
            **drug,
            start=PartialDate(2026, 11, 1),
            end=PartialDate(2026, 11, 30),
            status="intended",
        ),
        Medication(
            source="entry[4].resource",
            display="midazolam",
            start=PartialDate(2026, 11, 20),
            end=PartialDate(2026, 11, 20),
            status="completed",
        ),
        Medication(
            source="entry[5].resource",
            display="midazolam",
            start=PartialDate(2026, 11, 21),
            status="active",
        ),
    )


# --- statuses ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "read", "skipped"),
    [
        ("final", True, None),
        ("amended", True, None),
        ("corrected", True, None),
        (None, True, None),
        ("registered", False, "not_final"),
        ("preliminary", False, "not_final"),
        ("unknown", False, "not_final"),
        ("cancelled", False, None),
        ("entered-in-error", False, None),
        ("done", False, "unreadable_status"),
    ],
)
def test_observation_status(status: str | None, read: bool, skipped: str | None) -> None:
    reading = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": LOINC, "code": "72514-3"}]},
        "effectiveDateTime": "2026-11-10",
        "valueQuantity": {"value": 6, "code": "{score}", "system": "http://unitsofmeasure.org"},
    }
    if status is not None:
        reading["status"] = status
    patient = patient_from_fhir(bundle(reading))
    expected = (
        Observation(
            source="entry[1].resource",
            system="loinc",
            code="72514-3",
            value=6,
            unit="{score}",
            date="2026-11-10",
        ),
    )
    assert patient.observations == (expected if read else ())
    assert [s.reason.value for s in patient.skipped] == ([skipped] if skipped else [])


def test_observations_without_a_numeric_value_are_skipped_with_their_codes() -> None:
    text = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "72514-3"}]},
        "valueString": "severe",
    }
    patient = patient_from_fhir(bundle(text))
    assert patient.skipped == (
        Skipped(
            section="observations",
            path="entry[1].resource",
            reason="no_value",
            resource="Observation",
            codes=({"system": "loinc", "code": "72514-3"},),  # type: ignore[arg-type]
        ),
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"text": "Active"}, ("active", False)),
        (
            {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "55561003",
                        "display": "Active (qualifier value)",
                    }
                ]
            },
            ("active", False),
        ),
        ({"coding": [{"code": "resolved"}], "text": "Resolved"}, ("resolved", False)),
        (
            {"text": "Active", "coding": [{"system": "urn:x", "code": "9", "display": "Resolved"}]},
            (None, True),
        ),
        ({"text": "probably gone"}, (None, True)),
        ("relapse", ("relapse", False)),
        ("wobbly", (None, True)),
    ],
)
def test_clinical_status_in_words_is_read_when_unambiguous(
    status: Any, expected: tuple[str | None, bool]
) -> None:
    patient = patient_from_fhir(bundle(condition("G40.909", clinicalStatus=status)))
    (found,) = patient.conditions
    assert (found.clinical_status, found.uncertain) == expected


def test_an_unreadable_verification_makes_a_met_criterion_unknown(
    trials: matcher.Catalog,
) -> None:
    unsure = condition("G40.909", verificationStatus={"text": "per patient's mother"})
    result = matcher.check(patient_from_fhir(bundle(unsure)), trials, as_of=AS_OF)
    assert criterion(result, "NCT04650074", "epilepsy")[0] == "unknown"


# --- versions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ({"resourceType": "MedicationOrder", "status": "active"}, "entry[1].resource"),
        (
            {"resourceType": "Condition", "patient": {"reference": "Patient/p"}},
            "entry[1].resource.patient",
        ),
        (
            {"resourceType": "MedicationStatement", "wasNotTaken": True},
            "entry[1].resource.wasNotTaken",
        ),
    ],
)
def test_dstu2_is_refused(resource: dict[str, Any], path: str) -> None:
    with pytest.raises(PatientError) as caught:
        patient_from_fhir(bundle(resource))
    assert [(d.code, d.path) for d in caught.value.diagnostics] == [
        ("unsupported-fhir-version", path)
    ]


@pytest.mark.parametrize(
    ("declared", "refused_at"),
    [
        ({"meta": {"fhirVersion": "1.0.2"}}, "meta.fhirVersion"),  # DSTU2
        ({"fhirVersion": "1.0.2"}, "fhirVersion"),
        ({"meta": {"fhirVersion": "3.0.2"}}, None),  # STU3: read where it agrees with R4
        ({"meta": {"fhirVersion": "4.0.1"}}, None),
    ],
)
def test_a_declared_fhir_version_before_stu3_is_refused(
    declared: dict[str, Any], refused_at: str | None
) -> None:
    data = bundle(condition("G40.909")) | declared
    if refused_at is None:
        assert [c.code for c in patient_from_fhir(data).conditions] == ["G40909"]
        return
    with pytest.raises(PatientError) as caught:
        patient_from_fhir(data)
    assert [(d.code, d.path) for d in caught.value.diagnostics] == [
        ("unsupported-fhir-version", refused_at)
    ]


def test_stu3_taken_is_read() -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "status": "completed",
        "taken": "n",
        "medicationCodeableConcept": {"text": "ketamine"},
        "effectiveDateTime": "2024-01-01",
    }
    patient = patient_from_fhir(bundle(statement))
    assert [m.status for m in patient.medications] == ["not_taken"]


# --- demographics --------------------------------------------------------------------------------

BIRTHSEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"


@pytest.mark.parametrize(
    ("gender", "code", "sex", "contradiction"),
    [
        ("female", "F", "female", False),
        (None, "M", "male", False),
        ("male", "UNK", "male", False),
        ("male", "F", None, True),
    ],
)
def test_us_core_birth_sex(
    gender: str | None, code: str, sex: str | None, contradiction: bool
) -> None:
    person: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "p",
        "extension": [{"url": BIRTHSEX, "valueCode": code}],
    }
    if gender:
        person["gender"] = gender
    patient = patient_from_fhir(person)
    assert patient.sex == sex
    assert [(s.reason.value, s.path) for s in patient.skipped] == (
        [("contradiction", "extension[0]")] if contradiction else []
    )


def test_a_contradicted_sex_is_reported(trials: matcher.Catalog) -> None:
    person = {**PATIENT, "gender": "male", "extension": [{"url": BIRTHSEX, "valueCode": "F"}]}
    checked = matcher.check(patient_from_fhir(person), trials, as_of=AS_OF)
    assert [n.as_dict() for n in checked.data_quality] == [
        {
            "section": "demographics",
            "path": "extension[0]",
            "issue": "contradiction",
            "note": "extension[0] (Patient): contradicts another record",
        }
    ]


@pytest.mark.parametrize(
    ("system", "affiliated"),
    [
        ("urn:oid:1.2.250.1.213.1.4.8", True),
        ("urn:oid:1.2.250.1.213.1.4.10", True),
        ("urn:oid:1.2.250.1.213.1.4.9", None),
        ("urn:oid:1.2.250.1.71.4.2.7", None),
    ],
)
def test_a_french_ins_gives_social_security(system: str, affiliated: bool | None) -> None:
    person = {**PATIENT, "identifier": [{"system": system, "value": "279035121518989"}]}
    assert patient_from_fhir(person).attributes.get("fr_social_security") == affiliated


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        # The INS (NIR) decides the French social security criterion of NCT04650074 ...
        ([{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "279035121518989"}], "met"),
        # ... a temporary INS-NIA says nothing either way, and no identifier leaves it unknown.
        ([{"system": "urn:oid:1.2.250.1.213.1.4.9", "value": "279035121518989"}], "unknown"),
        ([], "unknown"),
    ],
)
def test_an_ehr_export_with_an_ins_decides_the_french_trial(
    trials: matcher.Catalog, identifier: list[dict[str, str]], expected: str
) -> None:
    person = {**PATIENT, "identifier": identifier}
    patient = patient_from_fhir(bundle() | {"entry": [{"resource": person}]})
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert criterion(result, "NCT04650074", "french_social_security")[0] == expected
    durable = matcher.check(patient, trials, as_of=AS_OF, engine="durable")
    assert durable.trials == result.trials


# --- diagnoses of encounters and claims ----------------------------------------------------------


def test_an_encounter_diagnosis_reference_is_the_condition_it_names_or_skipped() -> None:
    held = {**condition("G40.909"), "id": "c1"}
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "subject": {"reference": "Patient/p"},
        "period": {"start": "2026-10-02"},
        "diagnosis": [
            {"condition": {"reference": "Condition/c1"}},
            {"condition": {"reference": "Condition/not-here"}},
        ],
    }
    patient = patient_from_fhir(bundle(held, encounter))
    assert [(c.code, str(c.onset), c.uncertain) for c in patient.conditions] == [
        ("G40909", "2020-01-01", False)
    ]
    assert [(s.section, s.reason.value, s.path) for s in patient.skipped] == [
        ("conditions", "not_in_input", "entry[2].resource.diagnosis[1].condition")
    ]


def test_a_claim_diagnosis_is_dated_by_its_billing_period_and_a_missing_one_skipped(
    trials: matcher.Catalog,
) -> None:
    claim = {
        "resourceType": "Claim",
        "status": "active",
        "patient": {"reference": "Patient/p"},
        "billablePeriod": {"start": "2026-09-14", "end": "2026-09-14"},
        "diagnosis": [
            {
                "sequence": 1,
                "diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": "G40.909"}]},
            },
            {"sequence": 2, "diagnosisReference": {"reference": "Condition/elsewhere"}},
        ],
    }
    patient = patient_from_fhir(bundle(claim))
    assert [(c.code, str(c.onset), c.uncertain) for c in patient.conditions] == [
        ("G40909", "2026-09-14", True)
    ]
    assert [(s.reason.value, s.path) for s in patient.skipped] == [
        ("not_in_input", "entry[1].resource.diagnosis[1].diagnosisReference")
    ]
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert criterion(result, "NCT04650074", "epilepsy")[0] == "unknown"  # billed, never met


def test_encounter_reasons_are_uncertain_conditions_unless_a_condition_holds_them(
    trials: matcher.Catalog,
) -> None:
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "subject": {"reference": "Patient/p"},
        "period": {"start": "2026-10-02T09:00:00Z"},
        "reasonCode": [
            {"coding": [{"system": ICD10CM, "code": "G40.909"}]},
            {"coding": [{"system": ICD10CM, "code": "J45.909"}]},
        ],
        "reasonReference": [{"reference": "Condition/elsewhere"}],
    }
    patient = patient_from_fhir(bundle(condition("J45.909"), encounter))
    assert [(c.code, str(c.onset), c.uncertain) for c in patient.conditions] == [
        ("J45909", "2020-01-01", False),
        ("G40909", "2026-10-02", True),
    ]
    assert [(s.reason.value, s.path) for s in patient.skipped] == [
        ("not_in_input", "entry[2].resource.reasonReference[0]")
    ]
    result = matcher.check(patient, trials, as_of=AS_OF)
    assert criterion(result, "NCT04650074", "epilepsy")[0] == "unknown"  # never met


def test_r5_medication_elements_are_read() -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "status": "recorded",
        "medication": {"concept": {"coding": [{"system": RXNORM, "code": "2598"}]}},
        "effectiveDateTime": "2026-11-01",
    }
    given = {
        "resourceType": "MedicationAdministration",
        "status": "completed",
        "medication": {"concept": {"text": "midazolam"}},
        "occurenceDateTime": "2026-11-20",
    }
    patient = patient_from_fhir(bundle(statement, given))
    assert patient.medications == (
        Medication(
            source="entry[1].resource",
            system=RXNORM,
            code="2598",
            start=PartialDate(2026, 11, 1),
            status="unknown",
        ),
        Medication(
            source="entry[2].resource",
            display="midazolam",
            start=PartialDate(2026, 11, 20),
            end=PartialDate(2026, 11, 20),
            status="completed",
        ),
    )
    assert patient.skipped == ()
