"""The HTTP app: FastAPI routes over the public library API, and one ASGI gate in front.

Routes (README "Service" has the table):

* ``POST /getClinicalTrial`` -- the MITRE matching-service interface: a FHIR Bundle in (with an
  optional ``Parameters`` resource inside), a searchset Bundle out. A body that is not a Bundle
  gets 400, as there.
* ``POST /ResearchStudy/$match`` -- the CodeX IG's operation: ``Parameters`` with
  ``trialMatchClinicalData`` and the search parameters in, ``Parameters`` with
  ``trialMatchOutput`` out.
* ``GET /ResearchStudy/{id}`` -- one trial as a ResearchStudy (what ``fullUrl`` points at).
* ``POST /check`` -- matcher's JSON contract for a profile or a Bundle.
* ``GET /trials``, ``GET /trials/{id}`` -- the catalog, and one trial in words.
* ``GET /healthz`` (the process answers), ``GET /readyz`` (a catalog is loaded),
  ``POST /admin/reload``; ``/openapi.json`` and ``/docs``.

FHIR routes answer errors with an ``OperationOutcome``, the others with
``{"diagnostics": [...]}`` (the library's ``Diagnostic`` fields); both carry the library's stable
codes and never a stack trace or a patient value.

The gate (``_Gate``, plain ASGI so that it costs microseconds) gives every request an id
(``X-Request-ID``: the caller's if it is a short token, else a fresh one), checks the API key
when keys are configured, refuses a declared body over the cap, catches any exception that
escapes a route (500, logged by type and request id only) and writes the access log:
method, route *template*, status, duration and request id -- never the path's values, the query
string or a body. The body cap is enforced again while reading, for chunked bodies.

A request whose body is under ``Settings.inline_below`` (1 MB) is checked on the event loop
itself: such a check takes a few milliseconds, and handing it to a thread cost a fifth more CPU
per request in the benchmark (GIL hand-offs). Larger bodies are checked in a worker thread under
``anyio.fail_after``: past the timeout the client gets 503 ``timeout`` at once (the thread
finishes its check and the answer is dropped: Python cannot stop a thread). The service uses the
``python`` engine, which is thread-safe; the durable engine runs one evaluation at a time per
process.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping, Sequence
from datetime import date
from typing import Any, Final

import anyio
import orjson
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match

import matcher
from matcher import CheckResult, CompiledTrial, Diagnostic, PatientError
from matcher.core.errors import suggest
from matcher.render.text import render_trial
from matcher.service import openapi
from matcher.service.catalog import CatalogHolder, Snapshot
from matcher.service.fhir import operation_outcome, searchset
from matcher.service.search import ParameterError, SearchParameters, read_parameters
from matcher.service.settings import Settings

__all__ = ["create_app", "create_app_from_environment"]

_log = logging.getLogger("matcher.service")
_access = logging.getLogger("matcher.service.access")

FHIR_JSON: Final = "application/fhir+json"
_BODY: Final = "request body"
_OPEN_PATHS: Final = frozenset({"/healthz", "/readyz", "/openapi.json", "/docs", "/redoc"})
_REQUEST_ID: Final = re.compile(r"[A-Za-z0-9._\-]{1,64}")
_METHODS: Final = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
_BUNDLE_TYPES: Final = frozenset(
    {
        "document",
        "message",
        "transaction",
        "transaction-response",
        "batch",
        "batch-response",
        "history",
        "searchset",
        "collection",
    }
)

ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class RefusedError(Exception):
    """A request the service answers with an error status and diagnostics."""

    def __init__(self, status: int, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__(status)
        self.status = status
        self.diagnostics = tuple(diagnostics)


def _is_fhir(path: str) -> bool:
    return path == "/getClinicalTrial" or path.startswith("/ResearchStudy")


def _dump(data: Any) -> bytes:
    """``data`` as compact UTF-8 JSON. orjson writes the same bytes as ``json.dumps(data,
    ensure_ascii=False, separators=(",", ":"))`` for the service's answers (the tests compare
    the two; the one difference is the exponent of a float below 1e-4, ``1e-7`` for ``1e-07``)
    in a tenth of the time; an integer wider than 64 bits, which orjson refuses, falls back to
    the standard library."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def error_body(path: str, diagnostics: Sequence[Diagnostic]) -> tuple[bytes, str]:
    """The error body for a route: an OperationOutcome on FHIR routes, diagnostics elsewhere."""
    if _is_fhir(path):
        return _dump(operation_outcome(diagnostics)), FHIR_JSON
    return _dump({"diagnostics": [d.as_dict() for d in diagnostics]}), "application/json"


def _error(path: str, status: int, diagnostics: Sequence[Diagnostic]) -> Response:
    body, media = error_body(path, diagnostics)
    return Response(body, status_code=status, media_type=media)


# --- the gate ----------------------------------------------------------------------------------


class _Gate:
    """Request id, API key, body cap (declared length), last-resort errors and the access log."""

    def __init__(self, app: ASGIApp, settings: Settings, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes
        self.keys = tuple(k.encode() for k in settings.api_keys)
        self.max_body = settings.max_body

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        path: str = scope["path"]
        status = 500
        sent = False

        async def send_with_id(message: Any) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                sent = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        async def answer(
            code: int, diagnostics: Sequence[Diagnostic], extra: Sequence[Any] = ()
        ) -> None:
            body, media = error_body(path, diagnostics)
            await send_with_id(
                {
                    "type": "http.response.start",
                    "status": code,
                    "headers": [
                        (b"content-type", media.encode()),
                        (b"content-length", str(len(body)).encode()),
                        *extra,
                    ],
                }
            )
            await send_with_id({"type": "http.response.body", "body": body})

        try:
            guarded = path not in _OPEN_PATHS and scope["method"] != "OPTIONS"
            if self.keys and guarded and not self._authorised(headers):
                message = "an API key or bearer token is required"
                await answer(
                    401,
                    [Diagnostic("unauthorized", message, _BODY)],
                    [(b"www-authenticate", b'Bearer realm="matcher"')],
                )
                return
            length = headers.get(b"content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                await answer(413, [_too_large(self.max_body)])
                return
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            _log.error("internal error (%s) in request %s", type(exc).__name__, request_id)
            if os.environ.get("MATCHER_DEBUG"):
                _log.exception("details")
            if not sent:
                message = f"internal error; quote request id {request_id} when reporting it"
                await answer(500, [Diagnostic("internal-error", message, _BODY)])
        finally:
            template = self._template(scope)
            method = scope["method"] if scope["method"] in _METHODS else "<other>"
            _access.info(
                "%s %s %d %.1fms id=%s",
                method,
                template,
                status,
                (time.perf_counter() - started) * 1000,
                request_id,
            )

    def _template(self, scope: MutableMapping[str, Any]) -> str:
        """The route's path template (``/trials/{trial_id}``), never the path's values; found
        again for a request refused before routing."""
        route = scope.get("route")
        if route is None:
            route = next((r for r in self.routes if r.matches(scope)[0] is Match.FULL), None)
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else "<unmatched>"

    def _authorised(self, headers: Mapping[bytes, bytes]) -> bool:
        given = headers.get(b"x-api-key")
        auth = headers.get(b"authorization", b"")
        if given is None and auth[:7].lower() == b"bearer ":
            given = auth[7:].strip()
        if not given:
            return False
        # Compare with every key, in constant time for each: no early exit tells which is close.
        found = False
        for key in self.keys:
            found |= hmac.compare_digest(given, key)
        return found


def _too_large(cap: int) -> Diagnostic:
    return Diagnostic("body-too-large", f"the request body is larger than {cap:,} bytes", _BODY)


# --- reading requests --------------------------------------------------------------------------


async def _read_body(request: Request, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise RefusedError(413, [_too_large(cap)])
        chunks.append(chunk)
    return b"".join(chunks)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        key = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _DuplicateKeyError(key)
    return data


class _DuplicateKeyError(ValueError):
    pass


def _not_json(token: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def parse_json(body: bytes) -> Any:
    """The body as JSON, or ``RefusedError(400)`` with the library's codes (no value is quoted)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"the body is not UTF-8 text (byte {exc.start + 1})"
        raise RefusedError(400, [Diagnostic("not-utf8", message, _BODY)]) from None
    text = text.removeprefix("\ufeff")
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        problem = Diagnostic("json-syntax", exc.msg, _BODY, exc.lineno, exc.colno)
    except _DuplicateKeyError as exc:
        problem = Diagnostic("duplicate-key", f"the key {exc.args[0]!r} appears twice", _BODY)
    except RecursionError:
        problem = Diagnostic("yaml-too-complex", "the JSON nests too deeply", _BODY)
    except ValueError as exc:
        text = str(exc)
        if "NaN" in text:
            problem = Diagnostic("json-syntax", text, _BODY)
        else:  # int() refuses more than 4,300 digits
            problem = Diagnostic("invalid-value", "a number has too many digits", _BODY)
    raise RefusedError(400, [problem])


async def _read_json(request: Request, cap: int) -> tuple[Any, int]:
    """The request body parsed as JSON (see :func:`parse_json`), and its size in bytes."""
    raw = await _read_body(request, cap)
    return parse_json(raw), len(raw)


def _not_fhir(message: str, path: str | None = None) -> RefusedError:
    if path is None:
        return RefusedError(400, [Diagnostic("not-fhir", message, _BODY)])
    return RefusedError(400, [Diagnostic("not-fhir", message, _BODY, 0, 0, path)])


def _is_bundle(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and data.get("resourceType") == "Bundle"
        and data.get("type") in _BUNDLE_TYPES
        and isinstance(data.get("entry"), list)
    )


def _split_bundle(bundle: dict[str, Any]) -> tuple[dict[str, Any], SearchParameters]:
    """The patient's Bundle without its ``Parameters`` entries, and the parameters they hold."""
    kept: list[Any] = []
    parameters: list[Any] = []
    where = ""
    for index, entry in enumerate(bundle["entry"]):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "Parameters":
            found = resource.get("parameter", [])
            if not isinstance(found, list):
                path = f"Bundle.entry[{index}].resource.parameter"
                raise RefusedError(
                    400, [Diagnostic("invalid-value", "expected a list", _BODY, 0, 0, path)]
                )
            parameters.extend(found)
            where = where or f"Bundle.entry[{index}].resource.parameter"
        else:
            kept.append(entry)
    try:
        params = read_parameters(parameters, where or "Bundle.entry")
    except ParameterError as exc:
        raise RefusedError(400, exc.diagnostics) from None
    return {**bundle, "entry": kept}, params


def _patient(data: Any) -> matcher.Patient:
    try:
        return matcher.patient_from_data(data, source=_BODY)
    except PatientError as exc:
        raise RefusedError(400, exc.diagnostics) from None


# --- the app -----------------------------------------------------------------------------------


def create_app(settings: Settings | None = None, *, holder: CatalogHolder | None = None) -> FastAPI:
    """The service app. ``holder`` (a loaded catalog) is built from ``settings.criteria`` when not
    given; it is loaded before the app is returned, so a broken catalog fails here."""
    settings = settings or Settings()
    holder = holder or CatalogHolder(settings.criteria)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The library loads its FHIR reader on first use: load it now, not in a first request.
        matcher.patient_from_data({"resourceType": "Patient", "id": "warm-up"})
        loop = asyncio.get_running_loop()
        installed = False
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGHUP"):

            def on_hup() -> None:
                loop.run_in_executor(None, holder.reload)

            try:
                loop.add_signal_handler(signal.SIGHUP, on_hup)
                installed = True
            except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
                pass
        try:
            yield
        finally:
            if installed:
                loop.remove_signal_handler(signal.SIGHUP)

    app = FastAPI(
        title="matcher",
        version=matcher.__version__,
        summary="Clinical-trial eligibility: the FHIR $match and CodeX matching-service "
        "interfaces, and matcher's JSON contract.",
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.state.settings = settings

    async def run_check(
        patient: matcher.Patient,
        trials: Sequence[CompiledTrial],
        as_of: date | None,
        size: int,
        explain: int | None = None,
    ) -> CheckResult:
        """The check, explaining the ``explain`` top-ranked trials (all when ``None``)."""

        def work() -> CheckResult:
            try:
                return matcher.check(
                    patient,
                    trials,
                    as_of=as_of,
                    engine="python",
                    explain="all" if explain is None else explain,
                )
            except PatientError as exc:
                raise RefusedError(400, exc.diagnostics) from None

        if size < settings.inline_below:
            return work()
        try:
            with anyio.fail_after(settings.timeout):
                return await anyio.to_thread.run_sync(work, abandon_on_cancel=True)
        except TimeoutError:
            message = f"the check took longer than {settings.timeout:g} s"
            raise RefusedError(503, [Diagnostic("timeout", message, _BODY)]) from None

    async def match(bundle: dict[str, Any], base_url: str, size: int) -> dict[str, Any]:
        patient_bundle, params = _split_bundle(bundle)
        patient = _patient(patient_bundle)
        snapshot = holder.current
        trials, notes = params.near(params.select(snapshot.catalog.trials))
        result = await run_check(patient, trials, params.as_of, size)
        return searchset(result, snapshot.studies, base_url=base_url, notes=notes)

    def fhir(data: Any) -> Response:
        return Response(_dump(data), media_type=FHIR_JSON)

    def base(request: Request) -> str:
        return str(request.base_url)

    @app.exception_handler(RefusedError)
    async def refused(request: Request, exc: RefusedError) -> Response:
        return _error(request.url.path, exc.status, exc.diagnostics)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "invalid-request")
        message = str(exc.detail) if exc.status_code != 404 else "no such route"
        return _error(request.url.path, exc.status_code, [Diagnostic(code, message, _BODY)])

    @app.post(
        "/getClinicalTrial",
        tags=["FHIR"],
        summary="Match a patient Bundle (the MITRE clinical-trial-matching-service interface)",
        openapi_extra=openapi.body(openapi.BUNDLE, "bundle"),
        responses=openapi.responses(openapi.SEARCHSET, fhir=True),
    )
    async def get_clinical_trial(request: Request) -> Response:
        data, size = await _read_json(request, settings.max_body)
        if not _is_bundle(data):
            raise _not_fhir(
                "the body is not a FHIR Bundle (resourceType Bundle, a Bundle type, entry)"
            )
        return fhir(await match(data, base(request), size))

    @app.post(
        "/ResearchStudy/$match",
        tags=["FHIR"],
        summary="The CodeX ResearchStudy/$match operation",
        openapi_extra=openapi.body(openapi.MATCH_PARAMETERS, "match"),
        responses=openapi.responses(openapi.MATCH_OUTPUT, fhir=True),
    )
    async def research_study_match(request: Request) -> Response:
        data, size = await _read_json(request, settings.max_body)
        if not (
            isinstance(data, dict)
            and data.get("resourceType") == "Parameters"
            and isinstance(data.get("parameter", []), list)
        ):
            raise _not_fhir("the body is not a FHIR Parameters resource")
        clinical = None
        others: list[Any] = []
        for index, parameter in enumerate(data.get("parameter", [])):
            if isinstance(parameter, dict) and parameter.get("name") == "trialMatchClinicalData":
                path = f"Parameters.parameter[{index}].resource"
                if clinical is not None:
                    raise RefusedError(
                        400,
                        [Diagnostic("invalid-value", "given more than once", _BODY, 0, 0, path)],
                    )
                clinical = parameter.get("resource")
                if not _is_bundle(clinical):
                    raise _not_fhir("trialMatchClinicalData is not a FHIR Bundle", path)
            else:
                others.append(parameter)
        if clinical is None:
            message = "trialMatchClinicalData (the patient's Bundle) is required"
            raise RefusedError(400, [Diagnostic("missing-key", message, _BODY, 0, 0, "Parameters")])
        # The operation's own parameters go in front of any Parameters inside the Bundle.
        combined = {
            **clinical,
            "entry": [
                {"resource": {"resourceType": "Parameters", "parameter": others}},
                *clinical["entry"],
            ],
        }
        output = await match(combined, base(request), size)
        return fhir(
            {
                "resourceType": "Parameters",
                "parameter": [{"name": "trialMatchOutput", "resource": output}],
            }
        )

    @app.get(
        "/ResearchStudy/{trial_id}",
        tags=["FHIR"],
        summary="One trial as a FHIR ResearchStudy",
        responses=openapi.responses(openapi.RESEARCH_STUDY, fhir=True, found=True),
    )
    async def get_research_study(trial_id: str, request: Request) -> Response:
        snapshot = holder.current
        return fhir(snapshot.studies[_trial(snapshot, trial_id).id])

    @app.post(
        "/check",
        tags=["matcher"],
        summary="Check a patient (profile or FHIR Bundle): matcher's JSON contract",
        openapi_extra=openapi.body(openapi.CHECK_REQUEST, "check"),
        responses=openapi.responses(openapi.CHECK_RESULT),
    )
    async def check(request: Request) -> Response:
        data, size = await _read_json(request, settings.max_body)
        patient, as_of, wanted, explain = _check_request(data)
        snapshot = holder.current
        trials: Sequence[CompiledTrial] = snapshot.catalog.trials
        if wanted is not None:
            trials = [_trial(snapshot, t, f"trials[{i}]", 400) for i, t in enumerate(wanted)]
        result = await run_check(patient, trials, as_of, size, explain)
        return Response(_dump(result.as_dict()), media_type="application/json")

    @app.get(
        "/trials",
        tags=["catalog"],
        summary="The trials of the catalog",
        responses=openapi.responses(openapi.TRIAL_LIST),
    )
    async def trials() -> Response:
        snapshot = holder.current
        body = {
            "generation": snapshot.generation,
            "trials": [_summary(t) for t in snapshot.catalog.trials],
        }
        return Response(_dump(body), media_type="application/json")

    @app.get(
        "/trials/{trial_id}",
        tags=["catalog"],
        summary="One trial: its metadata, its criteria, and the whole in words",
        responses=openapi.responses(openapi.TRIAL_DETAIL, found=True),
    )
    async def trial(trial_id: str) -> Response:
        found = _trial(holder.current, trial_id)
        body = {
            **_summary(found),
            "criteria": [
                {
                    "id": c.id,
                    "kind": c.kind,
                    "description": c.description,
                    "source": c.source,
                    "ruled": c.rule is not None,
                    "review": c.review,
                    "pending": c.pending,
                }
                for c in found.criteria
            ],
            "text": render_trial(found),
        }
        return Response(_dump(body), media_type="application/json")

    @app.get("/healthz", tags=["operations"], summary="The process answers")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        summary="A catalog is loaded and requests are served",
        responses=openapi.responses(openapi.READY, errors=()),
    )
    async def readyz() -> Response:
        snapshot = holder.current
        body = {
            "status": "ready",
            "generation": snapshot.generation,
            "trials": len(snapshot.catalog.trials),
            "loaded_at": snapshot.loaded_at.isoformat(timespec="seconds"),
            "last_reload_problems": [d.as_dict() for d in holder.last_problems],
        }
        return Response(_dump(body), media_type="application/json")

    @app.post(
        "/admin/reload",
        tags=["operations"],
        summary="Compile the catalog again; a broken catalog keeps the old one (409)",
        responses=openapi.responses(openapi.RELOADED, errors=(401, 409, 413)),
    )
    async def reload() -> Response:
        report = await anyio.to_thread.run_sync(holder.reload)
        if not report.reloaded:
            return _error("/admin/reload", 409, report.problems)
        restarting = False
        if settings.supervised:  # uvicorn's supervisor replaces every worker on SIGHUP
            os.kill(os.getppid(), signal.SIGHUP)
            restarting = True
        body = {
            "reloaded": True,
            "generation": report.snapshot.generation,
            "trials": len(report.snapshot.catalog.trials),
            "workers_restarting": restarting,
        }
        return Response(_dump(body), media_type="application/json")

    app.add_middleware(_Gate, settings=settings, routes=app.router.routes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    return app


def create_app_from_environment() -> FastAPI:
    """The app factory uvicorn's workers call (``matcher serve --workers N``)."""
    return create_app(Settings.from_environment())


def _trial(snapshot: Snapshot, trial_id: str, path: str = "", status: int = 404) -> CompiledTrial:
    found = snapshot.by_id.get(trial_id)
    if found is None:
        # A trial id is catalog data, not patient data: it may be named.
        hint = suggest(trial_id, snapshot.by_id) if len(trial_id) <= 40 else ""
        message = f"no trial with this id in the catalog{hint}"
        raise RefusedError(status, [Diagnostic("unknown-trial", message, _BODY, 0, 0, path)])
    return found


def _summary(trial: CompiledTrial) -> dict[str, Any]:
    return {
        "id": trial.id,
        "title": trial.title,
        "status": trial.status,
        "phase": trial.phase,
        "sponsor": trial.sponsor,
        "conditions": list(trial.conditions),
        "registry_url": trial.registry_url,
        "last_reviewed": trial.last_reviewed.isoformat(),
    }


_CHECK_KEYS: Final = ("patient", "as_of", "trials", "explain")


def _check_request(
    data: Any,
) -> tuple[matcher.Patient, date | None, list[str] | None, int | None]:
    """Read the body of ``POST /check``; every problem is named by its path."""

    def bad(code: str, message: str, path: str) -> RefusedError:
        return RefusedError(400, [Diagnostic(code, message, _BODY, 0, 0, path)])

    if not isinstance(data, dict):
        raise bad("not-a-mapping", "the body is an object with a 'patient'", "")
    for key in data:
        if key not in _CHECK_KEYS:
            raise bad("unknown-key", f"unknown key{suggest(key, _CHECK_KEYS)}", key[:40])
    if "patient" not in data:
        raise bad("missing-key", "'patient' is required", "patient")
    as_of = data.get("as_of")
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of) if isinstance(as_of, str) else None
        except ValueError:
            day = None
        if day is None:
            raise bad("invalid-value", "expected a date as YYYY-MM-DD", "as_of")
    wanted = data.get("trials")
    if wanted is not None and not (
        isinstance(wanted, list) and all(isinstance(t, str) for t in wanted)
    ):
        raise bad("invalid-value", "expected a list of trial ids", "trials")
    explain = data.get("explain")
    if explain is not None and (
        not isinstance(explain, int) or isinstance(explain, bool) or explain < 0
    ):
        raise bad("invalid-value", "expected a whole number of trials, 0 or more", "explain")
    patient = data["patient"]
    try:
        return matcher.patient_from_data(patient, source=_BODY), day, wanted, explain
    except PatientError as exc:
        # The library names fields of the patient: say where the patient is in the body.
        moved = [
            Diagnostic(d.code, d.message, d.file, 0, 0, _join("patient", d.path))
            for d in exc.diagnostics
        ]
        raise RefusedError(400, moved) from None


def _join(head: str, path: str) -> str:
    if not path:
        return head
    return f"{head}{path}" if path.startswith("[") else f"{head}.{path}"
