"""Spark scale-out benchmark (issue 17): prints a table of local[1], local[2] and in process.

``python tests/benchmarks/spark_bench.py [--sizes 10000 100000 | --export DIR...] [--trials 50]
[--masters 'local[1]' 'local[2]'] [--no-write] [--no-in-process]``

On a shared machine run it alone (for example under ``flock``). For each size it generates a
synthetic Bulk export (``bulk_export.py``) and uses one synthetic catalog (``synthetic.py``,
the one ``panel_bench.py`` uses); then each configuration runs in a child process of its own, so
that memory and start-up are its own:

- ``in process``: ``run_screen`` with the columnar engine on one core (``--workers 1``), the
  attrition and missing facts tallied, no tables written: what a Spark core is compared with;
- ``local[N]``: the session start, then ``matcher.spark.screen`` (reading, grouping, the batch
  engine in the Python workers, the attrition and missing facts by Spark aggregation), then
  ``write_parquet`` (verdicts and the long criterion table as Parquet, from the executors).
  The phases of the screen (``SparkScreen.profile``) are printed below the table.

Throughput is patient-trials per second of the screen (start-up and writing apart); per core
divides it by the cores. Peak memory is sampled from ``/proc`` every 0.2 s: the driver's Python,
the JVM (driver and, in local mode, the executor), and the Python workers together.
"""

from __future__ import annotations

import argparse
import json
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

AS_OF = date(2026, 11, 21)
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _child(kind: str, export: Path, catalog: Path, out: Path, write: bool) -> dict[str, Any]:
    """One configuration, in this (child) process; its timings."""
    import matcher

    trials = list(matcher.load_trials(catalog).trials)
    if kind == "in process":
        from matcher.panel.attrition import Tally
        from matcher.panel.reading import read_panel
        from matcher.panel.screen import get_batch_engine, run_screen, shapes

        started = time.perf_counter()
        tally = Tally(shapes(trials))
        summary = run_screen(
            read_panel(export),
            trials,
            as_of=AS_OF,
            engine=get_batch_engine("columnar"),
            sinks=[tally],
        )
        tally.attrition()
        tally.missing()
        return {"patients": summary.patients, "screen": time.perf_counter() - started}
    import matcher.spark

    started = time.perf_counter()
    spark = matcher.spark.session(kind)
    session = time.perf_counter() - started
    started = time.perf_counter()
    result = matcher.spark.screen(export, trials, as_of=AS_OF, spark=spark)
    took = time.perf_counter() - started
    written = None
    if write:
        started = time.perf_counter()
        result.write_parquet(out)
        written = time.perf_counter() - started
    result.release()
    spark.stop()
    return {
        "patients": result.summary.patients,
        "session": session,
        "screen": took,
        "write": written,
        "profile": result.profile,
    }


def _tree(root: int) -> dict[int, tuple[int, str]]:
    """The processes under ``root`` (and itself): pid -> (ppid, command line)."""
    found: dict[int, tuple[int, str]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        found[int(entry)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    inside = {root}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, _) in found.items():
            if ppid in inside and pid not in inside:
                inside.add(pid)
                grew = True
    return {pid: found[pid] for pid in inside if pid in found}


def _rss(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError):
        return 0


def _run(kind: str, export: Path, catalog: Path, out: Path, write: bool) -> dict[str, Any]:
    """Run one configuration as a child process and sample its memory until it ends."""
    command = [sys.executable, __file__, "--child", kind, str(export), str(catalog), str(out)]
    if not write:
        command.append("--no-write")
    with tempfile.TemporaryFile("w+") as errors:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        peaks = {"driver": 0, "jvm": 0, "workers": 0}
        while child.poll() is None:
            now = {"driver": 0, "jvm": 0, "workers": 0}
            for pid, (_, cmd) in _tree(child.pid).items():
                rss = _rss(pid)
                if pid == child.pid:
                    now["driver"] += rss
                elif "java" in cmd.split(" ", 1)[0]:
                    now["jvm"] += rss
                elif "pyspark" in cmd:
                    now["workers"] += rss
            for name, value in now.items():
                peaks[name] = max(peaks[name], value)
            time.sleep(0.2)
        output = child.stdout.read() if child.stdout else ""
        if child.returncode != 0:  # synthetic data: the child's last words may be shown
            errors.seek(0)
            said = [line for line in errors.read().splitlines() if line.strip()]
            # Spark's own cause (e.g. java.lang.OutOfMemoryError) is logged well above the
            # Python traceback's last lines: show the first Java error too.
            java = [line for line in said if "Error" in line and line.startswith("java.")][:1]
            last = java + [line for line in said[-3:] if line not in java]
            raise SystemExit(f"{kind} failed (exit {child.returncode}): " + " | ".join(last))
    found: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return {**found, "peaks": peaks}


def _mb(value: int) -> str:
    return f"{value / 2**20:,.0f} MB" if value else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description="Spark scale-out benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--masters", nargs="+", default=["local[1]", "local[2]"])
    parser.add_argument("--no-write", action="store_true", help="skip write_parquet")
    parser.add_argument(
        "--no-in-process", action="store_true", help="skip the in-process comparison"
    )
    parser.add_argument(
        "--export",
        type=Path,
        nargs="+",
        help="screen these exports (made by bulk_export.py) instead of generating --sizes",
    )
    parser.add_argument("--child", nargs=4, metavar=("KIND", "EXPORT", "CATALOG", "OUT"))
    args = parser.parse_args()
    if args.child:
        kind, export, catalog, out = args.child
        found = _child(kind, Path(export), Path(catalog), Path(out), not args.no_write)
        print(json.dumps(found))
        return
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="spark-bench-") as tmp:
        root = Path(tmp)
        catalog = synthetic.write_catalog(root / "catalog", args.trials)
        for size, given in _exports(args.export, args.sizes):
            export = given or root / f"export-{size}"
            if given is None:
                started = time.perf_counter()
                counts = bulk_export.generate(export, size)
                made = f", made in {time.perf_counter() - started:.1f} s"
            else:
                counts = _counts(export)
                made = f", {export}"
            notes.append(
                f"{size:,} patients: export of {sum(counts.values()):,} lines, "
                f"{sum(p.stat().st_size for p in export.iterdir()) / 2**20:,.0f} MB{made}"
            )
            pairs = size * args.trials
            base: dict[str, float] = {}
            kinds = [*([] if args.no_in_process else ["in process"]), *args.masters]
            for kind in kinds:
                found = _run(kind, export, catalog, root / "out", not args.no_write)
                cores = 1 if kind == "in process" else _cores(kind)
                rate = pairs / found["screen"]
                base[kind] = found["screen"]
                peaks = found["peaks"]
                rows.append(
                    (
                        kind,
                        f"{size:,}",
                        str(args.trials),
                        f"{found['session']:.1f}" if "session" in found else "-",
                        f"{found['screen']:.1f}",
                        f"{found['write']:.1f}" if found.get("write") is not None else "-",
                        f"{rate:,.0f}",
                        f"{rate / cores:,.0f}",
                        _mb(peaks["driver"]),
                        _mb(peaks["jvm"]),
                        _mb(peaks["workers"]),
                    )
                )
                if "profile" in found:
                    phases = ", ".join(f"{k} {v:.1f} s" for k, v in found["profile"].items())
                    notes.append(f"{size:,}, {kind}: {phases}")
            one, two = (base.get(m) for m in ("local[1]", "local[2]"))
            if one and two:
                notes.append(f"{size:,}: speed-up local[2] / local[1]: {one / two:.2f}x")
            if two and "in process" in base:
                notes.append(
                    f"{size:,}: local[2] per core / in process: "
                    f"{base['in process'] / (2 * two):.2f}"
                )
            if given is None:
                for path in export.iterdir():
                    path.unlink()
    load = os.getloadavg()
    print(
        f"spark benchmark, {date.today()}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}:\n"
    )
    header = (
        "engine",
        "patients",
        "trials",
        "session s",
        "screen s",
        "write s",
        "patient-trials/s",
        "per core",
        "driver peak",
        "JVM peak",
        "workers peak",
    )
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for line in [header, tuple("-" * w for w in widths), *rows]:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
    print()
    for note in notes:
        print(f"- {note}")


def _exports(given: list[Path] | None, sizes: list[int]) -> list[tuple[int, Path | None]]:
    """(patients, export) to screen: the given exports, or sizes to generate (export None)."""
    if not given:
        return [(size, None) for size in sizes]
    return [(_counts(path)["Patient"], path) for path in given]


def _counts(export: Path) -> dict[str, int]:
    """Lines per resource type, from the export's manifest."""
    manifest = json.loads((export / "manifest.json").read_text(encoding="utf-8"))
    return {entry["type"]: entry["count"] for entry in manifest["output"]}


def _cores(master: str) -> int:
    inside = master.partition("[")[2].rstrip("]")
    return os.cpu_count() or 1 if inside == "*" else int(inside or 1)


if __name__ == "__main__":
    main()
