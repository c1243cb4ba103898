"""``matcher screen``: a whole panel; tables, attrition and an HTML report."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from matcher.cli._shared import (
    PATH,
    cli,
    criteria_option,
    fail,
    load_catalog,
    parse_as_of,
)
from matcher.core.errors import EngineError, suggest


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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes (with --engine spark: the cores of the local Spark session).",
)
@click.option(
    "--without",
    "without",
    multiple=True,
    metavar="CRITERION_ID",
    help="What-if: switch a criterion off (ID in every trial, or TRIAL:ID; repeatable).",
)
@click.option(
    "--engine",
    type=click.Choice(["columnar", "row", "spark"]),
    default=None,
    help="Batch engine. Default: columnar when its dependency (numpy) is installed, else row; "
    "'spark' runs that engine on Apache Spark (the 'spark' extra and a Java runtime).",
)
@click.option(
    "--spark-master",
    "spark_master",
    metavar="URL",
    help="With --engine spark: the Spark master. Default: local[WORKERS].",
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
    engine: str | None,
    spark_master: str | None,
) -> None:
    """Screen a panel (Bulk export folder, NDJSON, patient files, JSONL profiles) into tables."""
    from matcher.panel.batch import without as switch_off
    from matcher.panel.screen import columnar_available, get_batch_engine, screen_folder

    spark = engine == "spark"
    if spark:
        import matcher.spark

        try:
            matcher.spark.require_pyspark()
        except EngineError as exc:
            fail(str(exc), "engine")
        engine = None  # the batch engine each partition runs: the default one
    if engine is None:
        engine = "columnar" if columnar_available() else "row"
        if engine == "row":
            click.echo(
                "matcher: note: numpy is not installed, so the row engine screens the panel "
                "(pip install 'trial-matcher[panel]' for the columnar engine)",
                err=True,
            )
    try:
        get_batch_engine(engine)
    except EngineError as exc:
        fail(str(exc), "engine")

    day = parse_as_of(as_of) or date.today()
    catalog = load_catalog(criteria)
    trials = list(catalog.trials)
    if trial_ids:
        known = [t.id for t in catalog]
        for wanted in trial_ids:
            if wanted not in known:
                fail(f"no trial {wanted!r} in the criteria{suggest(wanted, known)}", "usage")
        trials = [t for t in trials if t.id in trial_ids]
    trials, unused = switch_off(trials, without)
    if unused:
        fail(f"--without {unused[0]!r} names no criterion of the trials", "usage")
    if spark:
        import matcher.spark

        summary = matcher.spark.screen_folder(
            list(inputs),
            out,
            trials,
            as_of=day,
            fmt=fmt,
            master=spark_master or f"local[{workers}]",
            engine=engine,
            without=without,
        )
    else:
        summary = screen_folder(
            list(inputs),
            out,
            trials,
            as_of=day,
            fmt=fmt,
            workers=workers,
            engine=engine,
            without=without,
        )
    click.echo(
        f"screened {summary.patients} patient(s) against {len(trials)} trial(s) as of {day}; "
        f"{summary.skipped} skipped; tables in {out}",
        err=True,
    )
    if catalog.problems:
        fail(
            f"{len(catalog.problems)} problem(s) in the criteria files: results are partial",
            "criteria",
        )
    if summary.skipped:
        fail(
            f"{summary.skipped} patient(s) could not be used: see {out / 'errors.jsonl'}",
            "patient",
        )
