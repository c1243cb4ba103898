"""Records given by name only (issue 12.4): near misses of drug names, brand names, and
conditions named by words or by their ICD-10-CM title. Every result is checked to be the same
under both engines (``check_both``)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from helpers import TrialFolder, check_both, one_criterion_trial

import matcher
from matcher.criteria.concepts import ConceptLibrary, normalise_name

pytest.importorskip("durable_rules_engine")

AS_OF = date(2026, 11, 21)
LIBRARY: ConceptLibrary = matcher.load_trials().concepts


def current(folder: TrialFolder, concept: str, display: str) -> tuple[str, str, tuple[str, ...]]:
    trial = one_criterion_trial(
        folder, f"medication: {{concept: {concept}, current: true}}", kind="exclusion"
    )
    record = {"display": display, "start": "2026-01-01", "status": "active"}
    (criterion,) = check_both(trial, {"medications": [record]}, AS_OF).criteria
    return criterion.outcome.value, criterion.reason, criterion.missing


QUESTION = "whether the patient currently uses benzodiazepines"


@pytest.mark.parametrize(
    ("display", "member"),
    [
        ("Lorazapam 1 MG Oral Tablet", "lorazepam"),
        ("clonazepan 0.5 mg", "clonazepam"),
        ("Lorazépan 1 mg", "lorazepam"),  # accents folded, then one edit
        ("Xanex", "xanax"),
        ("Alprazloam 0.25 MG", "alprazolam"),  # two neighbours swapped: one edit
        ("Chlordiazepoxde 10 MG", "chlordiazepoxide"),
    ],
)
def test_a_near_miss_of_a_member_name_makes_the_rule_unknown(
    folder: TrialFolder, display: str, member: str
) -> None:
    assert current(folder, "benzodiazepines", display) == (
        "unknown",
        f"cannot tell from the record {QUESTION}: the name of a medication on record "
        f"resembles {member} (benzodiazepines)",
        (QUESTION,),
    )


@pytest.mark.parametrize(
    ("display", "outcome"),
    [
        ("clonazépam 2 mg", "met"),  # accents folded: the name itself
        ("Lorazepam 1 MG", "met"),
        ("Ibuprofen 200 MG Oral Tablet", "not_met"),
        ("Methylene blue 5 MG/ML", "not_met"),  # two edits from "methylin": too far for 9 letters
        ("Prazosin 1 MG Oral Capsule", "not_met"),
        ("Oral Tablet", "not_met"),  # dose-form words are no drug names
    ],
)
def test_real_names_and_far_names_are_decided(
    folder: TrialFolder, display: str, outcome: str
) -> None:
    assert current(folder, "benzodiazepines", display)[0] == outcome


def test_a_near_miss_is_looked_up_only_for_a_name_that_matched_nothing() -> None:
    index = LIBRARY["benzodiazepines"].index
    assert index is not None
    # "Lorazapam" alone resembles lorazepam; beside a name that matches a set it is not looked up.
    assert index.holding((), normalise_name("Lorazapam"))[0] == frozenset()
    assert index.near_misses(normalise_name("Lorazapam")) == {
        id(LIBRARY["benzodiazepines"]): "lorazepam"
    }
    sure, _ = index.holding((), normalise_name("Lorazapam with clonazepam"))
    assert id(LIBRARY["benzodiazepines"]) in sure


# --- conditions by name --------------------------------------------------------------------------


def ever(folder: TrialFolder, concept: str, display: str) -> tuple[str, tuple[str, ...]]:
    trial = one_criterion_trial(folder, f"condition: {{concept: {concept}, status: ever}}")
    record = {"display": display, "onset": "2025-03-01"}
    (criterion,) = check_both(trial, {"conditions": [record]}, AS_OF).criteria
    return criterion.outcome.value, criterion.missing


@pytest.mark.parametrize(
    ("concept", "display", "outcome"),
    [
        # The ICD-10-CM title of G90.522: CRPS type I, though no listed name says "type I".
        ("crps_type_1", "Complex regional pain syndrome I of left lower limb", "met"),
        ("crps_type_1", "COMPLEX REGIONAL PAIN SYNDROME I OF LEFT LOWER LIMB", "met"),
        ("crps", "Complex regional pain syndrome I of left lower limb", "met"),
        # A listed name inside a longer name, as whole words.
        ("crps", "Complex regional pain syndrome of the left leg", "met"),
        ("epilepsy", "Epilepsy, focal, with impaired awareness", "met"),
        ("crps_type_1", "Complex regional pain syndrome type II of the arm", "not_met"),
        # Beside a qualifier the name may not be the patient's condition.
        ("epilepsy", "Family history of epilepsy", "unknown"),
        ("epilepsy", "Suspected epilepsy", "unknown"),
    ],
)
def test_a_condition_given_by_name_matches_by_words_and_by_title(
    folder: TrialFolder, concept: str, display: str, outcome: str
) -> None:
    assert ever(folder, concept, display)[0] == outcome


def test_the_committed_titles_are_the_generators_output() -> None:
    import sys
    import warnings

    from helpers import REPO

    pytest.importorskip("simple_icd_10_cm")
    sys.path.insert(0, str(REPO / "tests" / "tools"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import icd10cm_titles
        expected = icd10cm_titles.main()
    finally:
        sys.path.remove(str(REPO / "tests" / "tools"))
    committed = (REPO / "matcher" / "criteria" / "icd10cm_titles.tsv").read_text(encoding="utf-8")
    assert committed == expected


# --- brand names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("concept", "display"),
    [
        ("benzodiazepines", "Versed 5 mg/mL injection"),
        ("benzodiazepines", "LIBRIUM 10 mg capsule"),
        ("sympathomimetics", "Afrin 12 hour nasal spray"),
        ("xanthines", "Lufyllin 400 mg"),
    ],
)
def test_brand_names_alone_are_members(folder: TrialFolder, concept: str, display: str) -> None:
    assert current(folder, concept, display)[0] == "met"


def coded(folder: TrialFolder, concept: str, code: str) -> tuple[str, str, tuple[str, ...]]:
    trial = one_criterion_trial(
        folder, f"medication: {{concept: {concept}, current: true}}", kind="exclusion"
    )
    record = {"system": "rxnorm", "code": code, "start": "2026-01-01", "status": "active"}
    (criterion,) = check_both(trial, {"medications": [record]}, AS_OF).criteria
    return criterion.outcome.value, criterion.reason, criterion.missing


def test_brand_level_xanthine_codes_are_members(folder: TrialFolder) -> None:
    assert coded(folder, "xanthines", "93181")[0] == "met"


# Brand names from openFDA and drug references (each cited in its set's ``source``): a record
# naming the brand decides the rule exactly as one naming its ingredient does.
BRANDS = [
    ("benzodiazepines", "Dalmane 30 mg capsule", "flurazepam 30 mg capsule"),
    ("benzodiazepines", "SERAX 15 MG", "oxazepam 15 mg"),
    ("xanthines", "Theo-24 300 mg capsule", "theophylline 300 mg capsule"),
    ("xanthines", "Theo 24 200 mg", "theophylline 200 mg"),
    ("xanthines", "Uniphyl 400 mg tablet", "theophylline 400 mg tablet"),
    ("sympathomimetics", "Primatene Mist inhaler", "epinephrine inhaler"),
    ("sympathomimetics", "Primatene tablets", "ephedrine tablets"),
    ("sympathomimetics", "Claritin-D 24 Hour", "loratadine / pseudoephedrine"),
    ("sympathomimetics", "CLARITIN D 12 HOUR", "loratadine / pseudoephedrine"),
    ("sympathomimetics", "Allegra-D Allergy and Congestion", "fexofenadine / pseudoephedrine"),
    ("sympathomimetics", "Zyrtec-D 12 hour", "cetirizine / pseudoephedrine"),
]


@pytest.mark.parametrize(("concept", "brand", "ingredient"), BRANDS)
def test_a_brand_decides_as_its_ingredient(
    folder: TrialFolder, concept: str, brand: str, ingredient: str
) -> None:
    expected = current(folder, concept, ingredient)
    assert expected[0] == "met"
    assert current(folder, concept, brand) == expected


@pytest.mark.parametrize(
    "display",
    [
        "Claritin 10 mg tablet",  # loratadine alone: an antihistamine, no decongestant
        "Allegra Allergy 180 mg",
        "Zyrtec Allergy 10 mg",
        "Clarinex 5 mg",
    ],
)
def test_the_antihistamine_without_the_d_is_no_sympathomimetic(
    folder: TrialFolder, display: str
) -> None:
    assert current(folder, "sympathomimetics", display) == (
        "not_met",
        "no current sympathomimetics on record",
        (),
    )


@pytest.mark.parametrize(
    ("concept", "display", "member"),
    [
        ("benzodiazepines", "Dalmame 15 mg", "dalmane"),
        ("benzodiazepines", "Serex 15 mg", "serax"),
        ("sympathomimetics", "Primatine Mist", "primatene"),
        ("xanthines", "Uniphil 400 mg", "uniphyl"),
        # Names of several words.
        ("sympathomimetics", "Claritan-D 24 Hour", "claritin-d"),  # one letter changed
        ("sympathomimetics", "Zyrtek D 12 hour", "zyrtec-d"),  # the hyphen a space, too
        ("sympathomimetics", "Allegro-D Allergy and Congestion", "allegra-d"),
        ("sympathomimetics", "ZyrtecD 12 hour", "zyrtec-d"),  # written as one word
        ("xanthines", "Theo24 300 mg capsule", "theo-24"),
        ("amphetamines", "Adipek-P 37.5 MG", "adipex-p"),
    ],
)
def test_a_near_miss_of_a_brand_makes_the_rule_unknown(
    folder: TrialFolder, concept: str, display: str, member: str
) -> None:
    title = LIBRARY[concept].title
    question = f"whether the patient currently uses {title}"
    assert current(folder, concept, display) == (
        "unknown",
        f"cannot tell from the record {question}: the name of a medication on record "
        f"resembles {member} ({title})",
        (question,),
    )


@pytest.mark.parametrize(
    ("concept", "display"),
    [
        ("sympathomimetics", "Claritin 10 mg tablet"),  # the words of claritin-d, without the d
        ("sympathomimetics", "Claritin Allergy 24 Hour"),
        ("sympathomimetics", "Zyrtek 10 mg"),  # a near miss of zyrtec, which is no member
        ("xanthines", "Theo 25 mg"),  # the short words must be exact
        ("xanthines", "Thea-24"),
        ("sympathomimetics", "Vitamin D3 1000 UNT Oral Tablet"),
    ],
)
def test_names_of_several_words_have_no_loose_near_misses(
    folder: TrialFolder, concept: str, display: str
) -> None:
    title = LIBRARY[concept].title
    assert current(folder, concept, display) == (
        "not_met",
        f"no current {title} on record",
        (),
    )


def _fhir_medication_names() -> list[str]:
    """The names of every medication coding in the public FHIR files of ``tests/data/fhir``
    (Synthea, US Core, CARIN Blue Button, FHIR-Converter, the bulk export: origins in its
    README)."""
    import json

    from helpers import REPO

    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if str(node.get("resourceType", "")).startswith("Medication"):
                for key in ("medicationCodeableConcept", "code"):
                    concept = node.get(key)
                    if isinstance(concept, dict):
                        for coding in concept.get("coding", ()):
                            if isinstance(coding.get("display"), str):
                                names.add(coding["display"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    folder = REPO / "tests" / "data" / "fhir"
    for path in sorted(folder.rglob("*.json")):
        walk(json.loads(path.read_text(encoding="utf-8-sig")))
    for path in sorted(folder.rglob("*.ndjson")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                walk(json.loads(line))
    return sorted(names)


def test_real_drug_names_of_no_set_have_no_near_misses() -> None:
    index = LIBRARY["benzodiazepines"].index
    assert index is not None
    names = _fhir_medication_names()
    unmatched = [n for n in names if index.holding((), normalise_name(n)) == (frozenset(),) * 2]
    # Acetaminophen, amlodipine, paclitaxel, NuvaRing, "Carbamazepine[Tegretol]", ...: real drug
    # names (mostly RxNorm displays) that no bundled set holds. None may look like a member.
    assert len(unmatched) >= 50
    resembling = {n: near for n in unmatched if (near := index.near_misses(normalise_name(n)))}
    assert resembling == {}


# Codes that openFDA lists for current products (openfda.rxcui), each cited in its set.
NEW_CODES = [
    ("xanthines", code)
    for code in ("313291", "313306", "314241", "317769", "348472", "1724666", "1724668")
] + [
    ("sympathomimetics", code)
    for code in ("997406", "997512", "1117562", "1242399", "2109083", "2109088")
]


@pytest.mark.parametrize(("concept", "code"), NEW_CODES)
def test_a_clinical_drug_code_decides_as_the_ingredient_code(
    folder: TrialFolder, concept: str, code: str
) -> None:
    ingredient = {"xanthines": "10438", "sympathomimetics": "3992"}[concept]
    expected = coded(folder, concept, ingredient)
    assert expected[0] == "met"
    assert coded(folder, concept, code) == expected


# Brand-level and clinical-drug codes of the US Core 3.1.1 medication value set (cited in the
# set's source): dyphylline (Lufyllin injection), theophylline brands, aminophylline
# suppositories, oxtriphylline.
US_CORE_XANTHINES = (
    "92580", "93183", "94292", "94293", "94294",
    "102402", "102403", "102404", "102405", "102406", "102409",
)  # fmt: skip


@pytest.mark.parametrize("code", US_CORE_XANTHINES)
def test_a_us_core_xanthine_code_decides_as_the_ingredient_code(
    folder: TrialFolder, code: str
) -> None:
    expected = coded(folder, "xanthines", "10438")
    assert expected[0] == "met"
    assert coded(folder, "xanthines", code) == expected


def test_a_fhir_medication_statement_with_a_new_code_is_use(folder: TrialFolder) -> None:
    from matcher.patient.fhir import patient_from_fhir

    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"

    def statement(code: str) -> dict[str, Any]:
        return {
            "resourceType": "MedicationStatement",
            "status": "active",
            "subject": {"reference": "Patient/p"},
            "medicationCodeableConcept": {"coding": [{"system": rxnorm, "code": code}]},
            "effectivePeriod": {"start": "2026-10-01"},
        }

    def decided(concept: str, code: str) -> tuple[str, str, tuple[str, ...]]:
        trial = one_criterion_trial(
            folder, f"medication: {{concept: {concept}, current: true}}", kind="exclusion"
        )
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"resource": {"resourceType": "Patient", "id": "p"}},
                {"resource": statement(code)},
            ],
        }
        patient = patient_from_fhir(bundle)
        python = matcher.check(patient, [trial], as_of=AS_OF)
        durable = matcher.check(patient, [trial], as_of=AS_OF, engine="durable")
        assert python.trials == durable.trials
        (criterion,) = python.trials[0].criteria
        return criterion.outcome.value, criterion.reason, criterion.missing

    # Primatene Mist (epinephrine inhalation) and a theophylline extended-release tablet.
    assert decided("sympathomimetics", "2109088") == decided("sympathomimetics", "3992")
    assert decided("xanthines", "313291") == decided("xanthines", "10438")
    assert decided("xanthines", "313291") == (
        "met",
        "theophylline or another xanthine in use on 2026-11-21",
        (),
    )
