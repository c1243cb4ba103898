"""The columnar engine against the row engine: the same outcome matrix, code for code.

Patients are generated here with the variety the FHIR mapping produces (partial and missing
dates, every clinical, verification and medication status, possible members, names that nearly
spell a drug, readings without a value or in another unit, pregnancy and lactation statuses,
sections not reviewed, skipped records, deaths with partial dates), against the catalog and a
synthetic catalog varied from it. The real Bulk sample is compared too. Whole matrices and
attrition funnels are compared, not samples of them.
"""

from __future__ import annotations

import random
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA

import matcher
from matcher.criteria.concepts import ConceptKind
from matcher.panel.attrition import Tally
from matcher.panel.batch import OutcomeMatrix, RowEngine, TrialShape
from matcher.panel.reading import read_panel

pytest.importorskip("numpy")

from matcher.panel.columnar import ColumnarEngine

sys.path.insert(0, str(Path(__file__).parent / "benchmarks"))
import synthetic

AS_OF = date(2026, 11, 21)


def _codes(kind: ConceptKind) -> list[tuple[str, str, str]]:
    catalog = matcher.load_trials()
    found: list[tuple[str, str, str]] = []
    for name in catalog.concepts.names(kind):
        concept = catalog.concepts[name]
        for system, members in concept.members.items():
            found.extend((system, code, display) for code, display in members.items())
    return sorted(found)


def _partial(rng: random.Random, day: date) -> str | None:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.16:
        return str(day.year)
    if roll < 0.26:
        return day.isoformat()[:7]
    return day.isoformat()


def _patients(count: int, seed: int) -> list[matcher.Patient]:
    rng = random.Random(seed)
    conditions = _codes(ConceptKind.CONDITION)
    drugs = _codes(ConceptKind.MEDICATION)
    out = []

    def back(most: int) -> date:
        return AS_OF - timedelta(days=rng.randint(-30, most))

    for number in range(count):
        data: dict[str, Any] = {"id": f"p{number}"}
        if rng.random() < 0.95:
            data["birth_date"] = _partial(rng, AS_OF - timedelta(days=rng.randint(0, 90 * 365)))
        if rng.random() < 0.95:
            data["sex"] = rng.choice(["female", "male"])
        if rng.random() < 0.5:
            data["attributes"] = {
                "military_status": rng.choice(["veteran", "civilian", "active_duty", "retired"])
            }
        if rng.random() < 0.06:
            data["deceased"] = True
            if rng.random() < 0.7:
                data["deceased_date"] = _partial(rng, back(3000))
        data["conditions"] = []
        for _ in range(rng.randint(0, 8)):
            record: dict[str, Any]
            if rng.random() < 0.6:
                system, code, display = rng.choice(conditions)
                record = {"system": system, "code": code}
                if rng.random() < 0.5:
                    record["display"] = display
            elif rng.random() < 0.3:
                record = {"system": "icd10", "code": rng.choice(["G40", "G40.9", "F32", "M89.0"])}
            else:
                record = {"system": "snomed", "code": str(rng.randint(10**8, 10**9))}
            onset = back(4000)
            if (text := _partial(rng, onset)) is not None:
                record["onset"] = text
            if rng.random() < 0.2:
                record["abatement"] = _partial(rng, onset + timedelta(days=rng.randint(0, 900)))
            if rng.random() < 0.5:
                record["clinical_status"] = rng.choice(
                    ["active", "recurrence", "relapse", "inactive", "remission", "resolved"]
                )
            if rng.random() < 0.3:
                record["verification_status"] = rng.choice(
                    ["confirmed", "unconfirmed", "provisional", "differential", "refuted"]
                )
            if rng.random() < 0.05:
                record["uncertain"] = True
            data["conditions"].append(record)
        data["medications"] = []
        for _ in range(rng.randint(0, 8)):
            if rng.random() < 0.6:
                system, code, display = rng.choice(drugs)
                record = {"system": system, "code": code, "display": display}
                if rng.random() < 0.15:  # a name only, sometimes misspelt
                    name = display.split()[0]
                    if rng.random() < 0.5 and len(name) > 5:
                        name = name[:2] + name[3] + name[2] + name[4:]
                    record = {"display": name}
            else:
                record = {"system": "rxnorm", "code": str(rng.randint(10**6, 10**7))}
            start = back(3000)
            if (text := _partial(rng, start)) is not None:
                record["start"] = text
            if rng.random() < 0.4:
                record["end"] = _partial(rng, start + timedelta(days=rng.randint(0, 800)))
            if rng.random() < 0.8:
                record["status"] = rng.choice(
                    ["active", "on_hold", "completed", "stopped", "intended", "unknown"]
                )
            data["medications"].append(record)
        data["observations"] = []
        for _ in range(rng.randint(0, 8)):
            code, unit, low, high = rng.choice(
                [
                    ("72514-3", "{score}", 0, 10),
                    ("8480-6", "mm[Hg]", 90, 200),
                    ("8462-4", "mm[Hg]", 50, 120),
                    ("33914-3", "mL/min/{1.73_m2}", 10, 120),
                ]
            )
            record = {"system": "loinc", "code": code}
            if rng.random() < 0.9:
                record["value"] = float(rng.randint(low, high))
            roll = rng.random()
            if roll < 0.8:
                record["unit"] = unit
            elif roll < 0.9:
                record["unit"] = "kg"
            if (text := _partial(rng, back(90))) is not None:
                record["date"] = text
            data["observations"].append(record)
        if rng.random() < 0.15:
            data["pregnancy"] = {"pregnant": rng.random() < 0.5}
            if (text := _partial(rng, back(400))) is not None:
                data["pregnancy"]["date"] = text
        if rng.random() < 0.08:
            data["lactation"] = {"lactating": rng.random() < 0.5, "date": back(100).isoformat()}
        if rng.random() < 0.08:
            data["unreviewed"] = rng.sample(["conditions", "medications"], rng.randint(1, 2))
        if rng.random() < 0.05:
            data["skipped"] = [
                {
                    "section": rng.choice(["conditions", "medications", "observations"]),
                    "path": "entry[9].resource",
                    "reason": "unreadable_status",
                }
            ]
        try:
            out.append(matcher.patient_from_data(data))
        except matcher.MatcherError:  # a date the model refuses (an end before a start)
            continue
    return out


def _same(row: OutcomeMatrix, columnar: OutcomeMatrix) -> None:
    assert columnar.patients == row.patients
    assert columnar.alive == row.alive
    assert len(columnar.trials) == len(row.trials)
    for left, right in zip(row.trials, columnar.trials, strict=True):
        assert right.shape == left.shape
        assert right.verdict == left.verdict, left.shape.id
        assert right.score == left.score, left.shape.id
        assert right.eligible_from == left.eligible_from, left.shape.id
        assert right.outcomes == left.outcomes, left.shape.id
        assert right.missing == left.missing, left.shape.id


def _attrition(matrix: OutcomeMatrix, shapes: list[TrialShape]) -> tuple[Any, Any]:
    tally = Tally(shapes)
    tally.matrix(matrix)
    return [a.as_dict() for a in tally.attrition()], [m for m in tally.missing()]


@pytest.fixture(scope="module")
def trials() -> list[matcher.CompiledTrial]:
    catalog = matcher.load_trials()
    return list(catalog.trials)


def test_generated_patients_get_the_row_engines_matrix(
    trials: list[matcher.CompiledTrial], tmp_path: Path
) -> None:
    varied = matcher.load_trials(synthetic.write_catalog(tmp_path / "catalog", 12)).trials
    chosen = [*trials, *varied]
    patients = _patients(2500, seed=16)
    assert len(patients) > 2000
    engine = ColumnarEngine()
    columnar = engine.evaluate(patients, chosen, AS_OF)
    row = RowEngine().evaluate(patients, chosen, AS_OF)
    _same(row, columnar)
    shapes = [TrialShape.of(t) for t in chosen]
    assert _attrition(columnar, shapes) == _attrition(row, shapes)
    # The funnels counted with numpy are those counted patient by patient.
    by_rows = Tally(shapes)
    by_rows._rows(row)
    assert [a.as_dict() for a in by_rows.attrition()] == _attrition(row, shapes)[0]
    stats = engine.stats
    assert stats.mismatches == 0
    # Most patient-trials are decided in columns; the rest are counted.
    assert stats.patients == len(patients)
    assert 0 < stats.row_patients < len(patients) // 10
    assert 0 < stats.row_dated < stats.row_pairs < len(patients) * len(chosen) // 2


def test_a_switched_off_criterion_and_a_small_batch(trials: list[matcher.CompiledTrial]) -> None:
    from matcher.panel.batch import without

    chosen, unused = without(trials, ["crps_6_months"])
    assert not unused
    patients = _patients(60, seed=3)
    _same(
        RowEngine().evaluate(patients, chosen, AS_OF),
        ColumnarEngine().evaluate(patients, chosen, AS_OF),
    )
    one = patients[:1]
    _same(RowEngine().evaluate(one, chosen, AS_OF), ColumnarEngine().evaluate(one, chosen, AS_OF))


def test_the_bulk_sample_gets_the_row_engines_matrix(trials: list[matcher.CompiledTrial]) -> None:
    items = list(read_panel(DATA / "fhir" / "bulk-10").items())
    patients = [item.patient for item in items if item.patient is not None]
    assert len(patients) == 13
    _same(
        RowEngine().evaluate(patients, trials, AS_OF),
        ColumnarEngine().evaluate(patients, trials, AS_OF),
    )


def test_explain_is_check(trials: list[matcher.CompiledTrial]) -> None:
    (patient,) = _patients(1, seed=5)
    assert ColumnarEngine().explain(patient, trials, AS_OF) == matcher.check(
        patient, trials, as_of=AS_OF
    )


def test_screen_writes_the_same_tables_with_either_engine(tmp_path: Path) -> None:
    from matcher.cli import main

    outs = {}
    for engine in ("row", "columnar"):
        out = outs[engine] = tmp_path / engine
        args = ["screen", str(DATA / "fhir" / "bulk-10"), "--out", str(out)]
        assert main([*args, "--as-of", "2026-11-21", "--engine", engine]) == 0
    names = sorted(p.name for p in outs["row"].iterdir())
    assert names == sorted(p.name for p in outs["columnar"].iterdir())
    for name in names:
        left = (outs["row"] / name).read_text(encoding="utf-8")
        right = (outs["columnar"] / name).read_text(encoding="utf-8")
        if name in ("summary.json", "report.html"):  # they name the engine
            left = left.replace('"row"', '"columnar"').replace(
                "the row engine", "the columnar engine"
            )
        assert right == left, name


def _compare_readings(folder: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int]:
    """``fast_map`` against ``map_raw`` for every patient of an export: the same item, the same
    origins. Returns (patients, those read by ``map_raw``)."""
    from matcher.panel import ingest
    from matcher.panel.reading import RawPatient, map_raw

    raws = [r for r in read_panel(folder).raw() if isinstance(r, RawPatient)]
    slow: list[str] = []
    monkeypatch.setattr(ingest, "map_raw", lambda raw: slow.append(raw.subject) or map_raw(raw))
    for raw in raws:
        expected, got = map_raw(raw), ingest.fast_map(raw)
        assert got == expected, raw.subject
        if expected.patient is not None:
            assert got.patient is not None
            p, q = expected.patient, got.patient
            names = ["id", "birth_date", "sex", "deceased_date", "attributes"]
            for section in ("conditions", "medications", "observations"):
                names += [f"{section}[{i}]" for i in range(len(getattr(p, section)))]
            assert [q.origin_of(n) for n in names] == [p.origin_of(n) for n in names]
    return len(raws), len(slow)


def test_plain_bulk_records_are_read_as_the_fhir_mapping_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import bulk_export

    folder = tmp_path / "export"
    bulk_export.generate(folder, 300, seed=5)
    # Records outside the plain shape, each for another patient: through matcher.patient.fhir.
    lines = (folder / "Patient.000.ndjson").read_text(encoding="utf-8").splitlines()
    patients = [json.loads(line)["id"] for line in lines]
    odd = [
        {
            "resourceType": "Condition",
            "code": {"text": "Epilepsy"},
            "onsetPeriod": {"start": "2020"},
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
            "valueQuantity": {"value": 14},
        },
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "82810-3"}]},
            "valueCodeableConcept": {
                "coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]
            },
        },
        {
            "resourceType": "MedicationRequest",
            "status": "active",
            "intent": "order",
            "medicationReference": {"reference": "Medication/m1"},
        },
        {"resourceType": "Condition", "code": {"text": "Epilepsy"}, "clinicalStatus": "active"},
        {
            "resourceType": "MedicationRequest",
            "status": "whatever",
            "intent": "order",
            "medicationCodeableConcept": {"text": "clonazepam"},
        },
    ]
    with (folder / "Condition.000.ndjson").open("a", encoding="utf-8") as handle:
        for number, resource in enumerate(odd):
            resource["subject"] = {"reference": f"Patient/{patients[number]}"}
            handle.write(json.dumps(resource) + "\n")
    read, slow = _compare_readings(folder, monkeypatch)
    assert read == 300
    assert slow == len(odd)  # the others were read directly
    read, slow = _compare_readings(DATA / "fhir" / "bulk-10", monkeypatch)
    assert (read, slow) == (13, 0)
    _compare_columns(folder)
    _compare_columns(DATA / "fhir" / "bulk-10")


def _compare_columns(folder: Path) -> None:
    """``columns_of_raw`` (plain records straight into columns) against ``columns_of`` over the
    patients ``map_raw`` reads: every column, the same errors, and the same matrix."""
    import numpy as np

    from matcher.panel.columnar import columns_of, columns_of_raw
    from matcher.panel.reading import RawPatient, map_raw
    from matcher.panel.screen import BatchContext, evaluate_batch

    raws = [r for r in read_panel(folder).raw() if isinstance(r, RawPatient)]
    items = [map_raw(r) for r in raws]
    patients = [i.patient for i in items if i.patient is not None]
    expected = columns_of(patients, AS_OF)
    got = columns_of_raw(raws, AS_OF)
    assert got.unread == [i for i in items if i.patient is None]
    assert got.refused == []
    assert got.columns is not None
    for name in ("ids", "attributes", "as_of"):
        assert getattr(got.columns, name) == getattr(expected, name), name
    for name in ("age_lo", "age_hi", "sex", "conditions_complete", "medications_complete"):
        assert np.array_equal(getattr(got.columns, name), getattr(expected, name)), name
    for name in ("alive", "row_only", "pregnancy", "lactation"):
        assert np.array_equal(getattr(got.columns, name), getattr(expected, name)), name
    for section in ("conditions", "medications", "observations"):
        left, right = getattr(got.columns, section), getattr(expected, section)
        assert left.keys == right.keys and left.units == right.units, section
        for name in ("patient", "key", "a_lo", "a_hi", "b_lo", "b_hi", "certain", "has_value"):
            assert np.array_equal(getattr(left, name), getattr(right, name)), (section, name)
        assert np.array_equal(left.value, right.value, equal_nan=True), section
    # The Patient of a plain row, made when asked, is the one map_raw reads.
    assert [got.columns.patient(i) for i in range(len(patients))] == patients
    trials = list(matcher.load_trials().trials)
    context = BatchContext(ColumnarEngine(), trials, AS_OF)
    errors, matrix = evaluate_batch(context, raws)
    assert errors == [i for i in items if i.patient is None]
    assert matrix is not None
    _same(matrix, RowEngine().evaluate(patients, trials, AS_OF))


def test_a_patient_born_after_the_as_of_date_is_refused_as_before(tmp_path: Path) -> None:
    import bulk_export

    from matcher.panel.reading import RawPatient
    from matcher.panel.screen import BatchContext, evaluate_batch

    folder = tmp_path / "export"
    bulk_export.generate(folder, 40, seed=9)
    raws = [r for r in read_panel(folder).raw() if isinstance(r, RawPatient)]
    trials = list(matcher.load_trials().trials)
    early = date(1990, 1, 1)  # some patients are born later: refused, the others screened

    # The generic route: Patient objects, then the engine (ColumnarEngine without evaluate_raw).
    class Generic:
        name = "columnar"

        def __init__(self) -> None:
            self.engine = ColumnarEngine()

        def evaluate(self, *args: Any) -> OutcomeMatrix:
            return self.engine.evaluate(*args)

        def explain(self, *args: Any) -> Any:
            return self.engine.explain(*args)

    expected = evaluate_batch(BatchContext(Generic(), trials, early), raws)  # type: ignore[arg-type]
    got = evaluate_batch(BatchContext(ColumnarEngine(), trials, early), raws)
    assert expected[0] and expected[1] is not None
    assert got[0] == expected[0]
    assert got[1] is not None
    _same(got[1], expected[1])
