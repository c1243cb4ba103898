"""Input hygiene: what a person or a program commonly gets wrong, and what matcher then says.

Issue 12 item 5 (input hygiene), the input parts of item 3 (NDJSON, size caps, time zones) and
issue 19 items 4 to 6 (dates and durations, criteria that can never match, errors without a
position). Each case asserts the whole outcome: the patient read, or the complete diagnostics, and
for the command line the exit status and the complete stderr.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import date, datetime
from pathlib import Path
from unittest import mock

import pytest
from helpers import BASE_TRIAL, DATA, TrialFolder

import matcher
from matcher.cli import main
from matcher.core.dates import PartialDate
from matcher.core.errors import Diagnostic

AS_OF = date(2026, 11, 21)
MB = 1024 * 1024
VETERAN = DATA / "patients" / "veteran.yaml"
SYNTHEA = next((DATA / "fhir" / "synthea").glob("*.json"))


def cli(
    capsys: pytest.CaptureFixture[str], *args: str, stdin: io.BufferedIOBase | bytes = b""
) -> tuple[int, str, str]:
    """Run ``matcher`` in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    raw = io.BytesIO(stdin) if isinstance(stdin, bytes) else stdin
    with mock.patch.object(sys, "stdin", io.TextIOWrapper(raw)):
        status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def refused(text: str | bytes, source: str = "p") -> tuple[Diagnostic, ...]:
    with pytest.raises(matcher.MatcherError) as caught:
        matcher.patient_from_text(text, source=source)
    return caught.value.diagnostics  # type: ignore[attr-defined,no-any-return]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


# --- patient_from_text and bytes ---------------------------------------------------------------


def test_patient_from_bytes_reads_as_from_text() -> None:
    for path in (VETERAN, SYNTHEA):
        raw = path.read_bytes()
        assert matcher.patient_from_text(raw) == matcher.patient_from_text(raw.decode("utf-8"))


def test_bytes_that_are_not_utf8_are_refused_at_the_first_bad_byte() -> None:
    assert refused(b"id: x\nsex: f\xe9minin\n") == (
        Diagnostic("not-utf8", "byte 0xe9 is not valid UTF-8; save the file as UTF-8", "p", 2, 7),
    )


def test_truncated_json_in_bytes_is_a_json_error() -> None:
    """JSON is recognised by its first character before YAML is tried (no extension to go by)."""
    text = SYNTHEA.read_bytes()[:5000]
    (problem,) = refused(text)
    assert (problem.code, problem.file) == ("json-syntax", "p")
    assert problem.line > 1


def test_something_else_than_text_is_an_argument_error() -> None:
    assert refused(42) == (  # type: ignore[arg-type]
        Diagnostic("invalid-argument", "patient_from_text takes text (str) or bytes, not int", "p"),
    )


# --- values as people write them ---------------------------------------------------------------


def test_a_year_written_as_a_number_is_a_partial_date() -> None:
    patient = matcher.patient_from_text(
        "id: x\nbirth_date: 1981\nconditions: [{display: a, onset: 2020}]\n"
    )
    assert patient.birth_date == PartialDate(1981)
    assert patient.conditions[0].onset == PartialDate(2020)
    assert refused("id: x\nbirth_date: 81\n") == (
        Diagnostic(
            "invalid-value",
            "expected a date as YYYY-MM-DD (or YYYY-MM, YYYY), got int",
            "p",
            2,
            13,
            "birth_date",
        ),
    )


def test_coded_values_are_read_in_any_case() -> None:
    text = (
        "id: x\nsex: Female\nattributes: {military_status: Active-Duty}\n"
        "unreviewed: [Conditions]\nconditions: [{display: a, clinical_status: Active, "
        "verification_status: Entered-In-Error}]\n"
        "medications: [{display: b, status: On Hold}]\n"
    )
    patient = matcher.patient_from_text(text)
    assert patient == matcher.Patient(
        id="x",
        sex="female",
        attributes={"military_status": "active_duty"},
        unreviewed=("conditions",),
        conditions=[
            {"display": "a", "clinical_status": "active", "verification_status": "entered_in_error"}
        ],
        medications=[{"display": "b", "status": "on_hold"}],
    )


# --- the library's own arguments ---------------------------------------------------------------


def test_check_refuses_a_datetime_as_of() -> None:
    patient = matcher.load_patient(VETERAN)
    with pytest.raises(matcher.InputError) as caught:
        matcher.check(patient, matcher.load_trials(), as_of=datetime(2026, 11, 21, 12, 0))
    assert caught.value.diagnostics == (
        Diagnostic(
            "invalid-argument",
            "expected a calendar date (datetime.date), got a datetime: the as-of date has no time "
            "of day; pass as_of.date() for the date as written",
            "<check>",
            path="as_of",
        ),
    )


def test_check_refuses_what_is_not_a_patient() -> None:
    with pytest.raises(matcher.InputError) as caught:
        matcher.check({"id": "x"}, matcher.load_trials(), as_of=AS_OF)  # type: ignore[arg-type]
    assert caught.value.diagnostics == (
        Diagnostic(
            "invalid-argument",
            "expected a matcher.Patient (see load_patient), got dict",
            "<check>",
            path="patient",
        ),
    )


def test_a_patient_built_in_code_with_bad_fields_is_a_patient_error() -> None:
    with pytest.raises(matcher.PatientError) as caught:
        matcher.Patient(id="x", birth_date="2026-02-30", sex="unknown", medications=[{"code": 5}])
    assert caught.value.diagnostics == (
        Diagnostic(
            "invalid-value",
            "not a real date: day is out of range for month",
            "<Patient>",
            path="birth_date",
        ),
        Diagnostic("invalid-value", "expected 'female' or 'male'", "<Patient>", path="sex"),
        Diagnostic(
            "invalid-value",
            'expected text, got a number: write codes in quotes (code: "0123"); unquoted, YAML '
            "reads them as numbers and drops leading zeros",
            "<Patient>",
            path="medications[0].code",
        ),
    )
    with pytest.raises(matcher.PatientError):
        matcher.Condition(system="icd10cm")


# --- how much is read ---------------------------------------------------------------------------


class _Endless(io.RawIOBase):
    """A stream that never ends (an endless pipe), counting what was read from it."""

    def __init__(self, fill: bytes) -> None:
        self.fill = fill
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        size = len(buffer)
        buffer[:size] = (self.fill * (size // len(self.fill) + 1))[:size]
        self.read_bytes += size
        return size


@pytest.mark.parametrize(
    ("fill", "limit"),
    [
        (b"# comment\n", "input is larger than 8 MB; the limit for YAML is 8 MB"),
        (b"[" + b" " * 99, "input is larger than 128 MB; the limit for JSON is 128 MB"),
    ],
    ids=["yaml", "json"],
)
def test_an_endless_stdin_stops_at_the_size_cap(
    capsys: pytest.CaptureFixture[str], fill: bytes, limit: str
) -> None:
    stream = _Endless(fill)
    status, out, err = cli(capsys, "check", "-", stdin=io.BufferedReader(stream))
    assert (status, out, err) == (3, "", f"<stdin>: file-too-large: {limit}\n")
    cap = 8 * MB if fill[:1] == b"#" else 128 * MB
    assert cap < stream.read_bytes <= cap + 2 * MB


def test_standard_input_has_the_size_cap_of_files(capsys: pytest.CaptureFixture[str]) -> None:
    big = b"id: big\n" + b"#" * (9 * MB) + b"\n"
    assert cli(capsys, "check", "-", stdin=big) == (
        3,
        "",
        "<stdin>: file-too-large: input is larger than 8 MB; the limit for YAML is 8 MB\n",
    )
    with pytest.raises(matcher.InputError) as caught:
        matcher.patient_from_text(big, source="body")
    assert caught.value.diagnostics == (
        Diagnostic("file-too-large", "file is 9.0 MB; the limit for YAML is 8 MB", "body"),
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_as_the_patient_stops_at_the_size_cap(capsys: pytest.CaptureFixture[str]) -> None:
    message = "input is larger than 8 MB; the limit for YAML is 8 MB"
    with pytest.raises(matcher.InputError) as caught:
        matcher.load_patient("/dev/zero")
    assert caught.value.diagnostics == (Diagnostic("file-too-large", message, "/dev/zero"),)
    assert cli(capsys, "check", "/dev/zero") == (3, "", f"/dev/zero: file-too-large: {message}\n")


def test_the_size_cap_follows_the_content_not_the_name(tmp_path: Path) -> None:
    """A 9 MB JSON profile named ``.txt`` is JSON, whose cap is 128 MB; YAML text is capped at
    8 MB whatever its name."""
    padded = '{"id": "big",' + " " * (9 * MB) + '"sex": "male"}'
    assert matcher.load_patient(write(tmp_path, "big.txt", padded)).id == "big"
    assert matcher.load_patient(write(tmp_path, "big", padded)).id == "big"
    yaml_text = "id: big\n" + "#" * (9 * MB) + "\n"
    path = write(tmp_path, "big.txt", yaml_text)
    with pytest.raises(matcher.InputError) as caught:
        matcher.load_patient(path)
    assert caught.value.diagnostics == (
        Diagnostic("file-too-large", "file is 9.0 MB; the limit for YAML is 8 MB", str(path)),
    )


# --- NDJSON -------------------------------------------------------------------------------------


NDJSON = (
    '{"resourceType": "Patient", "id": "a", "gender": "female"}\n'
    '{"resourceType": "Patient", "id": "b", "gender": "male"}\n'
)
BULK = (
    "one JSON value per line (NDJSON, as a FHIR Bulk Data export is written): this is a bulk "
    "export of many records, and matcher check reads one patient (a Bundle, a Patient resource "
    "or a profile); screening an export is not supported yet"
)


@pytest.mark.parametrize("name", ["Patient.ndjson", "export.json", "export"])
def test_ndjson_is_refused_as_a_bulk_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = write(tmp_path, name, NDJSON)
    with pytest.raises(matcher.PatientError) as caught:
        matcher.load_patient(path)
    assert caught.value.diagnostics == (Diagnostic("bulk-export", BULK, str(path), 2, 1),)
    assert cli(capsys, "check", str(path)) == (
        3,
        "",
        f"{path}:2:1: bulk-export: {BULK}\nmatcher: error: the patient file cannot be used\n",
    )


# --- dates with a time zone ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("2013-04-21T22:26:37+05:00", date(2013, 4, 21)),  # 17:26 in UTC: the same day
        ("2013-04-21T23:30:00-08:00", date(2013, 4, 21)),  # 07:30 on 04-22 in UTC
        ("2013-04-21T00:15:00+14:00", date(2013, 4, 21)),  # 10:15 on 04-20 in UTC
        ("2013-04-21T23:59:60Z", date(2013, 4, 21)),  # a leap second
    ],
)
def test_a_date_time_is_the_calendar_day_written(written: str, day: date) -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "tz"}},
            {
                "resource": {
                    "resourceType": "Condition",
                    "code": {"text": "Gout"},
                    "onsetDateTime": written,
                }
            },
        ],
    }
    assert matcher.patient_from_data(bundle).conditions[0].onset == PartialDate.of(day)
    profile = matcher.patient_from_text(
        f"id: tz\nconditions: [{{display: Gout, onset: '{written}'}}]\n"
    )
    assert profile.conditions[0].onset == PartialDate.of(day)


# --- issue 19 item 4: digits, times, --as-of --------------------------------------------------


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("١٩٧٩-٠٤-١٢", "expected a date as YYYY-MM-DD (or YYYY-MM, YYYY)"),
        (
            "\uff11\uff19\uff17\uff19-\uff10\uff14-\uff11\uff12",
            "expected a date as YYYY-MM-DD (or YYYY-MM, YYYY)",
        ),
        (
            "2020-01-01T99:99:99+99:99",
            "not a real time of day: hours are 00-23, minutes 00-59, and a time zone is at most "
            "14 hours from UTC",
        ),
        (
            "2020-01-01T10:00:00+14:30",
            "not a real time of day: hours are 00-23, minutes 00-59, and a time zone is at most "
            "14 hours from UTC",
        ),
    ],
)
def test_dates_in_other_digits_or_with_impossible_times_are_refused(
    written: str, message: str
) -> None:
    assert refused(f"id: x\nbirth_date: '{written}'\n") == (
        Diagnostic("invalid-value", message, "p", 2, 13, "birth_date"),
    )


@pytest.mark.parametrize(
    "within", ["\uff13 months", "\u0663 months", "3\u00a0months", "73200 years", "2401 months"]
)
def test_durations_in_other_digits_or_over_200_years_are_refused(
    folder: TrialFolder, within: str
) -> None:
    rule = f"medication: {{concept: test_drugs, within: '{within}'}}"
    path = folder.write("NCT00000001.yaml", BASE_TRIAL.replace("age: {min: 18}", rule))
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(path)
    long = within.endswith(("years", "01 months"))
    message = (
        "a duration cannot be longer than 200 years"
        if long
        else "expected a duration such as '30 days', '12 weeks', '3 months' or '1 year'"
    )
    assert caught.value.diagnostics == (
        Diagnostic(
            "invalid-duration",
            message,
            str(path),
            12,
            49,
            "inclusion[0].rule.medication.within",
        ),
    )


@pytest.mark.parametrize(
    "value",
    [
        "20261121",
        "2026-W47-6",
        "2026-11-21T00:00",
        "\uff12\uff10\uff12\uff16-\uff11\uff11-\uff12\uff11",
    ],
)
def test_as_of_takes_one_form(capsys: pytest.CaptureFixture[str], value: str) -> None:
    assert cli(capsys, "check", str(VETERAN), "--as-of", value) == (
        2,
        "",
        "Usage: matcher check [OPTIONS] PATIENT_FILE\nTry 'matcher check --help' for help.\n\n"
        f"Error: Invalid value for '--as-of': {value!r} is not a date as YYYY-MM-DD "
        "(such as 2026-11-21)\n",
    )


# --- issue 19 item 6: every problem has a position ----------------------------------------------


def test_an_empty_key_has_a_path() -> None:
    assert refused('{"id": "x", "conditions": [{"display": "a", "": 1}]}') == (
        Diagnostic(
            "unknown-key",
            "a key with no name: write the field name before the colon",
            "p",
            path='conditions[0][""]',
        ),
    )
    assert refused("id: x\n'': 1\n") == (
        Diagnostic(
            "unknown-key",
            "a key with no name: write the field name before the colon",
            "p",
            2,
            1,
            '[""]',
        ),
    )


def test_check_time_errors_point_at_the_birth_date_where_it_was_read(tmp_path: Path) -> None:
    message = "birth date is after the as-of date"
    trials = matcher.load_trials()
    cases = [
        (write(tmp_path, "p.yaml", "id: x\nbirth_date: 2030-01-01\n"), 2, 13, "birth_date"),
        (write(tmp_path, "p.json", '{"id": "x", "birth_date": "2030"}'), 0, 0, "birth_date"),
        (
            write(
                tmp_path,
                "b.json",
                json.dumps(
                    {
                        "resourceType": "Bundle",
                        "entry": [{"resource": {"resourceType": "Patient", "birthDate": "2030"}}],
                    }
                ),
            ),
            0,
            0,
            "entry[0].resource.birthDate",
        ),
    ]
    for path, line, column, where in cases:
        patient = matcher.load_patient(path)
        with pytest.raises(matcher.PatientError) as caught:
            matcher.check(patient, trials, as_of=AS_OF)
        assert caught.value.diagnostics == (
            Diagnostic("invalid-patient", message, str(path), line, column, where),
        )


# --- hints, privacy and escapes -----------------------------------------------------------------


def test_hints_where_people_err() -> None:
    text = (
        "id: x\ngender: male\ndob: 1981-04-12\n"
        "medications:\n  - {display: a, system: rxnorm, code: 310431, end: ongoing}\n"
    )
    assert refused(text) == (
        Diagnostic(
            "unknown-key",
            "unknown key 'gender'; did you mean 'sex'? (biological sex: female or male)",
            "p",
            2,
            1,
            "gender",
        ),
        Diagnostic(
            "unknown-key", "unknown key 'dob'; did you mean 'birth_date'?", "p", 3, 1, "dob"
        ),
        Diagnostic(
            "invalid-value",
            'expected text, got a number: write codes in quotes (code: "0123"); unquoted, YAML '
            "reads them as numbers and drops leading zeros",
            "p",
            5,
            40,
            "medications[0].code",
        ),
        Diagnostic(
            "invalid-value",
            "expected a date as YYYY-MM-DD, not a word: a record still going on has no end date, "
            "so leave 'end' out",
            "p",
            5,
            53,
            "medications[0].end",
        ),
    )


def test_an_unknown_key_holding_a_code_stays_out_of_messages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "p.yaml", "id: x\nconditions: [{code:G90.511, system: icd10cm}]\n")
    joined = (
        "unknown key: a colon with no space after it joins the key 'code' to its value; "
        "write 'code: ...'"
    )
    problem = Diagnostic("unknown-key", joined, str(path), 2, 15, "conditions[0][?]")
    status, out, err = cli(capsys, "check", str(path))
    assert (status, out, err) == (
        3,
        "",
        f"{problem.render()}\nmatcher: error: the patient file cannot be used\n",
    )
    hidden = "unknown key (not shown: it holds digits or punctuation, as data do)"
    assert refused('{"id": "x", "conditions": [{"G90.511": true, "display": "a"}]}') == (
        Diagnostic("unknown-key", hidden, "p", path="conditions[0][?]"),
    )
    assert refused('{"id": "x", "attributes": {"G90.511": true}}') == (
        Diagnostic(
            "unknown-attribute",
            "unknown attribute (known: military_status, fr_social_security)",
            "p",
            path="attributes",
        ),
    )


FORGED = "x\nforged.yaml:1:1: yaml-syntax: \x1b[31mrecoloured\u202e"


def test_keys_and_values_are_escaped_when_printed(
    folder: TrialFolder, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trial = folder.write("NCT00000001.yaml", BASE_TRIAL + f"{json.dumps(FORGED)}: 1\n")
    status, out, err = cli(capsys, "lint", str(trial))
    assert (status, out, err) == (
        1,
        "",
        f"{trial}:13:1: unknown-key: unknown key 'x\\nforged.yaml:1:1: yaml-syntax: "
        f"\\x1b[31mrecoloured\\u202e' "
        f'(at ["x\\nforged.yaml:1:1: yaml-syntax: \\u001b[31mrecoloured\\u202e"])\n'
        # The source line under it holds the YAML escapes as written, not what they stand for.
        ' 13 | "x\\nforged.yaml:1:1: yaml-syntax: \\u001b[31mrecoloured\\u202e": 1\n'
        "    | ^\n"
        "1 problem found\n",
    )
    patient = write(
        tmp_path,
        "p.json",
        json.dumps({"id": FORGED, "medications": [{"display": FORGED, "status": "active"}]}),
    )
    status, out, err = cli(capsys, "check", str(patient), "--as-of", "2026-11-21", "--explain")
    assert (status, err) == (0, "")
    assert "\x1b" not in out and "\u202e" not in out and "\nforged" not in out
    assert "x\\nforged.yaml:1:1: yaml-syntax: \\x1b[31mrecoloured\\u202e" in out


# --- criteria folders ---------------------------------------------------------------------------


def test_yml_files_and_subfolders_are_read(folder: TrialFolder) -> None:
    folder.write("NCT00000001.yml", BASE_TRIAL)
    (folder.root / "site-b").mkdir()
    folder.write("site-b/NCT00000002.yaml", BASE_TRIAL.replace("01", "02"))
    (folder.root / ".drafts").mkdir()
    folder.write(".drafts/NCT00000003.yaml", "not: a trial\n")
    folder.write(".NCT00000004.yaml", "not: a trial\n")
    catalog = matcher.load_trials(folder.root)
    assert [trial.id for trial in catalog] == ["NCT00000001", "NCT00000002"]
    assert catalog.trials[1].file == str(folder.root / "site-b" / "NCT00000002.yaml")


def test_a_yml_trial_file_is_named_after_its_id(folder: TrialFolder) -> None:
    path = folder.write("NCT00000009.yml", BASE_TRIAL)
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(path)
    assert caught.value.diagnostics == (
        Diagnostic(
            "file-name",
            "the file of trial NCT00000001 must be named NCT00000001.yml",
            str(path),
            1,
            5,
            "id",
        ),
    )


def test_a_folder_without_trial_files_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no trials here\n", encoding="utf-8")
    problem = Diagnostic(
        "no-trial-files",
        "the folder holds no trial file (*.yaml or *.yml, in it or in a subfolder)",
        str(empty),
    )
    for strict in (True, False):
        with pytest.raises(matcher.CriteriaError) as caught:
            matcher.load_trials(empty, strict=strict)
        assert caught.value.diagnostics == (problem,)
    assert cli(capsys, "lint", str(empty)) == (1, "", f"{problem.render()}\n")
    assert cli(capsys, "check", str(VETERAN), "--criteria", str(empty)) == (
        4,
        "",
        f"{problem.render()}\nmatcher: error: no trial file to screen against\n",
    )


def test_a_path_too_long_for_the_system_is_a_located_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = str(tmp_path / ("x" * 300) / "NCT00000001.yaml")
    problem = f"{long}: file-unreadable: cannot read: File name too long\n"
    assert cli(capsys, "check", str(VETERAN), "--criteria", long) == (
        4,
        "",
        problem + "matcher: error: cannot read the criteria\n",
    )
    assert cli(capsys, "lint", long) == (1, "", problem)
    assert cli(capsys, "test", long) == (
        4,
        "",
        problem + "matcher: error: cannot read the criteria\n",
    )
    assert cli(capsys, "explain", long) == (
        4,
        "",
        problem + "matcher: error: cannot read the criteria\n",
    )
    assert cli(capsys, "check", long) == (3, "", problem)


# --- concept sets: positions, and names that could never match ---------------------------------


def test_concept_set_problems_have_their_line_and_column(folder: TrialFolder) -> None:
    concepts = folder.root / "concepts"
    (concepts / "bad_include.yaml").write_text(
        "name: bad_include\nkind: medication\ntitle: t\ndescription: d\nsource: s\n"
        "includes:\n  - test_drugs\n  - tset_drugs\n  - test_condition\n",
        encoding="utf-8",
    )
    (concepts / "nothing.yml").write_text(
        "name: nothing\nkind: condition\ntitle: t\ndescription: d\nsource: s\n", encoding="utf-8"
    )
    (concepts / "misnamed.yaml").write_text(
        "kind: condition\ntitle: t\ndescription: d\nsource: s\nnames: [x y]\nname: other\n",
        encoding="utf-8",
    )
    folder.write("NCT00000001.yaml", BASE_TRIAL)
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(folder.root)
    assert caught.value.diagnostics == (
        Diagnostic(
            "unknown-concept",
            "unknown concept set 'tset_drugs'; did you mean 'test_drugs'?",
            str(concepts / "bad_include.yaml"),
            8,
            5,
            "includes[1]",
        ),
        Diagnostic(
            "concept-kind",
            "'test_condition' is a condition set; a medication set can only include medication "
            "sets",
            str(concepts / "bad_include.yaml"),
            9,
            5,
            "includes[2]",
        ),
        Diagnostic(
            "file-name",
            "the file of concept set 'other' must be named other.yaml",
            str(concepts / "misnamed.yaml"),
            6,
            7,
            "name",
        ),
        Diagnostic(
            "missing-key",
            "a concept set needs 'names', 'codes' or 'includes'",
            str(concepts / "nothing.yml"),
            1,
            1,
        ),
    )


@pytest.mark.parametrize("name", ["\u30b1\u30bf\u30df\u30f3", "--", "\u00b7\u00b7\u00b7"])
def test_names_that_give_no_word_are_refused(folder: TrialFolder, name: str) -> None:
    concepts = folder.root / "concepts"
    (concepts / "foreign.yaml").write_text(
        "name: foreign\nkind: medication\ntitle: t\ndescription: d\nsource: s\n"
        f"names: [ketamine, {json.dumps(name)}]\n",
        encoding="utf-8",
    )
    rule = f"medication: {{ingredient: {json.dumps(name)}, ever: true}}"
    trial = folder.write("NCT00000001.yaml", BASE_TRIAL.replace("age: {min: 18}", rule))
    message = "gives no word to match, so it could never match a record"
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(folder.root)
    assert caught.value.diagnostics == (
        Diagnostic(
            "invalid-value",
            f"a name needs Latin letters or digits (accents are folded): this one {message}",
            str(concepts / "foreign.yaml"),
            6,
            19,
            "names[1]",
        ),
    )
    (concepts / "foreign.yaml").unlink()
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(folder.root)
    assert caught.value.diagnostics == (
        Diagnostic(
            "invalid-value",
            f"an ingredient needs Latin letters or digits (accents are folded): this one {message}",
            str(trial),
            12,
            32,
            "inclusion[0].rule.medication.ingredient",
        ),
    )
