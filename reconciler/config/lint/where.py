"""Positions inside YAML scalars: from (line, column) within a template's content to the file.

The loader gives the position where the content value starts. For a one-line plain or quoted
scalar, and for a literal block (``|``), the text maps onto the file character for character, so a
problem inside the content can point at its exact column. Folded and multi-line flow scalars
rewrite line breaks; there we point at the start of the value. Every mapping is verified against
the source text and falls back to the value's start when the source does not match (escapes).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

Where = tuple[str, int, int]


class Sources:
    """File lines, read once per lint run and only when a position inside a value is wanted."""

    def __init__(self, drafts: Mapping[str, str] | None = None) -> None:
        # a draft loaded in place of its file (``LoadedConfig.overlay``) is read from there
        self._lines: dict[str, list[str] | None] = {f: text.split("\n") for f, text in (drafts or {}).items()}

    def lines(self, file: str) -> list[str] | None:
        if file not in self._lines:
            try:
                self._lines[file] = Path(file).read_text(encoding="utf-8-sig").split("\n")
            except (OSError, UnicodeDecodeError):
                self._lines[file] = None
        return self._lines[file]


def in_content(located: Any, line: int, column: int, sources: Sources) -> Where:
    """File position of ``line:column`` (1-based) of ``located``'s ``spec.content``."""
    base: Where = located.at("spec", "content")
    if ("spec", "content") not in located.positions:
        return base
    file, value_line, value_column = base
    lines = sources.lines(file)
    content_lines = located.resource.spec.content.split("\n")
    if lines is None or value_line > len(lines) or line > len(content_lines):
        return base
    start = value_column - 1
    source = lines[value_line - 1]
    prefix = content_lines[line - 1][: column - 1]
    indicator = source[start : start + 1]
    if indicator == "|":
        target = value_line + line - 1  # 0-based index of the content's `line` in the file
        body = next((text for text in lines[value_line:] if text.strip()), None)
        if body is None or target >= len(lines):
            return base
        indent = len(body) - len(body.lstrip(" "))
        if lines[target][indent : indent + len(prefix)] != prefix:
            return base
        return file, target + 1, indent + column
    if line != 1 or indicator == ">":
        return base
    offset = 1 if indicator in ('"', "'") else 0
    if source[start + offset : start + offset + len(prefix)] != prefix:
        return base
    return file, value_line, value_column + offset + len(prefix)
