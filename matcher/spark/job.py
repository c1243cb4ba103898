"""The Spark job of ``matcher.spark`` (see the package docstring); imports pyspark."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
from py4j.protocol import Py4JError  # type: ignore[import-untyped]
from pyspark import StorageLevel
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as fn
from pyspark.sql.pandas.types import from_arrow_schema

from matcher.core.errors import Diagnostic, EngineError, InputError, MatcherError
from matcher.criteria.compiler import Catalog, CompiledTrial
from matcher.evaluation.batch import (
    OUTCOME_NAMES,
    VERDICT_NAMES,
    OutcomeMatrix,
    TrialShape,
)
from matcher.panel.api import screened_trials
from matcher.panel.attrition import MissingFact, Tally, TrialAttrition
from matcher.panel.reading import (
    READ_TYPES,
    PanelItem,
    RawPatient,
    bad_line,
    classify,
    export_files,
    is_read,
    line_text,
    medication_refs,
    named_type,
    unreviewed_sections,
)
from matcher.panel.screen import (
    BatchContext,
    FileSink,
    ScreenSummary,
    default_engine,
    error_record,
    evaluate_batch,
    get_batch_engine,
)

__all__ = ["SparkScreen", "screen", "screen_folder", "session", "write_folder"]

#: Patients per call of the batch engine inside a partition, unless the engine says otherwise
#: (as ``matcher screen``).
_BATCH: Final = 256

#: NDJSON bytes per partition of patients, unless ``screen`` is told how many partitions: about
#: 4,500 synthetic patients, 250-1,000 Synthea ones (see the README's partition sizing).
PARTITION_BYTES: Final = 64 * 2**20
#: A patient's referenced Medication lines, as the grouping gives them.
_MEDS: Final = "array<struct<ref:string,file:int,line:bigint,body:string>>"
#: What a failing Python worker says instead of its exception (see ``_guarded``).
_FAILED: Final = "matcher-worker-failed:"
_LINES_ARROW: Final = pa.schema(
    [
        ("type", pa.string()),
        ("role", pa.string()),
        ("key", pa.string()),
        ("col", pa.int32()),
        ("file", pa.int32()),
        ("line", pa.int64()),
        ("body", pa.string()),
        ("refs", pa.list_(pa.string())),
    ]
)
#: The same rows as Spark sees them (``mapInArrow``'s output schema).
_LINES: Final = from_arrow_schema(_LINES_ARROW)
#: How the classified lines and the answers are kept between Spark actions: on the executors'
#: local disk, where the operating system's page cache keeps them in memory when it can. Kept in
#: the JVM heap (MEMORY_AND_DISK), 1,000,000 synthetic patients ran a 4 GB heap out of memory
#: while the lines were read; kept on disk, the same reading peaked at 2.3 GB of JVM, and
#: 100,000 read no slower. The answers are kept the same way (not measured apart).
_KEPT: Final = StorageLevel.DISK_ONLY
#: The steps of the Python workers that ``SparkScreen.profile`` times.
_WORKER_STEPS: Final = ("classify", "groups", "evaluate", "rows")
_ARROW: Final = pa.schema(
    [
        ("patient", pa.string()),
        ("trial", pa.int32()),
        ("verdict", pa.int32()),
        ("score", pa.float64()),
        ("eligible_from", pa.date32()),
        ("alive", pa.int32()),
        ("outcomes", pa.list_(pa.int32())),
        ("missing", pa.list_(pa.string())),
        ("error", pa.string()),
    ]
)
#: What a partition gives back, as Spark sees it: a row per patient and trial, or a row per
#: unusable patient.
_RESULTS: Final = from_arrow_schema(_ARROW)


def session(
    master: str = "local[2]",
    *,
    shuffle_partitions: int = 4,
    app: str = "matcher-screen",
    memory: str = "4g",
) -> SparkSession:
    """A Spark session for screening: no UI, ``shuffle_partitions`` partitions after the grouping,
    the workers on this Python (so that they import this matcher), ``memory`` of JVM heap for
    the driver (in local mode also the executor; Spark's default of 1g is short for a panel of
    100,000). On a cluster, build the session with ``spark-submit`` instead and pass it to
    ``screen``."""
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        spark = _builder(master, app, shuffle_partitions, memory).getOrCreate()
    except PySparkException as exc:
        # Typically no Java runtime: say so without a Java or Python traceback.
        reason = exc.getCondition() or type(exc).__name__
        raise EngineError(
            f"Spark could not start ({reason}): the spark engine needs a Java runtime "
            "(java on the PATH or JAVA_HOME), e.g. apt-get install openjdk-17-jre-headless"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _builder(master: str, app: str, shuffle_partitions: int, memory: str) -> SparkSession.Builder:
    return (
        SparkSession.builder.master(master)
        .config("spark.driver.memory", memory)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "2048")
    )


@dataclass(frozen=True)
class SparkScreen:
    """A screening on Spark. ``verdicts`` and ``criteria`` are DataFrames (columns as in
    ``matcher.panel.tables``, plus ``trial_index`` and, for criteria, ``position``: the file order
    that ``write_folder`` sorts by); the funnels, missing facts and errors are on the driver."""

    summary: ScreenSummary
    verdicts: DataFrame
    criteria: DataFrame
    attrition: tuple[TrialAttrition, ...]
    missing: tuple[MissingFact, ...]
    errors: tuple[PanelItem, ...]
    _cached: tuple[DataFrame, ...] = ()
    #: The patient-trial rows (codes) and the trials' shapes, for ``write_folder``.
    _ok: Any = None
    _shapes: tuple[TrialShape, ...] = ()
    #: Where the time went, in seconds: the driver's wait for each Spark action, and the time
    #: the Python workers spent in each step (summed over workers). For the benchmark.
    profile: dict[str, float] = field(default_factory=dict)

    def release(self) -> None:
        """Drop what the run keeps cached on the executors."""
        for frame in self._cached:
            frame.unpersist()

    def write_parquet(self, folder: str | os.PathLike[str]) -> None:
        """Write ``verdicts`` and ``criteria`` as Parquet datasets from the executors (the form
        for a panel too large to pass through the driver): ``folder/verdicts/``,
        ``folder/criteria/``."""
        out = Path(folder)
        with _stage("writing"):
            self.verdicts.write.mode("overwrite").parquet(str(out / "verdicts"))
            self.criteria.write.mode("overwrite").parquet(str(out / "criteria"))


def screen(
    inputs: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    trials: Catalog | Iterable[CompiledTrial],
    *,
    as_of: date,
    spark: SparkSession | None = None,
    engine: str | None = None,
    without: Sequence[str] = (),
    partitions: int | None = None,
) -> SparkScreen:
    """Screen a FHIR Bulk export (a folder, with or without manifest, or NDJSON files) on Spark.

    ``engine`` is the batch engine each partition runs (``matcher.panel.screen.ENGINES``; by
    default columnar when numpy is installed, else row);
    ``spark`` the session (default: ``session()``, local mode on every core);
    ``partitions`` how many partitions the patients are grouped into (default: one per
    ``PARTITION_BYTES`` of NDJSON read, at least two per core of the session)."""
    selected = screened_trials(trials, as_of, without)
    engine = engine or default_engine()
    get_batch_engine(engine)  # an unknown or unavailable engine fails here, not in a task
    paths = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    files = _bulk_files([Path(p) for p in paths])
    spark = spark or session(f"local[{os.cpu_count() or 1}]")
    sc = spark.sparkContext
    names = [str(f) for f in files]

    clock = {step: sc.accumulator(0.0) for step in _WORKER_STEPS}
    read = [(i, f) for i, f in enumerate(files) if is_read(named_type(f) or "Patient")]
    if partitions is None:
        size = sum(f.stat().st_size for _, f in read)
        partitions = max(2 * sc.defaultParallelism, -(-size // PARTITION_BYTES))
    lines = _read_lines(spark, read, names, clock["classify"])
    try:
        found = _screen(
            spark, lines, files, names, selected, as_of, engine, without, clock, partitions
        )
    finally:
        lines.unpersist()
    found.profile.update({f"workers: {step}": clock[step].value for step in _WORKER_STEPS})
    return found


def _read_lines(
    spark: SparkSession, read: Sequence[tuple[int, Path]], names: Sequence[str], clock: Any
) -> DataFrame:
    """Every line of the files as a row of ``_LINES``, persisted. Spark's text reader (the
    lines as bytes, Hadoop's line splitting) splits the files into blocks; a line's number is
    its block's first line number (one JVM job counts the lines of each block) plus its place
    in the block, counted by the Python worker that classifies it (``mapInArrow``)."""
    if not read:
        return spark.createDataFrame([], _LINES)
    scans = [
        spark.read.text(str(file.resolve())).select(
            fn.col("value").cast("binary").alias("raw"),
            fn.lit(index).alias("file"),
            fn.input_file_block_start().alias("start"),
        )
        for index, file in read
    ]
    text = scans[0]
    for scan in scans[1:]:
        text = text.unionAll(scan)
    with _stage("reading"):
        counted = text.groupBy("file", "start").count().collect()
    first: dict[tuple[int, int], int] = {}
    for index, _ in read:
        blocks = sorted((r["start"], r["count"]) for r in counted if r["file"] == index)
        number = 1
        for start, count in blocks:
            first[(index, start)] = number
            number += count
    step = partial(_classify_blocks, first, tuple(names), clock)
    return text.mapInArrow(_guarded("reading", step), _LINES).persist(_KEPT)


def _screen(
    spark: SparkSession,
    lines: DataFrame,
    files: Sequence[Path],
    names: Sequence[str],
    trials: Sequence[CompiledTrial],
    as_of: date,
    engine: str,
    without: Sequence[str],
    clock: dict[str, Any],
    partitions: int,
) -> SparkScreen:
    profile: dict[str, float] = {}
    started = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal started
        now = time.perf_counter()
        profile[name] = now - started
        started = now

    read_types = sorted(READ_TYPES)
    unattributed = (fn.col("role") == "record") & fn.col("key").isNull()
    with _stage("reading"):
        totals = lines.agg(
            fn.sum(fn.col("type").isin(read_types).cast("int")).alias("records"),
            fn.sum(unattributed.cast("int")).alias("unattributed"),
            fn.collect_set("type").alias("types"),
            fn.sum((fn.col("role") == "medication").cast("int")).alias("medications"),
            fn.collect_list(
                fn.when(fn.col("role") == "bad", fn.struct("file", "line", "key", "col"))
            ).alias("bad"),
        ).first()
    assert totals is not None
    lap("read and classify")
    types = {t for t in totals["types"] if t}
    types.update(t for t in (named_type(f) for f in files) if t is not None)
    unreviewed = unreviewed_sections(types)

    bad = [
        bad_line(names[r["file"]], r["line"], r["key"] or "", r["col"])
        for r in sorted(totals["bad"], key=lambda r: (r["file"], r["line"]))
    ]
    medications = (
        lines.filter((fn.col("role") == "medication") & fn.col("key").isNotNull())
        .groupBy(fn.col("key").alias("ref"))
        .agg(fn.min(fn.struct("file", "line", "body")).alias("m"))
    )
    records = lines.filter(
        fn.col("role").isin("patient", "record") & fn.col("key").isNotNull()
    ).select(
        fn.col("key").alias("subject"),
        (fn.col("role") == "patient").cast("int").alias("p"),
        "file",
        "line",
        "body",
        "refs",
    )
    # Partitioned by patient here, so that the grouping needs no shuffle of its own.
    groups = (
        records.repartition(partitions, "subject")
        .groupBy("subject")
        .agg(fn.collect_list(fn.struct("p", "file", "line", "body")).alias("lines"))
    )
    if totals["medications"]:  # the Medication resources the requests refer to, by reference
        wanted = (
            records.select("subject", fn.explode("refs").alias("ref"))
            .distinct()
            .join(medications, "ref")
            .groupBy("subject")
            .agg(fn.collect_list(fn.struct("ref", "m.file", "m.line", "m.body")).alias("meds"))
        )
        groups = groups.join(wanted, "subject", "left")
    else:
        groups = groups.withColumn("meds", fn.lit(None).cast(_MEDS))
    payload = spark.sparkContext.broadcast((tuple(trials), as_of, engine, tuple(names), unreviewed))
    timers = (clock["groups"], clock["evaluate"], clock["rows"])
    evaluate = _guarded("evaluation", partial(_evaluate, payload, timers))
    results = groups.mapInArrow(evaluate, _RESULTS).persist(_KEPT)
    ok = results.filter(fn.col("error").isNull())
    with _stage("evaluation"):
        failed = [
            _error_item(r["error"])
            for r in results.filter(fn.col("error").isNotNull()).orderBy("patient").collect()
        ]
    lap("group and evaluate")

    shape = spark.createDataFrame(
        [
            (
                index,
                trial.id,
                [c.id for c in trial.criteria],
                [c.kind for c in trial.criteria],
            )
            for index, trial in enumerate(trials)
        ],
        "trial int, trial_id string, ids array<string>, kinds array<string>",
    )
    verdict_names = fn.array(*[fn.lit(v) for v in VERDICT_NAMES])
    outcome_names = fn.array(*[fn.lit(o) for o in OUTCOME_NAMES])
    verdicts = ok.join(fn.broadcast(shape), "trial").select(
        "patient",
        fn.col("trial_id").alias("trial"),
        fn.element_at(verdict_names, fn.col("verdict") + 1).alias("verdict"),
        "score",
        "eligible_from",
        fn.col("trial").alias("trial_index"),
    )
    exploded = ok.select("patient", "trial", fn.posexplode("outcomes").alias("position", "code"))
    criteria = exploded.join(fn.broadcast(shape), "trial").select(
        "patient",
        fn.col("trial_id").alias("trial"),
        fn.element_at("ids", fn.col("position") + 1).alias("criterion"),
        fn.element_at("kinds", fn.col("position") + 1).alias("kind"),
        fn.element_at(outcome_names, fn.col("code") + 1).alias("outcome"),
        fn.col("trial").alias("trial_index"),
        "position",
    )
    with _stage("attrition"):
        attrition, screened = _attrition(ok, trials)
    lap("attrition")
    with _stage("missing facts"):
        missing = _missing(ok)
    lap("missing facts")
    summary = ScreenSummary(
        as_of,
        f"spark/{engine}",
        tuple(t.id for t in trials),
        tuple(without),
        screened,
        len(bad) + len(failed),
        len(files),
        totals["records"] or 0,
        totals["unattributed"] or 0,
        tuple(sorted(types)),
    )
    return SparkScreen(
        summary,
        verdicts,
        criteria,
        tuple(attrition),
        tuple(missing),
        (*bad, *failed),
        (results,),
        ok,
        tuple(TrialShape.of(t) for t in trials),
        profile,
    )


def _attrition(ok: DataFrame, trials: Sequence[CompiledTrial]) -> tuple[list[TrialAttrition], int]:
    """The funnels, the outcome counts per criterion and the verdict counts: one Spark
    aggregation counts the patients per distinct answer of a trial (alive, outcomes,
    verdict: a few hundred per trial, however large the panel), and ``Tally`` counts those
    answers into funnels as it counts the in-process matrices. Also the number of patients
    screened."""
    counted = ok.groupBy("trial", "alive", "outcomes", "verdict").count().collect()
    shapes = [TrialShape.of(t) for t in trials]
    tally = Tally(shapes)
    by_trial: dict[int, list[tuple[int, Sequence[int], int, int]]] = {}
    for row in counted:
        answer = (row["alive"], row["outcomes"], row["verdict"], row["count"])
        by_trial.setdefault(row["trial"], []).append(answer)
    for index, shape in enumerate(shapes):
        tally.answers(shape, by_trial.get(index, ()))
    funnels = tally.attrition()
    return funnels, funnels[0].screened if funnels else 0


def _missing(ok: DataFrame) -> list[MissingFact]:
    """Per missing fact the patients it would help decide and the patient-trial pairs, ranked as
    ``Tally.missing`` ranks them."""
    rows = (
        ok.select("patient", fn.explode("missing").alias("fact"))
        .groupBy("fact")
        .agg(fn.count("*").alias("pairs"), fn.countDistinct("patient").alias("patients"))
        .collect()
    )
    ranked = sorted(rows, key=lambda r: (-r["patients"], r["fact"]))
    return [MissingFact(r["fact"], r["patients"], r["pairs"]) for r in ranked]


def write_folder(result: SparkScreen, out: Path, fmt: str) -> None:
    """Write the tables of ``matcher screen`` into ``out``, rows in its order (patients in
    reading order, trials and criteria in file order): one sort of the patient-trial rows,
    streamed through the driver a partition at a time."""
    files = FileSink(out, fmt)
    for item in result.errors:
        files.error(item)
    with _stage("writing"):
        _write_rows(files, result)
    files.close(result.summary, result.attrition, result.missing)


def _write_rows(files: FileSink, result: SparkScreen) -> None:
    shapes = result._shapes
    rows = result._ok.orderBy("patient", "trial").toLocalIterator(prefetchPartitions=True)
    for row in rows:
        patient, shape = row["patient"], shapes[row["trial"]]
        verdict = (
            patient,
            shape.id,
            VERDICT_NAMES[row["verdict"]],
            row["score"],
            row["eligible_from"],
        )
        criteria = [
            (patient, shape.id, criterion, kind, OUTCOME_NAMES[code])
            for (criterion, kind), code in zip(shape.criteria, row["outcomes"], strict=True)
        ]
        files.rows((verdict,), criteria)


def screen_folder(
    inputs: Sequence[Path],
    out: Path,
    trials: Sequence[CompiledTrial],
    *,
    as_of: date,
    fmt: str = "csv",
    master: str = "local[2]",
    engine: str | None = None,
    without: Sequence[str] = (),
) -> ScreenSummary:
    """``matcher screen --engine spark``: screen on a Spark session of ``master`` and write the
    tables into ``out``. The trials are already switched off as ``without`` says."""
    running = SparkSession.getActiveSession()
    spark = running or session(master)
    try:
        result = screen(inputs, trials, as_of=as_of, spark=spark, engine=engine)
        write_folder(result, out, fmt)
        result.release()
    finally:
        if running is None:  # a session the caller started is the caller's to stop
            spark.stop()
    summary = result.summary
    return replace(summary, without=tuple(without))


# --- on the executors ---------------------------------------------------------------------------


def _classify_blocks(
    first: dict[tuple[int, int], int],
    names: Sequence[str],
    clock: Any,
    batches: Iterator[pa.RecordBatch],
) -> Iterator[pa.RecordBatch]:
    """A partition's lines (bytes, file, block start) as ``_LINES`` rows. The rows of a block
    come in file order, so a line's number is the block's first number plus its place."""
    spent = 0.0
    seen: dict[tuple[int, int], int] = {}
    for batch in batches:
        started = time.perf_counter()
        out: list[tuple[Any, ...]] = []
        raws = batch.column(0).to_pylist()
        files = batch.column(1).to_pylist()
        starts = batch.column(2).to_pylist()
        for raw, index, start in zip(raws, files, starts, strict=True):
            block = (index, start)
            place = seen.get(block, 0)
            seen[block] = place + 1
            out.extend(_classify(index, names[index], (raw, first[block] + place - 1)))
        made = _record_batch(out, _LINES_ARROW)
        spent += time.perf_counter() - started
        yield made
    clock.add(spent)


def _classify(index: int, name: str, numbered: tuple[bytes, int]) -> Iterator[tuple[Any, ...]]:
    """One NDJSON line as a row of ``_LINES`` (none for a blank line)."""
    raw, position = numbered
    number = position + 1
    try:
        text = line_text(raw, f"{name}:{number}")
    except MatcherError as exc:
        (problem, *_) = exc.diagnostics if isinstance(exc, InputError) else (None,)
        message = problem.message if problem is not None else "not UTF-8"
        yield ("", "bad", message, problem.column if problem else 1, index, number, None, None)
        return
    if text is None:
        return
    line = classify(text)
    keep = line.role in {"patient", "record", "medication"}
    refs = list(medication_refs(text)) if '"medicationReference"' in text else None
    yield (line.type, line.role, line.key, line.column, index, number, text if keep else None, refs)


def _evaluate(
    payload: Any, clock: tuple[Any, Any, Any], batches: Iterator[pa.RecordBatch]
) -> Iterator[pa.RecordBatch]:
    """A partition of patient groups through the batch step of ``matcher screen``."""
    trials, as_of, engine, names, unreviewed = payload.value
    context = BatchContext(get_batch_engine(engine), trials, as_of)
    size = getattr(context.engine, "batch_size", _BATCH)  # as matcher.panel.screen.run_screen
    spent = [0.0, 0.0, 0.0]
    for batch in batches:
        started = time.perf_counter()
        groups = batch.to_pylist()
        spent[0] += time.perf_counter() - started
        for start in range(0, len(groups), size):
            started = time.perf_counter()
            chunk = [_raw(g, names, unreviewed) for g in groups[start : start + size]]
            mid = time.perf_counter()
            errors, matrix = evaluate_batch(context, chunk)
            done = time.perf_counter()
            spent[0] += mid - started
            spent[1] += done - mid
            made = _batches(errors, matrix)
            spent[2] += time.perf_counter() - done
            yield from made
    for accumulator, seconds in zip(clock, spent, strict=True):
        accumulator.add(seconds)


def _batches(errors: Sequence[PanelItem], matrix: OutcomeMatrix | None) -> list[pa.RecordBatch]:
    """A batch's answers as ``_ARROW`` batches: one of error rows, then one per trial (its
    column of patients), built column by column."""
    made: list[pa.RecordBatch] = []
    if errors:
        made.append(_record_batch([_error_row(item) for item in errors], _ARROW))
    if matrix is None:
        return made
    count = len(matrix.patients)
    patients = pa.array(matrix.patients, pa.string())
    alive = pa.array(matrix.alive, pa.int32())
    none = pa.nulls(count, pa.string())
    for index, column in enumerate(matrix.trials):
        made.append(
            pa.RecordBatch.from_arrays(
                [
                    patients,
                    pa.repeat(pa.scalar(index, pa.int32()), count),
                    pa.array(column.verdict, pa.int32()),
                    pa.array(column.score, pa.float64()),
                    pa.array(column.eligible_from, pa.date32()),
                    alive,
                    pa.array(column.outcomes, pa.list_(pa.int32())),
                    pa.array(column.missing, pa.list_(pa.string())),
                    none,
                ],
                schema=_ARROW,
            )
        )
    return made


def _record_batch(rows: Sequence[tuple[Any, ...]], schema: pa.Schema) -> pa.RecordBatch:
    columns: list[list[Any]] = [[] for _ in schema]
    for row in rows:
        for column, value in zip(columns, row, strict=True):
            column.append(value)
    arrays = [pa.array(c, type=f.type) for c, f in zip(columns, schema, strict=True)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _guarded(
    stage: str, step: Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """``step`` for ``mapInArrow``, with its failures stripped of their text: an exception in a
    Python worker reaches the driver as its message and traceback, and the message of a
    failure deep in the reading or the engine can quote a record. What reaches the driver
    names the stage and the exception's type only (``_action`` turns it into an
    ``EngineError``); the patients' own errors are error rows before this."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        try:
            yield from step(batches)
        except Exception as exc:
            raise RuntimeError(f"{_FAILED} {stage}: {type(exc).__name__}") from None

    return run


def _raw(group: dict[str, Any], names: Sequence[str], unreviewed: tuple[str, ...]) -> RawPatient:
    """A patient's rows as the in-process reader groups them: the Patient first, then records in
    file and line order; referenced medications by reference."""
    lines = sorted(group["lines"], key=lambda r: (-r["p"], r["file"], r["line"]))
    meds = sorted(group["meds"] or (), key=lambda m: m["ref"])
    return RawPatient(
        group["subject"],
        tuple((names[r["file"]], r["line"], r["body"]) for r in lines),
        tuple((m["ref"], names[m["file"]], m["line"], m["body"]) for m in meds),
        unreviewed,
        bool(lines) and lines[0]["p"] == 1,
    )


def _error_row(item: PanelItem) -> tuple[Any, ...]:
    text = json.dumps(error_record(item), ensure_ascii=False)
    return (item.key, None, None, None, None, None, None, None, text)


def _error_item(text: str) -> PanelItem:
    record = json.loads(text)
    problems = tuple(Diagnostic(**d) for d in record["diagnostics"])
    return PanelItem(record["patient"], None, problems, record["source"])


# --- on the driver ------------------------------------------------------------------------------


@contextmanager
def _stage(name: str) -> Iterator[None]:
    """Run Spark actions of the stage ``name``; a failure becomes an ``EngineError`` that names
    the stage (and, for a Python worker, its step and the exception's type), never the text of
    Spark's error, which can hold a worker's traceback and the data it was reading."""
    try:
        yield
    except (PySparkException, Py4JError) as exc:
        worker = re.search(re.escape(_FAILED) + r" ([a-z ]+): (\w+)", str(exc))
        where = (
            f"a Python worker raised {worker[2]} in the {worker[1]} step"
            if worker
            else type(exc).__name__
        )
        raise EngineError(f"the Spark job failed during {name} ({where})") from None


def _bulk_files(paths: Sequence[Path]) -> list[Path]:
    """The NDJSON files of the inputs: export folders (the manifest's files, or every
    ``<Type>.<n>.ndjson``) and NDJSON files. Spark reads Bulk exports only."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = export_files(path)
            if not found:
                raise _not_bulk(path)
            files.extend(found)
        elif path.is_file() and path.suffix == ".ndjson":
            files.append(path)
        elif path.exists():
            raise _not_bulk(path)
        else:
            raise InputError(Diagnostic("file-unreadable", "no such file or folder", str(path)))
    return files


def _not_bulk(path: Path) -> EngineError:
    return EngineError(
        f"{path}: the spark engine reads FHIR Bulk exports (NDJSON); screen patient files and "
        "JSON Lines profiles with the in-process engines"
    )
