"""Concept sets: the drug classes, condition groups and observation codes that criteria name.

A concept set is a YAML file in a ``concepts/`` folder (``criteria/concepts/`` for the bundled
catalog); see the README, "Concept sets". Criteria refer to sets by name; ``matcher.compile``
resolves the names, so a typo is an error when the trial is loaded, not a silent miss later.

How a record matches a set:

* **RxNorm, SNOMED CT, LOINC**: the exact code.
* **ICD-10-CM**: the code or any ancestor, by prefix (``G90.5`` covers ``G90.511``; dots and case
  do not matter, so ``G90511`` is the same code).
* **WHO ICD-10** (``icd10``: the codes French and other European records carry): through the
  ICD-10-CM codes that cover the WHO code. By default that is the same code, up to its fourth
  character (WHO codes have no more; national fifth characters need not mean what ICD-10-CM's
  do), so ``G90.5`` is CRPS type I in both. Where the two classifications differ the table
  ``matcher/icd10_who.yaml`` lists the ICD-10-CM codes a WHO code stands for (WHO ``G90.6``, CRPS
  type II, is CM ``G56.4`` or ``G57.7``); a WHO code belongs to a set when every covering code
  does, and possibly when only some do, or when the set lists a more specific ICD-10-CM code
  under it (WHO ``O91.0`` may be CM ``O91.03``, "associated with lactation"). The possible
  members are those of "Possible members" below: one mechanism.
* **Medication names**: the record's name is lower-cased and split into words (spaces, brackets
  and punctuation separate words); a set name matches when its words appear together, as whole
  words.
  ``Clonazepam 0.5 MG Oral Tablet [Klonopin]`` matches ``clonazepam`` and ``klonopin``, but
  ``amphetamine`` does not match ``dextroamphetamine``. This catches brand-name codes that a value
  set of clinical drugs does not list.
* **Condition names**: the whole display name, lower-cased, equals a listed name.
* **Near misses** (medications): a drug name that matches no set of the library, but one of
  whose words is one or two edits (a letter changed, added, dropped, or two swapped; one edit for
  words of up to 9 letters, two for longer ones; same first letter; accents folded) from a one-word
  member name (``Lorazapam`` for ``lorazepam``), is a possible member of that set: the
  medication rule becomes unknown, with a reason naming the member it resembles, never "not a
  benzodiazepine". Only names that matched nothing are looked up, and the answers are cached.
* **Possible members** (``possible:``, condition sets only): codes that may or may not mean the
  concept (CRPS recorded without its type, for "CRPS type I"). A record they match belongs to the
  set only possibly: like an unconfirmed diagnosis it can make a rule unknown, never met. For
  ICD-10-CM the most specific listed code decides: ``G90.5`` is a member and ``G90.50`` a possible
  one, so ``G90.511`` belongs and ``G90.50`` may.

ATC codes are kept for auditors (``matcher concepts NAME``) but never matched: records rarely carry
them and the classes cut across what trials mean.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, Final, Literal, Self

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from matcher.bundled import bundled_catalog_dir
from matcher.codes import canonical_code, strip_invisible
from matcher.errors import CriteriaError, Diagnostic, suggest
from matcher.source import Document
from matcher.validation import read_model

__all__ = [
    "ConceptIndex",
    "ConceptKind",
    "ConceptLibrary",
    "ConceptSet",
    "ConceptSetFile",
    "bundled_concepts_dir",
    "load_concepts",
    "normalise_name",
]

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
CodeText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class ConceptKind(StrEnum):
    MEDICATION = "medication"
    CONDITION = "condition"
    OBSERVATION = "observation"


_SYSTEMS_BY_KIND: Final = {
    ConceptKind.MEDICATION: {"rxnorm"},
    ConceptKind.CONDITION: {"icd10cm", "snomed"},
    ConceptKind.OBSERVATION: {"loinc"},
}


class ConceptSetFile(BaseModel):
    """The format of one concept set file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Identifier
    kind: ConceptKind
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)] = (
        Field(description="the name as it reads inside a sentence: 'no <title> on record'")
    )
    description: Text
    source: Text
    includes: tuple[Identifier, ...] = ()
    atc: tuple[CodeText, ...] = ()
    names: tuple[NameText, ...] = ()
    codes: dict[Literal["rxnorm", "icd10cm", "snomed", "loinc"], dict[CodeText, Text]] = Field(
        default_factory=dict
    )
    possible: dict[Literal["icd10cm", "snomed"], dict[CodeText, Text]] = Field(
        default_factory=dict,
        description="codes that may or may not mean this condition: a record coded with them "
        "makes a rule unknown, never met (each with the reason in 'description')",
    )
    unit: Annotated[str, StringConstraints(strip_whitespace=True, max_length=50)] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not (self.names or self.codes or self.includes):
            raise PydanticCustomError(
                "missing_key", "a concept set needs 'names', 'codes' or 'includes'"
            )
        wrong = sorted(set(self.codes) - _SYSTEMS_BY_KIND[self.kind])
        if wrong:
            allowed = ", ".join(sorted(_SYSTEMS_BY_KIND[self.kind]))
            raise PydanticCustomError(
                "wrong_system",
                f"a {self.kind} set takes codes from {allowed}, not {', '.join(wrong)}",
            )
        if self.possible and self.kind is not ConceptKind.CONDITION:
            raise PydanticCustomError("wrong_system", "'possible' is for condition sets only")
        for system, listed in self.possible.items():
            both = sorted(set(listed) & set(self.codes.get(system, {})))
            if both:
                raise PydanticCustomError(
                    "conflicting_keys",
                    f"{system} {', '.join(both)} is listed both in 'codes' and in 'possible'",
                )
        if self.atc and self.kind is not ConceptKind.MEDICATION:
            raise PydanticCustomError("wrong_system", "'atc' is for medication sets only")
        if self.unit is not None and self.kind is not ConceptKind.OBSERVATION:
            raise PydanticCustomError("wrong_system", "'unit' is for observation sets only")
        return self


_WORD_SPLIT: Final = re.compile(r"[^a-z0-9]+")


def normalise_name(text: str) -> tuple[str, ...]:
    """Words of a drug or condition name: lower case, letters and digits, in order.

    Accents are folded and compatibility forms (full-width letters, ligatures) unfolded first:
    ``clonazépam`` is ``clonazepam``. French and other records write the international names
    with accents, and an accent does not make another drug. Characters that print as nothing
    (zero-width spaces, bidirectional marks: ``matcher.codes.INVISIBLE``) are removed, so that
    they neither split a word nor hide one. Letters outside the Latin alphabet give no words.
    """
    lowered = strip_invisible(text).lower()
    if not lowered.isascii():
        lowered = "".join(
            char
            for char in unicodedata.normalize("NFKD", lowered.casefold())
            if not unicodedata.combining(char)
        )
    return tuple(word for word in _WORD_SPLIT.split(lowered) if word)


def _has_words(name: str) -> str:
    if not normalise_name(name):
        raise PydanticCustomError(
            "no_words",
            "a name needs Latin letters or digits (accents are folded): this one gives no word "
            "to match, so it could never match a record",
        )
    return name


#: A listed name: 2 to 200 characters that give at least one word to match.
NameText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=200),
    AfterValidator(_has_words),
]


@dataclass(frozen=True, eq=False)
class ConceptSet:
    """A resolved concept set (includes flattened), ready for matching. Immutable."""

    name: str
    kind: ConceptKind
    title: str
    description: str
    source: str
    file: str
    unit: str | None
    atc: tuple[str, ...]
    includes: tuple[str, ...]
    codes: Mapping[str, frozenset[str]]
    names: frozenset[tuple[str, ...]]
    members: Mapping[str, Mapping[str, str]] = field(repr=False)
    #: Codes of possible members, by system (canonical), and as listed with their displays.
    possible_codes: Mapping[str, frozenset[str]] = field(repr=False, default_factory=dict)
    possible: Mapping[str, Mapping[str, str]] = field(repr=False, default_factory=dict)
    #: The index of the library this set belongs to (set when the library is built).
    index: ConceptIndex | None = field(default=None, repr=False, compare=False)
    _by_first_word: Mapping[str, tuple[tuple[str, ...], ...]] = field(
        repr=False, default_factory=dict
    )
    _icd_lengths: tuple[int, ...] = field(repr=False, default=())

    @property
    def label(self) -> str:
        """The name as it reads inside a sentence ("no epilepsy on record"): the title."""
        return self.title

    def matches_code(self, codes: Iterable[tuple[str, str]]) -> bool:
        """True if any (system, code) pair -- canonical, as the patient model keeps them -- is in
        the set (ICD-10-CM by hierarchy, a more specific possible member aside; WHO ICD-10
        through ICD-10-CM)."""
        if self.index is not None:
            return id(self) in self.index.holding(tuple(codes), ())[0]
        return any(self._code_member(system, code) is True for system, code in codes)

    def may_match_code(self, codes: Iterable[tuple[str, str]]) -> bool:
        """True if the codes make a record a possible member only (see "Possible members")."""
        if self.index is not None:
            return id(self) in self.index.holding(tuple(codes), ())[1]
        found = [self._code_member(system, code) for system, code in codes]
        return False in found and True not in found

    def _code_member(self, system: str, code: str) -> bool | None:
        """True: a member; False: a possible member; None: neither (a set outside a library,
        which lists no ICD-10 codes, only)."""
        members = self.codes.get(system, frozenset())
        maybe = self.possible_codes.get(system, frozenset())
        if system != "icd10cm":
            return True if code in members else False if code in maybe else None
        found: bool | None = None
        for n in self._icd_lengths:  # ascending: the longest listed prefix decides
            if n > len(code):
                break
            prefix = code[:n]
            if prefix in members:
                found = True
            elif prefix in maybe:
                found = False
        return found

    def matches_name(self, words: Sequence[str]) -> bool:
        """True if the record's name words contain a listed name (medications) or equal one
        (conditions)."""
        if not self.names or not words:
            return False
        if self.kind is not ConceptKind.MEDICATION:
            return tuple(words) in self.names
        for start, word in enumerate(words):
            for name in self._by_first_word.get(word, ()):
                if tuple(words[start : start + len(name)]) == name:
                    return True
        return False


class ConceptIndex:
    """Every set of a library, indexed by code, ICD-10-CM prefix and name.

    It answers "which sets hold this record?" with a few dictionary look-ups per record instead of
    one test per set (the alpha network of a Rete engine, built once per library).
    ``ConceptSet.matches_code`` asks it, so that codes are matched in one place.
    """

    def __init__(self, sets: Iterable[ConceptSet]) -> None:
        self.exact: dict[tuple[str, str], list[int]] = {}
        self.icd: dict[str, list[int]] = {}
        #: Possible members (see "Possible members"), kept apart: few sets have any.
        self.possible_exact: dict[tuple[str, str], list[int]] = {}
        self.possible_icd: dict[str, list[int]] = {}
        self.first_words: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        self.whole_names: dict[tuple[str, ...], list[int]] = {}
        #: One-word drug names of medication sets, by first letter (for ``near_misses``).
        self.drug_words: dict[str, dict[str, list[int]]] = {}
        self._near: dict[tuple[str, ...], dict[int, str]] = {}
        #: Every shorter prefix (three characters or more) of a listed ICD-10-CM code, with the
        #: sets that list it: a WHO code there may be that more specific code.
        self.icd_under: dict[str, set[int]] = {}
        self.longest_icd = 0
        for concept in sets:
            ident = id(concept)
            for by_system, icd, exact in (
                (concept.codes, self.icd, self.exact),
                (concept.possible_codes, self.possible_icd, self.possible_exact),
            ):
                for system, codes in by_system.items():
                    for code in codes:
                        if system == "icd10cm":
                            icd.setdefault(code, []).append(ident)
                            self.longest_icd = max(self.longest_icd, len(code))
                            for n in range(3, len(code)):
                                self.icd_under.setdefault(code[:n], set()).add(ident)
                        else:
                            exact.setdefault((system, code), []).append(ident)
            for words in concept.names:
                if concept.kind is ConceptKind.MEDICATION:
                    self.first_words.setdefault(words[0], []).append((words, ident))
                    if len(words) == 1 and len(words[0]) >= _NEAR_MIN and words[0].isalpha():
                        self.drug_words.setdefault(words[0][0], {}).setdefault(words[0], []).append(
                            ident
                        )
                else:
                    self.whole_names.setdefault(words, []).append(ident)

    def holding(
        self, codes: Iterable[tuple[str, str]], words: Sequence[str]
    ) -> tuple[frozenset[int], frozenset[int]]:
        """``id()`` of every set that holds a record with these codes and name words, and of
        every set of which it is a possible member only."""
        found: set[int] = set()
        maybe: set[int] = set()
        for system, code in codes:
            if system == "icd10cm":
                decided = self._icd(code, under=False)
            elif system == "icd10":
                decided = self._who(code)
            else:
                found.update(self.exact.get((system, code), ()))
                maybe.update(self.possible_exact.get((system, code), ()))
                continue
            for ident, member in decided.items():
                (found if member else maybe).add(ident)
        if words:
            found.update(self.whole_names.get(tuple(words), ()))
            for start, word in enumerate(words):
                for name, ident in self.first_words.get(word, ()):
                    if tuple(words[start : start + len(name)]) == name:
                        found.add(ident)
        return frozenset(found), frozenset(maybe - found)

    def near_misses(self, words: Sequence[str]) -> dict[int, str]:
        """Medication sets whose one-word member names a word of ``words`` nearly spells, each
        with the member name it resembles (see "Near misses"); call it only for a name that
        matched no set. Answers are cached, at most ``_NEAR_CACHE`` names."""
        key = tuple(words)
        found = self._near.get(key)
        if found is None:
            found = {}
            for word in key:
                if len(word) < _NEAR_MIN or word in _FORM_WORDS or not word.isalpha():
                    continue
                allowed = 1 if len(word) <= 9 else 2
                for name, idents in self.drug_words.get(word[0], {}).items():
                    if abs(len(name) - len(word)) <= allowed and (
                        0 < _distance(word, name, allowed) <= allowed
                    ):
                        for ident in idents:
                            found.setdefault(ident, name)
            if len(self._near) >= _NEAR_CACHE:
                self._near.clear()
            self._near[key] = found
        return found

    def _icd(self, code: str, *, under: bool) -> dict[int, bool]:
        """The sets an ICD-10-CM code belongs to (True) or possibly belongs to (False): the
        longest listed prefix decides. With ``under``, a set that lists a more specific code
        than ``code`` and decides nothing by prefix holds it possibly: the code may be that one.
        """
        longest: dict[int, bool] = {}
        for n in range(1, min(len(code), self.longest_icd) + 1):
            longest.update(dict.fromkeys(self.icd.get(code[:n], ()), True))
            longest.update(dict.fromkeys(self.possible_icd.get(code[:n], ()), False))
        if under:
            for ident in self.icd_under.get(code, ()):
                longest.setdefault(ident, False)
        return longest

    def _who(self, code: str) -> dict[int, bool]:
        """The sets a WHO ICD-10 code belongs to, or possibly belongs to, through the ICD-10-CM
        codes that cover it (see "WHO ICD-10"): a member of a set when every covering code is,
        a possible member when some covering code is one or may be."""
        covers = who_covers(code)
        each = [self._icd(cover, under=True) for cover in covers]
        decided: dict[int, bool] = {}
        for part in each:
            for ident in part:
                decided[ident] = all(other.get(ident) is True for other in each)
        return decided


#: Near misses: drug-name words of at least this many letters, ...
_NEAR_MIN: Final = 5
#: ... and at most this many record names remembered per library.
_NEAR_CACHE: Final = 4096
#: Words of RxNorm dose forms and salts: a record's word that is one of them is no misspelt drug.
_FORM_TEXT: Final = (
    "tablet tablets capsule capsules solution suspension injection injectable extended release "
    "delayed chewable disintegrating topical nasal spray inhalation inhaler metered powder cream "
    "ointment patch transdermal rectal sublingual buccal syrup elixir drops ophthalmic vaginal "
    "prefilled syringe injector hydrochloride sulfate sodium potassium acetate maleate mesylate "
    "besylate tartrate citrate phosphate bromide chloride bitartrate"
)
_FORM_WORDS: Final = frozenset(_FORM_TEXT.split())


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance of ``a`` and ``b`` counting a swap of two neighbours as one edit (optimal
    string alignment); any answer above ``limit`` is ``limit + 1``."""
    before: list[int] | None = None
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cost = x != y
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if before is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return min(previous[-1], limit + 1)


@dataclass(frozen=True)
class ConceptLibrary:
    """All concept sets available to a set of trials, by name."""

    sets: Mapping[str, ConceptSet]

    def __post_init__(self) -> None:
        index = ConceptIndex(self.sets.values())
        for concept in self.sets.values():
            object.__setattr__(concept, "index", index)

    def __contains__(self, name: object) -> bool:
        return name in self.sets

    def __getitem__(self, name: str) -> ConceptSet:
        return self.sets[name]

    def names(self, kind: ConceptKind | None = None) -> list[str]:
        return sorted(n for n, s in self.sets.items() if kind is None or s.kind is kind)


class _WhoDifference(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    who: str
    cm: tuple[CodeText, ...] = Field(min_length=1)
    why: str


class _WhoTable(BaseModel):
    """``matcher/icd10_who.yaml``: where WHO ICD-10 and ICD-10-CM do not agree."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    core_length: int
    differences: dict[str, _WhoDifference]


@cache
def who_table() -> _WhoTable:
    """The WHO / ICD-10-CM difference table shipped beside this module (read once)."""
    text = (Path(__file__).parent / "icd10_who.yaml").read_text(encoding="utf-8")
    return _WhoTable.model_validate(yaml.safe_load(text))


@cache
def _who_index() -> tuple[int, dict[str, tuple[str, ...]]]:
    table = who_table()
    covers = {
        canonical_code("icd10", who): tuple(canonical_code("icd10cm", c) for c in entry.cm)
        for who, entry in table.differences.items()
    }
    return table.core_length, covers


def who_covers(code: str) -> tuple[str, ...]:
    """The ICD-10-CM codes (canonical) that together mean what the WHO ICD-10 ``code``
    (canonical) means: the same code up to its fourth character, unless the difference table
    says otherwise for it or its category."""
    length, covers = _who_index()
    core = code[:length]
    for n in range(len(core), 2, -1):
        found = covers.get(core[:n])
        if found is not None:
            return found
    return (core,)


def bundled_concepts_dir() -> Path:
    """The concept sets shipped with the package (also from a source checkout)."""
    return bundled_catalog_dir() / "concepts"


@dataclass(frozen=True, slots=True)
class _SetFile:
    """A concept set file as read: the model, its file name, and the positions of its text."""

    spec: ConceptSetFile
    file: str
    document: Document

    def diagnostic(self, code: str, message: str, path: tuple[str | int, ...]) -> Diagnostic:
        where, line, column = self.document.locate(path)
        return Diagnostic(code, message, self.file, line, column, where)


def load_concepts(dirs: Sequence[Path]) -> ConceptLibrary:
    """Load every ``*.yaml`` and ``*.yml`` in ``dirs``; a set in a later folder replaces one of
    the same name.

    Raises ``CriteriaError`` listing every problem in every file, each at its line and column.
    """
    problems: list[Diagnostic] = []
    files: dict[str, _SetFile] = {}
    for folder in dirs:
        local: dict[str, str] = {}
        paths = sorted(p for p in folder.iterdir() if p.name.endswith((".yaml", ".yml")))
        for path in paths:
            if path.name.startswith(".") or not path.is_file():
                continue
            read = read_model(path, ConceptSetFile, problems)
            if read is None:
                continue
            parsed = _SetFile(read[1], str(path), read[0])
            name = parsed.spec.name
            if name in local:
                message = f"concept set {name!r} is also defined in {local[name]}"
                problems.append(parsed.diagnostic("duplicate-concept", message, ("name",)))
                continue
            if path.stem != name:
                message = f"the file of concept set {name!r} must be named {name}{path.suffix}"
                problems.append(parsed.diagnostic("file-name", message, ("name",)))
            local[name] = str(path)
            files[name] = parsed
    resolved = _resolve(files, problems)
    if problems:
        raise CriteriaError(problems)
    return ConceptLibrary(resolved)


def _resolve(files: Mapping[str, _SetFile], problems: list[Diagnostic]) -> dict[str, ConceptSet]:
    """Flatten ``includes`` (checking names, kinds and cycles) and index each set for matching.

    A problem with an include is reported once, at the ``includes`` entry that names it.
    """
    resolved: dict[str, ConceptSet] = {}
    reported: set[tuple[str, int]] = set()

    def report(parent: str, index: int, code: str, message: str) -> None:
        if (parent, index) not in reported:
            reported.add((parent, index))
            problems.append(files[parent].diagnostic(code, message, ("includes", index)))

    for name, top in sorted(files.items()):
        spec = top.spec
        members: dict[str, dict[str, str]] = {}
        possible: dict[str, dict[str, str]] = {}
        words: set[tuple[str, ...]] = set()
        seen: set[str] = set()
        # (set, the sets that include it on the way here, the entry that named it)
        stack: list[tuple[str, tuple[str, ...], tuple[str, int] | None]] = [(name, (), None)]
        broken = False
        while stack:
            current, trail, via = stack.pop()
            if current in trail:
                assert via is not None
                cycle = " -> ".join((*trail, current))
                report(*via, "concept-cycle", f"concept sets include each other: {cycle}")
                broken = True
                break
            if current in seen:
                continue
            seen.add(current)
            if current not in files:
                assert via is not None
                hint = suggest(current, tuple(files))
                report(*via, "unknown-concept", f"unknown concept set {current!r}{hint}")
                broken = True
                continue
            part = files[current].spec
            if part.kind is not spec.kind:
                assert via is not None  # the parent is of the top set's kind, or it was reported
                message = (
                    f"{current!r} is a {part.kind} set; a {spec.kind} set can only "
                    f"include {spec.kind} sets"
                )
                report(*via, "concept-kind", message)
                broken = True
                continue
            for system, codes in part.codes.items():
                members.setdefault(system, {}).update(codes)
            for system, codes in part.possible.items():
                possible.setdefault(system, {}).update(codes)
            words.update(normalise_name(n) for n in part.names)
            stack.extend(
                (child, (*trail, current), (current, i)) for i, child in enumerate(part.includes)
            )
        if broken:
            continue
        codes_by_system = {
            system: frozenset(canonical_code(system, code) for code in codes)
            for system, codes in members.items()
        }
        # A code that some included set lists as a member is a member here too.
        possible = {
            system: {c: d for c, d in codes.items() if c not in members.get(system, {})}
            for system, codes in possible.items()
        }
        possible = {system: codes for system, codes in possible.items() if codes}
        by_first: dict[str, list[tuple[str, ...]]] = {}
        for entry in words:
            if entry:
                by_first.setdefault(entry[0], []).append(entry)
        listed_icd = [*codes_by_system.get("icd10cm", ()), *possible.get("icd10cm", {})]
        icd_lengths = tuple(sorted({len(canonical_code("icd10cm", c)) for c in listed_icd}))
        resolved[name] = ConceptSet(
            name=name,
            kind=spec.kind,
            title=spec.title,
            description=spec.description,
            source=spec.source,
            file=top.file,
            unit=spec.unit,
            atc=spec.atc,
            includes=spec.includes,
            codes=codes_by_system,
            names=frozenset(w for w in words if w),
            members={s: dict(sorted(c.items())) for s, c in sorted(members.items())},
            possible_codes={
                system: frozenset(canonical_code(system, code) for code in codes)
                for system, codes in possible.items()
            },
            possible={s: dict(sorted(c.items())) for s, c in sorted(possible.items())},
            _by_first_word={k: tuple(v) for k, v in by_first.items()},
            _icd_lengths=icd_lengths,
        )
    return resolved


def ingredient_set(ingredient: str) -> ConceptSet:
    """An ad-hoc medication set of one ingredient name (``medication: {ingredient: ...}``)."""
    words = normalise_name(ingredient)
    return ConceptSet(
        name=f"ingredient:{ingredient}",
        kind=ConceptKind.MEDICATION,
        title=ingredient,
        description=f"the ingredient {ingredient}",
        source="criteria file",
        file="",
        unit=None,
        atc=(),
        includes=(),
        codes={},
        names=frozenset({words}) if words else frozenset(),
        members={},
        _by_first_word={words[0]: (words,)} if words else {},
    )
