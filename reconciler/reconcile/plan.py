"""Desired vs observed -> an immutable Plan. Apply executes only the plan and never re-decides.

Rollout rules (approved templates are immutable at Alibaba and Tencent):
- a changed template is a new version (new fingerprint, new provider-side name): ``create``;
- a rejected or still-pending version that is not live may be rewritten in place: ``update``;
- the newest approved version becomes the published one: ``promote`` (after its gate, at apply);
- a superseded version is deleted once the channel's grace period has passed: ``retire``;
- managed templates no longer in git are deleted only with prune: ``delete``;
- a template renamed in git keeps its live code: ``rename`` publishes it under the new name at once;
- the published runtime config behind what is live (a promotion not yet published, a lost
  document, an alias past its grace period): ``publish``.
Each rule is one function below, in this order (``_create``, ``_rewrite_in_place``, ``_promote``,
``superseded``, ``removed``): ``_plan_template`` picks among the first four for a template in git,
``plan_channel`` applies the last to managed templates no longer in git.

What the application reads is the published runtime config in the channel's durable target; a code
it names is never retired or deleted, and a version is retired only after the grace period counted
from when the published config stopped naming it (the ``smsops-unpublished`` mark). Which version
is promoted is the ``smsops-live`` mark (kept as template tags or beside the published config),
else the code the published config names. Two versions with one identity (two applies at once):
every plan keeps the oldest and retires the others by the same rules.

A channel plans only for the templates it may touch (``matching.group_owned``, ``reconcile.owner``):
another channel's or repository's templates on the same account are left alone, and only versions
marked as this channel's are ever retired, deleted or counted as copies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from reconciler.content.identity import parse_provider_name
from reconciler.providers.base import ObservedTemplate, ReviewStatus, TemplateRequest
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
from reconciler.reconcile.cleanup import PlanContext, duplicates, identity, publish_change, removed, retire_superseded
from reconciler.reconcile.matching import current_version, group_owned, versions_by_template
from reconciler.reconcile.rollout import REMARK, RENAMED, remark_digest
from reconciler.reconcile.sharing import one_row_each
from reconciler.reconcile.signatures import retire_signatures, with_signature
from reconciler.reconcile.versions import (
    alias_of,
    content_key,
    created_order,
    live_version,
    promoted_at,
)

__all__ = [
    "created_order",
    "live_version",
    "make_plan",
    "plan_channel",
    "promoted_at",
    "versions_by_template",
]


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


@dataclass
class _Planned:
    """One template's changes, a rejection to show, and its live version (what gets published)."""

    changes: list[Change] = field(default_factory=list)
    attention: Blocker | None = None
    live: ObservedTemplate | None = None


def _plan_template(template: DesiredTemplate, versions: list[ObservedTemplate], ctx: PlanContext) -> _Planned:
    """The changes for one template in git, given every version of it the provider holds."""
    desired = ctx.desired
    live = live_version(versions, ctx.tags_supported, template.adopt_code, ctx.published_code(template))
    current = current_version(template, versions)
    if current is None:
        old = _rewritable(versions, live, desired)
        change = (
            _rewrite_in_place(template, old, desired) if old is not None else _create(template, versions, live, desired)
        )
        return _Planned([change], live=live)
    is_live = live is not None and live.code == current.code
    planned = _Planned(live=live)
    if not is_live and current.status in desired.updatable and _remark_changed(current, template.request):
        why = f"remark changed while version {current.code} was {current.status.value}: resubmitted for review"
        planned.changes.append(_rewrite_in_place(template, current, desired, why))
    elif current.status is ReviewStatus.APPROVED and not is_live and ctx.tags_supported:
        planned.changes.append(_promote(template, current, live, desired))
    elif is_live and (old_name := _renamed_from(current, template)):
        planned.changes.append(_rename_or_live(template, current, old_name, ctx))
    else:
        planned.changes.append(_unchanged(template, current, desired))
        if current.status is ReviewStatus.REJECTED:
            planned.attention = _rejected(template, current, desired)
    others = [v for v in versions if v.code != current.code and parse_provider_name(v.name)]
    if is_live:
        planned.changes.extend(retire_superseded(template, current, others, ctx))
    else:
        planned.changes.extend(duplicates(template, current, others, ctx))
    return planned


def _remark_changed(version: ObservedTemplate, request: TemplateRequest) -> bool:
    """Whether the remark in git differs from the one the version was submitted with: from the
    ``smsops-remark`` mark, else the remark the provider reports; unknown counts as unchanged."""
    submitted = version.tags.get(REMARK)
    if submitted:
        return submitted != remark_digest(request.remark)
    if version.remark:
        return version.remark.strip() != request.remark.strip()
    return False


def _renamed_from(version: ObservedTemplate, template: DesiredTemplate) -> str:
    found = identity(version)
    return found.name if found is not None and found.name != template.name else ""


def _rewritable(
    versions: list[ObservedTemplate], live: ObservedTemplate | None, desired: DesiredChannel
) -> ObservedTemplate | None:
    """The newest managed version that is not live and whose review state the provider lets us
    rewrite (rejected, or pending where allowed); None: the change needs a new version."""
    candidates = [v for v in versions if parse_provider_name(v.name) and v.status in desired.updatable and v != live]
    return max(candidates, key=created_order, default=None)


def _rewrite_in_place(
    template: DesiredTemplate, old: ObservedTemplate, desired: DesiredChannel, why: str = ""
) -> Change:
    """Changed while a version that is not live was rejected or pending (or only its remark changed):
    ``update`` that version, which sends it to review again."""
    return Change(
        action=Action.UPDATE,
        channel=desired.name,
        template=template.name,
        address=f"{desired.name}/{old.name}",
        before=TemplateVersion.observed(old),
        after=TemplateVersion.desired(template, old.code),
        reason=why or f"changed while version {old.code} was {old.status.value}; rewritten in place",
        segments=template.segments,
        request=template.request,
    )


def _rejected(template: DesiredTemplate, current: ObservedTemplate, desired: DesiredChannel) -> Blocker:
    return Blocker(
        channel=desired.name,
        code="template-rejected",
        message=f"template {template.name}: version {current.code} was rejected by the provider: "
        f"{current.reason or 'no reason given'}",
        hint="change the content (a new version), or explain where and why it is sent in spec.remark: "
        "a changed remark resubmits this version in place",
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


def _rename_or_live(template: DesiredTemplate, current: ObservedTemplate, old_name: str, ctx: PlanContext) -> Change:
    """The live version carries an earlier name: ``rename`` publishes its code under the new name at
    once (no review, no gate) and keeps the old name as an alias for the grace period."""
    version = TemplateVersion.observed(current)
    base = {"channel": ctx.desired.name, "template": template.name, "address": f"{ctx.desired.name}/{template.name}"}
    if current.tags.get(RENAMED, "").partition(" ")[2] == old_name:
        alias = alias_of(current, template.name, ctx.desired.grace, ctx.now)
        reason = f"live (renamed from {old_name}" + ("; still published as an alias)" if alias else ")")
        return Change(action=Action.NOOP, before=version, after=version, reason=reason, **base)
    reason = (
        f"renamed from {old_name}: published under the new name at once; {old_name} stays an alias for the grace period"
    )
    return Change(
        action=Action.RENAME, before=version, after=version, reason=reason, segments=template.segments, **base
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


def _expected_published(desired: DesiredChannel, planned: dict[str, _Planned], ctx: PlanContext) -> dict[str, str]:
    """What the published config names once it is up to date: each live code, and aliases."""
    expected: dict[str, str] = {}
    for template in desired.templates:
        live = planned[template.name].live
        if live is None:
            continue
        expected[template.name] = live.code
        alias = alias_of(live, template.name, desired.grace, ctx.now)
        if alias:
            expected.setdefault(alias, live.code)
    return expected


def plan_channel(desired: DesiredChannel, observed: ChannelObservation, *, now: datetime) -> ChannelPlan:
    """Compute the changes for one channel. Pure: no provider calls, no clock of its own. A managed
    signature (kind: Signature) goes first and holds the templates until approved (signatures.py)."""
    planned = _plan_templates(desired, observed, now=now)
    if observed.error:
        return planned
    planned = with_signature(planned, desired, observed.signature)
    retired, attention = retire_signatures(desired, observed)
    if not retired:
        return planned
    return planned.model_copy(
        update={"changes": (*planned.changes, *retired), "attention": (*planned.attention, *attention)}
    )


def _plan_templates(desired: DesiredChannel, observed: ChannelObservation, *, now: datetime) -> ChannelPlan:
    digest = observed.digest()
    base = {"channel": desired.name, "provider": desired.provider, "enabled": desired.enabled}
    if observed.error:
        return ChannelPlan(**base, blockers=(_observe_failed(desired, observed.error),), observed_digest=digest)
    # A managed signature that is not approved holds the templates (with_signature) instead of blocking.
    managed = desired.managed_signature is not None or desired.signature_unreadable is not None
    blockers = [] if managed else _signature_blockers(desired, observed)
    ctx = PlanContext(desired, observed.tags_supported, now, observed.published, desired.owner)
    if blockers or not desired.registers_templates:
        changes = [] if blockers else list(_rendered_by_application(desired))
        if not blockers:
            expected = {t.name: content_key(t.request.content) for t in desired.templates}
            changes += publish_change(desired, expected, changes, ctx)
        return ChannelPlan(
            **base,
            signature=observed.signature,
            changes=tuple(changes),
            blockers=tuple(blockers),
            observed_digest=digest,
        )

    by_name, unmanaged, foreign = group_owned(desired, observed)
    planned = {t.name: _plan_template(t, by_name.get(t.name, []), ctx) for t in desired.templates}
    changes = [change for p in planned.values() for change in p.changes]
    gone = sorted(set(by_name) - set(planned))
    if desired.prune:
        changes.extend(removed(old, name, ctx) for name in gone for old in by_name[name])
    changes += publish_change(desired, _expected_published(desired, planned, ctx), changes, ctx)
    orphans = tuple(t for name in gone for t in by_name[name]) if not desired.prune else ()
    return ChannelPlan(
        **base,
        signature=observed.signature,
        changes=tuple(changes),
        attention=tuple(p.attention for p in planned.values() if p.attention is not None),
        unmanaged=tuple(unmanaged) + orphans,
        foreign=foreign,
        owner=desired.owner,
        observed_digest=digest,
    )


def _observe_failed(desired: DesiredChannel, error: str) -> Blocker:
    """The channel could not be observed: nothing can be planned; the hint says what to check."""
    if error.startswith("credentials refused"):
        hint = "check the access key in the channel's SOPS file (sops edit FILE) and that it may use the SMS API"
    elif error.startswith("publish target:"):
        hint = (
            "check spec.publish, that the target can be reached from here, and that the AWS credentials "
            "in the environment may read and write it; nothing was changed at the provider"
        )
    else:
        hint = "check spec.endpoint and that the provider can be reached from here; retryable errors were retried"
    return Blocker(channel=desired.name, code="observe-failed", message=error, hint=hint)


def _rendered_by_application(desired: DesiredChannel) -> tuple[Change, ...]:
    """A channel whose provider registers no templates: each template is only published (by apply and export)."""
    return tuple(
        Change(
            action=Action.NOOP,
            channel=desired.name,
            template=t.name,
            address=f"{desired.name}/{t.name}",
            after=TemplateVersion.desired(t),
            reason="rendered by the application; published by apply and export",
            segments=t.segments,
        )
        for t in desired.templates
    )


def make_plan(pairs: Iterable[tuple[DesiredChannel, ChannelObservation]], *, config_dir: str, now: datetime) -> Plan:
    """Each channel's plan, with one row per signature several channels of an account share (``sharing``)."""
    planned = [(plan_channel(desired, observed, now=now), observed) for desired, observed in pairs]
    return Plan(created_at=now, config_dir=config_dir, channels=one_row_each(planned))
