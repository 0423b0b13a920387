"""Clean-up rules of the plan: which versions may go, and when the published config is written.

What the application reads is the published runtime config in the channel's durable target. A code
it names is never retired or deleted; an approved version goes only after the grace period counted
from when the published config stopped naming it (the ``smsops-unpublished`` mark, written by the
apply that published without it); a version known never to have been published (never approved,
or a copy registered twice by two applies at once) goes at once. ``publish`` is planned when the
document is behind what is live and nothing else in the plan writes it. Only a version marked as
this channel's (``smsops-owner``, ``reconcile.owner``) is ever retired or deleted; one it merely
uses is kept, and the plan says how to claim it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.content.identity import Identity, parse_provider_name
from reconciler.providers.base import ObservedTemplate, ReviewStatus
from reconciler.reconcile.changes import Action, Change, DesiredChannel, DesiredTemplate, TemplateVersion
from reconciler.reconcile.owner import claim_hint
from reconciler.reconcile.rollout import LIVE, OWNER, REMOVED, RENAMED, UNPUBLISHED
from reconciler.reconcile.versions import mark_time


@dataclass(frozen=True)
class PlanContext:
    """What planning one template needs to know about its channel."""

    desired: DesiredChannel
    tags_supported: bool
    now: datetime
    # name -> code as the channel's published runtime config has it; None: the target holds none
    published: dict[str, str] | None
    owner: str = ""  # the channel's smsops-owner mark: only versions carrying it may go

    def owns(self, version: ObservedTemplate) -> bool:
        return bool(self.owner) and version.tags.get(OWNER) == self.owner

    @property
    def named(self) -> set[str]:
        return set((self.published or {}).values())

    def published_code(self, template: DesiredTemplate) -> str:
        published = self.published or {}
        return published.get(template.name) or published.get(template.renamed_from, "")

    def never_published(self, version: ObservedTemplate) -> bool:
        """Known never to have been in the published config: there is one, it does not name the
        code, and no mark says the code was ever promoted, renamed or unpublished."""
        marks = (LIVE, UNPUBLISHED, RENAMED, REMOVED)
        return (
            self.published is not None
            and version.code not in self.named
            and not any(version.tags.get(key) for key in marks)
        )


def identity(version: ObservedTemplate) -> Identity | None:
    return parse_provider_name(version.name)


def label(old: ObservedTemplate, current: ObservedTemplate) -> str:
    if identity(old) == identity(current):
        return f"duplicate of {current.code} (the same version registered twice)"
    return f"superseded by {current.code}"


def retire_superseded(
    template: DesiredTemplate, current: ObservedTemplate, others: list[ObservedTemplate], ctx: PlanContext
) -> list[Change]:
    """The other managed versions of a live template, each retired or kept (see ``superseded``)."""
    changes = [superseded(template, old, label(old, current), ctx) for old in others]
    return [change for change in changes if change is not None]


def duplicates(
    template: DesiredTemplate, current: ObservedTemplate, others: list[ObservedTemplate], ctx: PlanContext
) -> list[Change]:
    """Copies of the current version that is not live yet: retired by the same rules (the plan
    shows them, so two applies at once are visible)."""
    copies = [old for old in others if identity(old) == identity(current)]
    changes = [superseded(template, old, label(old, current), ctx) for old in copies]
    return [change for change in changes if change is not None]


def superseded(template: DesiredTemplate, old: ObservedTemplate, label: str, ctx: PlanContext) -> Change | None:
    """A version the plan does not keep: ``retire`` it once nothing published names it and the grace
    period since it stopped being published has passed (at once if it was never published)."""
    address = f"{ctx.desired.name}/{old.name}"
    version = TemplateVersion.observed(old)
    base = {"channel": ctx.desired.name, "template": template.name, "address": address, "before": version}
    if not ctx.owns(old):
        return Change(action=Action.NOOP, after=version, reason=f"{label}; {not_owned(ctx)}", **base)
    if old.status is ReviewStatus.PENDING:
        # cannot be deleted while under review; a copy is shown so two applies at once are visible
        return (
            Change(action=Action.NOOP, after=version, reason=f"{label}; retired after its review", **base)
            if label.startswith("duplicate")
            else None
        )
    waiting = why_waiting(old, label, ctx)
    if waiting:
        return Change(action=Action.NOOP, after=version, reason=waiting, **base)
    return Change(action=Action.RETIRE, reason=label, **base)


def why_waiting(old: ObservedTemplate, label: str, ctx: PlanContext) -> str:
    """Why a version may not go yet ("" when it may): still published, or within its grace period."""
    if old.code in ctx.named:
        return f"{label}; still in the published config: retired after it is published without it and the grace period"
    if old.status is not ReviewStatus.APPROVED or ctx.never_published(old):
        return ""
    since = mark_time(old, UNPUBLISHED) or mark_time(old, REMOVED)
    if since is None:
        return f"{label}; the grace period starts when the next apply records it unpublished"
    due = since + ctx.desired.grace
    if ctx.now >= due:
        return ""
    return f"{label}; retired after the grace period, at {due.isoformat(timespec='minutes')}"


def not_owned(ctx: PlanContext) -> str:
    """Why a version this channel uses is kept for good: it cannot prove the version its own."""
    return f"never deleted: no smsops-owner mark of this channel (created by an older smsops?); {claim_hint(ctx.owner)}"


def removed(old: ObservedTemplate, name: str, ctx: PlanContext) -> Change:
    """A managed template no longer in git (prune on). One the application may still use (named by
    the published config) is first ``unpublish``ed - left out of the published config - and deleted
    after the grace period."""
    base = {"channel": ctx.desired.name, "template": name, "address": f"{ctx.desired.name}/{old.name}"}
    version = TemplateVersion.observed(old)
    if old.code in ctx.named:
        reason = "removed from git: no longer published; deleted after the grace period"
        return Change(action=Action.UNPUBLISH, before=version, reason=reason, **base)
    if not ctx.owns(old):
        reason = f"removed from git; {not_owned(ctx)}"
        return Change(action=Action.NOOP, before=version, after=version, reason=reason, **base)
    waiting = why_waiting(old, "removed from git", ctx)
    if waiting:
        return Change(
            action=Action.NOOP, before=version, after=version, reason=waiting.replace("retired", "deleted"), **base
        )
    reason = (
        "removed from git (prune enabled)"
        if ctx.never_published(old) or old.status is not ReviewStatus.APPROVED
        else "removed from git; grace period over"
    )
    return Change(action=Action.DELETE, before=version, reason=reason, **base)


def publish_change(
    desired: DesiredChannel, expected: dict[str, str], changes: list[Change], ctx: PlanContext
) -> list[Change]:
    """``publish`` when the published config is behind what is live and nothing else in the plan
    publishes it (a promotion, a rename or an unpublish does), or when superseded versions wait
    for an apply to record that they are no longer published."""
    if any(c.action in (Action.PROMOTE, Action.RENAME, Action.UNPUBLISH) for c in changes):
        return []
    unrecorded = sum(1 for c in changes if c.action is Action.NOOP and "next apply records it" in c.reason)
    if ctx.published is None:
        reason = "no published config in the channel's target yet" if expected else ""
    elif expected != ctx.published:
        reason = "the published config is behind what is live"
    elif unrecorded:
        reason = f"record {unrecorded} version(s) as no longer published (their grace period starts)"
    else:
        reason = ""
    if not reason:
        return []
    return [
        Change(
            action=Action.PUBLISH, channel=desired.name, template="", address=f"{desired.name}/published", reason=reason
        )
    ]
