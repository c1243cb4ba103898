"""The one piece of state the service holds: the compiled catalog, swapped whole on reload.

A request reads ``CatalogHolder.current`` once and uses that ``Snapshot`` to the end, so a reload
in the middle of a request never mixes two catalogs. ``reload()`` compiles the files again
*strictly* and only then replaces the snapshot (one reference assignment, atomic in Python); if
any file is broken the old snapshot stays in service and the report lists every problem, so a
typo pushed to the criteria folder never takes trials offline.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matcher
from matcher import Catalog, CompiledTrial, CriteriaError, Diagnostic, InputError
from matcher.service.fhir import research_study

__all__ = ["CatalogHolder", "ReloadReport", "Snapshot"]

_log = logging.getLogger("matcher.service")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One compiled catalog and what the service needs to answer from it."""

    catalog: Catalog
    generation: int
    loaded_at: datetime
    by_id: Mapping[str, CompiledTrial] = field(init=False)
    #: Each trial as a FHIR ResearchStudy, built once per catalog rather than once per answer
    #: (shared by every answer: read only).
    studies: Mapping[str, Mapping[str, Any]] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {t.id: t for t in self.catalog.trials})
        studies = {t.id: research_study(t) for t in self.catalog.trials}
        object.__setattr__(self, "studies", studies)


@dataclass(frozen=True, slots=True)
class ReloadReport:
    """What a reload did: ``reloaded`` with the new snapshot, or the problems that kept the old."""

    reloaded: bool
    snapshot: Snapshot
    problems: tuple[Diagnostic, ...] = ()


class CatalogHolder:
    """Holds the current snapshot; ``reload()`` may be called from any thread."""

    def __init__(self, paths: tuple[Path, ...], catalog: Catalog | None = None) -> None:
        self.paths = paths
        self._lock = threading.Lock()
        #: The problems of the last failed reload (empty after a good one).
        self.last_problems: tuple[Diagnostic, ...] = ()
        self._current = Snapshot(
            catalog if catalog is not None else self._load(), 1, datetime.now(UTC)
        )

    @property
    def current(self) -> Snapshot:
        return self._current

    def _load(self) -> Catalog:
        """Compile the files strictly: raises ``CriteriaError`` / ``InputError``."""
        return matcher.load_trials(*self.paths, strict=True)

    def reload(self) -> ReloadReport:
        """Compile the files again; swap only if every file is valid."""
        with self._lock:  # two reloads at once would compile twice for nothing
            started = time.perf_counter()
            try:
                catalog = self._load()
            except (CriteriaError, InputError) as exc:
                self.last_problems = exc.diagnostics
                _log.warning(
                    "catalog reload refused, keeping generation %d: %d problem(s): %s",
                    self._current.generation,
                    len(exc.diagnostics),
                    "; ".join(d.render() for d in exc.diagnostics[:5]),
                )
                return ReloadReport(False, self._current, exc.diagnostics)
            snapshot = Snapshot(catalog, self._current.generation + 1, datetime.now(UTC))
            self._current = snapshot
            self.last_problems = ()
            _log.info(
                "catalog reloaded: generation %d, %d trial(s) in %.1f ms",
                snapshot.generation,
                len(catalog.trials),
                (time.perf_counter() - started) * 1000,
            )
            return ReloadReport(True, snapshot)
