"""Panel screening (``matcher screen``, ``matcher.panel``) on a real Bulk export and on broken ones.

The verdicts of ``matcher screen`` are compared with ``matcher check`` run on a Bundle that the test
builds for each patient itself; the attrition is compared whole with a golden file
(regenerate with MATCHER_UPDATE_GOLDEN=1, then read the diff).
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from helpers import DATA

from matcher.cli import main

BULK = DATA / "fhir" / "bulk-10"
GOLDEN = DATA / "panel"
UPDATE = os.environ.get("MATCHER_UPDATE_GOLDEN") == "1"
AS_OF = "2026-11-21"


def screen(tmp_path: Path, *args: str, name: str = "out") -> tuple[int, Path]:
    out = tmp_path / name
    status = main(["screen", *args, "--out", str(out), "--as-of", AS_OF])
    return status, out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def bundles(folder: Path) -> dict[str, dict[str, Any]]:
    """One Bundle per patient, built here from the export's lines (independently of matcher)."""
    entries: dict[str, list[dict[str, Any]]] = {}
    for file in sorted(folder.glob("*.ndjson")):
        for line in file.read_text(encoding="utf-8").splitlines():
            resource = json.loads(line)
            kind = resource.get("resourceType")
            if kind == "Patient":
                entries.setdefault(resource["id"], []).insert(0, {"resource": resource})
            elif kind in ("Condition", "MedicationRequest"):
                ref = resource["subject"]["reference"].removeprefix("Patient/")
                entries.setdefault(ref, []).append({"resource": resource})
    return {
        pid: {"resourceType": "Bundle", "type": "collection", "entry": found}
        for pid, found in entries.items()
    }


def test_screen_gives_the_verdicts_of_check_for_each_patient(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = screen(tmp_path, str(BULK))
    assert status == 0
    capsys.readouterr()
    rows = read_csv(out / "verdicts.csv")
    screened = {
        (r["patient"], r["trial"]): (r["verdict"], float(r["score"]), r["eligible_from"])
        for r in rows
    }
    expected: dict[tuple[str, str], tuple[str, float, str]] = {}
    for pid, bundle in bundles(BULK).items():
        path = tmp_path / f"{pid}.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        assert main(["check", str(path), "--as-of", AS_OF, "--format", "json"]) == 0
        result = json.loads(capsys.readouterr().out)
        for trial in result["trials"]:
            expected[(pid, trial["trial"])] = (
                trial["verdict"],
                trial["score"],
                trial["eligible_from"] or "",
            )
    assert len(expected) == 13 * 5
    assert screened == expected
    # The long table holds every criterion of every trial for every patient, in file order.
    criteria = read_csv(out / "criteria.csv")
    per_pair = {(r["patient"], r["trial"]) for r in criteria}
    assert per_pair == set(expected)
    assert (out / "errors.jsonl").read_text(encoding="utf-8") == ""
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert (summary["patients"], summary["skipped"], summary["as_of"]) == (13, 0, AS_OF)
    assert "Observation" not in summary["resource_types"]


def test_attrition_of_the_bulk_export_is_the_golden_one(tmp_path: Path) -> None:
    status, out = screen(tmp_path, str(BULK))
    assert status == 0
    text = (out / "attrition.json").read_text(encoding="utf-8")
    golden = GOLDEN / "bulk10_attrition.json"
    if UPDATE:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert json.loads(text) == json.loads(golden.read_text(encoding="utf-8"))
    for funnel in json.loads(text):
        steps = funnel["steps"]
        assert steps[0]["criterion"] == "alive"
        for before, after in itertools.pairwise(steps):
            assert after["before"] == before["after"]
        assert steps[-1]["after"] == funnel["eligible"] + funnel["undetermined"]
        assert funnel["screened"] == 13


def test_formats_hold_the_same_rows(tmp_path: Path) -> None:
    pyarrow_parquet = pytest.importorskip("pyarrow.parquet")
    assert screen(tmp_path, str(BULK), "--format", "csv", name="csv")[0] == 0
    assert screen(tmp_path, str(BULK), "--format", "jsonl", name="jsonl")[0] == 0
    assert screen(tmp_path, str(BULK), "--format", "parquet", name="pq")[0] == 0
    for table in ("verdicts", "criteria", "attrition", "missing"):
        from_csv = read_csv(tmp_path / "csv" / f"{table}.csv")
        lines = (tmp_path / "jsonl" / f"{table}.jsonl").read_text(encoding="utf-8").splitlines()
        from_jsonl = [json.loads(line) for line in lines]
        from_parquet = pyarrow_parquet.read_table(tmp_path / "pq" / f"{table}.parquet").to_pylist()

        def text(rows: list[dict[str, Any]]) -> list[dict[str, str]]:
            return [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]

        assert text(from_jsonl) == from_csv
        assert text(from_parquet) == from_csv


def test_workers_do_not_change_the_output(tmp_path: Path) -> None:
    assert screen(tmp_path, str(BULK), name="one")[0] == 0
    assert screen(tmp_path, str(BULK), "--workers", "2", name="two")[0] == 0
    for name in ("verdicts.csv", "criteria.csv", "attrition.json", "missing.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_without_switches_a_criterion_off(tmp_path: Path) -> None:
    status, out = screen(
        tmp_path, str(BULK), "--trial", "NCT00579085", "--without", "NCT00579085:crps_6_months"
    )
    assert status == 0
    funnel = json.loads((out / "attrition.json").read_text(encoding="utf-8"))
    assert [f["trial"] for f in funnel] == ["NCT00579085"]
    assert "crps_6_months" not in [s["criterion"] for s in funnel[0]["steps"]]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["without"] == ["NCT00579085:crps_6_months"]
    assert screen(tmp_path, str(BULK), "--without", "no_such_criterion", name="bad")[0] == 2


def test_an_unusable_patient_goes_to_the_errors_file_and_the_run_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = tmp_path / "export"
    shutil.copytree(BULK, export)
    lines = (export / "Patient.000.ndjson").read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[2])
    broken["birthDate"] = "last spring"
    lines[2] = json.dumps(broken)
    lines.append("{not json")
    (export / "Patient.000.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status, out = screen(tmp_path, str(export))
    assert status == 3
    assert "2 patient(s) could not be used" in capsys.readouterr().err
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert [(e["diagnostics"][0]["code"], e["diagnostics"][0]["line"]) for e in errors] == [
        ("json-syntax", 14),
        ("invalid-patient", 3),
    ]
    assert errors[1]["diagnostics"][0]["path"] == "birthDate"
    assert errors[1]["diagnostics"][0]["file"].endswith("Patient.000.ndjson")
    assert "last spring" not in json.dumps(errors)
    assert len({r["patient"] for r in read_csv(out / "verdicts.csv")}) == 12


def test_records_of_a_patient_missing_from_the_export_are_an_error(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    lines = (BULK / "Patient.000.ndjson").read_text(encoding="utf-8").splitlines()
    (export / "Patient.000.ndjson").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    shutil.copy(BULK / "Condition.000.ndjson", export)
    status, out = screen(tmp_path, str(export))
    assert status == 3
    (error,) = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert error["diagnostics"][0]["code"] == "not-fhir"
    assert error["patient"] == json.loads(lines[0])["id"]


def test_a_section_absent_from_the_export_is_not_reviewed(tmp_path: Path) -> None:
    """Without a Condition file, "no epilepsy on record" proves nothing: unknown, not not_met."""
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(BULK / "Patient.000.ndjson", export)
    shutil.copy(BULK / "MedicationRequest.000.ndjson", export)
    status, out = screen(tmp_path, str(export), "--trial", "NCT04650074")
    assert status == 0
    full_status, full = screen(tmp_path, str(BULK), "--trial", "NCT04650074", name="full")
    assert full_status == 0

    def epilepsy(folder: Path) -> set[str]:
        rows = read_csv(folder / "criteria.csv")
        return {r["outcome"] for r in rows if r["criterion"] == "epilepsy"}

    assert "not_met" in epilepsy(full)
    assert epilepsy(out) == {"unknown"}


def test_profiles_files_and_jsonl(tmp_path: Path) -> None:
    folder = DATA / "patients"
    status, out = screen(tmp_path, str(folder))
    assert status == 0
    patients = {r["patient"] for r in read_csv(out / "verdicts.csv")}
    assert patients == {"example-veteran", "example-crps-clonazepam"} or len(patients) == 2
    jsonl = tmp_path / "profiles.jsonl"
    jsonl.write_text(
        json.dumps({"id": "p1", "birth_date": "1980-01-01", "sex": "male"})
        + "\n"
        + json.dumps({"id": "p2", "birth_date": "1980-13-01"})
        + "\n",
        encoding="utf-8",
    )
    status, out = screen(tmp_path, str(jsonl), name="jsonl")
    assert status == 3
    assert {r["patient"] for r in read_csv(out / "verdicts.csv")} == {"p1"}
    (error,) = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert error["source"].endswith("profiles.jsonl:2")
    assert error["diagnostics"][0]["path"] == "birth_date"


class _Page(HTMLParser):
    """Collects the report's structure: sections, SVG texts and every URL-bearing attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.urls: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        found = dict(attrs)
        if tag == "section":
            self.sections.append(found.get("id") or "")
        for name in ("src", "href"):
            if found.get(name):
                self.urls.append(found[name] or "")


def test_the_html_report_is_self_contained_and_its_charts_are_the_funnels(tmp_path: Path) -> None:
    status, out = screen(tmp_path, str(BULK))
    assert status == 0
    text = (out / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    page.close()
    funnels = json.loads((out / "attrition.json").read_text(encoding="utf-8"))
    assert page.sections == [f["trial"] for f in funnels] + ["missing"]
    assert page.urls == []
    assert "script" not in page.tags and "link" not in page.tags and "img" not in page.tags
    svgs = re.findall(r"<svg .*?</svg>", text, flags=re.S)
    assert len(svgs) == len(funnels) + 1
    for svg, funnel in zip(svgs, funnels, strict=False):
        root = ElementTree.fromstring(svg)  # well-formed XML
        bars = root.findall("{http://www.w3.org/2000/svg}rect")
        assert [int(b.get("data-value") or -1) for b in bars] == [
            s["after"] for s in funnel["steps"]
        ]
        widths = [float(b.get("width") or 0) for b in bars]
        assert widths == sorted(widths, reverse=True)  # a funnel only narrows
        assert widths[0] == round(420 * funnel["steps"][0]["after"] / 13, 1)
    missing = ElementTree.fromstring(svgs[-1])
    labels = [t.text for t in missing.iter("{http://www.w3.org/2000/svg}text")][::2]
    facts = read_csv(out / "missing.csv")
    assert labels == [
        f["fact"] if len(f["fact"]) <= 44 else f["fact"][:43] + "\u2026" for f in facts[:20]
    ]


def test_nothing_but_the_summary_line_when_piped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out = screen(tmp_path, str(BULK))
    assert status == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"screened 13 patient(s) against 5 trial(s) as of {AS_OF}; 0 skipped; tables in {out}\n"
    )


def test_library_screen_returns_arrow_tables_equal_to_the_files(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import datetime

    import matcher

    trials = matcher.load_trials()
    result = matcher.screen(BULK, trials, as_of=datetime.date.fromisoformat(AS_OF))
    status, out = screen(tmp_path, str(BULK), "--format", "parquet")
    assert status == 0
    import pyarrow.parquet as pq

    assert result.verdicts.equals(pq.read_table(out / "verdicts.parquet"))
    assert result.criteria.equals(pq.read_table(out / "criteria.parquet"))
    golden = json.loads((GOLDEN / "bulk10_attrition.json").read_text(encoding="utf-8"))
    assert [a.as_dict() for a in result.attrition] == golden
    # Patients in memory give the same verdicts as the export they came from.
    patients = [matcher.patient_from_data(b) for b in bundles(BULK).values()]
    again = matcher.screen(patients, trials, as_of=datetime.date.fromisoformat(AS_OF))
    assert sorted(again.verdicts.to_pylist(), key=str) == sorted(
        result.verdicts.to_pylist(), key=str
    )
    with pytest.raises(matcher.InputError):
        matcher.screen(BULK, trials, as_of=datetime.date(2026, 11, 21), without=["nothing"])


def test_the_manifest_decides_which_files_are_read(tmp_path: Path) -> None:
    """A manifest that lists no MedicationRequest output: the file beside it is not read, and
    the medications section is not reviewed ("no ketamine on record" proves nothing)."""
    export = tmp_path / "export"
    shutil.copytree(BULK, export)
    outputs = [
        {"type": kind, "url": f"https://example.com/files/{kind}.000.ndjson"}
        for kind in ("Patient", "Condition")
    ]
    manifest = {"transactionTime": "2024-08-06T18:12:57Z", "output": outputs, "error": []}
    (export / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    status, out = screen(tmp_path, str(export), "--trial", "NCT00579085")
    assert status == 0
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["resource_types"] == ["Condition", "Patient"]
    rows = read_csv(out / "criteria.csv")
    assert {r["outcome"] for r in rows if r["criterion"] == "ketamine_naive"} == {"unknown"}
    full_status, full = screen(tmp_path, str(BULK), "--trial", "NCT00579085", name="full")
    assert full_status == 0
    rows = read_csv(full / "criteria.csv")
    assert {r["outcome"] for r in rows if r["criterion"] == "ketamine_naive"} == {"met"}


def test_csv_text_is_what_the_csv_module_writes(tmp_path: Path) -> None:
    """The CSV tables are encoded per distinct answer (``CsvText``); the bytes must be those of
    ``csv.writer`` over ``matrix_rows``, also for ids that need quoting, dates and scores."""
    from datetime import date

    from matcher.evaluation.batch import OutcomeMatrix, TrialColumns, TrialShape
    from matcher.panel.screen import FileSink, matrix_rows
    from matcher.panel.tables import COLUMNS, TableWriter

    shapes = [
        TrialShape("NCT1", (("age", "inclusion"), ('say "no"', "exclusion"))),
        TrialShape("NCT,2", (("a\nb", "inclusion"),)),
    ]
    patients = ("p1", "p,2", 'p"3', "", "p\r5")
    n = len(patients)
    columns = (
        TrialColumns(
            shapes[0],
            [0, 1, 2, 1, 0],
            [0.0, 0.4567, 0.9, 1e-05, 0.25],
            [None, date(2027, 1, 2), None, None, date(2026, 12, 31)],
            [(0, 2), (1, 3), (2, 0), (1, 1), (0, 2)],
            [()] * n,
        ),
        TrialColumns(
            shapes[1],
            [2, 2, 1, 0, 1],
            [1.0, 0.75, 0.5, 0.0, 0.5],
            [None] * n,
            [(2,), (2,), (1,), (0,), (3,)],
            [()] * n,
        ),
    )
    matrix = OutcomeMatrix(date(2026, 11, 21), patients, [2] * n, columns)
    sink = FileSink(tmp_path / "fast", "csv")
    sink.matrix(matrix)
    sink.matrix(matrix)  # the second batch reuses the encoded answers
    sink._verdicts.close()
    sink._criteria.close()
    sink._errors.close()
    verdicts, criteria = matrix_rows(matrix)
    for name, rows in (("verdicts", verdicts), ("criteria", criteria)):
        writer = TableWriter(tmp_path / f"{name}.csv", COLUMNS[name], "csv")
        for row in rows + rows:
            writer.write(row)
        writer.close()
        expected = (tmp_path / f"{name}.csv").read_bytes()
        assert (tmp_path / "fast" / f"{name}.csv").read_bytes() == expected
        assert expected.count(b'"') > 0  # the quoting was exercised


@pytest.mark.parametrize(
    "text",
    [
        '{"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/p"}}',
        '{"value": NaN, "low": -Infinity}',  # json reads these, orjson refuses them
        '{"n": 123456789012345678901234567890}',  # beyond 64 bits: orjson reads a float
        '{"n": -9223372036854775809, "m": 18446744073709551615}',
        '{"x": 0.30000000000000004441, "y": 1.7976931348623157e308, "z": 5e-324}',
        '{"s": "\\ud800"}',  # a lone surrogate: orjson refuses it
        '{"a": 1, "a": 2}',  # the last of duplicate keys, both ways
        '{"x": 1e400, "y": -0.0, "z": 0.1, "t": "caf\\u00e9 \u00e9"}',
        "[1, 2",
        '{"a": 1} trailing',
        "",
    ],
)
def test_load_line_reads_every_line_as_json_does(text: str) -> None:
    """The Bulk reader's ``load_line`` (orjson when installed) gives json's value, or json's
    error with its message and column: the lines orjson refuses are json's to decide. An
    integer beyond 64 bits comes as the nearest float (orjson's reading, documented)."""
    from matcher.panel.reading import load_line

    try:
        expected = json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(json.JSONDecodeError) as raised:
            load_line(text)
        assert (type(raised.value), raised.value.msg, raised.value.colno) == (
            json.JSONDecodeError,
            exc.msg,
            exc.colno,
        )
    else:
        if isinstance(expected, dict):  # orjson: an integer beyond 64 bits as the nearest float
            wide = {k: v for k, v in expected.items() if type(v) is int}
            expected |= {k: float(v) for k, v in wide.items() if not -(2**63) <= v < 2**64}
        assert repr(load_line(text)) == repr(expected)
