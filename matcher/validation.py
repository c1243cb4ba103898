"""Turning pydantic validation errors into located diagnostics with stable codes and hints.

pydantic reports each problem with a ``loc`` (a path through the data) and a ``type``. Here each
one becomes a ``Diagnostic``: the loc is walked over the ``Document`` to find the line and column,
the type is mapped to one of the codes in ``matcher.errors.CODES``, and unknown keys and rule
names get a "did you mean" hint from the names the format does define.

Messages never repeat the offending *value* (only keys and names), so the same code serves patient
files, whose values are private.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from matcher.errors import Diagnostic, InputError, suggest
from matcher.schema import RULE_NAMES
from matcher.source import Document, SourceProblems, parse_yaml, read_text

__all__ = ["diagnostics_from_validation", "kind_of", "plain_message", "read_model"]

_Model = TypeVar("_Model", bound=BaseModel)

_CODES: Final = {
    "extra_forbidden": "unknown-key",
    "missing": "missing-key",
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


def _message(error: ErrorDetails, model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = error["loc"]
    given = error.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else "?"
        known = _known_keys(model)
        if key in known:
            return f"key {key!r} is not allowed here"
        return f"unknown key {key!r}{suggest(key, known)}"
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
            return (
                f"unknown rule {name!r}{suggest(name, RULE_NAMES)} (rules: {', '.join(RULE_NAMES)})"
            )
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
        path, line, column = document.locate(loc, at_key=error["type"] == "extra_forbidden")
        if error["type"] == "extra_forbidden" and not path.endswith(str(loc[-1]) if loc else ""):
            path = f"{path}.{loc[-1]}" if path else str(loc[-1])
        code = _CODES.get(error["type"], "invalid-value")
        out.append(Diagnostic(code, _message(error, model), document.file, line, column, path))
    return out


def read_model(
    path: Path, model: type[_Model], problems: list[Diagnostic]
) -> tuple[Document, _Model] | None:
    """Read a YAML file into ``model``; when it cannot be read, parsed or validated, add its
    located problems to ``problems`` and return ``None`` (one bad file among many loads no less
    of the others)."""
    try:
        document = parse_yaml(read_text(path), str(path))
    except (InputError, SourceProblems) as exc:
        problems.extend(exc.diagnostics)
        return None
    try:
        return document, model.model_validate(document.data)
    except ValidationError as exc:
        problems.extend(diagnostics_from_validation(exc, document, model))
        return None
