"""``matcher lint``: validate trial and concept files (``--strict`` checks codes too)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from matcher.api import load_trials
from matcher.core.errors import (
    CriteriaError,
    InputError,
)

if TYPE_CHECKING:
    pass

from matcher.cli._shared import (
    EXIT,
    PATH,
    Exit,
    cli,
    fail,
    report_criteria,
)


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
        report_criteria(exc.diagnostics)
        raise Exit(EXIT["findings"]) from None
    problems = list(catalog.problems)
    if strict:
        from matcher.criteria.lint import (  # seconds to load: only here
            LintUnavailableError,
            strict_problems,
        )

        try:
            problems.extend(strict_problems(paths))
        except LintUnavailableError as exc:
            fail(str(exc), "engine")
    report_criteria(problems)
    if problems:
        count = len(problems)
        click.echo(f"{count} problem{'s' if count != 1 else ''} found", err=True)
        raise Exit(EXIT["findings"])
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
