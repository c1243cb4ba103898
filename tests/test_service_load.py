"""A bounded load test on loopback: 20 concurrent clients for 5 seconds against a real server, half
of them on the MITRE interface and half on ``/check``. Every request must be answered with 200,
and every answer must equal the library's. (Speed is measured by the benchmark,
tests/benchmarks/service_bench.py, not here.)"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
from service_helpers import Server, mitre_sample, with_parameters

import matcher

CLIENTS = 20
SECONDS = 5.0
DAY = date(2026, 11, 21)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("load") / "server.log") as running:
        yield running


def test_every_request_under_load_gets_the_library_answer(server: Server) -> None:
    trials = matcher.load_trials()
    patient = matcher.patient_from_data(mitre_sample())
    expected = matcher.check(patient, trials, as_of=DAY)
    expected_check = expected.as_dict()
    expected_ranking = [(t.trial, t.verdict.value, t.score) for t in expected.trials]
    fhir_body = json.dumps(with_parameters(mitre_sample(), asOf=DAY.isoformat())).encode()
    check_body = json.dumps({"patient": mitre_sample(), "as_of": DAY.isoformat()}).encode()
    headers = {"content-type": "application/json"}

    def ranking(searchset: dict[str, Any]) -> list[tuple[str, str, float]]:
        out = []
        for entry in searchset["entry"]:
            study = entry["resource"]
            [result] = [e for e in study["extension"] if e["url"].endswith("trial-match-result")]
            verdict = next(p["valueCode"] for p in result["extension"] if p["url"] == "verdict")
            out.append((study["id"], verdict, entry["search"]["score"]))
        return out

    async def client(index: int, http: httpx.AsyncClient, stop: float) -> tuple[int, list[str]]:
        done = 0
        wrong: list[str] = []
        fhir = index % 2 == 0
        while time.monotonic() < stop:
            path, body = ("/getClinicalTrial", fhir_body) if fhir else ("/check", check_body)
            response = await http.post(path, content=body, headers=headers)
            done += 1
            if response.status_code != 200:
                wrong.append(f"{path}: {response.status_code}")
            elif fhir and ranking(response.json()) != expected_ranking:
                wrong.append(f"{path}: another answer")
            elif not fhir and response.json() != expected_check:
                wrong.append(f"{path}: another answer")
        return done, wrong

    async def run() -> list[tuple[int, list[str]]]:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as http:
            stop = time.monotonic() + SECONDS
            return await asyncio.gather(*(client(i, http, stop) for i in range(CLIENTS)))

    results = asyncio.run(run())
    answered = sum(done for done, _ in results)
    wrong = [w for _, problems in results for w in problems]
    assert wrong == []
    assert all(done > 0 for done, _ in results)  # no client starved
    assert answered >= CLIENTS
