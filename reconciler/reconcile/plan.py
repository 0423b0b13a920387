"""Desired vs observed -> an immutable Plan. Apply executes only the plan and never re-decides.

Rollout rules (approved templates are immutable at Alibaba and Tencent):
- a changed template is a new version (new fingerprint, new provider-side name): ``create``;
- a rejected or still-pending version that is not live may be rewritten in place: ``update``;
- the newest approved version becomes the published one: ``promote`` (after its gate, at apply);
- a superseded version is deleted once the channel's grace period has passed: ``retire``;
- managed templates no longer in git are deleted only with prune: ``delete``.

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

LIVE_TAG = LIVE  # old name, until benchmarks/bench_plan.py imports rollout.LIVE; then delete


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
    channel = desired.name
    request = template.request
    address = f"{channel}/{request.name}"
    live = _live_version(versions, tags_supported)
    adopted = next((v for v in versions if template.adopt_code and v.code == template.adopt_code), None)
    if live is None and adopted is not None and adopted.status is ReviewStatus.APPROVED:
        live = adopted  # an adopted template is already in use: it is live until a new version is promoted
    current = min(
        (v for v in versions if parse_provider_name(v.name) and v.name == request.name), key=created_order, default=None
    )
    if current is None and adopted is not None and (adopted.content, adopted.kind) == (request.content, request.kind):
        current = adopted
    changes: list[Change] = []
    if current is None:
        rewritable = [
            v for v in versions if parse_provider_name(v.name) and v.status in desired.updatable and v != live
        ]
        if rewritable:
            old = max(rewritable, key=created_order)
            changes.append(
                Change(
                    action=Action.UPDATE,
                    channel=channel,
                    template=template.name,
                    address=f"{channel}/{old.name}",
                    before=TemplateVersion.observed(old),
                    after=TemplateVersion.desired(template, old.code),
                    reason=f"changed while version {old.code} was {old.status.value}; rewritten in place",
                    segments=template.segments,
                    request=request,
                )
            )
        else:
            reason = "new template" if not versions else "content changed: new version; the live one stays"
            changes.append(
                Change(
                    action=Action.CREATE,
                    channel=channel,
                    template=template.name,
                    address=address,
                    after=TemplateVersion.desired(template),
                    before=TemplateVersion.observed(live) if live else None,
                    reason=reason,
                    segments=template.segments,
                    request=request,
                )
            )
        return changes
    version = TemplateVersion.observed(current)
    is_live = live is not None and live.code == current.code
    if current.status is ReviewStatus.APPROVED and not is_live and tags_supported:
        changes.append(
            Change(
                action=Action.PROMOTE,
                channel=channel,
                template=template.name,
                address=address,
                before=TemplateVersion.observed(live) if live else None,
                after=version,
                reason="approved: becomes the published version",
                segments=template.segments,
                gated=True,
            )
        )
    else:
        reason = {
            ReviewStatus.APPROVED: "live",
            ReviewStatus.PENDING: "awaiting provider review",
            ReviewStatus.REJECTED: f"rejected by the provider: {current.reason or 'no reason given'}",
            ReviewStatus.CANCELLED: "review cancelled",
        }[current.status]
        changes.append(
            Change(
                action=Action.NOOP,
                channel=channel,
                template=template.name,
                address=address,
                before=version,
                after=version,
                reason=reason,
                segments=template.segments,
            )
        )
    # Superseded managed versions go once the live version has been live for the grace period.
    if is_live:
        # Where the provider keeps no marks (Tencent), the live version's creation stands in for
        # its promotion: the grace period still runs before the old version goes.
        since = promoted_at(current) or current.created_at
        for old in versions:
            if old.code == current.code or not parse_provider_name(old.name):
                continue
            if old.status is ReviewStatus.PENDING:
                continue  # cannot be deleted while under review
            due = since + desired.grace if since else now
            if old.status is not ReviewStatus.APPROVED or now >= due:
                changes.append(
                    Change(
                        action=Action.RETIRE,
                        channel=channel,
                        template=template.name,
                        address=f"{channel}/{old.name}",
                        before=TemplateVersion.observed(old),
                        reason=f"superseded by {current.code}",
                    )
                )
            else:
                changes.append(
                    Change(
                        action=Action.NOOP,
                        channel=channel,
                        template=template.name,
                        address=f"{channel}/{old.name}",
                        before=TemplateVersion.observed(old),
                        after=TemplateVersion.observed(old),
                        reason=f"superseded; retired after the grace period, at {due.isoformat(timespec='minutes')}",
                    )
                )
    return changes


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
        refused = observed.error.startswith("credentials refused")
        hint = (
            "check the access key in the channel's SOPS file (sops edit FILE) and that it may use the SMS API"
            if refused
            else "check spec.endpoint and that the provider can be reached from here; retryable errors were retried"
        )
        blocker = Blocker(channel=desired.name, code="observe-failed", message=observed.error, hint=hint)
        return ChannelPlan(**base, blockers=(blocker,), observed_digest=digest)
    blockers = _signature_blockers(desired, observed)
    if blockers or not desired.registers_templates:
        published = (
            ()
            if blockers
            else tuple(
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
        )
        return ChannelPlan(
            **base, signature=observed.signature, changes=published, blockers=tuple(blockers), observed_digest=digest
        )

    by_name: dict[str, list[ObservedTemplate]] = {}
    unmanaged: list[ObservedTemplate] = []
    adopted_codes = {t.adopt_code: t.name for t in desired.templates if t.adopt_code}
    for seen in observed.templates:
        identity = parse_provider_name(seen.name)
        if seen.code in adopted_codes:
            by_name.setdefault(adopted_codes[seen.code], []).append(seen)
        elif identity is None:
            unmanaged.append(seen)
        else:
            by_name.setdefault(identity.name, []).append(seen)

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


def make_plan(pairs: Iterable[tuple[DesiredChannel, ChannelObservation]], *, config_dir: str, now: datetime) -> Plan:
    return Plan(
        created_at=now,
        config_dir=config_dir,
        channels=tuple(plan_channel(desired, observed, now=now) for desired, observed in pairs),
    )
