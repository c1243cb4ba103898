"""``matcher serve`` over real HTTP: a uvicorn server on loopback, the MITRE sample request, the
FHIR answers validated as R4 resources, the JSON contract equal to the library's, and every kind
of error. Whole answers are compared with golden files in tests/data/service/ (regenerate with
MATCHER_UPDATE_GOLDEN=1, then read the diff).

FHIR validation uses fhir.resources' R4B models (the package's R4 models need pydantic 1): R4B
changed none of the resources the service writes (Bundle, ResearchStudy, Organization,
OperationOutcome, Parameters); the R4 value sets the models do not check (ResearchStudy.status,
research-study-phase, match-grade, issue-type) are checked here against their R4 code lists.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.parameters import Parameters
from fhir.resources.R4B.researchstudy import ResearchStudy
from helpers import BASE_TRIAL, DATA, REPO, TrialFolder
from service_helpers import (
    GOLDEN,  # golden answers, and the veteran as a FHIR Bundle
    MATCHER,
    Server,
    diagnostics,
    free_port,
    mitre_sample,
    with_parameters,
)
from service_helpers import golden as check_golden

import matcher
from matcher.render.text import render_trial
from matcher.service.app import _dump
from matcher.service.fhir import match_grade

AS_OF = "2026-11-21"
DAY = date(2026, 11, 21)
TRIALS = matcher.load_trials()

# R4 code lists (hl7.org/fhir/R4): research-study-status, research-study-phase, match-grade.
R4_STUDY_STATUS = {
    "active",
    "administratively-completed",
    "approved",
    "closed-to-accrual",
    "closed-to-accrual-and-intervention",
    "completed",
    "disapproved",
    "in-review",
    "temporarily-closed-to-accrual",
    "temporarily-closed-to-accrual-and-intervention",
    "withdrawn",
}
R4_PHASES = {
    "n-a",
    "early-phase-1",
    "phase-1",
    "phase-1-phase-2",
    "phase-2",
    "phase-2-phase-3",
    "phase-3",
    "phase-4",
}
MATCH_GRADES = {"certain", "probable", "possible", "certainly-not"}
RESULT_URL = "https://matcher.example/fhir/StructureDefinition/trial-match-result"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("service") / "server.log"
    with Server(log) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as http:
        yield http


def golden(name: str, data: Any, server: Server) -> None:
    check_golden(name, data, server.url)


def validate_searchset(data: dict[str, Any]) -> None:
    """The searchset is a valid R4(B) Bundle of ResearchStudy with R4 codes."""
    Bundle.model_validate(data)
    assert data["type"] == "searchset"
    for entry in data["entry"]:
        resource = entry["resource"]
        if entry["search"]["mode"] == "outcome":
            OperationOutcome.model_validate(resource)
            continue
        ResearchStudy.model_validate(resource)
        assert entry["search"]["mode"] == "match"
        assert 0 <= entry["search"]["score"] <= 1
        assert resource["status"] in R4_STUDY_STATUS
        for coding in resource.get("phase", {}).get("coding", []):
            assert coding["code"] in R4_PHASES
        grades = [e["valueCode"] for e in entry["search"]["extension"]]
        assert len(grades) == 1
        assert grades[0] in MATCH_GRADES


def verdicts(searchset: dict[str, Any]) -> list[tuple[str, str, float, str]]:
    """(trial, verdict, score, match grade) per match entry, in order."""
    out = []
    for entry in searchset["entry"]:
        if entry["search"]["mode"] != "match":
            continue
        study = entry["resource"]
        result = next(e for e in study["extension"] if e["url"] == RESULT_URL)
        verdict = next(p["valueCode"] for p in result["extension"] if p["url"] == "verdict")
        grade = entry["search"]["extension"][0]["valueCode"]
        out.append((study["id"], verdict, entry["search"]["score"], grade))
    return out


def library_verdicts(bundle: dict[str, Any]) -> list[tuple[str, str, float, str]]:
    result = matcher.check(matcher.patient_from_data(bundle), TRIALS, as_of=DAY)
    grades = {"ineligible": "certainly-not", "undetermined": "possible"}
    return [
        (
            t.trial,
            t.verdict.value,
            t.score,
            grades.get(t.verdict.value, "probable" if t.reviews else "certain"),
        )
        for t in result.trials
    ]


# --- the MITRE interface -----------------------------------------------------------------------


def test_mitre_sample_answers_a_valid_searchset_equal_to_the_library(
    client: httpx.Client, server: Server
) -> None:
    body = with_parameters(mitre_sample(), asOf=AS_OF)
    response = client.post("/getClinicalTrial", json=body)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    data = response.json()
    validate_searchset(data)
    assert verdicts(data) == library_verdicts(mitre_sample())
    assert data["total"] == len(TRIALS)
    # no record of this cancer patient decides a criterion of the pain trials: nothing cited
    assert cited_records(data) == set()
    golden("mitre_searchset.json", data, server)
    assert_standard_bytes(response)


def assert_standard_bytes(response: httpx.Response) -> None:
    """The service writes JSON with orjson: the bytes are the standard library's compact form."""
    standard = json.dumps(response.json(), ensure_ascii=False, separators=(",", ":")).encode()
    assert response.content == standard


def cited_records(searchset: dict[str, Any]) -> set[str]:
    """The resources the criteria and review items of a searchset cite as deciding."""
    return {
        part["valueReference"]["reference"]
        for entry in searchset["entry"]
        for extension in entry["resource"].get("extension", ())
        for item in extension.get("extension", ())
        for part in item.get("extension", ())
        if part["url"] == "record"
    }


def test_every_grade_but_certain_for_the_veteran(client: httpx.Client, server: Server) -> None:
    # The quickstart veteran as a FHIR Bundle: eligible for NCT06414356 with screening questions
    # (probable), undetermined for NCT05639322 (possible), ineligible for the rest.
    bundle = json.loads((GOLDEN / "veteran_bundle.json").read_text(encoding="utf-8"))
    response = client.post("/getClinicalTrial", json=with_parameters(bundle, asOf=AS_OF))
    assert response.status_code == 200
    validate_searchset(response.json())
    found = verdicts(response.json())
    assert found == library_verdicts(bundle)
    # the deciding records are cited as references to the resources of the request
    sent = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle["entry"]
        if "id" in e["resource"]
    }
    assert cited_records(response.json()) <= sent
    assert len(cited_records(response.json())) >= 2
    assert [grade for *_, grade in found] == [
        "probable",
        "possible",
        "certainly-not",
        "certainly-not",
        "certainly-not",
    ]
    golden("veteran_searchset.json", response.json(), server)
    assert_standard_bytes(response)


def test_eligible_with_nothing_to_confirm_is_certain(folder: TrialFolder) -> None:
    folder.write("NCT00000001.yaml", BASE_TRIAL)
    trials = matcher.load_trials(folder.root)
    patient = matcher.Patient(id="p", birth_date="1979-04-12")
    [result] = matcher.check(patient, trials, as_of=DAY).trials
    assert (result.verdict, result.reviews, match_grade(result)) == (
        matcher.Verdict.ELIGIBLE,
        (),
        "certain",
    )


def test_without_as_of_the_service_checks_as_of_today(client: httpx.Client) -> None:
    response = client.post("/getClinicalTrial", json=mitre_sample())
    result = next(
        e
        for e in response.json()["entry"][0]["resource"]["extension"]
        if "match-result" in e["url"]
    )
    as_of = next(p["valueDate"] for p in result["extension"] if p["url"] == "asOf")
    assert as_of == date.today().isoformat()


def test_match_operation_answers_the_same_searchset_in_parameters(
    client: httpx.Client, server: Server
) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "trialMatchClinicalData", "resource": mitre_sample()},
            {"name": "asOf", "valueDate": AS_OF},
        ],
    }
    response = client.post("/ResearchStudy/$match", json=body)
    assert response.status_code == 200
    Parameters.model_validate(response.json())
    [output] = response.json()["parameter"]
    assert output["name"] == "trialMatchOutput"
    direct = client.post("/getClinicalTrial", json=with_parameters(mitre_sample(), asOf=AS_OF))
    assert output["resource"] == direct.json()


def test_phase_and_status_parameters_filter_the_trials(client: httpx.Client) -> None:
    def ids(**values: str) -> list[str]:
        body = with_parameters(mitre_sample(), asOf=AS_OF, **values)
        response = client.post("/getClinicalTrial", json=body)
        assert response.status_code == 200, response.text
        return sorted(e["resource"]["id"] for e in response.json()["entry"])

    phase_4 = sorted(t.id for t in TRIALS if t.phase == "4")
    recruiting = sorted(t.id for t in TRIALS if t.status == "recruiting")
    assert ids(phase="4") == ids(phase="PHASE4") == ids(phase="phase-4") == phase_4
    assert ids(phase="2, 4") == sorted(t.id for t in TRIALS if t.phase in {"2", "4"})
    assert ids(recruitmentStatus="RECRUITING") == recruiting
    active = sorted(t.id for t in TRIALS if t.status in {"recruiting", "enrolling_by_invitation"})
    assert ids(recruitmentStatus="active") == active
    assert ids(recruitmentStatus="recruiting", phase="2") == sorted(
        t.id for t in TRIALS if t.status == "recruiting" and t.phase == "2"
    )
    assert ids(phase="1") == []


def test_location_parameters_leave_out_the_trials_without_sites(client: httpx.Client) -> None:
    # The bundled trials carry no sites, so none can be shown to be within 25 miles: the
    # searchset is empty and says why (tests/test_service_sites.py has trials with sites).
    body = with_parameters(mitre_sample(), asOf=AS_OF, zipCode="01730", travelRadius="25")
    data = client.post("/getClinicalTrial", json=body).json()
    validate_searchset(data)
    assert data["total"] == 0
    assert data["entry"] == [
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [
                    {
                        "severity": "information",
                        "code": "informational",
                        "diagnostics": "kept the trials with a recruiting site within 25 miles "
                        f"of the zipCode's centre: {len(TRIALS)} of {len(TRIALS)} left out",
                    }
                ],
            },
            "search": {"mode": "outcome"},
        }
    ]


def test_fhir_research_study_by_id(client: httpx.Client) -> None:
    response = client.get("/ResearchStudy/NCT06414356")
    assert response.status_code == 200
    ResearchStudy.model_validate(response.json())
    assert response.json() == {
        "resourceType": "ResearchStudy",
        "id": "NCT06414356",
        "contained": [
            {"resourceType": "Organization", "id": "sponsor", "name": "Margaux M. Salas, PhD"}
        ],
        "extension": [
            {
                "url": "https://matcher.example/fhir/StructureDefinition/recruitment-status",
                "valueCode": "recruiting",
            }
        ],
        "identifier": [{"system": "https://clinicaltrials.gov", "value": "NCT06414356"}],
        "title": "Outpatient ketamine infusion for chronic neuropathic pain and PTSD in a "
        "military population",
        "status": "active",
        "phase": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/research-study-phase",
                    "code": "phase-4",
                    "display": "phase 4",
                }
            ],
            "text": "phase 4",
        },
        "condition": [{"text": "Neuropathic Pain"}, {"text": "PTSD"}],
        "relatedArtifact": [
            {
                "type": "documentation",
                "label": "registry record",
                "url": "https://clinicaltrials.gov/study/NCT06414356",
            }
        ],
        "sponsor": {"reference": "#sponsor", "display": "Margaux M. Salas, PhD"},
    }


# --- FHIR errors -------------------------------------------------------------------------------


def outcome(code: str, issue_type: str, message: str, path: str | None = None) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "severity": "error",
        "code": issue_type,
        "details": {
            "coding": [
                {"system": "https://matcher.example/fhir/CodeSystem/diagnostic", "code": code}
            ]
        },
        "diagnostics": message,
    }
    if path is not None:
        issue["expression"] = [path]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b"[1, 2]",
            outcome(
                "not-fhir",
                "structure",
                "the body is not a FHIR Bundle (resourceType Bundle, a Bundle type, entry)",
            ),
        ),
        (
            b'{"resourceType": "Patient", "id": "x"}',
            outcome(
                "not-fhir",
                "structure",
                "the body is not a FHIR Bundle (resourceType Bundle, a Bundle type, entry)",
            ),
        ),
        (
            b'{"resourceType": "Bundle",\n "type": }',
            outcome("json-syntax", "structure", "Expecting value (line 2, column 10)"),
        ),
        (b'{"a": NaN}', outcome("json-syntax", "structure", "NaN and Infinity are not JSON")),
        (
            b'{"a": 1, "a": 2}',
            outcome("duplicate-key", "structure", "the key 'a' appears twice"),
        ),
        (b"\xff\xfe{}", outcome("not-utf8", "structure", "the body is not UTF-8 text (byte 1)")),
        (
            b"[" * 100_000 + b"]" * 100_000,
            outcome("yaml-too-complex", "too-costly", "the JSON nests too deeply"),
        ),
    ],
    ids=["a-list", "a-patient", "json-syntax", "nan", "duplicate-key", "not-utf8", "too-deep"],
)
def test_a_body_that_is_not_a_bundle_is_400_with_an_operation_outcome(
    client: httpx.Client, body: bytes, expected: dict[str, Any]
) -> None:
    response = client.post(
        "/getClinicalTrial", content=body, headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()) == (400, expected)
    OperationOutcome.model_validate(response.json())


def test_an_unreadable_patient_value_is_named_not_quoted(client: httpx.Client) -> None:
    bundle = mitre_sample()
    patient = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    patient["resource"]["birthDate"] = "spring of 1961"
    response = client.post("/getClinicalTrial", json=bundle)
    assert response.status_code == 400
    assert "spring" not in response.text
    OperationOutcome.model_validate(response.json())
    issue = response.json()["issue"][0]
    assert issue["details"]["coding"][0]["code"] == "invalid-patient"
    expected = matcher.patient_from_data
    with pytest.raises(matcher.PatientError) as raised:
        expected(bundle, source="request body")
    assert [i["diagnostics"] for i in response.json()["issue"]] == [
        d.message for d in raised.value.diagnostics
    ]


@pytest.mark.parametrize(
    ("values", "path", "message"),
    [
        (
            {"zipCode": "Boston"},
            "Bundle.entry[25].resource.parameter[0]",
            "zipCode: expected a US ZIP code (5 digits, or ZIP+4)",
        ),
        (
            {"travelRadius": "-3"},
            "Bundle.entry[25].resource.parameter[0]",
            "travelRadius: expected a positive distance in miles",
        ),
        (
            {"phase": "7"},
            "Bundle.entry[25].resource.parameter[0]",
            "phase: expected phases among n-a, early-phase-1, phase-1, phase-1-phase-2, "
            "phase-2, phase-2-phase-3, phase-3, phase-4",
        ),
        (
            {"asOf": "yesterday"},
            "Bundle.entry[25].resource.parameter[0]",
            "asOf: expected a valueDate as YYYY-MM-DD",
        ),
    ],
    ids=["zip", "radius", "phase", "as-of"],
)
def test_a_bad_parameter_is_400_naming_it_without_its_value(
    client: httpx.Client, values: dict[str, str], path: str, message: str
) -> None:
    response = client.post("/getClinicalTrial", json=with_parameters(mitre_sample(), **values))
    assert (response.status_code, response.json()) == (
        400,
        outcome("invalid-value", "invalid", message, path),
    )


def test_match_without_clinical_data_is_400(client: httpx.Client) -> None:
    body = {"resourceType": "Parameters", "parameter": [{"name": "phase", "valueString": "4"}]}
    response = client.post("/ResearchStudy/$match", json=body)
    assert (response.status_code, response.json()) == (
        400,
        outcome(
            "missing-key",
            "required",
            "trialMatchClinicalData (the patient's Bundle) is required",
            "Parameters",
        ),
    )


def test_unknown_research_study_is_404(client: httpx.Client) -> None:
    response = client.get("/ResearchStudy/NCT0641435")
    assert (response.status_code, response.json()) == (
        404,
        outcome(
            "unknown-trial",
            "not-found",
            "no trial with this id in the catalog; did you mean 'NCT06414356'?",
        ),
    )


# --- matcher's JSON contract -------------------------------------------------------------------


def test_check_answers_the_library_json_contract(client: httpx.Client) -> None:
    profile = matcher.load_patient(DATA / "patients" / "crps_clonazepam.yaml")
    body = {"patient": profile.model_dump(mode="json", exclude_none=True), "as_of": AS_OF}
    response = client.post("/check", json=body)
    assert response.status_code == 200
    assert response.json() == matcher.check(profile, TRIALS, as_of=DAY).as_dict()
    assert_standard_bytes(response)


def test_json_that_orjson_cannot_write_is_written_by_the_standard_library() -> None:
    # orjson refuses integers wider than 64 bits; a patient's value may be one.
    data = {"value": 2**70, "text": "é"}
    assert _dump(data) == b'{"value":1180591620717411303424,"text":"\xc3\xa9"}'


def test_check_takes_a_bundle_some_trials_and_an_explanation_count(client: httpx.Client) -> None:
    body = {
        "patient": mitre_sample(),
        "as_of": AS_OF,
        "trials": ["NCT06414356", "NCT00579085"],
        "explain": 1,
    }
    response = client.post("/check", json=body)
    assert response.status_code == 200
    wanted = [t for t in TRIALS if t.id in {"NCT06414356", "NCT00579085"}]
    patient = matcher.patient_from_data(mitre_sample())
    expected = matcher.check(patient, wanted, as_of=DAY, explain=1)
    assert response.json() == expected.as_dict()
    # the first trial is explained as in a whole check, the second only ranked and scored
    whole = matcher.check(patient, wanted, as_of=DAY).as_dict()
    assert response.json()["trials"][0] == whole["trials"][0]
    second = response.json()["trials"][1]
    assert (second["explained"], second["criteria"], second["missing"]) == (False, [], [])
    assert second["score"] == whole["trials"][1]["score"]


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        ({}, 400, diagnostics("missing-key", "'patient' is required", "patient")),
        (
            {"patient": {"id": "p"}, "as_off": AS_OF},
            400,
            diagnostics("unknown-key", "unknown key; did you mean 'as_of'?", "as_off"),
        ),
        (
            {"patient": {"id": "p"}, "as_of": "21/11/2026"},
            400,
            diagnostics("invalid-value", "expected a date as YYYY-MM-DD", "as_of"),
        ),
        (
            {"patient": {"id": "p"}, "trials": ["NCT0641435"]},
            400,
            diagnostics(
                "unknown-trial",
                "no trial with this id in the catalog; did you mean 'NCT06414356'?",
                "trials[0]",
            ),
        ),
        (
            {"patient": {"id": "p"}, "explain": -1},
            400,
            diagnostics("invalid-value", "expected a whole number of trials, 0 or more", "explain"),
        ),
        (
            {"patient": {"id": "p", "birth_date": "1961-02-30"}},
            400,
            diagnostics(
                "invalid-value",
                "not a real date: day is out of range for month",
                "patient.birth_date",
            ),
        ),
        (
            {"patient": {"id": "p", "birth_date": "2030-01-01"}, "as_of": AS_OF},
            400,
            None,
        ),
    ],
    ids=[
        "no-patient",
        "unknown-key",
        "bad-date",
        "unknown-trial",
        "explain",
        "patient",
        "born-later",
    ],
)
def test_check_errors_are_diagnostics(
    client: httpx.Client, body: dict[str, Any], status: int, expected: dict[str, Any] | None
) -> None:
    response = client.post("/check", json=body)
    assert response.status_code == status
    if expected is None:  # the library's own message, whole
        with pytest.raises(matcher.PatientError) as raised:
            matcher.check(
                matcher.patient_from_data(body["patient"], source="request body"),
                TRIALS,
                as_of=DAY,
            )
        [d] = raised.value.diagnostics
        expected = {
            "diagnostics": [
                {
                    "code": d.code,
                    "message": d.message,
                    "file": d.file,
                    "line": d.line,
                    "column": d.column,
                    "path": d.path,
                }
            ]
        }
        assert "2030" not in response.text
    assert response.json() == expected


# --- the catalog and operations ----------------------------------------------------------------


def test_trials_lists_the_catalog(client: httpx.Client, server: Server) -> None:
    response = client.get("/trials")
    assert response.status_code == 200
    golden("trials.json", response.json(), server)


def test_a_trial_in_words_is_the_explain_text(client: httpx.Client) -> None:
    response = client.get("/trials/NCT06414356")
    assert response.status_code == 200
    data = response.json()
    trial = TRIALS.get("NCT06414356")
    assert trial is not None
    assert data["text"] == render_trial(trial)
    assert data["text"] == (DATA / "cli" / "explain_NCT06414356.txt").read_text(encoding="utf-8")
    assert [c["id"] for c in data["criteria"]] == [c.id for c in trial.criteria]


def test_health_readiness_and_openapi(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert (ready["status"], ready["generation"], ready["trials"]) == ("ready", 1, len(TRIALS))
    spec = client.get("/openapi.json").json()
    assert sorted(spec["paths"]) == [
        "/ResearchStudy/$match",
        "/ResearchStudy/{trial_id}",
        "/admin/reload",
        "/check",
        "/getClinicalTrial",
        "/healthz",
        "/readyz",
        "/trials",
        "/trials/{trial_id}",
    ]
    assert client.get("/docs").status_code == 200


def test_an_unknown_route_is_404_with_diagnostics(client: httpx.Client) -> None:
    response = client.get("/nowhere?patient=secret")
    assert (response.status_code, response.json()) == (
        404,
        diagnostics("not-found", "no such route"),
    )


def test_every_answer_carries_a_request_id(client: httpx.Client) -> None:
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    given = client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    odd = client.get("/healthz", headers={"x-request-id": "has spaces"})
    assert odd.headers["x-request-id"] != "has spaces"


def test_cors_is_off_by_default(client: httpx.Client) -> None:
    response = client.get("/trials", headers={"origin": "https://app.example"})
    assert "access-control-allow-origin" not in response.headers


def test_serve_refuses_a_broken_catalog_and_a_busy_port(tmp_path: Path) -> None:
    (tmp_path / "NCT00000001.yaml").write_text("id: [\n", encoding="utf-8")
    done = subprocess.run(
        [MATCHER, "serve", "--criteria", str(tmp_path), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 4
    assert done.stderr.startswith(f"{tmp_path / 'NCT00000001.yaml'}:")
    with Server(tmp_path / "log") as running:
        busy = subprocess.run(
            [MATCHER, "serve", "--port", str(running.port)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert busy.returncode == 2
    assert busy.stderr == (
        f"matcher: error: cannot listen on 127.0.0.1:{running.port}: Address already in use\n"
    )


def test_matcher_check_does_not_import_the_service() -> None:
    code = (
        "import sys, matcher.cli; "
        "print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette', 'matcher.service') "
        "if m in sys.modules))"
    )
    done = subprocess.run(
        [str(Path(MATCHER).parent / "python"), "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout == "[]\n"
