"""Panel screening benchmark: prints a table against the targets of issue 16.

``python tests/benchmarks/panel_bench.py [--sizes 1000 10000] [--row-sizes 1000] [--trials 50]
[--workers 2]``

For each size it generates a synthetic Bulk export (``bulk_export.py``) and uses a synthetic
catalog (``synthetic.py``, varied from the real trials); then, per engine (the row engine only
at ``--row-sizes``), one row of the table:

- ingest: reading the export into what the engine takes, in this process: grouping by patient
  on disk, then mapping with ``matcher.patient.fhir`` (row) or reading plain records straight
  into fact columns, batch by batch (columnar, ``matcher.panel.columnar.columns_of_raw``);
- evaluate: the engine with its input in hand, one process, and patient-trials per second
  (for the columnar engine this includes the patient-trials it leaves to the row engine, and
  making the ``Patient`` objects those need); a second table splits the columnar run into its
  stages (group, parse into columns, evaluate in columns, row-engine fallbacks, write the CSV
  tables, count the attrition);
- ``matcher screen`` end to end, as a subprocess (NDJSON in, every table and the report out,
  ``--workers``), wall time and peak memory (max RSS of the waited children: the largest one);
- for the columnar engine, how many patient-trials it left to the row engine.

Loading the same NDJSON with duckdb and pyarrow (the candidates for a direct ingest) is timed
too, when they are installed.

Run it on a quiet machine; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bulk_export
import synthetic

import matcher
from matcher.evaluation.batch import RowEngine
from matcher.panel.reading import read_panel

AS_OF = date(2026, 11, 21)
MATCHER = str(Path(sys.executable).parent / "matcher")


#: Runs a command and prints the peak RSS (KB) of its processes. A child forked from this
#: benchmark would count the benchmark's own memory in its peak (the pages it had when forked,
#: before exec), so ``matcher screen`` is started from this small process instead.
_PEAK = (
    "import resource, subprocess, sys; "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(code)"
)


def _screen(
    export: Path, out: Path, criteria: Path, workers: int, engine: str
) -> tuple[float, float]:
    command = [MATCHER, "screen", str(export), "--out", str(out), "--criteria", str(criteria)]
    command += ["--as-of", AS_OF.isoformat(), "--workers", str(workers), "--engine", engine]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(done.stderr)
    return wall, int(done.stdout.split()[-1]) / 1024


def _read(export: Path) -> tuple[float, list[matcher.Patient]]:
    started = time.perf_counter()
    patients = [i.patient for i in read_panel(export).items() if i.patient is not None]
    return time.perf_counter() - started, patients


def _duckdb(export: Path) -> float | None:
    try:
        import duckdb
    except ImportError:
        return None
    started = time.perf_counter()
    con = duckdb.connect()
    for name in ("Condition", "MedicationRequest", "Observation"):
        con.execute(
            f"SELECT subject.reference AS s, count(*) FROM read_json('{export}/{name}.000.ndjson',"
            " format='newline_delimited') GROUP BY s"
        ).fetchall()
    return time.perf_counter() - started


def _pyarrow(export: Path) -> float | None:
    try:
        import pyarrow.json as pj
    except ImportError:
        return None
    started = time.perf_counter()
    for name in ("Condition", "MedicationRequest", "Observation"):
        table = pj.read_json(export / f"{name}.000.ndjson")
        subject = table.column("subject").combine_chunks().field("reference")
        table.append_column("s", subject).group_by("s").aggregate([])
    return time.perf_counter() - started


def _measure(
    engine: str, export: Path, trials: list[matcher.CompiledTrial]
) -> tuple[float, float, str]:
    """(ingest s, evaluate s, what the columnar engine left to rows) in this process."""
    started = time.perf_counter()
    if engine == "row":
        _, patients = _read(export)
        ingest = time.perf_counter() - started
        started = time.perf_counter()
        RowEngine().evaluate(patients, trials, AS_OF)
        return ingest, time.perf_counter() - started, ""
    # The columnar engine reads plain Bulk records straight into fact columns
    # (matcher.panel.columnar.columns_of_raw), in batches as ``matcher screen`` does.
    from matcher.evaluation import batch
    from matcher.panel.attrition import Tally
    from matcher.panel.columnar import ColumnarEngine, columns_of_raw
    from matcher.panel.reading import RawPatient
    from matcher.panel.screen import FileSink, ScreenSummary, shapes

    raws = [r for r in read_panel(export).raw() if isinstance(r, RawPatient)]
    grouped = time.perf_counter() - started
    size = ColumnarEngine.batch_size
    batches = [columns_of_raw(raws[i : i + size], AS_OF).columns for i in range(0, len(raws), size)]
    ingest = time.perf_counter() - started
    columnar = ColumnarEngine()
    # The time the columnar engine spends in the row engine (its fallbacks), measured by
    # wrapping RowEngine.evaluate for this run only.
    inner = batch.RowEngine.evaluate
    fallback = 0.0

    def timed(self: batch.RowEngine, *args: Any) -> batch.OutcomeMatrix:
        nonlocal fallback
        begun = time.perf_counter()
        try:
            return inner(self, *args)
        finally:
            fallback += time.perf_counter() - begun

    batch.RowEngine.evaluate = timed  # type: ignore[method-assign,assignment]
    matrices = []
    try:
        started = time.perf_counter()
        for columns in batches:
            assert columns is not None
            matrices.append(columnar.evaluate_columns(columns, trials))
        took = time.perf_counter() - started
    finally:
        batch.RowEngine.evaluate = inner  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory(prefix="panel-bench-out-") as out:
        sink, tally = FileSink(Path(out), "csv"), Tally(shapes(trials))
        started = time.perf_counter()
        for matrix in matrices:
            sink.matrix(matrix)
        written = time.perf_counter() - started
        started = time.perf_counter()
        for matrix in matrices:
            tally.matrix(matrix)
        counted = time.perf_counter() - started
        sink.close(ScreenSummary(AS_OF, "columnar", (), (), 0, 0), [], [])
    stats = columnar.stats
    pairs = len(raws) * len(trials)
    left = f"{stats.row_pairs:,} ({100 * stats.row_pairs / pairs:.1f}%, {stats.row_dated:,} dated)"
    STAGES.append(
        (
            f"{len(raws):,}",
            f"{grouped:.1f}",
            f"{ingest - grouped:.1f}",
            f"{took - fallback:.1f}",
            f"{fallback:.1f}",
            f"{written:.1f}",
            f"{counted:.1f}",
            f"{pairs / (took - fallback):,.0f}",
        )
    )
    return ingest, took, left


#: Per size, where the columnar run's time goes (one process), for the second table.
STAGES: list[tuple[str, ...]] = []


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description="panel screening benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--row-sizes", type=int, nargs="*", default=[1000])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    rows: list[tuple[str, ...]] = []
    loads: list[str] = []
    per_patient: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="panel-bench-") as tmp:
        root = Path(tmp)
        criteria = synthetic.write_catalog(root / "catalog", args.trials)
        trials = list(matcher.load_trials(criteria).trials)
        for size in args.sizes:
            export = root / f"export-{size}"
            started = time.perf_counter()
            counts = bulk_export.generate(export, size)
            made = time.perf_counter() - started
            loads.append(
                f"{size:,} patients: export of {sum(counts.values()):,} lines in {made:.1f} s"
            )
            for name, measure in (("duckdb", _duckdb), ("pyarrow", _pyarrow)):
                took = measure(export)
                if took is not None:
                    loads.append(f"{size:,}: the NDJSON into columns with {name}: {took:.2f} s")
            for engine in ("columnar", "row"):
                if engine == "row" and size not in args.row_sizes:
                    continue
                ingest, evaluate, left = _measure(engine, export, trials)
                wall, peak = _screen(export, root / f"out-{size}", criteria, args.workers, engine)
                if engine == "columnar":
                    per_patient[size] = wall / size
                pairs = size * len(trials)
                rows.append(
                    (
                        engine,
                        f"{size:,}",
                        str(len(trials)),
                        f"{ingest:.1f}",
                        f"{evaluate:.2f}",
                        f"{pairs / evaluate:,.0f}",
                        f"{peak:.0f} MB",
                        f"{wall:.1f}",
                        left,
                    )
                )
    load = os.getloadavg()
    print(
        f"panel benchmark, {date.today()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
        f"end to end with --workers {args.workers}:\n"
    )
    header = (
        "engine",
        "patients",
        "trials",
        "ingest s",
        "evaluate s",
        "patient-trials/s per core",
        "peak RSS",
        "end-to-end s",
        "left to the row engine",
    )
    _table(header, rows)
    print("where the columnar run's time goes, one process (seconds):\n")
    _table(
        (
            "patients",
            "group (SQLite)",
            "parse into columns",
            "evaluate in columns",
            "row-engine fallbacks",
            "write CSV",
            "attrition",
            "columns-only patient-trials/s",
        ),
        STAGES,
    )
    for line in loads:
        print(f"- {line}")
    if len(per_patient) > 1:
        small, large = min(per_patient), max(per_patient)
        ratio = per_patient[large] / per_patient[small]
        print(
            f"- linearity (columnar, end to end): time per patient at {large:,} / {small:,}: "
            f"{ratio:.2f}x"
        )


if __name__ == "__main__":
    main()
