"""``matcher check``: one patient against the catalog, as a table or the JSON contract."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from matcher import Catalog, CompiledTrial, TrialResult
from matcher.api import ENGINES, check
from matcher.core.errors import (
    printable,
    suggest,
)
from matcher.render.text import (
    render_check,
)

if TYPE_CHECKING:
    from matcher.criteria.sites import NearSite

from matcher.cli._shared import (
    cli,
    colour,
    criteria_option,
    fail,
    load_catalog,
    parse_as_of,
    read_patient,
    style_for,
)


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
    day = parse_as_of(as_of)
    point = _near(near, radius)
    patient = read_patient(patient_file)
    catalog = load_catalog(criteria)
    trials: Catalog | list[CompiledTrial] = catalog
    if trial_ids:
        known = [t.id for t in catalog]
        for wanted in trial_ids:
            if wanted not in known:
                fail(f"no trial {wanted!r} in the criteria{suggest(wanted, known)}", "usage")
        trials = [t for t in catalog if t.id in trial_ids]
    nearby = None
    if point is not None:
        from matcher.criteria.sites import within

        nearby = {t.id: site for t, site in within(trials, point, radius)}
        trials = [t for t in trials if t.id in nearby]
    result = check(patient, trials, as_of=day, engine=engine)
    if output == "json":
        if nearby is None:
            click.echo(result.to_json())
        else:
            click.echo(_json_with_sites(result.as_dict(), nearby))
    else:
        click.echo(render_check(result, explain=explain, style=style_for(colour())), nl=False)
        if nearby is not None and point is not None:
            click.echo(_render_sites(result.trials, nearby, point, radius), nl=False)
    if catalog.problems:
        fail(
            f"{len(catalog.problems)} problem(s) in the criteria files: results are partial",
            "criteria",
        )


def _near(near: str | None, radius: float | None) -> tuple[float, float] | None:
    if near is None:
        if radius is not None:
            raise click.BadParameter("--radius needs --near LAT,LON", param_hint="'--radius'")
        return None
    from matcher.criteria.sites import parse_point

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
    from matcher.criteria.sites import site_label

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
