"""Where each field of a parsed document is written: 1-based (line, column) by field path.

Positions are built from the document's node tree only when someone asks where a field is.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping

import yaml
from yaml import Node

FieldPath = tuple[str | int, ...]
Mark = tuple[int, int]


def mark_of(node: Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


class Positions(Mapping[FieldPath, Mark]):
    """Field path -> 1-based (line, column) of its value, built from the node tree on first use:
    most documents are valid and nobody asks where their fields are, so the walk is rarely paid."""

    def __init__(self, root: Node) -> None:
        self._root = root
        self._values: dict[FieldPath, Mark] | None = None
        self._keys: dict[FieldPath, Mark] = {}

    def _build(self) -> dict[FieldPath, Mark]:
        if self._values is None:
            root = self._root
            values: dict[FieldPath, Mark] = {}
            stack: list[tuple[FieldPath, Node]] = [((), root)]
            while stack:  # children are popped last-first, so a repeated key points at the value kept
                path, node = stack.pop()
                if path in values:
                    continue
                values[path] = mark_of(node)
                if isinstance(node, yaml.MappingNode):
                    for key, value in node.value:
                        child = (*path, key.value if isinstance(key, yaml.ScalarNode) else str(mark_of(key)))
                        self._keys[child] = mark_of(key)
                        stack.append((child, value))
                elif isinstance(node, yaml.SequenceNode):
                    stack.extend(((*path, index), item) for index, item in enumerate(node.value))
            self._values = values
        return self._values

    def __getitem__(self, path: FieldPath) -> Mark:
        return self._build()[path]

    def __iter__(self) -> Iterator[FieldPath]:
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())

    def key(self, path: FieldPath) -> Mark | None:
        """Where the key of ``path`` is written (None for the document root and list items)."""
        self._build()
        return self._keys.get(path)

    def nearest(self, path: FieldPath) -> Mark:
        """The position of ``path``, or of its nearest parent present in the document."""
        values = self._build()
        while path not in values:
            path = path[:-1]
        return values[path]


# YAML 1.1 (libyaml) also breaks lines at NEL, LINE SEPARATOR and PARAGRAPH SEPARATOR; editors, git
# and GitHub do not, so libyaml's line numbers would point below the real line after one of them.
ODD_BREAKS = ("\x85", "\u2028", "\u2029")
_EDITOR_BREAK = re.compile(r"\r\n|\r|\n")


class EditorLines:
    """Character offset -> 1-based (line, column) as an editor counts them (\\n, \\r\\n or \\r).

    Invariant: every answer is a place an editor can go to. The line exists: a text has as many
    lines as break-separated pieces, except that a break at its very end ends the last line rather
    than starting one (an empty text has line 1). The column is at most one past the line's last
    character. An offset at or past the end of the text is the end of the last line."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts = [0, *(match.end() for match in _EDITOR_BREAK.finditer(text))]
        if len(self._starts) > 1 and self._starts[-1] == len(text):
            self._starts.pop()

    def mark(self, index: int) -> Mark:
        index = max(0, min(index, len(self._text)))
        line = bisect.bisect_right(self._starts, index)
        start = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else len(self._text)
        piece = self._text[start:end]
        length = len(piece) - (2 if piece.endswith("\r\n") else 1 if piece.endswith(("\r", "\n")) else 0)
        return line, min(index - start, length) + 1


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` as an editor shows them, without their breaks (a break at the very end
    leaves an empty last piece, as ``str.split`` does)."""
    return _EDITOR_BREAK.split(text)


def has_odd_breaks(text: str) -> bool:
    return any(character in text for character in ODD_BREAKS)


def fix_marks(text: str, roots: list[Node]) -> None:
    """Move the marks of the nodes under ``roots`` to places an editor can go to, in place (marks
    keep libyaml's character offset). Two things put libyaml's marks elsewhere: ``ODD_BREAKS``
    (every mark after one is on a later line than an editor shows) and the end of the text (libyaml
    puts an empty value there, ``key:`` or ``---`` as the last thing written, on a line after the
    last one). Without an odd break only marks at the end can be wrong, and those belong to the last
    nodes in document order, so the walk goes backwards and stops at the first value written before
    the end: on a valid file it visits a handful of nodes."""
    every = has_odd_breaks(text)
    size = len(text)
    lines: EditorLines | None = None
    seen: set[int] = set()
    stack = list(roots)  # popped last-first: document order backwards
    while stack:
        node = stack.pop()
        if id(node) in seen:  # an alias is the same node again, possibly inside itself
            continue
        seen.add(id(node))
        wrong = every or node.start_mark.index >= size
        if wrong:
            lines = lines or EditorLines(text)
            # libyaml's marks are read-only: replace them (keeping the offset) rather than edit them
            node.start_mark, node.end_mark = (_moved(mark, lines) for mark in (node.start_mark, node.end_mark))
        if isinstance(node, yaml.MappingNode):
            stack.extend(part for pair in node.value for part in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif not wrong:  # a scalar written before the end: every node left is written before it
            break


def _moved(mark: yaml.Mark, lines: EditorLines) -> yaml.Mark:
    line, column = lines.mark(mark.index)
    return yaml.Mark(mark.name, mark.index, line - 1, column - 1, None, None)  # type: ignore[arg-type]
