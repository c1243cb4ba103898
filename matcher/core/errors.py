"""The one exception tree of the library, and the located diagnostic it carries.

Two families of problems are kept apart (see the README, "Failure modes"):

* input that cannot be used at all -- a criteria file that does not parse or validate, a patient
  file that is not a patient, an engine that is not installed -- raises a ``MatcherError``;
* patient data that is merely missing or odd is never an exception: it becomes an ``unknown``
  outcome with a reason, inside a normal result.

::

    MatcherError                    base class; ``str()`` is a complete, user-facing message
     +-- InputError                 a file cannot be read: missing, a folder, not UTF-8, too big
     +-- CriteriaError              criteria or concept files are invalid; carries ``diagnostics``
     +-- PatientError               a patient file or object is invalid; carries ``diagnostics``
     +-- EngineError                an engine is unavailable or failed internally

Every diagnostic has a stable ``code`` (a short slug, listed in ``CODES``) so that tools can match
on it, and a position (file, line, column, YAML path) so that a person can find the text. Messages
name fields and positions, never patient values: patient data must not leak into logs or errors.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

__all__ = [
    "CODES",
    "CriteriaError",
    "Diagnostic",
    "EngineError",
    "InputError",
    "MatcherError",
    "PatientError",
    "excerpt",
    "field_like",
    "printable",
    "suggest",
]

#: Stable diagnostic codes and what they mean. Codes are never renamed; new ones may be added.
CODES: dict[str, str] = {
    # reading and parsing
    "file-unreadable": "the file does not exist, is a directory, or cannot be read",
    "file-too-large": "the file is larger than the loader accepts",
    "not-utf8": "the file is not valid UTF-8 text",
    "yaml-syntax": "the text is not valid YAML",
    "json-syntax": "the text is not valid JSON",
    "yaml-too-complex": "anchors/aliases expand too far, or the document nests too deeply",
    "yaml-unsupported": "a YAML feature the format does not allow (complex keys, custom tags)",
    "duplicate-key": "the same key appears twice in one mapping",
    "empty-document": "the file holds no document",
    "bulk-export": "newline-delimited JSON (a FHIR Bulk Data export) where one patient belongs",
    "not-a-mapping": "the document (or an entry) should be a mapping of keys to values",
    # format (schema) errors
    "unknown-key": "a key that the format does not define",
    "missing-key": "a required key is absent",
    "invalid-value": "a value of the wrong type or form",
    "unknown-rule": "a rule name that the rule vocabulary does not define",
    "reversed-range": "a range whose lower bound is above its upper bound",
    "invalid-duration": "a duration that is not '<number> <days|weeks|months|years>'",
    "negative-duration": "a duration below zero",
    "too-deep": "rules nested deeper than the format allows",
    # reference (compile) errors
    "unknown-concept": "a concept set name that is not defined",
    "concept-kind": "a concept set of the wrong kind (a drug class in a condition rule)",
    "concept-cycle": "concept sets that include each other",
    "duplicate-concept": "two concept set files define the same name",
    "unknown-attribute": "a patient attribute name that is not defined",
    "unknown-attribute-value": "a value that the patient attribute does not take",
    "unit-mismatch": "a unit that the observation concept does not use",
    "duplicate-id": "two criteria of one trial share an id",
    "duplicate-trial": "two trial files define the same registry id",
    "unknown-criterion": "an example names a criterion that the trial does not have",
    "file-name": "a file name that does not match the id it defines",
    "no-trial-files": "a criteria folder that holds no trial file",
    # catalog QA (lint --strict)
    "unknown-code": "an ICD-10-CM code that is not in the official tabular list",
    "malformed-code": "a SNOMED CT, LOINC or RxNorm code of the wrong form or check digit",
    "unsourced-codes": "a concept set whose source does not name a code system it lists",
    # patient data
    "invalid-patient": "a patient field is invalid",
    "not-fhir": "the input is JSON but not a FHIR R4 Bundle or Patient",
    "unsupported-fhir-version": "the input is FHIR of a version matcher does not read (DSTU2)",
    # calling the library
    "invalid-argument": "a library function was given an argument it does not take",
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem. ``line`` and ``column`` are 1-based; 0 means "not known"."""

    code: str
    message: str
    file: str = "<input>"
    line: int = 0
    column: int = 0
    path: str = ""

    def as_dict(self) -> dict[str, str | int]:
        """The diagnostic as JSON-ready data (the service's and ``matcher screen``'s errors)."""
        return {
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
        }

    def render(self) -> str:
        """``file:line:col: code: message`` -- the form editors and CI logs understand.

        Always one line: control characters in any part (a key holding a newline or a terminal
        escape, a file name) are shown escaped, so that input cannot forge a second diagnostic
        or recolour the terminal.
        """
        where = printable(self.file)
        if self.line:
            where = f"{where}:{self.line}:{self.column}"
        at = f" (at {printable(self.path)})" if self.path else ""
        return f"{where}: {self.code}: {printable(self.message)}{at}"


class MatcherError(Exception):
    """Base class of every error the library raises on purpose."""


class InputError(MatcherError):
    """A file could not be read as text (missing, a directory, not UTF-8, too large)."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.render())
        self.diagnostics: tuple[Diagnostic, ...] = (diagnostic,)


class _DiagnosticsError(MatcherError):
    what = "input"

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        # Stable sort: problems without a position keep the order they were found in.
        self.diagnostics: tuple[Diagnostic, ...] = tuple(
            sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))
        )
        count = len(self.diagnostics)
        head = f"{count} problem{'s' if count != 1 else ''} in {self.what}"
        body = "\n".join(d.render() for d in self.diagnostics)
        super().__init__(f"{head}:\n{body}" if body else head)


class CriteriaError(_DiagnosticsError):
    """Criteria or concept-set files are invalid; ``diagnostics`` lists every problem found."""

    what = "criteria"


class PatientError(_DiagnosticsError):
    """A patient profile is invalid; ``diagnostics`` names each wrong field."""

    what = "patient data"


class EngineError(MatcherError):
    """An engine is not available on this Python, or failed while evaluating."""


_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FIELD_LIKE: Final = re.compile(r"[A-Za-z_]{1,40}")


def printable(text: str) -> str:
    """``text`` with every character a terminal would not print as itself -- a control character
    (newline, escape), a bidirectional control that reorders the line, an invisible format
    character -- written as an escape (``\\n``, ``\\x1b``, ``\\u202e``)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else _escape(char) for char in text)


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return repr(char)[1:-1]
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


#: Widest source line shown whole under a diagnostic; a longer one is cut around the column.
_EXCERPT_WIDTH: Final = 100


def excerpt(diagnostic: Diagnostic, text: str) -> tuple[str, ...]:
    """The source line that ``diagnostic`` points at, with a caret under its column, in the form
    cel-go and compilers use (two lines, or none when the position is not known)::

          12 |     agee: {min: 18}
             |     ^

    ``text`` is the whole file the diagnostic names. Only for criteria and concept files: a
    patient file's lines hold patient values, which must not reach a terminal or a log.
    """
    lines = text.splitlines()
    if not 0 < diagnostic.line <= len(lines):
        return ()
    line = lines[diagnostic.line - 1].replace("\t", " ").rstrip()
    column = min(max(diagnostic.column, 1), len(line) + 1)
    start = 0
    if len(line) > _EXCERPT_WIDTH:
        start = max(0, min(column - 1 - _EXCERPT_WIDTH // 2, len(line) - _EXCERPT_WIDTH))
    shown = line[start : start + _EXCERPT_WIDTH]
    lead = "..." if start else ""
    tail = "..." if start + _EXCERPT_WIDTH < len(line) else ""
    shown = printable(shown)
    prefix = printable(line[start : column - 1])
    number = str(diagnostic.line)
    gutter = " " * len(number)
    return (
        f" {number} | {lead}{shown}{tail}",
        f" {gutter} | {' ' * (len(lead) + len(prefix))}^",
    )


def field_like(key: str) -> bool:
    """True when a key may be printed in a message about a patient: letters and underscores, as
    the format's field names are. A key holding digits or punctuation may be a code or a date
    (``code:G90.511`` written without its space), which must not reach a message."""
    return _FIELD_LIKE.fullmatch(key) is not None


def join_path(parts: Sequence[str | int], *, private: bool = False) -> str:
    """Render a path such as ``('inclusion', 2, 'rule', 'age')`` as ``inclusion[2].rule.age``.

    A key that is not a plain name is quoted in brackets (``codes["197527"]``, ``[""]`` for the
    empty key); with ``private`` (a patient's data), another key that is not field-like is ``[?]``.
    """
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif private and part and not field_like(part):
            out += "[?]"
        elif _NAME.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return out


def suggest(word: str, choices: Iterable[str]) -> str:
    """``; did you mean 'x'?`` when a close choice exists, else an empty string."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
