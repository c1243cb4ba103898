"""A synthetic FHIR Bulk Data export of any size, shaped like the real sample (bulk-10).

``python tests/benchmarks/bulk_export.py OUT_FOLDER --patients 10000`` writes
``Patient.000.ndjson``, ``Condition.000.ndjson``, ``MedicationRequest.000.ndjson`` and
``Observation.000.ndjson`` (one resource per line, linked by ``subject``, as Synthea's export
writes them: US Core profiles, coded clinical and verification statuses, RxNorm
``medicationCodeableConcept``, LOINC quantities with UCUM units), plus a Bulk manifest. Seeded:
the same size gives the same bytes.

Codes: about a quarter of the conditions and drugs come from the catalog's concept sets (so that
rules match), the rest are codes no set holds; observations are pain scores, blood pressures
and eGFR, as the catalog reads. A few patients are deceased, some records are resolved,
stopped or completed, some dates are partial, as in Synthea data.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import matcher
from matcher.criteria.concepts import ConceptKind

AS_OF = date(2026, 11, 21)
_SYSTEMS = {
    "snomed": "http://snomed.info/sct",
    "icd10cm": "http://hl7.org/fhir/sid/icd-10-cm",
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "loinc": "http://loinc.org",
}
_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
_READINGS = [
    ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}", 0, 10),
    ("8480-6", "Systolic blood pressure", "mm[Hg]", 95, 200),
    ("8462-4", "Diastolic blood pressure", "mm[Hg]", 55, 120),
    ("33914-3", "Glomerular filtration rate/1.73 sq M.predicted", "mL/min/{1.73_m2}", 20, 120),
]


def _codes(kind: ConceptKind) -> list[tuple[str, str, str]]:
    catalog = matcher.load_trials()
    out: list[tuple[str, str, str]] = []
    for name in catalog.concepts.names(kind):
        for system, members in catalog.concepts[name].members.items():
            if system in _SYSTEMS:
                out.extend((system, code, display) for code, display in members.items())
    return sorted(out)


def _when(rng: random.Random, most: int) -> str:
    day = AS_OF - timedelta(days=rng.randint(0, most))
    return f"{day.isoformat()}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00-05:00"


def _record_code(
    rng: random.Random, members: list[tuple[str, str, str]], other: tuple[str, int, str]
) -> tuple[str, str, str]:
    """A quarter of the records hold a concept-set member; the rest a random code of ``other``'s
    system, with as many digits as its lowest number, and its display."""
    if rng.random() < 0.25:
        return rng.choice(members)
    system, lowest, display = other
    return system, str(rng.randint(lowest, lowest * 10)), display


def _coding(system: str, code: str, display: str) -> dict[str, Any]:
    return {
        "coding": [{"system": _SYSTEMS[system], "code": code, "display": display}],
        "text": display,
    }


def generate(folder: Path, patients: int, seed: int = 16) -> dict[str, int]:
    """Write the export; returns the number of lines per resource type."""
    rng = random.Random(seed)
    conditions = _codes(ConceptKind.CONDITION)
    drugs = _codes(ConceptKind.MEDICATION)
    folder.mkdir(parents=True, exist_ok=True)
    names = ("Patient", "Condition", "MedicationRequest", "Observation")
    files = {n: (folder / f"{n}.000.ndjson").open("w", encoding="utf-8") for n in names}
    counts = dict.fromkeys(names, 0)
    serial = 0

    def write(kind: str, resource: dict[str, Any]) -> None:
        files[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
        counts[kind] += 1

    def ident() -> str:
        nonlocal serial
        serial += 1
        return f"{serial:08x}-{rng.getrandbits(16):04x}-{rng.getrandbits(16):04x}"

    try:
        for number in range(patients):
            pid = f"{number:08d}-{rng.getrandbits(32):08x}"
            born = AS_OF - timedelta(days=rng.randint(5 * 365, 95 * 365))
            patient: dict[str, Any] = {
                "resourceType": "Patient",
                "id": pid,
                "meta": {
                    "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]
                },
                "name": [
                    {
                        "use": "official",
                        "family": f"Family{number % 997}",
                        "given": [f"Given{number % 131}"],
                    }
                ],
                "gender": rng.choice(["female", "male"]),
                "birthDate": born.isoformat() if rng.random() > 0.02 else str(born.year),
            }
            if rng.random() < 0.04:
                died = _when(rng, (AS_OF - born).days)
                patient["deceasedDateTime"] = died if rng.random() < 0.5 else died[:10]
            write("Patient", patient)
            subject = {"reference": f"Patient/{pid}"}
            for _ in range(rng.randint(4, 16)):
                system, code, display = _record_code(
                    rng, conditions, ("snomed", 10**8, "Finding (finding)")
                )
                status = rng.choice(["active", "active", "resolved", "inactive"])
                onset = _when(rng, 9000)
                condition: dict[str, Any] = {
                    "resourceType": "Condition",
                    "id": ident(),
                    "clinicalStatus": {"coding": [{"system": _CLINICAL, "code": status}]},
                    "verificationStatus": {
                        "coding": [{"system": _VERIFICATION, "code": "confirmed"}]
                    },
                    "code": _coding(system, code, display),
                    "subject": subject,
                    "onsetDateTime": onset,
                    "recordedDate": onset,
                }
                if status == "resolved" and rng.random() < 0.7:
                    condition["abatementDateTime"] = max(onset, _when(rng, 3000))
                write("Condition", condition)
            for _ in range(rng.randint(4, 16)):
                system, code, display = _record_code(
                    rng, drugs, ("rxnorm", 10**6, "Other 10 MG Oral Tablet")
                )
                write(
                    "MedicationRequest",
                    {
                        "resourceType": "MedicationRequest",
                        "id": ident(),
                        "status": rng.choice(["active", "stopped", "stopped", "completed"]),
                        "intent": "order",
                        "medicationCodeableConcept": _coding(system, code, display),
                        "subject": subject,
                        "authoredOn": _when(rng, 4000),
                        "dosageInstruction": [
                            {
                                "sequence": 1,
                                "timing": {
                                    "repeat": {"frequency": 1, "period": 1.0, "periodUnit": "d"}
                                },
                            }
                        ],
                    },
                )
            for _ in range(rng.randint(2, 10)):
                code, display, unit, low, high = rng.choice(_READINGS)
                value = round(rng.uniform(low, high), 2 if unit == "{score}" else 0)
                write(
                    "Observation",
                    {
                        "resourceType": "Observation",
                        "id": ident(),
                        "status": "final",
                        "category": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                        "code": "vital-signs",
                                    }
                                ]
                            }
                        ],
                        "code": _coding("loinc", code, display),
                        "subject": subject,
                        "effectiveDateTime": _when(rng, 120),
                        "valueQuantity": {
                            "value": value,
                            "unit": unit,
                            "system": "http://unitsofmeasure.org",
                            "code": unit,
                        },
                    },
                )
    finally:
        for handle in files.values():
            handle.close()
    manifest = {
        "transactionTime": f"{AS_OF.isoformat()}T00:00:00Z",
        "request": "https://example.com/fhir/Group/synthetic/$export",
        "requiresAccessToken": False,
        "output": [{"type": n, "url": f"{n}.000.ndjson", "count": counts[n]} for n in names],
        "error": [],
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    print(generate(args.folder, args.patients, args.seed))


if __name__ == "__main__":
    main()
