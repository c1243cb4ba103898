"""``matcher concepts``: list the concept sets, or show one."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from matcher.core.errors import (
    suggest,
)
from matcher.render.text import (
    render_concept,
    render_concepts,
)

if TYPE_CHECKING:
    pass

from matcher.cli._shared import (
    cli,
    criteria_option,
    fail,
    load_catalog,
)


@cli.command("concepts")
@click.argument("name", required=False)
@criteria_option
def concepts_command(name: str | None, criteria: tuple[Path, ...]) -> None:
    """List the concept sets, or every member of one (for auditing a drug class)."""
    catalog = load_catalog(criteria)
    if name is None:
        click.echo(render_concepts(catalog.concepts), nl=False)
        return
    if name not in catalog.concepts:
        fail(f"no concept set {name!r}{suggest(name, catalog.concepts.names())}", "usage")
    click.echo(render_concept(catalog.concepts[name]), nl=False)


# --- matcher import (draft trial files from a registry; matcher.importers) ----------------------
