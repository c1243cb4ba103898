"""The installed ``matcher`` command, run as a subprocess: output and exit status per command
and per error class. Text outputs are compared whole against files in tests/data/cli/
(regenerate with MATCHER_UPDATE_GOLDEN=1, then read the diff)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers import BASE_TRIAL, DATA, REPO, TrialFolder, run_matcher

PATIENTS = DATA / "patients"
GOLDEN = DATA / "cli"
UPDATE = os.environ.get("MATCHER_UPDATE_GOLDEN") == "1"


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return run_matcher(*args, stdin=stdin, timeout=60)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_check_table_for_the_quickstart_veteran() -> None:
    done = run("check", "tests/data/patients/veteran.yaml", "--as-of", "2026-11-21")
    assert (done.returncode, done.stderr) == (0, "")
    golden("check_veteran.txt", done.stdout)


def test_check_explain_lists_every_criterion() -> None:
    done = run(
        "check",
        "tests/data/patients/crps_clonazepam.yaml",
        "--as-of",
        "2026-11-21",
        "--trial",
        "NCT06414356",
        "--explain",
    )
    assert (done.returncode, done.stderr) == (0, "")
    golden("check_crps_explain.txt", done.stdout)


def test_check_json_contract() -> None:
    done = run(
        "check",
        "tests/data/patients/crps_clonazepam.yaml",
        "--as-of",
        "2026-11-21",
        "--format",
        "json",
    )
    assert (done.returncode, done.stderr) == (0, "")
    result = json.loads(done.stdout)
    golden("check_crps.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    # The contract only grows: the first fields keep their order, later versions add fields.
    assert list(result) == [
        "patient",
        "as_of",
        "engine",
        "data_quality",
        "trials",
        "matcher_version",
        "catalog_digest",
    ]
    assert result["catalog_digest"].startswith("sha256:")
    for trial in result["trials"]:
        assert {
            "trial",
            "title",
            "verdict",
            "score",
            "eligible_from",
            "criteria",
            "missing",
            "to_confirm",
            "missing_facts",
            "last_reviewed",
            "explained",
        } <= set(trial)
        for criterion in trial["criteria"]:
            assert {
                "id",
                "kind",
                "outcome",
                "reason",
                "evidence",
                "records",
                "missing_facts",
            } <= set(criterion)


def test_check_reads_a_patient_from_stdin() -> None:
    text = (PATIENTS / "veteran.yaml").read_text(encoding="utf-8")
    from_file = run(
        "check", "tests/data/patients/veteran.yaml", "--as-of", "2026-11-21", "--format", "json"
    )
    from_stdin = run("check", "-", "--as-of", "2026-11-21", "--format", "json", stdin=text)
    assert from_stdin.returncode == 0
    assert from_stdin.stdout == from_file.stdout


def test_check_only_some_trials() -> None:
    done = run(
        "check",
        "tests/data/patients/veteran.yaml",
        "--as-of",
        "2026-11-21",
        "--trial",
        "NCT00579085",
        "--trial",
        "NCT06414356",
        "--format",
        "json",
    )
    assert [t["trial"] for t in json.loads(done.stdout)["trials"]] == ["NCT06414356", "NCT00579085"]


@pytest.mark.parametrize(
    ("args", "status", "stderr"),
    [
        (
            ("check", "tests/data/patients/veteran.yaml", "--trial", "NCT0641435"),
            2,
            "matcher: error: no trial 'NCT0641435' in the criteria; did you mean 'NCT06414356'?\n",
        ),
        (
            ("check", "tests/data/patients/veteran.yaml", "--as-of", "21/11/2026"),
            2,
            "Usage: matcher check [OPTIONS] PATIENT_FILE\nTry 'matcher check --help' for help.\n\n"
            "Error: Invalid value for '--as-of': '21/11/2026' is not a date as YYYY-MM-DD "
            "(such as 2026-11-21)\n",
        ),
        (
            ("check", "no-such-patient.yaml"),
            3,
            "no-such-patient.yaml: file-unreadable: no such file\n",
        ),
        (
            ("check", "tests/data/patients"),
            3,
            "tests/data/patients: file-unreadable: is a directory, not a file\n",
        ),
        (("check", "tests/data/patients/veteran.yaml", "--engine", "rete"), 2, None),
        (("frobnicate",), 2, None),
        (("explain", "NCT99999999"), 2, "matcher: error: no trial 'NCT99999999' in the criteria\n"),
        (
            ("concepts", "benzodiazepine"),
            2,
            "matcher: error: no concept set 'benzodiazepine'; did you mean 'benzodiazepines'?\n",
        ),
    ],
)
def test_usage_and_file_errors(args: tuple[str, ...], status: int, stderr: str | None) -> None:
    done = run(*args)
    assert done.returncode == status
    assert "Traceback" not in done.stderr
    if stderr is not None:
        assert done.stderr == stderr
        assert done.stdout == ""


def test_invalid_patient_names_the_fields(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: x\nbirth_date: 2026-02-30\nobservations:\n"
        "  - {system: loinc, code: 72514-3, value: 14, date: 2026-11-01}\n",
        encoding="utf-8",
    )
    done = run("check", str(path))
    assert done.returncode == 3
    assert done.stderr == (
        f"{path}:2:13: invalid-value: not a real date: day is out of range for month "
        "(at birth_date)\n"
        f"{path}:4:5: invalid-value: 'value' is outside the possible range 0-10 of a 0-10 pain "
        "score (at observations[0])\n"
        "matcher: error: the patient file cannot be used\n"
    )


@pytest.mark.parametrize(
    ("content", "first_line"),
    [
        (b"id: [unclosed\n", ":2:1: yaml-syntax: "),
        (b'{"id": 1,}', ":1:10: json-syntax: Expecting property name enclosed in double quotes"),
        (b"id: caf\xe9\n", ":1:8: not-utf8: byte 0xe9 is not valid UTF-8; save the file as UTF-8"),
        (
            b"- a\n- b\n",
            ":1:1: not-a-mapping: a patient file holds a mapping of fields, not a list",
        ),
    ],
)
def test_unreadable_patient_files(tmp_path: Path, content: bytes, first_line: str) -> None:
    path = tmp_path / ("p.json" if content.startswith(b"{") else "p.yaml")
    path.write_bytes(content)
    done = run("check", str(path))
    assert done.returncode == 3
    assert done.stderr.startswith(str(path) + first_line)
    assert "Traceback" not in done.stderr


def test_broken_criteria_file_still_screens_the_good_ones(folder: TrialFolder) -> None:
    folder.write("NCT00000001.yaml", BASE_TRIAL)
    broken = folder.write(
        "NCT00000002.yaml",
        BASE_TRIAL.replace("NCT00000001", "NCT00000002").replace(
            "age: {min: 18}", "agee: {min: 18}"
        ),
    )
    done = run(
        "check",
        "tests/data/patients/veteran.yaml",
        "--criteria",
        str(folder.root),
        "--as-of",
        "2026-11-21",
        "--format",
        "json",
    )
    assert done.returncode == 4
    assert [t["trial"] for t in json.loads(done.stdout)["trials"]] == ["NCT00000001"]
    assert done.stderr.splitlines()[0].startswith(f"{broken}:12:7: unknown-rule: unknown rule")
    assert done.stderr.splitlines()[-1] == (
        "matcher: error: 1 problem(s) in the criteria files: results are partial"
    )


def test_explain_a_trial() -> None:
    done = run("explain", "NCT06414356")
    assert (done.returncode, done.stderr) == (0, "")
    golden("explain_NCT06414356.txt", done.stdout)
    assert run("explain", "criteria/NCT06414356.yaml").stdout == done.stdout


def test_lint_clean_catalog() -> None:
    done = run("lint")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        "ok: 5 trial file(s), 59 concept set(s)\n",
        "",
    )
    assert run("lint", "criteria").returncode == 0


def test_lint_reports_every_problem(folder: TrialFolder) -> None:
    path = folder.write(
        "NCT00000001.yaml",
        BASE_TRIAL.replace("age: {min: 18}", "age: {min: 70, max: 18}").replace(
            "status: recruiting", "status: open"
        ),
    )
    done = run("lint", str(folder.root))
    assert done.returncode == 1
    assert done.stderr == (
        f"{path}:3:9: invalid-value: expected 'not_yet_recruiting', 'recruiting', "
        "'enrolling_by_invitation', 'active_not_recruiting', 'suspended', 'terminated', "
        "'completed', 'withdrawn', 'available', 'no_longer_available', "
        "'temporarily_not_available', 'approved_for_marketing', 'withheld' or 'unknown' "
        "(at status)\n"
        " 3 | status: open\n"
        "   |         ^\n"
        f"{path}:12:12: reversed-range: age: the lower bound 70 is above the upper bound 18 "
        "(at inclusion[0].rule.age)\n"
        " 12 |       age: {min: 70, max: 18}\n"
        "    |            ^\n"
        "2 problems found\n"
    )


def test_schema_matches_the_committed_file() -> None:
    done = run("schema")
    assert done.returncode == 0
    assert json.loads(done.stdout) == json.loads(
        (REPO / "criteria" / "trial.schema.json").read_text(encoding="utf-8")
    )


def test_trial_examples_pass() -> None:
    done = run("test")
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1].endswith(" passed, 0 failed")


def test_failing_example_fails_the_run(folder: TrialFolder) -> None:
    folder.write(
        "NCT00000001.yaml",
        BASE_TRIAL
        + (
            "examples:\n"
            "  - name: a child\n"
            "    as_of: 2026-11-21\n"
            "    patient: {id: child, birth_date: 2015-01-01}\n"
            "    expect: {verdict: eligible, criteria: {adult: met}}\n"
        ),
    )
    done = run("test", str(folder.root))
    assert (done.returncode, done.stdout) == (
        1,
        (
            f"FAIL NCT00000001 a child ({folder.root / 'NCT00000001.yaml'})\n"
            "     verdict: expected eligible, got ineligible\n"
            "     adult: expected met, got not_met (age 11 is under 18)\n"
            "0 passed, 1 failed\n"
        ),
    )


def test_concepts_listing_and_one_set() -> None:
    listing = run("concepts")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines()[1:]][:3] == [
        "acute_cardiovascular_disease",
        "alcohol_use_disorder",
        "amphetamines",
    ]
    one = run("concepts", "ketamine")
    assert one.returncode == 0
    assert one.stdout.splitlines()[0] == "ketamine: ketamine or esketamine (medication)"


def test_help_lists_every_command() -> None:
    done = run("--help")
    commands = done.stdout.split("Commands:")[1].split()
    assert [
        w for w in commands if w in {"check", "concepts", "explain", "lint", "schema", "test"}
    ] == ["check", "concepts", "explain", "lint", "schema", "test"]
