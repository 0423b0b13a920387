"""Desired vs observed -> an immutable Plan. Apply executes only the plan and never re-decides.

Rollout rules (approved templates are immutable at Alibaba and Tencent):
- a changed template is a new version (new fingerprint, new provider-side name): ``create``;
- a rejected or still-pending version that is not live may be rewritten in place: ``update``;
- the newest approved version becomes the published one: ``promote`` (after its gate, at apply);
- a superseded version is deleted once the channel's grace period has passed: ``retire``;
- managed templates no longer in git are deleted only with prune: ``delete``.
Each rule is one function below, in this order (``_create``, ``_rewrite_in_place``, ``_promote``,
``_superseded``, ``_removed``): ``_plan_template`` picks among the first four for a template in git,
``plan_channel`` applies the last to managed templates no longer in git.

Which version is live is kept at the provider, as the ``smsops-live`` tag (promotion time), where the
provider has tags; elsewhere (Tencent) the newest approved version is live.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from reconciler.content.identity import parse_provider_name
from reconciler.providers.base import ObservedTemplate, ReviewStatus
from reconciler.providers.traits import traits
from reconciler.reconcile.changes import (
    Action,
    Blocker,
    Change,
    ChannelObservation,
    ChannelPlan,
    DesiredChannel,
    DesiredTemplate,
    Plan,
    TemplateVersion,
)
from reconciler.reconcile.rollout import LIVE, REMOVED


def _live_version(versions: list[ObservedTemplate], tags_supported: bool) -> ObservedTemplate | None:
    approved = [v for v in versions if v.status is ReviewStatus.APPROVED]
    if tags_supported:
        tagged = [v for v in approved if v.tags.get(LIVE)]
        return max(tagged, key=lambda v: v.tags[LIVE], default=None)
    return max(approved, key=created_order, default=None)


def live_version(
    versions: list[ObservedTemplate], tags_supported: bool, adopt_code: str = ""
) -> ObservedTemplate | None:
    """The version the application uses (what ``status`` and ``export`` show as live): the promoted
    one, else an approved adopted template, which stays live until a new version is promoted."""
    live = _live_version(versions, tags_supported)
    adopted = next((v for v in versions if adopt_code and v.code == adopt_code), None)
    if live is None and adopted is not None and adopted.status is ReviewStatus.APPROVED:
        return adopted
    return live


def promoted_at(template: ObservedTemplate) -> datetime | None:
    """When ``template`` was promoted (its ``smsops-live`` mark), None without a readable mark."""
    return _mark_time(template, LIVE)


def created_order(template: ObservedTemplate) -> tuple[str, str]:
    """Sort key: creation time, then code (a provider without creation times still orders)."""
    return (template.created_at.isoformat() if template.created_at else "", template.code)


def _mark_time(template: ObservedTemplate, key: str) -> datetime | None:
    value = template.tags.get(key, "")
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _signature_blockers(desired: DesiredChannel, observed: ChannelObservation) -> list[Blocker]:
    signature = observed.signature
    if signature is None:
        message, hint = traits(desired.provider).missing_signature
        return [
            Blocker(
                channel=desired.name,
                code="signature-missing",
                message=message.format(signature=desired.signature),
                hint=hint,
            )
        ]
    if signature.status is not ReviewStatus.APPROVED:
        reason = f": {signature.reason}" if signature.reason else ""
        return [
            Blocker(
                channel=desired.name,
                code=f"signature-{signature.status.value}",
                message=f"signature '{signature.name}' is {signature.status.value}{reason}",
                hint="templates can only be registered and sent with an approved signature",
            )
        ]
    return []


def _plan_template(
    template: DesiredTemplate,
    versions: list[ObservedTemplate],
    desired: DesiredChannel,
    tags_supported: bool,
    now: datetime,
) -> list[Change]:
    """The changes for one template in git, given every version of it the provider holds."""
    adopted = next((v for v in versions if template.adopt_code and v.code == template.adopt_code), None)
    live = live_version(versions, tags_supported, template.adopt_code)
    current = _current_version(template, versions, adopted)
    if current is None:
        old = _rewritable(versions, live, desired)
        if old is not None:
            return [_rewrite_in_place(template, old, desired)]
        return [_create(template, versions, live, desired)]
    is_live = live is not None and live.code == current.code
    if current.status is ReviewStatus.APPROVED and not is_live and tags_supported:
        changes = [_promote(template, current, live, desired)]
    else:
        changes = [_unchanged(template, current, desired)]
    if is_live:
        changes.extend(_retire_superseded(template, current, versions, desired, now))
    return changes


def _current_version(
    template: DesiredTemplate, versions: list[ObservedTemplate], adopted: ObservedTemplate | None
) -> ObservedTemplate | None:
    """The version registered for the content in git (its provider-side name, the oldest if
    several), else the adopted template when it says the same; None: this content is not there."""
    request = template.request
    current = min(
        (v for v in versions if parse_provider_name(v.name) and v.name == request.name), key=created_order, default=None
    )
    if current is None and adopted is not None and (adopted.content, adopted.kind) == (request.content, request.kind):
        return adopted
    return current


def _rewritable(
    versions: list[ObservedTemplate], live: ObservedTemplate | None, desired: DesiredChannel
) -> ObservedTemplate | None:
    """The newest managed version that is not live and whose review state the provider lets us
    rewrite (rejected, or pending where allowed); None: the change needs a new version."""
    candidates = [v for v in versions if parse_provider_name(v.name) and v.status in desired.updatable and v != live]
    return max(candidates, key=created_order, default=None)


def _rewrite_in_place(template: DesiredTemplate, old: ObservedTemplate, desired: DesiredChannel) -> Change:
    """Changed while a version that is not live was rejected or pending: ``update`` that version."""
    return Change(
        action=Action.UPDATE,
        channel=desired.name,
        template=template.name,
        address=f"{desired.name}/{old.name}",
        before=TemplateVersion.observed(old),
        after=TemplateVersion.desired(template, old.code),
        reason=f"changed while version {old.code} was {old.status.value}; rewritten in place",
        segments=template.segments,
        request=template.request,
    )


def _create(
    template: DesiredTemplate, versions: list[ObservedTemplate], live: ObservedTemplate | None, desired: DesiredChannel
) -> Change:
    """Nothing registered, or changed content with nothing to rewrite: ``create`` a new version;
    the live one (if any) stays until the new one is promoted."""
    reason = "new template" if not versions else "content changed: new version; the live one stays"
    return Change(
        action=Action.CREATE,
        channel=desired.name,
        template=template.name,
        address=f"{desired.name}/{template.request.name}",
        after=TemplateVersion.desired(template),
        before=TemplateVersion.observed(live) if live else None,
        reason=reason,
        segments=template.segments,
        request=template.request,
    )


def _promote(
    template: DesiredTemplate, current: ObservedTemplate, live: ObservedTemplate | None, desired: DesiredChannel
) -> Change:
    """The current version is approved and not yet live: ``promote`` it, after its gate at apply."""
    return Change(
        action=Action.PROMOTE,
        channel=desired.name,
        template=template.name,
        address=f"{desired.name}/{template.request.name}",
        before=TemplateVersion.observed(live) if live else None,
        after=TemplateVersion.observed(current),
        reason="approved: becomes the published version",
        segments=template.segments,
        gated=True,
    )


def _unchanged(template: DesiredTemplate, current: ObservedTemplate, desired: DesiredChannel) -> Change:
    """The current version is live, in review, rejected or cancelled: nothing to do but say which."""
    reason = {
        ReviewStatus.APPROVED: "live",
        ReviewStatus.PENDING: "awaiting provider review",
        ReviewStatus.REJECTED: f"rejected by the provider: {current.reason or 'no reason given'}",
        ReviewStatus.CANCELLED: "review cancelled",
    }[current.status]
    version = TemplateVersion.observed(current)
    return Change(
        action=Action.NOOP,
        channel=desired.name,
        template=template.name,
        address=f"{desired.name}/{template.request.name}",
        before=version,
        after=version,
        reason=reason,
        segments=template.segments,
    )


def _retire_superseded(
    template: DesiredTemplate,
    current: ObservedTemplate,
    versions: list[ObservedTemplate],
    desired: DesiredChannel,
    now: datetime,
) -> list[Change]:
    """The other managed versions of a live template, each retired or kept (see ``_superseded``)."""
    # Where the provider keeps no marks (Tencent), the live version's creation stands in for
    # its promotion: the grace period still runs before the old version goes.
    since = promoted_at(current) or current.created_at
    changes: list[Change] = []
    for old in versions:
        if old.code == current.code or not parse_provider_name(old.name):
            continue
        change = _superseded(template, old, current, since, desired, now)
        if change is not None:
            changes.append(change)
    return changes


def _superseded(
    template: DesiredTemplate,
    old: ObservedTemplate,
    current: ObservedTemplate,
    since: datetime | None,
    desired: DesiredChannel,
    now: datetime,
) -> Change | None:
    """A version superseded by the live one: ``retire`` it if it was never approved or the grace
    period since promotion has passed; else keep it until then. None while it is under review."""
    if old.status is ReviewStatus.PENDING:
        return None  # cannot be deleted while under review
    address = f"{desired.name}/{old.name}"
    version = TemplateVersion.observed(old)
    due = since + desired.grace if since else now
    if old.status is not ReviewStatus.APPROVED or now >= due:
        return Change(
            action=Action.RETIRE,
            channel=desired.name,
            template=template.name,
            address=address,
            before=version,
            reason=f"superseded by {current.code}",
        )
    return Change(
        action=Action.NOOP,
        channel=desired.name,
        template=template.name,
        address=address,
        before=version,
        after=version,
        reason=f"superseded; retired after the grace period, at {due.isoformat(timespec='minutes')}",
    )


def _removed(old: ObservedTemplate, name: str, desired: DesiredChannel, now: datetime) -> Change:
    """A managed template no longer in git (prune on). One the application may still use (live) is
    first unpublished - marked, and left out of the next export - and deleted after the grace period."""
    base = {"channel": desired.name, "template": name, "address": f"{desired.name}/{old.name}"}
    version = TemplateVersion.observed(old)
    if not old.tags.get(LIVE):
        return Change(action=Action.DELETE, before=version, reason="removed from git (prune enabled)", **base)
    removed = _mark_time(old, REMOVED)
    if removed is None:
        reason = "removed from git: no longer exported; deleted after the grace period"
        return Change(action=Action.UNPUBLISH, before=version, reason=reason, **base)
    due = removed + desired.grace
    if now >= due:
        return Change(action=Action.DELETE, before=version, reason="removed from git; grace period over", **base)
    return Change(
        action=Action.NOOP,
        before=version,
        after=version,
        reason=f"removed from git; deleted after the grace period, at {due.isoformat(timespec='minutes')}",
        **base,
    )


def plan_channel(desired: DesiredChannel, observed: ChannelObservation, *, now: datetime) -> ChannelPlan:
    """Compute the changes for one channel. Pure: no provider calls, no clock of its own."""
    digest = observed.digest()
    base = {"channel": desired.name, "provider": desired.provider, "enabled": desired.enabled}
    if observed.error:
        return ChannelPlan(**base, blockers=(_observe_failed(desired, observed.error),), observed_digest=digest)
    blockers = _signature_blockers(desired, observed)
    if blockers or not desired.registers_templates:
        published = () if blockers else _rendered_by_application(desired)
        return ChannelPlan(
            **base, signature=observed.signature, changes=published, blockers=tuple(blockers), observed_digest=digest
        )

    by_name, unmanaged = _by_template(desired, observed.templates)
    changes: list[Change] = []
    wanted = {t.name for t in desired.templates}
    for template in desired.templates:
        changes.extend(_plan_template(template, by_name.get(template.name, []), desired, observed.tags_supported, now))
    for name in sorted(set(by_name) - wanted):
        for old in by_name[name]:
            if desired.prune:
                changes.append(_removed(old, name, desired, now))
    orphans = tuple(t for name in sorted(set(by_name) - wanted) for t in by_name[name]) if not desired.prune else ()
    return ChannelPlan(
        **base,
        signature=observed.signature,
        changes=tuple(changes),
        unmanaged=tuple(unmanaged) + orphans,
        observed_digest=digest,
    )


def _observe_failed(desired: DesiredChannel, error: str) -> Blocker:
    """The channel could not be observed: nothing can be planned; the hint says what to check."""
    refused = error.startswith("credentials refused")
    hint = (
        "check the access key in the channel's SOPS file (sops edit FILE) and that it may use the SMS API"
        if refused
        else "check spec.endpoint and that the provider can be reached from here; retryable errors were retried"
    )
    return Blocker(channel=desired.name, code="observe-failed", message=error, hint=hint)


def _rendered_by_application(desired: DesiredChannel) -> tuple[Change, ...]:
    """A channel whose provider registers no templates: each template is only published by export."""
    return tuple(
        Change(
            action=Action.NOOP,
            channel=desired.name,
            template=t.name,
            address=f"{desired.name}/{t.name}",
            after=TemplateVersion.desired(t),
            reason="rendered by the application; published by export",
            segments=t.segments,
        )
        for t in desired.templates
    )


def _by_template(
    desired: DesiredChannel, seen: Iterable[ObservedTemplate]
) -> tuple[dict[str, list[ObservedTemplate]], list[ObservedTemplate]]:
    """The provider's templates grouped by the git template they are versions of (managed names,
    and adopted codes), and those that are neither (unmanaged)."""
    by_name: dict[str, list[ObservedTemplate]] = {}
    unmanaged: list[ObservedTemplate] = []
    adopted_codes = {t.adopt_code: t.name for t in desired.templates if t.adopt_code}
    for template in seen:
        identity = parse_provider_name(template.name)
        if template.code in adopted_codes:
            by_name.setdefault(adopted_codes[template.code], []).append(template)
        elif identity is None:
            unmanaged.append(template)
        else:
            by_name.setdefault(identity.name, []).append(template)
    return by_name, unmanaged


def make_plan(pairs: Iterable[tuple[DesiredChannel, ChannelObservation]], *, config_dir: str, now: datetime) -> Plan:
    return Plan(
        created_at=now,
        config_dir=config_dir,
        channels=tuple(plan_channel(desired, observed, now=now) for desired, observed in pairs),
    )
