"""Escaping shared by every renderer: GitHub workflow commands and Markdown table cells."""

from __future__ import annotations


def workflow_data(text: str) -> str:
    """Workflow-command message escaping (the GitHub Actions toolkit's ``escapeData``)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def workflow_property(text: str) -> str:
    """Workflow-command property escaping (``escapeProperty``): also ``:`` and ``,``."""
    return workflow_data(text).replace(":", "%3A").replace(",", "%2C")


def markdown_cell(text: str) -> str:
    """Text that stays inside one Markdown table cell: pipes escaped, line breaks as spaces."""
    return text.replace("|", "\\|").replace("\n", " ")
