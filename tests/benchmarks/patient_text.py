"""Reading a patient from text or from bytes (issue 12.5): the same 1.7 MB Synthea bundle
(``tests/data/fhir/synthea/Jessi_Parisian_*.json``, cited in ``tests/data/fhir/README.md``)
given to ``matcher.patient_from_text`` as ``str`` and as UTF-8 ``bytes``, and a truncated copy
of it (the JSON error path). Bytes used to go through the YAML parser first (465 ms against
39 ms as text); JSON is now recognised by its first character, whatever the type.

    python tests/benchmarks/patient_text.py [--repeat N]

Prints a table of medians; each measure checks its answer (the same patient for str and bytes,
a ``json-syntax`` error for the truncated copy). On a shared machine run it alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import matcher
from tests.benchmarks.report import print_measures

BUNDLE = next((Path(__file__).parents[1] / "data" / "fhir" / "synthea").glob("Jessi_Parisian_*"))


def median_ms(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def truncated(raw: bytes) -> None:
    try:
        matcher.patient_from_text(raw)
    except matcher.MatcherError as error:
        (problem,) = error.diagnostics  # type: ignore[attr-defined]
        assert problem.code == "json-syntax", problem.code
        return
    raise AssertionError("a truncated bundle was accepted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    raw = BUNDLE.read_bytes()
    text = raw.decode("utf-8")
    assert matcher.patient_from_text(raw) == matcher.patient_from_text(text)
    cut = raw[: len(raw) // 2]
    as_text = median_ms(lambda: matcher.patient_from_text(text), args.repeat)
    as_bytes = median_ms(lambda: matcher.patient_from_text(raw), args.repeat)
    broken = median_ms(lambda: truncated(cut), args.repeat)
    rows = [
        ("bundle size", f"{len(raw) / 1e6:.2f} MB"),
        (f"patient_from_text(str), median of {args.repeat}", f"{as_text:.1f} ms"),
        (f"patient_from_text(bytes), median of {args.repeat}", f"{as_bytes:.1f} ms"),
        ("bytes / str", f"{as_bytes / as_text:.2f}x"),
        ("truncated bytes -> json-syntax, median", f"{broken:.1f} ms"),
    ]
    print_measures(rows)


if __name__ == "__main__":
    main()
