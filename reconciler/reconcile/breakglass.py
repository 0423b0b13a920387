"""Break glass: a promotion made without its test-send gate (``apply --skip-gate --reason``), and
the ``smsops-skip-gate`` rollout mark that records it, ``<time> <reason> (<actor>, <commit>)``
(``reconciler.reconcile.rollout``). Written by apply; read back by ``status`` and ``history --marks``."""

from __future__ import annotations

import re
from datetime import datetime

from reconciler.models import Frozen
from reconciler.reconcile.rollout import MAX_VALUE
from reconciler.secrets.redact import redact


class BreakGlass(Frozen):
    """Promote without test sends (``apply --skip-gate --reason``): recorded with the promotion, as
    the ``smsops-skip-gate`` mark ``<time> <reason> (<actor>, <commit>)``. ``at`` is when the gate
    was skipped (None until a promotion is marked; read back from a mark, or from a mark written
    before marks held their time)."""

    reason: str
    actor: str
    commit: str = ""
    dirty: bool = False  # the work tree held uncommitted changes: ``commit`` is not exactly what was applied
    at: datetime | None = None

    def describe(self) -> str:
        """``<reason> (<actor>, <commit>)``: what the terminal, the report and the mark say."""
        return f"{self.reason} ({self._who()})"

    def mark(self, at: str) -> str:
        """The mark's value at time ``at``. Marks are short (``MAX_VALUE``): the reason (masked
        first, which can lengthen it) gives way so that who skipped the gate and at which commit fit."""
        reason, room = redact(self.reason), MAX_VALUE - len(f"{at}  ({self._who()})")
        reason = reason if len(reason) <= room else reason[: max(room - 1, 0)] + "…"
        return f"{at} {reason} ({self._who()})"

    @property
    def short_commit(self) -> str:
        """The commit as marks and messages name it: 12 digits, ``+dirty`` for uncommitted changes."""
        return self.commit[:12] + ("+dirty" if self.dirty else "") if self.commit else ""

    def _who(self) -> str:
        actor = self.actor if len(self.actor) <= _MAX_ACTOR else self.actor[: _MAX_ACTOR - 1] + "…"
        return f"{actor}, {self.short_commit}" if self.commit else actor

    @classmethod
    def from_mark(cls, value: str) -> BreakGlass:
        """The mark read back. A value that does not end in ``(<actor>[, <commit>])`` (cut short by
        an older smsops) keeps it all as the reason."""
        when, _, rest = value.partition(" ")
        try:
            at: datetime | None = datetime.fromisoformat(when)
        except ValueError:
            at, rest = None, value
        reason, opened, who = rest.rpartition(" (")
        if not opened or not who.endswith(")"):
            return cls(reason=rest, actor="", at=at)
        actor, comma, commit = who[:-1].rpartition(", ")
        clean = commit.removesuffix("+dirty")
        if not comma or not _COMMIT.fullmatch(clean):
            return cls(reason=reason, actor=who[:-1], at=at)
        return cls(reason=reason, actor=actor, commit=clean, dirty=clean != commit, at=at)


_MAX_ACTOR = 40
_COMMIT = re.compile(r"[0-9a-f]{4,40}")
