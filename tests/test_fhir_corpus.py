"""Real public FHIR files (``tests/data/fhir/README.md`` cites each): the outcome of every file, and
no record lost without a word.

``tests/data/fhir/corpus_expected.json`` holds, per file, either what was read (sex, birth date,
how many conditions, medications and observations, the attributes, and every skipped record) or
the codes and paths of the refusal. Regenerate it with ``MATCHER_UPDATE_GOLDEN=1`` and read the
diff. Beside the golden, every entry of an accepted file that carries a fact matcher reads must
be a record of the patient or be listed as skipped: nothing vanishes silently.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.patient.fhir import patient_from_fhir
from matcher.patient.model import Patient

DATA = Path(__file__).resolve().parent / "data" / "fhir"
FILES = sorted(
    [
        *(DATA / "corpus").glob("*.json"),
        *(DATA / "synthea").glob("*.json"),
        DATA / "mitre" / "patient_data.json",
    ]
)
GOLDEN = DATA / "corpus_expected.json"
ORIGINS = {"carin-bb", "fhir-converter", "us-core", "synthea", "mitre"}

#: Resource types whose entries must each be read or skipped.
READ_TYPES = frozenset(
    {
        "Condition",
        "MedicationRequest",
        "MedicationStatement",
        "MedicationDispense",
        "MedicationAdministration",
        "Observation",
        "Immunization",
        "QuestionnaireResponse",
    }
)
#: What is no record at all: cancelled, entered in error, refuted.
NO_RECORD = frozenset({"cancelled", "entered-in-error", "refuted"})


def name(path: Path) -> str:
    return str(path.relative_to(DATA))


def outcome(path: Path) -> dict[str, Any]:
    try:
        patient = matcher.load_patient(path)
    except matcher.MatcherError as exc:
        return {"refused": [[d.code, d.path] for d in exc.diagnostics]}
    return {
        "accepted": {
            "sex": patient.sex.value if patient.sex else None,
            "birth_date": str(patient.birth_date) if patient.birth_date else None,
            "deceased": patient.deceased,
            "conditions": len(patient.conditions),
            "uncertain_conditions": sum(c.uncertain for c in patient.conditions),
            "medications": len(patient.medications),
            "observations": len(patient.observations),
            "pregnancy": patient.pregnancy.pregnant if patient.pregnancy else None,
            "attributes": dict(sorted(patient.attributes.items())),
            "skipped": [
                [s.section, s.path, s.reason.value, s.resource or ""] for s in patient.skipped
            ],
        }
    }


def test_the_corpus_is_big_and_varied() -> None:
    origins = {name(p).split("--")[0].removeprefix("corpus/").split("/")[0] for p in FILES}
    assert (len(FILES) >= 30, origins) == (True, ORIGINS)


def test_every_file_gives_its_expected_outcome() -> None:
    found = {name(path): outcome(path) for path in FILES}
    if os.environ.get("MATCHER_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    assert found == json.loads(GOLDEN.read_text(encoding="utf-8"))


def accounted(patient: Patient) -> set[str]:
    """The entries a patient's records came from, and those skipped (``entry[3].resource``)."""
    paths = [s.path for s in patient.skipped]
    for section in ("conditions", "medications", "observations"):
        for i in range(len(getattr(patient, section))):
            paths.append(patient.origin_of(f"{section}[{i}]")[1])
    for field in ("pregnancy", "lactation", "sex"):
        paths.append(patient.origin_of(field)[1])
    return {p.split(".resource")[0] + ".resource" for p in paths if p.startswith("entry[")}


def status_of(resource: dict[str, Any]) -> str | None:
    status = resource.get("status")
    verification = resource.get("verificationStatus")
    if isinstance(verification, dict):
        codes = [c.get("code") for c in verification.get("coding", [])]
        return "refuted" if "refuted" in codes else status
    return status if isinstance(status, str) else None


@pytest.mark.parametrize("path", FILES, ids=name)
def test_no_record_is_lost_silently(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8-sig"))  # one file has a BOM
    try:
        patient = patient_from_fhir(data)
    except matcher.MatcherError:
        return  # refused whole: nothing is read, and the refusal says why
    seen = accounted(patient)
    lost = [
        f"entry[{i}].resource"
        for i, entry in enumerate(data.get("entry", []))
        if entry.get("resource", {}).get("resourceType") in READ_TYPES
        and f"entry[{i}].resource" not in seen
        and status_of(entry["resource"]) not in NO_RECORD
    ]
    assert lost == []


# --- real resources, put in one Bundle ------------------------------------------------------------


def resource(file: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "corpus" / file).read_text(encoding="utf-8"))
    return loaded


def test_a_us_core_dispense_is_medication_use() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": resource("us-core--patient-example.json")},
            {"resource": resource("us-core--medicationdispense-example.json")},
        ],
    }
    patient = patient_from_fhir(bundle)
    assert [(m.code, str(m.start), str(m.end), m.status) for m in patient.medications] == [
        ("476872", "2016-12-08", "None", "unknown")  # no daysSupply: the end is unknown
    ]


def test_carin_diagnoses_are_uncertain_conditions_of_the_service_day() -> None:
    eob = resource("carin-bb--connDmdEOBProfessional1.json")
    person = resource("carin-bb--connDmdPatient1.json")
    apart = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": person}, {"resource": eob}],
    }
    # As published, the claim names another patient than the example Patient: skipped.
    assert [(s.reason.value, s.path) for s in patient_from_fhir(apart).skipped] == [
        ("other_subject", f"entry[1].resource.diagnosis[{i}].diagnosisCodeableConcept")
        for i in range(5)
    ]
    together = copy.deepcopy(apart)
    together["entry"][0]["resource"]["id"] = eob["patient"]["reference"].split("/")[1]
    patient = patient_from_fhir(together)
    assert [(c.code, str(c.onset), c.uncertain) for c in patient.conditions] == [
        (code, "2020-03-09", True)
        for code in ("49727002", "267102003", "386661006", "36955009", "840544004")
    ]
