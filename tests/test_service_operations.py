"""The service's security and operations, over real HTTP where they live in the server: API keys
and bearer tokens, the body cap, CORS, the access log, catalog reload (admin call and SIGHUP,
atomic, a broken catalog keeps the old one); the timeout and last-resort errors in-process."""

from __future__ import annotations

import re
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from service_helpers import Server, diagnostics, mitre_sample

import matcher
from matcher.criteria.bundled import bundled_catalog_dir
from matcher.service import Settings, create_app

KEYS = ("first-key-0123456789", "second-key-9876543210")


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("plain") / "server.log") as running:
        yield running


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("guarded")
    key_file = folder / "keys.txt"
    key_file.write_text(f"# service keys\n{KEYS[1]}\n\n", encoding="utf-8")
    args = [
        "--api-keys-file",
        str(key_file),
        "--cors-origin",
        "https://app.example",
        "--max-body",
        "20000",
    ]
    with Server(folder / "server.log", args, env={"MATCHER_API_KEYS": KEYS[0]}) as running:
        yield running


# --- API keys ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"x-api-key": "wrong"}, {"authorization": "Bearer wrong"}, {"authorization": KEYS[0]}],
    ids=["none", "wrong-key", "wrong-token", "not-bearer"],
)
def test_without_a_known_key_the_answer_is_401(guarded: Server, headers: dict[str, str]) -> None:
    response = httpx.get(f"{guarded.url}/trials", headers=headers)
    assert (response.status_code, response.json()) == (
        401,
        diagnostics("unauthorized", "an API key or bearer token is required"),
    )
    assert response.headers["www-authenticate"] == 'Bearer realm="matcher"'


def test_a_fhir_route_answers_401_with_an_operation_outcome(guarded: Server) -> None:
    response = httpx.post(f"{guarded.url}/getClinicalTrial", json={})
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "security"


@pytest.mark.parametrize(
    "headers",
    [
        {"x-api-key": KEYS[0]},
        {"x-api-key": KEYS[1]},
        {"authorization": f"Bearer {KEYS[0]}"},
        {"authorization": f"bearer {KEYS[1]}"},
    ],
    ids=["env-key", "file-key", "env-token", "file-token"],
)
def test_a_key_from_the_environment_or_the_file_is_accepted(
    guarded: Server, headers: dict[str, str]
) -> None:
    assert httpx.get(f"{guarded.url}/trials", headers=headers).status_code == 200


def test_health_and_the_api_description_need_no_key(guarded: Server) -> None:
    for path in ("/healthz", "/readyz", "/openapi.json"):
        assert httpx.get(f"{guarded.url}{path}").status_code == 200


def test_without_keys_configured_no_key_is_needed(plain: Server) -> None:
    assert httpx.get(f"{plain.url}/trials").status_code == 200


# --- body cap, CORS ----------------------------------------------------------------------------


def test_a_body_over_10_mb_is_refused_before_it_is_read(plain: Server) -> None:
    body = b" " * (10 * 1024 * 1024 + 1)
    response = httpx.post(f"{plain.url}/check", content=body, timeout=30)
    assert (response.status_code, response.json()) == (
        413,
        diagnostics("body-too-large", "the request body is larger than 10,485,760 bytes"),
    )


def test_a_chunked_body_over_the_cap_is_refused_while_read(guarded: Server) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(30):
            yield b" " * 1000

    response = httpx.post(
        f"{guarded.url}/getClinicalTrial", content=chunks(), headers={"x-api-key": KEYS[0]}
    )
    assert response.status_code == 413
    assert response.json()["issue"][0]["details"]["coding"][0]["code"] == "body-too-large"


def test_cors_answers_the_configured_origin_only(guarded: Server) -> None:
    headers = {"x-api-key": KEYS[0]}
    allowed = httpx.get(
        f"{guarded.url}/trials", headers={**headers, "origin": "https://app.example"}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    other = httpx.get(
        f"{guarded.url}/trials", headers={**headers, "origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(
        f"{guarded.url}/check",
        headers={
            "origin": "https://app.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "x-api-key, content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"


# --- the access log ----------------------------------------------------------------------------

ACCESS = re.compile(
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO matcher\.service\.access: "
    r"(GET|POST|OPTIONS) (\S+) (\d{3}) \d+\.\dms id=([0-9a-f]{32}|[\w.\-]+)"
)


def test_the_access_log_has_route_status_time_and_id_and_no_patient_value(plain: Server) -> None:
    bundle = mitre_sample()
    patient = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    httpx.post(
        f"{plain.url}/getClinicalTrial?zip=02139", json=bundle, headers={"x-request-id": "req-1"}
    )
    httpx.get(f"{plain.url}/trials/NCT06414356?q=secret-query")
    httpx.post(
        f"{plain.url}/check", json={"patient": {"id": "patient-77", "birth_date": "1900-02-30"}}
    )
    wanted = {
        ("POST", "/getClinicalTrial", "200"),
        ("GET", "/trials/{trial_id}", "200"),
        ("POST", "/check", "400"),
    }

    def written(lines: list[str]) -> bool:
        seen = {m.groups()[:3] for m in map(ACCESS.fullmatch, lines) if m}
        return wanted <= seen

    lines = plain.access_lines(written)
    found = [ACCESS.fullmatch(line) for line in lines]
    assert all(found), lines
    records = [m.groups() for m in found if m]
    assert ("POST", "/getClinicalTrial", "200", "req-1") in records
    assert any(r[:3] == ("GET", "/trials/{trial_id}", "200") for r in records)
    assert any(r[:3] == ("POST", "/check", "400") for r in records)
    text = plain.logs()
    for secret in (
        patient["id"],
        patient["birthDate"],
        "02139",
        "secret-query",
        "patient-77",
        "1900",
    ):
        assert secret not in text


# --- catalog reload ----------------------------------------------------------------------------


@pytest.fixture
def catalog_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "criteria"
    shutil.copytree(bundled_catalog_dir(), folder)
    return folder


def test_reload_swaps_the_catalog_and_a_broken_one_keeps_the_old(
    catalog_copy: Path, tmp_path: Path
) -> None:
    log = tmp_path / "server.log"
    with (
        Server(log, ["--criteria", str(catalog_copy)]) as server,
        httpx.Client(base_url=server.url) as http,
    ):
        assert len(http.get("/trials").json()["trials"]) == 5

        (catalog_copy / "NCT00579085.yaml").unlink()
        reloaded = http.post("/admin/reload")
        assert (reloaded.status_code, reloaded.json()) == (
            200,
            {"reloaded": True, "generation": 2, "trials": 4, "workers_restarting": False},
        )
        assert [t["id"] for t in http.get("/trials").json()["trials"]] == [
            "NCT04650074",
            "NCT05212571",
            "NCT05639322",
            "NCT06414356",
        ]

        broken = catalog_copy / "NCT06414356.yaml"
        good = broken.read_text(encoding="utf-8")
        broken.write_text(good.replace("status: recruiting", "status: recruting"), encoding="utf-8")
        with pytest.raises(matcher.CriteriaError) as expected:
            matcher.load_trials(catalog_copy)
        refused = http.post("/admin/reload")
        assert refused.status_code == 409
        assert refused.json() == {
            "diagnostics": [
                {
                    "code": d.code,
                    "message": d.message,
                    "file": d.file,
                    "line": d.line,
                    "column": d.column,
                    "path": d.path,
                }
                for d in expected.value.diagnostics
            ]
        }
        after = http.get("/trials").json()
        assert (after["generation"], len(after["trials"])) == (2, 4)
        ready = http.get("/readyz").json()
        assert ready["last_reload_problems"] == refused.json()["diagnostics"]
        check = http.post("/check", json={"patient": {"id": "p"}, "trials": ["NCT06414356"]})
        assert check.status_code == 200

        broken.write_text(good, encoding="utf-8")
        server.signal(signal.SIGHUP)
        deadline = time.monotonic() + 20
        while http.get("/readyz").json()["generation"] != 3:
            assert time.monotonic() < deadline, "SIGHUP did not reload the catalog"
            time.sleep(0.05)
        assert http.get("/readyz").json()["last_reload_problems"] == []
        assert "catalog reload refused, keeping generation 2: 1 problem(s)" in server.logs()


# --- in-process: the timeout and last-resort errors --------------------------------------------


def _post(app: Any, path: str, body: Any) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.post(path, json=body)

    return anyio.run(go)


def test_a_check_past_the_timeout_is_503(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Settings(timeout=0.05, inline_below=0))
    real = matcher.check

    def slow(*args: Any, **kwargs: Any) -> matcher.CheckResult:
        time.sleep(0.5)
        return real(*args, **kwargs)

    monkeypatch.setattr(matcher, "check", slow)
    response = _post(app, "/check", {"patient": {"id": "p"}})
    assert (response.status_code, response.json()) == (
        503,
        diagnostics("timeout", "the check took longer than 0.05 s"),
    )


def test_an_unexpected_error_is_500_without_its_message(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(Settings())

    def broken(*args: Any, **kwargs: Any) -> matcher.CheckResult:
        raise KeyError("G90.511 of patient 42")

    monkeypatch.setattr(matcher, "check", broken)
    with caplog.at_level("INFO", logger="matcher"):
        response = _post(app, "/getClinicalTrial", mitre_sample())
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    assert response.json()["issue"][0]["diagnostics"] == (
        f"internal error; quote request id {request_id} when reporting it"
    )
    assert "G90" not in response.text
    assert "G90" not in caplog.text
    assert f"internal error (KeyError) in request {request_id}" in caplog.text
