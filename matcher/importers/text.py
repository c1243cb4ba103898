"""Splitting a registry's eligibility text into numbered items, nesting kept.

ClinicalTrials.gov API v2 gives ``eligibilityCriteria`` as Markdown: section headings
("Inclusion Criteria:", "Key Exclusion Criteria"), bullet and numbered lists nested by
indentation, free paragraphs between them, and backslash escapes (``\\>``, ``\\*``, ``\\_``).

``split_criteria`` turns the text into sections of ``Item`` trees:

* a heading starts a section (``inclusion`` or ``exclusion``); text before any heading belongs to
  a section of kind ``unsorted``;
* a list item (``*``, ``-``, ``+``, ``•``, ``1.``, ``1)``, ``a.``, ``(a)``) is an item; an item
  indented deeper than the one above it is its child; lines that follow an item without a blank
  line, or indented after one, continue it;
* a paragraph that is not a list item is an item of its own at the top level, and the list that
  follows it is its children when it ends with ":" ("Two of the following:"); text ending with
  ":" before a section's first item is the section's preamble;
* items are numbered by position: ``3`` is the third top-level item of its section, ``3.2`` the
  second child of that one. A number or letter the registry wrote is kept in the item's text.

Nothing is dropped: every non-blank line of the input ends up in exactly one item, preamble or
heading. Escapes are undone after the structure is read, so an escaped ``\\*`` never starts a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["Item", "Section", "split_criteria", "unescape"]

SectionKind = Literal["inclusion", "exclusion", "unsorted"]

_HEADING: Final = re.compile(
    r"^[#*_\s]*(?:key\s+|main\s+|general\s+|other\s+|additional\s+)?"
    r"(inclusion|exclusion)s?(?:\s+criteri(?:a|on|ons))?(?:\s+for\s+[\w\s,-]{1,40})?[*_\s]*:?[*_\s]*$",
    re.IGNORECASE,
)
_BULLET: Final = re.compile(r"^(\s*)([*\-+•·▪●]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\w{1,4}\))\s+(.*)$")
_ESCAPE: Final = re.compile(r"\\([!-/:-@\[-`{-~])")
_SPACES: Final = re.compile(r"[ \t]+")


def unescape(text: str) -> str:
    """Undo Markdown backslash escapes (``\\>`` -> ``>``) and collapse runs of spaces."""
    return _SPACES.sub(" ", _ESCAPE.sub(r"\1", text)).strip()


@dataclass
class Item:
    """One criterion as the registry wrote it, with its children."""

    number: str
    text: str
    children: list[Item] = field(default_factory=list)
    #: Indentation of the line that opened it (list items only; paragraphs are -1).
    indent: int = -1


@dataclass
class Section:
    kind: SectionKind
    heading: str | None = None
    preamble: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)

    def walk(self) -> list[Item]:
        """Every item, depth first, in the order of the text."""
        found: list[Item] = []
        stack = list(reversed(self.items))
        while stack:
            item = stack.pop()
            found.append(item)
            stack.extend(reversed(item.children))
        return found


def _heading_kind(line: str) -> SectionKind | None:
    if len(line) > 80:
        return None
    match = _HEADING.match(line)
    return match.group(1).lower() if match else None  # type: ignore[return-value]


class _Splitter:
    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.section: Section | None = None
        self.stack: list[Item] = []  # open list items, outermost first
        self.last: Item | None = None  # the item the next plain line may continue
        self.blank = True

    def current(self) -> Section:
        if self.section is None:
            self.section = Section("unsorted")
            self.sections.append(self.section)
        return self.section

    def add(self, text: str, indent: int) -> Item:
        section = self.current()
        while self.stack and self.stack[-1].indent >= indent:
            self.stack.pop()
        if indent < 0:
            self.stack.clear()
        siblings = self.stack[-1].children if self.stack else section.items
        parent = self.stack[-1].number + "." if self.stack else ""
        item = Item(f"{parent}{len(siblings) + 1}", text, indent=indent)
        siblings.append(item)
        if indent >= 0 or text.endswith(":"):
            # A paragraph that ends with ":" ("Two of the following:") heads the list below it.
            self.stack.append(item)
        self.last = item
        return item

    def line(self, raw: str) -> None:
        if not raw.strip():
            self.blank = True
            return
        kind = _heading_kind(raw.strip())
        if kind is not None:
            self.section = Section(kind, heading=unescape(raw.strip().strip("#*_ ")))
            self.sections.append(self.section)
            self.stack.clear()
            self.last = None
            self.blank = True
            return
        bullet = _BULLET.match(raw)
        if bullet is not None:
            indent, marker, text = (
                len(bullet.group(1).expandtabs(4)),
                bullet.group(2),
                bullet.group(3),
            )
            shown = text if marker in "*-+•·▪●" else f"{marker} {text}"
            self.add(shown, indent)
        else:
            indented = len(raw) - len(raw.lstrip()) >= 2
            if self.last is not None and (not self.blank or (indented and self.last.indent >= 0)):
                self.last.text += " " + raw.strip()
            else:
                section = self.current()
                if not section.items and raw.strip().endswith(":"):
                    section.preamble.append(raw.strip())
                    self.last = None
                else:
                    self.add(raw.strip(), -1)
                    self.last = section.items[-1]
        self.blank = False


def split_criteria(text: str) -> list[Section]:
    """The sections of an eligibility text, in order (see the module docstring)."""
    splitter = _Splitter()
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        splitter.line(raw)
    for section in splitter.sections:
        section.preamble = [unescape(p) for p in section.preamble]
        for item in section.walk():
            # A list marker with nothing readable after it is kept, and says so.
            item.text = unescape(item.text) or "(an empty list item)"
    return [s for s in splitter.sections if s.items or s.preamble or s.heading]
