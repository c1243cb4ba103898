"""The service's ``zipCode`` / ``travelRadius`` over real HTTP, with the code of ``matcher check
--near``: a ``matcher serve`` on loopback over trials imported from real registry records
(tests/data/ctgov/golden), the ZIP codes' centroids from the ``zipcodes`` package (the ``geo``
extra, part of ``test``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from helpers import DATA
from service_helpers import Server, mitre_sample, with_parameters

from matcher.criteria.sites import distance_km, zip_point
from matcher.service.search import read_parameters

DRAFTS = DATA / "ctgov" / "golden"
AS_OF = "2026-11-21"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    folder = tmp_path_factory.mktemp("drafts")
    for path in DRAFTS.glob("NCT*.yaml"):
        shutil.copy(path, folder / path.name)
    log = tmp_path_factory.mktemp("service") / "server.log"
    with (
        Server(log, ["--criteria", str(folder)]) as running,
        httpx.Client(base_url=running.url, timeout=60) as http,
    ):
        yield http


def _search(client: httpx.Client, **parameters: str) -> dict[str, Any]:
    body = with_parameters(mitre_sample(), asOf=AS_OF, **parameters)
    response = client.post("/getClinicalTrial", json=body)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    Bundle.model_validate(data)
    return data


def _matches(data: dict[str, Any]) -> list[str]:
    return sorted(e["resource"]["id"] for e in data["entry"] if e["search"]["mode"] == "match")


def _notes(data: dict[str, Any]) -> list[str]:
    return [
        issue["diagnostics"]
        for e in data["entry"]
        if e["search"]["mode"] == "outcome"
        for issue in e["resource"]["issue"]
    ]


def test_without_location_every_imported_trial_is_answered(client: httpx.Client) -> None:
    data = _search(client)
    assert len(_matches(data)) == 11 and _notes(data) == []


def test_a_zip_code_and_radius_keep_the_trials_recruiting_nearby(client: httpx.Client) -> None:
    # 46556 is Notre Dame, Indiana: NCT05602779 recruits at the university (about 4 km away).
    data = _search(client, zipCode="46556", travelRadius="10")
    assert _matches(data) == ["NCT05602779"]
    assert data["total"] == 1
    assert _notes(data) == [
        "kept the trials with a recruiting site within 10 miles of the zipCode's centre: "
        "10 of 11 left out"
    ]


def test_a_site_whose_trial_is_closed_does_not_count(client: httpx.Client) -> None:
    # 10605 is White Plains, NY: NCT05013879 had its one site there, and it has completed.
    point = zip_point("10605")
    assert point is not None and distance_km(point, (41.03399, -73.76291)) < 5
    data = _search(client, zipCode="10605", travelRadius="50")
    assert _matches(data) == []


def test_a_radius_without_a_zip_code_is_said_not_applied(client: httpx.Client) -> None:
    data = _search(client, travelRadius="10")
    assert len(_matches(data)) == 11
    assert _notes(data) == [
        "travelRadius was read but not applied without zipCode: the trials are not filtered by "
        "distance"
    ]


def test_an_unknown_zip_code_is_refused_without_echoing_it(client: httpx.Client) -> None:
    body = with_parameters(mitre_sample(), asOf=AS_OF, zipCode="00001", travelRadius="10")
    response = client.post("/getClinicalTrial", json=body)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert "zipCode: not a US ZIP code the postcode table knows" in issue["diagnostics"]
    assert "00001" not in response.text


def test_without_the_postcode_table_the_distance_is_said_not_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "zipcodes", None)  # as if the geo extra were not installed
    parameters = read_parameters(
        [{"name": "zipCode", "valueString": "46556"}, {"name": "travelRadius", "valueString": "5"}],
        "Parameters.parameter",
    )
    assert parameters.zip_point is None
    kept, notes = parameters.near([])
    assert kept == []
    assert notes == [
        "zipCode and travelRadius were read but not applied: the postcode table (the zipcodes "
        "package, matcher's 'geo' extra) is not installed, so the trials are not filtered by "
        "distance"
    ]
