"""``matcher schema``: the JSON Schema of a trial file, for editors."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    pass

from matcher.cli._shared import (
    cli,
)


@cli.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of trial files (for editors: see the README)."""
    from matcher.criteria.schema import trial_json_schema

    click.echo(json.dumps(trial_json_schema(), indent=2))
