"""Code systems written other ways, and characters nobody sees (issue 19.1).

A record's code system may be given by its FHIR URI, its HL7 OID (with or without ``urn:oid:``)
or its name in any case and spacing; a code or a drug name may carry zero-width or
bidirectional marks that a copy from a web page or a right-to-left editor leaves behind. Each
spelling must give the very result of the plain one, under both engines; ``code_problem`` says
which codings can never be read, for the reader's accounting.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from helpers import TrialFolder, check_both, one_criterion_trial

import matcher
from matcher.core.codes import INVISIBLE, canonical_code, canonical_system, code_problem
from matcher.criteria.concepts import normalise_name
from matcher.evaluation.results import TrialResult

pytest.importorskip("durable_rules_engine")

AS_OF = date(2026, 11, 21)

#: The spellings seen in real files and fuzzed inputs, for each system the catalog matches.
SPELLINGS = {
    "rxnorm": [
        "urn:oid:2.16.840.1.113883.6.88",
        "2.16.840.1.113883.6.88",
        "URN:OID:2.16.840.1.113883.6.88",
        "RxNorm",
        "RXNORM ",
        "http://www.nlm.nih.gov/research/umls/rxnorm/",
    ],
    "snomed": [
        "urn:oid:2.16.840.1.113883.6.96",
        "SNOMED CT",
        "snomed-ct",
        "Snomed_CT",
        "SNOMED-CT",
        "http://snomed.info/sct",
    ],
    "loinc": ["urn:oid:2.16.840.1.113883.6.1", "LOINC", "http://loinc.org/"],
    "icd10cm": ["urn:oid:2.16.840.1.113883.6.90", "ICD-10-CM", "icd 10 cm", "ICD10CM"],
    "icd10": ["http://hl7.org/fhir/sid/icd-10", "urn:oid:2.16.840.1.113883.6.3", "ICD-10"],
}


@pytest.mark.parametrize(
    ("short", "spelling"),
    [(short, spelling) for short, spellings in SPELLINGS.items() for spelling in spellings],
)
def test_every_spelling_of_a_system_is_one_system(short: str, spelling: str) -> None:
    assert canonical_system(spelling) == short
    assert canonical_system("\u200b" + spelling + "\ufeff") == short


def test_an_unknown_system_is_kept_lower_cased() -> None:
    assert canonical_system("http://example.org/Drugs") == "http://example.org/drugs"
    assert canonical_system("urn:oid:2.16.840.1.113883.6.69") == "urn:oid:2.16.840.1.113883.6.69"


def current_use(folder: TrialFolder, medication: dict[str, Any]) -> TrialResult:
    trial = one_criterion_trial(
        folder, "medication: {concept: benzodiazepines, current: true}", kind="exclusion"
    )
    record = {"start": "2026-01-01", "status": "active", **medication}
    return check_both(trial, {"medications": [record]}, AS_OF)


def condition(folder: TrialFolder, record: dict[str, Any]) -> TrialResult:
    trial = one_criterion_trial(folder, "condition: {concept: crps_type_1, status: ever}")
    return check_both(trial, {"conditions": [{"onset": "2025-03-01", **record}]}, AS_OF)


@pytest.mark.parametrize("spelling", SPELLINGS["rxnorm"])
def test_an_rxnorm_code_matches_by_any_spelling_of_its_system(
    folder: TrialFolder, spelling: str
) -> None:
    plain = current_use(folder, {"system": "rxnorm", "code": "2598"})
    assert plain.criteria[0].outcome.value == "met"
    assert current_use(folder, {"system": spelling, "code": "2598"}) == plain


@pytest.mark.parametrize("spelling", SPELLINGS["snomed"])
def test_a_snomed_code_matches_by_any_spelling_of_its_system(
    folder: TrialFolder, spelling: str
) -> None:
    plain = condition(folder, {"system": "snomed", "code": "734947007"})
    assert plain.criteria[0].outcome.value == "met"
    assert condition(folder, {"system": spelling, "code": "734947007"}) == plain


#: Every mark of ``INVISIBLE`` that an editor may leave, at the start, inside and at the end.
MARKS = sorted(INVISIBLE)


@pytest.mark.parametrize("mark", MARKS, ids=[f"U+{m:04X}" for m in MARKS])
def test_invisible_marks_inside_a_code_are_ignored(folder: TrialFolder, mark: int) -> None:
    char = chr(mark)
    plain = current_use(folder, {"system": "rxnorm", "code": "2598"})
    marked = current_use(folder, {"system": "rxnorm", "code": f"{char}25{char}98{char}"})
    assert marked == plain
    icd = condition(folder, {"system": "icd10cm", "code": f"G90{char}.52{char}2"})
    assert icd == condition(folder, {"system": "icd10cm", "code": "G90.522"})
    assert icd.criteria[0].outcome.value == "met"


@pytest.mark.parametrize("mark", MARKS, ids=[f"U+{m:04X}" for m in MARKS])
def test_invisible_marks_inside_a_drug_name_are_ignored(folder: TrialFolder, mark: int) -> None:
    char = chr(mark)
    plain = current_use(folder, {"display": "Clonazepam 0.5 MG Oral Tablet"})
    assert plain.criteria[0].outcome.value == "met"
    marked = current_use(folder, {"display": f"{char}Clona{char}zepam 0.5 MG Oral Tablet{char}"})
    # The evidence quotes the record's name as written: only the decision must be the same.
    assert [(c.outcome, c.reason) for c in marked.criteria] == [
        (c.outcome, c.reason) for c in plain.criteria
    ]
    assert normalise_name(f"Clona{char}zepam") == ("clonazepam",)


def test_full_width_codes_are_read_as_ascii() -> None:
    assert canonical_code("icd10cm", "\uff27\uff19\uff10\uff0e\uff15") == "G905"
    assert canonical_code("rxnorm", "\uff12\uff15\uff19\uff18") == "2598"


@pytest.mark.parametrize(
    ("system", "code", "problem"),
    [
        ("rxnorm", "2598", None),
        ("urn:oid:2.16.840.1.113883.6.88", "\u200e2598", None),
        ("SNOMED CT", "734947007", None),
        ("loinc", "72514-3", None),
        ("icd10cm", "g90.511", None),
        ("http://hl7.org/fhir/sid/icd-10", "G63.2*", None),
        ("rxnorm", "25 98", "the code does not have the form of RxNorm codes"),
        ("rxnorm", "clonazepam", "the code does not have the form of RxNorm codes"),
        ("snomed", "G90.5", "the code does not have the form of SNOMED CT codes"),
        ("icd10cm", "90.5", "the code does not have the form of ICD-10-CM codes"),
        ("loinc", "725143", "the code does not have the form of LOINC codes"),
        ("http://example.org/codes", "1", "the code system is not one matcher reads"),
        ("urn:oid:1.2.3", "1", "the code system is not one matcher reads"),
    ],
)
def test_code_problem_says_which_codings_cannot_be_read(
    system: str, code: str, problem: str | None
) -> None:
    assert code_problem(system, code) == problem


# --- a coding that cannot be read is an unidentified record --------------------------------------


def fhir_condition(coding: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p", "birthDate": "1974-01-17"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": "Patient/p"},
                    "code": {"coding": [coding]},
                    "onsetDateTime": "2020-01-01",
                }
            },
        ],
    }


@pytest.mark.parametrize(
    ("coding", "skipped"),
    [
        ({"system": "http://example.org/local-codes", "code": "EPI-1"}, True),
        ({"system": "http://snomed.info/sct", "code": "G40.9"}, True),
        ({"system": "urn:oid:2.16.840.1.113883.6.90", "code": "G40.909"}, False),
        ({"system": "SNOMED CT", "code": "\u200b84757009"}, False),
    ],
)
def test_a_record_whose_only_coding_cannot_be_read_is_unidentified(
    coding: dict[str, str], skipped: bool
) -> None:
    patient = matcher.patient_from_data(fhir_condition(coding))
    assert [(s.section, s.reason.value) for s in patient.skipped] == (
        [("conditions", "unidentified")] if skipped else []
    )
    assert len(patient.conditions) == (0 if skipped else 1)
    result = matcher.check(patient, matcher.load_trials(), as_of=AS_OF)
    (epilepsy,) = [c for c in result.trial("NCT04650074").criteria if c.id == "epilepsy"]
    # Readable or not, an epilepsy code is never read as "no epilepsy on record".
    assert epilepsy.outcome.value == ("unknown" if skipped else "met")
