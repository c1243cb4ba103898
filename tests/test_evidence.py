"""Structured evidence and explanations on demand.

A result records what decided as data (the records behind the evidence, the missing facts, the
criteria checked), and a check explains only the trials it is asked to: every other part of the
answer is the same whatever ``explain`` says.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from helpers import DATA, TrialFolder, one_criterion_trial

import matcher
from matcher import MissingFact, RecordRef

AS_OF = datetime.date(2026, 11, 21)


def _bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    patient = {"resourceType": "Patient", "id": "p", "birthDate": "1970-01-01", "gender": "male"}
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in (patient, *resources)],
    }


CONDITION = {
    "resourceType": "Condition",
    "id": "crps-1",
    "subject": {"reference": "Patient/p"},
    "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z99.9"}]},
    "onsetDateTime": "2024-03-01",
}


def test_a_fhir_record_that_decides_is_named_by_its_resource(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, "condition: {concept: test_condition}")
    unnamed = {key: value for key, value in CONDITION.items() if key != "id"}
    patient = matcher.patient_from_data(_bundle(CONDITION, unnamed))
    (criterion,) = matcher.check(patient, [trial], as_of=AS_OF).trials[0].criteria
    assert criterion.records == (
        RecordRef("conditions[0]", "Condition/crps-1", "icd10cm", "Z99.9", None, "2024-03-01"),
        # without an id, the resource is named by its place in the Bundle
        RecordRef("conditions[1]", "entry[2].resource", "icd10cm", "Z99.9", None, "2024-03-01"),
    )


def test_missing_facts_are_data(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, "medication: {concept: test_drugs, within: 1 year}")
    patient = matcher.Patient(id="p", unreviewed=("medications",))
    result = matcher.check(patient, [trial], as_of=AS_OF).trials[0]
    fact = MissingFact(
        "record",
        "whether the patient used test drugs since 2025-11-21",
        "test_drugs",
        datetime.date(2025, 11, 21),
        AS_OF,
    )
    assert (result.missing_facts, result.criteria[0].missing_facts) == ((fact,), (fact,))
    assert result.missing == (fact.text,)


def test_an_audit_trail_names_the_criteria_checked(tmp_path: Path) -> None:
    catalog = matcher.load_trials()
    patient = matcher.load_patient(DATA / "patients" / "veteran.yaml")
    result = matcher.check(patient, catalog, as_of=AS_OF)
    # the same digest for the catalog and for its trials given one by one, in any order
    again = matcher.check(patient, list(reversed(catalog.trials)), as_of=AS_OF)
    assert result.catalog_digest == again.catalog_digest == catalog.digest
    assert {t.trial: t.last_reviewed for t in result.trials} == {
        t.id: t.last_reviewed for t in catalog.trials
    }
    # a copy of the catalog elsewhere has the same digest; one changed byte changes it
    copy = tmp_path / "copy"
    copy.mkdir()
    for trial in catalog.trials:
        (copy / Path(trial.file).name).write_bytes(Path(trial.file).read_bytes())
    assert matcher.load_trials(copy).digest == catalog.digest
    first = sorted(copy.glob("*.yaml"))[0]
    first.write_bytes(first.read_bytes() + b"\n")
    assert matcher.load_trials(copy).digest != catalog.digest


def _without_explanations(result: matcher.CheckResult) -> list[dict[str, Any]]:
    return [
        {key: trial[key] for key in ("trial", "verdict", "score", "eligible_from", "must_stop")}
        for trial in result.as_dict()["trials"]
    ]


PATIENTS = sorted((DATA / "patients").glob("*.yaml")) + sorted(
    (DATA / "fhir" / "synthea").glob("*.json")
)


@pytest.mark.parametrize("path", PATIENTS, ids=lambda p: p.stem[:20])
def test_explaining_fewer_trials_changes_no_verdict(path: Path) -> None:
    catalog = matcher.load_trials()
    patient = matcher.load_patient(path)
    full = matcher.check(patient, catalog, as_of=AS_OF)
    for explain in ("none", 0, 1, 3, 99):
        result = matcher.check(patient, catalog, as_of=AS_OF, explain=explain)
        assert _without_explanations(result) == _without_explanations(full)
        wanted = {"none": 0, 99: len(full.trials)}.get(explain, explain)
        assert isinstance(wanted, int)
        # the explained trials are the top-ranked ones, explained in full
        assert result.trials[:wanted] == full.trials[:wanted]
        for trial in result.trials[wanted:]:
            assert not trial.explained
            assert (trial.criteria, trial.missing, trial.to_confirm, trial.reviews) == (
                (),
                (),
                (),
                (),
            )


def test_explain_is_checked() -> None:
    patient = matcher.Patient(id="p")
    for wrong in (-1, True, "some", 1.5):
        with pytest.raises(matcher.InputError) as caught:
            matcher.check(patient, matcher.load_trials(), as_of=AS_OF, explain=wrong)  # type: ignore[arg-type]
        assert caught.value.diagnostics[0].path == "explain"


def test_an_unexplained_trial_in_json_says_so() -> None:
    patient = matcher.load_patient(DATA / "patients" / "veteran.yaml")
    payload = json.loads(
        matcher.check(patient, matcher.load_trials(), as_of=AS_OF, explain=1).to_json()
    )
    assert [t["explained"] for t in payload["trials"]] == [True, False, False, False, False]
    assert payload["trials"][1]["criteria"] == []


@pytest.mark.parametrize("variants", [False, True], ids=["catalog", "leaf variants"])
def test_a_bare_leaf_decides_as_the_worded_one(variants: bool, tmp_path: Path) -> None:
    # The generated patients of the differential test, on the catalog and on the trial of the
    # leaf variants the catalog does not use: every leaf decided without words has the outcome,
    # the day it changes and the medications to stop of the same leaf worded.
    from test_engines_differential import VARIANTS, generate

    from matcher.evaluation.engines.python import match
    from matcher.evaluation.evaluate import prepare
    from matcher.evaluation.leaves import leaf_result

    if variants:
        (tmp_path / "NCT09000001.yaml").write_text(VARIANTS, encoding="utf-8")
        trials = matcher.load_trials(tmp_path)
    else:
        trials = matcher.load_trials()
    leaves = {leaf.key: leaf for trial in trials for leaf in trial.leaves}
    outcomes: set[str] = set()
    for patient, as_of in generate(trials, 400, 20261202):
        facts = prepare(patient, as_of)
        for leaf in leaves.values():
            found = match(leaf, facts)
            full = leaf_result(leaf, facts, found)
            bare = leaf_result(leaf, facts, found, words=False)
            assert (bare.outcome, bare.leaves_on, bare.must_stop) == (
                full.outcome,
                full.leaves_on,
                full.must_stop,
            ), (patient.id, as_of, leaf)
            assert (bare.reason, bare.evidence, bare.missing, bare.records) == ("", (), (), ())
            outcomes.add(full.outcome.value)
        assert _without_explanations(
            matcher.check(patient, trials, as_of=as_of, explain="none")
        ) == _without_explanations(matcher.check(patient, trials, as_of=as_of))
    assert outcomes == {"met", "not_met", "unknown"}
