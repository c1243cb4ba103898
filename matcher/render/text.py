"""Rendering for people: check results, trials and concept sets as plain text.

Nothing here evaluates anything: results arrive complete from ``matcher.evaluation.evaluate`` and
are only formatted. Text that comes from the input (the patient's id and record names in reasons and
evidence, titles) goes through ``printable``: a newline or a terminal escape in a record cannot
forge lines or recolour the terminal.

Colour is added through a ``Style`` callback, so the CLI decides whether the output is a
terminal; the text is the same either way. JSON is not rendered here: it is the ``as_dict()`` of the
result types (``matcher.evaluation.results``), the documented contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Final, assert_never

from matcher.core.errors import printable
from matcher.core.outcome import Outcome, Verdict
from matcher.core.terms import ATTRIBUTES
from matcher.criteria.compiler import (
    AgeLeaf,
    AllNode,
    AnyNode,
    AtLeastNode,
    AttributeLeaf,
    CompiledTrial,
    ConditionLeaf,
    MedicationLeaf,
    Node,
    NotNode,
    ObservationLeaf,
    SexLeaf,
    StatusLeaf,
)
from matcher.criteria.concepts import ConceptLibrary, ConceptSet
from matcher.evaluation.results import CheckResult, CriterionResult, TrialResult

__all__ = ["Style", "plain", "render_check", "render_concept", "render_concepts", "render_trial"]

#: ``style(text, role)`` -> text, possibly coloured; roles are the keys of ``ROLES``.
Style = Callable[[str, str], str]

#: Roles a ``Style`` may colour, and the colour the CLI gives each.
ROLES: Final = {
    "eligible": "green",
    "ineligible": "red",
    "undetermined": "yellow",
    "met": "green",
    "not_met": "red",
    "unknown": "yellow",
    "review": "cyan",
    "heading": "bright_white",
    "dim": "bright_black",
}


def plain(text: str, role: str) -> str:
    """The style that adds nothing."""
    return text


_VERDICT_WORD: Final = {
    Verdict.ELIGIBLE: "ELIGIBLE",
    Verdict.UNDETERMINED: "UNDETERMINED",
    Verdict.INELIGIBLE: "INELIGIBLE",
}
_OUTCOME_WORD: Final = {
    Outcome.MET: "met",
    Outcome.NOT_MET: "not met",
    Outcome.UNKNOWN: "unknown",
    Outcome.REVIEW: "review",
}


_STATUS_WORD: Final = {
    "not_yet_recruiting": "not yet open",
    "recruiting": "recruiting",
    "enrolling_by_invitation": "invitation",
    "active_not_recruiting": "closed",
    "suspended": "suspended",
    "terminated": "terminated",
    "completed": "completed",
    "withdrawn": "withdrawn",
    "available": "available",
    "no_longer_available": "unavailable",
    "temporarily_not_available": "paused",
    "approved_for_marketing": "marketed",
    "withheld": "withheld",
    "unknown": "unknown",
}


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_check(result: CheckResult, *, explain: bool = False, style: Style = plain) -> str:
    """A ranked summary table, then one block per trial (every criterion with ``explain``)."""
    count = len(result.trials)
    lines = [
        style(f"Patient {printable(result.patient)}", "heading")
        + f"  as of {result.as_of}  engine {result.engine}  "
        f"{count} trial{'s' if count != 1 else ''}",
        "",
    ]
    if result.data_quality:
        lines.append(style("Data quality", "heading"))
        lines.extend(
            f"  {printable(note.section)}: {printable(note.note)}" for note in result.data_quality
        )
        lines.append("")
    if not result.trials:
        lines.append("No trials to check.")
        return "\n".join(lines) + "\n"
    lines.append(f" {'#':>2}  {'trial':<12} {'verdict':<13} {'score':>5}  {'status':<12} title")
    for rank, trial in enumerate(result.trials, 1):
        verdict = style(f"{_VERDICT_WORD[trial.verdict]:<13}", trial.verdict.value)
        status = _STATUS_WORD.get(trial.status, trial.status)
        lines.append(
            f" {rank:>2}  {trial.trial:<12} {verdict} {trial.score:>5.2f}  {status:<12} "
            f"{_truncate(printable(trial.title), 48)}"
        )
    for trial in result.trials:
        lines.append("")
        lines.extend(_trial_block(trial, explain=explain, style=style))
    return "\n".join(lines) + "\n"


def _trial_block(trial: TrialResult, *, explain: bool, style: Style) -> list[str]:
    head = style(f"{trial.trial}  {_VERDICT_WORD[trial.verdict]}", trial.verdict.value)
    lines = [f"{head}  score {trial.score:.2f}  ({trial.status.replace('_', ' ')})"]
    lines.append(f"  {printable(trial.title)}")
    if trial.verdict is Verdict.INELIGIBLE:
        deciding = [c for c in trial.criteria if c.blocks]
        label = "why not"
    elif trial.verdict is Verdict.UNDETERMINED:
        deciding = [c for c in trial.criteria if c.outcome is Outcome.UNKNOWN]
        label = "undecided"
    else:
        deciding = []
        label = ""
    if deciding:
        lines.append(f"  {label}:")
        lines.extend(f"    - [{c.kind}] {c.id}: {printable(c.reason)}" for c in deciding)
    if trial.eligible_from is not None:
        note = f"  eligible from {trial.eligible_from}"
        if trial.must_stop:
            note += " if stopped by the as-of date: " + printable("; ".join(trial.must_stop))
        lines.append(style(note, "review"))
    if trial.missing:
        lines.append("  missing:")
        lines.extend(f"    - {printable(m)}" for m in trial.missing)
    held = [text for text, item in zip(trial.to_confirm, trial.reviews, strict=True) if item.blocks]
    asked = [
        text for text, item in zip(trial.to_confirm, trial.reviews, strict=True) if not item.blocks
    ]
    if held:
        lines.append("  to confirm before it can be eligible:")
        lines.extend(f"    - {printable(item)}" for item in held)
    if asked:
        lines.append("  to confirm at screening:")
        lines.extend(f"    - {printable(item)}" for item in asked)
    if explain:
        lines.append("  criteria:")
        for criterion in trial.criteria:
            lines.extend(_criterion_lines(criterion, style))
    return lines


def _criterion_lines(criterion: CriterionResult, style: Style) -> list[str]:
    outcome = style(f"{_OUTCOME_WORD[criterion.outcome]:<8}", criterion.outcome.value)
    reason = printable(criterion.reason)
    lines = [f"    {outcome} [{criterion.kind[:3]}] {criterion.id}: {reason}"]
    lines.extend(style(f"             · {printable(e)}", "dim") for e in criterion.evidence)
    return lines


# --- trials ------------------------------------------------------------------------------------


def describe_rule(node: Node) -> str:
    """A rule tree in words, e.g. ``age 18-70`` or ``not (ketamine used within 1 year)``."""
    if isinstance(node, AllNode):
        return "all of (" + "; ".join(describe_rule(c) for c in node.children) + ")"
    if isinstance(node, AnyNode):
        return "any of (" + "; ".join(describe_rule(c) for c in node.children) + ")"
    if isinstance(node, NotNode):
        return f"not ({describe_rule(node.child)})"
    if isinstance(node, AtLeastNode):
        parts = "; ".join(describe_rule(c) for c in node.children)
        return f"at least {node.count} of ({parts})"
    if isinstance(node, AgeLeaf):
        if node.min is not None and node.max is not None:
            return f"age {node.min}-{node.max}"
        return f"age at least {node.min}" if node.min is not None else f"age at most {node.max}"
    if isinstance(node, SexLeaf):
        return "sex " + " or ".join(sorted(s.value for s in node.values))
    if isinstance(node, AttributeLeaf):
        what = ATTRIBUTES[node.name].description
        if node.values is not None:
            values = " or ".join(v.replace("_", " ") for v in sorted(node.values))
            return f"{what} is {values}"
        return f"{what} is {'yes' if node.expected else 'no'}"
    if isinstance(node, ConditionLeaf):
        text = f"{node.concept.label} [{node.concept.name}]"
        if node.active_within is not None:
            return f"{text} active at some time within the last {node.active_within}"
        text += " on record" if node.status == "ever" else " present"
        if node.onset_at_least is not None:
            text += f", onset at least {node.onset_at_least} ago"
        if node.onset_within is not None:
            text += f", onset within the last {node.onset_within}"
        return text
    if isinstance(node, MedicationLeaf):
        name = f"{node.concept.label} [{node.concept.name}]"
        if node.ever:
            return f"{name} ever used"
        if node.within is None:
            return f"{name} in current use"
        return f"{name} used within the last {node.within}"
    if isinstance(node, ObservationLeaf):
        what = f"{node.concept.label} [{node.concept.name}]"
        span = f"within the last {node.within}"
        if node.aggregate == "latest":
            return f"latest {what} {span} is {node.bounds_text()}"
        if node.aggregate == "count":
            return f"number of {what} readings {span} is {replace(node, unit=None).bounds_text()}"
        word = {"mean": "mean", "minimum": "lowest", "maximum": "highest", "spread": "spread"}
        readings = f"{node.min_readings} reading{'s' if node.min_readings != 1 else ''}"
        return (
            f"{word[node.aggregate]} of the {what} readings {span} (at least {readings}) "
            f"is {node.bounds_text()}"
        )
    if isinstance(node, StatusLeaf):
        return f"recorded as {node.what} within the last {node.within}"
    assert_never(node)


def render_trial(trial: CompiledTrial, *, style: Style = plain) -> str:
    """What a coordinator reads before a call: metadata, then every criterion in words."""
    lines = [
        style(f"{trial.id}: {trial.title}", "heading"),
        f"  sponsor: {trial.sponsor}",
        f"  phase: {trial.phase or 'not given'}; status: {trial.status.replace('_', ' ')}",
        f"  conditions: {', '.join(trial.conditions) or 'not given'}",
        f"  registry: {trial.registry_url} (criteria last reviewed {trial.last_reviewed})",
    ]
    if trial.notes:
        lines.append(f"  notes: {trial.notes}")
    reviews = 0
    for kind in ("inclusion", "exclusion"):
        lines.append("")
        lines.append(style(f"{kind.capitalize()} criteria", "heading"))
        for criterion in (c for c in trial.criteria if c.kind == kind):
            lines.append(f"  {criterion.id}: {criterion.description}")
            lines.append(style(f"      source: {criterion.source}", "dim"))
            if criterion.applies_to is not None:
                lines.append(f"      applies to: {describe_rule(criterion.applies_to)}")
            if criterion.rule is not None:
                lines.append(f"      rule: {describe_rule(criterion.rule)}")
            if criterion.review is not None:
                reviews += 1
                if criterion.pending:
                    prefix = "not encoded yet (blocks eligibility)"
                    if criterion.rule is not None:
                        prefix = "a proposed rule; until confirmed it only decides against"
                elif criterion.rule is not None:
                    prefix = "if the rule is met, confirm (blocks eligibility)"
                else:
                    prefix = "screening question"
                lines.append(style(f"      {prefix}: {criterion.review}", "review"))
    if trial.not_recovered:
        lines.append("")
        lines.append(style("Not recovered from the registry", "heading"))
        lines.extend(f"  - {item}" for item in trial.not_recovered)
    lines.append("")
    lines.append(f"{reviews} item{'s' if reviews != 1 else ''} may need a clinician's review.")
    return "\n".join(lines) + "\n"


# --- concept sets ------------------------------------------------------------------------------


def render_concepts(library: ConceptLibrary) -> str:
    """One line per concept set."""
    lines = [f"{'name':<32} {'kind':<12} {'codes':>6} {'names':>6}  title"]
    for name in library.names():
        concept = library[name]
        codes = sum(len(c) for c in concept.codes.values())
        lines.append(
            f"{name:<32} {concept.kind.value:<12} {codes:>6} {len(concept.names):>6}  "
            f"{concept.title}"
        )
    return "\n".join(lines) + "\n"


def render_concept(concept: ConceptSet) -> str:
    """Every member of one set, for auditing."""
    lines = [
        f"{concept.name}: {concept.title} ({concept.kind.value})",
        f"  file: {concept.file}",
        f"  {concept.description}",
        f"  source: {concept.source}",
    ]
    if concept.includes:
        lines.append(f"  includes: {', '.join(concept.includes)}")
    if concept.unit:
        lines.append(f"  unit: {concept.unit}")
    if concept.atc:
        lines.append(f"  ATC (documentation only): {', '.join(concept.atc)}")
    if concept.names:
        lines.append("  names:")
        lines.extend(f"    {' '.join(words)}" for words in sorted(concept.names))
    for system, members in concept.members.items():
        lines.append(f"  {system} codes ({len(members)}):")
        lines.extend(f"    {code:<18} {display}" for code, display in members.items())
    for system, members in concept.possible.items():
        lines.append(f"  {system} possible members, never enough on their own ({len(members)}):")
        lines.extend(f"    {code:<18} {display}" for code, display in members.items())
    return "\n".join(lines) + "\n"
