"""Benchmark: one check against the synthetic 1,000-trial catalog, in several source trees.

Did a change make checks slower? Export the commits to compare, then run, from the repository
root (it prints a table; nothing is asserted):

    git archive <commit> | tar -x -C /tmp/before
    python tests/benchmarks/versions.py /tmp/before .

Each tree is measured in its own process, with its own ``matcher`` and the synthetic data of
its own ``tests/benchmarks/synthetic.py``, but all on the same real catalog (``--criteria``,
by default this tree's ``criteria/``), so that the code is compared, not the catalogs. The
trees are measured in turns (A, B, A, B...) so that drift on a shared machine hits each alike;
each figure is the CPU time (``time.process_time``) of one check, the best of the rounds, over
the same 100 patients, with ``gc.freeze()`` after the set-up (see bench.py). Modes: ``all``
(every trial explained: the default of every version), ``none`` (ranked verdicts and scores,
for versions that have ``explain=``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: Run inside each tree: prints a JSON object of CPU ms per check by mode.
_PROBE = """
import gc, json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
import matcher
import tests.benchmarks.synthetic as synthetic
synthetic.CATALOG = Path(sys.argv[2])
folder = Path(tempfile.mkdtemp()) / "catalog"
synthetic.write_catalog(folder, 1000)
catalog = matcher.load_trials(folder)
people = synthetic.patients(100)
gc.collect()
gc.freeze()
out = {"criteria": len(catalog.criteria)}
for mode in sys.argv[3:]:
    if mode == "all":
        run = lambda p: matcher.check(p, catalog, as_of=synthetic.AS_OF)
    else:
        run = lambda p: matcher.check(p, catalog, as_of=synthetic.AS_OF, explain=mode)
    try:
        run(people[0])
    except TypeError:  # a version without explain=
        continue
    for p in people[:5]:
        run(p)
    start = time.process_time()
    for p in people:
        run(p)
    out[mode] = (time.process_time() - start) / len(people) * 1000
print(json.dumps(out))
"""


def _probe(tree: Path, criteria: Path, modes: Sequence[str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(tree), str(criteria), *modes],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    )
    found: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees (repository roots)")
    parser.add_argument("--criteria", type=Path, default=ROOT / "criteria")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=["all", "none"])
    args = parser.parse_args(argv)
    best: dict[Path, dict[str, float]] = {}
    for _ in range(args.rounds):
        for tree in args.trees:
            got = _probe(tree.resolve(), args.criteria.resolve(), args.modes)
            mine = best.setdefault(tree, {})
            for name, value in got.items():
                mine[name] = min(mine.get(name, value), value)
            print(f"  {tree}: {got}", file=sys.stderr, flush=True)
    print(
        f"\none check, 1,000 synthetic trials from {args.criteria}, CPU ms, best of {args.rounds}\n"
    )
    print("| tree | distinct criteria | " + " | ".join(args.modes) + " |")
    print("|---|---|" + "---|" * len(args.modes))
    for tree in args.trees:
        figures = best[tree]
        cells = [f"{figures[m]:.1f}" if m in figures else "-" for m in args.modes]
        print(f"| {tree} | {figures['criteria']:.0f} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
