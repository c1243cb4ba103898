"""``check`` from many threads at once gives exactly what it gives one call at a time.

The README promises that the API is thread-safe: compiled trials are shared, immutable, and a check
keeps its state to itself. This runs a few hundred checks -- every example, golden and FHIR patient
plus generated ones, at several as-of dates -- first one after the other, then from 8 threads at
once, and compares the JSON byte for byte.
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from helpers import DATA, REPO

import matcher
from matcher.evaluation.engines import get_engine

THREADS = 8
DATES = (date(2026, 11, 21), date(2025, 3, 1), date(2031, 7, 15))
CATALOG = matcher.load_trials()


def _file_patients() -> list[matcher.Patient]:
    files = [
        *sorted((REPO / "tests" / "golden" / "patients").glob("*/*.yaml")),
        *sorted((DATA / "patients").glob("*.yaml")),
        *sorted((DATA / "fhir" / "synthea").glob("*.json")),
        DATA / "fhir" / "conditions.json",
        DATA / "fhir" / "medications.json",
        DATA / "fhir" / "observations.json",
    ]
    return [matcher.load_patient(path) for path in files]


def _generated_patients(count: int) -> list[matcher.Patient]:
    """Patients with records from the catalog's own concept sets, so that criteria decide."""
    rng = random.Random(20261121)
    codes = sorted(
        (concept.kind.value, system, code)
        for concept in CATALOG.concepts.sets.values()
        for system, members in concept.members.items()
        for code in members
    )

    def day(first: date = date(2015, 1, 1), last: date = date(2026, 11, 21)) -> str:
        return date.fromordinal(rng.randint(first.toordinal(), last.toordinal())).isoformat()

    patients = []
    for i in range(count):
        records: dict[str, list[dict[str, object]]] = {"conditions": [], "medications": []}
        for kind, system, code in rng.sample(codes, 6):
            if kind == "condition":
                records["conditions"].append({"system": system, "code": code, "onset": day()})
            elif kind == "medication":
                status = rng.choice(["active", "completed", "stopped", "on_hold", None])
                records["medications"].append(
                    {"system": system, "code": code, "start": day(), "status": status}
                )
        patients.append(
            matcher.patient_from_data(
                {
                    "id": f"generated-{i}",
                    "birth_date": day(date(1930, 1, 1), date(2012, 12, 31)),
                    "sex": rng.choice(["female", "male", None]),
                    "attributes": {"military_status": rng.choice(["veteran", "civilian"])},
                    "observations": [
                        {
                            "system": "loinc",
                            "code": "72514-3",
                            "value": rng.randint(0, 10),
                            "date": day(),
                        }
                    ],
                    **records,
                }
            )
        )
    return patients


PATIENTS = _file_patients() + _generated_patients(60)


def _engine(name: str) -> str:
    try:
        get_engine(name)
    except matcher.EngineError:  # only an engine that says it is unavailable is skipped
        pytest.skip("durable engine not available")
    return name


@pytest.mark.parametrize("engine", ["python", "durable"])
def test_checks_from_8_threads_equal_sequential_checks(engine: str) -> None:
    _engine(engine)
    tasks = [(patient, as_of) for patient in PATIENTS for as_of in DATES]

    def run(task: tuple[matcher.Patient, date]) -> str:
        patient, as_of = task
        return matcher.check(patient, CATALOG, as_of=as_of, engine=engine).to_json()

    sequential = [run(task) for task in tasks]
    start = threading.Barrier(THREADS)

    def worker(first: int) -> list[str]:
        start.wait(timeout=30)  # all threads start checking together
        return [run(task) for task in tasks[first::THREADS]]

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        shares = list(pool.map(worker, range(THREADS)))
    concurrent = [shares[i % THREADS][i // THREADS] for i in range(len(tasks))]
    assert len(tasks) > 250
    assert concurrent == sequential


def test_catalogs_loaded_in_parallel_give_the_same_results() -> None:
    """Catalogs loaded in parallel (leaf keys are drawn from one shared counter) agree."""
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        catalogs = list(pool.map(lambda _: matcher.load_trials(), range(THREADS)))
    patient = matcher.load_patient(DATA / "patients" / "crps_clonazepam.yaml")
    outputs = {matcher.check(patient, c, as_of=DATES[0]).to_json() for c in catalogs}
    assert len(outputs) == 1
