"""Panel screening on Apache Spark: the same answers as ``matcher screen``, on a cluster.

    files      the Bulk export's NDJSON files, each read with its line numbers
               (``sc.textFile(...).zipWithIndex()``), every line classified by
               ``matcher.panel.reading.classify`` -- the in-process reader's own rule
    grouping   a shuffle by patient: each patient's Patient line, records, and the ``Medication``
               resources its requests refer to (a join on the reference) in one row
    batches    ``mapInArrow``: each partition's patients, in batches, become ``RawPatient`` groups
               and go through ``matcher.panel.screen.evaluate_batch`` -- the FHIR mapping of
               ``matcher check`` and a batch engine (``row`` or ``columnar``); the compiled trials
               are compiled once on the driver and broadcast
    outputs    verdicts and the long criterion table as DataFrames; the funnels, the outcome
               counts and the missing facts computed with Spark aggregations; unusable patients
               as error rows

``screen(inputs, trials, as_of=..., spark=...)`` returns a ``SparkScreen`` (lazy DataFrames, the
attrition and the summary); ``write_folder`` writes the tables ``matcher screen`` writes, byte for
byte the same. Spark is an optional extra (``pip install 'trial-matcher[spark]'``, and a Java
runtime): this package imports it only when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from matcher.core.errors import EngineError

if TYPE_CHECKING:
    from matcher.spark.job import SparkScreen, screen, screen_folder, session, write_folder

__all__ = [
    "SparkScreen",
    "available",
    "require_pyspark",
    "screen",
    "screen_folder",
    "session",
    "write_folder",
]
_LAZY = frozenset({"SparkScreen", "screen", "screen_folder", "session", "write_folder"})


def available() -> bool:
    """Whether pyspark is installed (a Java runtime is still needed to start a session)."""
    import importlib.util

    return importlib.util.find_spec("pyspark") is not None


def require_pyspark() -> None:
    """Raise an ``EngineError`` naming the extra when pyspark is not installed."""
    if not available():
        raise EngineError(
            "the spark engine needs pyspark and a Java runtime: pip install 'trial-matcher[spark]'"
        )


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        require_pyspark()
        from matcher.spark import job

        return getattr(job, name)
    raise AttributeError(name)
