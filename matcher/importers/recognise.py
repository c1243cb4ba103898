"""A conservative recogniser: rules proposed for a few common kinds of registry item.

It reads one item's text and proposes a rule only for shapes it is sure of:

* an age range in an inclusion: "aged 18 to 70 years", "age >= 18 years", "18 years of age or
  older", "50-85 years of age" (whole years only);
* pregnancy and breastfeeding in an exclusion: "pregnant or breastfeeding women", "lactating";
* "<a concept set of the catalog> within the past N days|weeks|months|years" in an exclusion
  ("myocardial infarction within 6 months", "use of benzodiazepines in the last 30 days"), and
  "no <set> in the past N ..." in an inclusion (the ``not`` of the same rule), with the
  catalog's condition and medication sets, found by name or title as whole words.

Every proposal stays ``pending``: the importer writes it with the item's review note, so it can
decide against a patient (an exclusion met, an inclusion not met) but never pass until an author
has read it and removed ``pending``. Anything else gets no rule. Negated or conditional wording
("no history of ... is required", "unless", "except") gets no proposal either.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from matcher.criteria.concepts import ConceptKind, ConceptSet

__all__ = ["Proposal", "Recogniser"]

_NUMBER: Final = r"(\d{1,3})"
_YEARS: Final = r"(?:years?|yrs?)(?:\s+old)?(?:\s+of\s+age)?"
_AGE_PATTERNS: Final = (
    # between 18 and 65 years / aged 18 to 70 years / age 18-75 years
    (
        re.compile(
            rf"\b(?:aged?|between)\s*(?:of\s+)?(?:between\s+)?{_NUMBER}\s*(?:and|to|-|\u2013)\s*"
            rf"{_NUMBER}\s*{_YEARS}",
            re.I,
        ),
        "range",
    ),
    # 50-85 years of age / 18 to 70 years old (the words of age are needed: "consent for those
    # 18-21 years" is not an age criterion)
    (
        re.compile(
            rf"\b{_NUMBER}\s*(?:to|-|\u2013)\s*{_NUMBER}\s*(?:years?|yrs?)\s+(?:old|of\s+age)",
            re.I,
        ),
        "range",
    ),
    # age >= 18 years / aged ≥ 18 / age of at least 18 years
    (
        re.compile(
            rf"\bage[ds]?\s*(?:of\s+)?(?:>=|≥|at\s+least|greater\s+than\s+or\s+equal\s+to)\s*"
            rf"{_NUMBER}\s*(?:{_YEARS})?",
            re.I,
        ),
        "min",
    ),
    # 18 years of age or older / 18 years or older / ≥ 18 years
    (re.compile(rf"\b{_NUMBER}\s*{_YEARS}\s*(?:or|and)\s*(?:older|over|above)", re.I), "min"),
    (re.compile(rf"(?:>=|≥)\s*{_NUMBER}\s*{_YEARS}", re.I), "min"),
)
_PREGNANT: Final = re.compile(r"\bpregnan(?:t|cy)\b", re.I)
_LACTATING: Final = re.compile(r"\b(?:breast[\s-]?feeding|lactating|lactation|nursing)\b", re.I)
#: Wording that makes an item about something other than the state itself.
_NOT_THE_STATE: Final = re.compile(
    r"\b(?:test|contracept\w*|plan\w*|intend\w*|potential|partner|become|unless|except|"
    r"prior\s+to|negative|past|history|previous|\d+)\b",
    re.I,
)
_NO: Final = re.compile(
    r"^\s*(?:no|without|has\s+not\s+(?:had|used|received)|must\s+not\s+have\s+(?:had|used|"
    r"received))\s+(?:(?:history|use|evidence)\s+of\s+)?",
    re.I,
)
_HEDGES: Final = re.compile(r"\b(?:unless|except|other\s+than|excluding|allowed|permitted)\b", re.I)
_WINDOW: Final = re.compile(
    r"\b(?:within|in|during|over)\s+(?:the\s+)?(?:past|last|previous|preceding|prior)?\s*"
    r"(\d{1,3})\s*(day|week|month|year)s?\b",
    re.I,
)


@dataclass(frozen=True, slots=True)
class Proposal:
    """A rule for one item, with what it was read from (for the review note)."""

    rule: dict[str, Any]
    reading: str


def _phrases(concept: ConceptSet) -> set[str]:
    """The wordings of a concept set that count as a mention: its name and title, and the
    parts of a title such as "stroke (cerebrovascular accident)" or "ketamine or esketamine"."""
    if "history code" in concept.title:
        return set()
    found = {concept.name.replace("_", " "), concept.title.lower()}
    title = concept.title.lower()
    inner = re.findall(r"\(([^)]+)\)", title)
    outer = re.sub(r"\([^)]*\)", " ", title)
    for part in [*inner, *re.split(r"\s+or\s+", outer)]:
        found.add(part.strip())
    return {p for p in (re.sub(r"\s+", " ", f) for f in found) if len(p) >= 4}


class Recogniser:
    """Proposes rules for items (see the module docstring), with a catalog's concept sets."""

    def __init__(self, concepts: Iterable[ConceptSet]) -> None:
        patterns: list[tuple[re.Pattern[str], ConceptSet]] = []
        for concept in sorted(concepts, key=lambda c: c.name):
            if concept.kind not in (ConceptKind.CONDITION, ConceptKind.MEDICATION):
                continue
            if concept.name in ("pregnancy", "lactation"):
                continue
            for phrase in sorted(_phrases(concept), key=lambda p: (-len(p), p)):
                words = r"[\s-]+".join(re.escape(w) for w in phrase.split())
                patterns.append((re.compile(rf"\b{words}(?:s|es)?\b", re.I), concept))
        # Longer wordings first, so that "chronic neuropathic pain" wins over "chronic pain".
        patterns.sort(key=lambda entry: (-len(entry[0].pattern), entry[1].name))
        self._patterns = patterns

    def propose(self, text: str, kind: str) -> Proposal | None:
        """A rule for an item of ``kind`` (``inclusion`` or ``exclusion``), or None."""
        if kind != "exclusion":
            age = _age(text)
            if age is not None or _HEDGES.search(text) or not _NO.match(text):
                return age
            # "No myocardial infarction in the past 6 months" as an inclusion: not the exclusion.
            windowed = self._windowed(_NO.sub("", text))
            if windowed is None:
                return None
            return Proposal({"not": windowed.rule}, f"no {windowed.reading}")
        if _HEDGES.search(text):
            return None
        return _pregnancy(text) or self._windowed(text)

    def _windowed(self, text: str) -> Proposal | None:
        windows = _WINDOW.findall(text)
        if len(windows) != 1:
            return None
        count, unit = windows[0]
        if int(count) == 0:
            return None
        span = f"{int(count)} {unit.lower()}{'s' if int(count) != 1 else ''}"
        found: list[ConceptSet] = []
        for pattern, concept in self._patterns:
            if concept not in found and pattern.search(text):
                found.append(concept)
        if len(found) != 1:  # none, or several: an author must say how they combine
            return None
        concept = found[0]
        if concept.kind is ConceptKind.MEDICATION:
            rule: dict[str, Any] = {"medication": {"concept": concept.name, "within": span}}
            reading = f"use of {concept.title} within the last {span}"
        else:
            rule = {"condition": {"concept": concept.name, "status": "ever", "onset_within": span}}
            reading = f"{concept.title} with onset within the last {span}"
        return Proposal(rule, reading)


def _age(text: str) -> Proposal | None:
    for pattern, shape in _AGE_PATTERNS:
        matches = pattern.findall(text)
        if len(matches) != 1:
            continue
        if shape == "range":
            low, high = (int(n) for n in matches[0])
            if not 0 <= low <= high <= 120:
                return None
            return Proposal({"age": {"min": low, "max": high}}, f"aged {low} to {high} years")
        low = int(matches[0])
        if not 0 <= low <= 120:
            return None
        return Proposal({"age": {"min": low}}, f"aged {low} years or more")
    return None


def _pregnancy(text: str) -> Proposal | None:
    if _NOT_THE_STATE.search(text):
        return None
    pregnant, lactating = _PREGNANT.search(text), _LACTATING.search(text)
    window = {"within": "30 days"}
    if pregnant and lactating:
        rule: dict[str, Any] = {"any": [{"pregnant": window}, {"lactating": window}]}
        return Proposal(rule, "pregnant or breastfeeding (recorded within 30 days)")
    if pregnant:
        return Proposal({"pregnant": window}, "pregnant (recorded within 30 days)")
    if lactating:
        return Proposal({"lactating": window}, "breastfeeding (recorded within 30 days)")
    return None
