"""What every command shares: the exit statuses, the click group, reporting of diagnostics,
loading of criteria and patients for a command, and the option types."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Final, NoReturn

import click

from matcher import Patient
from matcher.api import load_patient, load_trials, patient_from_text
from matcher.core.errors import (
    CriteriaError,
    Diagnostic,
    InputError,
    excerpt,
)
from matcher.core.source import read_stream
from matcher.criteria.compiler import Catalog
from matcher.render.text import (
    ROLES,
    Style,
    plain,
)

if TYPE_CHECKING:
    pass

__all__ = [
    "AS_OF",
    "EXIT",
    "PATH",
    "Exit",
    "cli",
    "colour",
    "criteria_option",
    "fail",
    "load_catalog",
    "parse_as_of",
    "read_patient",
    "report",
    "report_criteria",
    "style_for",
]

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


class Exit(Exception):  # noqa: N818 -- control flow to main()
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def style_for(enabled: bool) -> Style:
    if not enabled:
        return plain

    def style(text: str, role: str) -> str:
        color = ROLES.get(role)
        return click.style(text, fg=color, bold=role == "heading") if color else text

    return style


def colour() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


#: Diagnostics about these cannot show a source line: the file was not read as text.
NO_SOURCE: Final = frozenset({"file-unreadable", "file-too-large", "not-utf8"})


def report(diagnostics: Sequence[Diagnostic]) -> None:
    """Patient-side problems: one line each, never the text (it holds patient values)."""
    for diagnostic in diagnostics:
        click.echo(diagnostic.render(), err=True)


def report_criteria(diagnostics: Sequence[Diagnostic]) -> None:
    """Criteria-side problems: each line followed by the source line it points at, and a caret."""
    texts: dict[str, str | None] = {}
    for diagnostic in diagnostics:
        click.echo(diagnostic.render(), err=True)
        if not diagnostic.line or diagnostic.code in NO_SOURCE:
            continue
        if diagnostic.file not in texts:
            texts[diagnostic.file] = source_text(diagnostic.file)
        text = texts[diagnostic.file]
        for line in excerpt(diagnostic, text) if text is not None else ():
            click.echo(line, err=True)


def source_text(file: str) -> str | None:
    try:
        path = Path(file)
        if not path.is_file() or path.stat().st_size > 10_000_000:
            return None
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def fail(message: str, status: str) -> NoReturn:
    click.echo(f"matcher: error: {message}", err=True)
    raise Exit(EXIT[status])


def load_catalog(paths: Sequence[Path]) -> Catalog:
    """Load criteria for a command: good files load, problems go to stderr."""
    try:
        catalog = load_trials(*paths, strict=False)
    except CriteriaError as exc:  # broken concept sets, no trial file: nothing to screen with
        report_criteria(exc.diagnostics)
        if all(d.code == "no-trial-files" for d in exc.diagnostics):
            fail("no trial file to screen against", "criteria")
        fail(f"{len(exc.diagnostics)} problem(s) in concept sets", "criteria")
    except InputError as exc:
        report(exc.diagnostics)
        fail("cannot read the criteria", "criteria")
    report_criteria(catalog.problems)
    return catalog


def read_patient(path: str) -> Patient:
    if path == "-":
        return patient_from_text(read_stream(sys.stdin.buffer, "<stdin>"), source="<stdin>")
    return load_patient(path)


#: The one form ``--as-of`` takes. ``date.fromisoformat`` would also take ``20261121`` and the
#: week date ``2026-W47-6``, and Python's ``\d`` any script's digits; a date typed at a prompt is
#: more likely a slip than one of those, so they are refused on purpose.
AS_OF: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_as_of(value: str | None) -> date | None:
    if value is None:
        return None
    shown = repr(value)
    if AS_OF.fullmatch(value) is None:
        raise click.BadParameter(
            f"{shown} is not a date as YYYY-MM-DD (such as 2026-11-21)", param_hint="'--as-of'"
        )
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{shown} is not a real date ({exc})", param_hint="'--as-of'"
        ) from None


class PathType(click.Path):
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


PATH: Final = PathType(path_type=Path)

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
