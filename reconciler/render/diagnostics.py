"""Diagnostics -> text, JSON, GitHub workflow commands or Markdown. Renderers only format: the
caller has already sorted (and, for ``--strict``, escalated) the diagnostics, and passes the
result through ``reconciler.secrets.redact.redact`` before it reaches the terminal.

Line and column 0 mean the diagnostic is about a whole path (a directory), not a place in a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reconciler.errors import Diagnostic, Severity
from reconciler.formats import DIAGNOSTICS_FORMAT_VERSION
from reconciler.render.escape import markdown_cell as _cell
from reconciler.render.escape import printable, workflow_data, workflow_property


@dataclass(frozen=True)
class Summary:
    errors: int
    warnings: int
    files: int
    channels: int
    templates: int
    signatures: int = 0

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def line(self) -> str:
        if not self.errors and not self.warnings:
            return (
                f"OK: {_count(self.channels, 'channel')}, {_count(self.templates, 'template')}"
                + (f", {_count(self.signatures, 'signature')}" if self.signatures else "")
                + f" in {_count(self.files, 'file')}"
            )
        return f"{_count(self.errors, 'error')}, {_count(self.warnings, 'warning')} in {_count(self.files, 'file')}"


def summarize(
    diagnostics: Sequence[Diagnostic], *, files: int, channels: int, templates: int, signatures: int = 0
) -> Summary:
    errors = sum(1 for diagnostic in diagnostics if diagnostic.severity is Severity.ERROR)
    return Summary(errors, len(diagnostics) - errors, files, channels, templates, signatures)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _location(diagnostic: Diagnostic) -> str:
    return diagnostic.location if diagnostic.line else diagnostic.file


def render_text(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    lines = []
    for diagnostic in diagnostics:
        # Every part is made one line: a file named "x\nother.yaml:1:1: error ..." must not print a
        # line that reads as a diagnostic of its own.
        where, message = printable(_location(diagnostic)), printable(diagnostic.message)
        lines.append(f"{where}: {diagnostic.severity.value} {diagnostic.rule}: {message}")
        if diagnostic.hint:
            lines.append(f"  hint: {printable(diagnostic.hint)}")
    lines.append(summary.line())
    return "\n".join(lines) + "\n"


def render_json(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    document = {
        "format_version": DIAGNOSTICS_FORMAT_VERSION,
        "ok": summary.ok,
        "diagnostics": [
            {
                "file": diagnostic.file,
                "line": diagnostic.line,
                "column": diagnostic.column,
                "severity": diagnostic.severity.value,
                "rule": diagnostic.rule,
                "message": diagnostic.message,
                "hint": diagnostic.hint,
            }
            for diagnostic in diagnostics
        ],
        "summary": {
            "errors": summary.errors,
            "warnings": summary.warnings,
            "files": summary.files,
            "channels": summary.channels,
            "templates": summary.templates,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render_github(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    lines = []
    for diagnostic in diagnostics:
        command = "error" if diagnostic.severity is Severity.ERROR else "warning"
        properties = [f"file={workflow_property(diagnostic.file)}"]
        if diagnostic.line:
            properties += [f"line={diagnostic.line}", f"col={diagnostic.column}"]
        properties.append(f"title={workflow_property(diagnostic.rule)}")
        message = diagnostic.message + (f"\nhint: {diagnostic.hint}" if diagnostic.hint else "")
        lines.append(f"::{command} {','.join(properties)}::{workflow_data(message)}")
    lines.append(summary.line())
    return "\n".join(lines) + "\n"


def render_markdown(diagnostics: Sequence[Diagnostic], summary: Summary) -> str:
    heading = "### smsops validate: " + ("passed" if summary.ok else "failed")
    lines = [heading, ""]
    if diagnostics:
        lines += ["| Location | Severity | Rule | Problem | Hint |", "|---|---|---|---|---|"]
        lines += [
            f"| `{_cell(_location(d))}` | {d.severity.value} | {d.rule} | {_cell(d.message)} | {_cell(d.hint)} |"
            for d in diagnostics
        ]
        lines.append("")
    lines.append(summary.line())
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[[Sequence[Diagnostic], Summary], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
    "markdown": render_markdown,
}
