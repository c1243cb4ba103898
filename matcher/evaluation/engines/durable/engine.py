"""The durable engine: trials compiled into cached rulesets, evaluated one at a time.

**Caching.** A trial is compiled once, into rulesets cached by the keys of its leaves (unique in
a process, so they identify the leaves' content). The entry and its C rulesets are deleted once
every trial object that used it has been garbage-collected. Within one evaluation a leaf shared
by several trials is decided by the first ruleset holding it; later rulesets get no facts for it.

**Concurrency.** The C core is not thread-safe: one evaluation runs at a time in a process (a
module lock, re-created in a forked child). ``decide`` may be called from many threads, but they
queue; for parallel work use processes (``multiprocessing``, ``ProcessPoolExecutor``), each with
its own engine and rulesets. The python engine has no lock and is the one for threads.

**Failures.** Any exception while reading the firings, like any C-core error, is raised as
``EngineError`` naming the trial, never a patient value; the ruleset that failed is retired and
compiled again for the next evaluation (``sessions``).
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from matcher.core.errors import EngineError
from matcher.criteria.compiler import CompiledTrial, Leaf
from matcher.evaluation.engines.durable import encoding
from matcher.evaluation.engines.durable.native import Native, describe, load
from matcher.evaluation.engines.durable.rules import Found, chunks, collect, definition
from matcher.evaluation.engines.durable.sessions import Ruleset, Sessions
from matcher.evaluation.facts import PatientFacts
from matcher.evaluation.leaves import LeafResult, Matches, leaf_result

__all__ = ["DurableEngine", "durable_engine"]

_LOCK = threading.Lock()


def _new_lock() -> None:
    global _LOCK  # noqa: PLW0603 - a forked child must not inherit a lock held by another thread
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock)


@dataclass(eq=False)
class _Entry:
    """The rulesets of one trial's leaves, and the ``id``s of the live trials that use them."""

    leaves: tuple[Leaf, ...]
    rulesets: list[Ruleset]
    owners: set[int] = field(default_factory=set)


class DurableEngine:
    """Leaf rules decided by durable-rules rulesets (see ``matcher.evaluation.engines.durable``).

    Use ``durable_engine()``: there is one per process."""

    name = "durable"
    #: ``decide`` takes ``words`` (see ``matcher.evaluation.engines.WordsOnDemand``).
    words_on_demand = True

    def __init__(self, native: Native) -> None:
        self._sessions = Sessions(native)
        self._cache: dict[tuple[int, ...], _Entry] = {}
        #: ``(leaf keys, id(trial))`` of trials that have died, appended by finalizers (which may
        #: run in any thread, even inside an evaluation) and handled under the lock.
        self._released: collections.deque[tuple[tuple[int, ...], int]] = collections.deque()

    @property
    def rulesets(self) -> int:
        """How many compiled rulesets the engine holds now."""
        with _LOCK:
            self._release()
            return sum(len(entry.rulesets) for entry in self._cache.values())

    def close(self) -> None:
        """Delete every compiled ruleset; they are compiled again when next needed."""
        with _LOCK:
            for entry in self._cache.values():
                self._sessions.retire(entry.rulesets)
            self._cache.clear()

    def decide(
        self, trials: Sequence[CompiledTrial], facts: PatientFacts, *, words: bool = True
    ) -> Mapping[int, LeafResult]:
        leaves = {leaf.key: leaf for trial in trials for leaf in trial.leaves}
        found = self.matches(trials, facts)
        return {key: leaf_result(leaves[key], facts, found[key], words=words) for key in leaves}

    def matches(self, trials: Sequence[CompiledTrial], facts: PatientFacts) -> dict[int, Matches]:
        """The records matching every leaf of ``trials``, by leaf key."""
        decided: dict[int, Matches] = {}
        with _LOCK:
            self._release()
            for trial in trials:
                for ruleset in self._rulesets(trial):
                    todo = [s for s, leaf in enumerate(ruleset.leaves) if leaf.key not in decided]
                    if todo:
                        self._evaluate(trial, ruleset, todo, facts, decided)
        return decided

    # -- compiling and caching --

    def _rulesets(self, trial: CompiledTrial) -> list[Ruleset]:
        keys = tuple(leaf.key for leaf in trial.leaves)
        entry = self._cache.get(keys)
        if entry is None:
            entry = self._cache[keys] = _Entry(trial.leaves, self._compile(trial, trial.leaves))
        elif any(ruleset.retired for ruleset in entry.rulesets):
            self._sessions.retire(entry.rulesets)
            entry.rulesets = self._compile(trial, entry.leaves)
        if id(trial) not in entry.owners:
            # A trial that cannot be weakly referenced keeps its entry for the process's life.
            with contextlib.suppress(TypeError):
                weakref.finalize(trial, self._released.append, (keys, id(trial)))
            entry.owners.add(id(trial))
        return entry.rulesets

    def _compile(self, trial: CompiledTrial, leaves: Sequence[Leaf]) -> list[Ruleset]:
        rulesets: list[Ruleset] = []
        try:
            for chunk in chunks(leaves):
                text, targets = definition(chunk)
                members = tuple(leaf for leaf, _ in chunk)
                rulesets.append(self._sessions.create(trial.id, members, text, targets))
        except BaseException:
            self._sessions.retire(rulesets)
            raise
        return rulesets

    def _release(self) -> None:
        """Delete the rulesets of trials that no longer exist (called under the lock)."""
        while self._released:
            keys, owner = self._released.popleft()
            entry = self._cache.get(keys)
            if entry is None:
                continue
            entry.owners.discard(owner)
            if not entry.owners:
                del self._cache[keys]
                self._sessions.retire(entry.rulesets)

    # -- evaluating --

    def _evaluate(
        self,
        trial: CompiledTrial,
        ruleset: Ruleset,
        slots: Sequence[int],
        facts: PatientFacts,
        decided: dict[int, Matches],
    ) -> None:
        groups = [encoding.leaf_facts(ruleset.leaves[slot], slot, facts) for slot in slots]
        found = Found(len(ruleset.leaves))
        for batch in encoding.batches(groups):
            messages = self._sessions.run(trial.id, ruleset, batch)
            try:
                collect(ruleset.targets, messages, found)
            except EngineError:
                raise
            except Exception as exc:
                raise EngineError(
                    f"the durable-rules engine failed on trial {trial.id} "
                    f"while reading its fired rules: {describe(exc)}"
                ) from exc
        for slot in slots:
            leaf = ruleset.leaves[slot]
            decided[leaf.key] = found.matches(leaf, slot)


_ENGINE: DurableEngine | None = None


def durable_engine() -> DurableEngine:
    """The process-wide durable-rules engine.

    Raises ``EngineError`` on Python 3.13 or later and when durable-rules cannot be imported."""
    global _ENGINE  # noqa: PLW0603 - one engine (and one set of C rulesets) per process
    if _ENGINE is not None:
        return _ENGINE
    native = load()
    with _LOCK:
        if _ENGINE is None:
            _ENGINE = DurableEngine(native)
        return _ENGINE
