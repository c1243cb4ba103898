"""Golden tests of the bundled catalog: hand-written patients against each trial, compared as the
whole JSON result.

Layout::

    tests/golden/patients/<TRIAL>/<name>.yaml   a patient profile (its header comment says why
                                                it exists and what it should come to)
    tests/golden/expected/<TRIAL>/<name>.json   CheckResult.as_dict() of that patient checked
                                                against that one trial as of AS_OF

The comparison is of the complete dictionary: verdict, score, eligible_from, must_stop, every
criterion's outcome, reason, evidence and missing facts, and the trial's missing and to_confirm
lists. Both engines must give it (only the ``engine`` field differs). A change in any of them
fails here until the expected file is regenerated::

    MATCHER_UPDATE_GOLDEN=1 pytest tests/test_catalog_golden.py

which rewrites the expected files instead of comparing. Read ``git diff tests/golden/expected``
line by line before keeping the result: these files are the reviewed record of what the engine
says to a study coordinator.

``test_outcome_coverage`` checks that the patients of each trial drive every criterion that has a
rule to every outcome it can reach: ``met`` (``review`` for a criterion with a rule and a review
note, whose rule being met makes it a review item), ``not_met`` and ``unknown``. The few pairs
that no patient can reach are listed in ``UNREACHABLE`` with the reason.
"""

from __future__ import annotations

import json
import os
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest

import matcher
from matcher.core.outcome import Outcome
from matcher.criteria.compiler import Catalog, CompiledTrial

GOLDEN = Path(__file__).resolve().parent / "golden"
PATIENTS = GOLDEN / "patients"
EXPECTED = GOLDEN / "expected"
AS_OF = date(2026, 11, 21)
UPDATE = os.environ.get("MATCHER_UPDATE_GOLDEN") == "1"

_SEX_BOTH = (
    "the rule accepts both sexes the patient model can hold (female, male); a patient without a "
    "recorded sex is unknown, so no patient can fail it"
)

#: (trial, criterion, outcome) pairs no patient can produce, and why.
UNREACHABLE: dict[tuple[str, str, Outcome], str] = {
    ("NCT06414356", "biological_sex", Outcome.NOT_MET): _SEX_BOTH,
}

CASES = sorted(PATIENTS.glob("*/*.yaml"))
#: Every engine gives every golden result (the expected files name the python engine).
ENGINES = ("python", "durable")
TRIAL_DIRS = sorted(path.name for path in PATIENTS.iterdir() if path.is_dir())


@cache
def _catalog() -> Catalog:
    return matcher.load_trials()


def _trial(trial_id: str) -> CompiledTrial:
    trial = _catalog().get(trial_id)
    assert trial is not None, f"tests/golden/patients/{trial_id}: no such trial in the catalog"
    return trial


@cache
def _result(case: Path, engine: str = "python") -> dict[str, Any]:
    """The JSON result of one golden patient against its trial (the folder it is in)."""
    patient = matcher.load_patient(case)
    result = matcher.check(patient, [_trial(case.parent.name)], as_of=AS_OF, engine=engine)
    return result.as_dict()


def _expected_path(case: Path) -> Path:
    return EXPECTED / case.parent.name / f"{case.stem}.json"


def _case_id(case: Path) -> str:
    return f"{case.parent.name}/{case.stem}"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_golden_result(case: Path, engine: str) -> None:
    got = _result(case, engine)
    expected_path = _expected_path(case)
    if UPDATE and engine != "python":
        pytest.skip("the expected files are written from the python engine")
    if UPDATE:
        expected_path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(got, indent=2, ensure_ascii=False) + "\n"
        expected_path.write_text(text, encoding="utf-8")
        return
    assert expected_path.is_file(), (
        f"{expected_path} is missing: run MATCHER_UPDATE_GOLDEN=1 pytest {Path(__file__).name} "
        "and review the new file"
    )
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    assert got == {**expected, "engine": engine}


def test_every_trial_has_golden_patients() -> None:
    assert sorted(trial.id for trial in _catalog()) == TRIAL_DIRS


def test_no_expected_file_without_a_patient() -> None:
    if UPDATE:
        pytest.skip("regenerating")
    orphans = sorted(
        str(path.relative_to(GOLDEN))
        for path in EXPECTED.glob("*/*.json")
        if not (PATIENTS / path.parent.name / f"{path.stem}.yaml").is_file()
    )
    assert orphans == []


def _wanted(trial: CompiledTrial) -> set[tuple[str, Outcome]]:
    """Every (criterion, outcome) a criterion with a rule can come to."""
    pairs: set[tuple[str, Outcome]] = set()
    for criterion in trial.criteria:
        if criterion.rule is None:
            continue
        met = Outcome.REVIEW if criterion.review is not None else Outcome.MET
        pairs.update((criterion.id, outcome) for outcome in (met, Outcome.NOT_MET, Outcome.UNKNOWN))
    return pairs


@pytest.mark.parametrize("trial_id", TRIAL_DIRS)
def test_outcome_coverage(trial_id: str) -> None:
    trial = _trial(trial_id)
    reached = {
        (criterion["id"], Outcome(criterion["outcome"]))
        for case in CASES
        if case.parent.name == trial_id
        for criterion in _result(case)["trials"][0]["criteria"]
    }
    wanted = _wanted(trial)
    unreachable = {(c, o) for (t, c, o) in UNREACHABLE if t == trial_id}
    assert sorted(unreachable - wanted) == [], "UNREACHABLE names a pair the trial cannot have"
    assert sorted(unreachable & reached) == [], "a pair listed as unreachable was reached"
    assert sorted(wanted - unreachable - reached) == []
