"""``matcher import ctgov``: real ClinicalTrials.gov API v2 records (tests/data/ctgov/README.md)
imported, compared whole with golden drafts, linted, and screened against patients.

Regenerate the goldens with MATCHER_UPDATE_GOLDEN=1, then read the diff. No test touches the
network: ``--fetch`` is tested against a refused loopback port.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import yaml
from helpers import BASE_TRIAL, DATA, TrialFolder
from helpers import run_matcher as run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import matcher
from matcher.criteria.concepts import bundled_concepts_dir, load_concepts
from matcher.criteria.schema import TrialFile
from matcher.importers.ctgov import RecordError, draft_trial, drafts_from_text
from matcher.importers.text import split_criteria

CTGOV = DATA / "ctgov"
GOLDEN = CTGOV / "golden"
PALLAS = CTGOV / "NCT02513394.json"
SEARCH = CTGOV / "capybara_search.json"
UPDATE = os.environ.get("MATCHER_UPDATE_GOLDEN") == "1"
AS_OF = "2026-11-21"
CONCEPTS = list(load_concepts([bundled_concepts_dir()]).sets.values())


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def drafts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every record imported into one folder, through the command line."""
    folder = tmp_path_factory.mktemp("drafts")
    done = run("import", "ctgov", str(PALLAS), "-o", str(folder / "NCT02513394.yaml"))
    assert done.returncode == 0, done.stderr
    done = run("import", "ctgov", str(SEARCH), "-o", f"{folder}/")
    assert done.returncode == 0, done.stderr
    return folder


def test_the_shared_record_imports_to_the_golden_draft_on_stdout() -> None:
    done = run("import", "ctgov", str(PALLAS))
    assert done.returncode == 0
    assert done.stderr == "matcher: NCT02513394: 34 item(s) pending, 1 with a proposed rule\n"
    golden("NCT02513394.yaml", done.stdout)


def test_the_same_record_gives_the_same_bytes_from_a_file_and_from_stdin() -> None:
    text = PALLAS.read_text(encoding="utf-8")
    first = run("import", "ctgov", "-", stdin=text)
    second = run("import", "ctgov", str(PALLAS))
    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def test_a_search_answer_imports_one_draft_per_study(drafts: Path) -> None:
    names = sorted(p.name for p in drafts.glob("*.yaml"))
    studies = json.loads(SEARCH.read_text(encoding="utf-8"))["studies"]
    expected = {s["protocolSection"]["identificationModule"]["nctId"] + ".yaml" for s in studies}
    assert set(names) == expected | {"NCT02513394.yaml"}
    for name in sorted(expected):
        golden(name, (drafts / name).read_text(encoding="utf-8"))


def test_several_studies_need_an_output_folder() -> None:
    done = run("import", "ctgov", str(SEARCH))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.endswith(
        "matcher: error: 10 records: give -o FOLDER to write one file each\n"
    )


def test_the_drafts_lint_clean_and_lint_lists_the_proposals(drafts: Path) -> None:
    done = run("lint", str(drafts))
    assert (done.returncode, done.stderr) == (0, "")
    golden("lint.txt", done.stdout.replace(str(drafts), "drafts"))


def test_the_drafts_pass_lint_strict(drafts: Path) -> None:
    done = run("lint", "--strict", str(drafts))
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("patient", ["woman_50", "boy_15"])
def test_check_against_the_drafts_gives_the_golden_verdicts(drafts: Path, patient: str) -> None:
    done = run(
        "check",
        str(CTGOV / "patients" / f"{patient}.yaml"),
        "--criteria",
        str(drafts),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    assert (done.returncode, done.stderr) == (0, "")
    result = json.loads(done.stdout)
    golden(f"check_{patient}.json", json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    # No imported trial can be eligible on its structured parts alone: every one holds pending
    # text items.
    assert all(t["verdict"] != "eligible" for t in result["trials"])


def test_the_woman_of_50_is_not_eligible_for_the_breast_cancer_trial(drafts: Path) -> None:
    done = run(
        "check",
        str(CTGOV / "patients" / "woman_50.yaml"),
        "--criteria",
        str(drafts / "NCT02513394.yaml"),
        "--as-of",
        AS_OF,
        "--format",
        "json",
    )
    (trial,) = json.loads(done.stdout)["trials"]
    assert trial["verdict"] == "undetermined"
    pending = [r for r in trial["reviews"] if r["kind"] == "pending"]
    assert len(pending) == 34 and all(r["blocks"] for r in pending)


def test_check_near_keeps_trials_with_a_recruiting_site_in_range(drafts: Path) -> None:
    # Tianjin: NCT05531279 recruits at the Institute of Hematology there.
    done = run(
        "check",
        str(CTGOV / "patients" / "woman_50.yaml"),
        "--criteria",
        str(drafts),
        "--as-of",
        AS_OF,
        "--near",
        "39.1,117.2",
        "--radius",
        "50",
    )
    assert (done.returncode, done.stderr) == (0, "")
    golden("check_near_tianjin.txt", done.stdout)


def test_check_near_without_a_radius_shows_each_nearest_site(drafts: Path) -> None:
    done = run(
        "check",
        str(CTGOV / "patients" / "boy_15.yaml"),
        "--criteria",
        str(drafts),
        "--as-of",
        AS_OF,
        "--near",
        "41.7,-86.2",
        "--format",
        "json",
    )
    assert (done.returncode, done.stderr) == (0, "")
    nearest = {t["trial"]: t["nearest_site"] for t in json.loads(done.stdout)["trials"]}
    assert len(nearest) == 11
    assert nearest["NCT05602779"] == {
        "facility": "University of Notre Dame",
        "status": "recruiting",
        "city": "South Bend",
        "state": "Indiana",
        "zip": "46617",
        "country": "United States",
        "geo": {"lat": 41.68338, "lon": -86.25001},
        "distance_km": 4.5,
    }
    # Closed trials whose sites give no status of their own have no recruiting site.
    assert nearest["NCT02513394"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--near", "91,0"], "the latitude must lie between -90 and 90"),
        (["--near", "Boston"], "expected LAT,LON in decimal degrees"),
        (["--radius", "10"], "--radius needs --near LAT,LON"),
    ],
)
def test_check_near_refuses_bad_positions(args: list[str], message: str) -> None:
    done = run("check", str(CTGOV / "patients" / "boy_15.yaml"), *args)
    assert done.returncode == 2
    assert message in done.stderr


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_fetch_offline_is_a_clear_error_with_status_6() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/api/v2"
    done = run("import", "ctgov", "--fetch", "NCT02513394", "--base-url", url, "--timeout", "5")
    assert (done.returncode, done.stdout) == (6, "")
    assert done.stderr.startswith(f"matcher: error: cannot reach the registry at {url}: ")
    assert "Traceback" not in done.stderr


def test_fetch_refuses_a_malformed_id() -> None:
    done = run("import", "ctgov", "--fetch", "NCT123")
    assert done.returncode == 6
    assert done.stderr == "matcher: error: 'NCT123' is not a registry id (NCT and 8 digits)\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "expected a ClinicalTrials.gov API v2 study record"),
        ('{"protocolSection": {}}', "protocolSection.identificationModule.nctId"),
        ("{not json", "json-syntax"),
    ],
)
def test_a_record_that_is_not_a_study_exits_3(text: str, message: str) -> None:
    done = run("import", "ctgov", "-", stdin=text)
    assert (done.returncode, done.stdout) == (3, "")
    assert message in done.stderr


def test_import_needs_exactly_one_source() -> None:
    assert run("import", "ctgov").returncode == 2
    assert run("import", "ctgov", str(PALLAS), "--fetch", "NCT02513394").returncode == 2


# --- the pieces, on the real records --------------------------------------------------------------


def _study(nct: str) -> dict[str, object]:
    studies = json.loads(SEARCH.read_text(encoding="utf-8"))["studies"]
    return next(s for s in studies if s["protocolSection"]["identificationModule"]["nctId"] == nct)


def test_nesting_numbering_and_escapes_are_kept() -> None:
    study = _study("NCT00517179")
    text = study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]  # type: ignore[index]
    inclusion, exclusion = split_criteria(text)
    assert [(i.number, i.text) for i in inclusion.walk()][1:5] == [
        ("2", "Clinically diagnosed to have lower urinary tract symptoms secondary to BPH:"),
        (
            "2.1",
            "1. Suffered from lower urinary tract symptoms with International Prostate Symptom "
            "Score (IPSS) >=8",
        ),
        (
            "2.2",
            "2. Detectable prostatic enlargement determined by Digital Rectum Examination (DRE)",
        ),
        ("2.3", "3. Urinary flow between 5 to 15ml/second in a total void volume >=150mL"),
    ]
    assert exclusion.kind == "exclusion" and len(exclusion.items) == 6


def test_a_paragraph_ending_with_a_colon_heads_the_list_below_it() -> None:
    study = _study("NCT05602779")
    text = study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]  # type: ignore[index]
    inclusion = split_criteria(text)[0]
    head = inclusion.items[2]
    assert head.text == "Two of the following which will be scored during the phone screen:"
    assert [c.number for c in head.children] == ["3.1", "3.2", "3.3", "3.4", "3.5", "3.6"]


def test_nothing_of_the_text_is_dropped() -> None:
    for path in (PALLAS, SEARCH):
        data = json.loads(path.read_text(encoding="utf-8"))
        for study in data.get("studies", [data]):
            text = (
                study["protocolSection"].get("eligibilityModule", {}).get("eligibilityCriteria", "")
            )
            kept = " ".join(
                " ".join([s.heading or "", *s.preamble, *(i.text for i in s.walk())])
                for s in split_criteria(text)
            )
            words = [w for w in text.replace("\\", "").split() if w not in "*-+"]
            for word in words:
                assert word.lstrip("*-+") in kept


def test_ages_in_other_units_become_safe_whole_year_bounds_with_a_flag() -> None:
    study = json.loads(PALLAS.read_text(encoding="utf-8"))
    eligibility = study["protocolSection"]["eligibilityModule"]
    eligibility |= {"minimumAge": "6 Months", "maximumAge": "30 Months"}
    document = yaml.safe_load(draft_trial(study, CONCEPTS).text)
    age = document["inclusion"][0]
    assert age["rule"] == {"age": {"min": 0, "max": 2}}
    assert "confirm the exact age" in age["review"]
    eligibility |= {"minimumAge": "24 Months", "maximumAge": "N/A"}
    age = yaml.safe_load(draft_trial(study, CONCEPTS).text)["inclusion"][0]
    assert (age["rule"], "review" in age) == ({"age": {"min": 2}}, False)


def test_gender_based_eligibility_keeps_the_sex_rule_pending() -> None:
    study = json.loads(PALLAS.read_text(encoding="utf-8"))
    study["protocolSection"]["eligibilityModule"] |= {
        "sex": "FEMALE",
        "genderBased": True,
        "genderDescription": "Women, including transgender women",
    }
    sex = yaml.safe_load(draft_trial(study, CONCEPTS).text)["inclusion"][1]
    assert sex["rule"] == {"sex": ["female"]} and sex["pending"] is True
    assert sex["review"].endswith("(the registry says: Women, including transgender women)")


def test_a_record_without_criteria_text_gets_one_pending_item() -> None:
    study = json.loads(PALLAS.read_text(encoding="utf-8"))
    del study["protocolSection"]["eligibilityModule"]
    document = yaml.safe_load(draft_trial(study, CONCEPTS).text)
    assert [c["id"] for c in document["inclusion"]] == ["criteria_not_in_record"]
    assert "eligibilityModule.eligibilityCriteria: not in the record" in document["not_recovered"]
    TrialFile.model_validate(document)


def test_wrong_types_in_the_record_are_listed_not_fatal() -> None:
    study = json.loads(PALLAS.read_text(encoding="utf-8"))
    study["protocolSection"]["designModule"]["phases"] = ["PHASE3", "PHASE9"]
    study["protocolSection"]["conditionsModule"]["keywords"] = "not a list"
    study["protocolSection"]["contactsLocationsModule"]["locations"][0]["geoPoint"] = {"lat": 99}
    document = yaml.safe_load(draft_trial(study, CONCEPTS).text)
    assert document["phases"] == ["PHASE3"]
    assert document["not_recovered"][:3] == [
        "designModule.phases: unknown phase 'PHASE9'",
        "protocolSection.conditionsModule.keywords: not read (unexpected type str)",
        "locations[0].geoPoint: not a position",
    ]


def test_a_search_answer_with_a_bad_study_names_it() -> None:
    with pytest.raises(RecordError) as caught:
        drafts_from_text('{"studies": [{"protocolSection": {}}]}', "answer.json", CONCEPTS)
    (problem,) = caught.value.diagnostics
    assert (problem.file, problem.path, problem.code) == (
        "answer.json",
        "studies[0]",
        "not-a-study",
    )


def test_the_recogniser_proposes_windowed_concept_sets_from_the_catalog() -> None:
    from matcher.importers.recognise import Recogniser

    recogniser = Recogniser(CONCEPTS)
    heart = recogniser.propose(
        "History of myocardial infarction within the past 6 months", "exclusion"
    )
    assert heart is not None and heart.rule == {
        "condition": {
            "concept": "myocardial_infarction",
            "status": "ever",
            "onset_within": "6 months",
        }
    }
    drugs = recogniser.propose("Use of benzodiazepines in the last 30 days.", "exclusion")
    assert drugs is not None
    assert drugs.rule == {"medication": {"concept": "benzodiazepines", "within": "30 days"}}
    naive = recogniser.propose("No use of ketamine in the last 12 months", "inclusion")
    assert naive is not None
    assert naive.rule == {"not": {"medication": {"concept": "ketamine", "within": "12 months"}}}
    # Hedged, two sets at once, no window, or an inclusion that is not a "no ...": no proposal.
    for text, kind in [
        ("Benzodiazepines within 30 days, unless on a stable dose", "exclusion"),
        ("Epilepsy or heart failure within 12 months", "exclusion"),
        ("History of epilepsy", "exclusion"),
        ("Benzodiazepines within 30 days", "inclusion"),
        ("Women planning a pregnancy", "exclusion"),
        ("Age less than 50 years or over 85 years", "exclusion"),
    ]:
        assert recogniser.propose(text, kind) is None, text


def test_phases_read_as_one_phase_and_exclude_phase(tmp_path: Path) -> None:
    head = BASE_TRIAL.replace("status: recruiting", "phases: [PHASE1, PHASE2]\nstatus: recruiting")
    (trial,) = matcher.load_trials(TrialFolder(tmp_path).write("NCT00000001.yaml", head))
    assert trial.phase == "1/2"  # what the service's phase filter reads (phase-1-phase-2)
    both = head.replace("status: recruiting", 'phase: "2"\nstatus: recruiting')
    (tmp_path / "b").mkdir()
    with pytest.raises(matcher.CriteriaError) as caught:
        matcher.load_trials(TrialFolder(tmp_path / "b").write("NCT00000001.yaml", both))
    assert "give at most one of 'phase' or 'phases'" in caught.value.diagnostics[0].message


# --- damaged records: a draft or a RecordError, never anything else -------------------------------

_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    st.lists(st.text(max_size=10), max_size=3),
    st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=2),
)
_SMALL = json.loads(json.dumps(_study("NCT05602779")))


def _paths(node: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found: list[tuple[object, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_paths(value, (*prefix, index)))
    return found


_ALL_PATHS = _paths(_SMALL)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(_ALL_PATHS), _ODD_VALUES), min_size=1, max_size=4),
    st.text(max_size=300),
)
def test_a_damaged_record_gives_a_valid_draft_or_a_record_error(
    changes: list[tuple[tuple[object, ...], object]], criteria: str
) -> None:
    study = json.loads(json.dumps(_SMALL))
    study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = criteria
    for path, value in changes:
        node = study
        try:
            for part in path[:-1]:
                node = node[part]  # type: ignore[index]
            node[path[-1]] = value  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced a parent
    try:
        draft = draft_trial(study, CONCEPTS)
    except RecordError:
        return
    TrialFile.model_validate(yaml.safe_load(draft.text))
    assert draft_trial(study, CONCEPTS).text == draft.text


def test_a_binary_file_is_an_input_error_with_status_3(tmp_path: Path) -> None:
    path = tmp_path / "record.json"
    path.write_bytes(b"\xff\xfe\x00binary")
    done = run("import", "ctgov", str(path))
    assert (done.returncode, done.stdout) == (3, "")
    assert "not-utf8" in done.stderr
