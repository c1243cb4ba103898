"""The durable-rules engine against the python engine: thousands of generated patients, every
catalog trial, identical results -- outcomes, reasons, evidence, missing facts, dates, verdicts,
scores and ranks -- and identical matching records for every leaf rule.

Patients come from a seeded ``random.Random`` (reproducible and fast, unlike a shrinking property
test), drawn around every boundary the catalog has, as of dates that stress the calendar rule
(month ends, 29 February):

* ages 11/12, 17/18, 54/55/56, 64/65/66, 70/71 on the as-of day, birthdays the day before, of and
  after it, births on 29 February, birth dates known only to the month or year, none at all;
* every window of the catalog (7 and 30 days, 3, 6 and 12 months, 1 year) at its first day, the
  day before and the day after, and 364-367 days back;
* pain scores 3, 3.9, 4, 7, 7.1 (0-10 scale), VAS 49-51 mm and 4.9-5.1 cm, blood pressures at
  160/180 and 100 mmHg, with and without units, in units that do not convert, without values,
  several readings on one day that disagree;
* medications of every class the catalog names (and others), by code or by name, ended around
  those days, ongoing, stopped or completed without an end date, on hold, cancelled, not taken,
  with partial or missing dates;
* conditions of every set the catalog names, by code (ICD-10-CM children, dotless; members and
  possible members) or by name, active, resolved with and without an abatement date (also around
  the first day of each window, for ``active_within``), provisional, refuted, onsets around 3, 6
  and 12 months;
* series of two to five readings of one code around the first day of a 7-day, 30-day or 3-month
  window (for the mean, minimum, maximum, spread and count aggregates), some with partial dates,
  no value or a unit that does not convert;
* counted combinations (``at_least``) of leaves of every kind, in the variants trial;
* pregnancy and lactation statuses inside, at and outside the 30-day window; female, male and
  unrecorded sex; every attribute value or none; unreviewed sections; records a reader skipped
  (with and without codes); deceased patients.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, reachable_verdicts
from pydantic import ValidationError

import matcher
from matcher.core.dates import Duration, add_months
from matcher.criteria.compiler import Catalog
from matcher.criteria.concepts import ConceptKind
from matcher.evaluation.engines.durable import durable_engine
from matcher.evaluation.engines.python import match
from matcher.evaluation.evaluate import prepare
from matcher.evaluation.examples import run_examples

PATIENTS = 3000
SEED = 20261121
MATCHER = shutil.which("matcher", path=str(Path(sys.executable).parent)) or "matcher"

AS_OF = [
    date(2026, 11, 21),
    date(2024, 2, 29),
    date(2025, 3, 31),
    date(2026, 12, 31),
    date(2027, 1, 1),
    date(2025, 8, 31),
    date(2028, 3, 1),
]
SPANS = [
    Duration.parse(text)
    for text in ("7 days", "30 days", "3 months", "6 months", "12 months", "1 year", "2 years")
]
AGES = [0, 11, 12, 17, 18, 30, 54, 55, 56, 64, 65, 66, 70, 71, 90]

#: (LOINC code, unit choices, values): the catalog's observations around their thresholds.
READINGS: list[tuple[str, list[str | None], list[float]]] = [
    ("72514-3", ["{score}", None, "score", "mm"], [0, 2.5, 3, 3.5, 3.9, 4, 5, 6.5, 7, 7.1, 8, 10]),
    ("38214-3", ["mm"], [0, 30, 49, 49.9, 50, 50.01, 51, 100]),
    ("38214-3", ["cm"], [4.9, 4.99, 5, 5.01, 5.1, 8]),
    ("38214-3", [None, "{score}"], [5, 50, 60]),
    ("8480-6", ["mm[Hg]", "mmHg", None], [120, 159, 160, 160.5, 161, 179, 180, 180.1, 181, 220]),
    ("8462-4", ["mm[Hg]", "mmHg", "cm"], [80, 99, 99.9, 100, 100.1, 101, 120]),
    ("12345-6", ["{score}"], [5]),
]
#: The diagnoses the catalog's inclusions ask for, and readings that often pass.
SOUGHT = ("chronic_neuropathic_pain", "crps", "crps_type_1")
CANDIDATE_READINGS: list[tuple[str, str, list[float]]] = [
    ("72514-3", "{score}", [3, 3.9, 4, 5, 6, 7, 7.1]),
    ("38214-3", "mm", [49, 50, 50.5, 51, 80]),
    ("8480-6", "mm[Hg]", [120, 130, 160, 161, 180, 181]),
    ("8462-4", "mm[Hg]", [70, 80, 100, 101]),
]
MEDICATION_STATUSES = [
    None,
    "active",
    "active",
    "on_hold",
    "completed",
    "stopped",
    "intended",
    "not_taken",
    "cancelled",
    "entered_in_error",
    "unknown",
]
CLINICAL = [None, None, "active", "recurrence", "relapse", "inactive", "remission", "resolved"]
VERIFICATION = [
    None,
    None,
    "confirmed",
    "unconfirmed",
    "provisional",
    "differential",
    "refuted",
    "entered_in_error",
]


class Maker:
    """Generated patients as plain data (validated by ``matcher.Patient``) for one as-of date."""

    def __init__(self, rng: random.Random, catalog: Catalog) -> None:
        self.rng = rng
        library = catalog.concepts
        self.conditions = [library[n] for n in library.names(ConceptKind.CONDITION)]
        self.drugs = [library[n] for n in library.names(ConceptKind.MEDICATION)]
        self.as_of = AS_OF[0]

    # -- days --

    def day(self) -> date:
        """A day around a window boundary most of the time."""
        rng, as_of = self.rng, self.as_of
        roll = rng.random()
        if roll < 0.5:
            return rng.choice(SPANS).before(as_of) + timedelta(days=rng.choice((-1, 0, 1)))
        if roll < 0.6:
            return as_of - timedelta(days=rng.choice((364, 365, 366, 367)))
        if roll < 0.7:
            return as_of + timedelta(days=rng.choice((-1, 0, 0, 1, 20)))
        if roll < 0.9:
            return as_of - timedelta(days=rng.randint(0, 900))
        return as_of - timedelta(days=rng.randint(900, 9000))

    def text(self, day: date, partial: float = 0.2) -> str:
        roll = self.rng.random()
        if roll < partial / 2:
            return f"{day.year:04d}"
        if roll < partial:
            return f"{day.year:04d}-{day.month:02d}"
        return day.isoformat()

    # -- records --

    def coding(self, concept: Any, words: str | None) -> dict[str, Any]:
        rng = self.rng
        record: dict[str, Any] = {}
        codes = [
            (s, c)
            for listed in (concept.members, concept.possible)
            for s, members in listed.items()
            for c in members
        ]
        names = sorted(" ".join(name) for name in concept.names)
        if codes and (not names or rng.random() < 0.6):
            system, code = rng.choice(codes)
            if system == "icd10cm" and rng.random() < 0.4:
                code = code.replace(".", "") + ("1" if len(code.replace(".", "")) < 7 else "")
            record.update(system=system, code=code)
            if rng.random() < 0.3:
                displays = {**concept.members.get(system, {}), **concept.possible.get(system, {})}
                record["display"] = displays.get(code, "Something")
        elif names:
            name = rng.choice(names)
            record["display"] = f"{name} {words}" if words else name
        else:
            record.update(system="snomed", code="1234567")
        return record

    def condition(self) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.15:
            record: dict[str, Any] = {"system": "icd10cm", "code": "Z00.00", "display": "Checkup"}
        else:
            record = self.coding(rng.choice(self.conditions), None)
        onset = self.day()
        if rng.random() > 0.1:
            record["onset"] = self.text(onset)
        roll = rng.random()
        if roll < 0.1:  # resolved around the start of a window (active_within's boundary)
            resolved = self.rng.choice(SPANS).before(self.as_of)
            resolved += timedelta(days=rng.choice((-1, 0, 1)))
            record["abatement"] = self.text(max(resolved, onset))
        elif roll < 0.25:
            record["abatement"] = self.text(onset + timedelta(days=rng.randint(0, 500)))
        if (status := rng.choice(CLINICAL)) is not None:
            record["clinical_status"] = status
        if (verification := rng.choice(VERIFICATION)) is not None:
            record["verification_status"] = verification
        return record

    def medication(self) -> dict[str, Any]:
        rng = self.rng
        if rng.random() < 0.15:
            record: dict[str, Any] = {"system": "rxnorm", "code": "310431", "display": "gabapentin"}
        else:
            strength = rng.choice([None, "0.5 MG Oral Tablet", "100 MG/ML Injectable Solution"])
            record = self.coding(rng.choice(self.drugs), strength)
        end = self.day()
        start = end - timedelta(days=rng.choice((0, 0, 1, 30, rng.randint(0, 800))))
        if rng.random() > 0.15:
            record["start"] = self.text(start)
        if rng.random() < 0.5:
            record["end"] = self.text(end)
        if (status := rng.choice(MEDICATION_STATUSES)) is not None:
            record["status"] = status
        return record

    def observation(self) -> list[dict[str, Any]]:
        rng = self.rng
        code, units, values = rng.choice(READINGS)
        record: dict[str, Any] = {"system": "loinc", "code": code}
        if rng.random() > 0.05:
            record["value"] = rng.choice(values)
        unit = rng.choice(units)
        if unit is not None:
            record["unit"] = unit
        when = self.day() if rng.random() < 0.5 else self.as_of - timedelta(rng.randint(0, 35))
        if rng.random() > 0.05:
            record["date"] = self.text(when, partial=0.1)
        readings = [record]
        if rng.random() < 0.15:  # a second reading of the same day, which may disagree
            readings.append({**record, "value": rng.choice(values)})
        return readings

    def series(self) -> list[dict[str, Any]]:
        """Several readings of one code around a window's first day, for the aggregates (mean,
        spread, count, ...): values near the thresholds, some with partial dates, no value or
        a unit that does not convert."""
        rng, as_of = self.rng, self.as_of
        code, units, values = rng.choice(READINGS[:6])
        start = rng.choice(SPANS[:3]).before(as_of)
        centre = rng.randrange(len(values))  # values of one series lie close together
        nearby = values[max(0, centre - 1) : centre + 2]
        readings = []
        for _ in range(rng.randint(2, 5)):
            when = start + timedelta(days=rng.choice((-2, -1, 0, 0, 1, 2, 3, 5)))
            reading: dict[str, Any] = {"system": "loinc", "code": code}
            reading["date"] = self.text(min(when, as_of), partial=0.1)
            if rng.random() > 0.05:
                reading["value"] = rng.choice(nearby)
            unit = rng.choice(units)
            if unit is not None:
                reading["unit"] = unit
            readings.append(reading)
        return readings

    def status(self, key: str, male: bool) -> dict[str, Any]:
        rng = self.rng
        status: dict[str, Any] = {key: rng.random() < 0.2 and not male}
        offset = rng.choice((0, 1, 10, 29, 30, 31, 45, 400))
        if rng.random() > 0.1:
            status["date"] = self.text(self.as_of - timedelta(days=offset), partial=0.15)
        return status

    def birth(self) -> str:
        rng, as_of = self.rng, self.as_of
        if rng.random() < 0.03:  # born on 29 February
            year = as_of.year - rng.choice(AGES) - 1
            year -= year % 4
            year = year if year % 100 else year - 4
            born = date(year, 2, 29)
        else:
            born = add_months(as_of, -12 * rng.choice(AGES))
            born += timedelta(days=rng.choice((-1, 0, 1, rng.randint(-200, 200))))
        return self.text(min(born, as_of), partial=0.15)

    # -- patients --

    def candidate(self) -> dict[str, Any]:
        """Records of a plausible candidate: the diagnosis a trial seeks, recent readings, few
        other problems (so that every verdict of every trial is reached)."""
        rng, as_of = self.rng, self.as_of
        sought = [c for c in self.conditions if c.name in SOUGHT]
        diagnosis = self.coding(rng.choice(sought), None)
        since = rng.choice([*SPANS, Duration.parse("4 years")]).before(as_of)
        diagnosis["onset"] = self.text(since + timedelta(days=rng.choice((-1, 0, 1))), 0.1)
        data: dict[str, Any] = {"conditions": [diagnosis]}
        if rng.random() < 0.3:
            data["conditions"].append(self.condition())
        data["medications"] = [self.medication() for _ in range(rng.choice((0, 0, 1, 2)))]
        data["observations"] = []
        for code, unit, values in CANDIDATE_READINGS:
            if rng.random() < 0.8:
                when = as_of - timedelta(days=rng.choice((0, 1, 6, 7, 8, 20, 29, 30, 31)))
                data["observations"].append(
                    {
                        "system": "loinc",
                        "code": code,
                        "value": rng.choice(values),
                        "unit": unit,
                        "date": self.text(when, partial=0.05),
                    }
                )
        return data

    def skipped(self, position: int) -> dict[str, Any]:
        """A record a reader left out: without codes (it touches every set of its section), or
        with the codes of a record this generator could have made."""
        rng = self.rng
        section = rng.choice(["conditions", "medications", "observations", "demographics"])
        entry: dict[str, Any] = {
            "section": section,
            "path": f"entry[{position}].resource",
            "reason": rng.choice(["unidentified", "other_subject", "unreadable_status"]),
        }
        makers = {
            "conditions": self.condition,
            "medications": self.medication,
            "observations": lambda: self.observation()[0],
        }
        if section in makers and rng.random() < 0.6:
            record = makers[section]()
            if "code" in record:
                entry["codes"] = [{"system": record["system"], "code": record["code"]}]
            if record.get("display"):
                entry["display"] = record["display"]
        return entry

    def patient(self, number: int) -> dict[str, Any]:
        rng = self.rng
        self.as_of = rng.choice(AS_OF)
        data: dict[str, Any] = {"id": f"generated-{number}"}
        if rng.random() > 0.08:
            data["birth_date"] = self.birth()
        sex = rng.choice(["female", "female", "male", "male", None])
        if sex is not None:
            data["sex"] = sex
        attributes: dict[str, Any] = {}
        if rng.random() > 0.2:
            attributes["military_status"] = rng.choice(
                ["active_duty", "veteran", "veteran", "retired", "reserve", "dependent", "civilian"]
            )
        if rng.random() > 0.3:
            attributes["fr_social_security"] = rng.random() < 0.6
        data["attributes"] = attributes
        if rng.random() < 0.5:
            data.update(self.candidate())
        else:
            data["conditions"] = [self.condition() for _ in range(rng.choice((0, 1, 2, 3, 5)))]
            data["medications"] = [self.medication() for _ in range(rng.choice((0, 1, 2, 3, 5)))]
            data["observations"] = [
                reading for _ in range(rng.choice((0, 1, 2, 4))) for reading in self.observation()
            ]
        if rng.random() < 0.3:
            data["observations"] = [*data["observations"], *self.series()]
        if rng.random() < 0.5:
            data["pregnancy"] = self.status("pregnant", sex == "male")
        if rng.random() < 0.4:
            data["lactation"] = self.status("lactating", sex == "male")
        unreviewed = [s for s in ("conditions", "medications") if rng.random() < 0.07]
        if unreviewed:
            data["unreviewed"] = unreviewed
        if rng.random() < 0.12:
            data["skipped"] = [self.skipped(i) for i in range(rng.choice((1, 1, 2, 4)))]
        if rng.random() < 0.05:
            data["deceased"] = True
            if rng.random() < 0.7:
                died = self.as_of + timedelta(days=rng.choice((-400, -1, 0, 1, 30)))
                data["deceased_date"] = self.text(died, partial=0.3)
        return data


def generate(catalog: Catalog, count: int, seed: int) -> list[tuple[matcher.Patient, date]]:
    """``count`` valid patients with their as-of dates (invalid draws are drawn again)."""
    maker = Maker(random.Random(seed), catalog)
    out: list[tuple[matcher.Patient, date]] = []
    rejected = 0
    while len(out) < count:
        data = maker.patient(len(out))
        try:
            patient = matcher.Patient.model_validate(data)
        except ValidationError:
            rejected += 1
            continue
        if patient.birth_date is not None and patient.birth_date.first > maker.as_of:
            rejected += 1
            continue
        out.append((patient, maker.as_of))
    assert rejected < 10 + count // 5, f"the generator wastes too many draws ({rejected})"
    return out


def comparable(result: matcher.CheckResult) -> dict[str, Any]:
    """The whole result, with the engine's name (the one field meant to differ) taken out."""
    payload = result.as_dict()
    assert payload.pop("engine") == result.engine
    return payload


#: A trial made of the leaf variants the catalog does not use: other spans, exclusive and
#: converted bounds, onset windows on present conditions, ingredients, one-sided ages, ...
VARIANTS = """\
id: NCT09000001
title: Leaf variants
status: recruiting
sponsor: tests
registry_url: https://clinicaltrials.gov/study/NCT09000001
last_reviewed: 2026-01-01
inclusion:
  - {id: a1, description: d, source: s, rule: {age: {max: 17}}}
  - {id: a2, description: d, source: s, rule: {age: {min: 65, max: 65}}}
  - {id: a3, description: d, source: s, rule: {sex: [male]}}
  - {id: a4, description: d, source: s, rule: {attribute: {name: military_status, in: [reserve]}}}
  - {id: a5, description: d, source: s, rule: {attribute: {name: fr_social_security, is: false}}}
  - id: o1
    description: d
    source: s
    rule: {observation: {concept: pain_0_10, within: 2 weeks, above: 3.9, below: 7.1}}
  - id: o2
    description: d
    source: s
    rule: {observation: {concept: pain_vas_100mm, within: 1 year, min: 4.9, max: 5.1, unit: cm}}
  - id: o3
    description: d
    source: s
    rule: {observation: {concept: systolic_bp, within: 3 months, below: 160}}
  - id: c1
    description: d
    source: s
    rule: {condition: {concept: hypertension, status: present, onset_within: 3 months}}
  - id: c2
    description: d
    source: s
    rule: {condition: {concept: crps, status: ever, onset_at_least: 1 year}}
  - id: c3
    description: d
    source: s
    rule: {condition: {concept: chronic_neuropathic_pain, status: ever, onset_within: 2 weeks}}
  - id: m1
    description: d
    source: s
    rule: {medication: {ingredient: ketamine, ever: true}}
  - id: m2
    description: d
    source: s
    rule: {medication: {concept: benzodiazepines, within: 2 weeks}}
  - id: m3
    description: d
    source: s
    rule: {not: {medication: {concept: sympathomimetics, within: 366 days}}}
  - id: p1
    description: d
    source: s
    rule: {lactating: {within: 7 days, childbearing_age: {min: 15, max: 45}}}
  - id: p2
    description: d
    source: s
    rule:
      all:
        - pregnant: {within: 1 year}
        - any: [{sex: [female]}, {not: {age: {min: 50}}}]
    applies_to: {sex: [female]}
  - id: n1
    description: d
    source: s
    rule:
      at_least:
        count: 2
        of:
          - age: {min: 18, max: 65}
          - condition: {concept: crps, status: present, onset_at_least: 6 months}
          - medication: {concept: benzodiazepines, current: true}
          - observation: {concept: pain_0_10, within: 30 days, min: 4}
  - id: n2
    description: d
    source: s
    rule:
      not:
        at_least:
          count: 1
          of:
            - medication: {concept: ketamine, within: 1 year}
            - condition: {concept: myocardial_infarction, status: ever, onset_within: 12 months}
  - id: n3
    description: d
    source: s
    rule:
      at_least:
        count: 3
        of:
          - sex: [female]
          - attribute: {name: fr_social_security, is: true}
          - any: [{condition: {concept: chronic_neuropathic_pain}}, {condition: {concept: crps}}]
  - id: w1
    description: d
    source: s
    rule: {condition: {concept: hypertension, active_within: 6 months}}
  - id: w2
    description: d
    source: s
    rule: {condition: {concept: crps, active_within: 30 days}}
  - id: g1
    description: d
    source: s
    rule:
      observation:
        {concept: pain_0_10, within: 30 days, aggregate: mean, min_readings: 2, above: 3.9}
  - id: g2
    description: d
    source: s
    rule: {observation: {concept: systolic_bp, within: 30 days, aggregate: maximum, above: 160}}
  - id: g3
    description: d
    source: s
    rule: {observation: {concept: diastolic_bp, within: 3 months, aggregate: minimum, min: 100}}
  - id: g4
    description: d
    source: s
    rule: {observation: {concept: pain_0_10, within: 30 days, aggregate: spread, max: 1}}
  - id: g5
    description: d
    source: s
    rule: {observation: {concept: pain_vas_100mm, within: 1 year, aggregate: count, min: 1, max: 1}}
  - id: g6
    description: d
    source: s
    rule:
      observation: {concept: pain_vas_100mm, within: 30 days, aggregate: mean, above: 50, unit: mm}
"""


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return matcher.load_trials()


def compare(trials: Catalog, patients: int, seed: int) -> tuple[Counter[Any], Counter[Any]]:
    """Both engines on generated patients: whole results, and the records matching each leaf."""
    engine = durable_engine()
    outcomes: Counter[tuple[str, str, str]] = Counter()
    verdicts: Counter[tuple[str, str]] = Counter()
    differences: list[str] = []
    for patient, as_of in generate(trials, patients, seed):
        python = matcher.check(patient, trials, as_of=as_of)
        durable = matcher.check(patient, trials, as_of=as_of, engine="durable")
        assert (python.engine, durable.engine) == ("python", "durable")
        if comparable(python) != comparable(durable):
            differences.append(f"{patient.id} as of {as_of}")
        facts = prepare(patient, as_of)
        found = engine.matches(trials.trials, facts)
        expected = {leaf.key: match(leaf, facts) for t in trials for leaf in t.leaves}
        if found != expected:
            differences.append(f"{patient.id} as of {as_of}: the matching records differ")
        for trial in python.trials:
            verdicts[trial.trial, trial.verdict.value] += 1
            for criterion in trial.criteria:
                outcomes[trial.trial, criterion.id, criterion.outcome.value] += 1
    assert differences == []
    return outcomes, verdicts


def test_generated_patients_get_identical_results_from_both_engines(catalog: Catalog) -> None:
    outcomes, verdicts = compare(catalog, PATIENTS, SEED)
    # The patients reach every verdict of every trial, and at least three outcomes of every
    # criterion with a rule -- except "sex is female or male", which can only be met or unknown.
    assert set(verdicts) == {(t.id, v.value) for t in catalog for v in reachable_verdicts(t)}
    narrow = {}
    for trial in catalog:
        for criterion in trial.criteria:
            seen = {o for (t, c, o) in outcomes if (t, c) == (trial.id, criterion.id)}
            if criterion.rule is not None and len(seen) < 3:
                narrow[trial.id, criterion.id] = seen
    assert narrow == {("NCT06414356", "biological_sex"): {"met", "unknown"}}


def test_leaf_variants_get_identical_results_from_both_engines(tmp_path: Path) -> None:
    (tmp_path / "NCT09000001.yaml").write_text(VARIANTS, encoding="utf-8")
    trials = matcher.load_trials(tmp_path)
    outcomes, _ = compare(trials, 1500, SEED + 1)
    seen: dict[str, set[str]] = {}
    for _, criterion, outcome in outcomes:
        seen.setdefault(criterion, set()).add(outcome)
    everything = {"met", "not_met", "unknown"}
    assert seen == {"alive": {"not_met", "unknown"}} | {
        c.id: everything for c in trials.trials[0].criteria
    }


def test_catalog_examples_pass_with_the_durable_engine(catalog: Catalog) -> None:
    reports = run_examples(catalog, engine="durable")
    assert reports
    assert {(r.trial, r.name): r.problems for r in reports if not r.passed} == {}


def test_catalog_examples_give_identical_results(catalog: Catalog) -> None:
    for trial in catalog:
        for example in trial.examples:
            python = matcher.check(example.patient, [trial], as_of=example.as_of)
            durable = matcher.check(example.patient, [trial], as_of=example.as_of, engine="durable")
            assert comparable(python) == comparable(durable), (trial.id, example.name)


def test_matcher_test_command_passes_with_the_durable_engine() -> None:
    done = subprocess.run(
        [MATCHER, "test", "--engine", "durable"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "45 passed, 0 failed"
