"""Where an editor can go in a file, counted independently of ``reconciler.config.positions``: the
oracle the fuzz test and the corpus check every diagnostic's file:line:column against."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

# What editors, git and GitHub break lines at; not U+0085/U+2028/U+2029, which YAML 1.1 also does.
_EDITOR_BREAK = re.compile(r"\r\n|\r|\n")


def editor_lines(raw: bytes) -> list[str]:
    """The lines an editor shows for ``raw``, without their breaks: a break at the very end ends the
    last line (no empty line after it); an empty file has one empty line."""
    lines = _EDITOR_BREAK.split(raw.decode("utf-8-sig", "replace"))
    return lines[:-1] if len(lines) > 1 and not lines[-1] else lines


def misplaced(root: Path, diagnostic: dict[str, Any]) -> str | None:
    """Why ``diagnostic``'s position is not one an editor can go to in the file it names (the
    line exists, the column is at most one past its last character), or None if it is. Line 0
    names a path as a whole; a path that is not a readable regular file has only 1:1."""
    file, line, column = diagnostic["file"], diagnostic["line"], diagnostic["column"]
    where = f"{diagnostic['rule']} at {file}:{line}:{column}"
    if line == 0:
        return None if column == 0 else f"{where}: a column without a line"
    path = root / file
    try:
        lines = editor_lines(path.read_bytes()) if path.is_file() else [""]
    except OSError:
        lines = [""]
    if not 1 <= line <= len(lines):
        return f"{where}: the file has {len(lines)} line(s)"
    if not 1 <= column <= len(lines[line - 1]) + 1:
        return f"{where}: line {line} has {len(lines[line - 1])} character(s)"
    return None
