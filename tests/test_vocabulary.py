"""The rule kinds added for the registry texts, under both engines: counted combinations
(``at_least``), conditions active within a span (``active_within``), aggregates of observations
over a window (``aggregate``) and concept-set members that only may belong (``possible``).

Each test builds a one-criterion trial and compares whole results; every result is checked to
be identical under the durable engine (``check_both``).
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from helpers import TrialFolder, check_both, one_criterion_trial

from matcher.core.outcome import MET, NOT_MET, UNKNOWN, Outcome
from matcher.evaluation.results import TrialResult

pytest.importorskip("durable_rules_engine")

AS_OF = date(2026, 11, 21)


def summary(result: TrialResult) -> tuple[Any, ...]:
    (criterion,) = result.criteria
    return (
        criterion.outcome.value,
        criterion.reason,
        criterion.evidence,
        criterion.missing,
        criterion.passes_from,
        criterion.must_stop if criterion.passes_from else (),
    )


# --- at_least ------------------------------------------------------------------------------------

#: Three leaves whose outcome each patient field sets: met, not met or unknown.
THREE = """\
at_least:
  count: {count}
  of:
    - age: {{min: 18}}
    - sex: [female]
    - attribute: {{name: fr_social_security, is: true}}
"""
BIRTH = {MET: "1980-01-01", NOT_MET: "2015-01-01", UNKNOWN: None}
SEX = {MET: "female", NOT_MET: "male", UNKNOWN: None}
AFFILIATED = {MET: True, NOT_MET: False, UNKNOWN: None}


def expected_at_least(outcomes: tuple[Outcome, ...], count: int) -> Outcome:
    """The definition, by brute force: met if some ``count`` are met in every completion of the
    unknown ones, not met if in none, else unknown."""
    unknown = [i for i, o in enumerate(outcomes) if o is UNKNOWN]
    counts = set()
    for filled in itertools.product((True, False), repeat=len(unknown)):
        values = [o is MET for o in outcomes]
        for i, value in zip(unknown, filled, strict=True):
            values[i] = value
        counts.add(sum(values) >= count)
    return MET if counts == {True} else NOT_MET if counts == {False} else UNKNOWN


@pytest.mark.parametrize("count", [1, 2, 3])
def test_at_least_follows_three_valued_logic_for_every_combination(
    folder: TrialFolder, count: int
) -> None:
    trial = one_criterion_trial(folder, THREE.format(count=count))
    got = {}
    want = {}
    for outcomes in itertools.product((MET, NOT_MET, UNKNOWN), repeat=3):
        patient: dict[str, Any] = {"attributes": {}}
        if BIRTH[outcomes[0]]:
            patient["birth_date"] = BIRTH[outcomes[0]]
        if SEX[outcomes[1]]:
            patient["sex"] = SEX[outcomes[1]]
        if AFFILIATED[outcomes[2]] is not None:
            patient["attributes"]["fr_social_security"] = AFFILIATED[outcomes[2]]
        got[outcomes] = check_both(trial, patient, AS_OF).criteria[0].outcome
        want[outcomes] = expected_at_least(outcomes, count)
    assert got == want


def test_at_least_explains_which_rules_held(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, THREE.format(count=2))
    met = {"birth_date": "1980-01-01", "sex": "female", "attributes": {}}
    assert summary(check_both(trial, met, AS_OF)) == (
        "met",
        "2 of 3 hold (at least 2 needed): age 46 is 18 or over; sex is female",
        ("born 1980-01-01 (age 46 on 2026-11-21)", "sex: female"),
        (),
        None,
        (),
    )
    unknown = {"birth_date": "1980-01-01", "attributes": {"fr_social_security": False}}
    assert summary(check_both(trial, unknown, AS_OF)) == (
        "unknown",
        "1 of 3 hold and 1 cannot be told (at least 2 needed): sex not recorded",
        ("no sex on record",),
        ("sex",),
        None,
        (),
    )
    failed = {"birth_date": "2015-01-01", "sex": "male", "attributes": {"fr_social_security": True}}
    assert summary(check_both(trial, failed, AS_OF))[:3] == (
        "not_met",
        "at most 1 of 3 can hold (at least 2 needed): age 11 is under 18; sex is male, not female",
        ("born 2015-01-01 (age 11 on 2026-11-21)", "sex: male"),
    )


DRUGS = """\
at_least:
  count: {count}
  of:
    - medication: {{concept: ketamine, within: 1 year}}
    - medication: {{concept: benzodiazepines, current: true}}
    - medication: {{concept: xanthines, within: 30 days}}
"""


def three_drugs() -> dict[str, Any]:
    return {
        "medications": [
            {"display": "ketamine 50 MG/ML Injectable Solution", "start": "2026-07-01",
             "end": "2026-07-01"},
            {"display": "clonazepam 0.5 MG Oral Tablet", "start": "2025-01-01", "status": "active"},
            {"display": "theophylline 300 MG Oral Tablet", "start": "2026-11-01",
             "end": "2026-11-10"},
        ]
    }  # fmt: skip


@pytest.mark.parametrize(
    ("count", "passes_from", "must_stop"),
    [
        # Three met, two needed: the exclusion lifts when two of them have lifted, the second
        # of their days (theophylline out of the 30 days on 2026-12-11; clonazepam stopped today
        # lifts tomorrow).
        (2, date(2026, 12, 11), ("clonazepam 0.5 MG Oral Tablet",)),
        # One needed: all three must lift, the last on 2027-07-02 (ketamine out of the year).
        (1, date(2027, 7, 2), ("clonazepam 0.5 MG Oral Tablet",)),
        # Three needed: the first to lift lifts it.
        (3, date(2026, 11, 22), ("clonazepam 0.5 MG Oral Tablet",)),
    ],
)
def test_a_met_exclusion_lifts_when_enough_of_its_rules_have(
    folder: TrialFolder, count: int, passes_from: date, must_stop: tuple[str, ...]
) -> None:
    trial = one_criterion_trial(folder, DRUGS.format(count=count), kind="exclusion")
    result = check_both(trial, three_drugs(), AS_OF)
    criterion = result.criteria[0]
    assert (criterion.outcome.value, criterion.passes_from, criterion.must_stop) == (
        "met",
        passes_from,
        must_stop,
    )
    assert (result.verdict.value, result.eligible_from) == ("ineligible", passes_from)


WAITING = """\
at_least:
  count: 2
  of:
    - age: {min: 18}
    - condition: {concept: chronic_neuropathic_pain, status: present, onset_at_least: 3 months}
    - sex: [female]
"""


def test_a_failed_inclusion_passes_when_enough_of_its_rules_would(folder: TrialFolder) -> None:
    # A 17-year-old man whose neuropathic pain began last month: neither rule holds yet; the
    # later of the two days (the 18th birthday, the pain 3 months old) is when two hold.
    trial = one_criterion_trial(folder, WAITING)
    patient = {
        "birth_date": "2009-01-15",
        "sex": "male",
        "conditions": [{"system": "icd10cm", "code": "G50.0", "onset": "2026-10-20"}],
    }
    result = check_both(trial, patient, AS_OF)
    assert (result.criteria[0].outcome.value, result.criteria[0].passes_from) == (
        "not_met",
        date(2027, 1, 20),
    )
    assert (result.verdict.value, result.eligible_from) == ("ineligible", date(2027, 1, 20))


def test_at_least_needs_a_reachable_count(folder: TrialFolder) -> None:
    from matcher.core.errors import CriteriaError

    with pytest.raises(CriteriaError) as raised:
        one_criterion_trial(folder, THREE.format(count=4))
    ((code, message),) = [(d.code, d.message) for d in raised.value.diagnostics]
    assert (code, message) == (
        "reversed-range",
        "at_least: a count of 4 can never be reached by 3 rules",
    )


# --- active_within -------------------------------------------------------------------------------

ACTIVE = "condition: {concept: alcohol_use_disorder, active_within: 6 months}"


def alcohol(**dates: str) -> dict[str, Any]:
    record: dict[str, Any] = {
        "system": "icd10cm",
        "code": "F10.20",
        "display": "Alcohol dependence",
    }
    record.update(dates)
    return {"conditions": [record]}


@pytest.mark.parametrize(
    ("patient", "expected"),
    [
        (
            alcohol(onset="2020-03-01"),
            (
                "met",
                "alcohol use disorder active at some time since 2026-05-21 on record",
                ("Alcohol dependence (ICD-10-CM F10.20), onset 2020-03-01, active",),
                (),
                None,  # still active: time alone does not lift it
                (),
            ),
        ),
        (
            alcohol(onset="2020-03-01", abatement="2026-08-01"),
            (
                "met",
                "alcohol use disorder active at some time since 2026-05-21 on record",
                ("Alcohol dependence (ICD-10-CM F10.20), onset 2020-03-01, resolved 2026-08-01",),
                (),
                date(2027, 2, 1),  # six months after it resolved
                (),
            ),
        ),
        (
            # Resolved on the first day of the window: its last active day is before it.
            alcohol(onset="2020-03-01", abatement="2026-05-21"),
            (
                "not_met",
                "alcohol use disorder on record, but it resolved on or before 2026-05-21",
                ("Alcohol dependence (ICD-10-CM F10.20), onset 2020-03-01, resolved 2026-05-21",),
                (),
                None,
                (),
            ),
        ),
        (
            alcohol(onset="2020-03-01", clinical_status="resolved"),
            (
                "unknown",
                "cannot tell from the record whether the patient has alcohol use disorder active "
                "at some time since 2026-05-21",
                ("Alcohol dependence (ICD-10-CM F10.20), onset 2020-03-01, resolved",),
                ("when alcohol use disorder resolved (not recorded; counts if after 2026-05-21)",),
                None,
                (),
            ),
        ),
        (
            alcohol(onset="2020-03-01", abatement="2026-05"),
            (
                "unknown",
                "cannot tell from the record whether the patient has alcohol use disorder active "
                "at some time since 2026-05-21",
                ("Alcohol dependence (ICD-10-CM F10.20), onset 2020-03-01, resolved 2026-05",),
                (
                    "when alcohol use disorder resolved (recorded as 2026-05; counts if after "
                    "2026-05-21)",
                ),
                None,
                (),
            ),
        ),
        (
            alcohol(onset="2027-01-02"),
            (
                "not_met",
                "alcohol use disorder on record, but with an onset after 2026-11-21",
                ("Alcohol dependence (ICD-10-CM F10.20), onset 2027-01-02, active",),
                (),
                None,
                (),
            ),
        ),
        (
            {"unreviewed": ["conditions"]},
            (
                "unknown",
                "no alcohol use disorder on record, but the condition list is not reviewed",
                ("no alcohol use disorder on record (condition list not reviewed)",),
                (
                    "whether the patient had alcohol use disorder active at some time since "
                    "2026-05-21",
                ),
                None,
                (),
            ),
        ),
    ],
)
def test_a_condition_active_within_a_span(
    folder: TrialFolder, patient: dict[str, Any], expected: tuple[Any, ...]
) -> None:
    trial = one_criterion_trial(folder, ACTIVE, kind="exclusion")
    assert summary(check_both(trial, patient, AS_OF)) == expected


def test_active_within_replaces_status(folder: TrialFolder) -> None:
    from matcher.core.errors import CriteriaError

    rule = "condition: {concept: alcohol_use_disorder, status: ever, active_within: 6 months}"
    with pytest.raises(CriteriaError) as raised:
        one_criterion_trial(folder, rule)
    assert [(d.code, d.message) for d in raised.value.diagnostics] == [
        ("invalid-value", "'active_within' cannot be combined with 'status'"),
    ]


# --- aggregates of observations ------------------------------------------------------------------

MEAN_PAIN = (
    "observation: {concept: pain_0_10, within: 7 days, aggregate: mean, min_readings: 3, above: 3}"
)


def pain(*readings: tuple[str, float] | tuple[str, float, str]) -> dict[str, Any]:
    out = []
    for reading in readings:
        record: dict[str, Any] = {"system": "loinc", "code": "72514-3", "date": reading[0]}
        record["value"] = reading[1]
        if len(reading) > 2:
            record["unit"] = reading[2]
        out.append(record)
    return {"observations": out}


def test_the_mean_of_a_week_of_pain_scores(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, MEAN_PAIN)
    patient = pain(("2026-11-15", 2), ("2026-11-17", 4), ("2026-11-20", 5), ("2026-11-10", 9))
    assert summary(check_both(trial, patient, AS_OF)) == (
        "met",
        "mean of the 0-10 pain score readings from 2026-11-14 to 2026-11-21 is 3.67, above 3",
        (
            "LOINC 72514-3: 2 on 2026-11-15",
            "LOINC 72514-3: 4 on 2026-11-17",
            "LOINC 72514-3: 5 on 2026-11-20",
        ),
        (),
        None,
        (),
    )


@pytest.mark.parametrize(
    ("patient", "outcome", "reason"),
    [
        (
            pain(("2026-11-15", 6), ("2026-11-20", 7)),
            "unknown",
            "2 readings of 0-10 pain score with a usable value from 2026-11-14 to 2026-11-21: "
            "the mean needs at least 3",
        ),
        (
            pain(("2026-11-15", 2), ("2026-11-17", 3), ("2026-11-20", 4)),
            "not_met",
            "mean of the 0-10 pain score readings from 2026-11-14 to 2026-11-21 is 3, not above 3",
        ),
        (
            # A reading of "2026-11" may be inside the week or before it: the mean is 3 or 4.
            pain(("2026-11-15", 4), ("2026-11-17", 4), ("2026-11-20", 4), ("2026-11", 0)),
            "unknown",
            "mean of the 0-10 pain score readings from 2026-11-14 to 2026-11-21 is between 3 and "
            "4: cannot tell whether above 3",
        ),
        (
            pain(("2026-11-15", 4), ("2026-11-17", 4), ("2026-11-20", 4), ("2026-11", 3.5)),
            "met",
            "mean of the 0-10 pain score readings from 2026-11-14 to 2026-11-21 is between 3.88 "
            "and 4, above 3",
        ),
        (
            # A score in millimetres cannot be read as 0-10: it could be anything.
            pain(("2026-11-15", 4), ("2026-11-17", 4), ("2026-11-20", 4), ("2026-11-19", 5, "mm")),
            "unknown",
            "mean of the 0-10 pain score readings from 2026-11-14 to 2026-11-21 cannot be computed "
            "(a reading has no usable value): cannot tell whether above 3",
        ),
    ],
)
def test_the_mean_needs_enough_readings_and_covers_every_uncertain_one(
    folder: TrialFolder, patient: dict[str, Any], outcome: str, reason: str
) -> None:
    trial = one_criterion_trial(folder, MEAN_PAIN)
    assert summary(check_both(trial, patient, AS_OF))[:2] == (outcome, reason)


def test_the_mean_converts_units(folder: TrialFolder) -> None:
    rule = "observation: {concept: pain_vas_100mm, within: 30 days, aggregate: mean, above: 50}"
    trial = one_criterion_trial(folder, rule)
    patient = {
        "observations": [
            {"system": "loinc", "code": "38214-3", "value": 4.5, "unit": "cm",
             "date": "2026-11-02"},
            {"system": "loinc", "code": "38214-3", "value": 60, "unit": "mm",
             "date": "2026-11-12"},
        ]
    }  # fmt: skip
    assert summary(check_both(trial, patient, AS_OF))[:2] == (
        "met",
        "mean of the 0-100 mm pain VAS readings from 2026-10-22 to 2026-11-21 is 52.5 mm, "
        "above 50 mm",
    )


def bp(*values: float | str) -> dict[str, Any]:
    return {
        "observations": [
            {"system": "loinc", "code": "8480-6", "unit": "mm[Hg]", "date": f"2026-11-{10 + i}",
             **({"value": v} if not isinstance(v, str) else {})}
            for i, v in enumerate(values)
        ]
    }  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "patient", "outcome", "reason"),
    [
        (
            "{concept: systolic_bp, within: 30 days, aggregate: maximum, above: 160}",
            bp(150, 170, "no value"),
            "met",
            "highest of the systolic blood pressure readings from 2026-10-22 to 2026-11-21 is at "
            "least 170 mmHg, above 160 mmHg",
        ),
        (
            "{concept: systolic_bp, within: 30 days, aggregate: maximum, above: 160}",
            bp(150, 155, "no value"),
            "unknown",
            "highest of the systolic blood pressure readings from 2026-10-22 to 2026-11-21 is at "
            "least 155 mmHg: cannot tell whether above 160 mmHg",
        ),
        (
            "{concept: systolic_bp, within: 30 days, aggregate: minimum, min: 100}",
            bp(150, 99, 130),
            "not_met",
            "lowest of the systolic blood pressure readings from 2026-10-22 to 2026-11-21 is 99 "
            "mmHg, below 100 mmHg",
        ),
        (
            "{concept: pain_0_10, within: 30 days, aggregate: spread, max: 1}",
            pain(("2026-11-02", 4), ("2026-11-12", 5)),
            "met",
            "spread (highest minus lowest) of the 0-10 pain score readings from 2026-10-22 to "
            "2026-11-21 is 1, at most 1",
        ),
        (
            "{concept: pain_0_10, within: 30 days, aggregate: spread, max: 1}",
            pain(("2026-11-02", 4), ("2026-11-12", 6)),
            "not_met",
            "spread (highest minus lowest) of the 0-10 pain score readings from 2026-10-22 to "
            "2026-11-21 is 2, above 1",
        ),
        (
            # One reading does not show that the pain is stable: a spread needs two.
            "{concept: pain_0_10, within: 30 days, aggregate: spread, max: 1}",
            pain(("2026-11-02", 4)),
            "unknown",
            "1 reading of 0-10 pain score with a usable value from 2026-10-22 to 2026-11-21: the "
            "spread (highest minus lowest) needs at least 2",
        ),
        (
            "{concept: systolic_bp, within: 30 days, aggregate: count, min: 1}",
            {},
            "not_met",
            "number of systolic blood pressure readings from 2026-10-22 to 2026-11-21 is 0, "
            "below 1",
        ),
        (
            "{concept: systolic_bp, within: 30 days, aggregate: count, min: 2}",
            bp(150, "no value"),
            "unknown",
            "number of systolic blood pressure readings from 2026-10-22 to 2026-11-21 is between "
            "1 and 2: cannot tell whether at least 2",
        ),
        (
            "{concept: systolic_bp, within: 30 days, aggregate: count, max: 2}",
            bp(150, 151, 152),
            "not_met",
            "number of systolic blood pressure readings from 2026-10-22 to 2026-11-21 is 3, "
            "above 2",
        ),
    ],
)
def test_other_aggregates(
    folder: TrialFolder, rule: str, patient: dict[str, Any], outcome: str, reason: str
) -> None:
    trial = one_criterion_trial(folder, f"observation: {rule}")
    assert summary(check_both(trial, patient, AS_OF))[:2] == (outcome, reason)


def test_min_readings_is_for_aggregates_of_values(folder: TrialFolder) -> None:
    from matcher.core.errors import CriteriaError

    rule = "observation: {concept: pain_0_10, within: 7 days, min_readings: 2, above: 3}"
    with pytest.raises(CriteriaError) as raised:
        one_criterion_trial(folder, rule)
    assert [(d.code, d.message) for d in raised.value.diagnostics] == [
        (
            "invalid-value",
            "'min_readings' is for aggregates of values (mean, minimum, maximum, spread), not for "
            "'latest'",
        ),
    ]


# --- possible members of concept sets ------------------------------------------------------------

TYPE_ONE = """\
name: test_type_one
kind: condition
title: test syndrome type I
description: A made-up set with possible members.
source: tests
codes:
  icd10cm: {G90.5: CRPS I}
  snomed: {"734947007": CRPS type I}
possible:
  icd10cm: {G90.50: "CRPS I, unspecified"}
  snomed: {"128200000": "CRPS, type not stated"}
"""
EITHER = """\
name: test_either_type
kind: condition
title: test syndrome
description: Includes the set above and makes its possible member a member.
source: tests
includes: [test_type_one]
codes:
  icd10cm: {G90.50: "CRPS I, unspecified"}
"""


def codings(*pairs: tuple[str, str]) -> dict[str, Any]:
    first, *more = pairs
    record: dict[str, Any] = {"system": first[0], "code": first[1], "onset": "2024-01-01"}
    if more:
        record["codes"] = [{"system": s, "code": c} for s, c in more]
    return {"conditions": [record]}


@pytest.mark.parametrize(
    ("concept", "record", "outcome", "missing"),
    [
        ("test_type_one", codings(("icd10cm", "G90.511")), "met", ()),
        ("test_type_one", codings(("icd10cm", "G90.5")), "met", ()),
        (
            "test_type_one",
            codings(("icd10cm", "G90.50")),
            "unknown",
            ("whether ICD-10-CM G90.50 is test syndrome type I",),
        ),
        (
            "test_type_one",
            codings(("snomed", "128200000")),
            "unknown",
            ("whether SNOMED CT 128200000 is test syndrome type I",),
        ),
        # Another code of the same record that certainly belongs decides.
        ("test_type_one", codings(("snomed", "128200000"), ("icd10cm", "G90.511")), "met", ()),
        # A set that lists the code as a member takes it as one, whatever it includes.
        ("test_either_type", codings(("icd10cm", "G90.50")), "met", ()),
        ("test_either_type", codings(("snomed", "128200000")), "unknown", (
            "whether SNOMED CT 128200000 is test syndrome",
        )),
    ],
)  # fmt: skip
def test_a_possible_member_makes_a_rule_unknown_never_met(
    folder: TrialFolder,
    concept: str,
    record: dict[str, Any],
    outcome: str,
    missing: tuple[str, ...],
) -> None:
    folder.write("concepts/test_type_one.yaml", TYPE_ONE)
    folder.write("concepts/test_either_type.yaml", EITHER)
    trial = one_criterion_trial(folder, f"condition: {{concept: {concept}, status: present}}")
    result = summary(check_both(trial, record, AS_OF))
    assert (result[0], result[3]) == (outcome, missing)


def test_a_possible_member_never_gives_a_date_to_wait_for(folder: TrialFolder) -> None:
    folder.write("concepts/test_type_one.yaml", TYPE_ONE)
    rule = "condition: {concept: test_type_one, status: present, onset_at_least: 1 year}"
    trial = one_criterion_trial(folder, rule)
    record = {"conditions": [{"system": "icd10cm", "code": "G90.50", "onset": "2026-10-01"}]}
    result = check_both(trial, record, AS_OF)
    assert (result.verdict.value, result.eligible_from, result.criteria[0].outcome.value) == (
        "ineligible",
        None,
        "not_met",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            TYPE_ONE.replace('G90.50: "CRPS I, unspecified"', "G90.5: CRPS I"),
            "icd10cm G90.5 is listed both in 'codes' and in 'possible'",
        ),
        (
            TYPE_ONE.replace("kind: condition", "kind: medication").replace(
                'codes:\n  icd10cm: {G90.5: CRPS I}\n  snomed: {"734947007": CRPS type I}\n',
                "names: [something]\n",
            ),
            "'possible' is for condition sets only",
        ),
    ],
)
def test_possible_members_are_checked(folder: TrialFolder, text: str, message: str) -> None:
    from matcher.core.errors import CriteriaError

    folder.write("concepts/test_type_one.yaml", text)
    with pytest.raises(CriteriaError) as raised:
        one_criterion_trial(folder, "age: {min: 18}")
    assert [d.message for d in raised.value.diagnostics] == [message]


# --- in words (matcher explain) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        (
            THREE.format(count=2),
            "at least 2 of (age at least 18; sex female; French social security affiliation is "
            "yes)",
        ),
        (
            ACTIVE,
            "alcohol use disorder [alcohol_use_disorder] active at some time within the last "
            "6 months",
        ),
        (
            MEAN_PAIN,
            "mean of the 0-10 pain score [pain_0_10] readings within the last 7 days (at least 3 "
            "readings) is above 3",
        ),
        (
            "observation: {concept: pain_0_10, within: 30 days, aggregate: spread, max: 1}",
            "spread of the 0-10 pain score [pain_0_10] readings within the last 30 days (at least "
            "2 readings) is at most 1",
        ),
        (
            "observation: {concept: systolic_bp, within: 30 days, aggregate: count, min: 1}",
            "number of systolic blood pressure [systolic_bp] readings within the last 30 days is "
            "at least 1",
        ),
    ],
)
def test_new_rules_in_words(folder: TrialFolder, rule: str, words: str) -> None:
    from matcher.render.text import describe_rule

    rule_node = one_criterion_trial(folder, rule).criteria[0].rule
    assert rule_node is not None
    assert describe_rule(rule_node) == words
