"""Which version of a template is which: live (promoted or published), its marks' times, and how
the published runtime config names it. Pure functions over observed templates, shared by plan,
status and export."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from reconciler.providers.base import ObservedTemplate, ReviewStatus
from reconciler.reconcile.rollout import LIVE, RENAMED, UNPUBLISHED


def _live_version(versions: list[ObservedTemplate], tags_supported: bool) -> ObservedTemplate | None:
    approved = [v for v in versions if v.status is ReviewStatus.APPROVED]
    if tags_supported:
        promoted = [v for v in approved if promoted_at(v) is not None]
        return max(promoted, key=promotion_order, default=None)
    return max(approved, key=created_order, default=None)


def promotion_order(template: ObservedTemplate) -> tuple[bool, datetime, tuple[str, str]]:
    """Sort key of promoted versions, the latest promotion last.

    - A version the published config stopped naming after it was promoted (its ``smsops-unpublished``
      mark is later than its ``smsops-live`` mark) was superseded whatever the stamps say: another
      runner's clock may have been ahead when it was promoted. A rollback promotes it again, after
      that mark, and so counts again.
    - Then the promotion time as an instant (not as text: "...Z" and "...+00:00" are one time;
      stamps may carry fractions of a second).
    - Then, for promotions stamped the same instant (a fast clock, stamps of one-second resolution),
      creation order: the newer version is the one a forward rollout promoted last."""
    promoted = promoted_at(template) or _EPOCH
    unpublished = mark_time(template, UNPUBLISHED)
    withdrawn = unpublished is not None and _utc(unpublished) > _utc(promoted)
    return (not withdrawn, _utc(promoted), created_order(template))


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    """Stamps without an offset were written as UTC; compare them as such."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def live_version(
    versions: list[ObservedTemplate], tags_supported: bool, adopt_code: str = "", published_code: str = ""
) -> ObservedTemplate | None:
    """The version the application uses (what ``status`` and ``export`` show as live): the promoted
    one; else the approved one the published config names (marks lost, the document kept); else an
    approved adopted template, which stays live until a new version is promoted."""
    live = _live_version(versions, tags_supported)
    if live is not None:
        return live
    for code in (published_code, adopt_code):
        found = next((v for v in versions if code and v.code == code), None)
        if found is not None and found.status is ReviewStatus.APPROVED:
            return found
    return None


def alias_of(live: ObservedTemplate, name: str, grace: timedelta, now: datetime) -> str:
    """The old name a renamed template is still published under (its grace period not over), or ""."""
    stamp, _, old = live.tags.get(RENAMED, "").partition(" ")
    try:
        renamed = datetime.fromisoformat(stamp) if stamp else None
    except ValueError:
        return ""
    if renamed is None or not old or old == name or now >= renamed + grace:
        return ""
    return old


def content_key(content: str) -> str:
    """How the published map names a template that has no code (rendered by the application)."""
    return "content:" + hashlib.sha256(content.encode()).hexdigest()[:12]


def promoted_at(template: ObservedTemplate) -> datetime | None:
    """When ``template`` was promoted (its ``smsops-live`` mark), None without a readable mark."""
    return mark_time(template, LIVE)


def created_order(template: ObservedTemplate) -> tuple[str, str]:
    """Sort key: creation time, then code (a provider without creation times still orders)."""
    return (template.created_at.isoformat() if template.created_at else "", template.code)


def mark_time(template: ObservedTemplate, key: str) -> datetime | None:
    value = template.tags.get(key, "")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
