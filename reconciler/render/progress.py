"""Progress on stderr while apply works: a bar on a terminal; in CI logs, one line per wait.

Waiting is what needs explaining (provider spacing between creations, gate pacing, delivery
reports); steps already appear in the final per-change report, so logs only get the waits.
"""

from __future__ import annotations

import sys
from typing import TextIO

from reconciler.secrets.redact import redact

BAR_WIDTH = 24


class ProgressBar:
    def __init__(self, total: int, *, stream: TextIO | None = None, interactive: bool | None = None) -> None:
        self.total = max(total, 0)
        self.done = 0
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self._shown = False

    def _draw(self, message: str) -> None:
        filled = BAR_WIDTH * self.done // self.total if self.total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\r\x1b[K[{bar}] {self.done}/{self.total} {redact(message)}"[:200])
        self.stream.flush()
        self._shown = True

    def step(self, message: str) -> None:
        """A change starts; the bar counts the ones before it as done."""
        if self.interactive:
            self._draw(message)
        self.done = min(self.done + 1, self.total)

    def wait(self, message: str, seconds: float) -> None:
        if self.interactive:
            self._draw(f"{message} ({seconds:.0f}s)")
        elif seconds >= 1:
            self.stream.write(f"{redact(message)} ({seconds:.0f}s)\n")
            self.stream.flush()

    def close(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False
