"""The library's entry points: load trials, load a patient, check one against the other.

Logging goes to the ``matcher`` logger: INFO when a catalog is loaded (counts of trials, concept
sets and problems), DEBUG for each check (trials, engine, as-of date, time taken). No record ever
holds a patient value -- not the id, a date, a code, a name or a measurement.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from matcher.core.errors import Diagnostic, InputError
from matcher.criteria.bundled import bundled_catalog_dir
from matcher.criteria.compiler import Catalog, CompiledTrial, load_catalog
from matcher.evaluation.engines import ENGINES, Engine, get_engine
from matcher.evaluation.evaluate import Explain, check_facts, prepare
from matcher.evaluation.examples import ExampleReport, run_examples
from matcher.evaluation.results import CheckResult
from matcher.patient.load import load_patient, patient_from_data, patient_from_text
from matcher.patient.model import Patient

__all__ = [
    "ENGINES",
    "Engine",
    "ExampleReport",
    "check",
    "get_engine",
    "load_patient",
    "load_trials",
    "patient_from_data",
    "patient_from_text",
    "run_examples",
    "screen",
]

PathLike = str | os.PathLike[str]

_log = logging.getLogger("matcher")


def load_trials(*paths: PathLike, strict: bool = True) -> Catalog:
    """Load and compile trial files (or folders of them); no path means the bundled catalog.

    With ``strict`` (the default) any invalid file raises ``CriteriaError`` listing every problem;
    with ``strict=False`` the valid files load and the problems are in ``Catalog.problems``.
    """
    started = time.perf_counter()
    folders = [Path(p) for p in paths] or [bundled_catalog_dir()]
    for folder in folders:
        try:
            exists = folder.exists()
        except OSError as exc:  # a name the system cannot look up (too long, a loop, ...)
            reason = exc.strerror or type(exc).__name__
            raise InputError(
                Diagnostic("file-unreadable", f"cannot read: {reason}", str(folder))
            ) from None
        if not exists:
            raise InputError(Diagnostic("file-unreadable", "no such file or folder", str(folder)))
    catalog = load_catalog(folders, strict=strict)
    _log.info(
        "loaded %d trial(s) and %d concept set(s) from %s with %d problem(s) in %.1f ms",
        len(catalog.trials),
        len(catalog.concepts.sets),
        ", ".join(str(folder) for folder in folders),
        len(catalog.problems),
        (time.perf_counter() - started) * 1000,
    )
    return catalog


def check(
    patient: Patient,
    trials: Catalog | Iterable[CompiledTrial],
    *,
    as_of: date | None = None,
    engine: Engine | str = "python",
    explain: Explain = "all",
) -> CheckResult:
    """Evaluate ``patient`` against ``trials`` as of ``as_of`` (default: today).

    ``engine`` is an ``Engine`` or the name of one (``"python"``, ``"durable"``). Returns the
    trials ranked, each with its verdict, score and eligible-from date. ``explain`` says which of
    them also get their per-criterion outcomes, reasons, evidence, missing facts and review
    items: ``"all"`` (the default), ``"none"`` (for counting), or the number of top-ranked trials
    to explain (a referral screen shows a few); the verdicts are the same either way. Raises
    ``PatientError`` if the patient contradicts the date (born after it, older than 150) and
    ``EngineError`` if the engine is not available. Safe to call from many threads (with the
    python engine; the durable engine makes them queue).
    """
    started = time.perf_counter()
    _check_arguments(patient, as_of, explain)
    day = as_of if as_of is not None else date.today()
    selected = trials.trials if isinstance(trials, Catalog) else tuple(trials)
    criteria = trials.criteria if isinstance(trials, Catalog) else None
    digest = trials.digest if isinstance(trials, Catalog) else None
    chosen = get_engine(engine)
    facts = prepare(patient, day)
    result = check_facts(facts, selected, chosen, criteria, explain=explain, digest=digest)
    _log.debug(
        "checked %d trial(s) with the %s engine as of %s in %.1f ms",
        len(selected),
        chosen.name,
        day,
        (time.perf_counter() - started) * 1000,
    )
    return result


def _check_arguments(patient: object, as_of: object, explain: object) -> None:
    """``check``'s arguments are what it takes, or an ``InputError`` says which one is not."""
    problem = None
    if not isinstance(patient, Patient):
        problem = (
            "patient",
            f"expected a matcher.Patient (see load_patient), got {type(patient).__name__}",
        )
    elif isinstance(as_of, datetime):
        problem = (
            "as_of",
            "expected a calendar date (datetime.date), got a datetime: the as-of date has no time "
            "of day; pass as_of.date() for the date as written",
        )
    elif as_of is not None and not isinstance(as_of, date):
        problem = ("as_of", f"expected a datetime.date, got {type(as_of).__name__}")
    elif explain not in ("all", "none") and (
        not isinstance(explain, int) or isinstance(explain, bool) or explain < 0
    ):
        problem = ("explain", 'expected "all", "none" or a whole number of trials, 0 or more')
    if problem is not None:
        raise InputError(Diagnostic("invalid-argument", problem[1], "<check>", path=problem[0]))


def screen(
    source: Any,
    trials: Catalog | Iterable[CompiledTrial],
    *,
    as_of: date,
    without: Iterable[str] = (),
    workers: int = 1,
) -> Any:
    """Screen a whole panel against ``trials`` as of ``as_of``; returns a ``ScreenResult``.

    ``source`` is a path (a FHIR Bulk export folder, NDJSON files, a folder of patient files, a
    JSONL file of profiles), a list of paths, or an iterable of ``Patient``. The result holds
    the verdict and criterion tables (``pyarrow.Table``), the attrition funnel of each trial,
    the missing facts that would decide the most patients, and the patients that could not be
    used. ``without`` switches criteria off (what-if). Needs the ``panel`` extra.
    """
    from matcher.panel.api import screen as screen_panel  # pyarrow and the panel load here

    return screen_panel(source, trials, as_of=as_of, without=tuple(without), workers=workers)
