"""Writing a draft trial file as YAML people can read and review, byte for byte the same for the
same draft.

PyYAML's emitter would do, but a draft is read by people: this writer keeps the keys in the
format's order, writes block lists, small mappings of plain values in flow style
(``geo: {lat: 30.69, lon: -88.04}``), plain scalars where YAML reads them back unchanged and
double-quoted ones otherwise, and comments above a criterion. Control and line-separator
characters are escaped, so that the text a registry holds survives the round trip exactly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Final

import yaml

__all__ = ["COMMENT", "render", "scalar"]

#: A key of a mapping to render whose value (a list of lines) is written as comments above it.
COMMENT: Final = "#"

_PLAIN: Final = re.compile(r"[A-Za-z0-9][\w .,()/+'&%<>=≥≤-]*", re.UNICODE)
_FLOW_UNSAFE: Final = re.compile(r"[,\[\]{}#]")
_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t"}


def _quoted(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif (
            code < 0x20
            or 0x7F <= code <= 0x9F
            or char in "\u2028\u2029\ufeff\ufffe\uffff"
            or 0xD800 <= code <= 0xDFFF
        ):
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def scalar(value: Any, *, flow: bool = False) -> str:
    """One scalar as YAML that reads back as the same value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    plain = (
        _PLAIN.fullmatch(text) is not None
        and ": " not in text
        and not text.endswith((" ", ":"))
        and not (flow and _FLOW_UNSAFE.search(text))
    )
    if plain:
        try:
            plain = yaml.safe_load(text) == text
        except yaml.YAMLError:
            plain = False
    return text if plain else _quoted(text)


def _is_flat(value: Any) -> bool:
    """A small mapping of scalars, lists of scalars and such mappings (written in flow style)."""
    if isinstance(value, list | tuple):
        return all(not isinstance(v, Mapping | list | tuple) for v in value)
    return (
        isinstance(value, Mapping)
        and COMMENT not in value
        and all(not isinstance(v, Mapping | list | tuple) or _is_flat(v) for v in value.values())
        and len(value) <= 4
    )


def _flow(value: Any) -> str:
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return scalar(value, flow=True)


def _mapping(value: Mapping[str, Any], indent: int, lines: list[str], first: str = "") -> None:
    """``first`` is the text before the first key (``"- "`` in a list)."""
    pad = " " * indent
    for position, (key, item) in enumerate(value.items()):
        if key == COMMENT:
            continue
        lead = first if position == 0 or (position == 1 and COMMENT in value) else ""
        at = pad if not lead else pad[: -len(lead)] + lead if len(pad) >= len(lead) else lead
        if isinstance(item, Mapping):
            if _is_flat(item):
                lines.append(f"{at}{key}: {_flow(item)}")
            else:
                lines.append(f"{at}{key}:")
                _mapping(item, indent + 2, lines)
        elif isinstance(item, list | tuple):
            if not item:
                lines.append(f"{at}{key}: []")
                continue
            lines.append(f"{at}{key}:")
            _sequence(item, indent + 2, lines)
        else:
            lines.append(f"{at}{key}: {scalar(item)}")


def _sequence(items: Sequence[Any], indent: int, lines: list[str]) -> None:
    pad = " " * indent
    for item in items:
        if isinstance(item, Mapping):
            for comment in item.get(COMMENT, ()):
                lines.append(f"{pad}# {comment}")
            if _is_flat(item) and len(item) <= 2:
                lines.append(f"{pad}- {_flow(item)}")
            else:
                _mapping(item, indent + 2, lines, first="- ")
        elif isinstance(item, list | tuple):
            raise TypeError("nested lists are not part of the trial format")
        else:
            lines.append(f"{pad}- {scalar(item)}")


def render(document: Mapping[str, Any], header: Sequence[str] = ()) -> str:
    """The document as YAML text, with ``header`` lines as comments on top."""
    lines = [f"# {line}" if line else "#" for line in header]
    _mapping(document, 0, lines)
    return "\n".join(lines) + "\n"
