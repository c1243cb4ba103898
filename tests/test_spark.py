"""Panel screening on Spark gives the in-process answers (issue 17).

One local Spark session for the module (``local[2]``, two shuffle partitions, no UI), stopped at
the end. Without pyspark or a Java runtime the Spark tests are skipped with the reason; .ci/run
installs Java when it can.
"""

from __future__ import annotations

import datetime
import json
import os
import pickle
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.bulk_export import generate
from helpers import DATA

import matcher
import matcher.spark
from matcher.cli import main
from matcher.core.errors import EngineError

AS_OF = datetime.date(2026, 11, 21)
BULK = DATA / "fhir" / "bulk-10"


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home:  # Spark uses it when it is set
        java = Path(home) / "bin" / "java"
        return str(java) if java.is_file() else None
    return shutil.which("java")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    if not matcher.spark.available():
        pytest.skip("Spark tests skipped: pyspark is not installed (the 'spark' extra)")
    if _java() is None:
        pytest.skip("Spark tests skipped: no Java runtime (java on the PATH or JAVA_HOME)")
    session = matcher.spark.session("local[2]", shuffle_partitions=2)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def trials() -> list[matcher.CompiledTrial]:
    return list(matcher.load_trials().trials)


def _folder(path: Path) -> dict[str, str]:
    """Every output file's text; the summary without the engine's name, which differs."""
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(path.iterdir())}
    summary = json.loads(files.pop("summary.json"))
    files["summary.json"] = json.dumps({**summary, "engine": None})
    files["report.html"] = files["report.html"].replace(f"the {summary['engine']} engine", "")
    return files


def test_compiled_trials_survive_pickling(trials: list[matcher.CompiledTrial]) -> None:
    """Broadcast trials are pickled: the concept index, keyed by id() of its sets, is rebuilt
    from the copies (it used to keep the ids of the originals, and matched nothing)."""
    copies = pickle.loads(pickle.dumps(trials))
    first = matcher.screen(BULK, trials, as_of=AS_OF)
    second = matcher.screen(BULK, copies, as_of=AS_OF)
    assert second.verdicts.to_pylist() == first.verdicts.to_pylist()
    assert second.criteria.to_pylist() == first.criteria.to_pylist()


@pytest.mark.parametrize("partitions", [None, 1])
def test_generated_panel_with_bad_records(
    spark: Any, trials: list[matcher.CompiledTrial], tmp_path: Path, partitions: int | None
) -> None:
    """A generated export (with a line that is not JSON, records of a patient the export has no
    Patient for, and a Medication a request refers to): verdicts, criteria, attrition, missing
    facts and errors as the in-process screening gives them, with the patients grouped into
    partitions sized from the input (four here: two per core) or all in one."""
    export = tmp_path / "export"
    generate(export, 60, seed=17)
    conditions = export / "Condition.000.ndjson"
    broken = len(conditions.read_text(encoding="utf-8").splitlines()) + 1
    with conditions.open("a", encoding="utf-8") as handle:
        handle.write('{"resourceType": "Condition", "subject": \n')
        handle.write(
            json.dumps(
                {
                    "resourceType": "Condition",
                    "id": "orphan",
                    "subject": {"reference": "Patient/nobody"},
                    "code": {"text": "epilepsy"},
                }
            )
            + "\n"
        )
    first = (export / "Patient.000.ndjson").read_text(encoding="utf-8").splitlines()[0]
    patient = json.loads(first)["id"]
    (export / "Medication.000.ndjson").write_text(
        json.dumps(
            {
                "resourceType": "Medication",
                "id": "med-1",
                "code": {
                    "coding": [
                        {
                            "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                            "code": "6130",
                            "display": "ketamine",
                        }
                    ]
                },
            }
        )
        + "\n",
        encoding="utf-8",
    )
    with (export / "MedicationRequest.000.ndjson").open("a", encoding="utf-8") as handle:
        request = {
            "resourceType": "MedicationRequest",
            "id": "by-reference",
            "status": "active",
            "intent": "order",
            "subject": {"reference": f"Patient/{patient}"},
            "medicationReference": {"reference": "Medication/med-1"},
            "authoredOn": "2026-10-01",
        }
        handle.write(json.dumps(request) + "\n")
    with (export / "Patient.000.ndjson").open("a", encoding="utf-8") as handle:
        # Born after the as-of date: the engine refuses the patient, an error row in process.
        unborn = {"resourceType": "Patient", "id": "unborn", "birthDate": "2030-01-01"}
        handle.write(json.dumps(unborn) + "\n")
    (export / "manifest.json").unlink(missing_ok=True)

    expected = matcher.screen(export, trials, as_of=AS_OF, without=["NCT00579085:crps_6_months"])
    found = matcher.spark.screen(
        export,
        trials,
        as_of=AS_OF,
        spark=spark,
        without=["NCT00579085:crps_6_months"],
        partitions=partitions,
    )
    columns = ["patient", "trial", "verdict", "score", "eligible_from"]
    verdicts = found.verdicts.orderBy("patient", "trial_index").select(*columns).collect()
    assert [r.asDict() for r in verdicts] == expected.verdicts.to_pylist()
    criteria = found.criteria.orderBy("patient", "trial_index", "position").drop(
        "trial_index", "position"
    )
    assert [r.asDict() for r in criteria.collect()] == expected.criteria.to_pylist()
    assert [a.as_dict() for a in found.attrition] == [a.as_dict() for a in expected.attrition]
    assert found.missing == expected.missing
    assert sorted(found.errors, key=lambda e: e.key) == sorted(expected.errors, key=lambda e: e.key)
    assert {e.key for e in found.errors} == {"nobody", "unborn", f"{conditions}:{broken}"}
    assert {**found.summary.as_dict(), "engine": None} == {
        **expected.summary.as_dict(),
        "engine": None,
    }
    found.release()


def test_cli_engine_spark_writes_the_in_process_tables(
    spark: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``matcher screen --engine spark`` on the sample export: every table, the errors, the
    attrition and the report byte for byte as the in-process engine writes them (the summary
    names the engine). The CLI uses the module's session, which is running."""
    common = [str(BULK), "--as-of", AS_OF.isoformat(), "--format", "jsonl"]
    assert main(["screen", *common, "--out", str(tmp_path / "row")]) == 0
    assert main(["screen", *common, "--out", str(tmp_path / "spark"), "--engine", "spark"]) == 0
    assert _folder(tmp_path / "spark") == _folder(tmp_path / "row")
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (
        f"screened 13 patient(s) against 5 trial(s) as of {AS_OF}; 0 skipped; "
        f"tables in {tmp_path / 'spark'}"
    )


def test_spark_reads_bulk_exports_only(
    spark: Any, trials: list[matcher.CompiledTrial], tmp_path: Path
) -> None:
    profiles = DATA / "fhir" / "conditions.json"
    with pytest.raises(EngineError) as caught:
        matcher.spark.screen(profiles, trials, as_of=AS_OF, spark=spark)
    assert str(caught.value) == (
        f"{profiles}: the spark engine reads FHIR Bulk exports (NDJSON); screen patient files "
        "and JSON Lines profiles with the in-process engines"
    )


def test_a_failing_worker_leaks_no_record_data(spark: Any) -> None:
    """An exception in a Python worker reaches the driver as a Spark error whose text holds the
    worker's message and traceback, which can quote a record. The job's workers run their steps
    through ``_guarded`` and the driver its actions in ``_stage``: the ``EngineError`` names the
    stage, the step and the exception's type, and nothing of the data."""
    from matcher.spark.job import _guarded, _stage

    secret = "Patient/7d1e-secret, birthDate 1957-03-02"

    def leaking(batches: Iterator[Any]) -> Iterator[Any]:
        for batch in batches:
            value = batch.column(0)[0].as_py()
            raise ValueError(f"cannot read {value!r}")
            yield batch

    frame = spark.createDataFrame([(secret,)], "value string")
    unguarded = frame.mapInArrow(leaking, "value string")
    with pytest.raises(Exception) as raw:  # what the guard is for: Spark's own error
        unguarded.collect()
    assert secret in str(raw.value)
    guarded = frame.mapInArrow(_guarded("evaluation", leaking), "value string")
    with pytest.raises(EngineError) as caught, _stage("evaluation"):
        guarded.collect()
    assert str(caught.value) == (
        "the Spark job failed during evaluation "
        "(a Python worker raised ValueError in the evaluation step)"
    )
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
