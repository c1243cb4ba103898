"""Panel screening benchmark: prints a table against the targets of issue 16.

``python tests/benchmarks/panel_bench.py [--sizes 1000 10000] [--trials 50] [--workers 2]``

For each size it generates a synthetic Bulk export (``bulk_export.py``) and a synthetic catalog
(``synthetic.py``, varied from the real trials), then measures:

- ``matcher screen`` end to end, as a subprocess (NDJSON in, every table and the report out),
  wall time and peak memory (the largest process: max RSS of the waited children);
- evaluation with the patients in hand (the row engine, one process), in patient-trials/s;
- reading alone: grouping by patient on disk and mapping with ``matcher.patient.fhir``, against
loading
  the same NDJSON into columns with duckdb and with pyarrow (the candidates for a columnar
  ingest), when they are installed.

Run it on a quiet machine; the load average is printed with the table.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bulk_export
import synthetic

import matcher
from matcher.evaluation.batch import RowEngine
from matcher.panel.reading import read_panel

AS_OF = date(2026, 11, 21)
MATCHER = str(Path(sys.executable).parent / "matcher")


def _screen(export: Path, out: Path, criteria: Path, workers: int) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [
            MATCHER,
            "screen",
            str(export),
            "--out",
            str(out),
            "--criteria",
            str(criteria),
            "--as-of",
            AS_OF.isoformat(),
            "--workers",
            str(workers),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):
        raise SystemExit(done.stderr)
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return wall, peak


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


def main() -> None:
    parser = argparse.ArgumentParser(description="panel screening benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--evaluate", type=int, default=1000, help="patients for evaluation")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="panel-bench-") as tmp:
        root = Path(tmp)
        criteria = synthetic.write_catalog(root / "catalog", args.trials)
        trials = matcher.load_trials(criteria)
        per_patient: dict[int, float] = {}
        for size in args.sizes:
            export = root / f"export-{size}"
            started = time.perf_counter()
            counts = bulk_export.generate(export, size)
            made = time.perf_counter() - started
            records = sum(counts.values())
            rows.append(
                (f"{size:,} patients: generate export ({records:,} lines)", f"{made:.1f} s")
            )
            wall, peak = _screen(export, root / f"out-{size}", criteria, args.workers)
            per_patient[size] = wall / size
            rows.append(
                (
                    f"{size:,} x {len(trials)} trials: `matcher screen` end to end, "
                    f"{args.workers} workers",
                    f"{wall:.1f} s ({size * len(trials) / wall:,.0f} patient-trials/s)",
                )
            )
            rows.append((f"{size:,}: peak memory (largest process)", f"{peak:.0f} MB"))
            read, patients = _read(export)
            rows.append(
                (
                    f"{size:,}: read (group on disk + matcher.patient.fhir), 1 process",
                    f"{read:.1f} s",
                )
            )
            for name, measure in (("duckdb", _duckdb), ("pyarrow", _pyarrow)):
                took = measure(export)
                if took is not None:
                    rows.append(
                        (f"{size:,}: load the NDJSON into columns with {name}", f"{took:.2f} s")
                    )
            if size == args.sizes[0]:
                sample = patients[: args.evaluate]
                started = time.perf_counter()
                RowEngine().evaluate(sample, trials.trials, AS_OF)
                took = time.perf_counter() - started
                rows.append(
                    (
                        f"evaluate {len(sample):,} patients x {len(trials)} trials in hand, "
                        "row engine, 1 process",
                        f"{len(sample) * len(trials) / took:,.0f} patient-trials/s",
                    )
                )
        if len(args.sizes) > 1:
            small, large = args.sizes[0], args.sizes[-1]
            rows.append(
                (
                    f"linearity: time per patient, {large:,} / {small:,}",
                    f"{per_patient[large] / per_patient[small]:.2f}x",
                )
            )
    load = os.getloadavg()
    print(
        f"panel benchmark, {date.today()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}:\n"
    )
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name.ljust(width)} | {value} |")


if __name__ == "__main__":
    main()
