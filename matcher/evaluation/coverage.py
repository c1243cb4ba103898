"""Coverage accounting: what a reader left out of a patient, and what that does to "no X on record".

matcher reads coded history as complete ("no epilepsy on record" means no epilepsy). That is only
honest when the reader used every relevant record of the input. A reader therefore lists every
record it left out in ``Patient.skipped`` (section, path, reason, and the codes or name the
record had, if any). This module turns those lists into what evaluation needs:

* ``Gaps``, per section, answers "could a skipped record be a member of this concept set?": a
  record without codes or name could be anything of its section; one with codes or a name matters
  only to the sets those codes or that name belong to (or may belong to). A leaf rule whose set a
  gap touches cannot be decided by absence: ``matcher.evaluation.leaves`` makes it ``unknown`` and
  its reason names the skipped records by their path. When nothing was skipped, the check costs one
  dictionary look-up per leaf.
* ``data_quality`` lists, for the result, every skipped record and every record dated after the
  as-of day (not history: it decides nothing about that day, so the source may be wrong), by
  path and never by value.

A section listed under ``Patient.unreviewed`` is incomplete as a whole; that path stays in
``matcher.evaluation.leaves`` as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from matcher.core.dates import PartialDate
from matcher.criteria.concepts import ConceptKind, ConceptSet, normalise_name
from matcher.evaluation.results import DataQualityNote
from matcher.patient.model import Patient, Skipped

__all__ = ["SECTION", "Gap", "Gaps", "data_quality", "describe", "gaps_of"]

#: The section of the patient a concept set's records live in.
SECTION: Final = {
    ConceptKind.CONDITION: "conditions",
    ConceptKind.MEDICATION: "medications",
    ConceptKind.OBSERVATION: "observations",
}
#: How many skipped records a reason names before it counts the rest.
_NAMED: Final = 3


@dataclass(frozen=True, slots=True)
class Gap:
    """One skipped record as evaluation sees it: its note, and what it could be."""

    note: str
    codes: tuple[tuple[str, str], ...]
    words: tuple[str, ...]

    def touches(self, concept: ConceptSet) -> bool:
        """True when the record could be a member of ``concept`` (or cannot be told apart)."""
        if not self.codes and not self.words:
            return True
        return (
            concept.matches_code(self.codes)
            or concept.may_match_code(self.codes)
            or concept.matches_name(self.words)
        )


@dataclass(eq=False)
class Gaps:
    """The skipped records of one patient, by section, with a memo per concept set."""

    by_section: Mapping[str, tuple[Gap, ...]]
    _memo: dict[int, str | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_section)

    def section(self, name: str) -> tuple[Gap, ...]:
        return self.by_section.get(name, ())

    def about(self, concept: ConceptSet) -> str | None:
        """Why absence cannot be vouched for in ``concept``: ``None`` when no skipped record
        could belong to it, else a phrase naming the skipped records ("2 condition records were
        skipped: entry[3].resource (Condition): no readable code or name; ...")."""
        if not self.by_section:
            return None
        key = id(concept)
        if key in self._memo:
            return self._memo[key]
        section = SECTION[concept.kind]
        found = [gap.note for gap in self.section(section) if gap.touches(concept)]
        text = describe(section, found) if found else None
        self._memo[key] = text
        return text


def describe(section: str, notes: list[str]) -> str:
    """``1 medication record was skipped: entry[4].resource (...): ...`` (at most three named)."""
    noun = section.removesuffix("s")
    if section == "demographics":
        noun = "demographic"
    count = len(notes)
    head = f"{count} {noun} record{'s were' if count != 1 else ' was'} skipped: "
    shown = "; ".join(notes[:_NAMED])
    more = f"; and {count - _NAMED} more" if count > _NAMED else ""
    return head + shown + more


def gaps_of(patient: Patient) -> Gaps:
    """The patient's skipped records, grouped by section (in input order)."""
    if not patient.skipped:
        return Gaps({})
    grouped: dict[str, list[Gap]] = {}
    for skipped in patient.skipped:
        codes = tuple((c.system, c.code) for c in skipped.codes)
        words = normalise_name(skipped.display) if skipped.display else ()
        grouped.setdefault(skipped.section, []).append(Gap(skipped.note(), codes, words))
    return Gaps({name: tuple(gaps) for name, gaps in grouped.items()})


def data_quality(patient: Patient, as_of: date) -> tuple[DataQualityNote, ...]:
    """Every skipped record, then every record dated after ``as_of``, by path (never a value)."""
    notes = [_skipped_note(skipped) for skipped in patient.skipped]
    notes.extend(_future_dated(patient, as_of))
    return tuple(notes)


def _skipped_note(skipped: Skipped) -> DataQualityNote:
    return DataQualityNote(skipped.section, skipped.path, skipped.reason.value, skipped.note())


def _future_dated(patient: Patient, as_of: date) -> Iterator[DataQualityNote]:
    """Records that certainly begin after the as-of day (a partial date only when all of it is
    later): they are not history, so they decide nothing, and the source may be wrong. An end
    after the as-of day is a planned end, not a problem."""
    dated: tuple[tuple[str, str, list[PartialDate | None]], ...] = (
        ("conditions", "onset", [c.onset for c in patient.conditions]),
        ("medications", "start", [m.start for m in patient.medications]),
        ("observations", "date", [o.date for o in patient.observations]),
    )
    for section, name, dates in dated:
        for i, when in enumerate(dates):
            if when is not None and when.first > as_of:
                _, path, _, _ = patient.origin_of(f"{section}[{i}]")
                note = f"{path}: its {name} is after the as-of date"
                yield DataQualityNote(section, path, "future_dated", note)
