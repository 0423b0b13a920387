"""Unit tests of the pure planner: hand-built observations, no provider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reconciler.content.identity import fingerprint
from reconciler.providers.base import (
    ObservedSignature,
    ObservedTemplate,
    ReviewStatus,
    TemplateKind,
    TemplateRequest,
)
from reconciler.reconcile.changes import Action, ChannelObservation, DesiredChannel, DesiredTemplate, Plan
from reconciler.reconcile.plan import make_plan, plan_channel
from reconciler.reconcile.rollout import LIVE, OWNER, UNPUBLISHED

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
SIGNATURE = ObservedSignature(name="OnePro", status=ReviewStatus.APPROVED)
OWNER_ID = "prod@0123456789"


def desired_template(name: str, content: str, kind: TemplateKind = TemplateKind.NOTIFICATION) -> DesiredTemplate:
    fp = fingerprint(content, kind.value, False)
    return DesiredTemplate(
        name=name, fingerprint=fp, request=TemplateRequest(name=f"{name}~{fp}", content=content, kind=kind)
    )


def channel(*templates: DesiredTemplate, prune: bool = False) -> DesiredChannel:
    return DesiredChannel(
        name="prod",
        provider="alibaba",
        signature="OnePro",
        templates=templates,
        prune=prune,
        grace=timedelta(hours=24),
        owner=OWNER_ID,
    )


def seen(
    template: DesiredTemplate,
    code: str,
    status: ReviewStatus = ReviewStatus.APPROVED,
    live_since: datetime | None = None,
    created: datetime = NOW - timedelta(days=10),
    reason: str = "",
) -> ObservedTemplate:
    return ObservedTemplate(
        code=code,
        name=template.request.name,
        content=template.request.content,
        kind=template.request.kind,
        status=status,
        reason=reason,
        created_at=created,
        # created by this channel: its owner mark (reconcile.owner)
        tags={OWNER: OWNER_ID, **({LIVE: live_since.isoformat()} if live_since else {})},
    )


def published_by_marks(templates: tuple[ObservedTemplate, ...]) -> dict[str, str]:
    """The published config a correct apply leaves: each name's newest promoted code."""
    live = sorted((t for t in templates if t.tags.get(LIVE)), key=lambda t: t.tags[LIVE])
    return {t.name.partition("~")[0]: t.code for t in live}


def observe(
    *templates: ObservedTemplate,
    signature: ObservedSignature | None = SIGNATURE,
    published: dict[str, str] | bool | None = True,
) -> ChannelObservation:
    """``published=True``: the document a correct apply leaves; a dict: that document; None: none."""
    document = published_by_marks(templates) if published is True else published
    return ChannelObservation(
        channel="prod",
        signature=signature,
        templates=templates,
        tags_supported=True,
        published=document if isinstance(document, dict) else None,
    )


def actions(plan_changes: tuple) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(c.action.value, c.address) for c in plan_changes]


V1 = desired_template("alert", "Alert ${name} fired")
V2 = desired_template("alert", "Alert ${name} fired at ${time}")


def test_fresh_account_creates_every_template() -> None:
    result = plan_channel(channel(V1), observe(), now=NOW)
    assert actions(result.changes) == [("create", f"prod/{V1.request.name}")]
    assert result.changes[0].before is None and result.changes[0].after is not None
    assert result.changes[0].request == V1.request


def test_changed_content_creates_a_new_version_and_keeps_the_live_one() -> None:
    live = seen(V1, "SMS_1", live_since=NOW - timedelta(days=5))
    result = plan_channel(channel(V2), observe(live), now=NOW)
    assert actions(result.changes) == [("create", f"prod/{V2.request.name}")]
    assert result.changes[0].before is not None and result.changes[0].before.code == "SMS_1"


def test_approved_new_version_is_promoted_with_a_gate() -> None:
    old = seen(V1, "SMS_1", live_since=NOW - timedelta(days=5))
    new = seen(V2, "SMS_2", created=NOW - timedelta(hours=1))
    result = plan_channel(channel(V2), observe(old, new), now=NOW)
    assert actions(result.changes) == [("promote", f"prod/{V2.request.name}")]
    change = result.changes[0]
    assert change.gated
    assert change.before and change.before.code == "SMS_1"
    assert change.after and change.after.code == "SMS_2"


def unpublished(template: ObservedTemplate, since: datetime) -> ObservedTemplate:
    return template.model_copy(update={"tags": {**template.tags, UNPUBLISHED: since.isoformat()}})


def test_superseded_version_retires_only_after_the_grace_period_since_it_left_the_published_config() -> None:
    old = unpublished(seen(V1, "SMS_1", live_since=NOW - timedelta(days=5)), NOW - timedelta(hours=2))
    new = seen(V2, "SMS_2", live_since=NOW - timedelta(hours=2))
    waiting = plan_channel(channel(V2), observe(old, new), now=NOW)
    assert [c.action for c in waiting.changes] == [Action.NOOP, Action.NOOP]
    assert waiting.changes[1].reason == "superseded by SMS_2; retired after the grace period, at 2026-11-25T10:00+00:00"
    later = plan_channel(channel(V2), observe(old, new), now=NOW + timedelta(hours=23))
    assert actions(later.changes) == [("noop", f"prod/{V2.request.name}"), ("retire", f"prod/{V1.request.name}")]


def test_a_code_the_published_config_names_is_never_retired() -> None:
    old = unpublished(seen(V1, "SMS_1", live_since=NOW - timedelta(days=5)), NOW - timedelta(days=3))
    new = seen(V2, "SMS_2", live_since=NOW - timedelta(days=2))
    # The promotion was marked but the document still names the old code (a crash between the two).
    stale = plan_channel(channel(V2), observe(old, new, published={"alert": "SMS_1"}), now=NOW + timedelta(days=30))
    assert [c.action.value for c in stale.changes] == ["noop", "noop", "publish"]
    assert stale.changes[1].reason.startswith("superseded by SMS_2; still in the published config")
    assert stale.changes[2].reason == "the published config is behind what is live"


def test_the_grace_period_starts_only_when_an_apply_records_the_code_unpublished() -> None:
    old = seen(V1, "SMS_1", live_since=NOW - timedelta(days=5))
    new = seen(V2, "SMS_2", live_since=NOW - timedelta(days=2))
    result = plan_channel(channel(V2), observe(old, new), now=NOW + timedelta(days=30))
    assert [c.action.value for c in result.changes] == ["noop", "noop", "publish"]
    assert result.changes[2].reason == "record 1 version(s) as no longer published (their grace period starts)"


def test_pending_version_is_awaiting_review() -> None:
    pending = seen(V1, "SMS_1", status=ReviewStatus.PENDING)
    result = plan_channel(channel(V1), observe(pending), now=NOW)
    assert result.changes[0].action is Action.NOOP
    assert result.changes[0].reason == "awaiting provider review"
    plan = make_plan([(channel(V1), observe(pending))], config_dir="c", now=NOW)
    expected = "Plan: 0 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete; 1 awaiting review."
    assert plan.summary() == expected


def test_rejected_version_shows_the_reason_and_is_rewritten_when_content_changes() -> None:
    rejected = seen(V1, "SMS_1", status=ReviewStatus.REJECTED, reason="contains a link")
    same = plan_channel(channel(V1), observe(rejected), now=NOW)
    assert same.changes[0].reason == "rejected by the provider: contains a link"
    edited = plan_channel(channel(V2), observe(rejected), now=NOW)
    assert actions(edited.changes) == [("update", f"prod/{V1.request.name}")]
    assert edited.changes[0].after is not None and edited.changes[0].after.code == "SMS_1"
    assert edited.changes[0].request == V2.request


def test_hand_made_templates_are_unmanaged_and_never_deleted() -> None:
    hand = ObservedTemplate(
        code="SMS_9", name="登录验证", content="x", kind=TemplateKind.VERIFICATION, status=ReviewStatus.APPROVED
    )
    result = plan_channel(channel(V1, prune=True), observe(hand), now=NOW)
    assert [t.code for t in result.unmanaged] == ["SMS_9"]
    assert Action.DELETE not in {c.action for c in result.changes}


def test_managed_templates_removed_from_git_are_deleted_only_with_prune() -> None:
    orphan = seen(V1, "SMS_1", status=ReviewStatus.REJECTED)
    kept = plan_channel(channel(), observe(orphan), now=NOW)
    assert kept.changes == () and [t.code for t in kept.unmanaged] == ["SMS_1"]
    pruned = plan_channel(channel(prune=True), observe(orphan), now=NOW)
    assert actions(pruned.changes) == [("delete", f"prod/{V1.request.name}")]


def test_a_live_template_removed_from_git_is_unpublished_then_deleted_after_grace() -> None:
    live = seen(V1, "SMS_1", live_since=NOW - timedelta(days=3))
    first = plan_channel(channel(prune=True), observe(live), now=NOW)
    assert actions(first.changes) == [("unpublish", f"prod/{V1.request.name}")]
    assert first.changes[0].reason == "removed from git: no longer published; deleted after the grace period"
    plan = make_plan([(channel(prune=True), observe(live))], config_dir="c", now=NOW)
    assert plan.summary() == (
        "Plan: 0 to create, 0 to update, 0 to promote, 0 to retire, 0 to delete, 1 to unpublish; 0 awaiting review."
    )
    # the apply published the config without it and marked it
    marked = unpublished(live.model_copy(update={"tags": {**live.tags, "smsops-removed": NOW.isoformat()}}), NOW)
    waiting = plan_channel(channel(prune=True), observe(marked, published={}), now=NOW + timedelta(hours=1))
    assert [c.action for c in waiting.changes] == [Action.NOOP]
    assert waiting.changes[0].reason.startswith("removed from git; deleted after the grace period, at ")
    due = plan_channel(channel(prune=True), observe(marked, published={}), now=NOW + timedelta(hours=24))
    assert actions(due.changes) == [("delete", f"prod/{V1.request.name}")]


def test_missing_or_unapproved_signature_blocks_the_channel() -> None:
    missing = plan_channel(channel(V1), observe(signature=None), now=NOW)
    assert missing.changes == ()
    assert missing.blockers[0].message == "signature 'OnePro' does not exist at the provider"
    pending_sig = ObservedSignature(name="OnePro", status=ReviewStatus.REJECTED, reason="blurry licence")
    rejected = plan_channel(channel(V1), observe(signature=pending_sig), now=NOW)
    assert rejected.blockers[0].message == "signature 'OnePro' is rejected: blurry licence"


def test_adopted_template_is_the_live_version_when_content_matches() -> None:
    adopted = DesiredTemplate(**{**V1.model_dump(), "adopt_code": "SMS_7"})
    hand = ObservedTemplate(
        code="SMS_7", name="old alert", content=V1.request.content, kind=V1.request.kind, status="approved"
    )
    result = plan_channel(channel(adopted), observe(hand, published={"alert": "SMS_7"}), now=NOW)
    assert [c.action for c in result.changes] == [Action.NOOP]
    assert result.unmanaged == ()
    # Before the first publish, the adopted code is live and the plan says it will be published.
    first = plan_channel(channel(adopted), observe(hand, published=None), now=NOW)
    assert [c.action for c in first.changes] == [Action.NOOP, Action.PUBLISH]


def test_digest_moves_with_the_observed_state_and_plan_round_trips() -> None:
    a = observe(seen(V1, "SMS_1", status=ReviewStatus.PENDING))
    b = observe(seen(V1, "SMS_1"))
    assert a.digest() != b.digest()
    assert a.digest() == observe(seen(V1, "SMS_1", status=ReviewStatus.PENDING)).digest()
    plan = make_plan([(channel(V2), b)], config_dir="sms-config", now=NOW)
    again = Plan.model_validate_json(plan.to_json())
    assert again == plan and again.format_version == 1
    assert again.channels[0].observed_digest == b.digest()


def test_a_version_under_review_is_rewritten_only_where_the_provider_allows_it() -> None:
    pending = seen(V1, "SMS_1", status=ReviewStatus.PENDING)
    alibaba = plan_channel(channel(V2), observe(pending), now=NOW)  # Alibaba updates rejected templates only
    assert actions(alibaba.changes) == [("create", f"prod/{V2.request.name}")]
    tencent = channel(V2).model_copy(update={"updatable": (ReviewStatus.REJECTED, ReviewStatus.PENDING)})
    rewritten = plan_channel(tencent, observe(pending), now=NOW)
    assert actions(rewritten.changes) == [("update", f"prod/{V1.request.name}")]


def test_without_marks_the_newest_approved_version_is_live_and_nothing_is_retired_before_a_publish() -> None:
    old = seen(V1, "1001", created=NOW - timedelta(days=30))
    new = seen(V2, "1002", created=NOW - timedelta(hours=2))

    def observed(*templates: ObservedTemplate, published: dict[str, str] | None = None) -> ChannelObservation:
        return ChannelObservation(
            channel="prod", signature=SIGNATURE, templates=templates, tags_supported=False, published=published
        )

    # No published config: what the application reads is unknown, so nothing goes.
    soon = plan_channel(channel(V2), observed(old, new), now=NOW + timedelta(days=30))
    assert [(c.action.value, c.reason.split(";")[0]) for c in soon.changes] == [
        ("noop", "live"),
        ("noop", "superseded by 1002"),
        ("publish", "no published config in the channel's target yet"),
    ]
    # Published without the old code, it was never named: it goes at once.
    later = plan_channel(channel(V2), observed(old, new, published={"alert": "1002"}), now=NOW)
    assert actions(later.changes) == [("noop", f"prod/{V2.request.name}"), ("retire", f"prod/{V1.request.name}")]
