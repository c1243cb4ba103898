"""FHIR R4 input (``matcher.patient.fhir``): eight Synthea bundles and hand-made bundles, whole
structures.

The Synthea expectations were read from the JSON once, by a separate script, and are the golden
truth here; the hand-made bundles in ``tests/data/fhir/`` cover what Synthea lacks.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcher
from matcher.core.dates import PartialDate
from matcher.core.errors import Diagnostic, PatientError
from matcher.evaluation.facts import PatientFacts
from matcher.patient.fhir import MILITARY_STATUS_EXTENSION, patient_from_fhir
from matcher.patient.model import (
    Condition,
    LactationStatus,
    Medication,
    Observation,
    Patient,
    PregnancyStatus,
    Skipped,
)

DATA = Path(__file__).resolve().parent / "data" / "fhir"
SYNTHEA = DATA / "synthea"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"


def load(name: str) -> Patient:
    return matcher.load_patient(DATA / name)


def diagnostics(name: str) -> list[tuple[str, str, str]]:
    """(code, path, message) of every diagnostic raised for a file of ``tests/data/fhir``."""
    path = DATA / name
    with pytest.raises(PatientError) as caught:
        matcher.load_patient(path)
    assert {d.file for d in caught.value.diagnostics} == {str(path)}
    assert {(d.line, d.column) for d in caught.value.diagnostics} == {(0, 0)}
    return [(d.code, d.path, d.message) for d in caught.value.diagnostics]


def problems(data: Any) -> list[tuple[str, str, str]]:
    """(code, path, message) of every diagnostic raised for parsed JSON."""
    with pytest.raises(PatientError) as caught:
        patient_from_fhir(data, source="test.json")
    return [(d.code, d.path, d.message) for d in caught.value.diagnostics]


# --- the eight Synthea bundles ---------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    file: str
    birth_date: str
    sex: str
    deceased_date: str | None
    #: (system, code, clinical status, onset, abatement), in bundle order
    conditions: list[tuple[str, str, str, str, str | None]]
    #: (system, code, status, start), in bundle order
    medications: list[tuple[str, str, str, str]]
    #: numeric observations, components counted one by one
    observations: int
    #: LOINC 72514-3: (count, date of the latest, latest value as recorded)
    pain: tuple[int, str, float]


SYNTHEA_EXPECTED = {
    "Alberto_Atencio": Expected(
        file="Alberto_Atencio_fc712d1f-5a2e-4407-9c55-a2a2bad623c2.json",
        birth_date="1993-06-07",
        sex="male",
        deceased_date=None,
        conditions=[
            ("snomed", "128613002", "active", "2007-06-04", None),
            ("snomed", "703151001", "active", "2007-06-04", None),
            ("snomed", "84757009", "active", "2007-06-04", None),
        ],
        medications=[
            ("rxnorm", "1153378", "active", "2007-06-04"),  # Clonazepam [Klonopin]
            ("rxnorm", "308971", "active", "2007-08-20"),
        ],
        observations=35,
        pain=(4, "2019-03-11", 1.8770540190872476),
    ),
    "Eddy_Fadel": Expected(
        file="Eddy_Fadel_c0cd7d3c-da6a-4e2f-a130-35e4d7db9d11.json",
        birth_date="1976-01-16",
        sex="male",
        deceased_date="1977-09-09",
        conditions=[
            ("snomed", "128613002", "active", "1976-01-16", None),
            ("snomed", "703151001", "active", "1976-01-16", None),
            ("snomed", "84757009", "active", "1976-07-02", None),
            ("snomed", "195662009", "resolved", "1977-02-10", "1977-02-22"),
        ],
        medications=[
            ("rxnorm", "308971", "active", "1976-01-16"),
            ("rxnorm", "1153378", "active", "1976-08-20"),  # Clonazepam [Klonopin]
        ],
        observations=52,
        pain=(8, "1977-06-24", 2.7347540965229316),
    ),
    "Garrett_Thompson": Expected(
        file="Garrett_Thompson_5a72e290-8102-4c8a-84f7-f838387508b2.json",
        birth_date="1972-03-30",
        sex="male",
        deceased_date="1973-07-19",
        conditions=[
            ("snomed", "128613002", "active", "1972-03-30", None),
            ("snomed", "703151001", "active", "1972-03-30", None),
            ("snomed", "84757009", "active", "1972-03-30", None),
            ("snomed", "444814009", "resolved", "1972-06-06", "1972-06-13"),
            ("snomed", "65363002", "resolved", "1972-08-27", "1972-12-07"),
            ("snomed", "24079001", "active", "1972-10-03", None),
        ],
        medications=[
            ("rxnorm", "1153378", "active", "1972-03-30"),  # Clonazepam [Klonopin]
            ("rxnorm", "562251", "stopped", "1972-06-06"),
            ("rxnorm", "243670", "stopped", "1972-08-27"),
        ],
        observations=46,
        pain=(7, "1973-06-07", 3.905691872343668),
    ),
    "Jessi_Parisian": Expected(
        file="Jessi_Parisian_f27b1cf4-66bf-4b78-9f3d-2eb45ade0689.json",
        birth_date="1988-02-14",
        sex="female",
        deceased_date=None,
        conditions=[
            ("snomed", "162864005", "active", "2007-04-15", None),
            ("snomed", "72892002", "resolved", "2011-04-03", "2011-10-30"),
            ("snomed", "198992004", "resolved", "2011-10-16", "2011-10-30"),
            ("snomed", "44054006", "active", "2013-04-21", None),
            ("snomed", "72892002", "resolved", "2013-09-01", "2014-04-06"),
            ("snomed", "82423001", "active", "2014-06-14", None),  # chronic pain
            ("snomed", "10509002", "resolved", "2015-09-21", "2015-09-28"),
            ("snomed", "80394007", "active", "2016-04-24", None),
            ("snomed", "302870006", "active", "2016-04-24", None),
            ("snomed", "237602007", "active", "2016-04-24", None),
            ("snomed", "15777000", "active", "2016-04-24", None),
            ("snomed", "271737000", "active", "2016-04-24", None),
            ("snomed", "72892002", "resolved", "2017-07-23", "2017-07-30"),
            ("snomed", "19169002", "active", "2017-07-23", None),
            ("snomed", "35999006", "resolved", "2017-07-23", "2017-07-30"),
        ],
        medications=[
            ("rxnorm", "860975", "active", "2013-04-21"),
            ("rxnorm", "389221", "stopped", "2014-05-18"),
            ("rxnorm", "1860154", "stopped", "2014-06-14"),  # oxycodone
            ("rxnorm", "748962", "stopped", "2015-05-13"),
            ("rxnorm", "313782", "stopped", "2015-09-21"),
            ("rxnorm", "1000156", "stopped", "2016-05-07"),
            ("rxnorm", "831533", "stopped", "2019-04-22"),
            ("rxnorm", "748962", "active", "2020-04-16"),
        ],
        observations=72,
        pain=(4, "2019-04-28", 1.0140184476046654),
    ),
    "Laurie_McCullough": Expected(
        file="Laurie_McCullough_8a417ce8-b525-42ab-a2be-651291f73c8c.json",
        birth_date="1999-07-10",
        sex="female",
        deceased_date=None,
        conditions=[
            ("snomed", "444814009", "resolved", "2012-12-18", "2013-01-01"),
            ("snomed", "43878008", "resolved", "2013-11-07", "2013-11-15"),
            ("snomed", "195662009", "resolved", "2016-12-30", "2017-01-11"),
            ("snomed", "38341003", "active", "2017-09-02", None),
            ("snomed", "72892002", "resolved", "2019-01-19", "2019-02-16"),
            ("snomed", "195662009", "resolved", "2020-11-25", "2020-12-08"),
        ],
        medications=[
            ("rxnorm", "834061", "stopped", "2013-11-07"),
            ("rxnorm", "757594", "stopped", "2015-06-26"),
            ("rxnorm", "316052", "active", "2017-09-02"),
        ],
        observations=63,
        pain=(8, "2018-09-08", 2.3780247925624765),
    ),
    "Omar_Abernathy": Expected(
        file="Omar_Abernathy_839737a4-5804-4adb-b645-740275239062.json",
        birth_date="2000-07-20",
        sex="male",
        deceased_date=None,
        conditions=[
            ("snomed", "192127007", "resolved", "2008-07-18", "2018-07-26"),
            ("snomed", "195662009", "resolved", "2014-04-11", "2014-04-19"),
            ("snomed", "195662009", "resolved", "2016-12-08", "2016-12-18"),
            ("snomed", "10509002", "resolved", "2017-06-22", "2017-06-29"),
            ("snomed", "444814009", "resolved", "2018-04-24", "2018-05-15"),
            ("snomed", "38341003", "active", "2019-05-02", None),
            ("snomed", "444814009", "resolved", "2019-06-17", "2019-07-08"),
            ("snomed", "195662009", "resolved", "2021-02-27", "2021-03-11"),
        ],
        medications=[
            ("rxnorm", "1091392", "stopped", "2008-07-18"),  # methylphenidate
            ("rxnorm", "313782", "stopped", "2017-06-22"),
            ("rxnorm", "316049", "active", "2019-05-02"),
        ],
        observations=92,
        pain=(11, "2020-05-07", 2.204501222309521),
    ),
    "Randolph_Wisoky": Expected(
        file="Randolph_Wisoky_efd5a034-1a2d-4cd4-88f2-3a2e192d403a.json",
        birth_date="1959-12-07",
        sex="male",
        deceased_date="2006-05-08",
        conditions=[
            ("snomed", "53741008", "active", "1990-11-19", None),
            ("snomed", "82423001", "active", "1993-04-27", None),  # chronic pain
            ("snomed", "55680006", "active", "1997-05-05", None),
            ("snomed", "444814009", "resolved", "2000-08-13", "2000-08-20"),
            ("snomed", "410429000", "active", "2006-05-08", None),
            ("snomed", "429007001", "active", "2006-05-08", None),
        ],
        medications=[
            ("rxnorm", "705129", "active", "1990-11-19"),
            ("rxnorm", "312961", "active", "1993-11-22"),
            ("rxnorm", "197361", "active", "1996-11-25"),
            ("rxnorm", "309362", "active", "1999-11-29"),
            ("rxnorm", "1660014", "stopped", "2006-05-08"),
            ("rxnorm", "834357", "stopped", "2006-05-08"),
            ("rxnorm", "1190795", "stopped", "2006-05-08"),
        ],
        observations=68,
        pain=(9, "2005-12-12", 3.3659284776277354),
    ),
    "Renato_Dare": Expected(
        file="Renato_Dare_f07e9b1d-9cc7-465e-8abc-94e84793d1fb.json",
        birth_date="1976-06-14",
        sex="male",
        deceased_date=None,
        conditions=[
            ("snomed", "44054006", "active", "2001-11-19", None),
            ("snomed", "271737000", "active", "2001-11-19", None),
            ("snomed", "302870006", "active", "2004-11-22", None),
            ("snomed", "237602007", "active", "2007-11-26", None),
            ("snomed", "368581000119106", "active", "2007-11-26", None),  # diabetic neuropathy
            ("snomed", "80394007", "active", "2010-11-29", None),
            ("snomed", "15777000", "active", "2010-11-29", None),
            ("snomed", "195662009", "resolved", "2017-12-07", "2017-12-17"),
            ("snomed", "444814009", "resolved", "2018-08-27", "2018-09-03"),
            ("snomed", "195662009", "resolved", "2020-04-08", "2020-04-16"),
        ],
        medications=[
            ("rxnorm", "1049630", "active", "1977-01-29"),
            ("rxnorm", "860975", "active", "2007-11-26"),
            ("rxnorm", "562251", "stopped", "2018-08-27"),
        ],
        observations=118,
        pain=(5, "2020-09-07", 0.6852938022654076),
    ),
}


def summary(patient: Patient) -> Expected:
    """The facts that matter, in the shape of ``Expected``."""
    pains = sorted(
        (str(o.date), o.value)
        for o in patient.observations
        if (o.system, o.code) == ("loinc", "72514-3")
    )
    return Expected(
        file="",
        birth_date=str(patient.birth_date),
        sex=str(patient.sex),
        deceased_date=str(patient.deceased_date) if patient.deceased_date else None,
        conditions=[
            (
                str(c.system),
                str(c.code),
                str(c.clinical_status),
                str(c.onset),
                str(c.abatement) if c.abatement else None,
            )
            for c in patient.conditions
        ],
        medications=[
            (str(m.system), str(m.code), str(m.status), str(m.start)) for m in patient.medications
        ],
        observations=len(patient.observations),
        pain=(len(pains), pains[-1][0], pains[-1][1] or 0.0),
    )


@pytest.mark.parametrize("name", sorted(SYNTHEA_EXPECTED))
def test_synthea_bundle(name: str) -> None:
    expected = SYNTHEA_EXPECTED[name]
    patient = matcher.load_patient(SYNTHEA / expected.file)
    assert summary(patient) == dataclasses.replace(expected, file="")
    assert patient.deceased is (expected.deceased_date is not None)
    assert {c.verification_status for c in patient.conditions} == {"confirmed"}
    assert all(not c.codes for c in (*patient.conditions, *patient.medications))
    assert (patient.pregnancy, patient.lactation, patient.attributes, patient.unreviewed) == (
        None,
        None,
        {},
        (),
    )


def test_synthea_ids_and_names() -> None:
    patient = matcher.load_patient(SYNTHEA / SYNTHEA_EXPECTED["Jessi_Parisian"].file)
    assert patient.id == "ebb1f0e2-4fa6-4889-a43b-9cda3c737078"
    oxycodone = patient.medications[2]
    assert (oxycodone.id, oxycodone.display) == (
        "0f712515-3dd9-4419-9d64-6cf5c15f6548",
        "Abuse-Deterrent 12 HR Oxycodone Hydrochloride 15 MG Extended Release Oral Tablet",
    )


def test_synthea_pregnancy_conditions() -> None:
    def pregnancies(name: str) -> list[tuple[str, str]]:
        patient = matcher.load_patient(SYNTHEA / SYNTHEA_EXPECTED[name].file)
        return [
            (str(c.onset), str(c.abatement))
            for c in patient.conditions
            if (c.system, c.code) == ("snomed", "72892002")  # Normal pregnancy
        ]

    assert pregnancies("Jessi_Parisian") == [
        ("2011-04-03", "2011-10-30"),
        ("2013-09-01", "2014-04-06"),
        ("2017-07-23", "2017-07-30"),
    ]
    assert pregnancies("Laurie_McCullough") == [("2019-01-19", "2019-02-16")]


def test_synthea_pain_scores_are_kept_as_recorded() -> None:
    patient = matcher.load_patient(SYNTHEA / SYNTHEA_EXPECTED["Jessi_Parisian"].file)
    assert [
        (str(o.date), o.value, o.unit)
        for o in patient.observations
        if (o.system, o.code) == ("loinc", "72514-3")
    ] == [
        ("2013-04-21", 2.2335906999775883, "{score}"),
        ("2014-06-14", 7.416166221513255, "{score}"),
        ("2016-04-24", 3.5974002534755636, "{score}"),
        ("2019-04-28", 1.0140184476046654, "{score}"),
    ]


#: Jessi Parisian's three blood-pressure Observations (LOINC 55284-4 with two components)
BP = (
    "fded9df0-8646-4c3a-adbd-8fa5b21219bb",
    "0df21772-6f15-40d1-a96f-a6c7dee9e63b",
    "ffc6e6e7-1b14-4a48-a179-02d3bde3df5e",
)


def test_synthea_blood_pressure_components() -> None:
    """Synthea's panel 55284-4 has no value of its own: each component is one observation."""
    patient = matcher.load_patient(SYNTHEA / SYNTHEA_EXPECTED["Jessi_Parisian"].file)
    assert [
        (o.id, o.code, o.display, o.value, o.unit, str(o.date))
        for o in patient.observations
        if o.code in ("8480-6", "8462-4", "55284-4")
    ] == [
        (BP[0], "8462-4", "Diastolic Blood Pressure", 81.71017620390462, "mm[Hg]", "2013-04-21"),
        (BP[0], "8480-6", "Systolic Blood Pressure", 109.43308399688034, "mm[Hg]", "2013-04-21"),
        (BP[1], "8462-4", "Diastolic Blood Pressure", 76.84446932766448, "mm[Hg]", "2016-04-24"),
        (BP[1], "8480-6", "Systolic Blood Pressure", 132.46323684724845, "mm[Hg]", "2016-04-24"),
        (BP[2], "8462-4", "Diastolic Blood Pressure", 87.84049671948708, "mm[Hg]", "2019-04-28"),
        (BP[2], "8480-6", "Systolic Blood Pressure", 133.71300834660872, "mm[Hg]", "2019-04-28"),
    ]


def test_stopped_order_without_end_is_not_current_use() -> None:
    """Synthea writes "stopped" without an end date: a clinician reads it as no longer taken."""
    patient = matcher.load_patient(SYNTHEA / SYNTHEA_EXPECTED["Jessi_Parisian"].file)
    facts = PatientFacts.build(patient, date(2026, 11, 21))
    ongoing = {(m.codes[0][1], str(m.status)): m.ongoing for m in facts.medications}
    assert ongoing == {
        ("860975", "active"): True,  # metformin
        ("389221", "stopped"): False,
        ("1860154", "stopped"): False,  # oxycodone
        ("748962", "stopped"): False,
        ("313782", "stopped"): False,
        ("1000156", "stopped"): False,
        ("831533", "stopped"): False,
        ("748962", "active"): True,  # Camila, prescribed again in 2020
    }
    oxycodone = next(m for m in facts.medications if m.codes[0][1] == "1860154")
    assert oxycodone.end_hi < facts.today


# --- hand-made bundles ------------------------------------------------------------------------


def test_conditions() -> None:
    patient = load("conditions.json")
    assert patient.birth_date == PartialDate(1971)
    assert patient.conditions == (
        Condition(
            id="crps-dotted",
            source="Condition/crps-dotted",
            system="icd10cm",
            code="G90511",
            display="Complex regional pain syndrome I of right upper limb",
            onset=PartialDate(2019),
            clinical_status="active",
            verification_status="confirmed",
        ),
        Condition(
            id="crps-plain",
            source="Condition/crps-plain",
            system="icd10cm",
            code="G90511",
            display="CRPS type I, right arm",
            onset=PartialDate(2020, 3),
            clinical_status="active",
            verification_status="confirmed",
        ),
        Condition(
            id="crps-both",
            source="Condition/crps-both",
            system="snomed",
            code="128200000",
            codes=({"system": "icd10cm", "code": "G90511"},),
            display="Complex regional pain syndrome",
            onset=PartialDate(2018, 11, 2),
            clinical_status="active",
            verification_status="confirmed",
        ),
        # ptsd-refuted and epilepsy-error are left out
        Condition(
            id="neuralgia-unconfirmed",
            source="Condition/neuralgia-unconfirmed",
            system="icd10cm",
            code="M79.2",
            display="Neuralgia and neuritis, unspecified",
            clinical_status="active",
            verification_status="unconfirmed",
        ),
        Condition(
            id="sprain-resolved",
            source="Condition/sprain-resolved",
            system="snomed",
            code="44465007",
            display="Sprain of ankle",
            onset=PartialDate(2021, 5, 1),
            abatement=PartialDate(2021, 6),
            clinical_status="resolved",
            verification_status="confirmed",
        ),
    )
    assert patient.unreviewed == ()


def test_medications() -> None:
    patient = load("medications.json")
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert patient.medications == (
        Medication(
            id="ketamine-infusions",
            source="MedicationStatement/ketamine-infusions",
            system=rxnorm,
            code="6130",
            display="Ketamine infusion",
            start=PartialDate(2024, 1, 10),
            end=PartialDate(2024, 3, 15),
            status="completed",
        ),
        Medication(  # contained, "#med1"
            id="clonazepam-contained",
            source="MedicationStatement/clonazepam-contained",
            system=rxnorm,
            code="2598",
            display="clonazepam",
            start=PartialDate(2023, 11),
            status="active",
        ),
        Medication(  # by fullUrl; dates from the dosage bounds, not authoredOn
            id="diazepam-by-full-url",
            source="MedicationRequest/diazepam-by-full-url",
            system=rxnorm,
            code="3322",
            display="Diazepam",
            start=PartialDate(2024, 2, 3),
            end=PartialDate(2024, 5, 3),
            status="active",
        ),
        Medication(  # by "Medication/lorazepam"
            id="lorazepam-by-id",
            source="MedicationRequest/lorazepam-by-id",
            system=rxnorm,
            code="6470",
            display="lorazepam",
            start=PartialDate(2022, 7, 14),
            status="on_hold",
        ),
        # midazolam-error (entered-in-error) is left out
        Medication(
            id="ketamine-draft",
            source="MedicationRequest/ketamine-draft",
            system=rxnorm,
            code="6130",
            display="ketamine",
            start=PartialDate(2024, 4, 1),
            status="intended",
        ),
        Medication(
            id="diazepam-proposal",
            source="MedicationRequest/diazepam-proposal",
            system=rxnorm,
            code="3322",
            display="diazepam",
            start=PartialDate(2024, 4, 2),
            status="intended",
        ),
        Medication(
            id="clonazepam-do-not-perform",
            source="MedicationRequest/clonazepam-do-not-perform",
            system=rxnorm,
            code="2598",
            display="clonazepam",
            start=PartialDate(2024, 4, 3),
            status="not_taken",
        ),
        Medication(  # the reference does not resolve: its display is the name
            id="unnamed-reference",
            source="MedicationStatement/unnamed-reference",
            display="Valium",
            start=PartialDate(2019),
            status="active",
        ),
    )
    assert patient.unreviewed == ()


def test_observations_pregnancy_and_lactation() -> None:
    patient = load("observations.json")
    pain = {"system": LOINC, "code": "72514-3"}
    pain_name = "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
    assert patient.observations == (
        Observation(
            id="pain-1",
            source="Observation/pain-1",
            **pain,
            display=pain_name,
            value=3.6,
            unit="{score}",
            date=PartialDate(2024, 5, 2),
        ),
        Observation(  # valueInteger, effectivePeriod.start
            id="pain-2",
            source="Observation/pain-2",
            **pain,
            display=pain_name,
            value=7,
            date=PartialDate(2024, 6, 10),
        ),
        # pain-error and pain-cancelled are left out
        Observation(
            id="bp-1",
            source="Observation/bp-1",
            system=LOINC,
            code="8480-6",
            display="Systolic blood pressure",
            value=132,
            unit="mm[Hg]",
            date=PartialDate(2024, 5, 2),
        ),
        Observation(
            id="bp-1",
            source="Observation/bp-1",
            system=LOINC,
            code="8462-4",
            display="Diastolic blood pressure",
            value=84,
            unit="mm[Hg]",
            date=PartialDate(2024, 5, 2),
        ),
        # the mean pressure has no value, the glucose has a comparator: neither is a number
    )
    # pregnant in 2023, not pregnant in May 2024, "unknown" in June 2024: the latest answer wins
    assert patient.pregnancy == PregnancyStatus(pregnant=False, date=PartialDate(2024, 5, 2))
    assert patient.lactation == LactationStatus(lactating=True, date=PartialDate(2024, 5, 2))


def test_military_status_extension() -> None:
    assert load("military.json") == Patient(
        id="hm-military",
        birth_date=PartialDate(1979, 11),
        sex="male",
        attributes={"military_status": "veteran"},
    )


def test_searchset_ignores_unknown_resource_types() -> None:
    assert load("searchset.json") == Patient(
        id="hm-search",
        birth_date=PartialDate(1985, 2, 28),
        sex=None,  # gender "other"
        deceased=False,
        conditions=(
            Condition(
                id="c1",
                source="Condition/c1",
                system=SNOMED,
                code="82423001",
                display="Chronic pain",
                onset=PartialDate(2016, 8, 15),
                clinical_status="active",
                verification_status="confirmed",
            ),
        ),
    )


def test_bare_patient_resource() -> None:
    assert load("patient.json") == Patient(
        id="hm-bare",
        birth_date=PartialDate(1950, 1, 1),
        deceased=True,
        deceased_date=PartialDate(2020, 12, 24),
    )


# --- input that is not one patient ------------------------------------------------------------


def test_not_fhir() -> None:
    assert diagnostics("not_fhir_foo.json") == [
        ("not-fhir", "resourceType", "resourceType 'Foo' is not a FHIR Bundle or Patient"),
    ]


def test_bundle_without_patient() -> None:
    assert diagnostics("bundle_no_patient.json") == [
        ("not-fhir", "entry", "the Bundle holds no Patient resource"),
    ]


def test_bundle_with_two_patients() -> None:
    assert diagnostics("bundle_two_patients.json") == [
        (
            "not-fhir",
            "entry",
            "the Bundle holds 2 Patient resources (entry[0], entry[2]); one is expected",
        ),
    ]


def test_invalid_values_name_the_path_not_the_value() -> None:
    assert diagnostics("invalid_values.json") == [  # in document order
        (
            "invalid-patient",
            "entry[0].resource.birthDate",
            "not a real date: day is out of range for month",
        ),
        (
            "invalid-patient",
            "entry[0].resource.gender",
            "expected one of female, male, other, unknown",
        ),
        (
            "invalid-patient",
            "entry[1].resource.onsetDateTime",
            "expected a date as YYYY-MM-DD (or YYYY-MM, YYYY)",
        ),
        (
            "invalid-patient",
            "entry[2].resource.valueQuantity.value",
            "'value' is outside the possible range 0-10 of a 0-10 pain score",
        ),
    ]  # entry[3], a status outside the value set, is skipped (tests/test_coverage.py)


# --- smaller cases, built in code -------------------------------------------------------------


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": r} for r in resources],
    }


PATIENT: dict[str, Any] = {"resourceType": "Patient", "id": "p"}


def test_patient_id_falls_back_to_full_url() -> None:
    data = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"fullUrl": "urn:uuid:1234", "resource": {"resourceType": "Patient"}}],
    }
    assert patient_from_fhir(data).id == "urn:uuid:1234"
    assert patient_from_fhir({"resourceType": "Patient"}).id == "unknown"


@pytest.mark.parametrize(
    ("extension", "expected"),
    [
        (
            {
                "url": "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-military-service",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/qicore/CodeSystem/military-service",
                            "code": "active-duty",
                        }
                    ]
                },
            },
            {"military_status": "active_duty"},
        ),
        (
            {
                "url": "http://hl7.org/fhir/StructureDefinition/qicore-patient-militaryService",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/us/qicore/CodeSystem/military-service",
                            "code": "no-military-service",
                        }
                    ]
                },
            },
            {"military_status": "civilian"},
        ),
        (
            {
                "url": "http://hl7.org/fhir/us/qicore/StructureDefinition/qicore-military-service",
                "valueCodeableConcept": {"coding": [{"code": "not-indicated"}]},
            },
            {},
        ),
        (
            {
                "url": "http://hl7.org/fhir/us/military-service/StructureDefinition/"
                "military-service-veteran-status",
                "valueBoolean": True,
            },
            {"military_status": "veteran"},
        ),
        (
            {
                "url": "http://hl7.org/fhir/us/military-service/StructureDefinition/"
                "military-service-veteran-status",
                "valueBoolean": False,  # "not verified yet", not "never served"
            },
            {},
        ),
        (
            {"url": MILITARY_STATUS_EXTENSION, "valueCode": "dependent"},
            {"military_status": "dependent"},
        ),
    ],
)
def test_military_status_representations(
    extension: dict[str, Any], expected: dict[str, str]
) -> None:
    patient = patient_from_fhir({**PATIENT, "extension": [extension]})
    assert patient.attributes == expected


def test_our_military_extension_wins() -> None:
    veteran = {
        "url": "http://hl7.org/fhir/us/military-service/StructureDefinition/"
        "military-service-veteran-status",
        "valueBoolean": True,
    }
    ours = {"url": MILITARY_STATUS_EXTENSION, "valueCode": "retired"}
    patient = patient_from_fhir({**PATIENT, "extension": [veteran, ours]})
    assert patient.attributes == {"military_status": "retired"}


def test_invalid_military_status() -> None:
    extension = {"url": MILITARY_STATUS_EXTENSION, "valueCode": "general"}
    assert problems({**PATIENT, "extension": [extension]}) == [
        (
            "invalid-patient",
            "extension[0].valueCode",
            "expected one of active_duty, civilian, dependent, reserve, retired, veteran",
        ),
    ]


def condition(**fields: Any) -> dict[str, Any]:
    code = {"coding": [{"system": SNOMED, "code": "82423001"}]}
    return {"resourceType": "Condition", "code": code, **fields}


def test_condition_dates_in_the_wrong_order() -> None:
    broken = condition(onsetDateTime="2020-05-01", abatementDateTime="2019")
    assert problems(bundle(PATIENT, broken)) == [
        ("invalid-patient", "entry[1].resource.abatementDateTime", "'abatement' is before 'onset'"),
    ]


def test_stu3_status_strings_are_accepted() -> None:
    patient = patient_from_fhir(
        bundle(PATIENT, condition(clinicalStatus="resolved", verificationStatus="provisional"))
    )
    assert [(c.clinical_status, c.verification_status) for c in patient.conditions] == [
        ("resolved", "provisional")
    ]


def test_unidentifiable_records_are_skipped_and_reported() -> None:
    uncoded = {"resourceType": "Condition", "onsetDateTime": "2020"}
    unresolved = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationReference": {"reference": "Medication/elsewhere"},
    }
    patient = patient_from_fhir(bundle(PATIENT, uncoded, unresolved))
    assert (patient.conditions, patient.medications) == ((), ())
    assert patient.unreviewed == ()
    assert patient.skipped == (
        Skipped(
            section="conditions",
            path="entry[1].resource",
            reason="unidentified",
            resource="Condition",
        ),
        Skipped(
            section="medications",
            path="entry[2].resource",
            reason="unidentified",
            resource="MedicationRequest",
        ),
    )


def test_medication_without_status_is_of_unknown_status() -> None:
    statement = {
        "resourceType": "MedicationStatement",
        "medicationCodeableConcept": {"text": "ketamine"},
        "effectiveDateTime": "2024-01-01",
    }
    patient = patient_from_fhir(bundle(PATIENT, statement))
    assert patient.medications == (
        Medication(
            source="entry[1].resource",
            display="ketamine",
            start=PartialDate(2024, 1, 1),
            status="unknown",
        ),
    )


def test_open_ended_dosage_keeps_the_order_open() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "ketamine"},
        "authoredOn": "2024-01-01",
        "dosageInstruction": [
            {"timing": {"repeat": {"boundsPeriod": {"start": "2024-01-05", "end": "2024-02-01"}}}},
            {"text": "then as needed"},
        ],
        "dispenseRequest": {"validityPeriod": {"start": "2024-01-01", "end": "2024-06-30"}},
    }
    patient = patient_from_fhir(bundle(PATIENT, request))
    assert [(str(m.start), m.end) for m in patient.medications] == [("2024-01-05", None)]


def test_validity_period_gives_only_a_start() -> None:
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "ketamine"},
        "dispenseRequest": {"validityPeriod": {"start": "2024-01", "end": "2024-06-30"}},
    }
    patient = patient_from_fhir(bundle(PATIENT, request))
    assert [(str(m.start), m.end) for m in patient.medications] == [("2024-01", None)]


def pregnancy_status(answer: str, when: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "82810-3"}]},
        "effectiveDateTime": when,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": answer}]},
    }


def test_contradicting_pregnancy_answers_on_one_day_count_as_pregnant() -> None:
    found = patient_from_fhir(
        bundle(
            PATIENT,
            pregnancy_status("77386006", "2024-03-01T10:00:00Z"),
            pregnancy_status("60001007", "2024-03-01"),
        )
    )
    assert found.pregnancy == PregnancyStatus(pregnant=True, date=PartialDate(2024, 3, 1))


def test_pregnancy_for_a_male_patient_makes_the_sex_unknown() -> None:
    male = {**PATIENT, "gender": "male"}
    patient = patient_from_fhir(bundle(male, pregnancy_status("77386006", "2024-03-01")))
    assert (patient.sex, patient.pregnancy, patient.skipped) == (
        None,
        PregnancyStatus(pregnant=True, date=PartialDate(2024, 3, 1)),
        (
            Skipped(
                section="demographics",
                path="entry[0].resource.gender",
                reason="contradiction",
                resource="Patient",
            ),
        ),
    )


def test_deceased_before_birth() -> None:
    data = {**PATIENT, "birthDate": "1990", "deceasedDateTime": "1989-12-31"}
    assert problems(data) == [
        ("invalid-patient", "deceasedDateTime", "'deceased_date' is before 'birth_date'"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"resourceType": 3}, [("not-fhir", "resourceType", "expected a resource type name")]),
        (
            {"resourceType": "Observation", "status": "final"},
            [
                (
                    "not-fhir",
                    "resourceType",
                    "resourceType 'Observation' is not a FHIR Bundle or Patient",
                )
            ],
        ),
        (
            {"resourceType": "Bundle", "entry": {"resource": PATIENT}},
            [("not-fhir", "entry", "expected a list of entries")],
        ),
        (
            {"resourceType": "Bundle", "entry": [PATIENT, 7, {"resource": []}]},
            [  # in document order
                ("not-fhir", "entry[1]", "expected an object"),
                ("not-fhir", "entry[2].resource", "expected a resource with a resourceType"),
            ],
        ),
        (
            {"resourceType": "Bundle", "entry": [{"request": {"method": "DELETE"}}]},
            [("not-fhir", "entry", "the Bundle holds no Patient resource")],
        ),
    ],
)
def test_broken_structure(data: dict[str, Any], expected: list[tuple[str, str, str]]) -> None:
    assert problems(data) == expected


def test_wrong_types_inside_resources() -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": "72514-3"},
        "valueQuantity": {"value": "3"},
        "effectiveDateTime": 20240101,
    }
    assert problems(bundle({**PATIENT, "deceasedBoolean": "no"}, observation)) == [
        ("invalid-patient", "entry[0].resource.deceasedBoolean", "expected true or false"),
        ("invalid-patient", "entry[1].resource.code.coding", "expected a list"),
        ("invalid-patient", "entry[1].resource.effectiveDateTime", "expected a string"),
        ("invalid-patient", "entry[1].resource.valueQuantity.value", "expected a number"),
    ]


# --- any JSON gives a Patient or a PatientError, never a traceback ----------------------------

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "2024", "2024-02-30", "active", "final", "#m", "Medication/m", "x" * 60])
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["value", "code", "coding", "start", "end"]), children)
    ),
    max_leaves=8,
)
_SEED = json.loads((DATA / "medications.json").read_text(encoding="utf-8"))
_SEED["entry"] += json.loads((DATA / "observations.json").read_text(encoding="utf-8"))["entry"][1:]
_SEED["entry"] += json.loads((DATA / "conditions.json").read_text(encoding="utf-8"))["entry"][1:]


def _keys(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in ``node``."""
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _keys(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _keys(value, (*path, i))
    return out


_PATHS = _keys(_SEED)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _JSON), min_size=1, max_size=4))
def test_any_value_anywhere_gives_a_patient_or_a_patient_error(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    data = copy.deepcopy(_SEED)
    for path, value in changes:
        node = data
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this place
    try:
        patient_from_fhir(data, source="fuzz.json")
    except PatientError as exc:
        assert all(isinstance(d, Diagnostic) and d.file == "fuzz.json" for d in exc.diagnostics)
