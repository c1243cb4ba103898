"""From validated criteria files to immutable, resolved rule trees.

This stage resolves every name a criterion uses -- concept sets, patient attributes, units --
and reports each unresolved name as a located diagnostic with a "did you mean" hint, all at load
time, so that evaluation never meets a typo. The result, ``CompiledTrial``, is immutable and is
reused for every patient; it is safe to share between threads.

Identical leaf rules (same concept set, same window, same bounds) are interned across all the
trials loaded together: each distinct leaf carries a unique ``key``, and an evaluation computes
each key once per patient however many trials use it. Identical composite rules and identical
criteria are shared the same way, so their results are also built once per patient (the node
sharing of a Rete network, done at compile time).
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Final, Literal, TypeVar, assert_never

from matcher.core.codes import canonical_unit, display_unit, unit_factor
from matcher.core.dates import Duration
from matcher.core.errors import CriteriaError, Diagnostic, suggest
from matcher.core.source import Document
from matcher.core.terms import ATTRIBUTES, Sex
from matcher.core.validation import read_model
from matcher.criteria.concepts import (
    ConceptKind,
    ConceptLibrary,
    ConceptSet,
    bundled_concepts_dir,
    ingredient_set,
    load_concepts,
)
from matcher.criteria.schema import (
    DEFAULT_MIN_READINGS,
    AgeRule,
    Aggregate,
    AllRule,
    AnyRule,
    AtLeastRule,
    AttributeRule,
    ConditionRule,
    Example,
    LactatingRule,
    MedicationRule,
    NotRule,
    ObservationRule,
    PregnantRule,
    Rule,
    SexRule,
    Site,
    StatusSpec,
    TrialFile,
    phases_text,
)

__all__ = [
    "AgeLeaf",
    "AllNode",
    "AnyNode",
    "AtLeastNode",
    "AttributeLeaf",
    "Catalog",
    "CompiledCriterion",
    "CompiledTrial",
    "ConditionLeaf",
    "Leaf",
    "MedicationLeaf",
    "Node",
    "NotNode",
    "ObservationLeaf",
    "SexLeaf",
    "StatusLeaf",
    "load_catalog",
]

CriterionKind = Literal["inclusion", "exclusion"]
_Shared = TypeVar("_Shared", "AllNode", "AnyNode", "NotNode", "AtLeastNode", "CompiledCriterion")

_KEYS: Final = itertools.count()
_KEYS_LOCK: Final = threading.Lock()


def _next_key() -> int:
    with _KEYS_LOCK:
        return next(_KEYS)


# --- the compiled tree -------------------------------------------------------------------------
# Leaves compare by content (``key`` excluded) so that identical leaves can be interned.


@dataclass(frozen=True, slots=True)
class AgeLeaf:
    min: int | None
    max: int | None
    key: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class SexLeaf:
    values: frozenset[Sex]
    key: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class AttributeLeaf:
    name: str
    values: frozenset[str] | None
    expected: bool | None
    key: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class ConditionLeaf:
    """A condition of a concept set: active on the as-of date (``present``), on some day of the
    last ``active_within`` (then ``status`` is ``ever``), or ever; with an optional onset window."""

    concept: ConceptSet
    status: Literal["present", "ever"]
    onset_at_least: Duration | None
    onset_within: Duration | None
    active_within: Duration | None = None
    key: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class MedicationLeaf:
    """Use of a medication: on the as-of date (``within`` None, ``ever`` false), within a span
    before it, or ever (``ever`` true)."""

    concept: ConceptSet
    within: Duration | None
    ever: bool = False
    key: int = field(default=-1, compare=False)


@dataclass(frozen=True, slots=True)
class ObservationLeaf:
    """Readings of a concept set within the last ``within``: the latest one, or an ``aggregate``
    of them (computed from at least ``min_readings``), against the bounds."""

    concept: ConceptSet
    within: Duration
    low: float | None
    low_inclusive: bool
    high: float | None
    high_inclusive: bool
    unit: str | None
    aggregate: Aggregate = "latest"
    min_readings: int = 1
    key: int = field(default=-1, compare=False)

    def in_range(self, value: float) -> bool:
        if self.low is not None and (
            value < self.low or (value == self.low and not self.low_inclusive)
        ):
            return False
        return not (
            self.high is not None
            and (value > self.high or (value == self.high and not self.high_inclusive))
        )

    def bounds_text(self) -> str:
        unit = display_unit(self.unit)
        if (
            self.low is not None
            and self.high is not None
            and self.low_inclusive
            and self.high_inclusive
        ):
            return f"{self.low:g}-{self.high:g}{unit}"
        parts = []
        if self.low is not None:
            parts.append(f"{'at least' if self.low_inclusive else 'above'} {self.low:g}{unit}")
        if self.high is not None:
            parts.append(f"{'at most' if self.high_inclusive else 'below'} {self.high:g}{unit}")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class StatusLeaf:
    """Pregnancy (``what='pregnant'``) or lactation (``what='lactating'``)."""

    what: Literal["pregnant", "lactating"]
    within: Duration
    childbearing_min: int | None
    childbearing_max: int | None
    key: int = field(default=-1, compare=False)


# Every rule kind has one case in each of these dispatches, and nowhere else: each is an
# exhaustive ``match`` (or ``isinstance`` chain) ending in ``assert_never``, so mypy names every
# place a new member of ``Leaf`` is not handled, and ``tests/test_rule_kinds.py`` sends every kind
# through each of them (and an unknown kind, which each must refuse):
#
#   format       its rule model in ``matcher.criteria.schema`` (a member of ``Rule``)
#   compiling    its leaf class here, its case in ``_Compiler.leaf``; ``iter_leaves`` and
#                ``leaf_concept`` (the concept set it reads, part of the trial's digest)
#   matching     ``matcher.evaluation.engines.python.match``; the durable encoding:
#                ``durable.encoding.window`` and ``leaf_facts``, ``durable.rules.leaf_rules``
#                and ``Found.matches``; ``matcher.panel.columnar._leaf_states`` (panel columns)
#   meaning      ``matcher.evaluation.leaves.leaf_result`` (outcome, reason, evidence, dates)
#   wording      ``matcher.render.text.describe_rule``
Leaf = (
    AgeLeaf
    | SexLeaf
    | AttributeLeaf
    | ConditionLeaf
    | MedicationLeaf
    | ObservationLeaf
    | StatusLeaf
)


@dataclass(frozen=True, slots=True)
class AllNode:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyNode:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class NotNode:
    child: Node


@dataclass(frozen=True, slots=True)
class AtLeastNode:
    """``count`` or more of ``children`` hold (``all`` is every child, ``any`` one)."""

    count: int
    children: tuple[Node, ...]


Node = Leaf | AllNode | AnyNode | NotNode | AtLeastNode
#: The composite nodes: every other node is a leaf with a ``key``.
COMPOSITES: Final = (AllNode, AnyNode, NotNode, AtLeastNode)


def iter_leaves(node: Node) -> Iterator[Leaf]:
    """Every leaf under ``node``, left to right."""
    stack: list[Node] = [node]
    while stack:
        current = stack.pop()
        match current:
            case AllNode() | AnyNode() | AtLeastNode():
                stack.extend(reversed(current.children))
            case NotNode():
                stack.append(current.child)
            case (
                AgeLeaf()
                | SexLeaf()
                | AttributeLeaf()
                | ConditionLeaf()
                | MedicationLeaf()
                | ObservationLeaf()
                | StatusLeaf()
            ):
                yield current
            case _:
                assert_never(current)


def leaf_concept(leaf: Leaf) -> ConceptSet | None:
    """The concept set whose records ``leaf`` reads; ``None`` for a leaf about the patient
    (age, sex, an attribute) or a pregnancy or lactation status."""
    match leaf:
        case ConditionLeaf() | MedicationLeaf() | ObservationLeaf():
            return leaf.concept
        case AgeLeaf() | SexLeaf() | AttributeLeaf() | StatusLeaf():
            return None
        case _:
            assert_never(leaf)


@dataclass(frozen=True, slots=True)
class CompiledCriterion:
    id: str
    kind: CriterionKind
    description: str
    source: str
    rule: Node | None
    review: str | None
    applies_to: Node | None = None
    #: The registry text is not fully encoded: ``review`` blocks ``eligible`` (see ``ReviewKind``).
    pending: bool = False
    #: The leaf's key when the rule is one bare leaf and there is no ``applies_to`` (the common
    #: case, evaluated without intermediate results); -1 otherwise.
    leaf_key: int = -1
    #: Unique among all criteria compiled in this process; equal criteria share one.
    key: int = field(default=-1, compare=False)


@dataclass(frozen=True)
class CompiledTrial:
    """One trial, resolved and immutable."""

    id: str
    title: str
    phase: str | None
    status: str
    sponsor: str
    conditions: tuple[str, ...]
    registry_url: str
    last_reviewed: date
    notes: str | None
    not_recovered: tuple[str, ...]
    criteria: tuple[CompiledCriterion, ...]
    examples: tuple[Example, ...]
    file: str
    leaves: tuple[Leaf, ...] = field(repr=False)
    #: Keys of ``criteria`` in order, and a getter taking their values out of a mapping by key at
    #: C speed (the evaluation builds one table per patient and slices each trial out of it).
    #: Registry metadata an importer fills in (``matcher import``); empty for hand-written files.
    keywords: tuple[str, ...] = ()
    last_updated: date | None = None
    sites: tuple[Site, ...] = field(repr=False, default=())
    criterion_keys: tuple[int, ...] = field(repr=False, default=())
    pick: Callable[[Mapping[int, Any]], Any] | None = field(repr=False, default=None)
    #: How many criteria have a rule (the denominator of the score).
    ruled: int = field(repr=False, default=0)
    #: ``sha256:...`` of the trial file and the files of the concept sets it uses, as read.
    digest: str = field(repr=False, default="")


def catalog_digest(trials: Iterable[CompiledTrial]) -> str:
    """``sha256:...`` of a set of trials: of each trial's id and ``digest``, in id order. Equal
    digests mean the same criteria and concept sets, byte for byte, wherever the files are."""
    found = hashlib.sha256()
    for ident, digest in sorted((t.id, t.digest) for t in trials):
        found.update(f"{ident}\0{digest}\n".encode())
    return f"sha256:{found.hexdigest()}"


def _trial_digest(trial: CompiledTrial, concepts: ConceptLibrary, read: dict[str, bytes]) -> str:
    """The ``digest`` of a compiled trial (``read`` caches file contents by path)."""

    def text(path: str) -> bytes:
        if path not in read:
            try:
                read[path] = Path(path).read_bytes() if path else b""
            except OSError:  # pragma: no cover - the file was read a moment ago
                read[path] = b""
        return read[path]

    found = hashlib.sha256(text(trial.file))
    named: dict[str, str] = {}
    waiting = [c for leaf in trial.leaves if (c := leaf_concept(leaf)) is not None]
    while waiting:
        concept = waiting.pop()
        if concept.name in named:
            continue
        named[concept.name] = concept.file
        waiting.extend(concepts[name] for name in concept.includes if name in concepts)
    for name, path in sorted(named.items()):
        found.update(f"\0{name}\0".encode())
        found.update(text(path) if path != trial.file else b"")
    return f"sha256:{found.hexdigest()}"


@dataclass(frozen=True)
class Catalog:
    """Trials loaded together, the concept sets they use, and the files that failed to load."""

    trials: tuple[CompiledTrial, ...]
    concepts: ConceptLibrary
    problems: tuple[Diagnostic, ...] = ()
    #: Every distinct (shared) criterion of ``trials``, once.
    criteria: tuple[CompiledCriterion, ...] = field(init=False, repr=False)
    #: ``catalog_digest`` of ``trials``.
    digest: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        distinct = {c.key: c for trial in self.trials for c in trial.criteria}
        object.__setattr__(self, "criteria", tuple(distinct.values()))
        object.__setattr__(self, "digest", catalog_digest(self.trials))

    def __iter__(self) -> Iterator[CompiledTrial]:
        return iter(self.trials)

    def __len__(self) -> int:
        return len(self.trials)

    def get(self, trial_id: str) -> CompiledTrial | None:
        return next((t for t in self.trials if t.id == trial_id), None)


# --- compiling one file ------------------------------------------------------------------------


class _Compiler:
    def __init__(
        self, document: Document, concepts: ConceptLibrary, interned: dict[Any, Any]
    ) -> None:
        self.document = document
        self.concepts = concepts
        self.interned = interned
        self.problems: list[Diagnostic] = []

    def problem(
        self, code: str, message: str, path: Sequence[str | int], *, at_key: bool = False
    ) -> None:
        where, line, column = self.document.locate(path, at_key=at_key)
        self.problems.append(Diagnostic(code, message, self.document.file, line, column, where))

    def intern(self, leaf: Leaf) -> Leaf:
        """The one shared copy of ``leaf``, with its unique key."""
        found = self.interned.get(leaf)
        if found is None:
            found = replace(leaf, key=_next_key())
            self.interned[found] = found
        return found

    def share(self, item: _Shared) -> _Shared:
        """The one shared copy of an equal composite node or criterion (evaluated once per
        patient however many trials hold it); a criterion gets its unique key."""
        found: _Shared | None = self.interned.get(item)
        if found is None:
            found = replace(item, key=_next_key()) if isinstance(item, CompiledCriterion) else item
            self.interned[found] = found
        return found

    def concept(self, name: str, kind: ConceptKind, path: Sequence[str | int]) -> ConceptSet | None:
        found = self.concepts.sets.get(name)
        if found is None:
            hint = suggest(name, self.concepts.names(kind)) or suggest(name, self.concepts.names())
            self.problem("unknown-concept", f"unknown {kind} concept set {name!r}{hint}", path)
            return None
        if found.kind is not kind:
            self.problem(
                "concept-kind",
                f"{name!r} is a {found.kind} concept set; this rule needs a {kind} set",
                path,
            )
            return None
        return found

    def rule(self, rule: Rule, path: tuple[str | int, ...]) -> Node | None:
        if isinstance(rule, AllRule | AnyRule):
            name = "all" if isinstance(rule, AllRule) else "any"
            members = rule.all if isinstance(rule, AllRule) else rule.any
            children = [self.rule(child, (*path, name, i)) for i, child in enumerate(members)]
            if any(child is None for child in children):
                return None
            kept = tuple(c for c in children if c is not None)
            if isinstance(rule, AllRule):
                return self.share(AllNode(kept))
            return self.share(AnyNode(kept))
        if isinstance(rule, NotRule):
            child = self.rule(rule.not_, (*path, "not"))
            return None if child is None else self.share(NotNode(child))
        if isinstance(rule, AtLeastRule):
            spec = rule.at_least
            parts = [
                self.rule(child, (*path, "at_least", "of", i)) for i, child in enumerate(spec.of)
            ]
            if any(part is None for part in parts):
                return None
            return self.share(AtLeastNode(spec.count, tuple(p for p in parts if p is not None)))
        leaf = self.leaf(rule, path)
        return None if leaf is None else self.intern(leaf)

    def leaf(self, rule: Rule, path: tuple[str | int, ...]) -> Leaf | None:
        """The compiled leaf of a leaf rule (one case per rule kind), or ``None`` after
        recording why it cannot be compiled."""
        match rule:
            case AgeRule():
                return AgeLeaf(rule.age.min, rule.age.max)
            case SexRule():
                return SexLeaf(frozenset(rule.sex))
            case AttributeRule():
                return self.attribute(rule, (*path, "attribute"))
            case ConditionRule():
                return self.condition(rule, (*path, "condition"))
            case MedicationRule():
                return self.medication(rule, (*path, "medication"))
            case ObservationRule():
                return self.observation(rule, (*path, "observation"))
            case PregnantRule():
                return self.status("pregnant", rule.pregnant)
            case LactatingRule():
                return self.status("lactating", rule.lactating)
            case AllRule() | AnyRule() | NotRule() | AtLeastRule():  # pragma: no cover
                raise AssertionError("composite rules are compiled by Compiler.rule")
            case _:
                assert_never(rule)

    def condition(self, rule: ConditionRule, path: tuple[str | int, ...]) -> Leaf | None:
        spec = rule.condition
        concept = self.concept(spec.concept, ConceptKind.CONDITION, (*path, "concept"))
        if concept is None:
            return None
        if spec.active_within is not None:
            return ConditionLeaf(concept, "ever", None, None, spec.active_within)
        return ConditionLeaf(concept, spec.status, spec.onset_at_least, spec.onset_within)

    def medication(self, rule: MedicationRule, path: tuple[str | int, ...]) -> Leaf | None:
        med = rule.medication
        found: ConceptSet | None
        if med.ingredient is not None:
            found = ingredient_set(med.ingredient)
            if not found.names:  # matching reads words: this one would never match
                self.problem(
                    "invalid-value",
                    "an ingredient needs Latin letters or digits (accents are folded): this "
                    "one gives no word to match, so it could never match a record",
                    (*path, "ingredient"),
                )
                found = None
        else:
            assert med.concept is not None
            found = self.concept(med.concept, ConceptKind.MEDICATION, (*path, "concept"))
        return None if found is None else MedicationLeaf(found, med.within, ever=med.ever is True)

    @staticmethod
    def status(what: Literal["pregnant", "lactating"], status: StatusSpec) -> Leaf:
        return StatusLeaf(
            what, status.within, status.childbearing_age.min, status.childbearing_age.max
        )

    def attribute(self, rule: AttributeRule, path: tuple[str | int, ...]) -> Leaf | None:
        spec = rule.attribute
        known = ATTRIBUTES.get(spec.name)
        if known is None:
            self.problem(
                "unknown-attribute",
                f"unknown patient attribute {spec.name!r}{suggest(spec.name, tuple(ATTRIBUTES))}",
                (*path, "name"),
            )
            return None
        if known.boolean:
            if spec.is_ is None:
                self.problem(
                    "unknown-attribute-value",
                    f"{spec.name!r} is true or false: use 'is: true' or 'is: false'",
                    (*path, "in"),
                )
                return None
            return AttributeLeaf(spec.name, None, spec.is_)
        if spec.in_ is None:
            self.problem(
                "unknown-attribute-value",
                f"{spec.name!r} takes values: use 'in: [...]'",
                (*path, "is"),
            )
            return None
        bad = False
        for i, value in enumerate(spec.in_):
            if value not in known.values:
                self.problem(
                    "unknown-attribute-value",
                    f"{spec.name!r} has no value {value!r}"
                    f"{suggest(value, known.values)} (values: {', '.join(known.values)})",
                    (*path, "in", i),
                )
                bad = True
        return None if bad else AttributeLeaf(spec.name, frozenset(spec.in_), None)

    def observation(self, rule: ObservationRule, path: tuple[str | int, ...]) -> Leaf | None:
        spec = rule.observation
        concept = self.concept(spec.concept, ConceptKind.OBSERVATION, (*path, "concept"))
        if concept is None:
            return None
        unit = canonical_unit(spec.unit) if spec.unit is not None else canonical_unit(concept.unit)
        if concept.unit is not None and unit_factor(concept.unit, unit) is None:
            self.problem(
                "unit-mismatch",
                f"{concept.name!r} is measured in {concept.unit!r}; "
                f"{spec.unit!r} is not convertible",
                (*path, "unit"),
            )
            return None
        low = spec.min if spec.min is not None else spec.above
        high = spec.max if spec.max is not None else spec.below
        readings = spec.min_readings or DEFAULT_MIN_READINGS.get(spec.aggregate, 1)
        return ObservationLeaf(
            concept,
            spec.within,
            low,
            spec.above is None,
            high,
            spec.below is None,
            unit,
            spec.aggregate,
            readings,
        )

    def trial(self, model: TrialFile) -> CompiledTrial | None:
        criteria: list[CompiledCriterion] = []
        seen: dict[str, tuple[str, int]] = {}
        before = len(self.problems)
        for kind in ("inclusion", "exclusion"):
            items = model.inclusion if kind == "inclusion" else model.exclusion
            for i, item in enumerate(items):
                if item.id in seen:
                    other = seen[item.id]
                    self.problem(
                        "duplicate-id",
                        f"criterion id {item.id!r} is already used by {other[0]}[{other[1]}]",
                        (kind, i, "id"),
                    )
                seen.setdefault(item.id, (kind, i))
                node = None if item.rule is None else self.rule(item.rule, (kind, i, "rule"))
                scope = (
                    None
                    if item.applies_to is None
                    else self.rule(item.applies_to, (kind, i, "applies_to"))
                )
                bare = (
                    node.key
                    if node is not None and not isinstance(node, COMPOSITES) and scope is None
                    else -1
                )
                criteria.append(
                    self.share(
                        CompiledCriterion(
                            item.id,
                            kind,
                            item.description,
                            item.source,
                            node,
                            item.review,
                            scope,
                            item.pending,
                            bare,
                        )
                    )
                )
        for i, example in enumerate(model.examples):
            for name in example.expect.criteria:
                if name not in seen:
                    self.problem(
                        "unknown-criterion",
                        f"the trial has no criterion {name!r}{suggest(name, tuple(seen))}",
                        ("examples", i, "expect", "criteria", name),
                        at_key=True,
                    )
        if len(self.problems) > before:
            return None
        leaves: dict[int, Leaf] = {}
        for criterion in criteria:
            for tree in (criterion.applies_to, criterion.rule):
                if tree is not None:
                    for leaf in iter_leaves(tree):
                        leaves.setdefault(leaf.key, leaf)
        return CompiledTrial(
            id=model.id,
            title=model.title,
            phase=model.phase or phases_text(model.phases),
            status=model.status.value,
            sponsor=model.sponsor,
            conditions=model.conditions,
            registry_url=model.registry_url,
            last_reviewed=model.last_reviewed,
            notes=model.notes,
            not_recovered=model.not_recovered,
            criteria=tuple(criteria),
            examples=model.examples,
            file=self.document.file,
            leaves=tuple(leaves.values()),
            keywords=model.keywords,
            last_updated=model.last_updated,
            sites=model.sites,
            criterion_keys=tuple(c.key for c in criteria),
            pick=operator.itemgetter(*(c.key for c in criteria)) if len(criteria) > 1 else None,
            ruled=sum(c.rule is not None for c in criteria),
        )


def _compile_file(
    path: Path, concepts: ConceptLibrary, interned: dict[Any, Any], problems: list[Diagnostic]
) -> CompiledTrial | None:
    read = read_model(path, TrialFile, problems)
    if read is None:
        return None
    document, model = read
    compiler = _Compiler(document, concepts, interned)
    trial = compiler.trial(model)
    problems.extend(compiler.problems)
    if trial is not None and path.stem != trial.id:
        problems.append(
            Diagnostic(
                "file-name",
                f"the file of trial {trial.id} must be named {trial.id}{path.suffix}",
                str(path),
                *document.positions.get(("id",), (1, 1)),
                "id",
            )
        )
        return None
    return trial


#: The names trial and concept files may have.
TRIAL_SUFFIXES: Final = (".yaml", ".yml")


def trial_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[Diagnostic]]:
    """Trial files named by ``paths``, the concept folders beside them, and the folders that
    hold no trial file.

    A folder gives every ``*.yaml`` and ``*.yml`` file in it and in its subfolders, in name
    order, except what is in a ``concepts/`` folder (concept sets: any ``concepts/`` folder in the
    tree is one) and what is hidden (a name starting with a dot, as editors' backup files have).
    """
    files: list[Path] = []
    concept_dirs: list[Path] = []
    empty: list[Diagnostic] = []
    for path in paths:
        if not path.is_dir():
            files.append(path)
            if (path.parent / "concepts").is_dir():
                concept_dirs.append(path.parent / "concepts")
            continue
        found: list[Path] = []
        for folder, subfolders, names in os.walk(path):
            here = Path(folder)
            subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
            if "concepts" in subfolders:
                subfolders.remove("concepts")
                concept_dirs.append(here / "concepts")
            found.extend(
                here / name
                for name in sorted(names)
                if name.endswith(TRIAL_SUFFIXES) and not name.startswith(".")
            )
        files.extend(sorted(found))
        if not found:
            empty.append(
                Diagnostic(
                    "no-trial-files",
                    "the folder holds no trial file (*.yaml or *.yml, in it or in a subfolder)",
                    str(path),
                )
            )
    return files, concept_dirs, empty


def load_catalog(paths: Sequence[Path], *, strict: bool = True) -> Catalog:
    """Load trial files (and folders of them) with the concept sets they need.

    Concept sets come from the bundled catalog, then from any ``concepts/`` folder beside the given
    files; a later set replaces a bundled one of the same name. With ``strict`` any problem raises
    ``CriteriaError``; without it, good files load and broken ones are listed in ``problems``
    (a broken concept set always raises: every trial may depend on it, and so does a folder that
    holds no trial file).
    """
    files, local_dirs, empty = trial_files(paths)
    if empty:  # nothing to screen against: never a silent "0 trials"
        raise CriteriaError(empty)
    dirs: list[Path] = []
    for folder in [bundled_concepts_dir(), *local_dirs]:
        if folder.is_dir() and all(folder.resolve() != d.resolve() for d in dirs):
            dirs.append(folder)
    concepts = load_concepts(dirs)
    problems: list[Diagnostic] = []
    interned: dict[Any, Any] = {}
    trials: list[CompiledTrial] = []
    owners: dict[str, str] = {}
    for path in files:
        trial = _compile_file(path, concepts, interned, problems)
        if trial is None:
            continue
        if trial.id in owners:
            problems.append(
                Diagnostic(
                    "duplicate-trial",
                    f"trial {trial.id} is also defined in {owners[trial.id]}",
                    str(path),
                    1,
                    1,
                    "id",
                )
            )
            continue
        owners[trial.id] = str(path)
        trials.append(trial)
    if strict and problems:
        raise CriteriaError(problems)
    ordered = sorted(problems, key=lambda d: (d.file, d.line, d.column, d.code, d.message))
    read: dict[str, bytes] = {}
    digested = tuple(replace(t, digest=_trial_digest(t, concepts, read)) for t in trials)
    return Catalog(digested, concepts, tuple(ordered))
