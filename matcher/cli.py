"""The ``matcher`` command: a thin shell over the library.

This is the only module that prints or chooses an exit status. It parses arguments, calls the
library, renders with ``matcher.explain`` (or ``as_dict`` for JSON) and maps each exception class
to a documented exit status; no traceback reaches the user (set ``MATCHER_DEBUG=1`` to see one).

Exit statuses (also in the README):

==  ==========================================================================================
0   success (``check`` ran; ``lint`` found nothing; every ``test`` example passed)
1   ``lint`` found problems, or a ``test`` example failed
2   usage error: unknown option or command, bad argument, unknown trial id or concept name
3   the patient file cannot be used: missing, unreadable, not JSON/YAML, invalid fields
    (``screen``: a patient of the panel was skipped; the others were screened)
4   criteria or concept files are invalid (``check`` still screens against the valid trials)
5   the chosen engine, simple-icd-10-cm (``lint --strict``) or the service extra (``serve``)
    is not installed here
6   ``import --fetch``: the registry cannot be reached, or did not answer with a record
70  internal error: a bug in matcher; please report it
==  ==========================================================================================
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn

import click

from matcher.api import check, load_patient, load_trials, patient_from_text
from matcher.compile import Catalog, CompiledTrial
from matcher.engines import ENGINES
from matcher.errors import (
    CriteriaError,
    Diagnostic,
    EngineError,
    InputError,
    MatcherError,
    PatientError,
    excerpt,
    printable,
    suggest,
)
from matcher.examples import run_examples
from matcher.explain import (
    ROLES,
    Style,
    plain,
    render_check,
    render_concept,
    render_concepts,
    render_trial,
)
from matcher.patient import Patient
from matcher.results import TrialResult
from matcher.source import read_stream, read_text

if TYPE_CHECKING:
    from matcher.sites import NearSite

__all__ = ["EXIT", "main"]

EXIT: Final = {
    "ok": 0,
    "findings": 1,
    "usage": 2,
    "patient": 3,
    "criteria": 4,
    "engine": 5,
    "network": 6,
    "internal": 70,
}


class _Exit(Exception):  # noqa: N818 -- control flow to main()
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _style(enabled: bool) -> Style:
    if not enabled:
        return plain

    def style(text: str, role: str) -> str:
        color = ROLES.get(role)
        return click.style(text, fg=color, bold=role == "heading") if color else text

    return style


def _colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


#: Diagnostics about these cannot show a source line: the file was not read as text.
_NO_SOURCE: Final = frozenset({"file-unreadable", "file-too-large", "not-utf8"})


def _report(diagnostics: Sequence[Diagnostic]) -> None:
    """Patient-side problems: one line each, never the text (it holds patient values)."""
    for diagnostic in diagnostics:
        click.echo(diagnostic.render(), err=True)


def _report_criteria(diagnostics: Sequence[Diagnostic]) -> None:
    """Criteria-side problems: each line followed by the source line it points at, and a caret."""
    texts: dict[str, str | None] = {}
    for diagnostic in diagnostics:
        click.echo(diagnostic.render(), err=True)
        if not diagnostic.line or diagnostic.code in _NO_SOURCE:
            continue
        if diagnostic.file not in texts:
            texts[diagnostic.file] = _source_text(diagnostic.file)
        text = texts[diagnostic.file]
        for line in excerpt(diagnostic, text) if text is not None else ():
            click.echo(line, err=True)


def _source_text(file: str) -> str | None:
    try:
        path = Path(file)
        if not path.is_file() or path.stat().st_size > 10_000_000:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _fail(message: str, status: str) -> NoReturn:
    click.echo(f"matcher: error: {message}", err=True)
    raise _Exit(EXIT[status])


def _catalog(paths: Sequence[Path]) -> Catalog:
    """Load criteria for a command: good files load, problems go to stderr."""
    try:
        catalog = load_trials(*paths, strict=False)
    except CriteriaError as exc:  # broken concept sets, no trial file: nothing to screen with
        _report_criteria(exc.diagnostics)
        if all(d.code == "no-trial-files" for d in exc.diagnostics):
            _fail("no trial file to screen against", "criteria")
        _fail(f"{len(exc.diagnostics)} problem(s) in concept sets", "criteria")
    except InputError as exc:
        _report(exc.diagnostics)
        _fail("cannot read the criteria", "criteria")
    _report_criteria(catalog.problems)
    return catalog


def _patient(path: str) -> Patient:
    if path == "-":
        return patient_from_text(read_stream(sys.stdin.buffer, "<stdin>"), source="<stdin>")
    return load_patient(path)


#: The one form ``--as-of`` takes. ``date.fromisoformat`` would also take ``20261121`` and the
#: week date ``2026-W47-6``, and Python's ``\d`` any script's digits; a date typed at a prompt is
#: more likely a slip than one of those, so they are refused on purpose.
_AS_OF: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _as_of(value: str | None) -> date | None:
    if value is None:
        return None
    shown = repr(value)
    if _AS_OF.fullmatch(value) is None:
        raise click.BadParameter(
            f"{shown} is not a date as YYYY-MM-DD (such as 2026-11-21)", param_hint="'--as-of'"
        )
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{shown} is not a real date ({exc})", param_hint="'--as-of'"
        ) from None


class _PathType(click.Path):
    """``click.Path`` that reports a name it cannot look up as a usage error.

    click calls ``os.stat`` on the name, which raises ``ValueError`` (not ``OSError``) for a
    name holding a null character.
    """

    def convert(
        self,
        value: str | os.PathLike[str],
        param: click.Parameter | None,
        ctx: click.Context | None,
    ) -> str | bytes | os.PathLike[str]:
        try:
            return super().convert(value, param, ctx)
        except ValueError:
            self.fail("a file name cannot contain a null character", param, ctx)


PATH: Final = _PathType(path_type=Path)

criteria_option = click.option(
    "--criteria",
    "criteria",
    multiple=True,
    type=PATH,
    help="Trial file or folder (repeatable). Default: the bundled catalog.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="trial-matcher", prog_name="matcher")
def cli() -> None:
    """Screen patients against clinical-trial eligibility criteria written in YAML.

    Exit status: 0 ok, 1 lint/test findings, 2 usage error, 3 bad patient file (or registry
    record), 4 invalid criteria, 5 engine (or lint --strict's package) unavailable, 6 registry
    unreachable (import --fetch), 70 internal error.
    """


@cli.command("check")
@click.argument("patient_file", metavar="PATIENT_FILE")
@criteria_option
@click.option("--trial", "trial_ids", multiple=True, metavar="ID", help="Only these trials.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Evaluation date. Default: today.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Text for people, or the JSON contract for programs.",
)
@click.option(
    "--engine", type=click.Choice(ENGINES), default="python", show_default=True, help="Rule engine."
)
@click.option("--explain", is_flag=True, help="List every criterion with outcome and evidence.")
@click.option(
    "--near",
    metavar="LAT,LON",
    help="The patient's position: show each trial's nearest recruiting site and its distance.",
)
@click.option(
    "--radius",
    type=click.FloatRange(min=0, min_open=True),
    metavar="KM",
    help="With --near: keep only trials with a recruiting site within KM kilometres.",
)
def check_command(
    patient_file: str,
    criteria: tuple[Path, ...],
    trial_ids: tuple[str, ...],
    as_of: str | None,
    output: str,
    engine: str,
    explain: bool,
    near: str | None,
    radius: float | None,
) -> None:
    """Check one patient (YAML/JSON profile or FHIR R4 Bundle; - for stdin) against the trials."""
    day = _as_of(as_of)
    point = _near(near, radius)
    patient = _patient(patient_file)
    catalog = _catalog(criteria)
    trials: Catalog | list[CompiledTrial] = catalog
    if trial_ids:
        known = [t.id for t in catalog]
        for wanted in trial_ids:
            if wanted not in known:
                _fail(f"no trial {wanted!r} in the criteria{suggest(wanted, known)}", "usage")
        trials = [t for t in catalog if t.id in trial_ids]
    nearby = None
    if point is not None:
        from matcher.sites import within

        nearby = {t.id: site for t, site in within(trials, point, radius)}
        trials = [t for t in trials if t.id in nearby]
    result = check(patient, trials, as_of=day, engine=engine)
    if output == "json":
        if nearby is None:
            click.echo(result.to_json())
        else:
            click.echo(_json_with_sites(result.as_dict(), nearby))
    else:
        click.echo(render_check(result, explain=explain, style=_style(_colour())), nl=False)
        if nearby is not None and point is not None:
            click.echo(_render_sites(result.trials, nearby, point, radius), nl=False)
    if catalog.problems:
        _fail(
            f"{len(catalog.problems)} problem(s) in the criteria files: results are partial",
            "criteria",
        )


def _near(near: str | None, radius: float | None) -> tuple[float, float] | None:
    if near is None:
        if radius is not None:
            raise click.BadParameter("--radius needs --near LAT,LON", param_hint="'--radius'")
        return None
    from matcher.sites import parse_point

    try:
        return parse_point(near)
    except ValueError as exc:
        raise click.BadParameter(f"{near!r}: {exc}", param_hint="'--near'") from None


def _json_with_sites(payload: dict[str, Any], nearby: Mapping[str, NearSite | None]) -> str:
    """The JSON contract with ``nearest_site`` added to each trial (``--near``)."""
    for trial in payload["trials"]:
        near = nearby.get(trial["trial"])
        trial["nearest_site"] = (
            None
            if near is None
            else {
                **near.site.model_dump(mode="json", exclude_none=True),
                "distance_km": round(near.km, 1),
            }
        )
    return json.dumps(payload, ensure_ascii=False, indent=2)


def _render_sites(
    trials: Sequence[TrialResult],
    nearby: Mapping[str, NearSite | None],
    point: tuple[float, float],
    radius: float | None,
) -> str:
    from matcher.sites import site_label

    where = f"{point[0]:g},{point[1]:g}" + (f", within {radius:g} km" if radius else "")
    lines = [f"Nearest recruiting sites (from {where}):"]
    if not trials:
        lines.append("  no trial has a recruiting site in range")
    for trial in trials:
        near = nearby.get(trial.trial)
        if near is None:
            lines.append(f"  {trial.trial:<12} no recruiting site with a position on record")
        else:
            lines.append(
                f"  {trial.trial:<12} {near.km:>7.1f} km  {printable(site_label(near.site))}"
            )
    return "\n".join(lines) + "\n"


@cli.command("explain")
@click.argument("trial", metavar="TRIAL_ID_OR_FILE")
@criteria_option
def explain_command(trial: str, criteria: tuple[Path, ...]) -> None:
    """Show a trial's criteria in words, and which items need a clinician's review."""
    if trial.endswith((".yaml", ".yml")) or os.sep in trial:
        catalog = _catalog([Path(trial)])
        found = catalog.trials[0] if catalog.trials else None
        if found is None:
            raise _Exit(EXIT["criteria"])
    else:
        catalog = _catalog(criteria)
        found = catalog.get(trial)
        if found is None:
            known = [t.id for t in catalog.trials]
            _fail(f"no trial {trial!r} in the criteria{suggest(trial, known)}", "usage")
    click.echo(render_trial(found, style=_style(_colour())), nl=False)


@cli.command("lint")
@click.argument("paths", nargs=-1, type=PATH)
@click.option(
    "--strict",
    is_flag=True,
    help="Also check every code of every concept set: ICD-10-CM against the official tabular "
    "list, the form and check digit of SNOMED CT, LOINC and RxNorm codes, and that each set's "
    "source names its code systems (needs the 'lint' extra).",
)
def lint_command(paths: tuple[Path, ...], strict: bool) -> None:
    """Validate criteria files (default: the bundled catalog) as file:line:col: code: message."""
    try:
        catalog = load_trials(*paths, strict=False)
    except (CriteriaError, InputError) as exc:
        _report_criteria(exc.diagnostics)
        raise _Exit(EXIT["findings"]) from None
    problems = list(catalog.problems)
    if strict:
        from matcher.lint import LintUnavailableError, strict_problems  # seconds to load: only here

        try:
            problems.extend(strict_problems(paths))
        except LintUnavailableError as exc:
            _fail(str(exc), "engine")
    _report_criteria(problems)
    if problems:
        count = len(problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)
        raise _Exit(EXIT["findings"])
    pending = 0
    for trial in catalog.trials:
        for criterion in trial.criteria:
            pending += criterion.pending
            if criterion.pending and criterion.rule is not None:
                click.echo(
                    f"{trial.file}: proposal: {criterion.id} ({criterion.source}): a proposed "
                    "rule, pending until an author removes 'pending'"
                )
    waiting = f"; {pending} criteria pending" if pending else ""
    click.echo(
        f"ok: {len(catalog.trials)} trial file(s), {len(catalog.concepts.sets)} concept set(s)"
        f"{waiting}"
    )


@cli.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of trial files (for editors: see the README)."""
    from matcher.schema import trial_json_schema

    click.echo(json.dumps(trial_json_schema(), indent=2))


@cli.command("test")
@click.argument("paths", nargs=-1, type=PATH)
@click.option(
    "--engine", type=click.Choice(ENGINES), default="python", show_default=True, help="Rule engine."
)
def test_command(paths: tuple[Path, ...], engine: str) -> None:
    """Run the example patients in trial files (default: the bundled catalog)."""
    catalog = _catalog(paths)
    reports = run_examples(catalog.trials, engine=engine)
    failed = 0
    for report in reports:
        if report.passed:
            click.echo(f"PASS {report.trial} {report.name}")
        else:
            failed += 1
            click.echo(f"FAIL {report.trial} {report.name} ({report.file})")
            for problem in report.problems:
                click.echo(f"     {problem}")
    click.echo(f"{len(reports) - failed} passed, {failed} failed")
    if failed or catalog.problems:
        raise _Exit(EXIT["findings"])


@cli.command("concepts")
@click.argument("name", required=False)
@criteria_option
def concepts_command(name: str | None, criteria: tuple[Path, ...]) -> None:
    """List the concept sets, or every member of one (for auditing a drug class)."""
    catalog = _catalog(criteria)
    if name is None:
        click.echo(render_concepts(catalog.concepts), nl=False)
        return
    if name not in catalog.concepts:
        _fail(f"no concept set {name!r}{suggest(name, catalog.concepts.names())}", "usage")
    click.echo(render_concept(catalog.concepts[name]), nl=False)


# --- matcher import (draft trial files from a registry; matcher.importers) ----------------------


@cli.group("import")
def import_group() -> None:
    """Draft trial files from registry records (every text item pending until encoded)."""


@import_group.command("ctgov")
@click.argument("record", required=False, metavar="FILE|-")
@click.option(
    "--fetch", "fetch_ids", multiple=True, metavar="NCT...", help="Fetch from the API (repeatable)."
)
@click.option(
    "-o",
    "--output",
    type=PATH,
    help="File to write, or a folder to write NCTxxxxxxxx.yaml into. Default: standard output "
    "(one record only).",
)
@click.option(
    "--base-url",
    envvar="MATCHER_CTGOV_URL",
    default="https://clinicaltrials.gov/api/v2",
    show_default=True,
    help="The API (or MATCHER_CTGOV_URL).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
    help="Seconds to connect and per read.",
)
def import_ctgov_command(
    record: str | None,
    fetch_ids: tuple[str, ...],
    output: Path | None,
    base_url: str,
    timeout: float,
) -> None:
    """Draft trial files from ClinicalTrials.gov API v2 records (a file, -, or --fetch)."""
    from matcher.concepts import bundled_concepts_dir, load_concepts
    from matcher.importers.ctgov import FetchError, RecordError, drafts_from_text, fetch_record

    if (record is None) == (not fetch_ids):
        raise click.UsageError("give a record file (or -) or --fetch NCT..., not both")
    concepts = list(load_concepts([bundled_concepts_dir()]).sets.values())
    sources: list[tuple[str, str]] = []
    try:
        if record == "-":
            sources.append(("<stdin>", read_stream(sys.stdin.buffer, "<stdin>")))
        elif record is not None:
            sources.append((record, read_text(Path(record))))
        for nct in fetch_ids:
            sources.append((nct, fetch_record(nct, base_url, timeout)))
        drafts = [d for name, text in sources for d in drafts_from_text(text, name, concepts)]
    except InputError as exc:
        _report(exc.diagnostics)
        _fail("the record cannot be used", "patient")
    except RecordError as exc:
        _report(exc.diagnostics)
        _fail("the record cannot be used", "patient")
    except FetchError as exc:
        _fail(str(exc), "network")
    folder = output is not None and (output.is_dir() or str(output).endswith(("/", os.sep)))
    if len(drafts) > 1 and not folder:
        _fail(f"{len(drafts)} records: give -o FOLDER to write one file each", "usage")
    for draft in drafts:
        click.echo(
            f"matcher: {draft.id}: {draft.pending} item(s) pending, "
            f"{draft.proposals} with a proposed rule",
            err=True,
        )
        if output is None:
            click.echo(draft.text, nl=False)
            continue
        target = output / f"{draft.id}.yaml" if folder else output
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(draft.text, encoding="utf-8")
        except OSError as exc:
            _fail(f"cannot write {target}: {exc.strerror}", "usage")


# --- matcher serve (the HTTP service; matcher.service, behind the optional 'service' extra) -----
# FastAPI and uvicorn are imported inside the command, so that they cost `matcher check` nothing.


@cli.command("screen")
@click.argument("inputs", nargs=-1, required=True, type=PATH, metavar="INPUT...")
@click.option("--out", "out", required=True, type=PATH, help="Folder for the tables and report.")
@criteria_option
@click.option("--trial", "trial_ids", multiple=True, metavar="ID", help="Only these trials.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DD", help="Evaluation date. Default: today.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    default="csv",
    show_default=True,
    help="Format of the tables (parquet needs the 'panel' extra).",
)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option(
    "--without",
    "without",
    multiple=True,
    metavar="CRITERION_ID",
    help="What-if: switch a criterion off (ID in every trial, or TRIAL:ID; repeatable).",
)
def screen_command(
    inputs: tuple[Path, ...],
    out: Path,
    criteria: tuple[Path, ...],
    trial_ids: tuple[str, ...],
    as_of: str | None,
    fmt: str,
    workers: int,
    without: tuple[str, ...],
) -> None:
    """Screen a panel (Bulk export folder, NDJSON, patient files, JSONL profiles) into tables."""
    from matcher.panel.batch import without as switch_off
    from matcher.panel.screen import screen_folder

    day = _as_of(as_of) or date.today()
    catalog = _catalog(criteria)
    trials = list(catalog.trials)
    if trial_ids:
        known = [t.id for t in catalog]
        for wanted in trial_ids:
            if wanted not in known:
                _fail(f"no trial {wanted!r} in the criteria{suggest(wanted, known)}", "usage")
        trials = [t for t in trials if t.id in trial_ids]
    trials, unused = switch_off(trials, without)
    if unused:
        _fail(f"--without {unused[0]!r} names no criterion of the trials", "usage")
    summary = screen_folder(
        list(inputs), out, trials, as_of=day, fmt=fmt, workers=workers, without=without
    )
    click.echo(
        f"screened {summary.patients} patient(s) against {len(trials)} trial(s) as of {day}; "
        f"{summary.skipped} skipped; tables in {out}",
        err=True,
    )
    if catalog.problems:
        _fail(
            f"{len(catalog.problems)} problem(s) in the criteria files: results are partial",
            "criteria",
        )
    if summary.skipped:
        _fail(
            f"{summary.skipped} patient(s) could not be used: see {out / 'errors.jsonl'}",
            "patient",
        )


@cli.command("serve")
@criteria_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (each holds the catalog).",
)
@click.option(
    "--api-keys-file",
    type=PATH,
    help="File of accepted API keys, one per line (or set MATCHER_API_KEYS). Default: none.",
)
@click.option(
    "--cors-origin", "cors_origins", multiple=True, metavar="ORIGIN", help="Allow CORS from it."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.01),
    default=30.0,
    show_default=True,
    help="Seconds a check may take before the answer is 503.",
)
@click.option(
    "--max-body",
    type=click.IntRange(min=1),
    default=10 * 1024 * 1024,
    show_default=True,
    help="Largest request body in bytes (413 above).",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
)
def serve_command(
    criteria: tuple[Path, ...],
    host: str,
    port: int,
    workers: int,
    api_keys_file: Path | None,
    cors_origins: tuple[str, ...],
    timeout: float,
    max_body: int,
    log_level: str,
) -> None:
    """Serve FHIR $match, the MITRE /getClinicalTrial interface and /check over HTTP."""
    import socket

    try:
        import uvicorn

        from matcher.service import Settings, create_app
        from matcher.service.catalog import CatalogHolder
        from matcher.service.settings import read_key_file
    except ImportError as exc:
        _fail(
            f"matcher serve needs the service extra ({exc.name} is missing): "
            "pip install 'trial-matcher[service]'",
            "engine",
        )
    keys = Settings.from_environment().api_keys
    if api_keys_file is not None:
        keys = keys | frozenset(read_key_file(api_keys_file))
    settings = Settings(
        criteria=criteria,
        api_keys=keys,
        cors_origins=cors_origins,
        max_body=max_body,
        timeout=timeout,
        supervised=workers > 1,
    )
    holder = CatalogHolder(criteria)  # strict: a broken catalog stops here, with its problems
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            _fail(f"cannot listen on {host}:{port}: {exc.strerror}", "usage")
    click.echo(
        f"matcher: serving {len(holder.current.catalog.trials)} trial(s) on http://{host}:{port} "
        f"with {workers} worker(s); API keys {'required' if keys else 'not required'}",
        err=True,
    )
    log_config = _service_log_config(log_level)
    if workers == 1:
        uvicorn.run(
            create_app(settings, holder=holder),
            host=host,
            port=port,
            log_config=log_config,
            access_log=False,
        )
        return
    os.environ.update(settings.to_environment())
    uvicorn.run(
        "matcher.service.app:create_app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=log_config,
        access_log=False,
    )


def _service_log_config(level: str) -> dict[str, object]:
    """Logging for the service: one line per record on stderr. uvicorn's own access log is off
    (it would print query strings); matcher.service.access writes one without them."""
    handler = {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"stderr": handler},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "matcher": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status instead of raising."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="matcher",
            standalone_mode=False,
        )
    except _Exit as exc:
        return exc.status
    except click.exceptions.Abort:
        click.echo("matcher: aborted", err=True)
        return EXIT["usage"]
    except click.ClickException as exc:
        exc.show()
        return EXIT["usage"]
    except PatientError as exc:
        _report(exc.diagnostics)
        click.echo("matcher: error: the patient file cannot be used", err=True)
        return EXIT["patient"]
    except InputError as exc:
        _report(exc.diagnostics)
        return EXIT["patient"]
    except CriteriaError as exc:
        _report_criteria(exc.diagnostics)
        return EXIT["criteria"]
    except EngineError as exc:
        click.echo(f"matcher: error: {exc}", err=True)
        return EXIT["engine"]
    except MatcherError as exc:  # pragma: no cover -- every subclass is handled above
        click.echo(f"matcher: error: {exc}", err=True)
        return EXIT["internal"]
    except Exception as exc:
        if os.environ.get("MATCHER_DEBUG"):
            raise
        click.echo(
            f"matcher: internal error ({type(exc).__name__}); this is a bug, please report it "
            "(set MATCHER_DEBUG=1 for details)",
            err=True,
        )
        return EXIT["internal"]
    return EXIT["ok"]


def entry_point() -> NoReturn:
    """The console script."""
    sys.exit(main())
