"""The service keeps its OpenAPI contract: schemathesis generates requests for every operation from
``/openapi.json`` of a real server and checks each answer -- no 5xx, no status, content type or
body the description does not document. Bounded (a fixed number of examples per operation, drawn
deterministically) so that it stays a few seconds in CI."""

from __future__ import annotations

import time
from collections.abc import Iterator

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from service_helpers import Server

EXAMPLES_PER_OPERATION = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("contract") / "server.log") as running:
        yield running


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
            case.call_and_validate(checks=checks)

        call()
    # The examples in the description are sent too: every route answered a working request. The
    # access log is written by the server process; on a loaded machine its last lines may come a
    # little later, so wait for them (up to 15 s) rather than a fixed pause.
    wanted = {
        (route, "200")
        for route in ("/getClinicalTrial", "/ResearchStudy/$match", "/check", "/trials")
    }
    deadline = time.monotonic() + 15
    while True:
        answered = {
            tuple(line.split()[5:7])
            for line in server.logs().splitlines()
            if "matcher.service.access" in line and line.split()[6] == "200"
        }
        if wanted <= answered or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert sorted(wanted - answered) == []
