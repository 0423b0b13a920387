"""Escaping shared by every renderer: terminal text, GitHub workflow commands and Markdown table cells."""

from __future__ import annotations

import re


def workflow_data(text: str) -> str:
    """Workflow-command message escaping (the GitHub Actions toolkit's ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """Workflow-command property escaping (``escapeProperty``): also ``:`` and ``,``."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell: pipes escaped, line breaks as spaces."""
    return text.replace("|", "\\|").replace("\n", " ")


# Characters that move the cursor or reorder text on a terminal: C0/C1 controls, DEL, the Unicode line
# and paragraph separators, and the bidirectional overrides ("Trojan Source").
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """One line of terminal text: a newline in a file name shows as ``\\n`` instead of starting a
    line that could pass for a diagnostic of its own; other controls as ``\\xNN`` / ``\\uNNNN``."""
    return _UNPRINTABLE.sub(_escape_character, text)


def _escape_character(match: re.Match[str]) -> str:
    character = match.group(0)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(character)
    if named:
        return named
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
