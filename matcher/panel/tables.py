"""The output tables of a screening and their writers (CSV, JSON Lines, Parquet).

=============  ===================================================================  ==============
table          one row per                                                          columns
=============  ===================================================================  ==============
verdicts       patient and trial                                                    patient, trial,
                                                                                    verdict, score,
                                                                                    eligible_from
criteria       patient, trial and criterion (the long table)                        patient, trial,
                                                                                    criterion, kind,
                                                                                    outcome
attrition      trial and funnel step, in criterion order (``alive`` first)          see ``Step``
missing        fact that would decide undetermined trials, most patients first      fact, patients,
                                                                                    patient_trials
=============  ===================================================================  ==============

Writers stream: rows go out in batches, so no table is held whole. CSV and JSON Lines need
nothing but the standard library; Parquet needs pyarrow (the ``panel`` extra), imported only
when asked for. Dates are ``YYYY-MM-DD`` text in CSV and JSON, ``date32`` in Parquet; an empty
CSV cell and a JSON ``null`` mean "none".
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Literal

from matcher.core.errors import EngineError

__all__ = ["COLUMNS", "FORMATS", "TableWriter", "open_table"]

Kind = Literal["str", "float", "int", "date"]
FORMATS: Final = ("csv", "jsonl", "parquet")
COLUMNS: Final[dict[str, tuple[tuple[str, Kind], ...]]] = {
    "verdicts": (
        ("patient", "str"),
        ("trial", "str"),
        ("verdict", "str"),
        ("score", "float"),
        ("eligible_from", "date"),
    ),
    "criteria": (
        ("patient", "str"),
        ("trial", "str"),
        ("criterion", "str"),
        ("kind", "str"),
        ("outcome", "str"),
    ),
    "attrition": (
        ("trial", "str"),
        ("step", "int"),
        ("criterion", "str"),
        ("kind", "str"),
        ("before", "int"),
        ("excluded", "int"),
        ("after", "int"),
        ("met", "int"),
        ("not_met", "int"),
        ("unknown", "int"),
        ("review", "int"),
    ),
    "missing": (("fact", "str"), ("patients", "int"), ("patient_trials", "int")),
}
_BATCH: Final = 65_536


def require_pyarrow() -> Any:
    """pyarrow, or an ``EngineError`` saying which extra brings it."""
    try:
        import pyarrow
    except ImportError:
        raise EngineError(
            "Parquet output and matcher.screen need pyarrow: pip install 'trial-matcher[panel]'"
        ) from None
    return pyarrow


class TableWriter:
    """Writes one table in one format, a batch at a time."""

    def __init__(self, path: Path, columns: Sequence[tuple[str, Kind]], fmt: str) -> None:
        self.path = path
        self.columns = tuple(columns)
        self.format = fmt
        self._rows: list[tuple[Any, ...]] = []
        self._handle: IO[str] | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._schema: Any = None
        if fmt == "parquet":
            pa = require_pyarrow()
            import pyarrow.parquet as pq

            types = {"str": pa.string(), "float": pa.float64(), "int": pa.int64()}
            types["date"] = pa.date32()
            self._schema = pa.schema([(name, types[kind]) for name, kind in self.columns])
            self._parquet = pq.ParquetWriter(str(path), self._schema)
        else:
            self._handle = path.open("w", encoding="utf-8", newline="")
            if fmt == "csv":
                self._csv = csv.writer(self._handle, lineterminator="\n")
                self._csv.writerow([name for name, _ in self.columns])

    def write(self, row: tuple[Any, ...]) -> None:
        self._rows.append(row)
        if len(self._rows) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        rows, self._rows = self._rows, []
        if not rows:
            return
        if self._parquet is not None:
            pa = require_pyarrow()
            arrays = list(zip(*rows, strict=True))
            batch = pa.record_batch(
                [pa.array(col, type=f.type) for col, f in zip(arrays, self._schema, strict=True)],
                schema=self._schema,
            )
            self._parquet.write_batch(batch)
        elif self._csv is not None:
            self._csv.writerows(tuple(_text(v) for v in row) for row in rows)
        else:
            assert self._handle is not None
            names = [name for name, _ in self.columns]
            self._handle.writelines(
                json.dumps(dict(zip(names, map(_json, row), strict=True)), ensure_ascii=False)
                + "\n"
                for row in rows
            )

    def close(self) -> None:
        self.flush()
        if self._parquet is not None:
            self._parquet.close()
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_table(folder: Path, name: str, fmt: str) -> TableWriter:
    return TableWriter(folder / f"{name}.{fmt}", COLUMNS[name], fmt)


def _text(value: Any) -> Any:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else value


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
