"""Engines decide leaf rules; everything else is shared (``matcher.evaluation.evaluate``).

* ``python`` (default): plain Python over records indexed by concept set. Fast, thread-safe.
* ``durable``: the same compiled rules as durable-rules (Rete) rulesets; an independent second
  implementation, checked against the first by a differential test. Imported only when asked for.
"""

from __future__ import annotations

from typing import Final

from matcher.core.errors import EngineError
from matcher.evaluation.evaluate import Engine

__all__ = ["ENGINES", "get_engine"]

#: Engine names accepted by ``check(..., engine=...)`` and ``matcher check --engine``.
ENGINES: Final = ("python", "durable")


def get_engine(name: str) -> Engine:
    """The engine called ``name``; ``EngineError`` if unknown or not installed here."""
    if name == "python":
        from matcher.evaluation.engines.python import PYTHON_ENGINE

        return PYTHON_ENGINE
    if name == "durable":
        from matcher.evaluation.engines.durable import durable_engine

        return durable_engine()
    raise EngineError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
