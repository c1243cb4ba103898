"""``matcher test``: run the examples that trial files carry."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from matcher.api import ENGINES, run_examples

if TYPE_CHECKING:
    pass

from matcher.cli._shared import (
    EXIT,
    PATH,
    Exit,
    cli,
    load_catalog,
)


@cli.command("test")
@click.argument("paths", nargs=-1, type=PATH)
@click.option(
    "--engine", type=click.Choice(ENGINES), default="python", show_default=True, help="Rule engine."
)
def test_command(paths: tuple[Path, ...], engine: str) -> None:
    """Run the example patients in trial files (default: the bundled catalog)."""
    catalog = load_catalog(paths)
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
        raise Exit(EXIT["findings"])
