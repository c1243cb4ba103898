"""The service keeps its OpenAPI contract, against a real server on loopback.

Two tests:

* Every documented example request (the ``example`` of each request body in ``/openapi.json``,
  in each media type the route reads) is sent as it stands and answered 200, with the whole body
  equal to a golden file in tests/data/service/ and, for ``/check``, to the library's answer.
  The examples carry their as-of date, so their answers do not change with the day.
* schemathesis generates requests for every operation from ``/openapi.json`` and checks each
  answer: no 5xx, no status, content type or body the description does not document. Bounded (a
  fixed number of examples per operation, drawn deterministically) so that it stays a few
  seconds in CI.

The working requests used to come only from schemathesis, which mixes the schema's examples into
its generated bodies now and then: whether an example was drawn for a route depended on
schemathesis' and Hypothesis' choices, not on the service. They are sent explicitly now, so a
route that stops answering its own example fails here whatever the generator draws.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.parameters import Parameters
from hypothesis import HealthCheck, given
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_helpers import Server, golden

import matcher
from matcher.service.openapi import EXAMPLE_AS_OF, EXAMPLES

EXAMPLES_PER_OPERATION = 30
# A generous request timeout: on a loaded machine a check must never be cut off into a 503 here
# (the examples are checked on the event loop, below the thread threshold, but a generated body
# need not be).
TIMEOUT_SECONDS = "300"

#: The routes that read a body, the example each documents, and the golden file of its answer.
POSTED = {
    "/getClinicalTrial": ("bundle", "contract_getClinicalTrial.json"),
    "/ResearchStudy/$match": ("match", "contract_match.json"),
    "/check": ("check", "contract_check.json"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("contract") / "server.log"
    with Server(log, ["--timeout", TIMEOUT_SECONDS]) as running:
        yield running


@pytest.fixture(scope="module")
def description(server: Server) -> dict[str, Any]:
    response = httpx.get(f"{server.url}/openapi.json", timeout=30)
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def test_the_description_documents_an_example_for_every_body(
    description: dict[str, Any],
) -> None:
    with_body = {
        path
        for path, methods in description["paths"].items()
        for operation in methods.values()
        if "example" in json.dumps(operation.get("requestBody", {}))
    }
    assert with_body == set(POSTED)
    for path, (name, _) in POSTED.items():
        content = description["paths"][path]["post"]["requestBody"]["content"]
        assert sorted(content) == ["application/fhir+json", "application/json"]
        for media in content.values():
            assert media["example"] == EXAMPLES[name]


@pytest.mark.parametrize("media_type", ["application/json", "application/fhir+json"])
@pytest.mark.parametrize("path", sorted(POSTED))
def test_every_documented_example_is_answered_in_full(
    server: Server, description: dict[str, Any], path: str, media_type: str
) -> None:
    example = description["paths"][path]["post"]["requestBody"]["content"][media_type]["example"]
    response = httpx.post(
        f"{server.url}{path}",
        content=json.dumps(example).encode(),
        headers={"content-type": media_type},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    data = response.json()
    _, golden_name = POSTED[path]
    if path == "/check":
        assert response.headers["content-type"] == "application/json"
        patient = matcher.patient_from_data(example["patient"])
        expected = matcher.check(
            patient,
            matcher.load_trials(),
            as_of=date.fromisoformat(EXAMPLE_AS_OF),
            engine="python",
            explain=example["explain"],
        )
        assert data == expected.as_dict()
    else:
        assert response.headers["content-type"] == "application/fhir+json"
        if path == "/ResearchStudy/$match":
            Parameters.model_validate(data)
            [output] = data["parameter"]
            assert output["name"] == "trialMatchOutput"
            Bundle.model_validate(output["resource"])
        else:
            Bundle.model_validate(data)
    # Both media types get the same answer: one golden file per route.
    golden(golden_name, data, server.url)


def test_every_operation_keeps_to_the_openapi_description(server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    checks = [
        schemathesis.checks.not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 9
    statuses: Counter[tuple[str, int]] = Counter()
    for operation in operations:

        @given(operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            response = case.call_and_validate(checks=checks)
            statuses[(case.operation.label, response.status_code)] += 1

        call()
    # Every operation was called and answered (the checks above hold each answer to the
    # description); which statuses the generated bodies met is the generator's business.
    assert {label for label, _ in statuses} == {operation.label for operation in operations}
    assert all(code < 500 for _, code in statuses)
