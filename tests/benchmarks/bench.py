"""Benchmarks: the python engine against the durable-rules engine and against a hand-written floor.

Run from the repository root (it prints a table; nothing is asserted):

    python tests/benchmarks/bench.py            # the full run: 1,000 trials, 10,000 patients
    python tests/benchmarks/bench.py --quick    # a smaller run for a first look

What it measures, on the same generated data (see synthetic.py):

1. the python engine: one patient against the 1,000-trial catalog (median and p99 latency), and
   throughput in patient-trial evaluations per second, in one process and in one process per core;
   explanations on demand on the same patients: every trial explained, the top 10, none (ranked
   verdicts and scores), and the verdict-only floor of verdict_floor.py, interleaved per patient;
2. the durable-rules engine on the same work (fewer patients: it is much slower);
3. a hand-written Python function for NCT06414356's rules on the same patients, the floor any
   engine pays in Python, and the engine's cost as a ratio to it;
4. `matcher check` cold start on one patient against the catalog (wall time of the whole
   process), and reading a 1.7 MB Synthea FHIR bundle;
5. peak memory (maximum resident set size) of this process and of the worker processes.

Latencies are wall-clock times of `matcher.check` (fact building, leaves, criteria, ranking).
Absolute times drift on a shared machine; compare the ratios measured in one run.

After the set-up (catalog and patients built) the benchmark calls ``gc.freeze()``: it holds
10,000 patients of 60 records, millions of objects that a service would not hold, and without
the freeze every full (generation 2) collection the checks trigger walks all of them (about a
second each on this machine: that was the p99). The checks themselves still allocate and are
collected as usual; only the set-up's objects are left out of the collector's walks.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import matcher  # noqa: E402
from matcher.core.errors import EngineError  # noqa: E402
from tests.benchmarks.handwritten import nct06414356  # noqa: E402
from tests.benchmarks.report import print_measures  # noqa: E402
from tests.benchmarks.synthetic import AS_OF, patients, write_catalog  # noqa: E402
from tests.benchmarks.verdict_floor import verdicts  # noqa: E402

#: Set in the parent before the worker processes fork, so that they share the data.
_SHARED: dict[str, object] = {}


def _timed(function: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return times


def _latencies(
    people: Sequence[matcher.Patient], trials: matcher.Catalog, engine: str
) -> list[float]:
    out = []
    for patient in people:
        start = time.perf_counter()
        matcher.check(patient, trials, as_of=AS_OF, engine=engine)
        out.append(time.perf_counter() - start)
    return out


def _on_demand(
    people: Sequence[matcher.Patient], trials: matcher.Catalog
) -> tuple[dict[str, list[float]], int]:
    """Per patient, interleaved (so that drift hits every variant alike): a check with every
    explanation, with the top 10, with none, and the verdict-only floor. Also how many patients'
    floor verdicts equal the engine's."""
    times: dict[str, list[float]] = {"all": [], "top 10": [], "none": [], "floor": []}
    agree = 0
    for patient in people:
        for name, explain in (("all", "all"), ("top 10", 10), ("none", "none")):
            start = time.perf_counter()
            result = matcher.check(patient, trials, as_of=AS_OF, explain=explain)  # type: ignore[arg-type]
            times[name].append(time.perf_counter() - start)
        start = time.perf_counter()
        floor = verdicts(patient, trials.trials, AS_OF)
        times["floor"].append(time.perf_counter() - start)
        agree += floor == {t.trial: t.verdict.value for t in result.trials}
    return times, agree


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _work(chunk: tuple[int, int]) -> tuple[int, int]:
    """Check patients ``range(*chunk)`` of the shared population; return (patients, max RSS)."""
    catalog = _SHARED["catalog"]
    people = _SHARED["people"]
    assert isinstance(catalog, matcher.Catalog) and isinstance(people, list)
    for patient in people[chunk[0] : chunk[1]]:
        matcher.check(patient, catalog, as_of=AS_OF)
    return chunk[1] - chunk[0], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _cold_start(repeat: int) -> list[float]:
    command = [
        str(Path(sys.executable).parent / "matcher"),
        "check",
        "tests/data/patients/veteran.yaml",
        "--as-of",
        "2026-11-21",
    ]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run")
    args = parser.parse_args(argv)
    trial_count = 200 if args.quick else 1000
    patient_count = 1000 if args.quick else 10_000
    latency_sample = 100 if args.quick else 300
    durable_sample = 5 if args.quick else 20
    rows: list[tuple[str, str]] = []

    def row(name: str, value: str) -> None:
        rows.append((name, value))
        print(f"  {name:<58} {value}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "catalog"
        started = time.perf_counter()
        write_catalog(folder, trial_count)
        start = time.perf_counter()
        catalog = matcher.load_trials(folder)
        row(
            "synthetic catalog: trials / distinct criteria / leaves",
            f"{len(catalog)} / {len(catalog.criteria)} / "
            f"{len({leaf.key for t in catalog for leaf in t.leaves})}",
        )
        row("load and compile the synthetic catalog", f"{time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        people = patients(patient_count)
        records = statistics.mean(
            len(p.conditions) + len(p.medications) + len(p.observations) for p in people
        )
        row(
            "generate patients / mean records per patient",
            f"{len(people)} in {time.perf_counter() - start:.1f} s / {records:.0f}",
        )
        gc.collect()
        gc.freeze()  # the set-up's objects stay out of the collector's walks (see the docstring)

        # 1. python engine, one patient against the catalog
        sample = people[:latency_sample]
        _latencies(sample[:10], catalog, "python")  # warm up
        python_lat = _latencies(sample, catalog, "python")
        row(
            f"python: 1 patient x {trial_count} trials, median",
            f"{statistics.median(python_lat) * 1000:.1f} ms",
        )
        row(
            f"python: 1 patient x {trial_count} trials, p99",
            f"{_p(python_lat, 0.99) * 1000:.1f} ms",
        )

        # explanations on demand, and the verdict-only floor, on the same patients
        _on_demand(sample[:10], catalog)  # warm up
        demand, agree = _on_demand(sample, catalog)
        median = {name: statistics.median(values) for name, values in demand.items()}
        for name, label in (
            ("all", "every trial explained"),
            ("top 10", "the top 10 explained"),
            ("none", "ranked verdicts and scores only"),
        ):
            row(f"python, {label}, median", f"{median[name] * 1000:.1f} ms")
        row("verdict-only floor (verdict_floor.py), median", f"{median['floor'] * 1000:.1f} ms")
        row(
            "ranked verdicts and scores / verdict-only floor",
            f"{median['none'] / median['floor']:.2f}x",
        )
        row(
            "every trial explained / ranked verdicts and scores",
            f"{median['all'] / median['none']:.2f}x",
        )
        row("verdict-only floor agrees with the engine", f"{agree} of {len(sample)} patients")

        # throughput, one process
        start = time.perf_counter()
        for patient in people:
            matcher.check(patient, catalog, as_of=AS_OF)
        single = time.perf_counter() - start
        single_rate = len(people) * trial_count / single
        row("python: throughput, 1 process", f"{single_rate:,.0f} patient-trials/s")

        # throughput, one process per core
        cores = os.cpu_count() or 1
        bounds = [(i * len(people) // cores, (i + 1) * len(people) // cores) for i in range(cores)]
        context = multiprocessing.get_context("fork")
        _SHARED.update(catalog=catalog, people=people)
        with context.Pool(cores) as pool:
            pool.map(_work, [(0, 1)] * cores)  # start the workers
            start = time.perf_counter()
            done = pool.map(_work, bounds)
            multi = time.perf_counter() - start
        multi_rate = sum(n for n, _ in done) * trial_count / multi
        row(
            f"python: throughput, {cores} processes",
            f"{multi_rate:,.0f} patient-trials/s ({multi_rate / single_rate:.2f}x)",
        )
        worker_rss = max(rss for _, rss in done)

        # 2. durable-rules engine on the same work
        try:
            matcher.check(people[0], catalog, as_of=AS_OF, engine="durable")
        except EngineError as exc:
            row("durable: not available", str(exc))
        else:
            durable_lat = _latencies(people[:durable_sample], catalog, "durable")
            python_same = _latencies(people[:durable_sample], catalog, "python")
            ratio = statistics.median(durable_lat) / statistics.median(python_same)
            row(
                f"durable: 1 patient x {trial_count} trials, median ({durable_sample} patients)",
                f"{statistics.median(durable_lat) * 1000:.1f} ms",
            )
            row("durable / python, same patients", f"{ratio:.1f}x")

        # 3. hand-written floor for NCT06414356
        real = matcher.load_trials()
        trial = real.get("NCT06414356")
        assert trial is not None
        one = [trial]
        floor_people = people[: min(len(people), 2000)]
        engine_one = _timed(lambda: [matcher.check(p, one, as_of=AS_OF) for p in floor_people], 3)
        floor = _timed(lambda: [nct06414356(p, AS_OF) for p in floor_people], 3)
        engine_per = min(engine_one) / len(floor_people)
        floor_per = min(floor) / len(floor_people)
        row("python engine, NCT06414356 only, per patient", f"{engine_per * 1e6:.1f} us")
        row("hand-written NCT06414356, per patient", f"{floor_per * 1e6:.1f} us")
        row("engine / hand-written", f"{engine_per / floor_per:.1f}x")
        agree = sum(
            matcher.check(p, one, as_of=AS_OF).trials[0].verdict.value == nct06414356(p, AS_OF)
            for p in floor_people
        )
        row("hand-written verdict agrees with the engine", f"{agree} of {len(floor_people)}")

    # 4. cold start and FHIR
    cold = _cold_start(7 if args.quick else 15)
    row("`matcher check` cold start (whole process), median", f"{statistics.median(cold):.2f} s")
    bundle = next((ROOT / "tests/data/fhir/synthea").glob("Jessi_Parisian_*.json"))
    fhir = _timed(lambda: matcher.load_patient(bundle), 20)
    row(
        f"read a {bundle.stat().st_size / 1e6:.1f} MB FHIR bundle, median",
        f"{statistics.median(fhir) * 1000:.0f} ms",
    )

    # 5. memory
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row(
        "peak memory (max RSS): this process / one worker",
        f"{own:.0f} MB / {worker_rss / 1024:.0f} MB",
    )
    del started

    print(
        f"\nmatcher benchmark, {date.today()}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores{' (quick run)' if args.quick else ''}\n"
    )
    print_measures(rows)


if __name__ == "__main__":
    main()
