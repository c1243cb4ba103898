"""``matcher import ctgov``: draft trial files from ClinicalTrials.gov records."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from matcher.core.errors import (
    InputError,
)
from matcher.core.source import read_stream, read_text

if TYPE_CHECKING:
    pass

from matcher.cli._shared import (
    PATH,
    cli,
    fail,
    report,
)


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
    from matcher.criteria.concepts import bundled_concepts_dir, load_concepts
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
        report(exc.diagnostics)
        fail("the record cannot be used", "patient")
    except RecordError as exc:
        report(exc.diagnostics)
        fail("the record cannot be used", "patient")
    except FetchError as exc:
        fail(str(exc), "network")
    folder = output is not None and (output.is_dir() or str(output).endswith(("/", os.sep)))
    if len(drafts) > 1 and not folder:
        fail(f"{len(drafts)} records: give -o FOLDER to write one file each", "usage")
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
            fail(f"cannot write {target}: {exc.strerror}", "usage")


# --- matcher serve (the HTTP service; matcher.service, behind the optional 'service' extra) -----
# FastAPI and uvicorn are imported inside the command, so that they cost `matcher check` nothing.
