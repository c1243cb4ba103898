"""Patient data stays out of logs and error messages.

matcher logs to the ``matcher`` logger (INFO: a catalog was loaded; DEBUG: a check ran) and its
errors name fields and positions. Neither may carry a patient value: the id, a date, a code, a
name, a measurement. Each test gives patients distinctive values and looks for them everywhere.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

import matcher
from matcher.evaluation.engines import get_engine

AS_OF = date(2026, 11, 21)

#: Values no log line or message has any other reason to contain.
SECRETS = {
    "id": "zq-7731-Okonkwo",
    "birth_date": "1961-07-19",
    "code": "G90.512",
    "display": "Quillfeather syndrome",
    "drug": "Zorbazepam 7 MG Oral Tablet",
    "drug_code": "8675309",
    "value": "7.25",
    "unit": "zorkmid",
    "date": "2024-03-17",
}

PROFILE = {
    "id": SECRETS["id"],
    "birth_date": SECRETS["birth_date"],
    "sex": "female",
    "attributes": {"military_status": "veteran"},
    "conditions": [
        {
            "system": "icd10cm",
            "code": SECRETS["code"],
            "display": SECRETS["display"],
            "onset": SECRETS["date"],
        }
    ],
    "medications": [
        {
            "system": "rxnorm",
            "code": SECRETS["drug_code"],
            "display": SECRETS["drug"],
            "start": SECRETS["date"],
            "status": "active",
        }
    ],
    "observations": [
        {
            "system": "loinc",
            "code": "9999-9",
            "value": float(SECRETS["value"]),
            "unit": SECRETS["unit"],
            "date": SECRETS["date"],
        }
    ],
}

BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "Patient",
                "id": SECRETS["id"],
                "birthDate": SECRETS["birth_date"],
                "gender": "female",
            }
        },
        {
            "resource": {
                "resourceType": "Condition",
                "code": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/sid/icd-10-cm",
                            "code": SECRETS["code"],
                            "display": SECRETS["display"],
                        }
                    ]
                },
                "onsetDateTime": SECRETS["date"],
            }
        },
        {
            "resource": {
                "resourceType": "MedicationStatement",
                "status": "active",
                "medicationCodeableConcept": {"text": SECRETS["drug"]},
                "effectiveDateTime": SECRETS["date"],
            }
        },
    ],
}


def leaked(text: str) -> list[str]:
    """The secret values (or their parts, such as a date's year-month) found in ``text``."""
    found = [value for value in SECRETS.values() if value in text]
    found += [value[:7] for value in (SECRETS["birth_date"], SECRETS["date"]) if value[:7] in text]
    return found


def engines() -> list[str]:
    names = ["python"]
    try:
        get_engine("durable")
        names.append("durable")
    except matcher.EngineError:
        pass
    return names


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("profile.yaml", yaml.safe_dump(PROFILE)),
        ("profile.json", json.dumps(PROFILE)),
        ("bundle.json", json.dumps(BUNDLE)),
    ],
)
def test_logs_never_hold_patient_values(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, content: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    caplog.set_level(logging.DEBUG, logger="matcher")
    catalog = matcher.load_trials()
    patient = matcher.load_patient(path)
    for engine in engines():
        result = matcher.check(patient, catalog, as_of=AS_OF, engine=engine)
        assert result.patient == SECRETS["id"]  # the values are really there, in the result
    records = [r for r in caplog.records if r.name.startswith("matcher")]
    assert [(r.levelname, re.sub(r"[\d.]+ ms", "<t> ms", r.getMessage())) for r in records] == [
        (
            "INFO",
            f"loaded 5 trial(s) and 59 concept set(s) from {Path(catalog.trials[0].file).parent} "
            "with 0 problem(s) in <t> ms",
        ),
        *[
            ("DEBUG", f"checked 5 trial(s) with the {engine} engine as of 2026-11-21 in <t> ms")
            for engine in engines()
        ],
    ]
    for record in records:
        assert leaked(record.getMessage()) == []
        assert leaked(repr(record.args)) == []


def test_a_failed_check_logs_nothing_about_the_patient(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="matcher")
    patient = matcher.patient_from_data({**PROFILE, "birth_date": "1850-07-19"})
    with pytest.raises(matcher.PatientError) as caught:
        matcher.check(patient, matcher.load_trials(), as_of=AS_OF)
    assert leaked(str(caught.value)) == []
    assert "1850" not in str(caught.value)
    assert all(leaked(r.getMessage()) == [] for r in caplog.records)


def _with(path: tuple[Any, ...], value: Any, base: Any = PROFILE) -> Any:
    data = json.loads(json.dumps(base))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


#: Each patient is wrong in one place, and the wrong value is a secret.
BAD_PATIENTS = {
    "birth date not a date": _with(("birth_date",), f"{SECRETS['birth_date']}x"),
    "impossible birth date": _with(("birth_date",), "1961-02-30"),
    "birth date of the wrong type": _with(("birth_date",), [SECRETS["birth_date"]]),
    "sex": _with(("sex",), SECRETS["display"]),
    "display too long": _with(("conditions", 0, "display"), SECRETS["display"] * 100),
    "display not text": _with(("conditions", 0, "display"), {"text": SECRETS["display"]}),
    "onset": _with(("conditions", 0, "onset"), SECRETS["display"]),
    "clinical status": _with(("conditions", 0, "clinical_status"), SECRETS["display"]),
    "medication status": _with(("medications", 0, "status"), SECRETS["drug"]),
    "end before start": _with(("medications", 0, "end"), "2020-01-01"),
    "value as text": _with(("observations", 0, "value"), SECRETS["value"]),
    "pain score out of range": _with(
        ("observations", 0),
        {"system": "loinc", "code": "72514-3", "value": 77.25, "date": SECRETS["date"]},
    ),
    "unit too long": _with(("observations", 0, "unit"), SECRETS["unit"] * 10),
    "attribute value": _with(("attributes", "military_status"), SECRETS["display"]),
    "unreviewed": _with(("unreviewed",), [SECRETS["display"]]),
    "id too long": _with(("id",), SECRETS["id"] * 200),
    "fhir birth date": _with(("entry", 0, "resource", "birthDate"), SECRETS["display"], BUNDLE),
    "fhir gender": _with(("entry", 0, "resource", "gender"), SECRETS["display"], BUNDLE),
    "fhir onset": _with(("entry", 1, "resource", "onsetDateTime"), "1961-02-30", BUNDLE),
    "fhir effective date": _with(
        ("entry", 2, "resource", "effectiveDateTime"), SECRETS["drug"], BUNDLE
    ),
}


@pytest.mark.parametrize("data", BAD_PATIENTS.values(), ids=BAD_PATIENTS.keys())
@pytest.mark.parametrize("form", ["data", "yaml", "json"])
def test_patient_errors_name_the_field_not_the_value(tmp_path: Path, data: Any, form: str) -> None:
    with pytest.raises(matcher.PatientError) as caught:
        if form == "data":
            matcher.patient_from_data(data)
        else:
            path = tmp_path / f"patient.{form}"
            text = yaml.safe_dump(data) if form == "yaml" else json.dumps(data)
            path.write_text(text, encoding="utf-8")
            matcher.load_patient(path)
    assert caught.value.diagnostics
    assert leaked(str(caught.value)) == []
    assert "77.25" not in str(caught.value) and "1961-02" not in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        f'id: "{SECRETS["id"]}\nsex: female\n',  # unterminated string
        f"id: {SECRETS['id']}\n\tsex: female\n",  # a tab
        f'{{"id": "{SECRETS["id"]}", "sex": "female",}}',
        f'{{"id": "{SECRETS["id"]}", "id": "{SECRETS["id"]}"}}',
        f"id: {SECRETS['id']}\nid: {SECRETS['display']}\n",
    ],
)
def test_syntax_errors_name_the_place_not_the_text(tmp_path: Path, text: str) -> None:
    path = tmp_path / ("patient.json" if text.startswith("{") else "patient.yaml")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(matcher.PatientError) as caught:
        matcher.load_patient(path)
    assert leaked(str(caught.value)) == []


def test_a_skipped_record_is_reported_without_its_values() -> None:
    """A status matcher cannot read skips the record; the data-quality note names its path."""
    data = _with(("entry", 2, "resource", "status"), SECRETS["drug"], BUNDLE)
    patient = matcher.patient_from_data(data)
    result = matcher.check(patient, matcher.load_trials(), as_of=date(2026, 11, 21))
    notes = json.dumps([n.as_dict() for n in result.data_quality])
    assert [n.path for n in result.data_quality] == ["entry[2].resource"]
    assert not [value for value in SECRETS.values() if value in notes]
