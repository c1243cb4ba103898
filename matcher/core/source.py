"""Reading files into plain data while remembering where every value came from.

This is the first stage of the pipeline. It turns bytes into ``Document``: plain Python data
(dicts, lists, str, int, float, bool, None) plus a map from each YAML path to its line and column,
so that later stages can point at the text when something is wrong.

YAML is read from libyaml's *event stream* (``yaml.parse``) by a small iterative builder instead of
``yaml.safe_load``, because the builder must do four things PyYAML does not:

* report duplicate keys (PyYAML silently keeps the last one);
* bound alias expansion, so a "billion laughs" document is refused in milliseconds;
* bound nesting depth without recursion (libyaml's composer recurses in C and can crash the
  process on a document of 50,000 opening brackets);
* keep dates as the text written, so that pydantic reports "2026-02-30" as an invalid date at its
  position instead of the YAML constructor raising a bare ValueError.

Only the YAML core types are accepted: strings, numbers, booleans, null. Custom tags, merge keys
(``<<``) and complex keys are refused. Mapping keys are always strings, taken as written
(``no:`` is the key ``"no"``, ``1153378:`` is ``"1153378"``).

JSON files are read with the standard library (much faster for a 2 MB FHIR bundle); they carry no
positions, so their validation errors name the field path only. The problems of the text itself
(syntax, a key twice, ``NaN``, nesting too deep) do get a line and column: on that error path only,
a small scanner walks the tokens to find them.

Which parser, and so which size cap: a ``.json`` (or ``.ndjson``) name is JSON and a ``.yaml`` /
``.yml`` name is YAML; any other input -- standard input, text or bytes in memory, a file named
otherwise -- is JSON when its first character other than white space is ``{`` or ``[``, and YAML
otherwise. The cap is that of the parser chosen (8 MB for YAML, 128 MB for JSON), and input is read
only up to it, so an endless stream (``/dev/zero``, a pipe) stops there.
"""

from __future__ import annotations

import json
import os
import re
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import yaml

from matcher.core.errors import Diagnostic, InputError, field_like, join_path

__all__ = [
    "MAX_JSON_BYTES",
    "MAX_YAML_BYTES",
    "Document",
    "SourceProblems",
    "parse_json",
    "parse_text",
    "parse_yaml",
    "read_stream",
    "read_text",
]

#: YAML is parsed in Python and slow past a few MB; no criteria or patient file needs more.
MAX_YAML_BYTES: Final = 8 * 1024 * 1024
#: JSON (FHIR bundles) is parsed in C; a large real-world bundle still fits.
MAX_JSON_BYTES: Final = 128 * 1024 * 1024
#: Upper bound on the number of values a document may expand to through aliases.
MAX_NODES: Final = 2_000_000
#: Upper bound on nesting of mappings and sequences.
MAX_DEPTH: Final = 100
#: The first bytes read of an input, enough to choose its parser.
_HEAD: Final = 64 * 1024
_CHUNK: Final = 1024 * 1024
_MB: Final = 1024 * 1024
_YAML_SUFFIXES: Final = frozenset({".yaml", ".yml"})
_JSON_SUFFIXES: Final = frozenset({".json", ".ndjson"})

PathT = tuple[str | int, ...]

_LOADER: Final = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER: Final = yaml.resolver.Resolver()
_CONSTRUCTOR: Final = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_STR, _NULL, _BOOL, _INT, _FLOAT, _TIMESTAMP = (
    _TAG + t for t in ("str", "null", "bool", "int", "float", "timestamp")
)


@dataclass(frozen=True)
class Document:
    """Plain data read from one file, with the position of each value by path."""

    file: str
    data: Any
    positions: dict[PathT, tuple[int, int]] = field(default_factory=dict, repr=False)
    key_positions: dict[PathT, tuple[int, int]] = field(default_factory=dict, repr=False)
    #: A patient's data: keys that are not field-like are not shown in paths (``[?]``).
    private: bool = False

    def locate(self, loc: Sequence[str | int], *, at_key: bool = False) -> tuple[str, int, int]:
        """Map a validation ``loc`` onto the text: (YAML path, line, column).

        Segments that are not in the data (pydantic adds union tags and model names to a loc)
        are skipped; the position is that of the deepest value actually found.
        """
        found, line, column = self.walk(loc, at_key=at_key)
        return join_path(found, private=self.private), line, column

    def walk(
        self, loc: Sequence[str | int], *, at_key: bool = False
    ) -> tuple[tuple[str | int, ...], int, int]:
        """``locate``, with the path as the tuple of keys and indexes found in the data."""
        node: Any = self.data
        found: list[str | int] = []
        for part in loc:
            if isinstance(node, dict) and isinstance(part, str) and part in node:
                node = node[part]
                found.append(part)
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                node = node[part]
                found.append(part)
        path = tuple(found)
        pos = self.key_positions.get(path) if at_key else None
        if pos is None:
            pos = self.positions.get(path)
        while pos is None and path:
            path = path[:-1]
            pos = self.positions.get(path)
        line, column = pos if pos is not None else (0, 0)
        return tuple(found), line, column


class SourceProblems(Exception):  # noqa: N818 -- internal carrier, never leaves the library
    """Raised by the parsers with the diagnostics found; callers wrap it in their error family."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        super().__init__("; ".join(d.render() for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def read_text(path: Path, *, limit: int | None = None) -> str:
    """Read a UTF-8 text file (a leading BOM is allowed); raise ``InputError`` otherwise.

    ``limit`` caps the size in bytes; by default the cap is that of the parser ``parse_text``
    will choose for the file (see the module docstring).
    """
    name = str(path)
    try:
        if path.is_dir():
            raise InputError(Diagnostic("file-unreadable", "is a directory, not a file", name))
        with path.open("rb") as stream:
            info = os.fstat(stream.fileno())
            size = info.st_size if stat.S_ISREG(info.st_mode) else None
            return read_stream(stream, name, limit=limit, size=size)
    except FileNotFoundError:
        raise InputError(Diagnostic("file-unreadable", "no such file", name)) from None
    except PermissionError:
        raise InputError(Diagnostic("file-unreadable", "permission denied", name)) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError(Diagnostic("file-unreadable", f"cannot read: {reason}", name)) from None
    except ValueError:  # the operating system cannot even look the name up
        raise InputError(
            Diagnostic("file-unreadable", "a file name cannot contain a null character", name)
        ) from None


def read_stream(
    stream: BinaryIO, name: str, *, limit: int | None = None, size: int | None = None
) -> str:
    """Read and decode a byte stream (a file, standard input), never past the size cap.

    ``size`` is the stream's length when known (a regular file): too large, it is refused unread.
    """
    head = stream.read(_HEAD)
    cap = limit if limit is not None else size_cap(head, name)
    if size is not None and size > cap:
        raise InputError(_too_large(name, cap, size))
    chunks = [head]
    total = len(head)
    while total <= cap:
        chunk = stream.read(min(_CHUNK, cap + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > cap:
        raise InputError(_too_large(name, cap, size))
    return decode(b"".join(chunks), name)


def size_cap(start: str | bytes, name: str) -> int:
    """The size cap of an input that begins with ``start``: that of the parser it will get."""
    return MAX_JSON_BYTES if _chooses_json(start, name) else MAX_YAML_BYTES


def check_size(text: str | bytes, name: str) -> None:
    """Raise ``InputError`` when text (or bytes) already in memory is over its size cap."""
    cap = size_cap(text[:_HEAD], name)
    size = len(text)
    if isinstance(text, str) and size * 4 > cap:  # characters: count the UTF-8 bytes
        size = len(text.encode("utf-8", "surrogatepass"))
    if size > cap:
        raise InputError(_too_large(name, cap, size))


def _too_large(name: str, cap: int, size: int | None) -> Diagnostic:
    kind = "JSON" if cap == MAX_JSON_BYTES else "YAML"
    limit = f"the limit for {kind} is {cap / _MB:.0f} MB"
    if size is None:  # a stream: only how far it was read is known
        message = f"input is larger than {cap / _MB:.0f} MB; {limit}"
        return Diagnostic("file-too-large", message, name)
    return Diagnostic("file-too-large", f"file is {size / _MB:.1f} MB; {limit}", name)


def _chooses_json(start: str | bytes, name: str) -> bool:
    suffix = os.path.splitext(name)[1].lower()
    if suffix in _JSON_SUFFIXES:
        return True
    if suffix in _YAML_SUFFIXES:
        return False
    if isinstance(start, bytes):
        first = start.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")[:1]
        return first in (b"{", b"[")
    return start.lstrip(" \t\r\n\ufeff")[:1] in ("{", "[")


def decode(raw: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), pointing at the first bad byte on failure."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise InputError(
            Diagnostic(
                "not-utf8",
                f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; save the file as UTF-8",
                name,
                line,
                column,
            )
        ) from None


def parse_text(text: str, file: str, *, private: bool = False) -> Document:
    """Parse JSON or YAML, choosing the parser as the module docstring says.

    ``private`` marks a patient's data: keys that are not field-like stay out of messages.
    """
    if _chooses_json(text[:_HEAD], file):
        return parse_json(text, file, private=private)
    return parse_yaml(text, file, private=private)


def parse_json(text: str, file: str, *, private: bool = False) -> Document:
    """Parse JSON; duplicate keys, NaN/Infinity and NDJSON are refused, each with its position."""
    duplicates = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicates
        out = dict(items)
        if len(out) < len(items):
            duplicates = True
        return out

    def constant(name: str) -> float:
        raise _NotANumberError(name)

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and _one_object_per_line(text, exc.pos):
            raise SourceProblems(
                [Diagnostic("bulk-export", _NDJSON, file, exc.lineno, exc.colno)]
            ) from None
        raise SourceProblems(
            [Diagnostic("json-syntax", exc.msg, file, exc.lineno, exc.colno)]
        ) from None
    except _NotANumberError as exc:
        found = next(_JsonScan(text, private).run(constants=True), None)
        line, column, path = found[1:] if found else (0, 0, "")
        raise SourceProblems(
            [Diagnostic("json-syntax", f"{exc} is not a JSON number", file, line, column, path)]
        ) from None
    except ValueError:  # the only other one: an integer longer than Python converts
        raise SourceProblems([Diagnostic("invalid-value", _too_many_digits(), file)]) from None
    except RecursionError:
        found = next(_JsonScan(text, private).run(depth=True), None)
        line, column, path = found[1:] if found else (0, 0, "")
        raise SourceProblems(
            [
                Diagnostic(
                    "yaml-too-complex",
                    f"the document nests deeper than {MAX_DEPTH} levels",
                    file,
                    line,
                    column,
                    path,
                )
            ]
        ) from None
    if duplicates:
        raise SourceProblems(
            [
                Diagnostic("duplicate-key", message, file, line, column, path)
                for message, line, column, path in _JsonScan(text, private).run(duplicates=True)
            ]
        )
    return Document(file, data, private=private)


_NDJSON: Final = (
    "one JSON value per line (NDJSON, as a FHIR Bulk Data export is written): this is a bulk "
    "export of many records, and matcher check reads one patient (a Bundle, a Patient resource "
    "or a profile); screening an export is not supported yet"
)


def _one_object_per_line(text: str, extra: int) -> bool:
    """True when a first JSON object ends a line and another object starts the next one."""
    before = text[:extra]
    gap = before[len(before.rstrip()) :]
    return (
        text.lstrip()[:1] == "{"
        and before.rstrip().endswith("}")
        and "\n" in gap
        and (text[extra : extra + 1] == "{")
    )


_JSON_TOKEN: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|-?Infinity|NaN', re.DOTALL)


class _JsonScan:
    """Finds where in a JSON text a problem the standard parser reports without a position is.

    It runs only on the error path; tokens come from one regular expression (strings, brackets,
    separators, NaN and Infinity), and a stack follows the keys and indexes of the path.
    """

    def __init__(self, text: str, private: bool) -> None:
        self.text = text
        self.private = private

    def where(self, offset: int) -> tuple[int, int]:
        line = self.text.count("\n", 0, offset) + 1
        return line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1

    def run(
        self, *, duplicates: bool = False, constants: bool = False, depth: bool = False
    ) -> Iterator[tuple[str, int, int, str]]:
        """(message, line, column, path) of each duplicate key, the first NaN/Infinity, or the
        first bracket nested deeper than ``MAX_DEPTH``, in the order they appear."""
        # Each open container: its keys (first line of each) or None for a list, the path of
        # its current member, and whether the next string is a key.
        stack: list[tuple[dict[str, int] | None, list[str | int], list[bool]]] = []
        for token in _JSON_TOKEN.finditer(self.text):
            kind = token.group()
            if kind in ("{", "["):
                path = list(stack[-1][1]) if stack else []
                if depth and len(stack) >= MAX_DEPTH:
                    line, column = self.where(token.start())
                    yield "", line, column, ""
                    return
                if kind == "{":
                    stack.append(({}, [*path, ""], [True]))
                else:
                    stack.append((None, [*path, 0], [False]))
            elif kind in ("}", "]"):
                if stack:
                    stack.pop()
            elif not stack:
                continue
            elif kind == ",":
                keys, path, expect_key = stack[-1]
                if keys is None:
                    index = path[-1]
                    path[-1] = index + 1 if isinstance(index, int) else 0
                else:
                    expect_key[0] = True
            elif kind == ":":
                stack[-1][2][0] = False
            elif kind[0] == '"':
                keys, path, expect_key = stack[-1]
                if keys is None or not expect_key[0]:
                    continue
                key = json.loads(kind)
                path[-1] = key
                line, column = self.where(token.start())
                if key in keys and duplicates:
                    yield (
                        _duplicate_message(key, keys[key], self.private),
                        line,
                        column,
                        join_path(path, private=self.private),
                    )
                keys.setdefault(key, line)
            elif constants:
                line, column = self.where(token.start())
                yield "", line, column, join_path(stack[-1][1], private=self.private)
                return


def _duplicate_message(key: str, first_line: int, private: bool) -> str:
    if private and not field_like(key):
        return f"a key is already defined on line {first_line}; each key may appear once"
    return f"key {key!r} is already defined on line {first_line}; each key may appear once"


def parse_yaml(text: str, file: str, *, private: bool = False) -> Document:
    """Parse one YAML document with positions; raise ``SourceProblems`` listing every problem."""
    try:
        return _parse_yaml(text, file, _LOADER, private)
    except SourceProblems as exc:
        refusal = next((d for d in exc.diagnostics if _LIBYAML_DEPTH in d.message), None)
        if refusal is None or _LOADER is yaml.SafeLoader:
            raise
    # libyaml (PyYAML >= 6.0.4) refuses deep nesting itself while it reads ahead, before the
    # builder's own limit speaks. The pure-Python parser reads ahead less and has no limit of
    # its own, so the builder stops at MAX_DEPTH, at the same position on every PyYAML version.
    # This runs only on that error path, and stops at the first level too deep.
    try:
        _parse_yaml(text, file, yaml.SafeLoader, private)
    except SourceProblems as exc:
        if any(d.code == "yaml-too-complex" for d in exc.diagnostics):
            raise SourceProblems(exc.diagnostics) from None
    too_deep = f"the document nests deeper than {MAX_DEPTH} levels"
    raise SourceProblems(
        [Diagnostic("yaml-too-complex", too_deep, file, refusal.line, refusal.column)]
    )


#: What libyaml says when a document nests deeper than its own limit.
_LIBYAML_DEPTH: Final = "exceeded maximum nesting depth"


def _parse_yaml(text: str, file: str, loader: Any, private: bool) -> Document:
    builder = _Builder(file, private)
    try:
        builder.run(yaml.parse(text, Loader=loader))
    except yaml.reader.ReaderError as exc:  # a character YAML forbids; it has no mark
        in_bytes = loader is not yaml.SafeLoader
        line, column = _offset_position(text, exc.position, in_bytes=in_bytes)
        message = f"unacceptable character U+{exc.character:04X}: {exc.reason}"
        builder.problems.append(Diagnostic("yaml-syntax", message, file, line, column))
        raise SourceProblems(builder.problems) from None
    except UnicodeEncodeError as exc:  # a lone surrogate: only text built in code holds one
        line, column = _offset_position(text, exc.start, in_bytes=False)
        message = f"character U+{ord(text[exc.start]):04X} is not valid Unicode text"
        builder.problems.append(Diagnostic("not-utf8", message, file, line, column))
        raise SourceProblems(builder.problems) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        if line and _tab_indented(text, line, column):
            message = "a tab character indents this line: indent YAML with spaces only"
        builder.problems.append(Diagnostic("yaml-syntax", message, file, line, column))
        raise SourceProblems(builder.problems) from None
    except yaml.YAMLError as exc:
        builder.problems.append(Diagnostic("yaml-syntax", str(exc), file))
        raise SourceProblems(builder.problems) from None
    except _Abort:
        raise SourceProblems(builder.problems) from None
    if builder.documents == 0:
        raise SourceProblems(
            [Diagnostic("empty-document", "the file holds no document", file, 1, 1)]
        )
    if builder.problems:
        raise SourceProblems(builder.problems)
    return Document(file, builder.root, builder.positions, builder.key_positions, private)


def _tab_indented(text: str, line: int, column: int) -> bool:
    """True when the error at (line, column) is in the indentation and it holds a tab."""
    parts = text.split("\n", line)
    if len(parts) < line:
        return False
    indent = parts[line - 1][:column]
    return "\t" in indent and not indent.strip()


def _offset_position(text: str, offset: int, *, in_bytes: bool) -> tuple[int, int]:
    """1-based (line, column) of an offset into ``text``, counted in characters or UTF-8 bytes."""
    if in_bytes:  # libyaml counts bytes of the UTF-8 encoding
        before = text.encode("utf-8", "surrogatepass")[:offset].decode("utf-8", "ignore")
    else:
        before = text[:offset]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def _too_many_digits() -> str:
    return f"a number has more than {sys.get_int_max_str_digits()} digits"


class _NotANumberError(ValueError):
    """NaN or Infinity in JSON: Python reads them, the JSON standard does not."""


def _position(mark: Any) -> tuple[int, int]:
    """1-based (line, column) of a libyaml mark; (0, 0) when there is none."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)


class _Abort(Exception):  # noqa: N818 -- internal control flow
    pass


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: PathT
    size: int = 1
    pending_key: str | None = None
    anchor: str | None = None


class _Builder:
    """Builds plain data from YAML events, iteratively, with positions and limits."""

    def __init__(self, file: str, private: bool) -> None:
        self.file = file
        self.private = private
        self.problems: list[Diagnostic] = []
        self.positions: dict[PathT, tuple[int, int]] = {}
        self.key_positions: dict[PathT, tuple[int, int]] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.nodes = 0

    def _problem(self, code: str, message: str, mark: Any, path: PathT = ()) -> None:
        line, column = _position(mark)
        path_text = join_path(path, private=self.private)
        self.problems.append(Diagnostic(code, message, self.file, line, column, path_text))

    def _child_path(self) -> PathT | None:
        """Path of the next value; ``None`` if the next scalar is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.container, list):
            return (*top.path, len(top.container))
        if top.pending_key is None:
            return None
        return (*top.path, top.pending_key)

    def run(self, events: Iterator[yaml.Event]) -> None:
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    self._problem(
                        "yaml-syntax",
                        "expected one YAML document, found a second one ('---')",
                        event.start_mark,
                    )
                    raise _Abort
            elif isinstance(event, yaml.ScalarEvent):
                self._scalar(event)
            elif isinstance(event, yaml.AliasEvent):
                self._alias(event)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                self._start(event)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                self._end()

    def _count(self, size: int, mark: Any) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            self._problem(
                "yaml-too-complex",
                f"the document expands to more than {MAX_NODES:,} values "
                "(anchors and aliases repeated too often)",
                mark,
            )
            raise _Abort

    def _start(self, event: yaml.MappingStartEvent | yaml.SequenceStartEvent) -> None:
        path = self._child_path()
        if path is None:
            self._problem(
                "yaml-unsupported", "a mapping key must be a plain value", event.start_mark
            )
            raise _Abort
        if len(self.stack) >= MAX_DEPTH:
            self._problem(
                "yaml-too-complex",
                f"the document nests deeper than {MAX_DEPTH} levels",
                event.start_mark,
            )
            raise _Abort
        self._check_tag(
            event.tag,
            "mapping" if isinstance(event, yaml.MappingStartEvent) else "seq",
            event.start_mark,
            path,
        )
        self._count(1, event.start_mark)
        container: dict[str, Any] | list[Any] = (
            {} if isinstance(event, yaml.MappingStartEvent) else []
        )
        self.positions[path] = _position(event.start_mark)
        self.stack.append(_Frame(container, path, anchor=event.anchor))

    def _end(self) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (frame.container, frame.size)
        if self.stack:
            self.stack[-1].size += frame.size
        self._place(frame.container, frame.path)

    def _check_tag(self, tag: str | None, kind: str, mark: Any, path: PathT) -> None:
        if tag in (None, "!", _TAG + kind, _TAG + "map"):
            return
        self._problem("yaml-unsupported", f"the YAML tag {tag!r} is not supported", mark, path)

    def _alias(self, event: yaml.AliasEvent) -> None:
        path = self._child_path()
        if event.anchor not in self.anchors:
            self._problem("yaml-syntax", f"unknown alias *{event.anchor}", event.start_mark)
            raise _Abort
        value, size = self.anchors[event.anchor]
        self._count(size, event.start_mark)
        if path is None:
            if not isinstance(value, str):
                self._problem(
                    "yaml-unsupported", "a mapping key must be a plain value", event.start_mark
                )
                raise _Abort
            self._key(value, event.start_mark)
            return
        if self.stack:
            self.stack[-1].size += size
        self.positions[path] = _position(event.start_mark)
        self._place(value, path)

    def _scalar(self, event: yaml.ScalarEvent) -> None:
        self._count(1, event.start_mark)
        path = self._child_path()
        if path is None:
            if event.anchor is not None:
                self.anchors[event.anchor] = (event.value, 1)
            self._key(event.value, event.start_mark)
            return
        value = self._construct(event, path)
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        if self.stack:
            self.stack[-1].size += 1
        self.positions[path] = _position(event.start_mark)
        self._place(value, path)

    def _key(self, key: str, mark: Any) -> None:
        top = self.stack[-1]
        assert isinstance(top.container, dict)
        path = (*top.path, key)
        if key == "<<":  # YAML syntax, not data: named even in a patient's file
            line, column = _position(mark)
            message = "merge keys ('<<') are not supported"
            self.problems.append(
                Diagnostic("yaml-unsupported", message, self.file, line, column, join_path(path))
            )
        elif key in top.container:
            first = self.key_positions.get(path, (0, 0))
            message = _duplicate_message(key, first[0], self.private)
            self._problem("duplicate-key", message, mark, path)
            top.pending_key = f"\0duplicate:{key}"
            return
        self.key_positions[path] = _position(mark)
        top.pending_key = key

    def _place(self, value: Any, path: PathT) -> None:
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        if isinstance(top.container, list):
            top.container.append(value)
        else:
            key = top.pending_key
            assert key is not None
            top.pending_key = None
            if not key.startswith("\0duplicate:") and key != "<<":
                top.container[key] = value

    def _construct(self, event: yaml.ScalarEvent, path: PathT) -> Any:
        tag = event.tag
        if tag in (None, "!"):
            tag = _RESOLVER.resolve(  # type: ignore[no-untyped-call]
                yaml.ScalarNode, event.value, event.implicit
            )
        node = yaml.ScalarNode(tag, event.value)
        if tag in (_STR, _TIMESTAMP):
            return event.value
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return _CONSTRUCTOR.construct_yaml_bool(node)
        if tag == _INT:
            try:
                return _CONSTRUCTOR.construct_yaml_int(node)
            except ValueError:  # more digits than Python converts to an int
                self._problem("invalid-value", _too_many_digits(), event.start_mark, path)
                return event.value
        if tag == _FLOAT:
            return _CONSTRUCTOR.construct_yaml_float(node)
        self._problem(
            "yaml-unsupported", f"the YAML tag {tag!r} is not supported", event.start_mark, path
        )
        return event.value
