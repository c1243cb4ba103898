"""Concept sets against real coded data: every Synthea code is matched by exactly the sets listed
in tests/data/synthea_concepts.yaml (reviewed by hand), plus matching rules on made-up records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import DATA

import matcher
from matcher.criteria.concepts import ConceptKind, ConceptLibrary, ConceptSet, normalise_name
from matcher.patient.model import Coding

EXPECTATIONS: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "synthea_concepts.yaml").read_text(encoding="utf-8")
)
LIBRARY: ConceptLibrary = matcher.load_trials().concepts


def members(kind: ConceptKind, system: str, code: str, display: str) -> list[str]:
    coding = Coding(system=system, code=code)
    pair = (coding.system, coding.code)
    words = normalise_name(display)
    return sorted(
        name
        for name, concept in LIBRARY.sets.items()
        if concept.kind is kind and (concept.matches_code([pair]) or concept.matches_name(words))
    )


def test_every_synthea_condition_and_drug_is_listed() -> None:
    synthea = Path(DATA / "fhir" / "synthea")
    assert len(list(synthea.glob("*.json"))) == 8
    assert len(EXPECTATIONS) == 52


@pytest.mark.parametrize(
    "item", EXPECTATIONS, ids=[f"{e['system']}:{e['code']}" for e in EXPECTATIONS]
)
def test_synthea_code_membership(item: dict[str, Any]) -> None:
    kind = (
        ConceptKind.MEDICATION
        if item["resource"] == "MedicationRequest"
        else (ConceptKind.CONDITION)
    )
    assert members(kind, item["system"], item["code"], item["display"]) == item["member_of"]


def concept(name: str) -> ConceptSet:
    return LIBRARY[name]


@pytest.mark.parametrize(
    ("name", "display", "expected"),
    [
        ("benzodiazepines", "Clonazepam 0.5 MG Oral Tablet [Klonopin]", True),
        ("benzodiazepines", "KLONOPIN 1 mg tablet", True),
        ("benzodiazepines", "Zolpidem 10 MG Oral Tablet", False),
        ("amphetamines", "Dextroamphetamine Sulfate 5 MG Oral Tablet", True),
        ("ketamine", "Esketamine 28 MG Nasal Spray [Spravato]", True),
        ("ketamine", "ketamine hydrochloride 50 MG/ML Injectable Solution", True),
        ("xanthines", "Theophylline 300 MG Extended Release Oral Tablet", True),
        ("xanthines", "Caffeine 200 MG Oral Tablet", False),
        ("vasopressin_analogues", "Desmopressin acetate 0.1 MG Oral Tablet", False),
        ("sympathomimetics", "Methylphenidate Hydrochloride 20 MG Oral Tablet", True),
    ],
)
def test_drug_names_match_as_whole_words(name: str, display: str, expected: bool) -> None:
    assert concept(name).matches_name(normalise_name(display)) is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("G90.5", True),
        ("G90.511", True),
        ("G90511", True),
        ("G90.59", True),
        ("G90.4", False),
        ("G9", False),
        ("G56.4", False),
    ],
)
def test_icd10cm_hierarchy(code: str, expected: bool) -> None:
    coding = Coding(system="icd10cm", code=code)
    assert concept("crps_type_1").matches_code([(coding.system, coding.code)]) is expected


def test_condition_names_keep_their_numbers() -> None:
    assert normalise_name("Complex regional pain syndrome type 2") != normalise_name(
        "Complex regional pain syndrome type 1"
    )
    assert not concept("crps_type_1").matches_name(
        normalise_name("Complex regional pain syndrome type 2")
    )


def test_every_set_is_listed_by_the_cli_renderer() -> None:
    from matcher.render.text import render_concepts

    listed = [line.split()[0] for line in render_concepts(LIBRARY).splitlines()[1:]]
    assert listed == sorted(LIBRARY.sets)
