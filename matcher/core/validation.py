"""Turning pydantic validation errors into located diagnostics with stable codes and hints.

pydantic reports each problem with a ``loc`` (a path through the data) and a ``type``. Here each
one becomes a ``Diagnostic``: the loc is walked over the ``Document`` to find the line and column,
the type is mapped to one of the codes in ``matcher.core.errors.CODES``, and unknown keys and rule
names get a "did you mean" hint from the names the format does define.

Messages never repeat the offending *value* (only keys and names), so the same code serves patient
files, whose values are private. In a patient's data (``Document.private``) even an unknown key is
named only when it looks like a field name (letters and underscores) or resembles one: a key such as
``code:G90.511`` (a space forgotten after the colon) holds the patient's code.

Hints are given where people commonly err: ``gender`` for ``sex``, ``dob`` for ``birth_date``, a
word such as ``ongoing`` where a date belongs, a code written as a bare number (YAML reads ``0123``
as the number 83).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from matcher.core.errors import Diagnostic, InputError, field_like, join_path, suggest
from matcher.core.source import MAX_YAML_BYTES, Document, SourceProblems, parse_yaml, read_text

__all__ = ["diagnostics_from_validation", "kind_of", "plain_message", "read_model"]

_Model = TypeVar("_Model", bound=BaseModel)

_CODES: Final = {
    "extra_forbidden": "unknown-key",
    "missing": "missing-key",
    "missing_key": "missing-key",
    "unknown_rule": "unknown-rule",
    "reversed_range": "reversed-range",
    "invalid_duration": "invalid-duration",
    "negative_duration": "negative-duration",
    "too_deep": "too-deep",
    "unknown_attribute": "unknown-attribute",
    "invalid_attribute": "unknown-attribute-value",
    "model_type": "not-a-mapping",
    "model_attributes_type": "not-a-mapping",
    "dict_type": "not-a-mapping",
}


#: Keys people write for a field of another name (compared in lower case).
_SYNONYMS: Final = {
    "gender": "sex",
    "dob": "birth_date",
    "birthdate": "birth_date",
    "date_of_birth": "birth_date",
    "birthday": "birth_date",
    "date_of_death": "deceased_date",
    "diagnoses": "conditions",
    "drugs": "medications",
}
_NOTES: Final = {"sex": " (biological sex: female or male)"}
#: Date fields whose absence itself says something: no end means ongoing.
_ENDS: Final = frozenset({"end", "abatement"})

_PATTERNS: Final = {
    r"^[a-z][a-z0-9_]*$": "expected a name of lower-case letters, digits and underscores, "
    "starting with a letter",
    r"^NCT\d{8}$": "expected a ClinicalTrials.gov id such as NCT06414356",
    r"^https?://\S+$": "expected a web address starting with http:// or https://",
}


@cache
def _known_keys(model: type[BaseModel]) -> frozenset[str]:
    """Every key any mapping of the format may hold (for "did you mean" on unknown keys)."""
    keys: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            properties = node.get("properties")
            if isinstance(properties, dict):
                keys.update(properties)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(model.model_json_schema(by_alias=True))
    return frozenset(keys)


def kind_of(value: Any) -> str:
    """What a value is, in words: ``a list``, ``a number``, ``nothing (null)``..."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return "a mapping" if isinstance(value, dict) else type(value).__name__


def _unknown_key(key: str, model: type[BaseModel], private: bool) -> str:
    if not key.strip():
        return "a key with no name: write the field name before the colon"
    known = _known_keys(model)
    if key in known:
        return f"key {key!r} is not allowed here"
    target = _SYNONYMS.get(key.lower())
    if target is None and key.lower() in known:
        target = key.lower()
    head, colon, _ = key.partition(":")
    if target is None and colon and head.strip() in known:
        return (
            f"unknown key: a colon with no space after it joins the key {head.strip()!r} to its "
            f"value; write '{head.strip()}: ...'"
        )
    hint = f"; did you mean {target!r}?{_NOTES.get(target, '')}" if target else suggest(key, known)
    if private and not field_like(key) and not hint:
        return "unknown key (not shown: it holds digits or punctuation, as data do)"
    return f"unknown key {key!r}{hint}"


def _message(error: ErrorDetails, model: type[BaseModel], private: bool) -> str:
    kind = error["type"]
    loc = error["loc"]
    given = error.get("input")
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]) if loc else "?", model, private)
    if kind == "string_type" and isinstance(given, int | float) and not isinstance(given, bool):
        field = str(loc[-1]) if loc else ""
        if field == "code":
            return (
                'expected text, got a number: write codes in quotes (code: "0123"); unquoted, '
                "YAML reads them as numbers and drops leading zeros"
            )
        return "expected text, got a number: write it in quotes"
    if kind == "invalid_date" and isinstance(given, str) and given.strip().isalpha():
        field = str(loc[-1]) if loc else ""
        if field in _ENDS:
            return (
                f"expected a date as YYYY-MM-DD, not a word: a record still going on has no end "
                f"date, so leave {field!r} out"
            )
        return "expected a date as YYYY-MM-DD, not a word: leave the field out when not known"
    if kind == "string_pattern_mismatch":
        pattern = str((error.get("ctx") or {}).get("pattern", ""))
        return _PATTERNS.get(pattern, f"expected text matching {pattern}")
    if kind == "missing":
        return f"missing required key {str(loc[-1])!r}" if loc else "missing value"
    if kind == "unknown_rule":
        if isinstance(given, dict):
            if not given:
                return "empty rule: write one rule name as the key, e.g. 'age: {min: 18}'"
            if len(given) > 1:
                found = ", ".join(repr(str(k)) for k in given)
                return (
                    f"a rule has exactly one key, the rule name; found {found}: "
                    "combine several rules with 'all' or 'any'"
                )
            name = str(next(iter(given)))
            rules: tuple[str, ...] = getattr(model, "rule_names", ())
            return f"unknown rule {name!r}{suggest(name, rules)} (rules: {', '.join(rules)})"
        return f"expected a rule (a mapping with one rule name as key), got {kind_of(given)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of keys to values, got {kind_of(given)}"
    return plain_message(error)


def plain_message(error: ErrorDetails) -> str:
    """pydantic's message for ``error``, reworded: "expected ..." rather than "Input should be"."""
    message = error["msg"]
    for prefix, replacement in (("Input should be ", "expected "), ("Value error, ", "")):
        if message.startswith(prefix):
            return replacement + message[len(prefix) :]
    return message


def diagnostics_from_validation(
    exc: ValidationError, document: Document, model: type[BaseModel]
) -> list[Diagnostic]:
    """One diagnostic per pydantic error, located in ``document``."""
    out: list[Diagnostic] = []
    errors = exc.errors(include_url=False)
    for error in errors:
        loc = error["loc"]
        if error["type"] == "too_short" and any(
            len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in errors
        ):
            continue  # pydantic counts only the valid items: "at least 1 item, not 0" is noise
        extra = error["type"] == "extra_forbidden"
        found, line, column = document.walk(loc, at_key=extra)
        if extra and loc and tuple(found[-1:]) != (loc[-1],):
            found = (*found, loc[-1])  # the key itself, when the data no longer holds it
        path = join_path(found, private=document.private)
        code = _CODES.get(error["type"], "invalid-value")
        message = _message(error, model, document.private)
        out.append(Diagnostic(code, message, document.file, line, column, path))
    return out


def read_model(
    path: Path, model: type[_Model], problems: list[Diagnostic]
) -> tuple[Document, _Model] | None:
    """Read a YAML file into ``model``; when it cannot be read, parsed or validated, add its
    located problems to ``problems`` and return ``None`` (one bad file among many loads no less
    of the others)."""
    try:
        document = parse_yaml(read_text(path, limit=MAX_YAML_BYTES), str(path))
    except (InputError, SourceProblems) as exc:
        problems.extend(exc.diagnostics)
        return None
    try:
        return document, model.model_validate(document.data)
    except ValidationError as exc:
        problems.extend(diagnostics_from_validation(exc, document, model))
        return None
