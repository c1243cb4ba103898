"""How the benchmark scripts print their figures: a two-column Markdown table of measures."""

from __future__ import annotations

from collections.abc import Sequence


def print_measures(rows: Sequence[tuple[str, str]]) -> None:
    """Print ``rows`` (measure, result) as a Markdown table, the measures padded to one width."""
    width = max(len(name) for name, _ in rows)
    print(f"| {'measure':<{width}} | result |")
    print(f"|{'-' * (width + 2)}|--------|")
    for name, value in rows:
        print(f"| {name:<{width}} | {value} |")
