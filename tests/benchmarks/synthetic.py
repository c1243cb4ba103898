"""Synthetic data for the benchmarks: a catalog of trials varied from the real one, and patients
with realistic record counts. Seeded, so every run measures the same work.

Trials: each synthetic trial copies one of the five catalog trials and varies its numbers (age
bounds, windows, observation bounds) and, for about a third of its condition and medication
rules, swaps the concept set for another set of the same kind. Examples are dropped.

Patients: about 20 conditions, 20 medications and 20 observations each; a quarter of the codes
come from the concept sets the catalog uses (so rules do match), the rest are codes no set holds.
"""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

import matcher
from matcher.criteria.concepts import ConceptKind

CATALOG = Path(__file__).resolve().parents[2] / "criteria"
AS_OF = date(2026, 11, 21)
DURATIONS = [
    "7 days",
    "30 days",
    "90 days",
    "3 months",
    "6 months",
    "12 months",
    "1 year",
    "2 years",
]


def _vary_rule(rule: Any, rng: random.Random, sets: dict[str, list[str]]) -> Any:
    if isinstance(rule, list):
        return [_vary_rule(item, rng, sets) for item in rule]
    if not isinstance(rule, dict):
        return rule
    out: dict[str, Any] = {}
    for key, value in rule.items():
        if key == "age" and isinstance(value, dict):
            low = value.get("min")
            high = value.get("max")
            new: dict[str, int] = {}
            if low is not None:
                new["min"] = max(0, low + rng.randint(-3, 3))
            if high is not None:
                new["max"] = max(new.get("min", 0), high + rng.randint(-5, 5))
            out[key] = new
        elif key in ("condition", "medication") and isinstance(value, dict):
            spec = dict(value)
            kind = key
            if "concept" in spec and rng.random() < 0.35:
                spec["concept"] = rng.choice(sets[kind])
            for window in ("within", "onset_at_least", "onset_within"):
                if window in spec:
                    spec[window] = rng.choice(DURATIONS)
            out[key] = spec
        elif key == "observation" and isinstance(value, dict):
            spec = dict(value)
            spec["within"] = rng.choice(DURATIONS)
            for bound in ("min", "max", "above", "below"):
                if bound in spec:
                    spec[bound] = spec[bound] + rng.choice([-1, 0, 0, 1])
            if spec.get("min") is not None and spec.get("max") is not None:
                spec["max"] = max(spec["max"], spec["min"])
            out[key] = spec
        else:
            out[key] = _vary_rule(value, rng, sets)
    return out


def write_catalog(folder: Path, count: int, seed: int = 7) -> Path:
    """Write ``count`` synthetic trial files (and the concept sets) into ``folder``."""
    rng = random.Random(seed)
    library = matcher.load_trials().concepts
    sets = {
        "condition": library.names(ConceptKind.CONDITION),
        "medication": library.names(ConceptKind.MEDICATION),
    }
    bases = [
        yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(CATALOG.glob("NCT*.yaml"))
    ]
    folder.mkdir(parents=True, exist_ok=True)
    concepts = folder / "concepts"
    concepts.mkdir(exist_ok=True)
    for path in (CATALOG / "concepts").glob("*.yaml"):
        (concepts / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    for number in range(count):
        trial = copy.deepcopy(bases[number % len(bases)])
        trial.pop("examples", None)
        trial["id"] = f"NCT9{number:07d}"
        trial["title"] = f"Synthetic trial {number} based on {bases[number % len(bases)]['id']}"
        for kind in ("inclusion", "exclusion"):
            for criterion in trial.get(kind, []):
                for key in ("rule", "applies_to"):
                    if key in criterion:
                        criterion[key] = _vary_rule(criterion[key], rng, sets)
        text = yaml.safe_dump(trial, sort_keys=False, allow_unicode=True)
        (folder / f"{trial['id']}.yaml").write_text(text, encoding="utf-8")
    return folder


def _codes(library: matcher.Catalog, kind: ConceptKind) -> list[tuple[str, str, str]]:
    """(system, code, display) members of the sets of one kind, ICD-10-CM extended to a child."""
    out: list[tuple[str, str, str]] = []
    for name in library.concepts.names(kind):
        for system, members in library.concepts[name].members.items():
            for code, display in members.items():
                out.append(
                    (system, code if system != "icd10cm" else code + "0"[: 7 - len(code)], display)
                )
    return out


def patients(count: int, seed: int = 11) -> list[matcher.Patient]:
    """``count`` synthetic patients with about 20 records of each kind."""
    rng = random.Random(seed)
    catalog = matcher.load_trials()
    conditions = _codes(catalog, ConceptKind.CONDITION)
    drugs = _codes(catalog, ConceptKind.MEDICATION)
    out: list[matcher.Patient] = []

    def day(back_from: int, back_to: int) -> str:
        return (AS_OF - timedelta(days=rng.randint(back_from, back_to))).isoformat()

    for number in range(count):
        sex = rng.choice(["female", "male"])
        records: dict[str, Any] = {
            "id": f"synthetic-{number}",
            "birth_date": day(16 * 365, 85 * 365),
            "sex": sex,
            "attributes": {
                "military_status": rng.choice(["veteran", "civilian", "active_duty", "retired"]),
                "fr_social_security": rng.random() < 0.3,
            },
            "conditions": [],
            "medications": [],
            "observations": [],
        }
        for _ in range(rng.randint(15, 25)):
            if rng.random() < 0.25:
                system, code, display = rng.choice(conditions)
            else:
                system, code, display = "snomed", str(rng.randint(10**8, 10**9)), "Other finding"
            records["conditions"].append(
                {
                    "system": system,
                    "code": code,
                    "display": display,
                    "onset": day(0, 4000),
                    "clinical_status": rng.choice(["active", "active", "resolved"]),
                }
            )
        for _ in range(rng.randint(15, 25)):
            if rng.random() < 0.25:
                system, code, display = rng.choice(drugs)
            else:
                system, code, display = "rxnorm", str(rng.randint(10**6, 10**7)), "Other drug"
            start = rng.randint(0, 3000)
            record = {
                "system": system,
                "code": code,
                "display": display,
                "start": day(start, start),
            }
            if rng.random() < 0.5:
                record["end"] = day(0, start)
                record["status"] = "completed"
            else:
                record["status"] = rng.choice(["active", "active", "stopped", "on_hold"])
            records["medications"].append(record)
        for _ in range(rng.randint(15, 25)):
            which = rng.random()
            if which < 0.4:
                obs = {
                    "system": "loinc",
                    "code": "72514-3",
                    "value": round(rng.uniform(0, 10), 1),
                    "unit": "{score}",
                }
            elif which < 0.6:
                obs = {
                    "system": "loinc",
                    "code": "8480-6",
                    "value": rng.randint(95, 200),
                    "unit": "mm[Hg]",
                }
            elif which < 0.8:
                obs = {
                    "system": "loinc",
                    "code": "8462-4",
                    "value": rng.randint(55, 120),
                    "unit": "mm[Hg]",
                }
            else:
                obs = {
                    "system": "loinc",
                    "code": "38214-3",
                    "value": rng.randint(0, 100),
                    "unit": "mm",
                }
            obs["date"] = day(0, 400)
            records["observations"].append(obs)
        if sex == "female" and rng.random() < 0.5:
            records["pregnancy"] = {"pregnant": rng.random() < 0.05, "date": day(0, 60)}
        out.append(matcher.Patient.model_validate(records))
    return out
