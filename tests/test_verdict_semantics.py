"""Review kinds, the verdict they lead to, the score bands, and "eligible from" holding on its day.

A review item raised by the patient's own record (a rule met, with a note of what to confirm) and
an item nobody has encoded (``pending``) keep a trial from ``eligible``; a screening question put
to every patient does not. Scores fall in one band per verdict. An "eligible from" date is kept
only when the trial is not ineligible on that day.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from helpers import BASE_TRIAL, TrialFolder

import matcher
from matcher.evaluation.evaluate import SCORE_BANDS
from matcher.evaluation.results import TrialResult

AS_OF = date(2026, 11, 21)
HEAD = BASE_TRIAL.split("inclusion:\n")[0]

ADULT = """\
  - id: adult
    description: Adult.
    source: test inclusion 1
    rule:
      age: {min: 18, max: 70}
"""
CONDITION_FLAG = """\
  - id: condition_flag
    description: The test condition, if uncontrolled.
    source: test exclusion 1
    rule:
      condition: {concept: test_condition}
    review: confirm whether it is controlled
"""
CONSENT = """\
  - id: consent
    description: Gives written consent.
    source: test inclusion 2
    review: consent is obtained at screening
"""
UNENCODED = """\
  - id: unencoded
    description: Something the registry says and nobody encoded.
    source: test inclusion 3
    pending: true
    review: "registry text: adequate organ function"
"""
PROPOSED = """\
  - id: proposed_age
    description: Aged 18 or over (a proposed rule).
    source: test inclusion 4
    pending: true
    rule:
      age: {min: 18}
    review: "registry text: adults"
"""
TEST_CONDITION = {"system": "icd10cm", "code": "Z99.9", "display": "Test condition"}


def load(folder: TrialFolder, inclusion: str, exclusion: str = "") -> matcher.CompiledTrial:
    text = f"{HEAD}inclusion:\n{inclusion}"
    if exclusion:
        text += f"exclusion:\n{exclusion}"
    (trial,) = matcher.load_trials(folder.write("NCT00000001.yaml", text))
    return trial


def run(trial: matcher.CompiledTrial, patient: dict[str, Any], as_of: date = AS_OF) -> TrialResult:
    profile = matcher.Patient.model_validate({"id": "p", **patient})
    return matcher.check(profile, [trial], as_of=as_of).trials[0]


def summary(result: TrialResult) -> dict[str, Any]:
    """The parts of a trial result this module is about, as JSON."""
    data = result.as_dict()
    return {
        "verdict": data["verdict"],
        "score": data["score"],
        "criteria": {c["id"]: (c["outcome"], c["review_kind"]) for c in data["criteria"]},
        "to_confirm": data["to_confirm"],
        "reviews": data["reviews"],
    }


def test_a_flag_raised_by_a_record_keeps_the_trial_from_eligible(folder: TrialFolder) -> None:
    trial = load(folder, ADULT, CONDITION_FLAG)
    result = run(trial, {"birth_date": "1980-01-01", "conditions": [TEST_CONDITION]})
    evidence = "Test condition (ICD-10-CM Z99.9), onset not recorded, active"
    assert summary(result) == {
        "verdict": "undetermined",
        "score": 0.495,  # the band 0.25-0.74, half of the two ruled criteria favourable
        "criteria": {"adult": ("met", None), "condition_flag": ("review", "flag")},
        "to_confirm": [f"condition_flag: The test condition, if uncontrolled ({evidence})"],
        "reviews": [
            {
                "criterion": "condition_flag",
                "kind": "flag",
                "blocks": True,
                "note": "confirm whether it is controlled",
                "evidence": [evidence],
                "records": [
                    {
                        "record": "conditions[0]",
                        "source": None,
                        "system": "icd10cm",
                        "code": "Z99.9",
                        "display": "Test condition",
                        "date": None,
                        "end": None,
                        "value": None,
                        "unit": None,
                    }
                ],
            }
        ],
    }
    # Without the record the rule decides: the exclusion does not apply.
    assert summary(run(trial, {"birth_date": "1980-01-01"}))["verdict"] == "eligible"


def test_a_flag_on_an_inclusion_counts_as_favourable_but_still_blocks(
    folder: TrialFolder,
) -> None:
    inclusion = ADULT + CONDITION_FLAG.replace("test exclusion 1", "test inclusion 2")
    result = run(
        load(folder, inclusion), {"birth_date": "1980-01-01", "conditions": [TEST_CONDITION]}
    )
    assert (result.verdict.value, result.score) == ("undetermined", 0.74)


def test_screening_questions_do_not_block(folder: TrialFolder) -> None:
    result = run(load(folder, ADULT + CONSENT), {"birth_date": "1980-01-01"})
    assert summary(result) == {
        "verdict": "eligible",
        "score": 1.0,
        "criteria": {"adult": ("met", None), "consent": ("review", "screening")},
        "to_confirm": ["consent: Gives written consent"],
        "reviews": [
            {
                "criterion": "consent",
                "kind": "screening",
                "blocks": False,
                "note": "consent is obtained at screening",
                "evidence": [],
                "records": [],
            }
        ],
    }


def test_review_items_are_listed_flags_first_then_pending_then_screening(
    folder: TrialFolder,
) -> None:
    trial = load(folder, CONSENT + UNENCODED + ADULT, CONDITION_FLAG)
    result = run(trial, {"birth_date": "1980-01-01", "conditions": [TEST_CONDITION]})
    assert [(r.criterion, r.kind.value, r.blocks) for r in result.reviews] == [
        ("condition_flag", "flag", True),
        ("unencoded", "pending", True),
        ("consent", "screening", False),
    ]
    assert [item.split(":")[0] for item in result.to_confirm] == [
        "condition_flag",
        "unencoded",
        "consent",
    ]


def test_an_unencoded_item_keeps_the_trial_from_eligible(folder: TrialFolder) -> None:
    result = run(load(folder, ADULT + UNENCODED), {"birth_date": "1980-01-01"})
    assert summary(result) == {
        "verdict": "undetermined",
        "score": 0.74,
        "criteria": {"adult": ("met", None), "unencoded": ("review", "pending")},
        "to_confirm": [
            "unencoded: Something the registry says and nobody encoded (not encoded yet)"
        ],
        "reviews": [
            {
                "criterion": "unencoded",
                "kind": "pending",
                "blocks": True,
                "note": "registry text: adequate organ function",
                "evidence": [],
                "records": [],
            }
        ],
    }


@pytest.mark.parametrize(
    ("birth", "verdict", "outcome", "kind"),
    [
        ("1980-01-01", "undetermined", "review", "pending"),  # the proposal would pass: held
        ("2015-01-01", "ineligible", "not_met", None),  # ...it may decide against the patient
        (None, "undetermined", "unknown", None),
    ],
)
def test_a_proposed_rule_decides_only_against_the_patient(
    folder: TrialFolder, birth: str | None, verdict: str, outcome: str, kind: str | None
) -> None:
    patient = {"birth_date": birth} if birth else {}
    result = summary(run(load(folder, PROPOSED), patient))
    assert (result["verdict"], result["criteria"]["proposed_age"]) == (verdict, (outcome, kind))


def test_a_pending_criterion_needs_the_text_it_stands_for(folder: TrialFolder) -> None:
    text = f"{HEAD}inclusion:\n{PROPOSED.replace('    review: ', '    # review: ')}"
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(folder.write("NCT00000001.yaml", text))
    assert [(d.code, d.message, d.path) for d in caught.value.diagnostics] == [
        (
            "invalid-value",
            "a 'pending' criterion needs a 'review' note: the text still to be encoded",
            "inclusion[0]",
        )
    ]


FOUR_RULES = """\
  - id: adult
    description: Adult.
    source: test inclusion 1
    rule:
      age: {min: 18}
  - id: female
    description: Female.
    source: test inclusion 2
    rule:
      sex: [female]
  - id: veteran
    description: Veteran.
    source: test inclusion 3
    rule:
      attribute: {name: military_status, in: [veteran]}
  - id: french_insured
    description: French social security.
    source: test inclusion 4
    rule:
      attribute: {name: fr_social_security, is: true}
"""


ALL_FOUR = {
    "birth_date": "1980-01-01",
    "sex": "female",
    "attributes": {"military_status": "veteran", "fr_social_security": True},
}


@pytest.mark.parametrize(
    ("patient", "verdict", "score"),
    [
        (ALL_FOUR, "eligible", 1.0),
        # undetermined: 0.25 + 0.49 x the favourable share
        ({"birth_date": "1980-01-01", "sex": "female"}, "undetermined", 0.495),
        ({"birth_date": "1980-01-01"}, "undetermined", 0.3725),
        ({}, "undetermined", 0.25),
        # ineligible: 0.24 x the favourable share
        ({**ALL_FOUR, "birth_date": "2015-01-01"}, "ineligible", 0.18),
        ({"birth_date": "2015-01-01", "sex": "male"}, "ineligible", 0.0),
    ],
)
def test_scores_fall_in_one_band_per_verdict(
    folder: TrialFolder, patient: dict[str, Any], verdict: str, score: float
) -> None:
    result = run(load(folder, FOUR_RULES), patient)
    assert (result.verdict.value, result.score) == (verdict, score)
    low, high = SCORE_BANDS[result.verdict]
    assert low <= result.score <= high


def test_score_bands_are_ordered_and_apart() -> None:
    eligible, undetermined, ineligible = (
        SCORE_BANDS[matcher.Verdict.ELIGIBLE],
        SCORE_BANDS[matcher.Verdict.UNDETERMINED],
        SCORE_BANDS[matcher.Verdict.INELIGIBLE],
    )
    assert ineligible[1] < undetermined[0] and undetermined[1] < eligible[0]
    # The MITRE / CodeX matching app labels scores of 0.75 and above "high-likelihood".
    assert undetermined[1] < 0.75 <= eligible[0]


KETAMINE_FREE = """\
  - id: no_recent_ketamine
    description: No ketamine in the past year.
    source: test exclusion 1
    rule:
      medication: {concept: ketamine, within: 1 year}
"""


def ketamine_until(end: str) -> dict[str, Any]:
    drug = {"system": "rxnorm", "code": "6130", "display": "ketamine", "start": "2026-01-05"}
    return {"medications": [{**drug, "end": end}]}


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        ("1980-03-01", date(2027, 7, 2)),  # 47 then: the date holds
        ("1957-01-10", date(2027, 7, 2)),  # 70 on 2027-07-02, still within 18-70
        ("1956-07-01", None),  # 70 today, 71 by 2027-07-02: no day works
    ],
)
def test_eligible_from_holds_on_that_day(
    folder: TrialFolder, birth: str, expected: date | None
) -> None:
    trial = load(folder, ADULT, KETAMINE_FREE)
    result = run(trial, {"birth_date": birth, **ketamine_until("2026-07-01")})
    assert (result.verdict.value, result.eligible_from) == ("ineligible", expected)
    if expected is not None:
        later = run(trial, {"birth_date": birth, **ketamine_until("2026-07-01")}, expected)
        assert later.verdict.value == "eligible"


def test_eligible_from_with_an_ongoing_drug_assumes_it_stops_today(folder: TrialFolder) -> None:
    trial = load(folder, ADULT, KETAMINE_FREE)
    ongoing = {"system": "rxnorm", "code": "6130", "display": "ketamine", "start": "2026-01-05"}
    result = run(trial, {"birth_date": "1980-03-01", "medications": [ongoing]})
    assert (result.eligible_from, result.must_stop) == (
        date(2027, 11, 22),
        ("ketamine (RxNorm 6130)",),
    )
    # The same patient ageing out before then gets no date, and nothing to stop.
    old = run(trial, {"birth_date": "1956-06-01", "medications": [ongoing]})
    assert (old.verdict.value, old.eligible_from, old.must_stop) == ("ineligible", None, ())
