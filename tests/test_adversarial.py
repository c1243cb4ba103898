"""Hostile and broken input, one case at a time, each with the whole outcome asserted.

Patient files come first (the criteria side is mostly in ``test_criteria_errors.py`` and
``test_cli.py``; only what those do not cover is here). Each case states what a library caller
gets -- the exception class and its complete diagnostics -- and, where the CLI adds something, the
exit status and the complete stderr. The README's "Failure modes" table summarises them.

The last section holds the regression tests of the bugs that ``test_properties.py`` found, each
named after what broke.
"""

from __future__ import annotations

import io
import json
import sys
import time
from datetime import date
from pathlib import Path
from unittest import mock

import pytest
from helpers import BASE_TRIAL, DATA, TrialFolder

import matcher
from matcher.cli import main
from matcher.core.errors import Diagnostic
from matcher.core.source import SourceProblems, parse_text

AS_OF = date(2026, 11, 21)
MB = 1024 * 1024
PAIN = "{system: loinc, code: 72514-3, unit: '{score}', date: 2026-11-10, value: %s}"


def refused(path: Path) -> matcher.MatcherError:
    """The error ``load_patient`` raises for ``path`` (the test fails if it returns a patient)."""
    with pytest.raises(matcher.MatcherError) as caught:
        matcher.load_patient(path)
    return caught.value


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """Run ``matcher`` in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    with mock.patch.object(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin))):
        status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def criteria_problems(folder: TrialFolder, text: str | bytes) -> tuple[Diagnostic, ...]:
    path = folder.root / "NCT00000001.yaml"
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(path)
    return caught.value.diagnostics


def with_rule(rule: str) -> str:
    """The base trial with its one rule replaced (``rule`` is YAML at rule indentation)."""
    head = BASE_TRIAL.split("    rule:\n")[0]
    return head + "    rule:\n" + "".join(f"      {line}\n" for line in rule.splitlines())


# --- size and shape of the whole file ----------------------------------------------------------


def test_alias_bomb_patient_is_refused_without_expanding(tmp_path: Path) -> None:
    lines = ["id: laughs", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 10)}]")
    path = write(tmp_path, "bomb.yaml", "\n".join(lines) + "\n")
    started = time.perf_counter()
    error = refused(path)
    assert time.perf_counter() - started < 10.0  # expanded, 10**9 strings: never finishes in time
    assert isinstance(error, matcher.PatientError)
    assert error.diagnostics == (
        Diagnostic(
            "yaml-too-complex",
            "the document expands to more than 2,000,000 values (anchors and aliases repeated "
            "too often)",
            str(path),
            8,
            15,
        ),
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            "deep.yaml",
            "id: x\nattributes: " + "[" * 100_000 + "]" * 100_000 + "\n",
            ("the document nests deeper than 100 levels", 2, 112),
        ),
        (
            "deep.json",
            '{"id": "x", "attributes": ' + "[" * 100_000 + "]" * 100_000 + "}",
            ("the document nests deeper than 100 levels", 1, 126),
        ),
    ],
)
def test_deeply_nested_patient_is_refused_without_recursion(
    tmp_path: Path, name: str, text: str, expected: tuple[str, int, int]
) -> None:
    path = write(tmp_path, name, text)
    message, line, column = expected
    assert refused(path).diagnostics == (
        Diagnostic("yaml-too-complex", message, str(path), line, column),
    )


def test_50_mb_yaml_patient_is_refused_unread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "big.yaml", "id: big\n" + "#" * (50 * MB) + "\n")
    error = refused(path)
    assert isinstance(error, matcher.InputError)
    message = "file is 50.0 MB; the limit for YAML is 8 MB"
    assert error.diagnostics == (Diagnostic("file-too-large", message, str(path)),)
    assert cli(capsys, "check", str(path)) == (3, "", f"{path}: file-too-large: {message}\n")


def test_50_mb_json_patient_is_read_and_its_fields_checked(tmp_path: Path) -> None:
    """JSON (FHIR bundles) may be up to 128 MB; size alone is no reason to refuse it."""
    padded = write(tmp_path, "padded.json", '{"id": "big",' + " " * (50 * MB) + '"sex": "male"}')
    assert matcher.load_patient(padded).id == "big"
    text = json.dumps({"id": "big", "conditions": [{"display": "x" * (50 * MB)}]})
    huge_name = write(tmp_path, "name.json", text)
    assert refused(huge_name).diagnostics == (
        Diagnostic(
            "invalid-value",
            "String should have at most 2000 characters",
            str(huge_name),
            path="conditions[0].display",
        ),
    )


def test_50_mb_criteria_file_is_reported_and_the_others_still_load(folder: TrialFolder) -> None:
    folder.write("NCT00000001.yaml", BASE_TRIAL)
    big = folder.root / "NCT00000002.yaml"
    big.write_bytes(BASE_TRIAL.replace("01", "02").encode() + b"#" * (50 * MB) + b"\n")
    catalog = matcher.load_trials(folder.root, strict=False)
    assert [trial.id for trial in catalog] == ["NCT00000001"]
    assert catalog.problems == (
        Diagnostic(
            "file-too-large",
            "file is 50.0 MB; the limit for YAML is 8 MB",
            str(big),
        ),
    )


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("empty.yaml", "", ("empty-document", "the file holds no document", 1, 1)),
        (
            "comment.yaml",
            "# no patient yet\n",
            ("empty-document", "the file holds no document", 1, 1),
        ),
        ("empty.json", "", ("json-syntax", "Expecting value", 1, 1)),
        ("blank.json", "  \n", ("json-syntax", "Expecting value", 2, 1)),
        (
            "null.yaml",
            "~\n",
            ("not-a-mapping", "a patient file holds a mapping of fields, not nothing (null)", 1, 1),
        ),
        (
            "words.yaml",
            "just some words\n",
            ("not-a-mapping", "a patient file holds a mapping of fields, not a string", 1, 1),
        ),
        (
            "number.json",
            "42",
            ("not-a-mapping", "a patient file holds a mapping of fields, not a number", 1, 1),
        ),
    ],
)
def test_empty_or_shapeless_patient_files(
    tmp_path: Path, name: str, text: str, expected: tuple[str, str, int, int]
) -> None:
    path = write(tmp_path, name, text)
    code, message, line, column = expected
    error = refused(path)
    assert isinstance(error, matcher.PatientError)
    assert error.diagnostics == (Diagnostic(code, message, str(path), line, column),)


def test_empty_criteria_file(folder: TrialFolder) -> None:
    path = folder.root / "NCT00000001.yaml"
    assert criteria_problems(folder, b"") == (
        Diagnostic("empty-document", "the file holds no document", str(path), 1, 1),
    )


# --- bytes and characters ----------------------------------------------------------------------


def test_binary_garbage_is_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "scan.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x02\x00")
    error = refused(path)
    assert isinstance(error, matcher.InputError)
    message = "byte 0x89 is not valid UTF-8; save the file as UTF-8"
    assert error.diagnostics == (Diagnostic("not-utf8", message, str(path), 1, 1),)
    assert cli(capsys, "check", str(path)) == (3, "", f"{path}:1:1: not-utf8: {message}\n")


def test_control_characters_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, "ctrl.yaml", b"id: x\nsex: male\x00\x01\n")
    assert refused(path).diagnostics == (
        Diagnostic(
            "yaml-syntax",
            "unacceptable character U+0000: control characters are not allowed",
            str(path),
            2,
            10,
        ),
    )


@pytest.mark.parametrize(
    ("name", "content", "byte", "column"),
    [
        ("windows.yaml", "id: x\n".encode("utf-16"), 0xFF, 1),  # Notepad's "Unicode"
        ("latin1.json", '{"id": "Zoë"}'.encode("latin-1"), 0xEB, 11),
    ],
)
def test_other_encodings_are_refused_at_the_first_bad_byte(
    tmp_path: Path, name: str, content: bytes, byte: int, column: int
) -> None:
    path = write(tmp_path, name, content)
    message = f"byte 0x{byte:02x} is not valid UTF-8; save the file as UTF-8"
    assert refused(path).diagnostics == (Diagnostic("not-utf8", message, str(path), 1, column),)


@pytest.mark.parametrize("name", ["bom.yaml", "bom.json", "bom.txt"])
def test_utf8_bom_is_accepted(tmp_path: Path, name: str) -> None:
    text = '{"id": "p-bom", "sex": "female"}'
    path = write(tmp_path, name, b"\xef\xbb\xbf" + text.encode())
    assert matcher.load_patient(path) == matcher.patient_from_data(json.loads(text))


def test_utf8_bom_on_stdin_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    patient = (DATA / "patients" / "veteran.yaml").read_bytes()
    args = ("check", "-", "--as-of", "2026-11-21", "--format", "json")
    assert cli(capsys, *args, stdin=b"\xef\xbb\xbf" + patient) == cli(capsys, *args, stdin=patient)


def test_tab_indentation_is_a_located_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "tabs.yaml", "id: x\nattributes:\n\tmilitary_status: veteran\n")
    assert refused(path).diagnostics == (
        Diagnostic(
            "yaml-syntax",
            "a tab character indents this line: indent YAML with spaces only",
            str(path),
            3,
            1,
        ),
    )


@pytest.mark.parametrize(
    ("name", "text"), [("sep.yaml", "id:\tp-tab\nsex:\tmale\n"), ("ws.json", '{\t"id":\t"p-tab"}')]
)
def test_tabs_between_tokens_are_accepted(tmp_path: Path, name: str, text: str) -> None:
    assert matcher.load_patient(write(tmp_path, name, text)).id == "p-tab"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id: x\nsex: !!python/object/apply:os.system ['echo hi']\n",
            (
                "yaml-unsupported",
                "the YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not supported",
                2,
                6,
                "sex",
            ),
        ),
        (
            "base: &b {sex: male}\nid: x\n<<: *b\n",
            ("yaml-unsupported", "merge keys ('<<') are not supported", 3, 1, '["<<"]'),
        ),
        (
            "id: x\n---\nid: y\n",
            ("yaml-syntax", "expected one YAML document, found a second one ('---')", 2, 1, ""),
        ),
        ("? [a, b]\n: c\n", ("yaml-unsupported", "a mapping key must be a plain value", 1, 3, "")),
    ],
    ids=["python-tag", "merge-key", "two-documents", "complex-key"],
)
def test_yaml_features_beyond_plain_data_are_refused(
    tmp_path: Path, text: str, expected: tuple[str, str, int, int, str]
) -> None:
    path = write(tmp_path, "features.yaml", text)
    code, message, line, column, at = expected
    assert refused(path).diagnostics == (Diagnostic(code, message, str(path), line, column, at),)


def test_fields_of_the_wrong_name_or_type(tmp_path: Path) -> None:
    path = write(tmp_path, "shape.yaml", "ID: 12345\nsexe: male\nattributes: [veteran]\n")
    assert refused(path).diagnostics == (
        Diagnostic("missing-key", "missing required key 'id'", str(path), 1, 1),
        Diagnostic("unknown-key", "unknown key 'ID'; did you mean 'id'?", str(path), 1, 1, "ID"),
        Diagnostic(
            "unknown-key", "unknown key 'sexe'; did you mean 'sex'?", str(path), 2, 1, "sexe"
        ),
        Diagnostic(
            "not-a-mapping",
            "expected a mapping of keys to values, got a list",
            str(path),
            3,
            13,
            "attributes",
        ),
    )


def test_patient_text_in_memory_reads_as_its_file_does(tmp_path: Path) -> None:
    veteran = DATA / "patients" / "veteran.yaml"
    text = veteran.read_text(encoding="utf-8")
    assert matcher.patient_from_text(text, source="request") == matcher.load_patient(veteran)
    with pytest.raises(matcher.PatientError) as raised:
        matcher.patient_from_text("id: x\nsexe: male\n", source="request")
    assert raised.value.diagnostics == (
        Diagnostic(
            "unknown-key", "unknown key 'sexe'; did you mean 'sex'?", "request", 2, 1, "sexe"
        ),
    )


# --- keys and values ---------------------------------------------------------------------------


def test_duplicate_keys_in_a_yaml_patient(tmp_path: Path) -> None:
    text = (
        "id: x\nsex: male\nconditions:\n  - display: Gout\n    onset: 2020-01-01\n"
        "    onset: 2021-01-01\nsex: female\n"
    )
    path = write(tmp_path, "dup.yaml", text)
    assert refused(path).diagnostics == (
        Diagnostic(
            "duplicate-key",
            "key 'onset' is already defined on line 5; each key may appear once",
            str(path),
            6,
            5,
            "conditions[0].onset",
        ),
        Diagnostic(
            "duplicate-key",
            "key 'sex' is already defined on line 2; each key may appear once",
            str(path),
            7,
            1,
            "sex",
        ),
    )


@pytest.mark.parametrize(
    "data",
    [
        '{"id": "x", "sex": "male", "conditions": [{"display": "Gout", "onset": "2020", '
        '"onset": "2021"}], "sex": "female"}',
        '{"resourceType": "Patient", "id": "x", "gender": "male", "gender": "female", '
        '"birthDate": "1980", "birthDate": "1981"}',
    ],
    ids=["profile", "fhir"],
)
def test_duplicate_keys_in_a_json_patient(tmp_path: Path, data: str) -> None:
    """Each repeated key with its line, column and path, as in YAML."""
    path = write(tmp_path, "dup.json", data)
    profile = "conditions" in data
    first, second = ("onset", "sex") if profile else ("gender", "birthDate")
    at = (
        [(1, 80, "conditions[0].onset"), (1, 99, "sex")]
        if profile
        else [
            (1, 58, "gender"),
            (1, 99, "birthDate"),
        ]
    )
    assert refused(path).diagnostics == tuple(
        Diagnostic(
            "duplicate-key",
            f"key {key!r} is already defined on line 1; each key may appear once",
            str(path),
            line,
            column,
            where,
        )
        for key, (line, column, where) in zip((first, second), at, strict=True)
    )


def test_impossible_dates_in_records(tmp_path: Path) -> None:
    text = (
        "id: x\n"
        "conditions:\n  - {display: Gout, onset: 2026-02-30}\n"
        "medications:\n  - {display: Aspirin, start: 2025-13-01}\n"
        "observations:\n  - " + PAIN % 5 + "\n"
        "deceased_date: 2023-02-29\n"
    ).replace("2026-11-10", "2026-04-31")
    path = write(tmp_path, "dates.yaml", text)
    day = "not a real date: day is out of range for month"
    assert refused(path).diagnostics == (
        Diagnostic("invalid-value", day, str(path), 3, 28, "conditions[0].onset"),
        Diagnostic(
            "invalid-value",
            "not a real date: month must be in 1..12",
            str(path),
            5,
            31,
            "medications[0].start",
        ),
        Diagnostic("invalid-value", day, str(path), 7, 59, "observations[0].date"),
        Diagnostic("invalid-value", day, str(path), 8, 16, "deceased_date"),
    )


def test_impossible_as_of_date_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    patient = str(DATA / "patients" / "veteran.yaml")
    assert cli(capsys, "check", patient, "--as-of", "2026-02-30") == (
        2,
        "",
        "Usage: matcher check [OPTIONS] PATIENT_FILE\nTry 'matcher check --help' for help.\n\n"
        "Error: Invalid value for '--as-of': '2026-02-30' is not a real date (day is out of range "
        "for month)\n",
    )


@pytest.mark.parametrize(
    ("birth", "refused_at_check"),
    [
        ("1876-11-21", False),  # 150 on the as-of date: the oldest age accepted
        ("1876", False),  # could be 149 or 150
        ("1875-11-21", True),  # 151
        ("1066-10-14", True),
    ],
)
def test_ages_over_150_are_refused_when_checked(
    birth: str, refused_at_check: bool, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An age is only known for an as-of date, so the birth date is refused by ``check``."""
    patient = matcher.patient_from_data({"id": "old", "birth_date": birth})
    if not refused_at_check:
        matcher.check(patient, matcher.load_trials(), as_of=AS_OF)
        return
    with pytest.raises(matcher.PatientError) as caught:
        matcher.check(patient, matcher.load_trials(), as_of=AS_OF)
    message = "birth date gives an age over 150 on the as-of date"
    problem = Diagnostic("invalid-patient", message, "<patient>", path="birth_date")
    assert caught.value.diagnostics == (problem,)
    path = write(tmp_path, "old.yaml", f"id: old\nbirth_date: {birth}\n")
    located = Diagnostic("invalid-patient", message, str(path), 2, 13, "birth_date")
    assert cli(capsys, "check", str(path), "--as-of", "2026-11-21") == (
        3,
        "",
        f"{located.render()}\nmatcher: error: the patient file cannot be used\n",
    )


def test_nan_and_infinity_in_yaml_are_refused(tmp_path: Path) -> None:
    text = "id: x\nobservations:\n" + "".join(
        f"  - {PAIN % value}\n" for value in (".nan", ".inf", "-.Inf")
    )
    path = write(tmp_path, "nan.yaml", text)
    assert refused(path).diagnostics == tuple(
        Diagnostic(
            "invalid-value",
            "expected a finite number",
            str(path),
            line,
            78,
            f"observations[{i}].value",
        )
        for i, line in enumerate((3, 4, 5))
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("fhir", [False, True], ids=["profile", "fhir"])
def test_nan_and_infinity_in_json_are_refused(tmp_path: Path, constant: str, fhir: bool) -> None:
    if fhir:
        text = (
            '{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Observation", '
            f'"valueQuantity": {{"value": {constant}}}}}}}]}}'
        )
    else:
        text = f'{{"id": "x", "observations": [{{"display": "pain", "value": {constant}}}]}}'
    path = write(tmp_path, "nan.json", text)
    column, where = (
        (110, "entry[0].resource.valueQuantity.value")
        if fhir
        else (
            59,
            "observations[0].value",
        )
    )
    assert refused(path).diagnostics == (
        Diagnostic("json-syntax", f"{constant} is not a JSON number", str(path), 1, column, where),
    )


def test_nan_and_infinity_in_criteria_are_refused(folder: TrialFolder) -> None:
    rule = "observation: {concept: pain_0_10, within: 30 days, min: .nan, max: .inf}"
    path = str(folder.root / "NCT00000001.yaml")
    assert criteria_problems(folder, with_rule(rule)) == (
        Diagnostic(
            "invalid-value",
            "expected a finite number",
            path,
            12,
            63,
            "inclusion[0].rule.observation.min",
        ),
        Diagnostic(
            "invalid-value",
            "expected a finite number",
            path,
            12,
            74,
            "inclusion[0].rule.observation.max",
        ),
    )


def test_numbers_written_as_text_are_refused_in_patients(tmp_path: Path) -> None:
    """A value is compared as recorded: text ("6") and booleans are not numbers (as in FHIR)."""
    text = "id: x\nobservations:\n" + "".join(
        f"  - {PAIN % value}\n" for value in ('"6"', "'6.5'", "true", "6", "6.5")
    )
    path = write(tmp_path, "text.yaml", text)
    assert refused(path).diagnostics == tuple(
        Diagnostic(
            "invalid-value",
            "expected a valid number",
            str(path),
            line,
            78,
            f"observations[{i}].value",
        )
        for i, line in enumerate((3, 4, 5))
    )


def test_numbers_written_as_text_are_refused_in_criteria(folder: TrialFolder) -> None:
    rule = (
        "all:\n"
        '  - age: {min: "18", max: true}\n'
        '  - observation: {concept: pain_0_10, within: 30 days, min: "4"}\n'
    )
    path = str(folder.root / "NCT00000001.yaml")
    assert criteria_problems(folder, with_rule(rule)) == (
        Diagnostic(
            "invalid-value",
            "expected a valid integer",
            path,
            13,
            22,
            "inclusion[0].rule.all[0].age.min",
        ),
        Diagnostic(
            "invalid-value",
            "expected a valid integer",
            path,
            13,
            33,
            "inclusion[0].rule.all[0].age.max",
        ),
        Diagnostic(
            "invalid-value",
            "expected a valid number",
            path,
            14,
            67,
            "inclusion[0].rule.all[1].observation.min",
        ),
    )


# --- criteria files ----------------------------------------------------------------------------


def test_rules_nested_to_the_limit_are_evaluated(folder: TrialFolder) -> None:
    """16 levels (the limit) of not/all/any around one leaf: loaded and decided, no recursion."""
    rule = "age: {min: 18}"
    for level in range(14):  # levels 2 to 15 (the leaf is level 1); five of them are 'not'
        rule = ("not: {%s}", "all: [{%s}]", "any: [{%s}]")[level % 3] % rule
    rule = f"not: {{{rule}}}"  # level 16: a sixth 'not', so the rule still means "adult"
    (trial,) = matcher.load_trials(folder.write("NCT00000001.yaml", with_rule(rule)))
    adult = matcher.patient_from_data({"id": "a", "birth_date": "1980-01-01"})
    child = matcher.patient_from_data({"id": "c", "birth_date": "2015-01-01"})
    outcomes = [
        matcher.check(patient, [trial], as_of=AS_OF).trials[0].criteria[0].outcome.value
        for patient in (adult, child)
    ]
    assert outcomes == ["met", "not_met"]


def test_rules_nested_far_past_the_limit_are_refused_once(folder: TrialFolder) -> None:
    rule = "age: {min: 18}"
    for level in range(40):  # well within the nesting a YAML document may have
        rule = ("not: {%s}", "all: [{%s}]", "any: [{%s}]")[level % 3] % rule
    path = str(folder.root / "NCT00000001.yaml")
    assert criteria_problems(folder, with_rule(rule)) == (
        Diagnostic(
            "too-deep", "rules are nested more than 16 levels deep", path, 8, 5, "inclusion[0]"
        ),
    )


def test_broken_concept_set_stops_every_trial(
    folder: TrialFolder, capsys: pytest.CaptureFixture[str]
) -> None:
    """Any trial may use any concept set, so a broken one is never skipped (unlike a trial)."""
    folder.write("NCT00000001.yaml", BASE_TRIAL)
    unreadable = folder.root / "concepts" / "test_drugs.yaml"
    unreadable.write_bytes(b"name: caf\xe9\n")
    no_title = folder.write(
        "concepts/test_condition.yaml", "name: test_condition\nkind: condition\n"
    )
    expected = (
        Diagnostic("missing-key", "missing required key 'title'", str(no_title), 1, 1),
        Diagnostic("missing-key", "missing required key 'description'", str(no_title), 1, 1),
        Diagnostic("missing-key", "missing required key 'source'", str(no_title), 1, 1),
        Diagnostic(
            "not-utf8",
            "byte 0xe9 is not valid UTF-8; save the file as UTF-8",
            str(unreadable),
            1,
            10,
        ),
    )
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(folder.root, strict=False)
    assert caught.value.diagnostics == expected
    status, out, err = cli(
        capsys, "check", str(DATA / "patients" / "veteran.yaml"), "--criteria", str(folder.root)
    )
    assert (status, out) == (4, "")
    assert err.splitlines()[-1] == "matcher: error: 4 problem(s) in concept sets"


# --- regressions: bugs found by tests/test_properties.py ---------------------------------------


def test_yaml_control_character_has_a_position(folder: TrialFolder) -> None:
    """libyaml reports a forbidden character without a mark; it used to be line 0."""
    path = str(folder.root / "NCT00000001.yaml")
    assert criteria_problems(folder, "\x1f") == (
        Diagnostic(
            "yaml-syntax",
            "unacceptable character U+001F: control characters are not allowed",
            path,
            1,
            1,
        ),
    )


def test_a_list_whose_every_item_is_invalid_is_not_also_called_empty(
    folder: TrialFolder,
) -> None:
    """pydantic counts only the valid items of a list, and used to add "Tuple should have at
    least 1 item after validation, not 0" to the real problem."""
    path = str(folder.root / "NCT00000001.yaml")
    assert criteria_problems(folder, with_rule("sex: [man]")) == (
        Diagnostic(
            "invalid-value", "expected 'female' or 'male'", path, 12, 13, "inclusion[0].rule.sex[0]"
        ),
    )


def test_lone_surrogate_in_text_is_refused() -> None:
    """Text built in code can hold one; libyaml's encoder used to raise UnicodeEncodeError."""
    with pytest.raises(SourceProblems) as caught:
        parse_text("id: x\nsex: \ud800\n", "p.yaml")
    assert caught.value.diagnostics == (
        Diagnostic("not-utf8", "character U+D800 is not valid Unicode text", "p.yaml", 2, 6),
    )


def test_number_with_too_many_digits(tmp_path: Path) -> None:
    """Python refuses to read an int of more than 4300 digits: YAML used to crash on it, and
    JSON said "Exceeds the limit ... is not a JSON number"."""
    digits = "9" * 5000
    yaml_path = write(tmp_path, "big.yaml", f"id: x\nobservations:\n  - {PAIN % digits}\n")
    json_path = write(tmp_path, "big.json", f'{{"id": "x", "n": {digits}}}')
    message = f"a number has more than {sys.get_int_max_str_digits()} digits"
    assert refused(yaml_path).diagnostics == (
        Diagnostic("invalid-value", message, str(yaml_path), 3, 78, "observations[0].value"),
    )
    assert refused(json_path).diagnostics == (Diagnostic("invalid-value", message, str(json_path)),)


def test_null_character_in_a_file_name(capsys: pytest.CaptureFixture[str]) -> None:
    """``os.stat`` raises ValueError, not OSError, for such a name: it used to be exit 70."""
    with pytest.raises(matcher.InputError) as caught:
        matcher.load_patient("pa\x00tient.yaml")
    assert caught.value.diagnostics == (
        Diagnostic(
            "file-unreadable", "a file name cannot contain a null character", "pa\x00tient.yaml"
        ),
    )
    usage = "Error: Invalid value for {}: a file name cannot contain a null character\n"
    veteran = str(DATA / "patients" / "veteran.yaml")
    assert cli(capsys, "lint", "crit\x00eria") == (
        2,
        "",
        "Usage: matcher lint [OPTIONS] [PATHS]...\nTry 'matcher lint --help' for help.\n\n"
        + usage.format("'[PATHS]...'"),
    )
    assert cli(capsys, "check", veteran, "--criteria", "crit\x00eria") == (
        2,
        "",
        "Usage: matcher check [OPTIONS] PATIENT_FILE\nTry 'matcher check --help' for help.\n\n"
        + usage.format("'--criteria'"),
    )


def _ends_of_time(
    folder: TrialFolder, rule: str, patient: dict[str, object]
) -> matcher.TrialResult:
    (trial,) = matcher.load_trials(folder.write("NCT00000001.yaml", with_rule(rule)))
    return matcher.check(
        matcher.patient_from_data({"id": "p", **patient}), [trial], as_of=date(9999, 12, 31)
    ).trials[0]


def test_age_limit_reached_after_year_9999(folder: TrialFolder) -> None:
    """The birthday that ends an age range used to overflow the calendar (OverflowError)."""
    result = _ends_of_time(folder, "age: {min: 18, max: 65}", {"birth_date": "9973-01-01"})
    assert (result.verdict, result.criteria[0].reason) == (
        matcher.Verdict.ELIGIBLE,
        "age 26 is within 18-65",
    )


def test_eligible_from_after_year_9999_is_left_out(folder: TrialFolder) -> None:
    """The first day a recent onset is old enough, or a drug leaves the window, used to be
    computed past 9999-12-31 (ValueError); such a day does not exist."""
    rule = (
        "all:\n"
        "  - condition: {concept: test_condition, onset_at_least: 3 months}\n"
        "  - not: {medication: {concept: test_drugs, current: true}}\n"
    )
    patient = {
        "conditions": [{"system": "icd10cm", "code": "Z99.9", "onset": "9999-11-01"}],
        "medications": [{"display": "testazepam 1 MG", "start": "9999-01-01"}],
    }
    result = _ends_of_time(folder, rule, patient)
    assert (result.verdict, result.eligible_from, result.criteria[0].passes_from) == (
        matcher.Verdict.INELIGIBLE,
        None,
        None,
    )
