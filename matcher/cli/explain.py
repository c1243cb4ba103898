"""``matcher explain``: a trial's criteria in words."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from matcher.core.errors import (
    suggest,
)
from matcher.render.text import (
    render_trial,
)

if TYPE_CHECKING:
    pass

from matcher.cli._shared import (
    EXIT,
    Exit,
    cli,
    colour,
    criteria_option,
    fail,
    load_catalog,
    style_for,
)


@cli.command("explain")
@click.argument("trial", metavar="TRIAL_ID_OR_FILE")
@criteria_option
def explain_command(trial: str, criteria: tuple[Path, ...]) -> None:
    """Show a trial's criteria in words, and which items need a clinician's review."""
    if trial.endswith((".yaml", ".yml")) or os.sep in trial:
        catalog = load_catalog([Path(trial)])
        found = catalog.trials[0] if catalog.trials else None
        if found is None:
            raise Exit(EXIT["criteria"])
    else:
        catalog = load_catalog(criteria)
        found = catalog.get(trial)
        if found is None:
            known = [t.id for t in catalog.trials]
            fail(f"no trial {trial!r} in the criteria{suggest(trial, known)}", "usage")
    click.echo(render_trial(found, style=style_for(colour())), nl=False)
