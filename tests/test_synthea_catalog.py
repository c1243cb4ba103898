"""The eight Synthea FHIR bundles screened against the bundled catalog, with an explicit as-of
date each, through the API and the CLI. Expected outcomes are asserted for the criteria the data
decides: age, sex, death, pain score, benzodiazepine and methylphenidate use, pregnancy.

Each as-of date is chosen a little after the patient's last pain score (Synthea's dates are
shifted into the past), so that the 30-day pain window holds a real reading.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from helpers import DATA, REPO

import matcher

SYNTHEA = DATA / "fhir" / "synthea"
CATALOG = matcher.load_trials()
MATCHER = str(Path(sys.executable).parent / "matcher")


def bundle(name: str) -> Path:
    (path,) = SYNTHEA.glob(f"{name}_*.json")
    return path


# patient, as-of date, NCT06414356 verdict, outcomes of the criteria the data decides
CASES = [
    (
        "Alberto_Atencio",
        "2019-03-21",
        "ineligible",
        {
            "age_18_70": "met",
            "biological_sex": "met",
            "pain_score_4_to_7": "not_met",
            "current_benzodiazepines": "met",  # clonazepam [Klonopin], active since 2007
            "current_sympathomimetics": "not_met",
            "pregnant_or_lactating": "not_met",
        },
    ),
    (
        "Eddy_Fadel",
        "1977-07-01",
        "ineligible",
        {  # an infant, two months before he died
            "age_18_70": "not_met",
            "pain_score_4_to_7": "not_met",
            "current_benzodiazepines": "met",
        },
    ),
    (
        "Garrett_Thompson",
        "1973-06-10",
        "ineligible",
        {  # latest pain score 3.9: below 4
            "age_18_70": "not_met",
            "pain_score_4_to_7": "not_met",
            "current_benzodiazepines": "met",
        },
    ),
    (
        "Jessi_Parisian",
        "2019-05-08",
        "ineligible",
        {  # pregnancies on record have all ended
            "age_18_70": "met",
            "biological_sex": "met",
            "pain_score_4_to_7": "not_met",
            "current_benzodiazepines": "not_met",
            "pregnant_or_lactating": "unknown",
        },
    ),
    (
        "Laurie_McCullough",
        "2019-02-01",
        "ineligible",
        {  # pregnant: 2019-01-19 to 2019-02-16
            "age_18_70": "met",
            "pain_score_4_to_7": "unknown",
            "pregnant_or_lactating": "met",
        },
    ),
    (
        "Omar_Abernathy",
        "2008-07-18",
        "ineligible",
        {  # methylphenidate started that day
            "age_18_70": "not_met",
            "current_sympathomimetics": "met",
        },
    ),
    (
        "Omar_Abernathy",
        "2020-05-17",
        "ineligible",
        {  # methylphenidate stopped long ago
            "age_18_70": "met",
            "pain_score_4_to_7": "not_met",
            "current_sympathomimetics": "not_met",
            "current_benzodiazepines": "not_met",
        },
    ),
    (
        "Randolph_Wisoky",
        "2005-12-20",
        "ineligible",
        {
            "age_18_70": "met",
            "pain_score_4_to_7": "not_met",
            "current_benzodiazepines": "not_met",
        },
    ),
    (
        "Renato_Dare",
        "2020-09-17",
        "ineligible",
        {  # diabetic neuropathy is not neuropathic pain
            "age_18_70": "met",
            "pain_score_4_to_7": "not_met",
            "chronic_neuropathic_pain": "not_met",
        },
    ),
]


@pytest.mark.parametrize(
    ("name", "as_of", "verdict", "expected"), CASES, ids=[f"{c[0]}@{c[1]}" for c in CASES]
)
def test_outcomes_the_data_decides(
    name: str, as_of: str, verdict: str, expected: dict[str, str]
) -> None:
    patient = matcher.load_patient(bundle(name))
    trial = CATALOG.get("NCT06414356")
    assert trial is not None
    result = matcher.check(patient, [trial], as_of=date.fromisoformat(as_of)).trials[0]
    outcomes = {c.id: c.outcome.value for c in result.criteria}
    assert result.verdict.value == verdict
    assert {k: outcomes[k] for k in expected} == expected


@pytest.mark.parametrize("name", ["Eddy_Fadel", "Garrett_Thompson", "Randolph_Wisoky"])
def test_patients_who_died_are_ineligible_everywhere(name: str) -> None:
    patient = matcher.load_patient(bundle(name))
    result = matcher.check(patient, CATALOG, as_of=date(2026, 11, 21))
    assert {
        (t.verdict.value, t.score, t.criteria[0].id, t.criteria[0].outcome.value)
        for t in result.trials
    } == {("ineligible", 0.0, "alive", "not_met")}


@pytest.mark.parametrize("name", sorted({c[0] for c in CASES}))
def test_cli_and_api_agree_on_the_whole_catalog(name: str) -> None:
    as_of = next(c[1] for c in CASES if c[0] == name)
    path = bundle(name)
    done = subprocess.run(
        [MATCHER, "check", str(path), "--as-of", as_of, "--format", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    api = matcher.check(matcher.load_patient(path), CATALOG, as_of=date.fromisoformat(as_of))
    assert json.loads(done.stdout) == api.as_dict()
    assert len(api.trials) == 5
