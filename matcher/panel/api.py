"""``matcher.screen``: a panel in, Arrow tables and the attrition out (see ``matcher.api``)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from matcher.core.errors import Diagnostic, InputError
from matcher.criteria.compiler import Catalog, CompiledTrial
from matcher.evaluation.batch import OutcomeMatrix
from matcher.panel.attrition import MissingFact, Tally, TrialAttrition
from matcher.panel.batch import without as switch_off
from matcher.panel.reading import PanelItem, read_panel
from matcher.panel.screen import (
    ScreenSummary,
    default_engine,
    get_batch_engine,
    matrix_rows,
    run_screen,
    shapes,
)
from matcher.panel.tables import COLUMNS, require_pyarrow
from matcher.patient.model import Patient

__all__ = ["ScreenResult", "screen", "screened_trials"]


@dataclass(frozen=True)
class ScreenResult:
    """A screening in memory: the tables as ``pyarrow.Table`` (columns as in
    ``matcher.panel.tables``), the funnels, the missing facts and the unusable patients."""

    summary: ScreenSummary
    verdicts: Any
    criteria: Any
    attrition: tuple[TrialAttrition, ...]
    missing: tuple[MissingFact, ...]
    errors: tuple[PanelItem, ...]


class _Rows:
    def __init__(self) -> None:
        self.verdicts: list[tuple[Any, ...]] = []
        self.criteria: list[tuple[Any, ...]] = []
        self.errors: list[PanelItem] = []

    def matrix(self, matrix: OutcomeMatrix) -> None:
        verdicts, criteria = matrix_rows(matrix)
        self.verdicts.extend(verdicts)
        self.criteria.extend(criteria)

    def error(self, item: PanelItem) -> None:
        self.errors.append(item)


def _table(name: str, rows: list[tuple[Any, ...]]) -> Any:
    pa = require_pyarrow()
    types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64(), "date": pa.date32()}
    schema = pa.schema([(n, types[k]) for n, k in COLUMNS[name]])
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pa.table(
        [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)], schema=schema
    )


def screened_trials(
    trials: Catalog | Iterable[CompiledTrial], as_of: object, without: Sequence[str]
) -> list[CompiledTrial]:
    """The trials a screening runs, with ``without`` switched off; an ``InputError`` for an
    as-of that is not a date or a ``without`` name that matches no criterion. Shared by
    ``matcher.screen`` and ``matcher.spark.screen``."""
    if not isinstance(as_of, date):
        raise InputError(
            Diagnostic("invalid-argument", "expected a datetime.date", "<screen>", path="as_of")
        )
    selected, unused = switch_off(list(trials), without)
    if unused:
        raise InputError(
            Diagnostic(
                "invalid-argument", "names no criterion of the trials", "<screen>", path="without"
            )
        )
    return selected


def screen(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Iterable[Patient],
    trials: Catalog | Iterable[CompiledTrial],
    *,
    as_of: date,
    without: Sequence[str] = (),
    workers: int = 1,
    engine: str | None = None,
) -> ScreenResult:
    """Screen a panel: a path (Bulk export folder, NDJSON, patient files, JSONL), a list of
    paths, or patients. ``without`` switches criteria off (``ID`` or ``TRIAL:ID``); ``engine``
    is ``"columnar"`` or ``"row"`` (default: columnar when numpy is installed). Raises
    ``EngineError`` for an engine that is unknown or not installed."""
    require_pyarrow()
    batch_engine = get_batch_engine(engine or default_engine())
    selected = screened_trials(trials, as_of, without)
    panel: Any
    if isinstance(source, str | os.PathLike):
        panel = read_panel(source)
    elif isinstance(source, Sequence) and all(isinstance(s, str | os.PathLike) for s in source):
        panel = read_panel(*[Path(s) for s in source])
    else:
        panel = source
    rows, tally = _Rows(), Tally(shapes(selected))
    summary = run_screen(
        panel,
        selected,
        as_of=as_of,
        engine=batch_engine,
        sinks=[rows, tally],
        workers=workers,
        without=without,
    )
    return ScreenResult(
        summary,
        _table("verdicts", rows.verdicts),
        _table("criteria", rows.criteria),
        tuple(tally.attrition()),
        tuple(tally.missing()),
        tuple(rows.errors),
    )
