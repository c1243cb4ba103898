"""Property tests: whatever a patient file, a criteria file or a command line holds, matcher answers
with a result or a ``MatcherError`` -- never another exception -- and the same input always gives
the same output.

Inputs are made three ways, because each reaches a different depth of the pipeline:

* arbitrary values, text and bytes (most of it stops at the parser or the first field);
* real documents -- the bundled catalog, the golden and example patients, the FHIR test bundles --
  and generated valid patients, damaged by a few random mutations (a key deleted or renamed, a
  value of another type, a number written as text, a rule nested in ``not``/``all``/``any``,
  characters inserted into the text); these get past the parser and exercise validation,
  compilation and evaluation;
* command lines assembled from the CLI's own vocabulary.

Every property runs ``MATCHER_FUZZ_EXAMPLES`` examples (default 40: a few seconds for the file).
A long run, as done before a release::

    MATCHER_FUZZ_EXAMPLES=10000 pytest -q tests/test_properties.py --hypothesis-show-statistics

A failure is a bug in matcher: fix it and add a regression test named after it in
``tests/test_adversarial.py``.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from helpers import BASE_TRIAL, DATA, REPO
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import matcher
from matcher.cli import main
from matcher.core.errors import CODES
from matcher.core.source import SourceProblems, parse_text, parse_yaml
from matcher.evaluation.examples import run_examples
from matcher.patient.model import ClinicalStatus, MedicationStatus, VerificationStatus
from matcher.render.text import render_check, render_trial

EXAMPLES = int(os.environ.get("MATCHER_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

CATALOG = matcher.load_trials()
#: The durable engine is young; before its module existed, asking for it could not work at all.
DURABLE_WRITTEN = importlib.util.find_spec("matcher.evaluation.engines.durable") is not None
CRITERIA = REPO / "criteria"
AS_OF = date(2026, 11, 21)

#: Free text of a patient (ids, names) carries this marker: no error message or log may repeat it.
PRIVATE = "PRIVATE§"

# --- values --------------------------------------------------------------------------------------

#: Codes and drug or condition names that the bundled concept sets contain, so that generated
#: records match criteria and reach deep into evaluation.
KNOWN_CODES = sorted(
    {
        (system, code)
        for concept in CATALOG.concepts.sets.values()
        for system, members in concept.members.items()
        for code in members
    }
)
KNOWN_NAMES = sorted(
    {" ".join(words) for concept in CATALOG.concepts.sets.values() for words in concept.names}
)
ODD_SCALARS: list[Any] = [
    "",
    " ",
    "6",
    "6.5",
    "nan",
    "-inf",
    "2026-02-30",
    "2024",
    "2024-13",
    "0000-01-01",
    "9999-12-31",
    "2026-11-21T10:00:00+05:00",
    "yes",
    "null",
    "\x00",
    "\t",
    "\ufeff",
    "\u202e",
    "\ud800",
    2**63,
    1e308,
    -0.0,
    float("nan"),
    float("inf"),
]
PRIVATE_TEXT = st.text(max_size=12).map(lambda text: f"{PRIVATE}{text}")
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=10),
    PRIVATE_TEXT,
    st.sampled_from(ODD_SCALARS),
    st.sampled_from([3000, 5000]).map(lambda size: "x" * size),  # longer than any field allows
    st.sampled_from([1, -1]).map(lambda sign: sign * 10**400),  # beyond any float
)
PATIENT_KEYS = [
    "id",
    "birth_date",
    "sex",
    "deceased",
    "deceased_date",
    "attributes",
    "conditions",
    "medications",
    "observations",
    "pregnancy",
    "lactation",
    "unreviewed",
    "system",
    "code",
    "codes",
    "display",
    "onset",
    "abatement",
    "clinical_status",
    "verification_status",
    "start",
    "end",
    "status",
    "value",
    "unit",
    "date",
    "pregnant",
    "lactating",
    "resourceType",
]
RULE_KEYS = [
    "id",
    "title",
    "status",
    "inclusion",
    "exclusion",
    "rule",
    "review",
    "applies_to",
    "description",
    "source",
    "age",
    "sex",
    "attribute",
    "condition",
    "medication",
    "observation",
    "pregnant",
    "all",
    "any",
    "not",
    "concept",
    "within",
    "min",
    "max",
    "above",
    "below",
    "current",
    "ever",
    "examples",
]
KEYS = st.one_of(st.sampled_from(PATIENT_KEYS + RULE_KEYS), st.text(max_size=6))
ANY = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=6,
)
#: As-of dates: mostly around today, sometimes anywhere in years 1 to 9999 or at their ends.
DATES = st.one_of(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
    st.dates(),
    st.dates(max_value=date(1, 12, 31)),
    st.dates(min_value=date(9990, 1, 1)),
)
#: Dates in records: mostly in a lifetime before the as-of date, sometimes anywhere.
RECORD_DATES = st.one_of(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1)), DATES)


def _date_text(day: date, precision: int) -> str:
    return day.isoformat()[: (10, 7, 4)[precision]]


PARTIAL_DATES = st.builds(_date_text, RECORD_DATES, st.sampled_from([0, 0, 1, 2]))


def _coded(extra: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A record with a known code and/or name, and ``extra`` optional fields."""
    code = st.sampled_from(KNOWN_CODES)
    return st.builds(
        lambda pair, name, more: {"system": pair[0], "code": pair[1], "display": name, **more},
        code,
        st.sampled_from(KNOWN_NAMES) | PRIVATE_TEXT,
        st.fixed_dictionaries({}, optional=extra),
    )


def _optional_date() -> st.SearchStrategy[str | None]:
    return st.none() | PARTIAL_DATES


CONDITION = _coded(
    {
        "onset": _optional_date(),
        "abatement": _optional_date(),
        "clinical_status": st.sampled_from([s.value for s in ClinicalStatus]),
        "verification_status": st.sampled_from([s.value for s in VerificationStatus]),
    }
)
MEDICATION = _coded(
    {
        "start": _optional_date(),
        "end": _optional_date(),
        "status": st.sampled_from([s.value for s in MedicationStatus]),
    }
)
OBSERVATION = st.builds(
    lambda code, value, unit, when: {
        "system": "loinc",
        "code": code,
        "value": value,
        "unit": unit,
        "date": when,
    },
    st.sampled_from(["72514-3", "8480-6", "8462-4", "38208-5", "9999-9"]),
    st.integers(0, 10) | st.floats(0, 300, allow_nan=False),
    st.sampled_from([None, "{score}", "mm[Hg]", "mmHg", "cm", "mm", "kg"]),
    _optional_date(),
)
#: Plausible patient profiles: each field valid on its own (together they may still contradict).
PROFILES = st.fixed_dictionaries(
    {"id": PRIVATE_TEXT},
    optional={
        "birth_date": PARTIAL_DATES,
        "sex": st.sampled_from(["female", "male"]),
        "deceased": st.booleans(),
        "deceased_date": PARTIAL_DATES,
        "attributes": st.fixed_dictionaries(
            {},
            optional={
                "military_status": st.sampled_from(
                    ["active_duty", "veteran", "retired", "reserve", "dependent", "civilian"]
                ),
                "fr_social_security": st.booleans(),
            },
        ),
        "conditions": st.lists(CONDITION, max_size=4),
        "medications": st.lists(MEDICATION, max_size=4),
        "observations": st.lists(OBSERVATION, max_size=3),
        "pregnancy": st.fixed_dictionaries(
            {"pregnant": st.booleans()}, optional={"date": PARTIAL_DATES}
        ),
        "lactation": st.fixed_dictionaries(
            {"lactating": st.booleans()}, optional={"date": PARTIAL_DATES}
        ),
        "unreviewed": st.lists(st.sampled_from(["conditions", "medications"]), unique=True),
    },
)


def _read_yaml(path: Path) -> Any:
    return parse_yaml(path.read_text(encoding="utf-8"), str(path)).data


PATIENT_SEEDS: list[Any] = [
    _read_yaml(path)
    for path in sorted((REPO / "tests" / "golden" / "patients").glob("*/*.yaml"))
    + sorted((DATA / "patients").glob("*.yaml"))
] + [
    json.loads(path.read_text(encoding="utf-8"))
    for path in sorted((DATA / "fhir").glob("*.json"))  # the small hand-made bundles
]
TRIAL_SEEDS = {path.name: _read_yaml(path) for path in sorted(CRITERIA.glob("*.yaml"))}
CONCEPT_SEEDS = {path.name: _read_yaml(path) for path in sorted(CRITERIA.glob("concepts/*.yaml"))}

# --- mutations -----------------------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _paths(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    """Every path to a value inside ``node``, the root included."""
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, (*path, i))


def _get(node: Any, path: Path_) -> Any:
    for part in path:
        node = node[part]
    return node


def _nested(value: Any, depth: int) -> Any:
    for level in range(depth):
        value = ({"not": value}, {"all": [value]}, {"any": [value, value]})[level % 3]
    return value


def _retyped(value: Any) -> Any:
    """The same value written as another type: numbers and booleans as text, text as a number."""
    if isinstance(value, bool | int | float) or value is None:
        return str(value)
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return int(value)
        with contextlib.suppress(ValueError):
            return float(value)
        return [value]
    return json.dumps(value)


@st.composite
def mutated(draw: st.DrawFn, documents: st.SearchStrategy[Any]) -> Any:
    """A document with up to four random mutations (see the module docstring)."""
    document = copy.deepcopy(draw(documents))
    for _ in range(draw(st.sampled_from([0, 0, 1, 1, 2, 4]))):
        path = draw(st.sampled_from(list(_paths(document))))
        value = _get(document, path)
        operation = draw(
            st.sampled_from(["delete", "replace", "rename", "retype", "nest", "duplicate"])
        )
        if not path:
            if operation == "replace":
                document = draw(ANY)
            continue
        parent = _get(document, path[:-1])
        key = path[-1]
        if operation == "delete":
            del parent[key]
        elif operation == "replace":
            parent[key] = draw(ANY)
        elif operation == "retype":
            parent[key] = _retyped(value)
        elif operation == "nest":
            parent[key] = _nested(value, draw(st.integers(1, 20)))
        elif operation == "duplicate" and isinstance(parent, list):
            parent.insert(int(key), copy.deepcopy(value))
        elif operation == "rename" and isinstance(parent, dict):
            new = draw(st.sampled_from(PATIENT_KEYS + RULE_KEYS) | st.text(max_size=8))
            text = str(key)
            typo = text[:-1] if len(text) > 1 else text + "s"
            new = draw(st.sampled_from([new, typo, text.upper()]))
            if new not in parent:
                parent[new] = parent.pop(key)
    return document


def _dump(data: Any, form: str) -> str:
    if form == "json":
        return json.dumps(data, ensure_ascii=False)
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:  # a value PyYAML cannot write (a lone surrogate): write JSON instead
        return json.dumps(data)


#: Characters that mean something to YAML or JSON.
SYNTAX = ":-?[]{},#&*!|>'\"%@`\t\n \\"


@st.composite
def damaged(draw: st.DrawFn, texts: st.SearchStrategy[str]) -> str:
    """Text with up to three edits: a character inserted or removed, a line repeated."""
    text = draw(texts)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "remove", "repeat-line"]))
        if edit == "insert":
            text = text[:at] + draw(st.sampled_from(SYNTAX) | st.characters()) + text[at:]
        elif edit == "remove":
            text = text[:at] + text[at + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                line = lines[min(at, len(lines) - 1)]
                lines.insert(min(at, len(lines) - 1), line)
                text = "".join(lines)
    return text


def texts_of(documents: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    dumped = st.builds(_dump, documents, st.sampled_from(["yaml", "json"]))
    return st.one_of(st.text(), dumped, dumped, damaged(dumped))


PATIENT_VALUES = st.one_of(ANY, mutated(PROFILES | st.sampled_from(PATIENT_SEEDS)))
PATIENT_TEXTS = texts_of(PATIENT_VALUES)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-32", "latin-1"]
PATIENT_BYTES = st.one_of(
    st.binary(),
    st.builds(
        lambda text, encoding: text.encode(encoding, errors="replace"),
        PATIENT_TEXTS,
        st.sampled_from(ENCODINGS),
    ),
)

# --- checking one outcome ----------------------------------------------------------------------


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _logs() -> Iterator[list[str]]:
    """Every message the ``matcher`` logger emits at any level inside the block."""
    logger = logging.getLogger("matcher")
    handler, level = _Records(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _assert_well_formed(exc: matcher.MatcherError, source: str) -> None:
    diagnostics = getattr(exc, "diagnostics", ())
    assert diagnostics, f"{type(exc).__name__} without diagnostics: {exc}"
    for diagnostic in diagnostics:
        assert diagnostic.code in CODES, diagnostic
        assert diagnostic.file == source, diagnostic
        assert diagnostic.line >= 0 and diagnostic.column >= 0, diagnostic
        assert diagnostic.render() in str(exc)


def _screen(
    make: Callable[[], matcher.Patient], source: str, as_of: date, *, values_marked: bool = True
) -> str:
    """Build a patient and check it against the bundled catalog; the outcome, for statistics.

    Anything but a ``Patient`` or a ``MatcherError`` from ``make``, and anything but a result or
    the documented ``PatientError`` (birth date after the as-of date, age over 150) from ``check``,
    fails the test. Logs never hold a ``PRIVATE`` text; error messages neither, when only values
    carry it (damaged text can turn a value into a key, and keys are named in messages).
    """
    with _logs() as messages:
        try:
            patient = make()
        except matcher.MatcherError as exc:
            _assert_well_formed(exc, source)
            assert not values_marked or PRIVATE not in str(exc)
            outcome = f"refused: {exc.diagnostics[0].code}"  # type: ignore[attr-defined]
        else:
            try:
                result = matcher.check(patient, CATALOG, as_of=as_of)
            except matcher.PatientError as exc:
                # The birth date, where it was read: the profile's field or the FHIR element.
                fields = {(d.code, d.file, d.path.rsplit(".", 1)[-1]) for d in exc.diagnostics}
                assert fields in (
                    {("invalid-patient", source, "birth_date")},
                    {("invalid-patient", source, "birthDate")},
                )
                assert PRIVATE not in str(exc)
                outcome = "checked: refused the birth date"
            else:
                assert json.loads(result.to_json()) == result.as_dict()
                assert render_check(result, explain=True)
                outcome = "checked"
    assert not any(PRIVATE in message for message in messages)
    return outcome


# --- 1. patients ---------------------------------------------------------------------------------


@FUZZ
@given(data=PATIENT_VALUES, as_of=DATES)
def test_any_value_as_a_patient_gives_a_result_or_a_matcher_error(data: Any, as_of: date) -> None:
    event(_screen(lambda: matcher.patient_from_data(data, source="fuzz"), "fuzz", as_of))


def _shifted(value: Any, years: int) -> Any:
    """``value`` with every date in it moved by ``years`` (dates that would leave years 1 to 9999
    stay where they are)."""
    if isinstance(value, dict):
        return {key: _shifted(item, years) for key, item in value.items()}
    if isinstance(value, list):
        return [_shifted(item, years) for item in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}(-\d{2}){0,2}", value):
        year = int(value[:4]) + years
        if 1 <= year <= 9999 and not value.endswith("02-29"):
            return f"{year:04d}{value[4:]}"
    return value


@FUZZ
@given(
    data=PROFILES,
    end=st.sampled_from([(-2025, date(1, 11, 21)), (7973, date(9999, 11, 21))]),
    days=st.integers(0, 40),
)
def test_patients_at_the_ends_of_the_calendar_give_a_result(
    data: dict[str, Any], end: tuple[int, date], days: int
) -> None:
    """Windows, ages and "eligible from" dates computed next to year 1 and year 9999."""
    years, as_of = end
    as_of = min(as_of + timedelta(days=days), date.max)
    patient = _shifted(data, years)
    event(_screen(lambda: matcher.patient_from_data(patient, source="fuzz"), "fuzz", as_of))


def _is_json(text: str, name: str) -> bool:
    """The rule ``parse_text`` documents: the extension, else JSON when the text starts with {
    or [."""
    if name.endswith(".json"):
        return True
    return not name.endswith((".yaml", ".yml")) and text.lstrip(" \t\r\n\ufeff")[:1] in ("{", "[")


@FUZZ
@given(
    text=PATIENT_TEXTS,
    name=st.sampled_from(["p.yaml", "p.json", "p.txt", "<stdin>"]),
    as_of=DATES,
)
def test_any_text_as_a_patient_gives_a_result_or_a_matcher_error(
    text: str, name: str, as_of: date
) -> None:
    def make() -> matcher.Patient:
        try:
            document = parse_text(text, name)
        except SourceProblems as exc:  # the parser's own carrier, wrapped as load_patient does
            raise matcher.PatientError(exc.diagnostics) from None
        try:
            return matcher.patient_from_data(document.data, source=name, document=document)
        except matcher.PatientError as exc:
            fhir = isinstance(document.data, dict) and "resourceType" in document.data
            if not fhir and not _is_json(text, name):  # a YAML profile: every problem located
                assert all(d.line >= 1 and d.column >= 1 for d in exc.diagnostics), exc
            raise

    event(_screen(make, name, as_of, values_marked=False))


@FUZZ
@given(
    content=PATIENT_BYTES,
    suffix=st.sampled_from([".yaml", ".yml", ".json", ".txt", ""]),
    as_of=DATES,
)
def test_any_file_as_a_patient_gives_a_result_or_a_matcher_error(
    content: bytes, suffix: str, as_of: date
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"patient{suffix}"
        path.write_bytes(content)
        event(_screen(lambda: matcher.load_patient(path), str(path), as_of, values_marked=False))


# --- 2. criteria files ---------------------------------------------------------------------------

TRIAL_TEXTS = texts_of(
    st.one_of(
        ANY,
        st.dictionaries(st.sampled_from(RULE_KEYS), ANY, max_size=8),
        mutated(st.just(parse_yaml(BASE_TRIAL, "base").data)),
    )
)


def _real_files(kind: str, seeds: dict[str, Any]) -> st.SearchStrategy[tuple[str, str, str]]:
    """(kind, file name, text): a bundled file, mutated, written back, sometimes damaged."""

    def one(name: str) -> st.SearchStrategy[tuple[str, str, str]]:
        text = mutated(st.just(seeds[name])).map(lambda data: _dump(data, "yaml"))
        return st.one_of(text, text, damaged(text)).map(lambda damaged: (kind, name, damaged))

    return st.sampled_from(sorted(seeds)).flatmap(one)


CRITERIA_CASES = st.one_of(
    TRIAL_TEXTS.map(lambda text: ("text", "NCT00000001.yaml", text)),
    _real_files("trial", TRIAL_SEEDS),
    _real_files("concept", CONCEPT_SEEDS),
)


def _encode(text: str) -> bytes:
    """UTF-8, keeping lone surrogates as the invalid bytes a broken editor would write."""
    return text.encode("utf-8", errors="surrogatepass")


CRITERIA_PATIENTS = [
    matcher.load_patient(DATA / "patients" / "veteran.yaml"),
    matcher.load_patient(DATA / "patients" / "crps_clonazepam.yaml"),
]


@FUZZ
@given(case=CRITERIA_CASES)
def test_any_criteria_file_gives_trials_or_located_diagnostics(case: tuple[str, str, str]) -> None:
    kind, name, text = case
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        if kind == "concept":  # a broken concept set, beside the real trials that use it
            (root / "concepts").mkdir()
            (root / "concepts" / name).write_bytes(_encode(text))
            for trial in CRITERIA.glob("*.yaml"):
                (root / trial.name).write_text(trial.read_text(encoding="utf-8"), "utf-8")
        else:
            (root / name).write_bytes(_encode(text))
        try:
            catalog = matcher.load_trials(root)
        except matcher.CriteriaError as exc:
            assert exc.diagnostics
            for diagnostic in exc.diagnostics:
                assert diagnostic.code in CODES, diagnostic
                assert Path(diagnostic.file).parent in (root, root / "concepts"), diagnostic
                assert diagnostic.line >= 1 and diagnostic.column >= 1, diagnostic
            if kind != "concept":  # a broken trial file is reported the same way when lenient
                lenient = matcher.load_trials(root, strict=False)
                assert set(lenient.problems) == set(exc.diagnostics)
            event(f"{kind}: refused: {exc.diagnostics[0].code}")
            return
        for trial in catalog.trials:
            assert render_trial(trial)
        for patient in CRITERIA_PATIENTS:
            result = matcher.check(patient, catalog, as_of=AS_OF)
            assert json.loads(result.to_json()) == result.as_dict()
            assert render_check(result, explain=True)
        run_examples(catalog.trials)
        event(f"{kind}: loaded")


# --- 3. determinism ------------------------------------------------------------------------------


#: Loaded apart from ``CATALOG``: its shared leaves and criteria get other internal keys.
FRESH_CATALOG = matcher.load_trials()
ENGINES = ["python", *(["durable"] if DURABLE_WRITTEN else [])]


@FUZZ
@given(data=PROFILES, as_of=DATES, engine=st.sampled_from(ENGINES))
def test_the_same_patient_and_date_give_byte_identical_json(
    data: dict[str, Any], as_of: date, engine: str
) -> None:
    def run(catalog: matcher.Catalog) -> str:
        try:
            patient = matcher.patient_from_data(copy.deepcopy(data))
            return matcher.check(patient, catalog, as_of=as_of, engine=engine).to_json()
        except matcher.MatcherError as exc:
            return f"{type(exc).__name__}: {exc}"

    first = run(CATALOG)
    assert run(CATALOG) == first
    assert run(FRESH_CATALOG) == first


_HASH_SEED_SCRIPT = """
import datetime, pathlib, sys, matcher
catalog = matcher.load_trials()
for path in sorted(pathlib.Path(sys.argv[1]).glob("*/*.yaml")):
    patient = matcher.load_patient(path)
    for engine in sys.argv[2:]:
        result = matcher.check(patient, catalog, as_of=datetime.date(2026, 11, 21), engine=engine)
        print(result.to_json())
"""


def test_output_does_not_depend_on_the_hash_seed() -> None:
    """Set and dict order of strings changes with PYTHONHASHSEED; the output must not."""
    golden = str(REPO / "tests" / "golden" / "patients")
    outputs = [
        subprocess.run(
            [sys.executable, "-c", _HASH_SEED_SCRIPT, golden, *ENGINES],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout
        for seed in ("1", "2")
    ]
    assert outputs[0].count('"patient"') == 45 * len(ENGINES)
    assert outputs[0] == outputs[1]


# --- 4. command lines ----------------------------------------------------------------------------

#: Placeholders replaced by real paths in the test (strategies are built before any folder exists).
GOOD_CRITERIA, BROKEN_CRITERIA, BROKEN_CONCEPTS = "{good}", "{broken}", "{broken-concepts}"
BAD_PATIENT = "{bad-patient}"
PATIENT_ARGUMENTS = [
    str(DATA / "patients" / "veteran.yaml"),
    str(DATA / "patients" / "crps_clonazepam.yaml"),
    str(DATA / "fhir" / "conditions.json"),
    str(DATA / "fhir" / "not_fhir_foo.json"),
    str(DATA / "patients"),
    "no-such-file.yaml",
    "-",
    BAD_PATIENT,
]
CRITERIA_ARGUMENTS = [
    GOOD_CRITERIA,
    BROKEN_CRITERIA,
    BROKEN_CONCEPTS,
    str(CRITERIA),
    str(CRITERIA / "NCT06414356.yaml"),
    str(CRITERIA / "concepts" / "ketamine.yaml"),
    "no-such-folder",
]
OPTIONS: dict[str, list[str]] = {
    "--criteria": CRITERIA_ARGUMENTS,
    "--trial": ["NCT06414356", "NCT00579085", "NCT0641435", ""],
    "--as-of": ["2026-11-21", "0001-01-01", "9999-12-31", "2026-02-30", "21/11/2026", ""],
    "--format": ["table", "json", "xml"],
    "--engine": ["python", "rete", *(["durable"] if DURABLE_WRITTEN else [])],
}
FLAGS = ["--explain", "--help", "-h", "--version", "--", "--no-such-option"]
#: Now and then a flag or a stray word, wherever it lands.
STRAY = st.lists(st.sampled_from(FLAGS) | st.text(max_size=8), max_size=1)


def _option(option: str) -> st.SearchStrategy[list[str]]:
    if option not in OPTIONS:
        return st.just([option])
    return st.sampled_from(OPTIONS[option]).map(lambda value: [option, value])


def _command(
    name: str, first: list[str], options: list[str], *, first_optional: bool = False
) -> st.SearchStrategy[list[str]]:
    """``name``, maybe an argument from ``first``, up to three ``options``, maybe a stray word."""
    head = st.sampled_from(first).map(lambda arg: [arg]) if first else st.just([])
    if first_optional:
        head = st.just([]) | head
    picked = (
        st.lists(st.sampled_from(options).flatmap(_option), max_size=3) if options else st.just([])
    )
    return st.builds(
        lambda arg, chosen, stray, stray_first: [
            name,
            *(stray if stray_first else []),
            *arg,
            *[item for option in chosen for item in option],
            *([] if stray_first else stray),
        ],
        head,
        picked,
        STRAY,
        st.booleans(),
    )


CHECK = _command("check", PATIENT_ARGUMENTS, [*OPTIONS, "--explain"])
#: One command with its arguments and options, valid or not; checks are the most frequent.
ARGV = st.sampled_from(
    [
        CHECK,
        CHECK,
        CHECK,
        _command("explain", ["NCT06414356", "NCT0641435", *CRITERIA_ARGUMENTS], ["--criteria"]),
        _command("lint", CRITERIA_ARGUMENTS, [], first_optional=True),
        _command("test", CRITERIA_ARGUMENTS, ["--engine"], first_optional=True),
        _command("concepts", ["ketamine", "benzodiazepine"], ["--criteria"], first_optional=True),
        _command("schema", [], []),
        st.lists(st.sampled_from(["frobnicate", "--help", "--version", ""]) | st.text(max_size=6)),
    ]
).flatmap(lambda command: command)
STDIN = [
    (DATA / "patients" / "veteran.yaml").read_bytes(),
    b"",
    b"\xff\xfe\x00garbage",
    b"id: [unclosed\n",
    (DATA / "fhir" / "medications.json").read_bytes(),
]


def _cli_folders(root: Path) -> dict[str, str]:
    good, broken, concepts = root / "good", root / "broken", root / "broken-concepts"
    for folder in (good, broken, concepts / "concepts"):
        folder.mkdir(parents=True)
    (good / "NCT00000001.yaml").write_text(BASE_TRIAL, encoding="utf-8")
    (broken / "NCT00000001.yaml").write_text(BASE_TRIAL, encoding="utf-8")
    (broken / "NCT00000002.yaml").write_text("id: NCT00000002\ntitle: [\n", encoding="utf-8")
    (concepts / "NCT00000001.yaml").write_text(BASE_TRIAL, encoding="utf-8")
    (concepts / "concepts" / "ketamine.yaml").write_text("name: ketamine\n", encoding="utf-8")
    (root / "bad.yaml").write_text("id: x\nbirth_date: 2026-02-30\n", encoding="utf-8")
    return {
        GOOD_CRITERIA: str(good),
        BROKEN_CRITERIA: str(broken),
        BROKEN_CONCEPTS: str(concepts),
        BAD_PATIENT: str(root / "bad.yaml"),
    }


@contextlib.contextmanager
def _console(stdin: bytes) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    fake_stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    environment = {k: v for k, v in os.environ.items() if k != "MATCHER_DEBUG"}
    with (
        mock.patch.object(sys, "stdin", fake_stdin),
        mock.patch.dict(os.environ, environment, clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        yield out, err


@FUZZ
@given(argv=ARGV, stdin=st.sampled_from(STDIN))
def test_any_command_line_exits_with_a_documented_status(argv: list[str], stdin: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        places = _cli_folders(Path(folder))
        args = [places.get(arg, arg) for arg in argv]
        with _console(stdin) as (_, err):
            status = main(args)
    assert status in {0, 1, 2, 3, 4, 5}, (status, err.getvalue())
    assert "Traceback" not in err.getvalue()
    command = (
        argv[0] if argv and argv[0] in {"check", "explain", "lint", "test", "concepts"} else "other"
    )
    event(f"{command}: exit {status}")
