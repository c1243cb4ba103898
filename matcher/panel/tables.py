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
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Literal

from matcher.core.errors import EngineError

__all__ = ["COLUMNS", "FORMATS", "CsvText", "TableWriter", "csv_field", "open_table"]

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

    def write_text(self, text: Iterable[str]) -> None:
        """Rows already encoded as CSV text (``CsvText``), after the rows written before."""
        assert self._csv is not None and self._handle is not None
        self.flush()
        self._handle.writelines(text)

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


def csv_field(value: str) -> str:
    """One text field as ``csv.writer`` writes it in a row of several fields (quoted only when
    it holds a comma, a quote or a line break)."""
    if not value:
        return ""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([value])
    return out.getvalue()[:-1]


class CsvText:
    """The verdict and criterion rows of outcome matrices as CSV text, byte for byte what
    ``TableWriter`` writes for ``matrix_rows``, without a Python object per cell.

    A row is its patient's field followed by a tail that depends on the trial and the answer
    only (``",NCT...,ineligible,0.0,\n"``), so the tails are made once per distinct answer and
    a patient's rows are one ``str.join`` with the patient's field between the tails."""

    def __init__(self) -> None:
        self._criteria: dict[tuple[str, tuple[tuple[str, str], ...]], dict[Any, list[str]]] = {}
        self._verdicts: dict[tuple[str, Any, Any, Any], str] = {}
        self._fields: dict[str, str] = {}

    def field(self, value: str) -> str:
        found = self._fields.get(value)
        if found is None:
            if len(self._fields) > 100_000:
                self._fields.clear()
            found = self._fields[value] = csv_field(value)
        return found

    def tables(
        self,
        patients: Sequence[str],
        trials: Sequence[tuple[str, tuple[tuple[str, str], ...]]],
        verdicts: Sequence[Sequence[int]],
        scores: Sequence[Sequence[float]],
        eligible: Sequence[Sequence[date | None]],
        outcomes: Sequence[Sequence[tuple[int, ...]]],
        names: tuple[Sequence[str], Sequence[str]],
    ) -> tuple[list[str], list[str]]:
        """The verdict rows and criterion rows of ``patients`` x ``trials`` (each trial its id
        and its criteria as (id, kind)); per trial a sequence per patient of verdict codes,
        scores, eligible-from dates and outcome codes; ``names`` the words of the verdict codes
        and of the outcome codes. The text comes as one string per patient."""
        verdict_names, outcome_names = names
        blocks = []
        for trial, criteria in trials:
            block = self._criteria.get((trial, criteria))
            if block is None:
                block = self._criteria[(trial, criteria)] = {}
            blocks.append(block)
        # Per trial and criterion, its line for each outcome code, made once per call: the
        # cached blocks hold references to these strings, so memory stays small.
        heads = [
            [
                [
                    f",{self.field(trial)},{self.field(cid)},{self.field(kind)},{name}\n"
                    for name in outcome_names
                ]
                for cid, kind in crit
            ]
            for trial, crit in trials
        ]
        tails = self._verdicts
        verdict_rows: list[str] = []
        criterion_rows: list[str] = []
        for index, patient in enumerate(patients):
            text = self.field(patient)
            vpieces = [""]
            cpieces = [""]
            for number, (trial, _) in enumerate(trials):
                key = (
                    trial,
                    verdicts[number][index],
                    scores[number][index],
                    eligible[number][index],
                )
                tail = tails.get(key)
                if tail is None:
                    if len(tails) > 65_536:
                        tails.clear()
                    when = key[3]
                    day = "" if when is None else when.isoformat()
                    tail = tails[key] = (
                        f",{self.field(trial)},{verdict_names[key[1]]},{key[2]!r},{day}\n"
                    )
                vpieces.append(tail)
                codes = outcomes[number][index]
                lines = blocks[number].get(codes)
                if lines is None:
                    lines = [h[c] for h, c in zip(heads[number], codes, strict=True)]
                    if len(blocks[number]) >= 4096:
                        blocks[number].clear()
                    blocks[number][codes] = lines
                cpieces.extend(lines)
            verdict_rows.append(text.join(vpieces))
            criterion_rows.append(text.join(cpieces))
        return verdict_rows, criterion_rows
