"""Reading a panel: every input form in, one ``PanelItem`` per patient out, with bounded memory.

Inputs (``read_panel``):

- a **FHIR Bulk Data export** folder, with or without its manifest, or NDJSON files named on the
  command line: one resource per line. Resources are grouped by patient (``subject`` or
  ``patient`` reference) across files in an on-disk SQLite table, so a panel never becomes one
  object graph in memory; each patient's resources become one Bundle, and the Bundle goes through
  ``matcher.patient.fhir`` -- the mapping ``matcher check`` uses, not a second one (the columnar
  engine reads plain records by that mapping's rules without the Bundle, see
  ``matcher.panel.ingest``). ``Medication``
  resources are kept by id and added to the Bundle of each patient whose requests refer to them.
- a **folder of patient files** (profiles or Bundles, ``.json``/``.yaml``/``.yml``), or one file;
- a **JSONL file of profiles** (``.jsonl``): one profile, Bundle or Patient per line.

Coverage. A Bulk export holds the resource types it was asked for. A section whose resource
types are absent from the whole export was not exported, so its absence is not "nothing on
record": conditions (no ``Condition`` file) and medications (no ``MedicationRequest`` nor
``MedicationStatement``) are marked unreviewed for every patient, and an observation section is
too where the patient model knows that section. Without ``Observation`` readings, observation
rules are unknown anyway ("a pain score" is missing).

Errors. A patient whose records cannot be used (invalid values, no Patient resource, a line that
is not JSON) becomes a ``PanelItem`` with ``problems`` instead of a patient, and the reading goes
on. Diagnostics point at ``file:line`` and the FHIR path inside that line's resource; they never
hold a patient value. Records without a patient reference are counted in ``PanelStats``.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, get_args

from matcher.core.errors import Diagnostic, InputError, MatcherError
from matcher.core.source import decode
from matcher.patient.load import load_patient, patient_from_data
from matcher.patient.model import Patient

__all__ = [
    "Line",
    "PanelItem",
    "PanelSource",
    "PanelStats",
    "RawPatient",
    "bad_line",
    "classify",
    "export_files",
    "is_read",
    "line_text",
    "map_raw",
    "medication_refs",
    "named_type",
    "read_panel",
    "unreviewed_sections",
]

#: The resource types the FHIR mapping reads; lines of other types are skipped unparsed when
#: their file name says what they hold.
READ_TYPES: Final = frozenset(
    {"Patient", "Condition", "MedicationRequest", "MedicationStatement", "Observation"}
)
_NAMED: Final = re.compile(r"^(?P<type>[A-Z][A-Za-z]{0,63})(?:[._-]\d+)*\.ndjson$")
_PROFILE_SUFFIXES: Final = (".json", ".yaml", ".yml")
#: Sections and the resource types that fill them.
_SECTIONS: Final = {
    "conditions": ("Condition",),
    "medications": ("MedicationRequest", "MedicationStatement"),
    "observations": ("Observation",),
}


def _markable() -> Iterator[str]:
    """The values of ``Patient.unreviewed``: tuple[Annotated[Literal[...], ...], ...]."""
    (item, *_) = get_args(Patient.model_fields["unreviewed"].annotation)
    (literal, *_) = get_args(item) or (item,)
    yield from (value for value in get_args(literal) if isinstance(value, str))


#: The sections the patient model can mark unreviewed.
_MARKABLE: Final = frozenset(_markable())


@dataclass(frozen=True, slots=True)
class RawPatient:
    """One patient of a Bulk export before mapping: resource lines with where each came from."""

    subject: str
    #: (file, line number, resource text) for the Patient and each record, in file order.
    lines: tuple[tuple[str, int, str], ...]
    #: Medication resources the records refer to, by reference ("Medication/<id>").
    medications: tuple[tuple[str, str, int, str], ...]
    #: Sections to mark unreviewed: their resource types are not in the export.
    unreviewed: tuple[str, ...]
    #: Whether ``lines`` starts with the Patient resource.
    has_patient: bool = True


@dataclass(frozen=True, slots=True)
class PanelItem:
    """A usable patient, or the problems that made a patient unusable (``patient`` is None)."""

    key: str
    patient: Patient | None
    problems: tuple[Diagnostic, ...] = ()
    source: str = ""


@dataclass(slots=True)
class PanelStats:
    """What the reading saw, for the summary."""

    files: int = 0
    records: int = 0
    #: Records with no usable patient reference: nobody's, so nobody's verdict uses them.
    unattributed: int = 0
    resource_types: set[str] = field(default_factory=set)


@dataclass
class PanelSource:
    """The inputs of a panel; iterate ``items()`` once (it streams)."""

    paths: tuple[Path, ...]
    stats: PanelStats = field(default_factory=PanelStats)

    def items(self) -> Iterator[PanelItem]:
        for raw in self.raw():
            yield raw if isinstance(raw, PanelItem) else map_raw(raw)

    def raw(self) -> Iterator[PanelItem | RawPatient]:
        """Patients as read: mapped profiles, or unmapped Bulk groups (mapped where they are
        evaluated, so that worker processes share the mapping work)."""
        bulk: list[Path] = []
        for path in self.paths:
            try:
                is_dir = path.is_dir()
                exists = path.exists()
            except (OSError, ValueError):
                is_dir = exists = False
            if not exists:
                raise InputError(Diagnostic("file-unreadable", "no such file or folder", str(path)))
            if is_dir:
                files = export_files(path)
                if files:
                    bulk.extend(files)
                else:
                    yield from self._profile_files(sorted(_profile_files(path)))
            elif path.suffix == ".ndjson":
                bulk.append(path)
            elif path.suffix == ".jsonl":
                yield from self._profile_lines(path)
            else:
                yield from self._profile_files([path])
        if bulk:
            yield from self._bulk(bulk)

    # --- profiles and bundles -----------------------------------------------------------------

    def _profile_files(self, files: Sequence[Path]) -> Iterator[PanelItem]:
        for file in files:
            self.stats.files += 1
            try:
                patient = load_patient(file)
            except MatcherError as exc:
                yield PanelItem(str(file), None, _diagnostics(exc), str(file))
                continue
            yield PanelItem(str(file), patient, (), str(file))

    def _profile_lines(self, path: Path) -> Iterator[PanelItem]:
        self.stats.files += 1
        for number, text in _lines(path):
            where = f"{path}:{number}"
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                yield PanelItem(where, None, (_json_problem(path, number, exc),), where)
                continue
            try:
                patient = patient_from_data(data, source=where)
            except MatcherError as exc:
                yield PanelItem(where, None, _diagnostics(exc), where)
                continue
            yield PanelItem(where, patient, (), where)

    # --- Bulk exports ---------------------------------------------------------------------------

    def _bulk(self, files: Sequence[Path]) -> Iterator[PanelItem | RawPatient]:
        with tempfile.TemporaryDirectory(prefix="matcher-panel-") as folder:
            db = sqlite3.connect(os.path.join(folder, "group.db"))
            try:
                db.execute("PRAGMA journal_mode=OFF")
                db.execute("PRAGMA synchronous=OFF")
                db.execute(
                    "CREATE TABLE rec (subject TEXT, patient INT, file INT, line INT, body TEXT)"
                )
                db.execute("CREATE TABLE med (ref TEXT, file INT, line INT, body TEXT)")
                db.execute("CREATE TABLE bad (file INT, line INT, message TEXT, col INT)")
                names = [str(f) for f in files]
                for index, file in enumerate(files):
                    self._load_file(db, index, file)
                db.execute("CREATE INDEX rec_subject ON rec (subject, patient DESC, file, line)")
                db.execute("CREATE INDEX med_ref ON med (ref)")
                db.commit()
                yield from self._bad_lines(db, names)
                yield from self._groups(db, names)
            finally:
                db.close()

    def _load_file(self, db: sqlite3.Connection, index: int, file: Path) -> None:
        self.stats.files += 1
        kind = named_type(file)
        if kind is not None:
            self.stats.resource_types.add(kind)
            if not is_read(kind):
                return
        records: list[tuple[str, int, int, int, str]] = []
        meds: list[tuple[str, int, int, str]] = []
        bad: list[tuple[int, int, str, int]] = []
        for number, text in _lines(file):
            line = classify(text)
            if line.type:
                self.stats.resource_types.add(line.type)
            if line.type in READ_TYPES:
                self.stats.records += 1
            if line.role == "bad":
                bad.append((index, number, line.key or "", line.column))
            elif line.role == "medication":
                if line.key is not None:
                    meds.append((line.key, index, number, text))
            elif line.role == "patient":
                assert line.key is not None
                records.append((line.key, 1, index, number, text))
            elif line.role == "record":
                if line.key is None:
                    self.stats.unattributed += 1
                    continue
                records.append((line.key, 0, index, number, text))
            if len(records) >= 20_000:
                db.executemany("INSERT INTO rec VALUES (?, ?, ?, ?, ?)", records)
                records.clear()
        db.executemany("INSERT INTO rec VALUES (?, ?, ?, ?, ?)", records)
        db.executemany("INSERT INTO med VALUES (?, ?, ?, ?)", meds)
        db.executemany("INSERT INTO bad VALUES (?, ?, ?, ?)", bad)

    def _bad_lines(self, db: sqlite3.Connection, names: Sequence[str]) -> Iterator[PanelItem]:
        """Lines that are not resources: nobody can say whose they were, so each is an error."""
        for file, line, message, column in db.execute("SELECT * FROM bad ORDER BY file, line"):
            yield bad_line(names[file], line, message, column)

    def _groups(
        self, db: sqlite3.Connection, names: Sequence[str]
    ) -> Iterator[PanelItem | RawPatient]:
        unreviewed = unreviewed_sections(self.stats.resource_types)
        lookup = db.cursor()
        current: str | None = None
        lines: list[tuple[str, int, str]] = []
        refs: set[str] = set()
        rows = db.execute(
            "SELECT subject, patient, file, line, body FROM rec ORDER BY subject, patient DESC, "
            "file, line"
        )
        has_patient = False
        for subject, is_patient, file, line, body in rows:
            if subject != current:
                if current is not None:
                    yield _raw(current, lines, refs, lookup, names, unreviewed, has_patient)
                current, lines, refs, has_patient = subject, [], set(), bool(is_patient)
            lines.append((names[file], line, body))
            if '"medicationReference"' in body:
                refs.update(medication_refs(body))
        if current is not None:
            yield _raw(current, lines, refs, lookup, names, unreviewed, has_patient)


def _raw(
    subject: str,
    lines: list[tuple[str, int, str]],
    refs: set[str],
    lookup: sqlite3.Cursor,
    names: Sequence[str],
    unreviewed: tuple[str, ...],
    has_patient: bool,
) -> RawPatient:
    meds: list[tuple[str, str, int, str]] = []
    for ref in sorted(refs):
        for file, line, body in lookup.execute(
            "SELECT file, line, body FROM med WHERE ref = ? ORDER BY file, line LIMIT 1", (ref,)
        ):
            meds.append((ref, names[file], line, body))
    return RawPatient(subject, tuple(lines), tuple(meds), unreviewed, has_patient)


def map_raw(raw: RawPatient) -> PanelItem:
    """One Bulk patient through ``matcher.patient.fhir``: a Bundle of its lines, diagnostics mapped
    back to ``file:line`` and the path inside the line's resource."""
    places: list[tuple[str, int]] = []
    entries: list[dict[str, Any]] = []
    for file, line, text in raw.lines:
        entries.append({"resource": json.loads(text)})
        places.append((file, line))
    for ref, file, line, text in raw.medications:
        entries.append({"fullUrl": ref, "resource": json.loads(text)})
        places.append((file, line))
    first = f"{raw.lines[0][0]}:{raw.lines[0][1]}" if raw.lines else raw.subject
    if not raw.has_patient:
        file, line = places[0]
        problem = Diagnostic(
            "not-fhir",
            f"{len(raw.lines)} record(s) refer to a patient that has no Patient resource in the "
            "export",
            file,
            line,
            0,
            "subject",
        )
        return PanelItem(raw.subject, None, (problem,), first)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    try:
        patient = patient_from_data(bundle, source=first)
    except MatcherError as exc:
        problems = tuple(_relocate(d, places) for d in _diagnostics(exc))
        return PanelItem(raw.subject, None, problems, first)
    if raw.unreviewed:
        marked = tuple(sorted({*patient.unreviewed, *raw.unreviewed}))
        patient = patient.model_copy(update={"unreviewed": marked})
    return PanelItem(raw.subject, patient, (), first)


_ENTRY: Final = re.compile(r"^entry\[(\d+)\]\.resource\.?")


def _relocate(diagnostic: Diagnostic, places: Sequence[tuple[str, int]]) -> Diagnostic:
    found = _ENTRY.match(diagnostic.path)
    if found is None:
        return diagnostic
    file, line = places[int(found[1])]
    return Diagnostic(
        diagnostic.code, diagnostic.message, file, line, 0, diagnostic.path[found.end() :]
    )


def _diagnostics(exc: MatcherError) -> tuple[Diagnostic, ...]:
    found = getattr(exc, "diagnostics", ())
    if found:
        return tuple(found)
    return (Diagnostic("invalid-patient", str(exc)),)


def _json_problem(path: Path, number: int, exc: json.JSONDecodeError) -> Diagnostic:
    return Diagnostic("json-syntax", exc.msg, str(path), number, exc.colno)


class Line(NamedTuple):
    """What one NDJSON line holds (``classify``)."""

    #: Its ``resourceType``; empty when the line is not a resource.
    type: str
    role: Literal["patient", "record", "medication", "other", "bad"]
    #: The patient's id, the record's subject (None: no usable patient reference), the
    #: Medication's reference (``Medication/<id>``; None without an id), or the problem's message.
    key: str | None = None
    #: Where the problem is on the line (role ``bad``).
    column: int = 0


def classify(text: str) -> Line:
    """One line of a Bulk export: a Patient, a record of a type the mapping reads, a Medication,
    another type, or a line nobody can use. The Spark reader (``matcher.spark``) uses it too."""
    try:
        resource = load_line(text)
    except json.JSONDecodeError as exc:
        return Line("", "bad", exc.msg, exc.colno)
    found = resource.get("resourceType") if isinstance(resource, dict) else None
    if not isinstance(found, str):
        return Line("", "bad", "expected a FHIR resource with a resourceType", 1)
    ident = resource.get("id")
    if found == "Medication":
        return Line(found, "medication", f"Medication/{ident}" if isinstance(ident, str) else None)
    if found not in READ_TYPES:
        return Line(found, "other")
    if found == "Patient":
        if isinstance(ident, str):
            return Line(found, "patient", ident)
        return Line(found, "bad", "a Patient resource without an id", 1)
    return Line(found, "record", _subject(resource))


def load_line(text: str) -> Any:
    """``json.loads(text)``, by orjson when it is installed (the panel extra; a third of json's
    time on a Bulk line). orjson refuses a few lines json reads (NaN, lone surrogates): json
    decides those, and the lines neither reads, so the error is json's. One difference stays:
    orjson reads an integer beyond 64 bits as the nearest float. The readers that call this
    (``classify``, ``medication_refs``, the columnar engine's plain records) read strings, and
    numbers only as floats, so their answers are the same."""
    fast = _orjson()
    if fast is not None:
        try:
            return fast(text)
        except ValueError:
            pass
    return json.loads(text)


@cache
def _orjson() -> Callable[[str], Any] | None:
    """orjson's ``loads``, when orjson is installed (imported on the first line read)."""
    try:
        from orjson import loads
    except ImportError:
        return None
    return loads


def unreviewed_sections(types: Iterable[str]) -> tuple[str, ...]:
    """The sections to mark unreviewed for every patient of an export with these resource types:
    those no type of the export fills."""
    found = set(types)
    return tuple(
        section
        for section, kinds in _SECTIONS.items()
        if section in _MARKABLE and not found.intersection(kinds)
    )


def bad_line(file: str, line: int, message: str, column: int) -> PanelItem:
    """A line that is not a resource: nobody can say whose it was, so it is an error of its own."""
    where = f"{file}:{line}"
    return PanelItem(where, None, (Diagnostic("json-syntax", message, file, line, column),), where)


def named_type(file: Path) -> str | None:
    """The resource type a Bulk file's name says it holds (``Condition.000.ndjson``), if any."""
    named = _NAMED.match(file.name)
    return named["type"] if named else None


def is_read(kind: str) -> bool:
    """Whether lines of this resource type are read (the mapping's types and Medication)."""
    return kind in READ_TYPES or kind == "Medication"


def _subject(resource: dict[str, Any]) -> str | None:
    """The patient id a record belongs to: ``Patient/<id>`` (or ``urn:uuid:<id>``)."""
    for key in ("subject", "patient"):
        node = resource.get(key)
        ref = node.get("reference") if isinstance(node, dict) else None
        if isinstance(ref, str):
            if ref.startswith("Patient/"):
                return ref[len("Patient/") :].split("/", 1)[0] or None
            if ref.startswith("urn:uuid:"):
                return ref[len("urn:uuid:") :] or None
            return None
    return None


def medication_refs(body: str) -> Iterable[str]:
    resource = load_line(body)
    node = resource.get("medicationReference")
    ref = node.get("reference") if isinstance(node, dict) else None
    if isinstance(ref, str) and not ref.startswith("#"):
        parts = ref.split("/")
        if len(parts) >= 4 and parts[-2] == "_history":
            parts = parts[:-2]
        if len(parts) >= 2 and parts[-2] == "Medication":
            yield f"Medication/{parts[-1]}"


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Non-blank lines of a UTF-8 file with their 1-based numbers, read as a stream."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputError(
            Diagnostic("file-unreadable", f"cannot read: {exc.strerror}", str(path))
        ) from None
    with handle:
        for number, raw in enumerate(handle, 1):
            text = line_text(raw, f"{path}:{number}")
            if text is not None:
                yield number, text


def line_text(raw: bytes, where: str) -> str | None:
    """One line of an NDJSON file as text, None when it is blank; raises ``InputError`` for
    bytes that are not UTF-8."""
    text = decode(raw, where) if raw.strip() else ""
    return text.lstrip("\ufeff").rstrip("\r\n") if text.strip() else None


def export_files(folder: Path) -> list[Path]:
    """A Bulk export's NDJSON files: the manifest's outputs when there is one, else every
    ``<Type>.<n>.ndjson`` in the folder."""
    for name in ("manifest.json", "export-manifest.json"):
        manifest = folder / name
        if manifest.is_file():
            listed = _manifest_files(manifest, folder)
            if listed:
                return listed
    return sorted(p for p in folder.iterdir() if _NAMED.match(p.name) and p.is_file())


def _manifest_files(manifest: Path, folder: Path) -> list[Path]:
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(
            Diagnostic("json-syntax", "the export manifest is not readable JSON", str(manifest))
        ) from None
    outputs = data.get("output") if isinstance(data, dict) else None
    files: list[Path] = []
    for item in outputs if isinstance(outputs, list) else ():
        url = item.get("url") if isinstance(item, dict) else None
        if isinstance(url, str):
            local = folder / url.rstrip("/").rsplit("/", 1)[-1]
            if local.is_file():
                files.append(local)
    return files


def _profile_files(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.suffix in _PROFILE_SUFFIXES and path.is_file() and not path.name.startswith("."):
            yield path


def read_panel(*paths: str | os.PathLike[str]) -> PanelSource:
    """The panel that ``paths`` hold (see the module docstring); nothing is read until it is
    iterated."""
    if not paths:
        raise InputError(Diagnostic("invalid-argument", "no input given", "<screen>"))
    return PanelSource(tuple(Path(p) for p in paths))
