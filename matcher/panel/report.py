"""The HTML report of a screening: one self-contained file a coordinator opens in a browser.

No script, no font, no style sheet or image from the network: the styles are inline and each chart
is an SVG element written here. Per trial, a funnel: one bar per step (``alive``, then the criteria
in file order) whose length is the number of patients still in after it, with the number excluded
there; then the outcome counts per criterion. At the end, the missing facts that would decide the
most patients, as a bar chart. Every text from the criteria or the data is escaped, so the SVG
parts are well-formed XML.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Final

from matcher.panel.attrition import MissingFact, TrialAttrition
from matcher.panel.screen import ScreenSummary

__all__ = ["render_report"]

_ROW: Final = 22
_LABEL: Final = 300
_BAR: Final = 420
_STYLE: Final = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
svg text { font: 12px system-ui, sans-serif; }
.muted { color: #666; }
"""


def _svg_bars(rows: Sequence[tuple[str, int, str]], total: int, colour: str, title: str) -> str:
    """A horizontal bar chart: (label, value, note) per row, bars scaled to ``total``."""
    height = _ROW * len(rows) + 10
    width = _LABEL + _BAR + 160
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    ]
    for i, (label, value, note) in enumerate(rows):
        y = 5 + i * _ROW
        length = round(_BAR * value / total, 1) if total else 0
        shown = label if len(label) <= 44 else label[:43] + "\u2026"
        parts.append(
            f'<text x="{_LABEL - 6}" y="{y + 15}" text-anchor="end">{escape(shown)}</text>'
            f'<rect class="bar" x="{_LABEL}" y="{y + 2}" width="{length}" height="{_ROW - 6}" '
            f'fill="{colour}" data-value="{value}"/>'
            f'<text x="{_LABEL + length + 6}" y="{y + 15}">{value}{escape(note)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _funnel(funnel: TrialAttrition) -> str:
    rows = [
        (
            step.criterion,
            step.after,
            f" (\u2212{step.excluded})" if step.excluded else "",
        )
        for step in funnel.steps
    ]
    title = f"Attrition of {funnel.trial}: patients remaining after each criterion"
    chart = _svg_bars(rows, funnel.screened, "#3b7dd8", title)
    table = [
        "<table><tr><th>criterion</th><th>kind</th><th>before</th><th>excluded</th>"
        "<th>after</th><th>met</th><th>not met</th><th>unknown</th><th>review</th></tr>"
    ]
    for step in funnel.steps:
        d = step.as_dict()
        cells = "".join(
            f"<td>{d[k]}</td>"
            for k in ("before", "excluded", "after", "met", "not_met", "unknown", "review")
        )
        table.append(
            f"<tr><td>{escape(step.criterion)}</td><td>{escape(step.kind)}</td>{cells}</tr>"
        )
    table.append("</table>")
    return (
        f'<section class="trial" id="{escape(funnel.trial)}"><h2>{escape(funnel.trial)}</h2>'
        f"<p>{funnel.screened} screened: {funnel.eligible} eligible, {funnel.undetermined} "
        f"undetermined, {funnel.ineligible} ineligible.</p>{chart}{''.join(table)}</section>"
    )


def render_report(
    summary: ScreenSummary,
    attrition: Sequence[TrialAttrition],
    missing: Sequence[MissingFact],
    *,
    top: int = 20,
) -> str:
    """The whole report as one HTML document."""
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>matcher panel screening</title>"
        f"<style>{_STYLE}</style></head><body>"
    )
    without = (
        f" Switched off (what-if): {escape(', '.join(summary.without))}." if summary.without else ""
    )
    intro = (
        f"<h1>Panel screening as of {summary.as_of.isoformat()}</h1>"
        f"<p>{summary.patients} patient(s) screened against {len(summary.trials)} trial(s) "
        f"with the {escape(summary.engine)} engine; {summary.skipped} could not be used "
        f"(see errors.jsonl).{without}</p>"
    )
    if summary.resource_types:
        intro += (
            '<p class="muted">Resource types in the input: '
            f"{escape(', '.join(summary.resource_types))}.</p>"
        )
    shown = list(missing[:top])
    if shown:
        rows = [(m.fact, m.patients, " patients") for m in shown]
        facts = (
            '<section id="missing"><h2>Missing facts that would decide the most patients</h2>'
            + _svg_bars(rows, summary.patients, "#d8833b", "Missing facts by patients")
            + "</section>"
        )
    else:
        facts = '<section id="missing"><h2>Missing facts</h2><p>None.</p></section>'
    body = "".join(_funnel(f) for f in attrition)
    return f"{head}{intro}{body}{facts}</body></html>\n"
