"""Screening a panel: read it in batches, evaluate each batch, send the matrices to sinks.

One run: ``PanelSource`` (or any iterable of patients) -> batches of ``_BATCH`` patients -> a
``BatchEngine`` -> an ``OutcomeMatrix`` per batch -> every sink (the tables on disk, the tally of
the attrition, the library's in-memory tables). Patients that cannot be used go to the sinks as
errors and the run goes on. With ``workers`` above 1, batches are mapped and evaluated in worker
processes (forked: they inherit the compiled trials), in input order, so the output does not
depend on the number of workers.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, Final, Protocol

from matcher.core.errors import EngineError, PatientError
from matcher.criteria.compiler import CompiledTrial
from matcher.evaluation.batch import (
    OUTCOME_NAMES,
    VERDICT_NAMES,
    BatchEngine,
    OutcomeMatrix,
    RowEngine,
    TrialShape,
)
from matcher.panel.attrition import MissingFact, Tally, TrialAttrition
from matcher.panel.reading import PanelItem, PanelSource, RawPatient, map_raw
from matcher.panel.tables import CsvText, open_table
from matcher.patient.model import Patient

__all__ = [
    "ENGINES",
    "FileSink",
    "ScreenSummary",
    "Sink",
    "columnar_available",
    "default_engine",
    "get_batch_engine",
    "run_screen",
]

#: Batch engines: ``columnar`` (numpy, from the ``panel`` extra) and ``row`` (``matcher.check``).
ENGINES: Final = ("columnar", "row")
_BATCH: Final = 256


def columnar_available() -> bool:
    """Whether the columnar engine's dependency (numpy) is installed."""
    return importlib.util.find_spec("numpy") is not None


def default_engine() -> str:
    """``columnar`` when numpy is installed, else ``row``."""
    return "columnar" if columnar_available() else "row"


def get_batch_engine(name: str) -> BatchEngine:
    if name == "row":
        return RowEngine()
    if name == "columnar":
        if not columnar_available():
            raise EngineError(
                "the columnar engine needs numpy: pip install 'trial-matcher[panel]' "
                "(or choose --engine row)"
            )
        from matcher.panel.columnar import ColumnarEngine

        return ColumnarEngine()
    raise EngineError(f"unknown batch engine {name!r} (known: {', '.join(ENGINES)})")


class Sink(Protocol):
    def matrix(self, matrix: OutcomeMatrix) -> None: ...

    def error(self, item: PanelItem) -> None: ...


@dataclass(frozen=True, slots=True)
class ScreenSummary:
    """What a run read and screened."""

    as_of: date
    engine: str
    trials: tuple[str, ...]
    without: tuple[str, ...]
    patients: int
    skipped: int
    files: int = 0
    records: int = 0
    unattributed: int = 0
    resource_types: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "engine": self.engine,
            "trials": list(self.trials),
            "without": list(self.without),
            "patients": self.patients,
            "skipped": self.skipped,
            "files": self.files,
            "records": self.records,
            "unattributed_records": self.unattributed,
            "resource_types": list(self.resource_types),
        }


@dataclass
class BatchContext:
    """What every batch of one run is evaluated with (set up once, shared by worker processes)."""

    engine: BatchEngine
    trials: Sequence[CompiledTrial]
    as_of: date


#: Set in the parent before the worker processes fork; read by ``_work`` in them.
_CONTEXT: Final[list[BatchContext]] = []


def run_screen(
    source: PanelSource | Iterable[Patient],
    trials: Sequence[CompiledTrial],
    *,
    as_of: date,
    engine: BatchEngine,
    sinks: Sequence[Sink],
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    without: Sequence[str] = (),
) -> ScreenSummary:
    """Screen every patient of ``source``; returns the summary (the answers are in the sinks)."""
    context = BatchContext(engine, trials, as_of)
    items: Iterator[PanelItem | RawPatient | Patient] = (
        source.raw() if isinstance(source, PanelSource) else iter(source)
    )
    size = getattr(engine, "batch_size", _BATCH)  # a columnar engine gains from larger batches
    chunks = iter(lambda: list(islice(items, size)), [])
    screened = skipped = 0

    def deliver(errors: list[PanelItem], matrix: OutcomeMatrix | None) -> None:
        nonlocal screened, skipped
        for sink in sinks:
            for item in errors:
                sink.error(item)
            if matrix is not None:
                sink.matrix(matrix)
        skipped += len(errors)
        screened += len(matrix.patients) if matrix is not None else 0
        if progress is not None:
            progress(len(errors) + (len(matrix.patients) if matrix is not None else 0))

    fork = "fork" in multiprocessing.get_all_start_methods()
    if workers > 1 and fork:
        _CONTEXT[:] = [context]
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                # ``Pool.imap`` would read the whole input ahead: keep a few batches in flight.
                pending: deque[Any] = deque()
                for chunk in chunks:
                    pending.append(pool.apply_async(_work, (chunk,)))
                    if len(pending) > 2 * workers:
                        deliver(*pending.popleft().get())
                while pending:
                    deliver(*pending.popleft().get())
        finally:
            _CONTEXT.clear()
    else:
        for chunk in chunks:
            deliver(*evaluate_batch(context, chunk))
    stats = source.stats if isinstance(source, PanelSource) else None
    return ScreenSummary(
        as_of,
        engine.name,
        tuple(t.id for t in trials),
        tuple(without),
        screened,
        skipped,
        stats.files if stats else 0,
        stats.records if stats else 0,
        stats.unattributed if stats else 0,
        tuple(sorted(stats.resource_types)) if stats else (),
    )


def _work(chunk: list[PanelItem | RawPatient | Patient]) -> tuple[list[PanelItem], Any]:
    return evaluate_batch(_CONTEXT[0], chunk)


def evaluate_batch(
    context: BatchContext, chunk: Sequence[PanelItem | RawPatient | Patient]
) -> tuple[list[PanelItem], OutcomeMatrix | None]:
    """Map and evaluate one batch: the unusable patients, and the matrix of the others (None when
    there are none). Also the step each partition of a Spark run takes (``matcher.spark``)."""
    errors: list[PanelItem] = []
    patients: list[Patient] = []
    # An engine may read Bulk patients into its own input, without Patient objects (the
    # columnar engine's fact columns); it reports the same errors, in the same order.
    direct: Callable[..., Any] | None = getattr(context.engine, "evaluate_raw", None)
    if direct is not None and chunk and all(isinstance(e, RawPatient) for e in chunk):
        unread, refused, matrix = direct(chunk, context.trials, context.as_of)
        return [*unread, *refused], matrix
    # An engine may bring a faster reading of Bulk patients (the same ``PanelItem``).
    read: Callable[[RawPatient], PanelItem] = getattr(context.engine, "read", map_raw)
    for entry in chunk:
        item = read(entry) if isinstance(entry, RawPatient) else entry
        if isinstance(item, Patient):
            patients.append(item)
        elif item.patient is None:
            errors.append(item)
        else:
            patients.append(item.patient)
    if not patients:
        return errors, None
    try:
        return errors, context.engine.evaluate(patients, context.trials, context.as_of)
    except PatientError:
        pass
    # A patient that contradicts the as-of date (born after it, say): find it, keep the others.
    usable: list[Patient] = []
    for patient in patients:
        try:
            context.engine.evaluate([patient], context.trials, context.as_of)
        except PatientError as exc:
            errors.append(PanelItem(patient.id, None, tuple(exc.diagnostics), patient.id))
        else:
            usable.append(patient)
    if not usable:
        return errors, None
    return errors, context.engine.evaluate(usable, context.trials, context.as_of)


def matrix_rows(
    matrix: OutcomeMatrix,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The verdict rows and the long criterion rows of a matrix, patient by patient."""
    verdicts: list[tuple[Any, ...]] = []
    criteria: list[tuple[Any, ...]] = []
    for index, patient in enumerate(matrix.patients):
        for column in matrix.trials:
            trial = column.shape.id
            verdicts.append(
                (
                    patient,
                    trial,
                    VERDICT_NAMES[column.verdict[index]],
                    column.score[index],
                    column.eligible_from[index],
                )
            )
            criteria.extend(
                (patient, trial, cid, kind, OUTCOME_NAMES[code])
                for (cid, kind), code in zip(
                    column.shape.criteria, column.outcomes[index], strict=True
                )
            )
    return verdicts, criteria


def error_record(item: PanelItem) -> dict[str, Any]:
    """An unusable patient as one JSON object: its key, where it was read, every diagnostic."""
    return {
        "patient": item.key,
        "source": item.source,
        "diagnostics": [d.as_dict() for d in item.problems],
    }


@dataclass
class FileSink:
    """Writes the verdict and criterion tables and the errors file into ``folder``."""

    folder: Path
    fmt: str
    _verdicts: Any = field(init=False)
    _criteria: Any = field(init=False)
    _errors: Any = field(init=False)
    _text: CsvText = field(init=False, default_factory=CsvText)

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._verdicts = open_table(self.folder, "verdicts", self.fmt)
        self._criteria = open_table(self.folder, "criteria", self.fmt)
        self._errors = (self.folder / "errors.jsonl").open("w", encoding="utf-8")

    def matrix(self, matrix: OutcomeMatrix) -> None:
        if self.fmt != "csv":
            self.rows(*matrix_rows(matrix))
            return
        # CSV: the same bytes as ``rows(*matrix_rows(matrix))``, encoded per distinct answer.
        verdicts, criteria = self._text.tables(
            matrix.patients,
            [(c.shape.id, c.shape.criteria) for c in matrix.trials],
            [c.verdict for c in matrix.trials],
            [c.score for c in matrix.trials],
            [c.eligible_from for c in matrix.trials],
            [c.outcomes for c in matrix.trials],
            (VERDICT_NAMES, OUTCOME_NAMES),
        )
        self._verdicts.write_text(verdicts)
        self._criteria.write_text(criteria)

    def rows(
        self, verdicts: Iterable[tuple[Any, ...]], criteria: Iterable[tuple[Any, ...]]
    ) -> None:
        """Rows of the verdict and criterion tables, as ``matrix_rows`` makes them."""
        for row in verdicts:
            self._verdicts.write(row)
        for row in criteria:
            self._criteria.write(row)

    def error(self, item: PanelItem) -> None:
        self._errors.write(json.dumps(error_record(item), ensure_ascii=False) + "\n")

    def close(
        self,
        summary: ScreenSummary,
        attrition: Sequence[TrialAttrition],
        missing: Sequence[MissingFact],
    ) -> None:
        self._verdicts.close()
        self._criteria.close()
        self._errors.close()
        with open_table(self.folder, "attrition", self.fmt) as table:
            for funnel in attrition:
                for number, step in enumerate(funnel.steps):
                    d = step.as_dict()
                    table.write((funnel.trial, number, *d.values()))
        with open_table(self.folder, "missing", self.fmt) as table:
            for fact in missing:
                table.write((fact.fact, fact.patients, fact.pairs))
        _write_json(self.folder / "attrition.json", [a.as_dict() for a in attrition])
        _write_json(self.folder / "summary.json", summary.as_dict())
        from matcher.panel.report import render_report  # it imports this module

        report = render_report(summary, attrition, missing)
        (self.folder / "report.html").write_text(report, encoding="utf-8")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def shapes(trials: Sequence[CompiledTrial]) -> list[TrialShape]:
    return [TrialShape.of(t) for t in trials]


def progress_bar(total: int | None) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr when it is a terminal (rich, imported only then), else nothing.

    Returns the callback that advances it and the one that closes it."""
    if not sys.stderr.isatty() or os.environ.get("TERM") == "dumb":
        return None, lambda: None
    try:
        from rich.progress import Progress
    except ImportError:
        return None, lambda: None
    bar = Progress(transient=True)
    task = bar.add_task("screening", total=total)
    bar.start()
    return (lambda n: bar.advance(task, n)), bar.stop


def screen_folder(
    inputs: Sequence[Path],
    out: Path,
    trials: Sequence[CompiledTrial],
    *,
    as_of: date,
    fmt: str = "csv",
    workers: int = 1,
    engine: str | None = None,
    without: Sequence[str] = (),
    progress: bool = True,
) -> ScreenSummary:
    """``matcher screen``: screen the panel in ``inputs`` and write every output into ``out``
    (``engine``: a name of ``ENGINES``, by default ``default_engine()``)."""
    from matcher.panel.reading import read_panel

    source = read_panel(*inputs)
    batch_engine = get_batch_engine(engine or default_engine())
    files = FileSink(out, fmt)
    tally = Tally(shapes(trials))
    advance, stop = progress_bar(None) if progress else (None, lambda: None)
    try:
        summary = run_screen(
            source,
            trials,
            as_of=as_of,
            engine=batch_engine,
            sinks=[files, tally],
            workers=workers,
            progress=advance,
            without=without,
        )
    finally:
        stop()
    files.close(summary, tally.attrition(), tally.missing())
    return summary
