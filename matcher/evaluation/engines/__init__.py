"""The engine contract: engines decide leaf rules; everything else is shared.

An engine is an object with a ``name`` and a ``decide`` method (``Engine``): given compiled trials
and one patient's facts it returns the result of every leaf rule, by the leaf's ``key``. How it
finds the records that satisfy a leaf is its own business; what those records mean (outcome,
reason, evidence) is ``matcher.evaluation.leaves.leaf_result``, and how leaves combine into
criteria, verdicts and ranks is ``matcher.evaluation.evaluate``, both shared, so two engines that
find the same records give the same results. ``check(..., engine=...)`` takes an ``Engine`` or
the name of a bundled one:

* ``python`` (default): plain Python over records indexed by concept set. Fast, thread-safe.
* ``durable``: the same compiled rules as durable-rules (Rete) rulesets; an independent second
  implementation, checked against the first by a differential test. Imported only when asked for.

An engine that can also decide leaves without wording them (``WordsOnDemand``, as both bundled
ones can) makes checks that explain few trials cheaper: verdicts, scores and ranks need outcomes
only (``decide``).

The batch contract (many patients in, an outcome matrix out, explanations on demand) is
``matcher.evaluation.batch``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, Protocol, cast, runtime_checkable

from matcher.core.errors import Diagnostic, EngineError, InputError
from matcher.criteria.compiler import CompiledTrial
from matcher.evaluation.facts import PatientFacts
from matcher.evaluation.leaves import LeafResult

__all__ = ["ENGINES", "Engine", "WordsOnDemand", "decide", "get_engine"]

#: Engine names accepted by ``check(..., engine=...)`` and ``matcher check --engine``.
ENGINES: Final = ("python", "durable")


@runtime_checkable
class Engine(Protocol):
    """Decides the leaf rules of trials for one patient's facts.

    ``decide`` is called once per patient and as-of date (and once more for each trial whose
    "eligible from" date is confirmed); it must return a result for every leaf of ``trials``
    and may be called from several threads unless the engine says otherwise."""

    #: Reported in every result (``CheckResult.engine``).
    name: str

    def decide(
        self, trials: Sequence[CompiledTrial], facts: PatientFacts
    ) -> Mapping[int, LeafResult]:
        """Leaf results by leaf ``key``, for every leaf of ``trials``."""
        ...


class WordsOnDemand(Engine, Protocol):
    """An engine that can decide leaves without wording them (``words=False``: outcomes and the
    days they change only, see ``matcher.evaluation.leaves.leaf_result``), for checks that
    explain few trials or none. It says so with ``words_on_demand = True``; other engines are
    always asked for words."""

    words_on_demand: bool

    def decide(
        self, trials: Sequence[CompiledTrial], facts: PatientFacts, *, words: bool = True
    ) -> Mapping[int, LeafResult]:
        """Leaf results by leaf ``key``; without ``words``, bare ones."""
        ...


def decide(
    engine: Engine, trials: Sequence[CompiledTrial], facts: PatientFacts, *, words: bool
) -> Mapping[int, LeafResult]:
    """``engine.decide``, without words when they are not wanted and the engine can skip them."""
    if words or not getattr(engine, "words_on_demand", False):
        return engine.decide(trials, facts)
    return cast(WordsOnDemand, engine).decide(trials, facts, words=False)


def get_engine(engine: Engine | str) -> Engine:
    """The engine ``engine`` names, or ``engine`` itself when it is one.

    ``EngineError`` for an unknown name or one not installed here; ``InputError`` for an object
    that is neither a name nor an engine."""
    if isinstance(engine, str):
        if engine == "python":
            from matcher.evaluation.engines.python import PYTHON_ENGINE

            return PYTHON_ENGINE
        if engine == "durable":
            from matcher.evaluation.engines.durable import durable_engine

            return durable_engine()
        raise EngineError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if isinstance(engine, Engine) and isinstance(engine.name, str):
        return engine
    raise InputError(
        Diagnostic(
            "invalid-argument",
            "expected an engine name ("
            + ", ".join(ENGINES)
            + f") or an object with a name and a decide method, got {type(engine).__name__}",
            "<check>",
            path="engine",
        )
    )
